"""Digital sobriety: the platform's own footprint (device classes, use and manufacturing)
against the savings it enables, and how sensitive the balance is to each assumption. The
emission factors themselves are settings (``vigie.sobriety.factors``)."""

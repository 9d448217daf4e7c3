"""Digital sobriety: the platform's own footprint against the savings it enables."""

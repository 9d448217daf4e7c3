"""The footprint's emission factors, as settings read them; the footprint itself is computed
in ``reports.sobriety``."""

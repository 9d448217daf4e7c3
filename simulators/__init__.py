"""Simulated territories, physical models, fault injection, record and replay."""

# what other packages use (the command line, the demo, reports)
__all__ = ["cli", "faults", "publish", "scenario", "simulation", "territory"]

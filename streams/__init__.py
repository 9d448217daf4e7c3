"""Stream processors (faust): agents per vertical, numba kernels, InfluxDB sinks."""

# the face other packages use: the worker app (the rest is its inside)
# the worker app; the roll-up catch-up (a history import rolls its days up with it)
__all__ = ["app", "catchup", "rollups"]

"""Stream processors (faust): agents per vertical, numba kernels, InfluxDB sinks."""

# the face other packages use: the worker app (the rest is its inside)
__all__ = ["app"]

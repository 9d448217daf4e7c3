"""Stream processors (faust): agents per vertical, numba kernels, InfluxDB sinks."""

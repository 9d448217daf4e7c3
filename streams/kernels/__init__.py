"""Pure numba kernels: functions of arrays, no I/O."""

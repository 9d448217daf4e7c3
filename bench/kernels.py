"""Kernel throughput: readings per second on one core, against pandas, plain numpy and memory.

10 million readings laid out as a stream delivers them: batches of 50 readings per device
(10,000 devices, one reading a minute each, ~17 hours), one column each of device index
(int64), time (int64 ms) and value (float64). Every kernel is compiled before timing; each
figure is the best of three. The memory bound is a copy of the same 24 bytes per reading,
measured in the same run. Every variant runs with the allocator keeping freed memory
(``keep_freed_memory``), as in a long-running worker: otherwise each call on arrays this large
gets fresh pages, and on a virtual machine their first touch costs more than the copy itself.

    python -m bench.kernels [--readings 10000000]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from bench.common import best_of, console, keep_freed_memory, pin_to_one_core, report
from streams.kernels.attribution import attribute
from streams.kernels.energy import integrate, meter_deltas
from streams.kernels.windows import hopping, tumbling

WINDOW = 60_000


def stream_like(n: int, devices: int = 10_000, batch: int = 50, seed: int = 1):
    rng = np.random.default_rng(seed)
    per_device = n // devices
    dev = np.repeat(np.arange(devices), per_device)
    ts = np.tile(np.arange(per_device, dtype=np.int64) * 60_000, devices)
    ts += rng.integers(0, 2_000, ts.size)
    # order: batch after batch, devices interleaved as they publish
    blocks = np.arange(per_device) // batch
    order = np.lexsort((np.tile(np.arange(per_device), devices), dev, np.tile(blocks, devices)))
    values = rng.uniform(0, 150, dev.size)
    return dev[order].astype(np.int64), ts[order], values[order]


def copy_rate(g, t, v) -> float:
    src = np.concatenate([g.view(np.float64), t.view(np.float64), v])
    dst = np.empty_like(src)
    dst[:] = 0.0  # touch the pages once
    return g.size / best_of(3, lambda: np.copyto(dst, src))


def pandas_hopping(df: pd.DataFrame, window: int, hop: int) -> pd.DataFrame:
    """One tumbling groupby per offset of the hop within the window."""
    parts = [
        pandas_tumbling(df.assign(ts=df["ts"] + k * hop), window).assign(offset=k * hop)
        for k in range(window // hop)
    ]
    return pd.concat(parts)


def pandas_tumbling(df: pd.DataFrame, window: int = WINDOW) -> pd.DataFrame:
    w = df["ts"] - df["ts"] % window
    return (
        df.assign(w=w)
        .groupby(["g", "w"], sort=True)["v"]
        .agg(["count", "sum", "min", "max", "mean", "last"])
    )


def numpy_tumbling(g, t, v):
    w = t - t % WINDOW
    order = np.lexsort((t, w, g))
    g, w, v = g[order], w[order], v[order]
    starts = np.flatnonzero(np.r_[True, (g[1:] != g[:-1]) | (w[1:] != w[:-1])])
    ends = np.r_[starts[1:], g.size] - 1
    return (
        np.diff(np.r_[starts, g.size]),
        np.add.reduceat(v, starts),
        np.minimum.reduceat(v, starts),
        np.maximum.reduceat(v, starts),
        v[ends],
    )


def pandas_integrate(df: pd.DataFrame) -> pd.Series:
    d = df.sort_values(["g", "ts"])
    dt = d.groupby("g")["ts"].diff()
    mean = (d["v"] + d.groupby("g")["v"].shift()) / 2
    wh = (mean * dt / 3_600_000).fillna(0)
    return wh.groupby([d["g"], d["ts"] - d["ts"] % 3_600_000]).sum()


def numpy_integrate(g, t, v):
    order = np.lexsort((t, g))
    g, t, v = g[order], t[order], v[order]
    same = g[1:] == g[:-1]
    wh = np.where(same, (v[1:] + v[:-1]) / 2 * np.diff(t) / 3_600_000, 0.0)
    key = g[1:] * 100_000 + (t[:-1] // 3_600_000)
    return np.bincount(np.unique(key, return_inverse=True)[1], weights=wh)


def main(n: int) -> None:
    pin_to_one_core()
    steady = keep_freed_memory()
    g, t, v = stream_like(n)
    n = g.size
    n_dev = int(g.max()) + 1
    df = pd.DataFrame({"g": g, "ts": t, "v": v})
    for fn in (
        lambda: tumbling(g[:1000], t[:1000], v[:1000], WINDOW),
        lambda: hopping(g[:1000], t[:1000], v[:1000], 900_000, 300_000),
        lambda: integrate(g[:1000], t[:1000], v[:1000], 3_600_000, n_dev),
        lambda: meter_deltas(g[:1000], t[:1000], v[:1000], 3_600_000, n_dev),
    ):
        fn()  # compile (or load from the on-disk cache)
    memory = copy_rate(g, t, v)
    console.print(
        f"{n:,} readings, 24 bytes each; memory copy: {memory / 1e6:,.0f} M readings/s; "
        f"allocator keeps freed memory: {steady}"
    )

    rows = [
        ("pandas groupby", n / best_of(3, lambda: pandas_tumbling(df)), "baseline"),
        ("numpy lexsort+reduceat", n / best_of(3, lambda: numpy_tumbling(g, t, v)), ""),
        (
            "numba kernel",
            n / best_of(3, lambda: tumbling(g, t, v, WINDOW)),
            "streams.kernels.windows.tumbling",
        ),
    ]
    report(
        "1-minute window aggregates (count, sum, min, max, mean, last): one reading per window",
        rows,
        "pandas groupby",
    )
    console.print(f"numba kernel at {rows[-1][1] / memory:.0%} of the memory copy rate")
    q = 900_000
    rows = [
        ("pandas groupby", n / best_of(3, lambda: pandas_tumbling(df, q)), "baseline"),
        ("numba kernel", n / best_of(3, lambda: tumbling(g, t, v, q)), ""),
    ]
    report("15-minute window aggregates: 15 readings per window", rows, "pandas groupby")
    console.print(f"numba kernel at {rows[-1][1] / memory:.0%} of the memory copy rate")
    h = 300_000
    rows = [
        ("pandas groupby", n / best_of(3, lambda: pandas_hopping(df, q, h)), "baseline"),
        ("numba kernel", n / best_of(3, lambda: hopping(g, t, v, q, h)), ""),
    ]
    report("Hopping windows: 15 minutes every 5 minutes", rows, "pandas groupby")
    console.print(f"numba kernel at {rows[-1][1] / memory:.0%} of the memory copy rate")

    rows = [
        ("pandas", n / best_of(3, lambda: pandas_integrate(df)), "baseline"),
        ("numpy", n / best_of(3, lambda: numpy_integrate(g, t, v)), ""),
        (
            "numba kernel",
            n / best_of(3, lambda: integrate(g, t, v, 3_600_000, n_dev)),
            "streams.kernels.energy.integrate (split at window edges)",
        ),
    ]
    report("Energy: trapezoidal integration per device and hour", rows, "pandas")
    console.print(f"numba kernel at {rows[-1][1] / memory:.0%} of the memory copy rate")
    index = np.cumsum(v)  # a cumulative meter index (prepared outside the timing)
    rate = n / best_of(3, lambda: meter_deltas(g, t, index, 3_600_000, n_dev))
    console.print(
        f"meter deltas (numba): {rate / 1e6:,.1f} M readings/s, "
        f"{rate / memory:.0%} of the memory copy rate"
    )

    meters = max(1, n // 30)  # 30 lamps per cabinet
    meter_of = (np.arange(n) // 30).astype(np.int64)
    metered = np.bincount(meter_of, weights=v) * 1.03
    adf = pd.DataFrame({"m": meter_of, "e": v})

    def pandas_attribution() -> pd.Series:
        modelled = adf.groupby("m")["e"].transform("sum")
        ratio = pd.Series(metered)[adf["m"]].to_numpy() / modelled
        share = adf["e"] * ratio.where(ratio <= 1.08, 1.03)
        return share.groupby(adf["m"]).sum()

    def numpy_attribution():
        modelled = np.bincount(meter_of, weights=v, minlength=meters)
        ratio = metered / modelled
        share = v * np.where(ratio <= 1.08, ratio, 1.03)[meter_of]
        return share, metered - np.bincount(meter_of, weights=share, minlength=meters)

    def numba_attribution():
        return attribute(meter_of, v, metered)

    rows = [
        ("pandas", n / best_of(3, pandas_attribution), "baseline"),
        ("numpy bincount", n / best_of(3, numpy_attribution), ""),
        (
            "numba kernel",
            n / best_of(3, numba_attribution),
            "streams.kernels.attribution",
        ),
    ]
    report(f"Attribution of {meters:,} shared meters to {n:,} assets", rows, "pandas")
    console.print(f"numba kernel at {rows[-1][1] / memory:.0%} of the memory copy rate")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=10_000_000)
    main(parser.parse_args().readings)

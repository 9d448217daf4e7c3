"""Attribution of shared meters to the assets behind them (Elexon BSCP520 practice). Pure.

For each meter (a lighting cabinet, a district water meter): the modelled or measured
consumption of the assets behind it is scaled so that they add up to what the meter measured,
as long as the meter/model ratio stays within plausible line losses (``max_ratio``). Above
that, the assets get their consumption plus the nominal losses only, and the rest is reported
as unexplained (theft, a fault to earth, a wrong inventory); a meter below its model (failed
lamps still counted as burning, a meter fault) is scaled down the same way.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


class Attribution(NamedTuple):
    asset_wh: F64  # per asset: its share of its meter
    unexplained_wh: F64  # per meter: metered energy no asset accounts for
    ratio: F64  # per meter: metered / modelled (NaN with no model)


@numba.njit(cache=True, nogil=True)
def _attribute(meter_of, model, metered, max_ratio, nominal_losses):  # type: ignore[no-untyped-def]  # numba types the arrays per call
    m = metered.shape[0]
    n = meter_of.shape[0]
    modelled = np.zeros(m, np.float64)
    if n:  # assets come grouped by meter: sum each run in a register
        k, acc = meter_of[0], 0.0
        for a in range(n):
            if meter_of[a] != k:
                modelled[k] += acc
                k, acc = meter_of[a], 0.0
                if k < 0 or k >= m:
                    raise ValueError("meter_of must index metered_wh")
            acc += model[a]
        if k < 0 or k >= m:
            raise ValueError("meter_of must index metered_wh")
        modelled[k] += acc
    ratio = np.empty(m, np.float64)
    scale = np.empty(m, np.float64)
    unexplained = np.empty(m, np.float64)
    for k in range(m):
        if modelled[k] > 0:
            ratio[k] = metered[k] / modelled[k]
            scale[k] = ratio[k] if ratio[k] <= max_ratio else 1.0 + nominal_losses
        else:
            ratio[k] = np.nan
            scale[k] = 0.0
        unexplained[k] = metered[k] - scale[k] * modelled[k]
    shares = np.empty(n, np.float64)
    for a in range(n):
        shares[a] = model[a] * scale[meter_of[a]]
    return shares, unexplained, ratio


def attribute(
    meter_of: I64,
    model_wh: F64,
    metered_wh: F64,
    *,
    max_ratio: float = 1.08,
    nominal_losses: float = 0.03,
) -> Attribution:
    """Share each meter's energy among its assets; meter_of[a] indexes metered_wh."""
    meter_of = np.ascontiguousarray(meter_of, np.int64)
    model_wh = np.ascontiguousarray(model_wh, np.float64)
    metered_wh = np.ascontiguousarray(metered_wh, np.float64)
    if meter_of.shape != model_wh.shape:
        raise ValueError("meter_of and model_wh must have the same length")
    return Attribution(*_attribute(meter_of, model_wh, metered_wh, max_ratio, nominal_losses))


def sum_by(keys: I64, values: F64, n_keys: int) -> F64:
    """Totals per key (per district, per vertical)."""
    totals: F64 = np.bincount(np.asarray(keys, np.int64), weights=values, minlength=n_keys).astype(
        np.float64
    )
    return totals

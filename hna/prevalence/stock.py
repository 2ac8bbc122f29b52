"""The starting stock: adults on RRT on 31 December of a year.

From a published prevalence point and a burn-in run of the model (:func:`initial_prevalent`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from hna.errors import ParameterError
from hna.prevalence.inputs import (
    _population_array,
)
from hna.prevalence.parameters import (
    _FIRST_ADULT,
    _KEEPABLE,
    _NB,
    _NM,
    MODALITIES,
    RRTParameters,
)
from hna.prevalence.simulate import RRTSimulation, _step_expected
from hna.prevalence.transitions import (
    _adult_factor,
    _ageing_fraction,
    _incidence_per_person,
    _year_arrays,
)

# --------------------------------------------------------------------------------------------
# Starting stock
# --------------------------------------------------------------------------------------------


def _mix(modality_mix: Mapping[str, float]) -> np.ndarray:
    """Modality shares in :data:`MODALITIES` order, checked to lie in [0, 1] and sum to 1."""
    unknown = [k for k in modality_mix if k not in MODALITIES]
    if unknown:
        raise ParameterError(
            "unknown modality", field="modality_mix", value=unknown[0],
            hint=f"Use {list(MODALITIES)}",
        )
    mix = np.array([float(modality_mix.get(m, 0.0)) for m in MODALITIES])
    if (mix < 0).any() or (mix > 1).any() or abs(mix.sum() - 1.0) > 0.005:
        raise ParameterError(
            "modality shares must be in [0, 1] and sum to 1",
            field="modality_mix",
            value=dict(modality_mix),
        )
    return mix / mix.sum()


def initial_prevalent(
    params: RRTParameters,
    population: pd.DataFrame,
    year: int,
    *,
    rate_pmp: float | None = None,
    modality_mix: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Expected adults on RRT on 31 December of ``year``, to seed :func:`simulate_rrt`.

    Each area's total is ``rate_pmp`` per million of its whole population (all ages, the UKRR
    denominator); the split by modality is ``modality_mix``; within each modality the age-sex
    distribution is that of a burn-in run of the model (``initial_prevalence.burn_in_years``
    years with incidence growing by ``burn_in_incidence_growth`` a year up to ``year``, on the
    area's ``year`` population).

    Args:
        params: model parameters.
        population: population table with ``year`` rows for all 19 bands.
        year: stock date (31 December).
        rate_pmp: adults on RRT per million of all ages; overrides the published point for
            ``year`` in ``initial_prevalence.points`` (required when there is none).
        modality_mix: shares by modality (summing to 1), likewise.

    Returns:
        ``area_code, year, sex, age_band, modality, patients`` (expected values).
    """
    point = next((p for p in params.initial_prevalence.points if p.year == year), None)
    if point is None and (rate_pmp is None or modality_mix is None):
        have = [p.year for p in params.initial_prevalence.points]
        raise ParameterError(
            f"no published prevalence for {year}",
            source=params.source_file,
            field="initial_prevalence.points",
            value=year,
            hint=f"Pass rate_pmp and modality_mix, or use one of the years {have}",
        )
    rate = float(point.rate_pmp if rate_pmp is None else rate_pmp)
    if not math.isfinite(rate) or rate < 0:
        raise ParameterError("rate_pmp must be a number >= 0", field="rate_pmp", value=rate_pmp)
    mix = point.modality_mix.shares() if modality_mix is None else _mix(modality_mix)

    areas, pop = _population_array(population, [year], source="population", all_bands=True)
    pop = pop[0]  # (A, S, 19)
    A = len(areas)
    total = pop.sum(axis=(1, 2))  # all ages
    ya = _year_arrays(params, year)
    up = _ageing_fraction(params)
    lam0 = (pop[..., _FIRST_ADULT:] * _adult_factor(params) * _incidence_per_person(params)[None])
    lam0 = np.transpose(lam0, (2, 0, 1)).reshape(_NB, A * 2)
    K = params.initial_prevalence.burn_in_years
    g = params.initial_prevalence.burn_in_incidence_growth
    X = np.zeros((_NB, _NM, A * 2))
    for k in range(1, K + 1):
        X, _ = _step_expected(X, ya, lam0 * (1.0 + g) ** (k - K), up)
    S = np.transpose(X.reshape(_NB, _NM, A, 2), (2, 3, 0, 1))  # (A, S, B, M)

    target = rate * total / 1e6  # (A,)
    medians = point.median_age.values() if (point is not None and point.median_age) else [None] * _NM
    out = np.zeros_like(S)
    for a in range(A):
        shape = S[a].copy()
        for m, med in enumerate(medians):
            if med is not None and shape[:, :, m].sum() > 0:
                shape[:, :, m] = _tilt_to_median(shape[:, :, m], med)
        by_mod = shape.sum(axis=(0, 1))
        overall = shape.sum(axis=2)
        for m in range(_NM):
            want = target[a] * mix[m]
            if want == 0:
                continue
            if by_mod[m] > 0:
                out[a, :, :, m] = shape[:, :, m] * want / by_mod[m]
            elif overall.sum() > 0:
                out[a, :, :, m] = overall * want / overall.sum()
    sim = RRTSimulation(out[None], np.zeros((0,)), (year,), areas, _KEEPABLE, 0)
    df = sim.stock_frame()
    return df[["area_code", "year", "sex", "age_band", "modality", "patients"]]


_BAND_LO = np.array([18.0] + [float(b) for b in range(20, 95, 5)])
_BAND_HI = np.array([20.0] + [float(b) for b in range(25, 95, 5)] + [100.0])


def _median_age(counts: np.ndarray) -> float:
    """Median age from counts per adult band (uniform within band; 90+ taken as 90-99)."""
    cum = np.cumsum(counts) / counts.sum()
    i = int(np.searchsorted(cum, 0.5))
    prev = cum[i - 1] if i else 0.0
    return float(_BAND_LO[i] + (0.5 - prev) / (cum[i] - prev) * (_BAND_HI[i] - _BAND_LO[i]))


def _tilt_to_median(counts: np.ndarray, median: float) -> np.ndarray:
    """Reweight ``counts`` (sex, band) by exp(theta * band midpoint) to reach ``median``."""
    mid = (_BAND_LO + _BAND_HI) / 2.0
    total = counts.sum()

    def tilted(theta: float) -> np.ndarray:
        w = np.exp(theta * (mid - 60.0))
        c = counts * w[None, :]
        return c * total / c.sum()

    lo, hi = -1.0, 1.0
    if not (_median_age(tilted(lo).sum(0)) <= median <= _median_age(tilted(hi).sum(0))):
        return counts
    for _ in range(60):
        mid_theta = (lo + hi) / 2.0
        if _median_age(tilted(mid_theta).sum(0)) < median:
            lo = mid_theta
        else:
            hi = mid_theta
    return tilted((lo + hi) / 2.0)


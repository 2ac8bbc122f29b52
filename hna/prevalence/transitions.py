"""Transition matrices, 90-day outcome split, ageing and sampling plans of the RRT model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import SEXES
from hna.errors import ParameterError
from hna.prevalence.parameters import (
    _DEATH,
    _FIRST_ADULT,
    _HHD,
    _ICHD,
    _NB,
    _NM,
    _PD,
    _RECOVERED,
    _TX,
    ADULT_BANDS,
    FLOWS,
    MODALITIES,
    OUTCOMES,
    RRTParameters,
)

# --------------------------------------------------------------------------------------------
# Parameter arrays
# --------------------------------------------------------------------------------------------


def _band_group_index(params: RRTParameters) -> np.ndarray:
    """Age-group index of each adult band (length 16)."""
    lookup = {b: i for i, bands in enumerate(params.age_groups.bands.values()) for b in bands}
    return np.array([lookup[b] for b in ADULT_BANDS], dtype=np.int64)


def _group_values(params: RRTParameters, table: Mapping[str, float]) -> np.ndarray:
    return np.array([table[g] for g in params.groups], dtype=float)


def transition_matrices(
    params: RRTParameters,
    year: int,
    *,
    mortality_scale: float | None = None,
    transplant_scale: float | None = None,
) -> np.ndarray:
    """Annual transition probability matrices for ``year``, one per age group.

    Returns an array ``(age group, from state, outcome)`` with from states :data:`MODALITIES`
    and outcomes :data:`OUTCOMES` (the four states, ``death``, ``recovered``). The diagonal
    (staying) is one minus the other entries of the row.

    Args:
        params: model parameters.
        year: calendar year (sets the mortality and transplant trend factors).
        mortality_scale: overrides ``mortality.scale`` (for fitting).
        transplant_scale: overrides ``transplantation.scale`` (for fitting).

    Raises:
        ParameterError: an entry outside [0, 1] or a row whose outflows sum to more than 1,
            naming the age group, state, year and value.
    """
    m_scale = params.mortality.scale.value if mortality_scale is None else mortality_scale
    t_scale = params.transplantation.scale.value if transplant_scale is None else transplant_scale
    m_factor = m_scale * params.mortality.trend.factor(year)
    t_factor = t_scale * params.transplantation.trend.factor(year)
    if params.transplantation.improvement is not None:
        t_factor *= params.transplantation.improvement.at(year)
    dial = _group_values(params, params.mortality.dialysis.values) * m_factor
    txm = _group_values(params, params.mortality.transplant.values) * m_factor
    tr = _group_values(params, params.transplantation.rate.values) * t_factor
    gf = _group_values(params, params.graft_failure.rate.values)
    to_hhd = _group_values(params, params.modality_switches.ichd_to_hhd.values)
    mratio = params.mortality.dialysis_modality_ratio
    tratio = params.transplantation.modality_ratio
    sw = params.modality_switches
    rec = params.recovery.value
    s_pd = params.graft_failure.to_pd_share.value

    G = len(params.groups)
    T = np.zeros((G, _NM, len(OUTCOMES)))
    T[:, _ICHD, _HHD] = to_hhd
    T[:, _ICHD, _PD] = sw.ichd_to_pd.value
    T[:, _ICHD, _TX] = tr * tratio.ichd
    T[:, _ICHD, _DEATH] = dial * mratio.ichd
    T[:, _ICHD, _RECOVERED] = rec
    T[:, _HHD, _ICHD] = sw.hhd_to_ichd.value
    T[:, _HHD, _TX] = tr * tratio.hhd
    T[:, _HHD, _DEATH] = dial * mratio.hhd
    T[:, _HHD, _RECOVERED] = rec
    T[:, _PD, _ICHD] = sw.pd_to_ichd.value
    T[:, _PD, _TX] = tr * tratio.pd
    T[:, _PD, _DEATH] = dial * mratio.pd
    T[:, _PD, _RECOVERED] = rec
    T[:, _TX, _ICHD] = gf * (1.0 - s_pd)
    T[:, _TX, _PD] = gf * s_pd
    T[:, _TX, _DEATH] = txm
    _close_rows(params, T, year)
    return T


def _close_rows(params: RRTParameters, T: np.ndarray, year: int) -> None:
    """Check each row's outflows (in [0, 1], summing to <= 1) and set staying = 1 - outflows."""
    for g, group in enumerate(params.groups):
        for m, state in enumerate(MODALITIES):
            row = T[g, m].copy()
            row[m] = 0.0
            bad = np.flatnonzero((row < 0) | (row > 1))
            if bad.size:
                raise ParameterError(
                    f"transition probability {state} -> {OUTCOMES[bad[0]]} in {year} is outside [0, 1]",
                    source=params.source_file,
                    field=f"transitions[{group}].{state}.{OUTCOMES[bad[0]]}",
                    value=float(row[bad[0]]),
                    hint="Lower the rate or the calibrated scale",
                )
            out = float(row.sum())
            if out > 1.0 + 1e-12:
                raise ParameterError(
                    f"outflows from {state} in age group {group} in {year} sum to more than 1",
                    source=params.source_file,
                    field=f"transitions[{group}].{state}",
                    value=round(out, 6),
                    hint="Death, transplant, switch and recovery probabilities of a state must sum to <= 1",
                )
            T[g, m, m] = 1.0 - out


def _interp_year(years: Sequence[int], values: np.ndarray, year: int) -> np.ndarray:
    """Linear interpolation over years (rows of ``values``), constant outside the range."""
    ys = np.asarray(years, dtype=float)
    if year <= ys[0]:
        return values[0]
    if year >= ys[-1]:
        return values[-1]
    i = int(np.searchsorted(ys, year, side="right")) - 1
    w = (year - ys[i]) / (ys[i + 1] - ys[i])
    return (1 - w) * values[i] + w * values[i + 1]


def _reference_incident_group_share(params: RRTParameters) -> np.ndarray:
    """Share of incident patients in each age group on the reference population."""
    pop = params.calibration.reference_population.array()[:, _FIRST_ADULT:]
    pop = pop * _adult_factor(params)[None, :]
    inc = _incidence_per_person(params) * pop
    by_band = inc.sum(axis=0)
    share = np.bincount(_band_group_index(params), weights=by_band, minlength=len(params.groups))
    return share / share.sum()


def _entry_by_group(params: RRTParameters, year: int) -> np.ndarray:
    """90-day outcome shares ``(age group, [ichd, hhd, pd, tx, early_exit])`` for ``year``."""
    entries = params.entry.by_year
    overall = _interp_year([e.year for e in entries], np.array([e.shares() for e in entries]), year)
    _, pd_, tx, ee = overall
    pi = _reference_incident_group_share(params)
    w = params.entry.age_weights
    out = np.zeros((len(params.groups), 5))
    for col, share, weights in ((2, pd_, w.pd), (3, tx, w.tx), (4, ee, w.early_exit)):
        wv = _group_values(params, weights)
        norm = float((pi * wv).sum())
        if norm <= 0 and share > 0:
            raise ParameterError(
                "age weights are all zero for an outcome with a positive share",
                source=params.source_file,
                field="entry.age_weights",
                value=share,
            )
        out[:, col] = share * wv / norm if norm > 0 else 0.0
    hd_g = 1.0 - out[:, 2:].sum(axis=1)
    if np.any(hd_g < -1e-12):
        g = int(np.argmin(hd_g))
        raise ParameterError(
            f"90-day shares for age group {params.groups[g]} in {year} leave a negative HD share",
            source=params.source_file,
            field=f"entry.age_weights[{params.groups[g]}]",
            value=round(float(hd_g[g]), 6),
            hint="Reduce the age weights of that group",
        )
    hd_g = np.clip(hd_g, 0.0, 1.0)
    home = params.entry.home_hd_share_of_hd.value
    out[:, 0] = hd_g * (1.0 - home)
    out[:, 1] = hd_g * home
    return out


def entry_split(params: RRTParameters, year: int) -> pd.DataFrame:
    """90-day outcome shares of patients starting RRT in ``year`` by age group (tidy table)."""
    arr = _entry_by_group(params, year)
    cols = [*MODALITIES, "early_exit"]
    df = pd.DataFrame(arr, columns=cols)
    df.insert(0, "age_group", list(params.groups))
    return df


def _adult_factor(params: RRTParameters) -> np.ndarray:
    f = np.ones(_NB)
    f[0] = params.adult_share_of_15_19.value
    return f


def _ageing_fraction(params: RRTParameters) -> np.ndarray:
    """Share of each adult band moving up a band in a year."""
    up = np.full(_NB, 1.0 / 5.0)
    share = params.adult_share_of_15_19.value
    # the adult part of 15-19 holds share*5 single years (2 when share = 0.4)
    up[0] = min(1.0, 1.0 / max(share * 5.0, 1e-9))
    up[-1] = 0.0
    return up


def _incidence_per_person(params: RRTParameters) -> np.ndarray:
    """Incidence per person-year ``(sex, adult band)``."""
    r = params.incidence.rate_pmp
    return np.array([[r[s][b] for b in ADULT_BANDS] for s in SEXES], dtype=float) / 1e6


@dataclass(frozen=True)
class _YearArrays:
    T: np.ndarray  # (band, from, outcome) full-year transitions
    Th: np.ndarray  # (band, from, outcome) incident-year transitions
    E: np.ndarray  # (band, 5) 90-day split
    plans: list[list[Any]]  # sampling plans for the stock (band, from)
    entry_plans: list[Any]  # sampling plans for starters (band)


def _year_arrays(
    params: RRTParameters,
    year: int,
    mortality_scale: float | None = None,
    transplant_scale: float | None = None,
) -> _YearArrays:
    bg = _band_group_index(params)
    T = transition_matrices(
        params, year, mortality_scale=mortality_scale, transplant_scale=transplant_scale
    )
    Th = T * params.incident_exposure.value
    idx = np.arange(_NM)
    Th[:, idx, idx] = 0.0
    Th[:, idx, idx] = 1.0 - Th.sum(axis=2)
    E = _entry_by_group(params, year)[bg]
    T, Th = T[bg], Th[bg]
    return _YearArrays(T=T, Th=Th, E=E, plans=_transition_plans(T), entry_plans=_entrant_plans(E, Th))


# Sampling plans: for one multinomial draw, the categories with positive probability (largest
# first, so numpy's sequential binomials stop early), their probabilities, and where each
# category's count goes: a list of (0, state) for the stock and (1, flow index) for flows.
_Plan = tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]
_F = {name: i for i, name in enumerate(FLOWS)}


def _targets(from_state: int, outcome: int) -> list[tuple[int, int]]:
    if outcome == _DEATH:
        return [(1, _F["death"])]
    if outcome == _RECOVERED:
        return [(1, _F["recovered"])]
    out = [(0, outcome)]
    if from_state != _TX and outcome == _TX:
        out.append((1, _F["transplant"]))
    if from_state == _TX and outcome in (_ICHD, _PD):
        out.append((1, _F["graft_failure"]))
    return out


def _make_plan(probs: list[float], targets: list[list[tuple[int, int]]]) -> _Plan:
    p = np.clip(np.asarray(probs, dtype=float), 0.0, None)
    nz = np.flatnonzero(p > 0)
    order = nz[np.argsort(-p[nz], kind="stable")]
    q = p[order] / p[order].sum()
    return order, q, [targets[i] for i in order]


def _transition_plans(T: np.ndarray) -> list[list[_Plan]]:
    """Plans for the stock, per band and from-state."""
    return [
        [_make_plan(list(T[b, m]), [_targets(m, j) for j in range(len(OUTCOMES))]) for m in range(_NM)]
        for b in range(T.shape[0])
    ]


def _entrant_plans(E: np.ndarray, Th: np.ndarray) -> list[_Plan]:
    """Sampling plans for patients starting RRT, per band.

    The 90-day outcome composed with half a year of transitions (categories: early exit, then
    each (90-day state, outcome) pair).
    """
    plans = []
    for b in range(E.shape[0]):
        probs = [E[b, 4]]
        targets = [[(1, _F["early_exit"])]]
        for e in range(_NM):
            for j in range(len(OUTCOMES)):
                probs.append(E[b, e] * Th[b, e, j])
                t = _targets(e, j)
                if e == _TX:
                    t = [*t, (1, _F["early_transplant"])]
                targets.append(t)
        plans.append(_make_plan(probs, targets))
    return plans


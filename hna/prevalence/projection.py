"""Demand from the RRT model for footprints: start stock, parameter draws, then events.

:func:`project_rrt` is what :mod:`hna.demand` calls for a model service (dialysis):

1. **Start.** The national stock is anchored at the most recent published UK Renal Registry
   point in ``initial_prevalence.points`` (31 December 2012: 861 pmp, transplant 50.4%, HD
   42.7%, PD 6.9%, with the published median ages by modality) and run forward on the England
   proxy population with the published incidence (to 2016) and the projected incidence after
   it (:func:`hna.prevalence.ensemble.incidence_path`), giving adults on RRT per person by sex,
   band and modality on 31 December before the first planning year. That stock per person,
   times each footprint's population, is the footprint's start (indirect standardisation).
2. **Draws.** Each draw samples the model's uncertain parameters (mortality and transplant
   factors, incidence level and annual change: ``uncertainty:`` in the model file) and runs
   both the national start and the footprint projection with them (vectorised over draws).
   Draw 0 holds every parameter at its central value.
3. **Events.** Each draw's count is ``Poisson(expected_d)`` (see :mod:`hna.prevalence.ensemble`),
   from a stream keyed by (seed, block of draws, year): the value for 2030 does not depend on
   which other years are requested, nor on how the draws are split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hna.distributions import stream_id
from hna.errors import ParameterError
from hna.prevalence.calibration import calibration_population
from hna.prevalence.ensemble import (
    _model_crude_pmp,
    incidence_path,
    run_ensemble,
    sample_rrt_parameters,
)
from hna.prevalence.inputs import _population_array
from hna.prevalence.parameters import _FIRST_ADULT, _NB, _NM, MODALITIES, RRTParameters
from hna.prevalence.stock import initial_prevalent
from hna.prevalence.transitions import _adult_factor, _incidence_per_person
from hna.uncertainty import draw_blocks

__all__ = ["RRTProjection", "anchor_point", "national_per_person_draws", "project_rrt",
           "rrt_sensitivity", "demand_tables", "measure_modalities"]

#: Labels of the sources of uncertainty (sensitivity tables).
LABELS: dict[str, str] = {
    "poisson": "Chance variation in patient numbers (Poisson)",
    "mortality_factor": "Death rates on RRT",
    "transplant_factor": "Transplant rates",
    "incidence_level": "Level of RRT incidence after 2016",
    "incidence_change_percent": "Trend in RRT incidence",
}
#: Footprints above this number get no sensitivity table (it costs one run per input).
SENSITIVITY_MAX_AREAS = 10

_EVENTS = "events"


@dataclass(frozen=True)
class RRTProjection:
    """Result of :func:`project_rrt`.

    Attributes:
        areas: footprint codes.
        years: the requested years.
        expected: central expected patients in the measure ``(areas, years)``.
        by_band: central expected patients ``(areas, years, sex, adult band)``.
        counts: draws ``(areas, years, draws)`` (int64), or None when ``draws == 0``.
        by_modality: central expected patients ``(areas, years, modality)``.
        factors: the sampled parameters ``{name: array(draws)}`` (central only when draws=0).
        info: text for reports (start, incidence path, what the intervals include).
    """

    areas: tuple[str, ...]
    years: tuple[int, ...]
    expected: np.ndarray
    by_band: np.ndarray
    counts: np.ndarray | None
    by_modality: np.ndarray
    factors: dict[str, np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


def anchor_point(params: RRTParameters, year: int) -> int:
    """Year of the most recent published prevalence point on or before ``year``."""
    have = sorted(p.year for p in params.initial_prevalence.points if p.year <= year)
    if not have:
        raise ParameterError("no published prevalence point before the start year",
                             source=params.source_file, field="initial_prevalence.points",
                             value=year)
    return have[-1]


def _multiplier(params: RRTParameters, years: Sequence[int], factors: dict[str, np.ndarray],
                base_year: int | None) -> np.ndarray:
    path = incidence_path(params, years, factors["incidence_level"],
                          factors["incidence_change_percent"], base_year)
    return path / _model_crude_pmp(params)


def national_per_person_draws(
    params: RRTParameters, year: int, factors: dict[str, np.ndarray],
    base_year: int | None = None,
) -> np.ndarray:
    """Adults on RRT per person on 31 December ``year``, by draw ``(D, sex, band, modality)``.

    Anchored at :func:`anchor_point` and run forward on the England proxy population
    (:func:`hna.prevalence.calibration_population`) with each draw's parameters.
    """
    anchor = anchor_point(params, year)
    pop = calibration_population(params, range(anchor, year + 1))
    start = initial_prevalent(params, pop, anchor)
    _, parr = _population_array(pop, list(range(anchor, year + 1)), source="calibration population",
                                all_bands=True)
    st = start.sort_values(["sex", "age_band", "modality"])
    s = st["patients"].to_numpy().reshape(2, _NB, _NM)
    X0 = np.transpose(s, (1, 2, 0))[None]  # (1, B, M, S)
    D = len(factors["mortality_factor"])
    if year == anchor:
        stock = np.broadcast_to(X0, (D, *X0.shape[1:]))
    else:
        years = list(range(anchor + 1, year + 1))
        lam = parr[1:, 0, :, _FIRST_ADULT:] * _adult_factor(params) * _incidence_per_person(params)
        lam = np.transpose(lam, (0, 2, 1))  # (Y, B, S)
        mult = _multiplier(params, years, factors, base_year)
        stock = run_ensemble(params, lam, X0, years, factors, mult)[:, -1]
    denom = np.maximum(parr[-1, 0, :, _FIRST_ADULT:], 1e-12)  # (S, B)
    return np.transpose(stock, (0, 3, 1, 2)) / denom[None, :, :, None]


def _poisson_counts(expected: np.ndarray, years: Sequence[int], seed: Any,
                    namespace: str) -> np.ndarray:
    """``Poisson(expected)`` with one stream per (block, year); expected ``(D, Y, A)``."""
    D, _, A = expected.shape
    out = np.empty((A, len(years), D), dtype=np.int64)
    for b in draw_blocks(seed, D):
        for j, y in enumerate(years):
            rng = b.rng(stream_id(f"{namespace}.{_EVENTS}.{int(y)}"))
            mu = np.zeros((b.n_generate, A))
            mu[b.skip:] = expected[b.start:b.stop, j]
            out[:, j, b.start:b.stop] = rng.poisson(mu)[b.skip:].T
    return out


def project_rrt(
    params: RRTParameters,
    population: pd.DataFrame,
    years: Sequence[int],
    draws: int,
    seed: Any,
    *,
    modalities: Sequence[str],
    trend: tuple[float | None, int | None] = (None, None),
    vary: Sequence[str] | None = None,
) -> RRTProjection:
    """Project the RRT measure for every footprint in ``population``.

    Args:
        params: model parameters.
        population: ``area_code, sex, age_band, year, population`` from the first planning year
            (its smallest year) to ``max(years)``.
        years: requested years (within the population's years).
        draws: 0 for the central run only; N for N draws (parameters, then Poisson events).
        seed: non-negative integer or SeedSequence.
        modalities: the states summed into the measure (e.g. ``("ichd",)``).
        trend: ``(annual change in per cent, base year)`` of incidence replacing the model
            file's projection (None keeps the file's value for either).
        vary: uncertain parameters to sample (default all in the model file; ``[]`` gives
            Poisson-only intervals around the central run).

    Returns:
        :class:`RRTProjection`.
    """
    first = int(pd.to_numeric(population["year"]).min())
    sim_years = list(range(first, max(int(y) for y in years) + 1))
    col = [sim_years.index(int(y)) for y in years]
    areas, pop = _population_array(population, sim_years, source="population")
    A = len(areas)
    mods = [MODALITIES.index(m) for m in modalities]
    change_percent, base_year = trend

    def run(factors: dict[str, np.ndarray], detail: bool) -> np.ndarray:
        per = national_per_person_draws(params, first - 1, factors, base_year)  # (D, S, B, M)
        adult = pop[0][..., _FIRST_ADULT:]  # (A, S, B) first-year population
        start = per[:, None] * adult[None, ..., None]  # (D, A, S, B, M)
        X0 = np.transpose(start, (0, 3, 4, 1, 2)).reshape(start.shape[0], _NB, _NM, A * 2)
        lam = pop[..., _FIRST_ADULT:] * _adult_factor(params) * _incidence_per_person(params)
        lam = np.transpose(lam, (0, 3, 1, 2)).reshape(len(sim_years), _NB, A * 2)
        mult = _multiplier(params, sim_years, factors, base_year)
        if detail:
            return run_ensemble(params, lam, X0, sim_years, factors, mult)
        # Transitions do not depend on sex and the model is linear: for totals, men and women
        # run together (exact; halves the work).
        X0 = X0.reshape(X0.shape[0], _NB, _NM, A, 2).sum(axis=4)
        lam = lam.reshape(len(sim_years), _NB, A, 2).sum(axis=3)
        return run_ensemble(params, lam, X0, sim_years, factors, mult,
                            collect=lambda x: x[:, :, mods].sum(axis=(1, 2)))

    central = sample_rrt_parameters(params, 1, 0, change_percent=change_percent, vary=[])
    full = run(central, True)[0, 1:]  # (Y, B, M, A*S)
    full = full.reshape(len(sim_years), _NB, _NM, A, 2)[col]
    by_modality = np.transpose(full.sum(axis=(1, 4)), (2, 0, 1))  # (A, Y, M)
    by_band = np.transpose(full[:, :, mods].sum(axis=2), (2, 0, 3, 1))  # (A, Y, S, B)
    expected = by_band.sum(axis=(2, 3))
    counts = None
    factors = central
    if draws:
        factors = sample_rrt_parameters(params, draws, seed, change_percent=change_percent,
                                        vary=vary)
        totals = run(factors, False)[:, 1:][:, col]  # (D, Y, A)
        counts = _poisson_counts(totals, [sim_years[c] for c in col], seed,
                                 "renal_replacement_therapy")
    return RRTProjection(tuple(areas), tuple(int(y) for y in years), expected, by_band, counts,
                         by_modality, factors, _info(params, first, factors, draws, vary))


def rrt_sensitivity(
    params: RRTParameters,
    pop: pd.DataFrame,
    year: int,
    seed: Any,
    *,
    modalities: Sequence[str],
    trend: tuple[float | None, int | None] = (None, None),
    draws: int = 500,
) -> dict[str, list[dict[str, Any]]]:
    """One-at-a-time sensitivity of the measure in ``year``, per footprint.

    Each input is sampled alone (the others central; ``poisson`` = events only around the
    central run), ``draws`` draws each; ``share`` = its variance / the sum of the
    one-at-a-time variances. Same columns as :func:`hna.sensitivity.sensitivity`.

    Returns:
        ``{area_code: [{input, label, low, high, swing, variance, share}, ...]}`` (largest
        swing first).
    """
    out: dict[str, list[dict[str, Any]]] = {}
    runs = {"poisson": []} | {k: [k] for k in params.uncertainty}
    res = {k: project_rrt(params, pop, [year], draws, seed, modalities=modalities, trend=trend,
                          vary=v) for k, v in runs.items()}
    areas = next(iter(res.values())).areas
    for a, area in enumerate(areas):
        rows = []
        for k, r in res.items():
            x = r.counts[a, 0].astype(float)
            lo, hi = np.quantile(x, [0.025, 0.975])
            rows.append({"input": k, "label": LABELS[k], "low": float(lo), "high": float(hi),
                         "swing": float(hi - lo), "variance": float(x.var())})
        total = sum(r["variance"] for r in rows) or 1.0
        for r in rows:
            r["share"] = r["variance"] / total
        out[area] = sorted(rows, key=lambda r: -r["swing"])
    return out


def _info(params: RRTParameters, first: int, factors: dict[str, np.ndarray], draws: int,
          vary: Sequence[str] | None) -> dict[str, Any]:
    anchor = anchor_point(params, first - 1)
    point = next(p for p in params.initial_prevalence.points if p.year == anchor)
    last = max(params.incidence_history, key=lambda c: c.year)
    change = float(factors["incidence_change_percent"][0])
    varied = sorted(params.uncertainty) if vary is None else sorted(vary)
    includes = ["Poisson variation of patient numbers"] if draws else []
    if draws and varied:
        includes.append("parameter uncertainty: " + ", ".join(varied))
    return {
        "model_start": (f"start stock: UKRR published stock on 31 December {anchor} "
                        f"({point.rate_pmp:g} pmp, modality mix and median ages), run forward "
                        f"nationally to 31 December {first - 1} and applied per person to the "
                        f"footprint's {first} population"),
        "incidence_path": (f"published crude incidence to {last.year} ({last.rate_pmp:g} pmp), "
                           f"then {change:+.2f}% a year (central)"),
        "interval_includes": includes,
    }


_MEASURES = {
    "ichd": ("ichd",),
    "haemodialysis": ("ichd", "hhd"),
    "dialysis": ("ichd", "hhd", "pd"),
    "pd": ("pd",),
    "transplant": ("tx",),
    "rrt": ("ichd", "hhd", "pd", "tx"),
}


def measure_modalities(measure: str, source: str | None = None) -> tuple[str, ...]:
    """The modality states summed into a service's ``model.measure``."""
    if measure not in _MEASURES:
        raise ParameterError("unknown model measure", source=source, field="model.measure",
                             value=measure, hint=f"Use one of {', '.join(_MEASURES)}")
    return _MEASURES[measure]


def demand_tables(
    params: RRTParameters,
    pop: pd.DataFrame,
    years: Sequence[int],
    draws: int,
    seed: Any,
    *,
    modalities: Sequence[str],
    scope: dict[tuple[str, str], float],
    trend: tuple[float | None, int | None] = (None, None),
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The tables :mod:`hna.demand` builds a result from, for a model (RRT) service.

    Args:
        params: model parameters.
        pop: footprint population from the first planning year to ``max(years)``.
        years: requested years.
        draws: Monte Carlo draws (0 = central only).
        seed: seed.
        modalities: states in the measure.
        scope: ``{(sex, band): weight}`` of the service's scope (for ``scope_population``).
        trend: the service's ``(annual_change_percent, base_year)`` or ``(None, None)`` for
            the model file's projection.

    Returns:
        ``(totals, draws, by_band, info)``: totals ``area_code, year, population,
        scope_population, expected``; draws ``area_code, year, draw, patients``; by_band
        ``area_code, year, sex, age_band, population, scope_population, rate_per_100k,
        expected``; info for the result's metadata.
    """
    from hna.bands import SEXES
    from hna.prevalence.parameters import ADULT_BANDS

    res = project_rrt(params, pop, years, draws, seed, modalities=modalities, trend=trend)
    keys = ["area_code", "year", "sex", "age_band"]
    rows = pd.DataFrame({
        "area_code": np.repeat(res.areas, len(res.years) * 2 * _NB),
        "year": np.tile(np.repeat(res.years, 2 * _NB), len(res.areas)),
        "sex": np.tile(np.repeat(SEXES, _NB), len(res.areas) * len(res.years)),
        "age_band": np.tile(ADULT_BANDS, len(res.areas) * len(res.years) * 2),
        "expected": res.by_band.reshape(-1),
    })
    p = pop[pop["year"].isin(res.years)].copy()
    p["sex"], p["age_band"] = p["sex"].astype(str), p["age_band"].astype(str)
    by_band = p.merge(rows, on=keys, how="left")
    by_band["expected"] = by_band["expected"].fillna(0.0)
    by_band["scope_population"] = by_band["population"] * [
        scope[(s, b)] for s, b in zip(by_band["sex"], by_band["age_band"], strict=True)]
    by_band["rate_per_100k"] = np.where(by_band["population"] > 0,
                                        by_band["expected"] / by_band["population"] * 1e5, 0.0)
    by_band["sex"] = by_band["sex"].astype(pop["sex"].dtype)
    by_band["age_band"] = by_band["age_band"].astype(pop["age_band"].dtype)
    by_band = by_band[[*keys, "population", "scope_population", "rate_per_100k", "expected"]]
    by_band = by_band.sort_values(keys).reset_index(drop=True)
    totals = by_band.groupby(["area_code", "year"], as_index=False).agg(
        population=("population", "sum"), scope_population=("scope_population", "sum"),
        expected=("expected", "sum"))
    info = dict(res.info)
    info["rate_projection"] = (f"renal replacement therapy stock-and-flow model; "
                               f"{info.pop('incidence_path')}; measure: {'+'.join(modalities)}")
    info["rate_uncertainty"] = ("; ".join(info["interval_includes"]) if draws
                                else "none (expected values only)")
    if not draws:
        return totals, pd.DataFrame(columns=["area_code", "year", "draw", "patients"]), \
            by_band, info
    A, Y, D = res.counts.shape
    if A <= SENSITIVITY_MAX_AREAS:
        info["model_sensitivity"] = {"year": int(max(years)), "by_area": rrt_sensitivity(
            params, pop, int(max(years)), seed, modalities=modalities, trend=trend)}
    d = pd.DataFrame({"area_code": np.repeat(res.areas, Y * D),
                      "year": np.tile(np.repeat(res.years, D), A),
                      "draw": np.tile(np.arange(D, dtype=np.int64), A * Y),
                      "patients": res.counts.reshape(-1)})
    return totals, d, by_band, info

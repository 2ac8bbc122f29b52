"""National calibration run of the RRT model against UK Renal Registry figures.

Also the refit of the calibrated scales, and the national stock per person used to start local
projections.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, AGE_BANDS, SEX_DTYPE, SEXES
from hna.errors import ParameterError
from hna.prevalence.inputs import (
    _population_array,
)
from hna.prevalence.load import load_rrt_parameters
from hna.prevalence.parameters import (
    _FIRST_ADULT,
    _KEEPABLE,
    _TX,
    MODALITY_DTYPE,
    RRTParameters,
)
from hna.prevalence.simulate import RRTSimulation, simulate_rrt_arrays
from hna.prevalence.stock import initial_prevalent
from hna.prevalence.transitions import (
    _adult_factor,
    _incidence_per_person,
    _interp_year,
)

# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


def _population_total(params: RRTParameters, year: int) -> float:
    pts = sorted(params.calibration.population_totals, key=lambda p: p.year)
    ys = np.array([p.year for p in pts], dtype=float)
    vals = np.log([p.population for p in pts])
    return float(np.exp(_interp_year(ys, vals[:, None], year)[0]))


def calibration_population(params: RRTParameters, years: Iterable[int] | None = None) -> pd.DataFrame:
    """England proxy population for the calibration run.

    The ONS mid-2020 England age-sex structure (``calibration.reference_population``) scaled to
    each year's England total (``calibration.population_totals``, geometric interpolation).
    This is an approximation: the true 2000-2014 structure was younger.
    """
    cal = params.calibration
    if years is None:
        years = range(cal.start_year, cal.end_year + 1)
    ref = cal.reference_population.array()
    rows = []
    for y in years:
        scaled = ref * _population_total(params, y) / ref.sum()
        for s, sex in enumerate(SEXES):
            for b, band in enumerate(AGE_BANDS):
                rows.append((cal.area_code, sex, band, int(y), scaled[s, b]))
    df = pd.DataFrame(rows, columns=["area_code", "sex", "age_band", "year", "population"])
    df["sex"] = df["sex"].astype(SEX_DTYPE)
    df["age_band"] = df["age_band"].astype(AGE_BAND_DTYPE)
    return df


def _crude_series(params: RRTParameters, year: int) -> float:
    h = sorted(params.incidence_history, key=lambda c: c.year)
    return float(_interp_year([c.year for c in h], np.array([[c.rate_pmp] for c in h]), year)[0])


def _calibration_multipliers(params: RRTParameters, pop: pd.DataFrame, years: Sequence[int]) -> dict[int, float]:
    """Year multipliers making the model's crude incidence equal the published crude rate."""
    _, arr = _population_array(pop, years, source="calibration population", all_bands=True)
    rate = _incidence_per_person(params)
    out = {}
    for i, y in enumerate(years):
        p = arr[i].sum(axis=0)  # (S, 19)
        crude = (p[:, _FIRST_ADULT:] * _adult_factor(params) * rate).sum() / p.sum() * 1e6
        out[int(y)] = _crude_series(params, y) / crude
    return out


def calibration_run(
    params: RRTParameters | None = None,
    *,
    end_year: int | None = None,
    mortality_scale: float | None = None,
    transplant_scale: float | None = None,
) -> tuple[RRTSimulation, pd.DataFrame]:
    """Expected-value national run from the 2000 stock (523 pmp) with published incidence.

    The population is :func:`calibration_population`; incidence each year is scaled so the
    crude rate equals the published rate (``incidence_history``, interpolated; held at the
    last published value afterwards). Returns the simulation (all detail kept) and the
    population used.

    Args:
        params: model parameters (default: the shipped file).
        end_year: last year (default ``calibration.end_year``).
        mortality_scale: overrides the calibrated ``mortality.scale`` (for fitting).
        transplant_scale: overrides the calibrated ``transplantation.scale`` (for fitting).
    """
    params = params or load_rrt_parameters()
    cal = params.calibration
    last = cal.end_year if end_year is None else int(end_year)
    if last <= cal.start_year:
        raise ParameterError(
            f"end_year must be after {cal.start_year}", field="end_year", value=end_year
        )
    years = list(range(cal.start_year + 1, last + 1))
    pop = calibration_population(params, range(cal.start_year, last + 1))
    start = initial_prevalent(params, pop, cal.start_year)
    mult = _calibration_multipliers(params, pop, years)
    sim = simulate_rrt_arrays(
        params, pop, start, years, incidence_multiplier=mult,
        _mortality_scale=mortality_scale, _transplant_scale=transplant_scale,
    )
    return sim, pop

def _summaries(sim: RRTSimulation, pop: pd.DataFrame) -> dict[str, Any]:
    """Per-year national summaries of a calibration run."""
    _, parr = _population_array(pop, sim.years, source="calibration population", all_bands=True)
    stock = sim.stock[:, 0]  # (Y, S, B, M)
    total_pop = parr[:, 0].sum(axis=(1, 2))
    prev = stock.sum(axis=(1, 2, 3)) / total_pop * 1e6
    mix = stock.sum(axis=(1, 2)) / stock.sum(axis=(1, 2, 3))[:, None]
    band_pop = parr[:, 0, :, _FIRST_ADULT:]  # whole bands, as the UKRR reports them
    band_rate = stock.sum(axis=3) / band_pop * 1e6  # (Y, S, B)
    return {"years": sim.years, "prevalence_pmp": prev, "mix": mix, "band_rate": band_rate,
            "stock": stock, "flows": sim.flows[:, 0], "total_pop": total_pop}


def _calibration_errors(params: RRTParameters, x: np.ndarray) -> np.ndarray:
    sim, pop = calibration_run(params, mortality_scale=float(x[0]), transplant_scale=float(x[1]))
    s = _summaries(sim, pop)
    yi = {y: i for i, y in enumerate(s["years"])}
    res = [s["prevalence_pmp"][yi[t.year]] / t.rate_pmp - 1.0
           for t in params.calibration.prevalence_targets if t.role == "calibration"]
    for t in params.calibration.modality_targets:
        if t.role != "calibration":
            continue
        res.append(s["mix"][yi[t.year]][_TX] - t.tx)
    return np.array(res)


def fit_calibration(params: RRTParameters | None = None) -> dict[str, float]:
    """Refit the calibrated scales (``mortality.scale``, ``transplantation.scale``).

    Least squares on the relative prevalence errors of the ``calibration.prevalence_targets``
    with ``role: calibration`` and the transplant share of the calibration
    ``modality_targets``; targets with ``role: validation`` are held out. Returns the fitted values and
    the residuals; copy the values into the YAML when parameters change.
    """
    from scipy.optimize import least_squares

    params = params or load_rrt_parameters()
    x0 = np.array([params.mortality.scale.value, params.transplantation.scale.value])
    fit = least_squares(lambda x: _calibration_errors(params, x), x0, bounds=([0.2, 0.2], [5.0, 5.0]),
                        xtol=1e-10, ftol=1e-10)
    return {
        "mortality_scale": float(fit.x[0]),
        "transplant_scale": float(fit.x[1]),
        "max_abs_residual": float(np.abs(fit.fun).max()),
    }


def prevalence_per_person(params: RRTParameters, year: int) -> pd.DataFrame:
    """National adults on RRT per person by sex, band and modality on 31 December ``year``.

    From :func:`calibration_run` to ``year`` (after the last published incidence year the crude
    incidence is held at its last published value, and the mortality and transplant trends at
    their end levels), divided by the calibration population. A model extrapolation, not a
    published figure.

    Returns:
        ``sex, age_band, modality, per_person``.
    """
    sim, pop_nat = calibration_run(params, end_year=year)
    _, nat = _population_array(pop_nat, [year], source="calibration population", all_bands=True)
    rates = sim.stock[-1, 0] / np.maximum(nat[0, 0, :, _FIRST_ADULT:], 1e-12)[..., None]
    one = RRTSimulation(rates[None, None], np.zeros((0,)), (year,), ["national"], _KEEPABLE, 0)
    out = one.stock_frame().rename(columns={"patients": "per_person"})
    return out[["sex", "age_band", "modality", "per_person"]].reset_index(drop=True)


def crude_incidence_multiplier(params: RRTParameters, year: int) -> float:
    """Multiplier of the incidence rates giving the published crude rate of ``year``.

    The model's crude adult RRT incidence equals the published rate of ``year`` (held at the
    last published value after it) on the calibration population.
    """
    return _calibration_multipliers(params, calibration_population(params, [year]), [year])[year]


def modelled_prevalent(
    params: RRTParameters, population: pd.DataFrame, year: int
) -> pd.DataFrame:
    """Starting stock for ``year`` from the national model run, applied to local populations.

    Multiplies :func:`prevalence_per_person` by each area's population (indirect
    standardisation: areas with older populations get more patients). A model extrapolation,
    not a published figure: prefer :func:`initial_prevalent` with published local or national
    figures when available.

    Returns:
        ``area_code, year, sex, age_band, modality, patients`` (expected values).
    """
    per = prevalence_per_person(params, year)
    pop = population[population["year"] == year][["area_code", "sex", "age_band", "population"]]
    out = pop.merge(per, on=["sex", "age_band"], how="inner")
    out["patients"] = out["population"] * out["per_person"]
    out["year"] = int(year)
    out["modality"] = out["modality"].astype(MODALITY_DTYPE)
    return out[["area_code", "year", "sex", "age_band", "modality", "patients"]].sort_values(
        ["area_code", "sex", "age_band", "modality"]).reset_index(drop=True)

"""Projection of rates: constant, log-linear trend (Poisson GLM), Nordpred; one dispatcher."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.incidence.inputs import (
    _RATE_KEYS,
    _categorical,
    _clean_rates,
    _numeric,
    _require_frame,
    _year_list,
    _years,
)
from hna.uncertainty import (
    check_draws,
    draw_blocks,
)

__all__ = ["PROJECTION_METHODS", "constant_rates", "damped_drift", "trend_rates", "nordpred",
           "project_rates"]

PROJECTION_METHODS: tuple[str, ...] = ("constant", "trend", "nordpred")


def constant_rates(rates: pd.DataFrame, years: int | Iterable[int]) -> pd.DataFrame:
    """Hold base-period age-sex rates constant over ``years`` (demographic change only).

    Args:
        rates: base rates ``age_band, sex, rate`` [+ ``area_code``, ``cases``,
            ``person_years``] without a ``year`` column.
        years: the projection years.

    Returns:
        The rates repeated for each year, with a ``year`` column; counts columns are kept, so
        :func:`simulate` draws one rate per band x sex that is shared by every year.
    """
    yrs = _year_list(years)
    rt = _clean_rates(rates, allow_draws=False)
    if "year" in rt.columns:
        raise DataError(
            "base rates already have a year column",
            source="rates",
            field="year",
            hint="Pass one base rate per band x sex (e.g. from rates_from_counts over the base "
            "period without a year column)",
        )
    n = len(rt)
    out = rt.iloc[np.tile(np.arange(n), len(yrs))].reset_index(drop=True)
    out.insert(out.columns.get_loc("sex") + 1, "year",
               np.repeat(np.asarray(yrs, dtype=np.int64), n))
    out.attrs = {"method": "constant"}
    return out


def damped_drift(t: np.ndarray | Sequence[int], damping: float) -> np.ndarray:
    """Cumulative drift multiplier ``D(t)`` for ``t`` years after the base year.

    ``D(t) = sum_{k=1..t} damping**k`` for ``t > 0`` (the drift of the ``k``-th projected year
    is damped by ``damping**k``), and ``D(t) = t`` for ``t <= 0`` (fitted values inside the
    data). ``damping=1`` gives linear log-rate extrapolation; ``damping=0`` freezes the rate
    at its fitted base-year value.
    """
    t = np.asarray(t, dtype=float)
    d = float(damping)
    if d == 1.0:
        ahead = t
    elif d == 0.0:
        ahead = np.zeros_like(t)
    else:
        ahead = d * (1.0 - d**np.maximum(t, 0.0)) / (1.0 - d)
    return np.where(t > 0, ahead, t)


def _check_damping(damping: object) -> float:
    if (
        isinstance(damping, bool)
        or not isinstance(damping, numbers.Real)
        or not 0.0 <= float(damping) <= 1.0
    ):
        raise ParameterError("damping must be a number in [0, 1]", field="damping",
                             value=damping, hint="1 = no damping, 0 = no trend after the base year")
    return float(damping)


def trend_rates(
    counts: pd.DataFrame,
    years: int | Iterable[int],
    *,
    population: pd.DataFrame | None = None,
    damping: float = 1.0,
    base_year: int | None = None,
    age_sex: str = "interaction",
    draws: int | None = None,
    seed: int | np.random.SeedSequence | None = None,
) -> pd.DataFrame:
    """Project rates with a Poisson log-linear trend in calendar year (optionally damped).

    Model (fitted by maximum likelihood with :mod:`statsmodels`)::

        log E[cases] = log(person_years) + alpha[band, sex] + beta * (year - base_year)

    with one ``alpha`` per band x sex (``age_sex='interaction'``) or ``alpha_band +
    gamma_sex`` (``'additive'``), and one drift ``beta`` for everyone. Projected rates are
    ``exp(alpha + beta * D(t))`` with ``t = year - base_year`` and ``D`` from
    :func:`damped_drift`. Cells with no cases at all in the fitting data have a maximum
    likelihood rate of zero; they are left out of the fit (which does not change ``beta``
    under the interaction model) and projected as zero.

    Args:
        counts: ``age_band, sex, year, cases`` and ``person_years`` (or give ``population``);
            an ``area_code`` column is summed over (the trend is a national parameter).
        years: years to project to (years inside the data give fitted values).
        population: population table to take person-years from, if ``counts`` has none.
        damping: in [0, 1]; the drift of projected year ``k`` is multiplied by
            ``damping**k``.
        base_year: year the intercepts refer to and projection starts from (default: the last
            year with counts).
        age_sex: ``'interaction'`` or ``'additive'``.
        draws: if given, also return that many draws of the projected rates from the
            estimated sampling distribution of the coefficients (multivariate normal), as a
            long table with a ``draw`` column, for :func:`simulate`.
        seed: seeds the draws (by blocks, like every hna simulation).

    Returns:
        ``age_band, sex, year, rate`` (plus ``draw`` when ``draws`` is given); ``attrs`` hold
        the drift (``beta``), its standard error, the annual percentage change, the damping,
        base year and fitted years.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

    yrs = _year_list(years)
    damping = _check_damping(damping)
    if age_sex not in ("interaction", "additive"):
        raise ParameterError("must be 'interaction' or 'additive'", field="age_sex",
                             value=age_sex)
    need = [*_RATE_KEYS, "year", "cases"]
    cnt = _require_frame(counts, "counts", need)
    if "person_years" not in cnt.columns:
        if population is None:
            raise DataError("missing column", source="counts", field="person_years",
                            hint="Add person-years or pass population=")
        from hna.incidence.cases import rates_from_counts

        per_year = rates_from_counts(cnt, population)
    else:
        per_year = cnt
    tab = pd.DataFrame({
        "age_band": _categorical(per_year, "age_band", "counts").array,
        "sex": _categorical(per_year, "sex", "counts").array,
        "year": _years(per_year, "counts"),
        "cases": _numeric(per_year, "cases", "counts"),
        "person_years": _numeric(per_year, "person_years", "counts"),
    })
    tab = (tab.groupby(["age_band", "sex", "year"], observed=True, sort=True)[
        ["cases", "person_years"]].sum().reset_index())
    if (tab["person_years"] <= 0).any():
        raise DataError("person-years must be positive", source="counts", field="person_years",
                        value=0.0)
    fit_years = np.unique(tab["year"])
    if fit_years.size < 2:
        raise DataError("a trend needs counts for at least two years", source="counts",
                        field="year", value=fit_years.tolist())
    if base_year is None:
        base_year = int(fit_years.max())
    elif isinstance(base_year, bool) or not isinstance(base_year, numbers.Integral):
        raise ParameterError("base_year must be a whole number", field="base_year",
                             value=base_year)

    cell = tab["age_band"].astype(str) + "|" + tab["sex"].astype(str)
    total = tab.groupby(cell, sort=False)["cases"].transform("sum")
    if age_sex == "additive":
        band_total = tab.groupby("age_band", observed=True)["cases"].transform("sum")
        sex_total = tab.groupby("sex", observed=True)["cases"].transform("sum")
        usable = (band_total > 0) & (sex_total > 0)
    else:
        usable = total > 0
    fit = tab[usable.to_numpy()]
    if fit.empty or fit["cases"].sum() == 0:
        raise DataError("no cases to fit a trend to", source="counts", field="cases", value=0)

    # Design: intercept columns, then the centred year.
    if age_sex == "interaction":
        levels = pd.Index(pd.unique(cell[usable.to_numpy()]))
        design_cols = list(levels)

        def design(frame: pd.DataFrame) -> np.ndarray:
            lab = frame["age_band"].astype(str) + "|" + frame["sex"].astype(str)
            return (lab.to_numpy()[:, None] == levels.to_numpy()[None, :]).astype(float)
    else:
        bands = pd.Index(pd.unique(fit["age_band"].astype(str)))
        sexes = pd.Index(sorted(pd.unique(fit["sex"].astype(str))))
        design_cols = [*bands, *[f"sex={s}" for s in sexes[1:]]]

        def design(frame: pd.DataFrame) -> np.ndarray:
            b = (frame["age_band"].astype(str).to_numpy()[:, None] == bands.to_numpy()[None, :])
            s = (frame["sex"].astype(str).to_numpy()[:, None] == sexes.to_numpy()[None, 1:])
            return np.hstack([b, s]).astype(float)

    x_fit = np.column_stack([design(fit), fit["year"].to_numpy() - base_year])
    with warnings.catch_warnings():
        # statsmodels warns of "perfect prediction" when fitted means equal the counts
        # (noise-free data); harmless for a Poisson rate model. Zero cells are removed above.
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        res = sm.GLM(
            fit["cases"].to_numpy(),
            x_fit,
            family=sm.families.Poisson(),
            offset=np.log(fit["person_years"].to_numpy()),
        ).fit()
    params = np.asarray(res.params)
    cov = np.asarray(res.cov_params())
    beta, beta_se = float(params[-1]), float(np.sqrt(cov[-1, -1]))

    # Output grid: every band x sex in the counts, for each requested year.
    cells = tab[["age_band", "sex"]].drop_duplicates().reset_index(drop=True)
    grid = cells.iloc[np.tile(np.arange(len(cells)), len(yrs))].reset_index(drop=True)
    grid["year"] = np.repeat(np.asarray(yrs, dtype=np.int64), len(cells))
    lab = grid["age_band"].astype(str) + "|" + grid["sex"].astype(str)
    if age_sex == "interaction":
        ok = lab.isin(levels).to_numpy()
    else:
        ok = (grid["age_band"].astype(str).isin(bands) & grid["sex"].astype(str).isin(sexes)
              ).to_numpy()
    x_out = np.column_stack(
        [design(grid), damped_drift(grid["year"].to_numpy() - base_year, damping)]
    )
    grid["rate"] = np.where(ok, np.exp(x_out @ params), 0.0)
    grid = grid[["age_band", "sex", "year", "rate"]]
    attrs = {
        "method": "trend",
        "age_sex": age_sex,
        "beta": beta,
        "beta_se": beta_se,
        "annual_change_percent": 100.0 * float(np.expm1(beta)),
        "damping": damping,
        "base_year": int(base_year),
        "fit_years": (int(fit_years.min()), int(fit_years.max())),
        "design": design_cols,
        "zero_cells": sorted(set(lab[~ok])),
    }
    if draws is None:
        grid.attrs = attrs
        return grid

    # Coefficient draws: params + L z, z ~ N(0, I), L L' = cov, made block by block.
    draws = check_draws(draws)
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2.0)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    mats = []
    for block in draw_blocks(seed, draws):
        z = block.rng(0).standard_normal((block.n_generate, params.size))[block.skip:]
        coef = params + z @ root.T
        mats.append(np.where(ok, np.exp(coef @ x_out.T), 0.0))
    rate_draws = np.vstack(mats)  # (draws, cells)
    out = grid.iloc[np.tile(np.arange(len(grid)), draws)].reset_index(drop=True)
    out["rate"] = rate_draws.ravel()
    out.insert(3, "draw", np.repeat(np.arange(draws, dtype=np.int64), len(grid)))
    attrs["draws"] = draws
    out.attrs = attrs
    return out


def nordpred(*args: Any, **kwargs: Any) -> Any:
    """Nordpred age-period-cohort projection: a thin wrapper of :func:`hna.incidence.nordpred.nordpred`.

    Arguments and result are those of :func:`hna.incidence.nordpred.nordpred` (imported on first use,
    so ``hna.incidence`` imports without it).
    """
    from hna.incidence.nordpred import nordpred as _nordpred

    return _nordpred(*args, **kwargs)


def project_rates(method: str, *args: Any, **kwargs: Any) -> Any:
    """Project rates with a named method (for services that choose one in their parameters).

    - ``'constant'``: :func:`constant_rates` ``(rates, years)``;
    - ``'trend'``: :func:`trend_rates` ``(counts, years, **options)``;
    - ``'nordpred'``: :func:`hna.incidence.nordpred.nordpred` with its own arguments and result.
    """
    if method == "constant":
        return constant_rates(*args, **kwargs)
    if method == "trend":
        return trend_rates(*args, **kwargs)
    if method == "nordpred":
        return nordpred(*args, **kwargs)
    raise ParameterError("unknown projection method", field="method", value=method,
                         hint=f"Use one of {', '.join(PROJECTION_METHODS)}")

"""Expected cases and their projection: constant rates, log-linear trend, Nordpred; Monte Carlo.

Tables follow ``docs/contributing.md``:

- rates: ``age_band, sex, rate`` (rate per person-year), optionally ``area_code`` and/or
  ``year`` for area- or year-specific rates, and ``cases, person_years`` (the counts behind
  each rate, used for rate uncertainty) or ``draw`` (one row per rate draw);
- population: ``area_code, sex, age_band, year, population`` (current or projected);
- cases: ``area_code, sex, age_band, year, cases``.

Functions:

- :func:`expected_cases`: cases = rate x population, cell by cell;
- :func:`rates_from_counts`: crude rates from counts and person-years (counts kept);
- :func:`constant_rates`, :func:`trend_rates`, :func:`nordpred` (re-exported from
  :mod:`hna.nordpred`), selectable with :func:`project_rates`;
- :func:`simulate`: seeded Monte Carlo of future counts with rate uncertainty and Poisson
  variation, as draws or as mean and quantiles.

Formulas, choices and sources: ``docs/methods/incidence.md``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from hna.bands import AGE_BAND_DTYPE, SEX_DTYPE, as_band, as_sex
from hna.errors import DataError, ParameterError
from hna.uncertainty import (
    BLOCK_SIZE,
    check_draws,
    check_quantiles,
    draw_blocks,
    mixed_poisson_draws,
    quantile_columns,
    seed_sequence,
    summarise_array,
)

__all__ = [
    "CASES_COLUMNS",
    "PROJECTION_METHODS",
    "expected_cases",
    "rates_from_counts",
    "constant_rates",
    "trend_rates",
    "damped_drift",
    "project_rates",
    "nordpred",
    "simulate",
]

CASES_COLUMNS: tuple[str, ...] = ("area_code", "sex", "age_band", "year", "cases")
PROJECTION_METHODS: tuple[str, ...] = ("constant", "trend", "nordpred")

_POP_KEYS = ("area_code", "sex", "age_band", "year")
_RATE_KEYS = ("age_band", "sex")
_OPTIONAL_RATE_KEYS = ("area_code", "year")
_COUNT_COLUMNS = ("cases", "person_years")
#: Simulations refuse to hold more draws x output groups than this (1 GiB of int64 counts;
#: a long table of draws takes about four times as much).
_MAX_CELLS = 2**27


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _require_frame(table: object, source: str, required: Iterable[str]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise DataError("expected a pandas DataFrame", source=source, value=type(table).__name__)
    for col in required:
        if col not in table.columns:
            raise DataError(
                "missing column",
                source=source,
                field=col,
                hint=f"Columns present: {', '.join(map(str, table.columns))}",
            )
    return table


def _categorical(table: pd.DataFrame, col: str, source: str) -> pd.Series:
    """``age_band`` or ``sex`` as the canonical categorical; unknown labels are a DataError."""
    raw = table[col]
    dtype = AGE_BAND_DTYPE if col == "age_band" else SEX_DTYPE
    if isinstance(raw.dtype, pd.CategoricalDtype) and raw.dtype == dtype:
        out = raw
    else:
        # Map the distinct labels only, then expand: fast on long tables.
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        labels = pd.Series(np.asarray(uniques, dtype=object))
        if col == "age_band":
            # Check labels before casting: casting unknown labels is deprecated in pandas.
            cleaned = labels.astype(str).str.replace("\u2013", "-").str.replace(" ", "")
            unknown = ~cleaned.isin(AGE_BAND_DTYPE.categories)
            if unknown.any():
                raise DataError("unknown label", source=source, field=col,
                                value=labels[unknown].iloc[0],
                                hint="Use the 19 ESP2013 bands '0-4' ... '85-89', '90+'")
        mapped = as_band(labels) if col == "age_band" else as_sex(labels)
        new_codes = np.append(mapped.cat.codes.to_numpy(), -1)[codes]
        out = pd.Series(pd.Categorical.from_codes(new_codes, dtype=dtype), index=raw.index)
    bad = out.isna()
    if bad.any():
        raise DataError(
            "unknown label",
            source=source,
            field=col,
            value=raw[bad].iloc[0],
            hint=(
                "Use the 19 ESP2013 bands '0-4' ... '85-89', '90+'"
                if col == "age_band"
                else "Use 'female' or 'male'"
            ),
        )
    return out


def _numeric(table: pd.DataFrame, col: str, source: str, *, positive: bool = False) -> np.ndarray:
    """A numeric column as float64; NaN, infinite, negative (or zero if ``positive``) rejected."""
    try:
        values = pd.to_numeric(table[col], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError("values must be numbers", source=source, field=col,
                        value=str(exc)) from None
    bad = ~np.isfinite(values) | (values <= 0 if positive else values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "positive" if positive else "non-negative"
        raise DataError(
            f"values must be finite and {what}",
            source=source,
            field=col,
            value=values[row].item(),
            hint=f"First bad value at row {row}; fix or drop it",
        )
    return values


def _years(table: pd.DataFrame, source: str) -> np.ndarray:
    values = _numeric(table, "year", source)
    if (values != np.round(values)).any():
        raise DataError("years must be whole numbers", source=source, field="year",
                        value=values[values != np.round(values)][0].item())
    return values.astype(np.int64)


def _area_codes(table: pd.DataFrame, source: str) -> pd.api.extensions.ExtensionArray:
    codes = table["area_code"]
    if codes.isna().any():
        raise DataError("missing area code", source=source, field="area_code",
                        hint=f"First at row {int(np.flatnonzero(codes.isna())[0])}")
    return codes.astype(str).array


def _check_unique(table: pd.DataFrame, keys: Sequence[str], source: str) -> None:
    dup = table.duplicated(list(keys), keep=False)
    if dup.any():
        first = table.loc[dup, list(keys)].iloc[0]
        raise DataError(
            "duplicate rows for the same " + " x ".join(keys),
            source=source,
            field=", ".join(keys),
            value=tuple(first.astype(str)),
            hint="Aggregate or remove duplicate rows",
        )


def _clean_population(population: object, source: str = "population") -> pd.DataFrame:
    pop = _require_frame(population, source, [*_POP_KEYS, "population"])
    out = pd.DataFrame(
        {
            "area_code": _area_codes(pop, source),
            "sex": _categorical(pop, "sex", source).array,
            "age_band": _categorical(pop, "age_band", source).array,
            "year": _years(pop, source),
            "population": _numeric(pop, "population", source),
        }
    )
    _check_unique(out, _POP_KEYS, source)
    return out


def _clean_rates(rates: object, source: str = "rates", *, allow_draws: bool = True) -> pd.DataFrame:
    """Canonical copy of a rates table: keys, ``rate`` and optional counts or ``draw``."""
    tab = _require_frame(rates, source, [*_RATE_KEYS, "rate"])
    out = pd.DataFrame(index=pd.RangeIndex(len(tab)))
    if "area_code" in tab.columns:
        out["area_code"] = _area_codes(tab, source)
    out["age_band"] = _categorical(tab, "age_band", source).array
    out["sex"] = _categorical(tab, "sex", source).array
    if "year" in tab.columns:
        out["year"] = _years(tab, source)
    out["rate"] = _numeric(tab, "rate", source)
    present = [c for c in _COUNT_COLUMNS if c in tab.columns]
    if len(present) == 1:
        other = next(c for c in _COUNT_COLUMNS if c not in present)
        raise DataError(
            f"'{present[0]}' given without '{other}'",
            source=source,
            field=other,
            hint="Give both counts columns (rate uncertainty) or neither (rates treated as fixed)",
        )
    if present:
        out["cases"] = _numeric(tab, "cases", source)
        out["person_years"] = _numeric(tab, "person_years", source, positive=True)
    if "draw" in tab.columns:
        if not allow_draws:
            raise DataError(
                "rate draws are not accepted here",
                source=source,
                field="draw",
                hint="Use simulate() for rate draws, or pass one rate per cell",
            )
        if present:
            raise DataError("give either counts or rate draws, not both", source=source,
                            field="draw")
        draw = _numeric(tab, "draw", source)
        if (draw != np.round(draw)).any():
            raise DataError("draw indices must be whole numbers", source=source, field="draw")
        out["draw"] = draw.astype(np.int64)
    _check_unique(out, _rate_keys(out), source)
    return out


def _rate_keys(rates: pd.DataFrame, *, with_draw: bool = True) -> list[str]:
    keys = [k for k in _OPTIONAL_RATE_KEYS if k in rates.columns] + list(_RATE_KEYS)
    if with_draw and "draw" in rates.columns:
        keys.append("draw")
    return keys


def _check_missing_option(missing: str) -> None:
    if missing not in ("error", "zero"):
        raise ParameterError("must be 'error' or 'zero'", field="missing", value=missing)


def _match_rates(
    rates: pd.DataFrame, population: pd.DataFrame, missing: str, source: str = "rates"
) -> np.ndarray:
    """Index of the rate row for each population row (-1 where ``missing='zero'`` allows)."""
    keys = _rate_keys(rates, with_draw=False)
    lookup = rates[keys].drop_duplicates().reset_index(drop=True)
    lookup["_row"] = np.arange(len(lookup))
    matched = population[keys].merge(lookup, on=keys, how="left", sort=False)
    idx = matched["_row"].to_numpy(dtype=float, na_value=np.nan)
    absent = np.isnan(idx)
    if absent.any() and missing == "error":
        combos = population.loc[absent, keys].drop_duplicates()
        shown = "; ".join(
            ", ".join(f"{k}={row[k]}" for k in keys) for _, row in combos.head(5).iterrows()
        )
        more = f" and {len(combos) - 5} more" if len(combos) > 5 else ""
        raise DataError(
            f"no rate for {len(combos)} population cell type(s): {shown}{more}",
            source=source,
            field="rate",
            hint=(
                "Supply rates for these cells, pass only the population in the service's scope, "
                "or use missing='zero' to count them as zero"
            ),
        )
    return np.where(absent, -1, np.nan_to_num(idx, nan=-1)).astype(np.int64)


def _year_list(years: object) -> list[int]:
    if isinstance(years, numbers.Integral) and not isinstance(years, bool):
        years = [years]
    if isinstance(years, str | bytes) or not isinstance(years, Iterable):
        raise ParameterError("years must be an integer or a list of integers", field="years",
                             value=years)
    out = []
    for y in years:
        if isinstance(y, bool) or not isinstance(y, numbers.Integral):
            raise ParameterError("years must be whole numbers", field="years", value=y)
        out.append(int(y))
    if not out:
        raise ParameterError("no years given", field="years", value=years)
    if len(set(out)) != len(out):
        raise ParameterError("years repeat", field="years", value=out)
    return out


# --------------------------------------------------------------------------------------------
# Expected cases and rates
# --------------------------------------------------------------------------------------------


def expected_cases(
    rates: pd.DataFrame, population: pd.DataFrame, *, missing: str = "error"
) -> pd.DataFrame:
    """Expected cases in each population cell: ``cases = rate x population``.

    Rates are matched to population rows on ``age_band`` and ``sex``, plus ``area_code``
    and/or ``year`` when the rates table has those columns (area- or year-specific rates).
    Rates for cells absent from the population are ignored.

    A service's scope (e.g. women only, adults only) is expressed by the rows passed: a
    population row with no matching rate is an error unless ``missing='zero'``, which counts
    it as zero cases.

    Args:
        rates: ``age_band, sex, rate`` (per person-year) [+ ``area_code``, ``year``].
        population: ``area_code, sex, age_band, year, population`` (current or projected).
        missing: ``'error'`` (default) or ``'zero'``.

    Returns:
        ``area_code, sex, age_band, year, cases`` in the population's row order.

    Raises:
        DataError: missing columns, unknown labels, negative/NaN values, duplicate keys, or a
            population cell without a rate (the message names the band and sex).
    """
    _check_missing_option(missing)
    pop = _clean_population(population)
    rt = _clean_rates(rates, allow_draws=False)
    idx = _match_rates(rt, pop, missing)
    rate = np.append(rt["rate"].to_numpy(), 0.0)[idx]  # idx -1 -> the appended zero
    out = pop[list(_POP_KEYS)].copy()
    out["cases"] = pop["population"].to_numpy() * rate
    return out


def rates_from_counts(counts: pd.DataFrame, population: pd.DataFrame) -> pd.DataFrame:
    """Crude rates per person-year from observed counts, keeping the counts for uncertainty.

    Person-years for each count cell are the sum of the population table's ``person_years``
    column (or, failing that, its ``population`` column, one person-year per person per year
    row) over the rows matching the cell's keys. Pass the population of exactly the areas and
    years the counts cover: e.g. counts for 2017-2019 combined against population rows for
    2017, 2018 and 2019 give three years of person-time.

    Args:
        counts: ``age_band, sex, cases`` [+ ``area_code``, ``year``], one row per cell.
        population: has the counts' key columns and ``person_years`` or ``population``.

    Returns:
        The counts' keys, ``rate`` (= cases / person_years), ``cases``, ``person_years``.

    Raises:
        DataError: missing columns, negative/NaN counts, duplicate cells, a count cell with no
            or zero person-years.
    """
    cnt = _require_frame(counts, "counts", [*_RATE_KEYS, "cases"])
    keys = [k for k in _OPTIONAL_RATE_KEYS if k in cnt.columns] + list(_RATE_KEYS)
    ctab = pd.DataFrame({"age_band": _categorical(cnt, "age_band", "counts").array,
                         "sex": _categorical(cnt, "sex", "counts").array})
    if "area_code" in keys:
        ctab["area_code"] = _area_codes(cnt, "counts")
    if "year" in keys:
        ctab["year"] = _years(cnt, "counts")
    ctab["cases"] = _numeric(cnt, "cases", "counts")
    _check_unique(ctab, keys, "counts")

    exposure = "person_years" if "person_years" in getattr(population, "columns", []) else (
        "population")
    ptab0 = _require_frame(population, "population", [*keys, exposure])
    ptab = pd.DataFrame({"age_band": _categorical(ptab0, "age_band", "population").array,
                         "sex": _categorical(ptab0, "sex", "population").array})
    if "area_code" in keys:
        ptab["area_code"] = _area_codes(ptab0, "population")
    if "year" in keys:
        ptab["year"] = _years(ptab0, "population")
    ptab["person_years"] = _numeric(ptab0, exposure, "population")
    py = ptab.groupby(keys, observed=True, sort=False)["person_years"].sum().reset_index()

    out = ctab.merge(py, on=keys, how="left", sort=False)
    no_py = out["person_years"].isna() | (out["person_years"] <= 0)
    if no_py.any():
        row = out.loc[no_py, keys].iloc[0]
        raise DataError(
            "no person-years for a count cell",
            source="population",
            field=exposure,
            value=", ".join(f"{k}={row[k]}" for k in keys),
            hint="Supply population for every area, year, band and sex the counts cover",
        )
    out["rate"] = out["cases"] / out["person_years"]
    out = out[[*keys, "rate", "cases", "person_years"]]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Projection of rates
# --------------------------------------------------------------------------------------------


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
        draws, seed: if ``draws`` is given, also return that many draws of the projected
            rates from the estimated sampling distribution of the coefficients
            (multivariate normal), as a long table with a ``draw`` column, for
            :func:`simulate`. Seeded by blocks, like every hna simulation.

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
    """Nordpred age-period-cohort projection: a thin wrapper of :func:`hna.nordpred.nordpred`.

    Arguments and result are those of :func:`hna.nordpred.nordpred` (imported on first use,
    so ``hna.incidence`` imports without it).
    """
    from hna.nordpred import nordpred as _nordpred

    return _nordpred(*args, **kwargs)


def project_rates(method: str, *args: Any, **kwargs: Any) -> Any:
    """Project rates with a named method (for services that choose one in their parameters).

    - ``'constant'``: :func:`constant_rates` ``(rates, years)``;
    - ``'trend'``: :func:`trend_rates` ``(counts, years, **options)``;
    - ``'nordpred'``: :func:`hna.nordpred.nordpred` with its own arguments and result.
    """
    if method == "constant":
        return constant_rates(*args, **kwargs)
    if method == "trend":
        return trend_rates(*args, **kwargs)
    if method == "nordpred":
        return nordpred(*args, **kwargs)
    raise ParameterError("unknown projection method", field="method", value=method,
                         hint=f"Use one of {', '.join(PROJECTION_METHODS)}")


# --------------------------------------------------------------------------------------------
# Monte Carlo
# --------------------------------------------------------------------------------------------


def _check_by(by: object) -> list[str]:
    if isinstance(by, str):
        by = (by,)
    if by is None or not isinstance(by, Iterable):
        raise ParameterError("by must be a list of column names", field="by", value=by)
    cols = list(by)
    for c in cols:
        if c not in _POP_KEYS:
            raise ParameterError("unknown reporting level", field="by", value=c,
                                 hint=f"Choose from {', '.join(_POP_KEYS)}")
    if len(set(cols)) != len(cols):
        raise ParameterError("columns repeat", field="by", value=cols)
    return [c for c in _POP_KEYS if c in cols]


def simulate(
    rates: pd.DataFrame,
    population: pd.DataFrame,
    draws: int = 1000,
    *,
    seed: int | np.random.SeedSequence,
    quantiles: Sequence[float] | None = None,
    by: Sequence[str] = ("area_code", "year"),
    start: int = 0,
    shape_offset: float = 0.0,
    missing: str = "error",
    block_size: int = BLOCK_SIZE,
) -> pd.DataFrame:
    """Monte Carlo draws of future case counts, or their mean and quantiles.

    Each draw ``d``:

    1. draws the rates. With ``cases`` and ``person_years`` columns, the rate of each band x
       sex (x area, if area-specific) is drawn once from its gamma posterior
       ``Gamma(shape=cases + shape_offset, rate=person_years)`` and shared by every area and
       year (a rate is a parameter, not a per-cell quantity). With a ``draw`` column (e.g.
       from ``trend_rates(..., draws=)``), rate draw ``d`` is used. Otherwise rates are
       fixed and only Poisson variation remains; ``attrs['rate_uncertainty']`` says which;
    2. sums ``population x rate`` over the cells of each ``by`` group and draws the group's
       count from a Poisson distribution with that mean. Given the rates, cells are
       independent Poisson and a sum of independent Poisson variables is Poisson with the
       summed mean, so this has exactly the distribution of the sum of per-cell draws.

    Seeding is by blocks of ``block_size`` draws (:func:`hna.uncertainty.draw_blocks`), so
    ``simulate(draws=1000, seed=s)`` equals the concatenation of ``draws=600, start=0`` and
    ``draws=400, start=600`` (see :func:`hna.uncertainty.summarise` to summarise chunks).

    Args:
        rates: rates table (see module docstring); ``year``-specific rates are matched to the
            population's years. Counts must be the same for every year of a band x sex.
        population: ``area_code, sex, age_band, year, population``.
        draws: number of draws (>= 1).
        seed: non-negative integer (or ``SeedSequence``); required.
        quantiles: ``None`` for the long table of draws, or probabilities such as
            ``(0.025, 0.1, 0.5, 0.9, 0.975)`` for summary columns ``q0.025`` ...
        by: reporting level, any of ``area_code, sex, age_band, year`` (``()`` = one total).
        start: index of the first draw (for computing a run in chunks).
        shape_offset: 0 (default: posterior mean = crude rate) or 0.5 (Jeffreys prior).
        missing: ``'error'`` or ``'zero'`` for population cells without a rate.
        block_size: draws per seeding block; keep the default for comparable results.

    Returns:
        Draws: ``by`` columns, ``draw``, ``cases`` (int64), sorted by ``by`` then ``draw``.
        Quantiles: ``by`` columns, ``expected`` (point estimate, rate x population; with
        supplied rate draws, population x the mean of the draws used), ``mean`` (of the
        simulated counts), ``q<p>`` columns. ``attrs`` record seed, draws, start, block size,
        shape offset and how rate uncertainty was handled.
    """
    root = seed_sequence(seed)
    draws = check_draws(draws)
    if isinstance(start, bool) or not isinstance(start, numbers.Integral) or start < 0:
        raise ParameterError("must be an integer >= 0", field="start", value=start)
    block_size = check_draws(block_size, "block_size")
    qs = None if quantiles is None else check_quantiles(quantiles)
    by_cols = _check_by(by)
    _check_missing_option(missing)
    if (
        isinstance(shape_offset, bool)
        or not isinstance(shape_offset, numbers.Real)
        or not np.isfinite(shape_offset)
        or shape_offset < 0
    ):
        raise ParameterError("must be a number >= 0", field="shape_offset", value=shape_offset,
                             hint="Use 0 (crude-rate mean) or 0.5 (Jeffreys)")

    pop = _clean_population(population)
    rt = _clean_rates(rates)
    has_draws = "draw" in rt.columns
    rate_keys = _rate_keys(rt, with_draw=False)
    params = rt[rate_keys].drop_duplicates().reset_index(drop=True)  # one row per rate cell
    idx = _match_rates(params, pop, missing)
    hit = idx >= 0
    popn = pop["population"].to_numpy()

    # Output groups, numbered in sorted key order.
    if by_cols:
        codes = pop.groupby(by_cols, sort=True, observed=True).ngroup().to_numpy()
        first = np.unique(codes, return_index=True)[1]
        keys = pop[by_cols].iloc[first].reset_index(drop=True)
    else:
        codes = np.zeros(len(pop), dtype=np.int64)
        keys = pd.DataFrame(index=range(1))
    n_out = len(keys)
    if n_out * draws > _MAX_CELLS:
        raise ParameterError(
            f"{n_out} groups x {draws} draws is too large to hold in memory",
            field="by",
            value=tuple(by_cols),
            hint="Report at a coarser level, use fewer draws, or compute in chunks with start=",
        )
    if has_draws:
        available = np.unique(rt["draw"].to_numpy())
        want = np.arange(start, start + draws)
        if not np.isin(want, available).all():
            raise DataError(
                f"rates have draws {available.min()}..{available.max()}, need "
                f"{start}..{start + draws - 1}",
                source="rates",
                field="draw",
                value=len(available),
                hint="Make at least as many rate draws as simulation draws",
            )
        pos = rt.merge(params.reset_index(), on=rate_keys, how="left")
        matrix = np.full((int(available.max()) + 1, len(params)), np.nan)
        matrix[pos["draw"].to_numpy(), pos["index"].to_numpy()] = pos["rate"].to_numpy()
        # A chunk replays its first block from the block's start, so needs those draws too.
        needed = matrix[(start // block_size) * block_size:start + draws]
        if np.isnan(needed).any():
            raise DataError(
                "every rate cell needs a value in every draw (from the start of the seeding "
                "block containing the first draw)",
                source="rates",
                field="draw",
                value=len(available),
            )
        point_rate = matrix[start:start + draws].mean(axis=0)
    else:
        point_rate = rt["rate"].to_numpy()  # keys are unique, so params has rt's rows
    cell_rate = np.append(point_rate, 0.0)[idx]
    expected = np.bincount(codes, weights=popn * cell_rate, minlength=n_out)

    weights = shapes = factor_draws = None
    fixed = expected
    if has_draws:
        uncertainty = "rate draws supplied in the 'draw' column"
        weights = sparse.csr_array((popn[hit], (codes[hit], idx[hit])),
                                   shape=(n_out, len(params)))
        if n_out * len(params) <= 2**22:
            weights = weights.toarray()
        fixed = np.zeros(n_out)

        def factor_draws(lo: int, hi: int) -> np.ndarray:
            return matrix[lo:hi]

    elif "cases" in rt.columns:
        prior = {0.0: " (prior 1/rate)", 0.5: " (Jeffreys prior)"}.get(float(shape_offset), "")
        shared = ("years" if "area_code" in rt.columns else "areas and years")
        uncertainty = (
            f"gamma posterior: rate ~ Gamma(shape = cases + {shape_offset:g}, rate = "
            f"person_years){prior}, one draw per rate shared across {shared}"
        )
        gkeys = [k for k in _rate_keys(rt, with_draw=False) if k != "year"]
        grp = rt.groupby(gkeys, observed=True, sort=False)
        varies = (grp["cases"].transform("nunique") > 1) | (
            grp["person_years"].transform("nunique") > 1)
        if varies.any():
            row = rt.loc[varies, gkeys].iloc[0]
            raise DataError(
                "counts differ between years of the same rate",
                source="rates",
                field="cases",
                value=", ".join(f"{k}={row[k]}" for k in gkeys),
                hint="Rate draws are shared across years: give the base-period counts on every "
                "year's row (as constant_rates does), or drop the counts to treat rates as fixed",
            )
        implied = rt["cases"].to_numpy() / rt["person_years"].to_numpy()
        if not np.allclose(rt["rate"].to_numpy(), implied, rtol=1e-6, atol=0.0):
            bad = ~np.isclose(rt["rate"].to_numpy(), implied, rtol=1e-6, atol=0.0)
            raise DataError(
                "rate differs from cases / person_years",
                source="rates",
                field="rate",
                value=float(rt["rate"].to_numpy()[bad][0]),
                hint="Rates with counts must be crude rates (rates_from_counts); drop the counts "
                "columns to simulate other rates as fixed",
            )
        # without a draw column, params has the rows of rt in the same order
        group = grp.ngroup().to_numpy()
        n_groups = int(group.max()) + 1
        first_row = np.unique(group, return_index=True)[1]
        shapes = rt["cases"].to_numpy()[first_row] + shape_offset
        inv_py = 1.0 / rt["person_years"].to_numpy()
        g_of_pop = group[idx[hit]]
        weights = sparse.csr_array(
            (popn[hit] * inv_py[idx[hit]], (codes[hit], g_of_pop)), shape=(n_out, n_groups)
        )
        if n_out * n_groups <= 2**22:
            weights = weights.toarray()
        fixed = np.zeros(n_out)
    else:
        uncertainty = (
            "none: rates carry no counts and are treated as fixed (Poisson variation only)"
        )

    counts = mixed_poisson_draws(
        fixed, weights, shapes, draws=draws, seed=root, start=start, block_size=block_size,
        factor_draws=factor_draws, outputs_first=True,
    )  # (n_out, draws)

    attrs = {
        "seed": int(root.entropy) if isinstance(root.entropy, int) else root.entropy,
        "draws": draws,
        "start": int(start),
        "block_size": int(block_size),
        "shape_offset": float(shape_offset),
        "rate_uncertainty": uncertainty,
        "by": tuple(by_cols),
    }
    if qs is None:
        # Build columns directly: far cheaper than DataFrame.iloc on tens of millions of rows.
        rep = np.repeat(np.arange(n_out), draws)
        data: dict[str, Any] = {c: keys[c].array.take(rep) for c in by_cols}
        data["draw"] = np.tile(np.arange(start, start + draws, dtype=np.int64), n_out)
        data["cases"] = counts.ravel()  # a view: rows are groups, then draws
        out = pd.DataFrame(data, copy=False)
    else:
        stats = summarise_array(counts, qs, overwrite=True)
        out = keys.copy()
        out["expected"] = expected
        for j, name in enumerate(["mean", *quantile_columns(qs)]):
            out[name] = stats[:, j]
        attrs["quantiles"] = qs
    out.attrs = attrs
    return out

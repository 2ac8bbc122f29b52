"""Expected cases (rate x population) and crude rates from counts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hna.errors import DataError
from hna.incidence.inputs import (
    _OPTIONAL_RATE_KEYS,
    _POP_KEYS,
    _RATE_KEYS,
    _area_codes,
    _categorical,
    _check_missing_option,
    _check_unique,
    _clean_population,
    _clean_rates,
    _match_rates,
    _numeric,
    _require_frame,
    _years,
)

__all__ = ["expected_cases", "rates_from_counts"]


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


def _cell_keys(frame: pd.DataFrame, keys: list[str], source: str) -> pd.DataFrame:
    """Checked key columns of a counts or population table: bands, sex, area, year."""
    out = pd.DataFrame({"age_band": _categorical(frame, "age_band", source).array,
                        "sex": _categorical(frame, "sex", source).array})
    if "area_code" in keys:
        out["area_code"] = _area_codes(frame, source)
    if "year" in keys:
        out["year"] = _years(frame, source)
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
    ctab = _cell_keys(cnt, keys, "counts")
    ctab["cases"] = _numeric(cnt, "cases", "counts")
    _check_unique(ctab, keys, "counts")

    exposure = "person_years" if "person_years" in getattr(population, "columns", []) else (
        "population")
    ptab0 = _require_frame(population, "population", [*keys, exposure])
    ptab = _cell_keys(ptab0, keys, "population")
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

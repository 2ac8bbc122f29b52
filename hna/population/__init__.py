"""Population tables: load (ONS formats), validate, and project.

The canonical table is long and tidy, one row per area x sex x age band x year::

    area_code  sex     age_band  year  population
    E06000001  female  0-4       2020  2483.0

``age_band`` is the ordered categorical of the 19 ESP2013 bands and ``sex`` is
``female``/``male`` (see :mod:`hna.bands`). Every reader returns this table, validated by
:func:`validate_population`, whose errors name the file, column and value at fault.

Readers cover the layouts analysts download from ONS:

- :func:`read_mye_wide`: mid-year estimates in the MYE2 layout (one row per area, single-year
  age columns ``0`` ... ``89``, ``90+``), from the original workbook or a CSV;
- :func:`read_snpp`: subnational population projections CSV (``AREA_CODE, AREA_NAME,
  COMPONENT, SEX, AGE_GROUP`` and one column per year);
- :func:`read_tidy`: the canonical table as CSV or parquet (age as bands or single years).

:func:`load_population` picks the reader from the file's layout.

Projection (:func:`project`) multiplies a local base population by national age-sex growth
ratios from the ONS national population projections ("national trend" method): it is *not*
a subnational projection and outputs say so. A population read from an SNPP file already
holds the local projection and is used as-is.
"""


from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, SEX_DTYPE
from hna.errors import DataError, ParameterError
from hna.population.readers import load_population, read_mye_wide, read_snpp, read_tidy
from hna.population.validate import (
    MAX_COUNT,
    POPULATION_COLUMNS,
    check_coverage,
    validate_population,
)

__all__ = [
    "POPULATION_COLUMNS",
    "PROJECTION_VARIANTS",
    "validate_population",
    "read_mye_wide",
    "read_snpp",
    "read_tidy",
    "load_population",
    "default_population",
    "growth_factors",
    "project",
    "projection_label",
    "summarise",
    "parse_years",
    "check_coverage",
    "MAX_COUNT",
]

#: National projection variants bundled in hna/data/npp_growth_england.csv.
PROJECTION_VARIANTS: dict[str, str] = {
    "npp2020": "ONS 2020-based interim national population projections, England, principal",
    "npp2018": "ONS 2018-based national population projections, England, principal",
}


# --------------------------------------------------------------------------- bundled data
def _data_path(name: str):
    return resources.files("hna") / "data" / name


@lru_cache(maxsize=1)
def _default_population() -> pd.DataFrame:
    with _data_path("population_mid2020_lad21.csv").open("r") as fh:
        df = pd.read_csv(fh, dtype={"area_code": str, "age_band": str, "sex": str})
    return validate_population(df, source="hna/data/population_mid2020_lad21.csv")


def default_population() -> pd.DataFrame:
    """Mid-2020 population of the 309 English LADs (April 2021 codes) by sex and 19 bands.

    Source: ONS mid-year population estimates (MYE2), mid-2020 on 2021 local authority
    geography; England total 56,550,138. See hna/data/PROVENANCE.md.
    """
    out = _default_population().copy()
    out.attrs["source"] = "ONS mid-2020 population estimates (MYE2), 2021 LA geography"
    return out


@lru_cache(maxsize=1)
def _growth_table() -> pd.DataFrame:
    with _data_path("npp_growth_england.csv").open("r") as fh:
        g = pd.read_csv(fh, dtype={"variant": str, "sex": str, "age_band": str})
    g["sex"] = g["sex"].astype(SEX_DTYPE)
    g["age_band"] = g["age_band"].astype(AGE_BAND_DTYPE)
    return g


def growth_factors(variant: str = "npp2020") -> pd.DataFrame:
    """National England age-sex population by year and growth relative to 2020.

    Returns columns ``sex, age_band, year, population, growth_from_2020`` for 2020-2070.
    """
    if variant not in PROJECTION_VARIANTS:
        raise ParameterError("unknown projection variant", field="variant", value=variant,
                             hint=f"Choose one of {', '.join(PROJECTION_VARIANTS)}")
    g = _growth_table()
    return g[g["variant"] == variant].drop(columns="variant").reset_index(drop=True)


# --------------------------------------------------------------------------- projection
@dataclass(frozen=True)
class _Label:
    method: str
    variant: str | None
    base_year: int | None

    def text(self) -> str:
        if self.method == "national_trend":
            return (f"national-trend projection: base year {self.base_year} local population x "
                    f"national age-sex growth ratios from the {PROJECTION_VARIANTS[self.variant]} "
                    "(not a subnational projection)")
        if self.method == "snpp":
            return "ONS subnational population projection used as published"
        return "population estimates (no projection)"


def parse_years(years) -> list[int]:
    """Years as a sorted list: ``2030``, ``"2025:2040"`` (or ``2025-2040``), or a list."""
    if isinstance(years, int | np.integer) and not isinstance(years, bool):
        return [int(years)]
    if isinstance(years, str):
        m = re.fullmatch(r"\s*(\d{4})\s*(?::|-|\.\.)\s*(\d{4})\s*", years)
        if m:
            lo, hi = int(m.group(1)), int(m.group(2))
            if hi < lo:
                raise ParameterError("the range ends before it starts", field="years",
                                     value=years, hint="Write e.g. 2025:2040")
            return list(range(lo, hi + 1))
        if re.fullmatch(r"\s*\d{4}\s*", years):
            return [int(years)]
        parts = [p for p in re.split(r"[,\s]+", years.strip()) if p]
        if parts and all(re.fullmatch(r"\d{4}", p) for p in parts):
            return sorted({int(p) for p in parts})
        raise ParameterError("cannot read years", field="years", value=years,
                             hint="Give a year (2030), a range (2025:2040) or a list (2025,2030)")
    if isinstance(years, Iterable):
        out = []
        for y in years:
            if isinstance(y, bool) or not isinstance(y, int | np.integer):
                raise ParameterError("years must be whole numbers", field="years", value=y)
            out.append(int(y))
        if not out:
            raise ParameterError("no years given", field="years", value=years)
        return sorted(set(out))
    raise ParameterError("cannot read years", field="years", value=years)



def project(
    population: pd.DataFrame,
    years,
    method: str = "national_trend",
    variant: str = "npp2020",
) -> pd.DataFrame:
    """Project a population table to future years.

    ``national_trend``: for each area, sex and band,
    ``P(area, s, b, y) = P(area, s, b, y0) x N(s, b, y) / N(s, b, y0)`` where ``y0`` is the
    base year of ``population`` and ``N`` is the ONS national projection for England
    (``variant``). This keeps each area's base age structure and applies national age-sex
    growth: it ignores local differences in migration and fertility. ``snpp``: ``population``
    already holds the projected years (e.g. from :func:`read_snpp`) and they are selected as-is.

    Args:
        population: canonical table; for ``national_trend`` it must hold one base year.
        years: a year, an iterable of years, or a range string ``"2025:2040"``.
        method: ``"national_trend"`` or ``"snpp"``.
        variant: ``"npp2020"`` (2020-based interim, principal) or ``"npp2018"``.

    Returns:
        Canonical table for the requested years; ``attrs['projection']`` describes the method
        (see :func:`projection_label`).
    """
    ys = parse_years(years)
    pop = population
    if method == "snpp" or (method == "national_trend" and pop["year"].nunique() > 1):
        have = set(pop["year"].unique())
        miss = [y for y in ys if y not in have]
        if miss:
            raise DataError("year not in the projected population", field="year", value=miss[0],
                            hint=f"The table covers {min(have)}-{max(have)}")
        out = pop[pop["year"].isin(ys)].reset_index(drop=True)
        out.attrs["projection"] = _Label("snpp", None, None).text()
        return out
    if method != "national_trend":
        raise ParameterError("unknown projection method", field="method", value=method,
                             hint="Use 'national_trend' or 'snpp'")
    g = growth_factors(variant)
    base_year = int(pop["year"].iloc[0])
    if ys == [base_year]:
        out = pop.reset_index(drop=True)
        out.attrs = dict(pop.attrs)
        return out
    top = int(g["year"].max())
    bad = [y for y in ys if y < base_year or y > top]
    if bad:
        raise ParameterError("year outside the projection", field="years", value=bad[0],
                             hint=f"Choose years from {base_year} to {top}")
    if base_year < int(g["year"].min()):
        raise ParameterError("base year before the national projection starts",
                             field="year", value=base_year, hint="Use a base year of 2020 or later")
    gi = g.set_index(["sex", "age_band", "year"])["population"]
    base_n = gi.xs(base_year, level="year")
    frame = g[g["year"].isin(ys)].copy()
    idx = pd.MultiIndex.from_frame(frame[["sex", "age_band"]])
    frame["ratio"] = frame["population"].to_numpy() / base_n.reindex(idx).to_numpy()
    merged = pop.drop(columns="year").merge(
        frame[["sex", "age_band", "year", "ratio"]], on=["sex", "age_band"], how="left"
    )
    merged["population"] = merged["population"] * merged["ratio"]
    out = merged[list(POPULATION_COLUMNS)].sort_values(["area_code", "sex", "age_band", "year"])
    out = out.reset_index(drop=True)
    out["sex"] = out["sex"].astype(SEX_DTYPE)
    out["age_band"] = out["age_band"].astype(AGE_BAND_DTYPE)
    out.attrs["projection"] = _Label("national_trend", variant, base_year).text()
    return out


def projection_label(population: pd.DataFrame) -> str:
    """Describe how a population table was produced (estimate, national trend or SNPP)."""
    return population.attrs.get("projection", _Label("estimate", None, None).text())


def summarise(population: pd.DataFrame, by: list[str] | tuple[str, ...] = ("area_code", "year")) -> pd.DataFrame:
    """Sum population over the columns not in ``by`` (e.g. totals by area and year)."""
    by = list(by)
    bad = [c for c in by if c not in population.columns]
    if bad:
        raise ParameterError("cannot group by a column the table lacks", field="by", value=bad[0])
    return population.groupby(by, observed=True, as_index=False)["population"].sum()

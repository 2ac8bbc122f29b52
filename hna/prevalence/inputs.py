"""Input tables (population, starting stock, incidence multipliers) checked and reshaped.

The arrays returned are those the simulation engine uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BANDS, SEXES, as_band, as_sex
from hna.errors import DataError, ParameterError
from hna.prevalence.parameters import (
    _FIRST_ADULT,
    _NB,
    _NM,
    MODALITIES,
)

# --------------------------------------------------------------------------------------------
# Input tables
# --------------------------------------------------------------------------------------------


def _require_columns(df: Any, columns: Sequence[str], source: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError("expected a pandas DataFrame", source=source, value=type(df).__name__)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}",
            source=source,
            field=missing[0],
            hint=f"Expected columns {list(columns)}",
        )


def _coerce_keys(df: pd.DataFrame, source: str) -> tuple[pd.Series, pd.Series]:
    sex = as_sex(df["sex"])
    if sex.isna().any():
        raise DataError(
            "unknown sex label", source=source, field="sex", value=df.loc[sex.isna(), "sex"].iloc[0]
        )
    band = as_band(df["age_band"])
    if band.isna().any():
        raise DataError(
            "unknown age band",
            source=source,
            field="age_band",
            value=df.loc[band.isna(), "age_band"].iloc[0],
            hint=f"Use the ESP2013 bands {AGE_BANDS}",
        )
    return sex, band


def _check_counts(values: pd.Series, source: str, field: str) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise DataError(
            "missing or non-numeric count", source=source, field=field, value=values[bad].iloc[0]
        )
    if (v < 0).any():
        raise DataError(
            "negative count", source=source, field=field, value=float(v[v < 0][0]),
            hint="Counts of people cannot be negative",
        )
    return v


def _population_array(
    population: pd.DataFrame,
    years: Sequence[int],
    *,
    source: str = "population_by_year",
    all_bands: bool = False,
) -> tuple[tuple[str, ...], np.ndarray]:
    """Population as ``(year, area, sex, 19 bands)``; adult bands (or all) must be complete."""
    _require_columns(population, ["area_code", "sex", "age_band", "year", "population"], source)
    sex, band = _coerce_keys(population, source)
    pop = _check_counts(population["population"], source, "population")
    year = pd.to_numeric(population["year"], errors="coerce")
    if year.isna().any():
        raise DataError("non-numeric year", source=source, field="year",
                        value=population.loc[year.isna(), "year"].iloc[0])
    year = year.astype(int).to_numpy()
    wanted = np.array(list(years), dtype=int)
    have = set(np.unique(year).tolist())
    missing = [int(y) for y in wanted if int(y) not in have]
    if missing:
        raise DataError(
            f"no population for year {missing[0]}",
            source=source,
            field="year",
            value=missing[0],
            hint=f"The table has years {sorted(have)}",
        )
    keep = np.isin(year, wanted)
    area_codes, area_idx = np.unique(population["area_code"].astype(str).to_numpy()[keep],
                                     return_inverse=True)
    y_idx = np.searchsorted(wanted, year[keep]) if np.all(np.diff(wanted) > 0) else np.array(
        [list(wanted).index(y) for y in year[keep]]
    )
    s_idx = sex.cat.codes.to_numpy()[keep]
    b_idx = band.cat.codes.to_numpy()[keep]
    arr = np.full((len(wanted), len(area_codes), 2, len(AGE_BANDS)), np.nan)
    flat = np.ravel_multi_index((y_idx, area_idx, s_idx, b_idx), arr.shape)
    if len(np.unique(flat)) != len(flat):
        raise DataError(
            "duplicate rows for the same area, year, sex and age band",
            source=source,
            field="area_code",
            hint="Aggregate the table first",
        )
    arr.flat[flat] = pop[keep]
    check = arr if all_bands else arr[..., _FIRST_ADULT:]
    if np.isnan(check).any():
        y, a, s, b = np.argwhere(np.isnan(check))[0]
        b = b if all_bands else b + _FIRST_ADULT
        raise DataError(
            f"no population for {area_codes[a]}, {SEXES[s]}, {AGE_BANDS[b]} in {wanted[y]}",
            source=source,
            field="age_band",
            value=AGE_BANDS[b],
            hint="Every area needs every sex and age band" + ("" if all_bands else " from 15-19 up"),
        )
    return tuple(str(a) for a in area_codes), np.nan_to_num(arr)


def _start_array(
    start: pd.DataFrame, areas: Sequence[str], source: str = "start_prevalent"
) -> np.ndarray:
    """Starting stock as ``(area, sex, adult band, modality)``."""
    _require_columns(start, ["area_code", "sex", "age_band", "modality", "patients"], source)
    sex, band = _coerce_keys(start, source)
    mod = start["modality"].astype(str).str.strip().str.lower()
    unknown = ~mod.isin(MODALITIES)
    if unknown.any():
        raise DataError(
            "unknown modality",
            source=source,
            field="modality",
            value=start.loc[unknown, "modality"].iloc[0],
            hint=f"Use one of {list(MODALITIES)}",
        )
    patients = _check_counts(start["patients"], source, "patients")
    codes = band.cat.codes.to_numpy()
    child = (codes < _FIRST_ADULT) & (patients > 0)
    if child.any():
        raise DataError(
            "patients in a child age band; the model covers adults (18+, in bands 15-19 and up)",
            source=source,
            field="age_band",
            value=str(band[child].iloc[0]),
        )
    area = start["area_code"].astype(str).to_numpy()
    lookup = {a: i for i, a in enumerate(areas)}
    stray = [a for a in np.unique(area) if a not in lookup]
    if stray:
        raise DataError(
            "area not in the population table",
            source=source,
            field="area_code",
            value=stray[0],
        )
    absent = [a for a in areas if a not in set(area)]
    if absent:
        raise DataError(
            "area in the population table has no starting stock",
            source=source,
            field="area_code",
            value=absent[0],
            hint="Give a starting stock (zeros allowed) for every area, e.g. from initial_prevalent()",
        )
    adult = codes >= _FIRST_ADULT
    arr = np.zeros((len(areas), 2, _NB, _NM))
    a_idx = np.array([lookup[a] for a in area[adult]], dtype=np.int64)
    m_idx = np.array([MODALITIES.index(m) for m in mod.to_numpy()[adult]], dtype=np.int64)
    np.add.at(
        arr, (a_idx, sex.cat.codes.to_numpy()[adult], codes[adult] - _FIRST_ADULT, m_idx),
        patients[adult],
    )
    return arr


def _multipliers(incidence_multiplier: float | Mapping[int, float], years: Sequence[int]) -> np.ndarray:
    if isinstance(incidence_multiplier, Mapping):
        missing = [y for y in years if y not in incidence_multiplier]
        if missing:
            raise ParameterError(
                f"incidence_multiplier has no value for {missing[0]}",
                field="incidence_multiplier",
                value=missing[0],
                hint="Give a value for every simulated year, or one number",
            )
        out = np.array([float(incidence_multiplier[y]) for y in years])
    else:
        out = np.full(len(years), float(incidence_multiplier))
    if not np.all(np.isfinite(out)) or (out < 0).any():
        raise ParameterError(
            "incidence_multiplier must be a non-negative number",
            field="incidence_multiplier",
            value=float(out[~np.isfinite(out) | (out < 0)][0]),
        )
    return out


"""Validation of population tables, and the check that a footprint's districts are present.

:func:`validate_population` turns any population table into the canonical one (see
:mod:`hna.population`) or raises one :class:`hna.errors.DataError` naming the file, column and
value; :func:`check_coverage` refuses a table that lacks some of a footprint's districts.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, AGE_BANDS, SEX_DTYPE, as_sex, band_of_age
from hna.errors import DataError

__all__ = ["MAX_COUNT", "POPULATION_COLUMNS", "check_coverage", "validate_population"]

#: Largest count of people a population row may hold (one area x sex x age x year).
MAX_COUNT = 1e9

POPULATION_COLUMNS: tuple[str, ...] = ("area_code", "sex", "age_band", "year", "population")

_GSS = re.compile(r"^[EKNSWJ]\d{8}$")
_BAND_RE = re.compile(r"^(\d+)\s*(?:-\s*(\d+)|\+|\s*and\s*over)$", re.IGNORECASE)


def _parse_band(label: str) -> tuple[int, float] | None:
    """'5-9' -> (5, 9); '90+' / '90 and over' -> (90, inf); '37' -> (37, 37); else None."""
    s = str(label).strip().replace("\u2013", "-")
    if s.isdigit():
        return int(s), int(s)
    m = _BAND_RE.match(s)
    if not m:
        return None
    lo = int(m.group(1))
    hi = float(m.group(2)) if m.group(2) is not None else np.inf
    return lo, hi


def _bands_from_labels(labels: pd.Series, source: str, field: str) -> pd.Series:
    """Map age labels (ESP2013 bands or single years) to ESP2013 bands, or explain why not."""
    uniq = pd.unique(labels.astype(str))
    if set(uniq) <= set(AGE_BANDS):
        return labels.astype(str).astype(AGE_BAND_DTYPE)
    parsed = {u: _parse_band(u) for u in uniq}
    bad = [u for u, p in parsed.items() if p is None]
    if bad:
        raise DataError(
            "unrecognised age label",
            source=source, field=field, value=bad[0],
            hint="Use ESP2013 bands ('0-4' ... '85-89', '90+') or single years of age ('0' ... '89', '90+')",
        )
    spans = sorted(parsed.values())
    for (lo1, hi1), (lo2, hi2) in zip(spans, spans[1:], strict=False):
        if lo2 <= hi1:
            raise DataError(
                "overlapping age bands",
                source=source, field=field, value=f"{lo1}-{hi1} and {lo2}-{hi2}",
                hint="Each person must fall in exactly one band",
            )
    single = all(hi == lo for lo, hi in spans[:-1]) and (
        spans[-1][1] == spans[-1][0] or (spans[-1][1] == np.inf and spans[-1][0] >= 90)
    )
    if single:
        lower = np.array([parsed[str(v)][0] for v in labels.astype(str)])
        return pd.Series(band_of_age(lower), index=labels.index).astype(AGE_BAND_DTYPE)
    coarse = [u for u, (lo, hi) in parsed.items() if u not in AGE_BANDS]
    raise DataError(
        "age bands do not match the 19 ESP2013 bands",
        source=source, field=field, value=coarse[0],
        hint=("Coarser bands (e.g. '85+') are never split silently: supply '85-89' and '90+' "
              "separately, or single years of age"),
    )


def validate_population(
    data: pd.DataFrame,
    source: str = "population table",
    value: str = "population",
    require_all_bands: bool = True,
) -> pd.DataFrame:
    """Check a population table and return it in canonical form.

    Ages given as single years are summed into ESP2013 bands; sex labels such as ``Male``,
    ``F`` or ``2`` are mapped to ``female``/``male``.

    Args:
        data: table with columns ``area_code, sex, age_band`` (or ``age``), ``year`` and
            ``population`` (or the column named by ``value``).
        source: file or table name used in error messages.
        value: name of the count column.
        require_all_bands: every area x sex x year must have all 19 bands.

    Returns:
        Canonical table sorted by area, sex, band and year, counts as float.

    Raises:
        DataError: missing columns, unknown sex labels, non-numeric, negative or missing
            counts, duplicate rows, overlapping or missing bands, malformed area codes.
    """
    if len(data) == 0:
        raise DataError("the population table has no rows", source=source,
                        hint="The file has a header but no data: give one row per area, sex, "
                        "age band and year")
    df = data.copy()
    if "age_band" not in df.columns and "age" in df.columns:
        df = df.rename(columns={"age": "age_band"})
    cols = ["area_code", "sex", "age_band", "year", value]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(
            "missing column", source=source, field=missing[0],
            hint=f"A population table needs the columns {', '.join(cols)}",
        )
    df = _keys(df[cols].copy(), source)
    df[value] = _counts(df[value], df, source, value)
    df["age_band"] = _bands_from_labels(df["age_band"], source, "age_band")
    keys = ["area_code", "sex", "age_band", "year"]
    _no_duplicates(data, keys, source)
    df = df.groupby(keys, observed=True, as_index=False)[value].sum()
    if require_all_bands:
        _all_bands(df, source)
    df["sex"] = df["sex"].astype(SEX_DTYPE)
    df["age_band"] = df["age_band"].astype(AGE_BAND_DTYPE)
    return df.sort_values(["area_code", "sex", "age_band", "year"]).reset_index(drop=True)


def _keys(df: pd.DataFrame, source: str) -> pd.DataFrame:
    """Area codes, sexes and years checked and canonicalised."""
    df["area_code"] = df["area_code"].astype(str).str.strip()
    bad_code = ~df["area_code"].str.match(_GSS)
    if bad_code.any():
        raise DataError(
            "not a GSS area code", source=source, field="area_code",
            value=df.loc[bad_code, "area_code"].iloc[0],
            hint="Area codes look like E06000001 (9 characters)",
        )
    sex = as_sex(df["sex"])
    if sex.isna().any():
        raise DataError(
            "unknown sex label", source=source, field="sex",
            value=df.loc[sex.isna(), "sex"].iloc[0], hint="Use 'female' or 'male'",
        )
    df["sex"] = sex
    year = pd.to_numeric(df["year"], errors="coerce")
    if year.isna().any() or (year != np.round(year)).any():
        raise DataError(
            "year must be a whole number", source=source, field="year",
            value=df.loc[year.isna() | (year != np.round(year)), "year"].iloc[0],
        )
    df["year"] = year.astype(int)
    return df


def _counts(raw: pd.Series, df: pd.DataFrame, source: str, value: str) -> pd.Series:
    """Counts as floats: numeric, present, >= 0, finite and at most :data:`MAX_COUNT`."""
    counts = pd.to_numeric(raw, errors="coerce")
    nonnum = counts.isna() & raw.notna()
    if nonnum.any():
        raise DataError(
            "non-numeric count", source=source, field=value,
            value=raw[nonnum].iloc[0], hint="Counts must be numbers",
        )
    if counts.isna().any():
        raise DataError(
            "missing count", source=source, field=value,
            value=df.loc[counts.isna(), ["area_code", "sex", "age_band"]].iloc[0].tolist(),
            hint="Give 0 for empty cells rather than leaving them blank",
        )
    if (counts < 0).any():
        raise DataError(
            "negative count", source=source, field=value,
            value=float(counts[counts < 0].iloc[0]), hint="Counts cannot be negative",
        )
    huge = ~np.isfinite(counts) | (counts > MAX_COUNT)
    if huge.any():
        raise DataError(
            "implausible count", source=source, field=value,
            value=float(counts[huge].iloc[0]),
            hint=f"A count of people in one area, sex, age and year must be finite and at most "
            f"{MAX_COUNT:,.0f}",
        )
    return counts.astype(float)


def _no_duplicates(data: pd.DataFrame, keys: list[str], source: str) -> None:
    """Refuse exact repeats of an original row's keys.

    Single years summed into bands are legitimate repeats of a band; exact repeats of the
    original label are duplicates.
    """
    orig = data.rename(columns={"age": "age_band"}) if "age_band" not in data.columns else data
    dup = orig.duplicated(subset=[c for c in keys if c in orig.columns], keep=False)
    if dup.any():
        first = orig.loc[dup, [c for c in keys if c in orig.columns]].iloc[0].tolist()
        raise DataError(
            "duplicate rows", source=source, field=",".join(keys), value=first,
            hint="Each area x sex x age x year must appear once",
        )


def _all_bands(df: pd.DataFrame, source: str) -> None:
    """Every area x sex x year has all 19 bands."""
    n = df.groupby(["area_code", "sex", "year"], observed=True)["age_band"].nunique()
    short = n[n < len(AGE_BANDS)]
    if len(short):
        area, sx, yr = short.index[0]
        have = set(df.loc[(df.area_code == area) & (df.sex == sx) & (df.year == yr), "age_band"])
        gone = [b for b in AGE_BANDS if b not in have]
        raise DataError(
            "missing age bands", source=source, field="age_band",
            value=f"{area} {sx} {yr}: {', '.join(gone)}",
            hint="Every area, sex and year needs all 19 bands (0-4 ... 90+)",
        )


def check_coverage(table: pd.DataFrame, members: pd.DataFrame, *, footprint: str,
                   source: str | None = None, allow_missing: bool = False) -> list[str]:
    """Check that every member district of a footprint is in a population (or demand) table.

    A district missing from a user's population file would otherwise shrink every footprint
    total that includes it, silently.

    Args:
        table: a table with ``area_code`` (LAD codes).
        members: the footprint's ``lad_code`` (and ``share``) rows.
        footprint: the footprint's name and code, for the message.
        source: the table's file name, for the message.
        allow_missing: warn (``UserWarning``, listing the codes and the share of members
            missing) instead of raising.

    Returns:
        The missing district codes (empty when all are present).

    Raises:
        DataError: some member districts are missing and ``allow_missing`` is False.
    """
    have = set(table["area_code"].astype(str))
    wanted = list(dict.fromkeys(members["lad_code"].astype(str)))
    gone = [c for c in wanted if c not in have]
    if not gone:
        return []
    shown = ", ".join(gone[:10]) + (f" ... ({len(gone)} in all)" if len(gone) > 10 else "")
    src = source or table.attrs.get("source") or "population table"
    if len(gone) == len(wanted):
        msg = f"no district of footprint {footprint} is in the table"
    else:
        msg = (f"{len(gone)} of the {len(wanted)} districts of footprint {footprint} are not "
               "in the table")
    if allow_missing:
        warnings.warn(f"WARNING: {src}: {msg} ({shown}); the footprint's totals leave them "
                      "out and are too small", UserWarning, stacklevel=3)
        return gone
    raise DataError(msg, source=str(src), field="area_code", value=shown,
                    hint="Add rows for these districts (2021 LAD codes), use a footprint the "
                    "file covers, or pass --allow-missing-districts (allow_missing=True in "
                    "Python) to proceed with a warning")



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
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, AGE_BANDS, SEX_DTYPE, as_sex, band_of_age
from hna.errors import DataError, ParameterError

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

#: Largest count of people a population row may hold (one area x sex x age x year).
MAX_COUNT = 1e9

POPULATION_COLUMNS: tuple[str, ...] = ("area_code", "sex", "age_band", "year", "population")

#: National projection variants bundled in hna/data/npp_growth_england.csv.
PROJECTION_VARIANTS: dict[str, str] = {
    "npp2020": "ONS 2020-based interim national population projections, England, principal",
    "npp2018": "ONS 2018-based national population projections, England, principal",
}

_GSS = re.compile(r"^[EKNSWJ]\d{8}$")
_BAND_RE = re.compile(r"^(\d+)\s*(?:-\s*(\d+)|\+|\s*and\s*over)$", re.IGNORECASE)


# --------------------------------------------------------------------------- validation
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
    df = df[cols].copy()
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
    counts = pd.to_numeric(df[value], errors="coerce")
    nonnum = counts.isna() & df[value].notna()
    if nonnum.any():
        raise DataError(
            "non-numeric count", source=source, field=value,
            value=df.loc[nonnum, value].iloc[0], hint="Counts must be numbers",
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
    df[value] = counts.astype(float)
    df["age_band"] = _bands_from_labels(df["age_band"], source, "age_band")
    keys = ["area_code", "sex", "age_band", "year"]
    # Single years summed into bands are legitimate repeats of a band; exact repeats of the
    # original label are duplicates.
    orig = data.rename(columns={"age": "age_band"}) if "age_band" not in data.columns else data
    dup = orig.duplicated(subset=[c for c in keys if c in orig.columns], keep=False)
    if dup.any():
        first = orig.loc[dup, [c for c in keys if c in orig.columns]].iloc[0].tolist()
        raise DataError(
            "duplicate rows", source=source, field=",".join(keys), value=first,
            hint="Each area x sex x age x year must appear once",
        )
    df = df.groupby(keys, observed=True, as_index=False)[value].sum()
    if require_all_bands:
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
    df["sex"] = df["sex"].astype(SEX_DTYPE)
    df["age_band"] = df["age_band"].astype(AGE_BAND_DTYPE)
    return df.sort_values(["area_code", "sex", "age_band", "year"]).reset_index(drop=True)


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
                    "file covers, or allow missing districts explicitly to proceed with a "
                    "warning")


# --------------------------------------------------------------------------- readers
def _find_header_row(frame: pd.DataFrame, first: str = "code") -> int:
    for i in range(min(len(frame), 30)):
        if str(frame.iat[i, 0]).strip().lower() == first:
            return i
    raise DataError(
        "no header row starting with 'Code' in the first 30 rows",
        hint="Expected the ONS MYE2 layout: Code, Name, Geography, All ages, 0 ... 90+",
    )


def _mye_from_frame(raw: pd.DataFrame, sex: str, year: int, source: str) -> pd.DataFrame:
    raw = raw.rename(columns=lambda c: str(c).strip())
    raw.columns = [re.sub(r"\.0$", "", c) for c in raw.columns]
    code_col = next((c for c in raw.columns if c.lower() in {"code", "area_code", "area code"}), None)
    if code_col is None:
        raise DataError("missing column", source=source, field="Code",
                        hint="The MYE2 layout has Code, Name, Geography, All ages, 0 ... 90+")
    ages = [c for c in raw.columns if c.isdigit() or c in {"90+", "90 and over"}]
    if not ages:
        raise DataError("no single-year age columns found", source=source, field="0..90",
                        hint="Expected columns named 0, 1, ..., 89, 90+")
    long = raw[[code_col, *ages]].melt(id_vars=code_col, var_name="age", value_name="population")
    long = long.rename(columns={code_col: "area_code"}).dropna(subset=["area_code"])
    long["age"] = long["age"].replace({"90 and over": "90+", "90": "90+"})
    long["sex"] = sex
    long["year"] = year
    return long


def _require_file(path: Path) -> str:
    """The file's name for messages; a DataError if it does not exist."""
    if not path.exists():
        raise DataError("file not found", source=str(path), hint="Check the path")
    return str(path)


def read_mye_wide(
    path: str | Path,
    year: int | None = None,
    sex: str | None = None,
    areas: str | None = r"^E0[6789]",
) -> pd.DataFrame:
    """Read ONS mid-year estimates in the wide MYE2 layout.

    Accepts the original workbook (sheets ``MYE2 - Males`` and ``MYE2 - Females``, header row
    found automatically) or a CSV with one row per area and single-year age columns ``0`` ...
    ``89`` and ``90+`` (or ``90``, meaning 90 and over); a CSV holds one sex (``sex=``) or has
    a ``sex`` column.

    Args:
        path: workbook (.xls/.xlsx) or CSV.
        year: mid-year of the estimates; read from the sheet title ("mid-2020") if omitted.
        sex: the sex of a single-sex CSV.
        areas: regular expression selecting area codes (default: English LADs); None keeps all.

    Returns:
        Canonical population table (ESP2013 bands).
    """
    path = Path(path)
    source = _require_file(path)
    frames = []
    if path.suffix.lower() in {".xls", ".xlsx"}:
        try:
            book = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
        except Exception as exc:  # noqa: BLE001 - any parser failure is a format problem
            raise DataError(f"cannot read workbook ({exc})", source=source) from exc
        sheets = {k: v for k, v in book.items() if re.match(r"MYE2\s*-\s*(Males|Females)", k)}
        if not sheets:
            raise DataError("no 'MYE2 - Males' / 'MYE2 - Females' sheets", source=source,
                            value=list(book), hint="Use the ONS MYE2 workbook")
        for name, sheet in sheets.items():
            if year is None:
                m = re.search(r"mid-(\d{4})", str(sheet.iat[0, 0]))
                if not m:
                    raise ParameterError("year not found in the sheet title; pass year=",
                                         source=source, field="year")
                year = int(m.group(1))
            h = _find_header_row(sheet)
            body = sheet.iloc[h + 1:].copy()
            body.columns = [str(c) for c in sheet.iloc[h]]
            sx = "male" if "Males" in name else "female"
            frames.append(_mye_from_frame(body, sx, year, f"{source} [{name}]"))
    else:
        try:
            raw = pd.read_csv(path, dtype=str)
        except Exception as exc:  # noqa: BLE001
            raise DataError(f"cannot read CSV ({exc})", source=source) from exc
        if year is None:
            raise ParameterError("pass year= for a CSV in the MYE2 layout", source=source,
                                 field="year")
        if "sex" in {c.lower() for c in raw.columns}:
            sc = next(c for c in raw.columns if c.lower() == "sex")
            for sx, part in raw.groupby(sc):
                frames.append(_mye_from_frame(part.drop(columns=sc), sx, year, source))
        elif sex is not None:
            frames.append(_mye_from_frame(raw, sex, year, source))
        else:
            raise ParameterError("a single-sex MYE2 CSV needs sex='female' or 'male'",
                                 source=source, field="sex")
    long = pd.concat(frames, ignore_index=True)
    if areas:
        long = long[long["area_code"].astype(str).str.match(areas)]
        if long.empty:
            raise DataError("no areas match the selection", source=source, field="Code",
                            value=areas)
    return validate_population(long, source=source)


def read_snpp(path: str | Path, areas: str | None = None) -> pd.DataFrame:
    """Read an ONS subnational population projections CSV (long layout).

    Columns ``AREA_CODE, AREA_NAME, COMPONENT, SEX, AGE_GROUP`` and one column per year
    (e.g. ``2018`` ... ``2043``); only ``COMPONENT == 'Population'`` rows and the two sexes are
    kept (``persons`` and ``All ages`` rows are totals and dropped). ``90 and over`` is 90+.
    """
    path = Path(path)
    source = _require_file(path)
    raw = pd.read_csv(path, dtype=str)
    raw.columns = [c.strip().upper() for c in raw.columns]
    need = ["AREA_CODE", "COMPONENT", "SEX", "AGE_GROUP"]
    miss = [c for c in need if c not in raw.columns]
    if miss:
        raise DataError("missing column", source=source, field=miss[0],
                        hint="The SNPP layout is AREA_CODE, AREA_NAME, COMPONENT, SEX, AGE_GROUP, years")
    years = [c for c in raw.columns if re.fullmatch(r"\d{4}", c)]
    if not years:
        raise DataError("no year columns", source=source, field="2018..",
                        hint="Expected one column per projection year")
    raw = raw[raw["COMPONENT"].str.strip().str.lower() == "population"]
    raw = raw[~raw["SEX"].str.strip().str.lower().isin({"persons", "all", "3"})]
    raw = raw[raw["AGE_GROUP"].str.strip().str.lower() != "all ages"]
    if areas:
        raw = raw[raw["AREA_CODE"].str.match(areas)]
    long = raw.melt(id_vars=["AREA_CODE", "SEX", "AGE_GROUP"], value_vars=years,
                    var_name="year", value_name="population")
    long = long.rename(columns={"AREA_CODE": "area_code", "SEX": "sex", "AGE_GROUP": "age"})
    long["age"] = long["age"].str.strip().replace({"90 and over": "90+"})
    out = validate_population(long, source=source)
    out.attrs["projection"] = f"ONS subnational population projection read from {path.name}"
    return out


def read_tidy(path: str | Path) -> pd.DataFrame:
    """Read the canonical tidy table from CSV or parquet (ages as bands or single years)."""
    path = Path(path)
    source = _require_file(path)
    try:
        if path.suffix.lower() in {".parquet", ".pq"}:
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, dtype={"area_code": str, "age_band": str, "age": str, "sex": str})
    except Exception as exc:  # noqa: BLE001
        raise DataError(f"cannot read file ({exc})", source=source,
                        hint="Use CSV or parquet with the canonical columns") from exc
    return validate_population(df, source=source)


def load_population(path: str | Path, **kwargs) -> pd.DataFrame:
    """Read a population file, choosing the reader from its layout.

    Workbooks (.xls/.xlsx) are read as MYE2; CSVs with ``AREA_CODE`` and ``AGE_GROUP`` as SNPP;
    CSVs with single-year age columns as MYE2 (pass ``year=``); otherwise the tidy table.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".xls", ".xlsx"}:
        return read_mye_wide(path, **kwargs)
    if suffix in {".parquet", ".pq"}:
        return read_tidy(path)
    if suffix not in {".csv", ".txt"}:
        raise DataError("unsupported file format", source=str(path), value=suffix,
                        hint="Use CSV, parquet, or an ONS MYE2 workbook (.xls/.xlsx)")
    source = _require_file(path)
    try:
        header = pd.read_csv(path, nrows=0).columns
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", source=source,
                        hint="A population CSV needs a header row and data rows") from None
    except (pd.errors.ParserError, UnicodeDecodeError, OSError) as exc:
        raise DataError(f"cannot read CSV ({exc})", source=source) from None
    upper = {c.strip().upper() for c in header}
    if {"AREA_CODE", "AGE_GROUP"} <= upper:
        return read_snpp(path, **kwargs)
    if "0" in {c.strip() for c in header} and ("90+" in header or "90" in header):
        return read_mye_wide(path, **kwargs)
    return read_tidy(path)


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

"""Readers for the population layouts analysts download from ONS (see :mod:`hna.population`).

Each reader returns the canonical table, checked by
:func:`hna.population.validate.validate_population`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from hna.errors import DataError, ParameterError
from hna.population.validate import validate_population

__all__ = ["load_population", "read_mye_wide", "read_snpp", "read_tidy"]


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



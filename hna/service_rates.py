"""A service's rates as the canonical table: band spans, pooled counts, files, scope weights.

:func:`build_rates` expands a loaded service's ``rates`` (a table, counts, or a CSV file) to
one row per sex x ESP2013 band in the service's scope, with the rate per person-year (and the
cases and person-years behind it when the rates carry uncertainty). :mod:`hna.services` calls
it on load, so band, sex and plausibility problems surface when a file is read or validated.
This module imports nothing of the catalogue (it takes a loaded service).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BANDS, BAND_LOWER, SEXES
from hna.errors import DataError, ParameterError
from hna.parameters import display_path as _display

__all__ = ["MAX_RATE_PER_PERSON_YEAR", "build_rates", "expand_bands", "in_scope_weights"]

#: Largest plausible rate, per person-year: incidence counts events (repeat events allowed),
#: prevalence counts people (a share of the population, at most 1).
MAX_RATE_PER_PERSON_YEAR = {"incidence": 10.0, "prevalence": 1.0}


_SPAN = re.compile(r"^(\d+)\s*(?:-\s*(\d+)|\+)$")


def expand_bands(label: str) -> list[str]:
    """ESP2013 bands covered by a band label: a band, a span on band edges, or ``all``.

    ``'15-44'`` -> ``15-19 ... 40-44``; ``'85+'`` -> ``85-89, 90+``; ``'all'`` -> all 19.

    Raises:
        ValueError: the label is not a band, or its ends are not band edges.
    """
    s = str(label).strip().replace("\u2013", "-").replace(" ", "")
    if s.lower() in {"all", "allages", "0+"}:
        return list(AGE_BANDS)
    if s in AGE_BANDS:
        return [s]
    m = _SPAN.match(s)
    if not m:
        raise ValueError(f"'{label}' is not an age band")
    lo = int(m.group(1))
    hi = None if m.group(2) is None else int(m.group(2))
    if lo not in BAND_LOWER or (hi is not None and (hi + 1 not in BAND_LOWER or hi < lo)):
        raise ValueError(f"'{label}' does not start and end on ESP2013 band edges "
                         "(0, 5, 10 ... 90)")
    return [b for b, low in zip(AGE_BANDS, BAND_LOWER, strict=True)
            if low >= lo and (hi is None or low <= hi)]


def _sexes(label: str) -> list[str]:
    return list(SEXES) if label == "persons" else [label]


@lru_cache(maxsize=1)
def _england_cells() -> pd.Series:
    """England mid-2020 population by (sex, age_band): weights for splitting pooled counts."""
    from hna.population import default_population

    pop = default_population()
    return pop.groupby(["sex", "age_band"], observed=True)["population"].sum()


def _expand(rows: list[dict], source: str, field: str, value_cols: list[str]) -> pd.DataFrame:
    """Expand rows with spans and 'persons' to one row per sex x band, checking coverage."""
    out = []
    for i, row in enumerate(rows):
        try:
            bands = expand_bands(row["age_band"])
        except ValueError as exc:
            raise ParameterError(str(exc), source=source, field=f"{field}[{i}].age_band",
                                 value=row["age_band"],
                                 hint="Use '0-4' ... '85-89', '90+', a span such as "
                                 "'15-44' or '85+', or 'all'") from None
        cells = [(sx, b) for sx in _sexes(row["sex"]) for b in bands]
        out.append(pd.DataFrame({"sex": [c[0] for c in cells], "age_band": [c[1] for c in cells],
                                 "row": i, **{c: row[c] for c in value_cols}}))
    df = pd.concat(out, ignore_index=True)
    dup = df.duplicated(["sex", "age_band"], keep=False)
    if dup.any():
        first = df.loc[dup].iloc[0]
        rows_hit = sorted(df.loc[dup & (df.sex == first.sex) & (df.age_band == first.age_band),
                                 "row"])
        raise ParameterError("rows overlap: a band and sex is given twice", source=source,
                             field=f"{field}[{rows_hit[-1]}]",
                             value=f"{first.sex} {first.age_band}",
                             hint="Each sex and band may appear in one row only")
    return df


def _read_rates_file(svc: Any, source: str) -> tuple[list[dict], str]:
    path = svc.resolve(svc.rates.file)
    fsrc = _display(path)
    try:
        df = pd.read_csv(path, dtype={"age_band": str, "sex": str}, comment="#")
    except Exception as exc:  # noqa: BLE001 - any parser failure is a format problem
        raise DataError(f"cannot read CSV ({exc})", source=fsrc) from None
    if {"cases", "person_years"} <= set(df.columns):
        kind, cols = "counts", ["cases", "person_years"]
    elif "rate" in df.columns:
        kind, cols = "table", ["rate"]
    else:
        raise DataError("missing column", source=fsrc, field="rate",
                        hint="A rates file has age_band, sex and rate (per `rates.per` "
                        "person-years), or age_band, sex, cases and person_years")
    for c in ["age_band", "sex", *cols]:
        if c not in df.columns:
            raise DataError("missing column", source=fsrc, field=c)
    rows = []
    for i, rec in enumerate(df.to_dict("records")):
        sex = str(rec["sex"]).strip().lower()
        sex = {"f": "female", "m": "male", "females": "female", "males": "male",
               "all": "persons"}.get(sex, sex)
        if sex not in ("female", "male", "persons"):
            raise DataError("unknown sex label", source=fsrc, field=f"sex (row {i + 1})",
                            value=rec["sex"], hint="Use female, male or persons")
        for c in cols:
            v = pd.to_numeric(pd.Series([rec[c]]), errors="coerce").iloc[0]
            if pd.isna(v) or not np.isfinite(v) or v < 0 or (c == "person_years" and v <= 0):
                raise DataError("must be a finite non-negative number" if c != "person_years"
                                else "must be a finite positive number", source=fsrc,
                                field=f"{c} (row {i + 1})", value=rec[c])
            rec[c] = float(v)
        rows.append({"age_band": str(rec["age_band"]), "sex": sex, **{c: rec[c] for c in cols}})
    return rows, kind


def build_rates(svc: Any) -> pd.DataFrame:
    """The rate table of a loaded service (see :func:`hna.services.service_rates`)."""
    source = svc._display()
    r = svc.rates
    if r.table is not None:
        rows, kind, field = [x.model_dump() for x in r.table], "table", "rates.table"
    elif r.counts is not None:
        rows, kind, field = [x.model_dump() for x in r.counts], "counts", "rates.counts"
    else:
        rows, kind = _read_rates_file(svc, source)
        field = "rates.file"
    cols = ["rate"] if kind == "table" else ["cases", "person_years"]
    df = _expand(rows, source, field, cols)
    eng = _england_cells()
    df["england"] = [float(eng.get((s, b), 0.0)) for s, b in zip(df["sex"], df["age_band"],
                                                                   strict=True)]
    if kind == "counts":
        df["rate"] = df["cases"] / df["person_years"]
        share = df["england"] / df.groupby("row")["england"].transform("sum")
        df["cases"] = df["cases"] * share
        df["person_years"] = df["person_years"] * share
    else:
        df["rate"] = df["rate"] / r.per
    _check_rate_range(df, svc, source, field)
    w = in_scope_weights(svc)
    df["weight"] = [w.get((s, b), 0.0) for s, b in zip(df["sex"], df["age_band"], strict=True)]
    need = [k for k, v in w.items() if v > 0]
    have = set(zip(df["sex"], df["age_band"], strict=True))
    gone = [k for k in need if k not in have]
    if gone:
        shown = ", ".join(f"{s} {b}" for s, b in gone[:4]) + (" ..." if len(gone) > 4 else "")
        raise ParameterError(f"no rate for {len(gone)} band(s) in the service's scope",
                             source=source, field=field, value=shown,
                             hint="Give a rate for every band and sex in scope, or narrow "
                             "'scope'")
    df = df[df["weight"] > 0].copy()
    if kind == "table" and r.equivalent_cases is not None:
        expected = df["rate"] * df["england"]
        total = expected.sum()
        if total <= 0:
            raise ParameterError("equivalent_cases needs some positive rates", source=source,
                                 field="rates.equivalent_cases")
        df["cases"] = r.equivalent_cases * expected / total
        df["person_years"] = np.where(df["rate"] > 0, df["cases"] / df["rate"].where(
            df["rate"] > 0, 1.0), df["england"].clip(lower=1.0))
    out_cols = ["age_band", "sex", "rate"] + (["cases", "person_years"]
                                              if "cases" in df.columns else [])
    out = df[out_cols].copy()
    from hna.bands import AGE_BAND_DTYPE, SEX_DTYPE

    out["age_band"] = out["age_band"].astype(AGE_BAND_DTYPE)
    out["sex"] = out["sex"].astype(SEX_DTYPE)
    return out.sort_values(["sex", "age_band"]).reset_index(drop=True)


def _check_rate_range(df: pd.DataFrame, svc: Any, source: str, field: str) -> None:
    """Every rate finite and at most :data:`MAX_RATE_PER_PERSON_YEAR` for the service's kind."""
    top = MAX_RATE_PER_PERSON_YEAR[svc.kind]
    bad = ~np.isfinite(df["rate"]) | (df["rate"] > top)
    if bad.any():
        row = df[bad].iloc[0]
        raise ParameterError(
            f"implausible rate for {row['sex']} {row['age_band']}: "
            f"{row['rate'] * 1e5:.4g} per 100,000 person-years", source=source, field=field,
            value=float(row["rate"]),
            hint=f"Rates of a {svc.kind} service must be finite and at most {top:g} per person-year "
            f"({top * 1e5:,.0f} per 100,000); check `per`, the rates and the person-years")


def in_scope_weights(svc: Any) -> dict[tuple[str, str], float]:
    """Share of each (sex, band)'s population inside the service's scope, in [0, 1].

    A band shares ``overlap / 5`` of its people with the age range ``[age_min, age_max + 1)``
    (ages spread evenly within a band; ``90+`` taken as ages 90-99). Sexes outside the scope
    get 0.
    """
    lo = svc.scope.age_min
    hi = np.inf if svc.scope.age_max is None else svc.scope.age_max + 1
    out = {}
    for sex in SEXES:
        for band, low in zip(AGE_BANDS, BAND_LOWER, strict=True):
            top = low + (10 if band == "90+" else 5)
            overlap = max(0.0, min(hi, top) - max(lo, low))
            w = overlap / (top - low) if sex in svc.scope.sexes else 0.0
            out[(sex, band)] = float(min(1.0, w))
    return out

"""Data-quality checks of the F001 Appendix 4 survey table (bundled as data).

F001 (Carter review 2006) Appendix 4, "Survey of collective commissioning arrangements by local
specialised commissioning groups (March 2006)": per service, the number of the 26 LSCGs
collectively procuring it, split into "yes and risk share" and "yes, but no risk share". The
table as printed is ``hna/data/carter_2006_app4_survey.csv`` (``scripts/build_seed_tables.py``).
Row 34 reads 2 / 4 / 2 (parts larger than the total); row 16 (immunology) says 0 LSCGs while
its sub-row 16a (primary immunodeficiency) says 6: a parent total below its sub-row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib import resources

import pandas as pd

from hna.errors import DataError

__all__ = ["survey_table", "check_survey_consistency"]


def survey_table() -> pd.DataFrame:
    """The F001 Appendix 4 survey table as printed (blank = not printed).

    Columns ``row, service, total, yes_risk_share, yes_no_risk_share``. Provenance:
    ``hna/data/PROVENANCE_catalogues.md``.
    """
    with resources.files("hna").joinpath("data", "carter_2006_app4_survey.csv").open(
            "r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"row": str})


def _parent(row: str) -> str | None:
    m = re.match(r"^(\d+)[a-z]$", str(row))
    return m.group(1) if m else None


def check_survey_consistency(
    table: pd.DataFrame | None = None,
    *,
    total: str = "total",
    parts: Sequence[str] = ("yes_risk_share", "yes_no_risk_share"),
    n_respondents: int | None = 26,
    key: str = "row",
) -> pd.DataFrame:
    """Flag rows of a count table whose parts and total cannot all be right.

    Written for F001 Appendix 4 ("Survey of collective commissioning arrangements by local
    specialised commissioning groups", March 2006): for each service, the number of LSCGs
    collectively procuring it (``total``) splits into "yes and risk share" and "yes, but no risk
    share" (``parts``), out of 26 LSCGs. Checks, per row:

    - ``missing``: some of the numbers are blank (header rows with all numbers blank are skipped);
    - ``part_exceeds_total``: a part is larger than the total;
    - ``sum_mismatch``: the parts do not add up to the total;
    - ``exceeds_respondents``: a count is larger than ``n_respondents``;
    - ``parent_below_subrow``: a parent row (``16``) has a total smaller than one of its
      sub-rows (``16a``): LSCGs procuring part of a service also procure the service. A parent
      whose numbers are all blank (a heading, such as row 8) is not checked.

    Row 34 (specialised orthopaedic services) reads 2 / 4 / 2 and fails the second and third;
    row 16 (0 / 0 / 0) is below its sub-row 16a (6 / 6 / 0).

    Args:
        table: the count table (default :func:`survey_table`, the seed's).
        total: column of the total.
        parts: columns that should add up to the total.
        n_respondents: number of respondents (26 LSCGs), or ``None``.
        key: row label column (sub-rows are the parent's label plus a letter).

    Returns:
        DataFrame of the flagged rows: ``key``, the numbers, ``issues`` (list of issue codes)
        and ``detail``. Empty when every row is consistent.
    """
    if table is None:
        table = survey_table()
    if not isinstance(table, pd.DataFrame):
        raise DataError("expected a DataFrame", source="survey table", value=type(table).__name__)
    cols = [total, *parts]
    for c in [key, *cols]:
        if c not in table.columns:
            raise DataError("missing column", source="survey table", field=c)
    nums = table[cols].apply(pd.to_numeric, errors="coerce")
    flagged = []
    for idx in table.index:
        vals = nums.loc[idx]
        if vals.isna().all():
            continue
        issues, detail = [], []
        if vals.isna().any():
            issues.append("missing")
            detail.append("blank " + ", ".join(c for c in cols if pd.isna(vals[c])))
        t = vals[total]
        ps = vals[list(parts)]
        if not pd.isna(t):
            over = [p for p in parts if not pd.isna(ps[p]) and ps[p] > t]
            if over:
                issues.append("part_exceeds_total")
                detail.append(", ".join(f"{p} {ps[p]:g} > {total} {t:g}" for p in over))
            if not ps.isna().any() and ps.sum() != t:
                issues.append("sum_mismatch")
                detail.append(f"{' + '.join(f'{ps[p]:g}' for p in parts)} = {ps.sum():g} != {t:g}")
        if n_respondents is not None and (vals.dropna() > n_respondents).any():
            issues.append("exceeds_respondents")
            detail.append(f"count above {n_respondents}")
        subs = [i for i in table.index if _parent(table.at[i, key]) == str(table.at[idx, key])]
        if subs and not pd.isna(vals[total]):
            above = [i for i in subs if not pd.isna(nums.at[i, total]) and
                     nums.at[i, total] > vals[total]]
            if above:
                issues.append("parent_below_subrow")
                detail.append(", ".join(
                    f"row {table.at[idx, key]} {total} {vals[total]:g} < row "
                    f"{table.at[i, key]} {nums.at[i, total]:g}" for i in above))
        if issues:
            flagged.append({key: table.at[idx, key], **{c: vals[c] for c in cols},
                            "issues": issues, "detail": "; ".join(detail)})
    return pd.DataFrame(flagged, columns=[key, *cols, "issues", "detail"])

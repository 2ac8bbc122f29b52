"""Designation criteria and review cycle (F001 paras 122-128; F000 Plymouth OSC Q&A).

To be designated, a provider "should be able to demonstrate that it meets agreed service
standards and be able to satisfy the following criteria" (F001 para 125: six criteria), and
"No specialised service should be designated at a hospital that is not accredited, if a
relevant accreditation system applies" (para 128). "The period of designation will not exceed
five years" (para 122; F000: "intended to last for 5 years, after which the situation is
reviewed again"). :func:`assess_providers` scores each candidate provider; the SCG still
decides "in the light of their health needs assessment ... and value for money" (para 126), so
eligibility is reported, not a choice. Criteria: ``parameters/appraisal/designation_criteria.yaml``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field

from hna.errors import DataError, ParameterError
from hna.frameworks._common import config_path
from hna.parameters import StrictModel, read_parameter_file

__all__ = ["DesignationCriteria", "load_designation_criteria", "review_due", "assess_providers"]

_RATINGS = ("met", "partly", "not_met")


class _Criterion(StrictModel):
    text: str
    source: str


class DesignationCriteria(StrictModel):
    """Contents of ``parameters/appraisal/designation_criteria.yaml``."""

    source: str
    max_years: int = Field(ge=1)
    max_years_source: str
    rating_scores: dict[Literal["met", "partly", "not_met"], int]
    rating_scores_kind: Literal["assumption", "published", "inferred"] = "assumption"
    criteria: dict[str, _Criterion] = Field(min_length=1)
    accreditation: _Criterion


def load_designation_criteria(path: str | Path | None = None) -> DesignationCriteria:
    """Load the criteria (default ``parameters/appraisal/designation_criteria.yaml``)."""
    return read_parameter_file(config_path(path, "designation_criteria.yaml"), DesignationCriteria)


def _date(value: Any, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError("must be a date, e.g. 2026-04-01", field=field, value=value) from None


def review_due(start: Any, years: int | None = None, *,
               criteria: DesignationCriteria | str | Path | None = None) -> dt.date:
    """Date a designation starting on ``start`` is due for review: start + ``years``.

    ``years`` defaults to, and may not exceed, ``max_years`` (5, F001 para 122). 29 February
    moves to 28 February in a non-leap year.
    """
    cfg = criteria if isinstance(criteria, DesignationCriteria) else load_designation_criteria(criteria)
    d = _date(start, "start")
    n = cfg.max_years if years is None else years
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= cfg.max_years:
        raise ParameterError(f"designation lasts 1 to {cfg.max_years} years", field="years",
                             value=years, hint=cfg.max_years_source)
    try:
        return d.replace(year=d.year + n)
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28)


def assess_providers(
    ratings: pd.DataFrame,
    *,
    start: Any = None,
    years: int | None = None,
    criteria: DesignationCriteria | str | Path | None = None,
) -> pd.DataFrame:
    """Score each candidate provider against the six criteria and accreditation.

    Args:
        ratings: one row per candidate: ``provider``, one column per criterion with ``met``,
            ``partly`` or ``not_met`` (booleans: True = met, False = not met), and
            ``accreditation``: ``accredited``, ``not_accredited`` or ``not_applicable``.
            An optional ``site`` column (e.g. a designation option's site code) is carried.
        start: designation start date; adds ``designation_start`` and ``review_due``.
        years: designation length (default and maximum 5).
        criteria: the criteria file.

    Returns:
        DataFrame: ``provider``, the ratings, ``criteria_met`` (count of the six),
        ``score`` / ``max_score`` (ratings scored met 2, partly 1, not met 0: an assumption),
        ``accreditation``, ``eligible`` (all six met and accredited where a system applies),
        ``gaps`` (what is missing), and with ``start`` the two dates.
    """
    cfg = criteria if isinstance(criteria, DesignationCriteria) else load_designation_criteria(criteria)
    if not isinstance(ratings, pd.DataFrame) or "provider" not in ratings.columns:
        raise DataError("expected a DataFrame with a `provider` column", source="ratings",
                        field="provider")
    names = list(cfg.criteria)
    for c in [*names, "accreditation"]:
        if c not in ratings.columns:
            raise DataError("missing column", source="ratings", field=c,
                            hint=f"One column per criterion: {', '.join(names)}, accreditation")
    due = review_due(start, years, criteria=cfg) if start is not None else None
    rows = []
    for _, r in ratings.iterrows():
        row: dict[str, Any] = {"provider": r["provider"]}
        if "site" in ratings.columns:
            row["site"] = r["site"]
        gaps = []
        for c in names:
            v = r[c]
            v = ("met" if v else "not_met") if isinstance(v, bool) else str(v).strip().lower()
            if v not in _RATINGS:
                raise DataError("rating must be met, partly or not_met", source="ratings",
                                field=f"{r['provider']}.{c}", value=r[c])
            row[c] = v
            if v != "met":
                gaps.append(f"{c} ({v.replace('_', ' ')})")
        acc = str(r["accreditation"]).strip().lower()
        if acc not in ("accredited", "not_accredited", "not_applicable"):
            raise DataError("accreditation must be accredited, not_accredited or not_applicable",
                            source="ratings", field=f"{r['provider']}.accreditation",
                            value=r["accreditation"])
        if acc == "not_accredited":
            gaps.append("accreditation")
        row["criteria_met"] = sum(row[c] == "met" for c in names)
        row["score"] = sum(cfg.rating_scores[row[c]] for c in names)
        row["max_score"] = cfg.rating_scores["met"] * len(names)
        row["accreditation"] = acc
        row["eligible"] = not gaps
        row["gaps"] = "; ".join(gaps) if gaps else "none"
        if due is not None:
            row["designation_start"] = _date(start, "start").isoformat()
            row["review_due"] = due.isoformat() if not gaps else None
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["source"] = cfg.source
    out.attrs["scores_kind"] = cfg.rating_scores_kind
    return out

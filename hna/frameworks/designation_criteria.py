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

__all__ = ["DesignationCriteria", "load_designation_criteria", "review_due", "assess_providers",
           "assess_candidates", "NOT_ASSESSED"]

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


#: Rating shown for a criterion of a candidate nobody has rated.
NOT_ASSESSED = "not_assessed"


def _ratings_table(ratings: Any) -> pd.DataFrame:
    """Ratings as a DataFrame keyed by ``site_code`` (from a dict, CSV path or DataFrame)."""
    if isinstance(ratings, pd.DataFrame):
        df = ratings.copy()
    elif isinstance(ratings, dict):
        rows = []
        for site, vals in ratings.items():
            if not isinstance(vals, dict):
                raise ParameterError("each site's ratings must be a mapping criterion -> rating",
                                     field=f"provider_ratings.{site}", value=vals)
            rows.append({"site_code": str(site), **vals})
        df = pd.DataFrame(rows)
    elif isinstance(ratings, str | Path):
        p = Path(ratings)
        if not p.is_file():
            raise ParameterError("file not found", field="provider_ratings", value=str(p),
                                 hint="Give a CSV with site_code, one column per criterion and "
                                 "accreditation")
        df = pd.read_csv(p, dtype={"site_code": str})
    else:
        raise ParameterError("provider ratings must be None, a mapping, a CSV path or a table",
                             field="provider_ratings", value=type(ratings).__name__)
    if "site_code" not in df.columns:
        raise DataError("missing column", source="provider_ratings", field="site_code",
                        hint="One row per candidate hospital, keyed by its site code")
    return df


def assess_candidates(
    sites: pd.DataFrame,
    ratings: Any = None,
    *,
    start: Any,
    years: int | None = None,
    criteria: DesignationCriteria | str | Path | None = None,
) -> pd.DataFrame:
    """The six criteria and accreditation for candidate hospitals, rated or "not assessed".

    Sites with a row in ``ratings`` are scored by :func:`assess_providers`; the others show
    every criterion as ``not_assessed`` (hna cannot judge a provider's data, audit or patient
    group: F001 para 125 needs local evidence). Every row carries the designation start and the
    review-due date if designated then (start + at most 5 years, F001 para 122; F000).

    Args:
        sites: ``site_code, site_name`` (+ optional ``options``: where the site is chosen).
        ratings: None, a mapping ``site_code -> {criterion: met|partly|not_met, accreditation:
            accredited|not_accredited|not_applicable}``, a CSV path or a DataFrame with
            ``site_code`` and those columns.
        start: designation start date.
        years: designation length (default and maximum 5).
        criteria: the criteria file.

    Returns:
        DataFrame ``site_code, provider, [options], <criteria...>, accreditation,
        criteria_met, eligible (True/False, None when not assessed), assessed,
        designation_start, review_due``.
    """
    cfg = criteria if isinstance(criteria, DesignationCriteria) else load_designation_criteria(criteria)
    names = list(cfg.criteria)
    due = review_due(start, years, criteria=cfg).isoformat()
    begin = _date(start, "start").isoformat()
    given = _ratings_table(ratings) if ratings is not None else None
    unknown = sorted(set(given["site_code"].astype(str)) - set(sites["site_code"].astype(str))
                     ) if given is not None else []
    if unknown:
        raise ParameterError("rated site is not a candidate of the chosen options",
                             field="provider_ratings.site_code", value=unknown[0],
                             hint=f"Rate any of: {', '.join(sites['site_code'].astype(str))}")
    scored = None
    if given is not None and len(given):
        named = given.merge(sites[["site_code", "site_name"]], on="site_code", how="left")
        scored = assess_providers(named.rename(columns={"site_name": "provider"}).assign(
            site=named["site_code"]), criteria=cfg).set_index("site")
    rows = []
    for r in sites.to_dict("records"):
        row: dict[str, Any] = {"site_code": r["site_code"], "provider": r["site_name"]}
        if "options" in r:
            row["options"] = r["options"]
        if scored is not None and r["site_code"] in scored.index:
            s = scored.loc[r["site_code"]]
            row.update({c: s[c] for c in names})
            row.update(accreditation=s["accreditation"], criteria_met=int(s["criteria_met"]),
                       eligible=bool(s["eligible"]), assessed=True)
        else:
            row.update({c: NOT_ASSESSED for c in names})
            row.update(accreditation=NOT_ASSESSED, criteria_met=None, eligible=None,
                       assessed=False)
        row.update(designation_start=begin, review_due=due)
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["source"] = cfg.source
    out.attrs["max_years_source"] = cfg.max_years_source
    return out

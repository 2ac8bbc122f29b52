"""Commissioning appraisal report: readable tables and statements for each section.

Works on a :class:`hna.appraisal.result.CommissioningAppraisal`. :func:`report_table` gives a
section's table with human headers and values written by :mod:`hna.formatting` (money as
"£5.8 million (2008/09 prices)", snake_case labels humanised, a service without a cost shown as
"no cost"); notebooks show it with ``narrative.table(report_table(a, name), caption=caption(name))``.
Statements: :func:`answer` (the answer first), :func:`money_note`, :func:`inferred_note`.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from hna import formatting as fmt
from hna.appraisal.result import _DISPLAY, TITLES

__all__ = ["caption", "report_table", "section", "answer", "money_note", "inferred_note",
           "headline_table"]

_MONEY = {"annual_cost", "base_spend", "do_nothing_spend", "spend", "qipp_saving", "allocation",
          "gap_do_nothing", "gap", "value", "running_total"}
#: Risk-pool tables: columns in GBP thousands at 2008/09 prices (the F004 worked example).
_POOL_MONEY = {"baseline", "baseline_allocation", "contribution"}
_LABELS = {"tier", "status", "scheme", "rule", "test", "kind", "comparison", "criterion",
           "dimension", "near_tier", "catalogue", "stage", "issues", "focus_source", "unit"}
_HEADERS = {
    "footprint_demand": "Footprint demand (expected a year)",
    "footprint_low": "Footprint demand, 2.5% quantile", "footprint_high": "Footprint demand, 97.5% quantile",
    "england_demand": "England demand (expected a year)", "footprint_share": "Share of England",
    "minimum_per_centre": "Critical mass per centre", "footprint_centres": "Centres the footprint sustains",
    "national_caseload": "National caseload a year", "planning_population": "Minimum planning population",
    "fired": "Rule applies", "inferred": "Inferred (not from the seed)",
    "footprint_covers": "Footprint large enough", "met": "Test met",
    "binding": "Binding at the minimum", "binding_one_fewer": "Binding with one vote fewer",
    "min_in_favour": "Minimum in favour", "notice_days": "Notice (days)",
    "over_baseline": "Over baseline (% of baseline)", "commissioner": "Commissioner pays (% points)",
    "provider": "Provider pays (% points)", "tolerance": "Tolerance (% of baseline)",
    "gbp_per_head": "£ per head", "spend_gbp_thousands": "Spend (£ thousands)",
    "total_2009_10_gbp_thousands": "2009/10 (£ thousands)",
    "full_year_effect_gbp_thousands": "Full year effect (£ thousands)",
    "hna_service": "hna model", "model_part": "What the model covers",
    "shown_1": "Year 1", "shown_2": "Year 2", "shown_3": "Year 3", "weighted_score": "Weighted score",
    "n_flagged": "Criteria flagged", "member": "Member (commissioner)",
    "baseline": "Baseline budget", "baseline_allocation": "Baseline allocation",
    "overspend_percent": "Overspend (% of pooled baseline)", "contribution": "Contribution", "raw_score": "Raw score (8-32)",
}
_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_PATH = re.compile(r" ?\(?(?:in )?parameters/[^\s);]+\)?")
_SCHEMES = {"emscg_2009": "East Midlands SCG 2009", "dh_2003": "DH guidance 2003",
            "stp_2016": "NHS England South 2016"}


def caption(name: str) -> str:
    """The title of a table of the appraisal."""
    return TITLES[name]


def _label(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return fmt.fmt_list([_label(x) for x in v]) if v else ""
    if isinstance(v, str) and v in _SCHEMES:
        return _SCHEMES[v]
    if isinstance(v, str) and _SNAKE.match(v) and "_" in v:
        return fmt.humanise(v).lower().capitalize()
    return v


def _money(v: Any, price_year: Any) -> str:
    if fmt.is_missing(v):
        return ""
    py = price_year if isinstance(price_year, str) and price_year else None
    return fmt.fmt_money(float(v), py)


def report_table(appraisal: Any, name: str) -> pd.DataFrame:
    """One section's table for people: the reader's columns, human headers, formatted values.

    Money columns become strings ("£5.8 million (2008/09 prices)"); in the finance tables a
    service without a cost reads "no cost" instead of a blank. Lists are joined ("a, b and c"),
    snake_case labels humanised; booleans stay booleans (``narrative.table`` writes Yes/No).
    """
    df = appraisal.table(name)
    cols = [c for c in _DISPLAY[name] if c in df.columns]
    if name == "demand" and df.get("footprint_low") is not None and df["footprint_low"].isna().all():
        cols = [c for c in cols if c not in ("footprint_low", "footprint_high")]
    if name == "finance_total" and "allocation" not in df.columns:
        cols = [c for c in cols if c not in ("allocation", "gap_do_nothing", "gap")]
    out = df[cols].copy()
    price = df["price_year"] if "price_year" in df.columns else pd.Series(None, index=df.index)
    no_cost = (df["spend_basis"].astype(str).str.startswith("no cost")
               if "spend_basis" in df.columns else pd.Series(False, index=df.index))
    for c in cols:
        if c in _POOL_MONEY and name in ("overspend_split", "pooled_budget"):
            out[c] = [_money(v * 1000.0, "2008/09") for v in df[c]]
        elif c in _MONEY and name in ("finance", "finance_total", "waterfall", "segmentation"):
            out[c] = [("no cost" if nc else _money(v, p))
                      for v, p, nc in zip(df[c], price, no_cost, strict=True)]
        elif c in _LABELS or out[c].map(lambda v: isinstance(v, list | tuple)).any():
            out[c] = out[c].map(_label)
        elif pd.api.types.is_object_dtype(out[c]) or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda v: "" if fmt.is_missing(v) else (
                _PATH.sub("", v) if isinstance(v, str) else v))
        if isinstance(out[c].dtype, pd.BooleanDtype):
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        if isinstance(out[c].dtype, pd.Int64Dtype):
            out[c] = out[c].astype(float)
    names = dict(zip(appraisal.demand["service"], appraisal.demand["service_name"], strict=True))
    if "service" in out.columns:
        out["service"] = out["service"].map(lambda v: names.get(v, v))
    return out.rename(columns={c: _HEADERS.get(c, fmt.humanise(c)) for c in out.columns})


def section(appraisal: Any, name: str) -> Any:
    """One section's table in the report idiom: ``narrative.table`` of :func:`report_table`."""
    from hna.narrative.common import table

    return table(report_table(appraisal, name), caption=caption(name))


def answer(appraisal: Any) -> str:
    """The answer first: the footprint's tier, which services need a bigger footprint, money."""
    m, t = appraisal.meta, appraisal.tiers
    y0, y1 = m["year"], m["horizon"]
    start = t[t["year"] == y0]
    pop = float(start["population"].iloc[0])
    tiers = "; ".join(
        f"{_label(r['scheme'])}: {_label(r['tier']) if isinstance(r['tier'], str) else _label(r['status'])}"
        + (" (inferred bounds)" if r["inferred"] else "") for _, r in start.iterrows())
    st = appraisal.service_tiers.drop_duplicates("service")
    small = st[~st["footprint_covers"].astype(bool)]
    lines = [f"**{m['footprint']['name']}** has {fmt.fmt_count(round(pop))} people in "
             f"{fmt.fmt_year(y0)}. Tier by scheme: {tiers}."]
    if len(small):
        lines.append("Services whose minimum planning population is larger than this footprint "
                     f"(plan them across footprints): {fmt.fmt_list(sorted(small['service']))}.")
    else:
        lines.append("The footprint is large enough to plan every service appraised.")
    ft = appraisal.finance_total
    at = ft[ft["year"] == y1]
    if len(at):
        lines.append(f"Spend on the costed services is {_money(at['do_nothing_spend'].iloc[0], None)} "
                     f"in {fmt.fmt_year(y1)} if nothing changes; QIPP saves "
                     f"{_money(at['qipp_saving'].iloc[0], None)} of it (prices of each cost's year).")
    if m["services_without_cost"]:
        lines.append(f"No cost for {fmt.fmt_list(m['services_without_cost'])}: shown as "
                     "'no cost' in the money tables, not left out.")
    return "  \n".join(lines)


def money_note(appraisal: Any) -> str:
    """Where each service's base spend comes from (one line per service)."""
    f = appraisal.finance.drop_duplicates("service")
    return "\n".join(f"- **{s}**: {_PATH.sub('', b)}"
                     for s, b in zip(f["service"], f["spend_basis"], strict=True))


def inferred_note(appraisal: Any) -> str:
    """Which figures are hna's inferences rather than the seeds' (shown wherever used)."""
    seg = appraisal.segmentation
    n = int(seg["inferred"].fillna(False).astype(bool).sum()) if "inferred" in seg.columns else 0
    schemes = sorted({s for s, inf in zip(appraisal.tiers["scheme"], appraisal.tiers["inferred"],
                                          strict=True) if inf})
    parts = []
    if schemes:
        parts.append(f"the population bounds of the {fmt.fmt_list([_label(x) for x in schemes])} tier scheme "
                     "(the seed names the levels only)")
    if n:
        parts.append("the segmentation scales, weights and cut-offs (F003 names the five factors "
                     "only)")
    if not parts:
        return ""
    return "**Inferred, not from the seeds:** " + "; ".join(parts) + (
        ". Tables mark these rows 'Inferred'.")


def headline_table(headline: dict[str, Any], price_year: str | None = None) -> pd.DataFrame:
    """The appraisal's headline numbers for people: ``Item, Value``.

    Spend and savings as money, populations as whole numbers, year spans in words
    ("2025 to 2030"), lists in words, tier ids without underscores; never Python reprs.

    Args:
        headline: :meth:`CommissioningAppraisal.headline` (JSON-friendly dict).
        price_year: price base of the money figures, shown with them when given.
    """
    rows = []
    for key, value in headline.items():
        if key == "years":
            shown = fmt.fmt_years(value)
        elif isinstance(value, list | tuple):
            shown = fmt.fmt_list(str(v).replace("_", " ") for v in value)
        elif value is None:
            shown = "not available"
        elif any(w in key for w in ("spend", "saving", "cost", "gap")):
            shown = fmt.fmt_money(value, price_year)
        elif "population" in key:
            shown = fmt.fmt_count(value)
        elif isinstance(value, float):
            shown = fmt.fmt_number(value, 1)
        else:
            shown = str(value).replace("_", " ")
        rows.append({"Item": fmt.humanise(key), "Value": shown})
    return pd.DataFrame(rows)

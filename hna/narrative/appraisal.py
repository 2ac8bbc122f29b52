"""Commissioning appraisal report: readable tables and statements for each section.

Works on a :class:`hna.appraisal.result.CommissioningAppraisal`. One formatting policy
(:mod:`hna.formatting`) for every shown number: counts (cases, people, centres, quantiles of
counts, integer scores) as whole numbers with separators, shares as percentages, scores and
factors at the precision their header states, money as "£5.8 million (2008/09 prices)" (a
service without a cost reads "no cost"), years as years; tier ids, schemes and services by
their names.

- :func:`report_table`: a section's shown table (every cell text); :func:`report_data`: the
  same columns at full precision (the CSV download); :func:`section`: both as one
  ``narrative.Table`` (``display(report.section(a, "tiers"))``).
- Statements: :func:`heading`, :func:`answer` (the answer first), :func:`money_note`,
  :func:`inferred_note`; :func:`sources_table` and :func:`headline_table` for the end matter.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from hna import formatting as fmt
from hna.appraisal.result import _DISPLAY, TITLES
from hna.narrative.common import Table, plain
from hna.tiers import tier_labels

__all__ = ["caption", "report_table", "report_data", "section", "heading", "answer",
           "money_note", "inferred_note", "sources_table", "headline_table"]

_MONEY = {"annual_cost", "base_spend", "do_nothing_spend", "spend", "qipp_saving", "allocation",
          "gap_do_nothing", "gap", "value", "running_total"}
_MONEY_TABLES = {"finance", "finance_total", "waterfall", "segmentation"}
#: Money tables whose rows have their own price year: shown in a "Prices" column.
_PRICED = {"finance"}
#: Risk-pool tables: columns in GBP thousands at 2008/09 prices (the F004 worked example).
_POOL_MONEY = {"baseline", "baseline_allocation", "contribution"}
_POOL_TABLES = {"overspend_split", "pooled_budget"}
_LABELS = {"tier", "status", "scheme", "rule", "test", "kind", "comparison", "criterion",
           "dimension", "near_tier", "catalogue", "stage", "issues", "focus_source", "unit",
           "pressure", "area", "weights_kind"}
#: How each number is written (:mod:`hna.formatting`); the header states any precision.
_KINDS: dict[str, str] = {
    **dict.fromkeys((
        "population", "footprint_demand", "footprint_low", "footprint_high", "england_demand",
        "minimum_per_centre", "footprint_centres", "national_caseload", "planning_population",
        "footprint_population", "annual_demand", "demand", "n_flagged", "rank", "raw_score",
        "cases_entering", "cases_passing", "min_in_favour", "notice_days", "n_criteria", "Y",
        "P", "N", "total", "yes_risk_share", "yes_no_risk_share", "number", "step",
        "patient_numbers_score", "provision_score", "financial_risk_score",
        "service_specifications_score", "strategy_score", "health_needs_demand", "capacity",
        "must_dos", "financial_risk", "service_standards", "spend_gbp_thousands",
        "total_2009_10_gbp_thousands", "full_year_effect_gbp_thousands"), "count"),
    "year": "year",
    **dict.fromkeys(("footprint_share", "share"), "share"),  # fractions -> "10.5%"
    "threshold": "share0",
    **dict.fromkeys(("overspend_percent", "over_baseline", "tolerance"), "percent1"),
    **dict.fromkeys(("commissioner", "provider"), "percent3"),
    **dict.fromkeys(("demographic_factor", "qipp_factor"), "number3"),
    # scores: whole numbers when every score is whole, else at the stated decimals
    "weighted_score": "score1", "score": "score1", "gbp_per_head": "pounds2",
    "change": "by_unit", "target": "by_unit",
}
#: Precision that differs from the column's default in one table.
_TABLE_KINDS = {("segmentation", "weighted_score"): "score2"}
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
    "over_baseline": "Over baseline (% of baseline)", "commissioner": "Commissioner pays (% of baseline)",
    "provider": "Provider pays (% of baseline)", "tolerance": "Tolerance (% of baseline)",
    "gbp_per_head": "£ per head", "spend_gbp_thousands": "Spend (£ thousands)",
    "total_2009_10_gbp_thousands": "2009/10 (£ thousands)",
    "full_year_effect_gbp_thousands": "Full year effect (£ thousands)",
    "hna_service": "hna model", "model_part": "What the model covers",
    "shown_1": "Year 1", "shown_2": "Year 2", "shown_3": "Year 3",
    "weighted_score": "Weighted score", "score": "Score",
    "n_flagged": "Criteria flagged", "member": "Member (commissioner)",
    "baseline": "Baseline budget (2008/09 prices)",
    "baseline_allocation": "Baseline allocation (2008/09 prices)",
    "overspend_percent": "Overspend (% of pooled baseline)",
    "contribution": "Contribution (2008/09 prices)", "price_year": "Prices",
    "raw_score": "Raw score (8-32)", "demographic_factor": "Demographic factor (3 d.p.)",
    "qipp_factor": "QIPP factor (3 d.p.)", "n_criteria": "Criteria",
    "Y": "Met (Y)", "P": "Partly met (P)", "N": "Not met (N)",
}
_TABLE_HEADERS = {("overspend_split", "share"): "Share of baseline",
                  ("pooled_budget", "share"): "Share of baseline",
                  ("east_midlands", "share"): "Share of spend"}
#: Columns whose cells are service ids (shown as the services' names).
_ID_COLUMNS = {"service", "hna_service", "services_without_cost", "model_part",
               "costed_services"}
_SNAKE = re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$")
_PATH = re.compile(r" ?\(?(?:in )?parameters/[^\s);]+\)?")
_INFERRED_NOTE = re.compile(r";? ?(?:scales, weights and cut-offs inferred \(F003 gives none\)|"
                            r"scales inferred)$")
_SCHEMES = {"emscg_2009": "East Midlands SCG 2009", "dh_2003": "DH guidance 2003",
            "stp_2016": "NHS England South 2016"}
_ABBREVIATIONS = {"scg": "SCG", "lscg": "LSCG", "stp": "STP", "pct": "PCT", "hiv": "HIV",
                  "qipp": "QIPP", "ndset": "NDSET", "nscag": "NSCAG", "nhs": "NHS",
                  "icb": "ICB", "gbp": "GBP", "cv": "CV", "f001": "F001", "f004": "F004"}


def caption(name: str) -> str:
    """The title of a table of the appraisal."""
    return TITLES[name]


def _words(v: str) -> str:
    """An identifier in words: ``stp_or_multi_stp`` -> "STP or multi STP"."""
    words = [_ABBREVIATIONS.get(w, w) for w in v.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _label(v: Any) -> Any:
    if isinstance(v, list | tuple):
        return fmt.fmt_list([_label(x) for x in v]) if v else ""
    if isinstance(v, str) and v in _SCHEMES:
        return _SCHEMES[v]
    if isinstance(v, str) and v in tier_labels():
        return tier_labels()[v]
    if isinstance(v, str) and _SNAKE.match(v):
        return _words(v)
    return v


def _money(v: Any, price_year: Any) -> str:
    if fmt.is_missing(v):
        return ""
    py = price_year if isinstance(price_year, str) and price_year else None
    return fmt.fmt_money(float(v), py)


def _service_names(appraisal: Any) -> dict[str, str]:
    """Service id -> name, for every service the appraisal or its catalogue names."""
    from hna.errors import HnaError
    from hna.services import load_service

    names = dict(zip(appraisal.demand["service"], appraisal.demand["service_name"], strict=True))
    cat = getattr(appraisal, "catalogue", None)
    ids = set()
    if cat is not None and "hna_service" in cat.columns:
        ids = {x.strip() for v in cat["hna_service"].dropna() for x in str(v).split(",")}
    for sid in sorted(ids - set(names) - {""}):
        try:
            names[sid] = load_service(sid).name
        except (HnaError, OSError):
            continue
    return names


def _named(text: Any, names: dict[str, str]) -> Any:
    """Service ids in free text (``bone_sarcoma``) replaced by the services' names.

    Only ids with an underscore are replaced in prose: a one-word id (``haemophilia``) is also
    an ordinary word. :func:`_ids` handles the columns that hold ids.
    """
    if not isinstance(text, str) or not text:
        return text
    for sid in sorted((k for k in names if "_" in k), key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(sid)}(?![\w-])", names[sid], text)
    return text


def _ids(value: Any, names: dict[str, str]) -> Any:
    """A cell of service ids (``"a, b"``, a list, or ``"a: text; b: text"``) in names."""
    if isinstance(value, list | tuple):
        return fmt.fmt_list(names.get(str(v), _label(v)) for v in value) if value else ""
    if not isinstance(value, str) or not value.strip():
        return "" if fmt.is_missing(value) else value
    if ":" in value:  # "id: what it covers; id: ..."
        parts = [p.partition(":") for p in value.split("; ")]
        return "; ".join(f"{names.get(k.strip(), k)}:{rest}" if sep else k
                         for k, sep, rest in parts)
    return fmt.fmt_list(names.get(v.strip(), _label(v.strip())) for v in value.split(","))


def _number(kind: str, v: Any, unit: Any = None) -> str:
    """One number by the appraisal's policy for its column ``kind``."""
    if fmt.is_missing(v):
        return ""
    if kind == "by_unit":  # benchmarking: by the measure's unit
        kind = {"percent_of_services": "percent0", "count": "count"}.get(str(unit), "number0")
    v = float(v)
    if kind == "count":
        return fmt.fmt_count(v)
    if kind == "year":
        return fmt.fmt_year(v)
    if kind.startswith("share"):
        return fmt.fmt_percent(v * 100, 0 if kind == "share0" else 1)
    if kind.startswith("percent"):
        return fmt.fmt_percent(v, int(kind[-1]))
    if kind == "pounds2":
        return "£" + fmt.fmt_number(v, 2)
    return fmt.fmt_number(v, int(kind[-1]))


def _columns(appraisal: Any, name: str) -> tuple[pd.DataFrame, list[str]]:
    df = appraisal.table(name).reset_index(drop=True)
    cols = [c for c in _DISPLAY[name] if c in df.columns]
    if name == "demand" and df.get("footprint_low") is not None and df["footprint_low"].isna().all():
        cols = [c for c in cols if c not in ("footprint_low", "footprint_high")]
    if name == "finance_total" and "allocation" not in df.columns:
        cols = [c for c in cols if c not in ("allocation", "gap_do_nothing", "gap")]
    if name in _PRICED and "price_year" in df.columns:  # one short "Prices" column
        cols = [c for c in cols if c != "spend_basis"]  # (the basis is in money_note)
        at = max(i for i, c in enumerate(cols) if c in _MONEY) + 1
        cols = [*cols[:at], "price_year", *cols[at:]]
    return df, cols


def _text(df: pd.DataFrame, c: str, names: dict[str, str]) -> list[Any]:
    """A text, label or flag column for people (booleans stay booleans)."""
    col = df[c]
    if isinstance(col.dtype, pd.BooleanDtype):
        col = col.astype(object).where(col.notna(), None)
    if c in _ID_COLUMNS:
        return [_ids(v, names) for v in col]
    if c in _LABELS or col.map(lambda v: isinstance(v, list | tuple)).any():
        return [_named(_label(v), names) for v in col]
    if pd.api.types.is_object_dtype(col) or pd.api.types.is_string_dtype(col):
        return ["" if fmt.is_missing(v) else (
            plain(_named(_PATH.sub("", v), names)) if isinstance(v, str) else v) for v in col]
    return list(col)


def _is_number(name: str, c: str) -> bool:
    return (c in _KINDS or (c in _MONEY and name in _MONEY_TABLES)
            or (c in _POOL_MONEY and name in _POOL_TABLES))


def _kind(name: str, c: str, values: pd.Series) -> str:
    """The column's number kind; a score column is ``count`` when every score is whole."""
    kind = _TABLE_KINDS.get((name, c), _KINDS.get(c, "count"))
    if kind.startswith("score"):
        v = pd.to_numeric(values, errors="coerce").dropna()
        return "count" if (v == v.round()).all() else f"number{kind[-1]}"
    return kind


def _header(name: str, c: str, df: pd.DataFrame | None = None) -> str:
    head = _TABLE_HEADERS.get((name, c), _HEADERS.get(c, fmt.humanise(c)))
    if df is not None and c in df.columns and _is_number(name, c):
        kind = _kind(name, c, df[c])
        if _TABLE_KINDS.get((name, c), _KINDS.get(c, "")).startswith("score") and kind != "count":
            head += f" ({kind[-1]} d.p.)"
    return head


def report_data(appraisal: Any, name: str) -> pd.DataFrame:
    """One section's shown columns at full precision, with the same headers as the table.

    Numbers are left unrounded (money in pounds, shares as fractions, risk pools in pounds
    at 2008/09 prices); labels and service names are as shown.
    """
    df, cols = _columns(appraisal, name)
    names = _service_names(appraisal)
    out = pd.DataFrame(index=df.index)
    for c in cols:
        if c in _POOL_MONEY and name in _POOL_TABLES:
            out[c] = df[c].astype(float) * 1000.0
        elif _is_number(name, c):
            out[c] = df[c].astype(float) if isinstance(df[c].dtype, pd.Int64Dtype) else df[c]
        else:
            out[c] = _text(df, c, names)
    if name == "segmentation" and "note" in out.columns:  # inferred: said by column and caption
        out["note"] = [_INFERRED_NOTE.sub("", str(v)).strip("; ") for v in out["note"]]
    return out.rename(columns={c: _header(name, c, df) for c in out.columns})


def report_table(appraisal: Any, name: str) -> pd.DataFrame:
    """One section's table for people: the reader's columns, human headers, formatted values.

    Every cell is text written by :mod:`hna.formatting`: counts (cases, people, centres,
    quantiles of counts, integer scores) as whole numbers with separators, shares as
    percentages ("10.5%"), per-cent columns with "%", scores and factors at the precision
    their header states, money as "£5.8 million" with its price year in the header or a
    "Prices" column (a service without a cost reads "no cost"; where each base spend comes
    from is :func:`money_note`), flags Yes/No, lists joined ("a, b and c"), labels and service names in
    words. :func:`report_data` has the same columns at full precision.
    """
    df, cols = _columns(appraisal, name)
    data = report_data(appraisal, name)
    price = df["price_year"] if "price_year" in df.columns else pd.Series(None, index=df.index)
    no_cost = (df["spend_basis"].astype(str).str.startswith("no cost")
               if "spend_basis" in df.columns else pd.Series(False, index=df.index))
    if "cost_available" in df.columns:  # segmentation
        no_cost = ~df["cost_available"].fillna(False).astype(bool)
    unit = df["unit"] if "unit" in df.columns else pd.Series(None, index=df.index)
    out = pd.DataFrame(index=df.index)
    for c in cols:
        values = data[_header(name, c, df)]
        if c in _POOL_MONEY and name in _POOL_TABLES:
            out[c] = [_money(v, None) for v in values]  # prices in the header
        elif c in _MONEY and name in _MONEY_TABLES:
            shown_price = None if name in _PRICED else price
            out[c] = [("no cost" if nc else _money(v, None if shown_price is None else p))
                      for v, p, nc in zip(values, price, no_cost, strict=True)]
        elif _is_number(name, c):
            kind = _kind(name, c, df[c])
            out[c] = [_number(kind, v, u) for v, u in zip(values, unit, strict=True)]
        else:
            out[c] = [fmt.fmt_bool(v) if isinstance(v, bool | np.bool_) else
                      ("" if fmt.is_missing(v) else v) for v in values]
    return out.rename(columns={c: _header(name, c, df) for c in out.columns})


def section(appraisal: Any, name: str) -> Table:
    """One section's table in the report idiom.

    Shows the formatted :func:`report_table`; :func:`report_data` (full precision) is the
    table's ``frame``.
    """
    df, cols = _columns(appraisal, name)
    # money with its price year in the cell may wrap (left-aligned), other numbers do not
    numeric = [_is_number(name, c) and not (c in _MONEY and name == "segmentation")
               for c in cols]
    return Table(report_data(appraisal, name), caption(name), report_table(appraisal, name),
                 numeric, True)


def heading(appraisal: Any, run_name: str) -> str:
    """The report's first line: footprint (name, code, level), years and run."""
    m = appraisal.meta
    level = _words(str(m.get("footprint_level") or "")) if m.get("footprint_level") else ""
    where = f"{m['footprint']['code']}, {level}" if level else m["footprint"]["code"]
    return (f"**Footprint:** {m['footprint']['name']} ({where}). **Years:** "
            f"{fmt.fmt_year(m['year'])} (base) to {fmt.fmt_year(m['horizon'])}. "
            f"**Run:** {run_name}.")


def answer(appraisal: Any) -> str:
    """The answer first: the footprint's tier, which services need a bigger footprint, money."""
    m, t = appraisal.meta, appraisal.tiers
    names = _service_names(appraisal)
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
                     f"(plan them across footprints): {_ids(sorted(small['service']), names)}.")
    else:
        lines.append("The footprint is large enough to plan every service appraised.")
    ft = appraisal.finance_total
    at = ft[ft["year"] == y1]
    if len(at):
        lines.append(f"Spend on the costed services is {_money(at['do_nothing_spend'].iloc[0], None)} "
                     f"in {fmt.fmt_year(y1)} if nothing changes; QIPP saves "
                     f"{_money(at['qipp_saving'].iloc[0], None)} of it (prices of each cost's year).")
    if m["services_without_cost"]:
        lines.append(f"No cost for {_ids(list(m['services_without_cost']), names)}: shown as "
                     "'no cost' in the money tables, not left out.")
    return "  \n".join(lines)


def money_note(appraisal: Any) -> str:
    """Where each service's base spend comes from (one line per service)."""
    names = _service_names(appraisal)
    f = appraisal.finance.drop_duplicates("service")
    return "\n".join(f"- **{names.get(s, s)}**: {_named(_PATH.sub('', b), names)}"
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


def sources_table(appraisal: Any) -> pd.DataFrame:
    """``Topic, Source``: the source of every figure used, topics in words.

    Tier schemes by name ("Tier scheme: East Midlands SCG 2009"), services by name, status
    words without underscores (:meth:`CommissioningAppraisal.sources` keeps the ids).
    """
    names = _service_names(appraisal)
    src = appraisal.sources()

    def topic(v: str) -> str:
        for sid, label in _SCHEMES.items():
            v = re.sub(rf"^tier scheme {sid}$", f"Tier scheme: {label}", v)
        for sid in sorted(names, key=len, reverse=True):  # "<service id>: ..." topics
            if v.startswith(f"{sid}:"):
                v = names[sid] + v[len(sid):]
        v = plain(_named(v, names))
        return v[:1].upper() + v[1:]

    return pd.DataFrame({"Topic": [topic(str(v)) for v in src["topic"]],
                         "Source": [plain(_named(_PATH.sub("", str(v)), names))
                                    for v in src["source"]]})


def headline_table(headline: dict[str, Any], price_year: str | None = None,
                   names: dict[str, str] | None = None) -> pd.DataFrame:
    """The appraisal's headline numbers for people: ``Item, Value``.

    Spend and savings as money, populations as whole numbers, year spans in words
    ("2025 to 2030"), tier schemes and tiers by their labels, services by name, lists in
    words; never Python reprs or ids.

    Args:
        headline: :meth:`CommissioningAppraisal.headline` (JSON-friendly dict).
        price_year: price base of the money figures, shown with them when given.
        names: service id -> name (e.g. ``dict(zip(a.demand.service, a.demand.service_name))``);
            ids not in it are written in words.
    """
    names = dict(names or {})
    rows = []
    for key, value in headline.items():
        item = fmt.humanise(key)
        if key.startswith("tier_") and key[5:] in _SCHEMES:
            item = f"Tier ({_SCHEMES[key[5:]]})"
        if key == "years":
            shown = fmt.fmt_years(value)
        elif key == "tier_schemes_inferred":
            item = "Tier schemes with inferred bounds"
            shown = fmt.fmt_list(_label(v) for v in value)
        elif key in ("costed_services", "services_without_cost"):
            shown = _ids(list(value), names) if value else "none"
        elif isinstance(value, list | tuple):
            shown = fmt.fmt_list(_label(v) for v in value)
        elif value is None:
            shown = "not available"
        elif any(w in key for w in ("spend", "saving", "cost", "gap")):
            shown = fmt.fmt_money(value, price_year)
        elif "population" in key:
            shown = fmt.fmt_count(value)
        elif isinstance(value, float):
            shown = fmt.fmt_number(value, 1)
        else:
            shown = str(_label(value))
        rows.append({"Item": item, "Value": shown})
    return pd.DataFrame(rows)

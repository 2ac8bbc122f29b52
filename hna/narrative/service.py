"""The service report: summary box, demand, centres, tiers, Carter rules, capacity, sources.

Tables are DataFrames with human headers, shown through :func:`hna.narrative.table`.

These functions format results computed elsewhere (``hna.demand``, ``hna.thresholds``,
``hna.prevalence``); they hold no modelling logic.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from hna import formatting as fmt
from hna.narrative.common import HTML, plain

#: Model measures in words.
_MEASURES = {"ichd": "in-centre haemodialysis patients", "rrt": "patients on renal replacement therapy"}
#: Names of the tier schemes for people.
TIER_SCHEMES = {"emscg_2009": "East Midlands SCG (2009)", "dh_2003": "Department of Health (2003)",
                "stp_2016": "NHS England STP footprints (2016)"}

__all__ = [
    "HTML",
    "summary_box",
    "demand_table",
    "centres_table",
    "stations_table",
    "assumptions_table",
    "sources_table",
    "provenance_table",
    "headline_record",
    "band_rates",
    "tiers_table",
    "observed_counts",
    "carter_table",
    "interval_lines",
    "intervals_text",
    "TIER_SCHEMES",
]


@lru_cache(maxsize=1)
def _scenario_names() -> dict[str, str]:
    """Scenario id -> its name (``parameters/scenarios/<id>.yaml``), longest id first."""
    from hna.errors import HnaError
    from hna.scenarios import list_scenarios, load_scenario

    out = {}
    for sid in sorted(list_scenarios(), key=len, reverse=True):
        try:
            out[sid] = load_scenario(sid).name
        except HnaError:
            continue
    return out


def _ids_in_words(s: str) -> str:
    """Identifiers a service file's notes refer to, in words.

    ``uncertainty.rate_level`` -> "the uncertainty in the level of the rates"; a scenario
    id (``sts_registry_trend``) -> its name in quotes.
    """
    from hna.sensitivity import LABELS

    s = re.sub(r"\buncertainty\.(\w+)",
               lambda m: f"the uncertainty in the {LABELS.get(m.group(1), m.group(1)).lower()}"
               if m.group(1) in LABELS else m.group(0), s)
    for sid, name in _scenario_names().items():
        if "_" in sid:
            s = re.sub(rf"(?<![\w/.-]){re.escape(sid)}(?![\w-])", f"'{name}'", s)
    return s


def _plain(text: Any) -> str:
    """Text for reviewers: no backticks, no snake_case identifiers of tiers or scenarios."""
    s = "" if text is None or (isinstance(text, float) and pd.isna(text)) else str(text)
    s = s.replace("`", "").replace("stp_or_multi_stp", "STP or multi-STP")
    for scheme, name in TIER_SCHEMES.items():
        s = s.replace(scheme, name)
    s = re.sub(r"(?<=\(\d{4}\): )([a-z_]+)(?=[;.,]|$)",  # "Department of Health (2003): lscg"
               lambda m: _tier_labels().get(m.group(1), m.group(1)), s)
    return plain(_ids_in_words(s))


@lru_cache(maxsize=1)
def _tier_labels() -> dict[str, str]:
    """Tier id -> its label in the tier schemes file (``lscg`` -> "Local specialised ...")."""
    from hna.tiers import load_tier_schemes

    return {b.tier: b.label for sc in load_tier_schemes().schemes.values() for b in sc.bands}


def _tier_word(tier: Any) -> str:
    return "no tier" if not tier else str(tier).replace("_", " ")


def _central(r: dict) -> float:
    """The one central value of a year's demand: the expected value (central estimate)."""
    return r["expected"]


def summary_box(assessment, result=None) -> HTML:
    """The headline box at the top of a service report.

    Shows demand now and at the horizon (central value and 95% interval, whole numbers),
    centres sustainable, the probability that the planned number of centres each reach critical
    mass (percentages), the tier of the service under each scheme and the verdict in words.
    Every number comes from ``assessment.headline`` so the box and the tables agree.
    """
    h = assessment.headline
    now, hor = h["now"], h["horizon"]
    yn, yh = fmt.fmt_year(now["year"]), fmt.fmt_year(hor["year"])

    def demand(r: dict) -> str:
        text = f"<b>{fmt.fmt_count(_central(r))}</b>"
        if "q0.025" in r:
            text += f" ({fmt.fmt_interval(r['q0.025'], r['q0.975'])})"
        return text

    def prob(r: dict) -> str:
        return fmt.fmt_probability(r["p_viable"]) if "p_viable" in r else "n/a"

    labels = dict(zip(assessment.tiers["scheme"], assessment.tiers["label"].fillna("no tier"),
                      strict=True)) if hasattr(assessment, "tiers") else {}
    tiers = ", ".join(
        f"{html.escape(TIER_SCHEMES.get(s, s))}: <b>{html.escape(labels.get(s, _tier_word(t)))}</b>"
        for s, t in h["tiers"].items())
    status = str(h["minimum_status"]).replace("_", " ")
    rows = [
        ("Demand measure", html.escape(h["measure"])),
        (f"Expected in {yn} (95% interval)", demand(now)),
        (f"Expected in {yh} (95% interval)", demand(hor)),
        ("Critical mass per " + html.escape(h["centre"]),
         f"{fmt.fmt_count(h['minimum_per_centre'])} ({html.escape(status)}: "
         f"{html.escape(_plain(h['minimum_source']))})"),
        (f"Centres sustainable on the expected demand, {yn} / {yh}",
         f"<b>{fmt.fmt_count(now['centres_on_mean'])}</b> / "
         f"<b>{fmt.fmt_count(hor['centres_on_mean'])}</b>"),
        (f"Probability each of {h['n_centres']} centres reaches critical mass, {yn} / {yh}",
         f"{prob(now)} / {prob(hor)}"),
        ("Minimum planning population (England crude rate)",
         fmt.fmt_count(h["planning_population"])),
        ("Commissioning tier of the service", tiers),
        ("Parameter quality", html.escape(str(h["quality"]))),
    ]
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    verdict = "<br>".join(html.escape(_plain(x)) for x in assessment.verdict.split("\n"))
    box = (
        "<div style='border:2px solid #0072B2;border-radius:6px;padding:10px 14px;"
        "background:#F3F8FC;max-width:60em'>"
        f"<h3 style='margin-top:0'>{html.escape(h['service_name'])}: "
        f"{html.escape(h['footprint_name'])} ({html.escape(h['footprint'])})</h3>"
        f"<table>{body}</table><p style='margin-bottom:0'><b>Verdict.</b> {verdict}</p></div>"
    )
    return HTML(box, _plain(assessment.verdict))


def demand_table(result, area_code: str | None = None) -> pd.DataFrame:
    """Projected demand by year: population, the central value and its 95% and 80% intervals.

    One central value per year: the expected value (the central estimate, draw 0), the same
    number the summary box, the fan chart and the footprint overview show; the intervals are
    quantiles of the Monte Carlo draws. Counts are whole numbers.
    """
    s = result.headline(area_code)
    has_draws = "mean" in s and s["mean"].notna().any()
    out = pd.DataFrame({
        "Year": s["year"].astype(int),
        "Population": s["population"].round(0).astype(int),
        "Expected (central estimate)": s["expected"].round(0).astype(int),
    })
    if has_draws:
        for lo, hi, lab in (("q0.025", "q0.975", "95% interval"), ("q0.1", "q0.9", "80% interval")):
            if lo in s:
                out[lab] = [fmt.fmt_interval(a, b) for a, b in zip(s[lo], s[hi], strict=True)]
    out["Crude rate per 100,000 (2 d.p.)"] = [fmt.fmt_rate(v, 2) for v in s["crude_per_100k"]]
    return out


def centres_table(assessment) -> pd.DataFrame:
    """Critical-mass assessment by year: centres sustainable and probability of viability."""
    t = assessment.by_year
    out = pd.DataFrame({"Year": t["year"].astype(int)})
    out["Expected demand"] = t["expected"].round(0).astype(int)
    out["Centres sustainable (expected demand)"] = t["centres_on_mean"].astype(int)
    if "centres_sustainable_p80" in t:
        out["Centres sustainable (80% probability)"] = t["centres_sustainable_p80"].astype("Int64")
    if "caseload_per_centre" in t:
        out["Per centre with planned number"] = t["caseload_per_centre"].round(0).astype("Int64")
    if "p_viable" in t:
        out["P(all planned centres viable)"] = [fmt.fmt_probability(v) for v in t["p_viable"]]
    return out


def tiers_table(assessment) -> pd.DataFrame:
    """The commissioning tier of the service under each scheme, in words."""
    t = assessment.tiers
    return pd.DataFrame({
        "Scheme": [TIER_SCHEMES.get(s, s) for s in t["scheme"]],
        "Tier": list(t["label"].fillna("no tier")),
        "Position in band": [str(v).replace("_", " ") for v in t["status"]],
        "Note": [_plain(v) for v in t["note"]],
    })


def carter_table(assessment) -> pd.DataFrame:
    """The Carter review (2006) rules: whether each applies and what it recommends."""
    c = assessment.carter
    return pd.DataFrame({
        "Rule": [str(r).replace("_", " ").capitalize() for r in c["rule"]],
        "Applies": [fmt.fmt_bool(v) for v in c["fired"]],
        "Recommendation": [_plain(v) for v in c["recommendation"]],
        "Source": [_plain(v) for v in c["source"]],
    })


def stations_table(result, area_code: str | None = None, **capacity) -> pd.DataFrame:
    """In-centre haemodialysis stations and sessions needed by year (dialysis services).

    Uses :func:`hna.prevalence.capacity.stations_columns` (the one place of the arithmetic) on
    the expected value and the 97.5% quantile of the projected in-centre haemodialysis patients, at the
    planned ``occupancy`` (default 0.85); ``capacity`` passes sessions per week, shifts per day,
    days per week and ``occupancy`` through.
    """
    from hna.prevalence import patients_per_station, sessions_per_week
    from hna.prevalence.capacity import DEFAULT_OCCUPANCY, stations_columns

    occupancy = capacity.pop("occupancy", DEFAULT_OCCUPANCY)
    s = result.headline(area_code)
    # the expected value, as every other table of the report shows it (one value per quantity)
    mean = s["expected"]
    out = pd.DataFrame({"Year": s["year"].astype(int),
                        "ICHD patients (expected)": mean.round(0).astype(int)})
    upper = s["q0.975"] if "q0.975" in s else pd.Series(np.nan, index=s.index)
    st = stations_columns(pd.DataFrame({"mean": mean.to_numpy(), "q0.975": upper.to_numpy()}),
                          patients_per_station=patients_per_station(**capacity),
                          occupancy=occupancy)
    out["Stations needed (expected patients)"] = st["stations_on_mean"].to_numpy()
    if "stations_on_upper" in st:
        out["Stations needed (97.5% quantile)"] = st["stations_on_upper"].to_numpy()
    out["Station occupancy"] = fmt.fmt_percent(occupancy * 100)
    out["Sessions per week (expected patients)"] = [round(float(sessions_per_week(v)))
                                                     for v in mean]
    return out


def observed_counts(service, suppress_below: int = 5) -> pd.DataFrame | None:
    """The observed counts behind a service's rates, as published (disclosure-controlled).

    Only the counts the source published are shown (e.g. haemophilia: one national count for
    all ages and both sexes), never the age-sex cells derived from them, which are modelled
    figures. Counts from 1 to ``suppress_below - 1`` are written "fewer than N"; person-years
    and totals are left out so that a suppressed count cannot be recovered from other cells.

    Returns:
        ``Age band, Sex, Observed cases``, or None when the service has no counts.
    """
    if service.rates is None or not service.rates.counts:
        return None
    rows = []
    for c in service.rates.counts:
        n = float(c.cases)
        shown = (f"fewer than {suppress_below}" if 0 < n < suppress_below
                 else fmt.fmt_count(n))
        rows.append({"Age band": "all ages" if c.age_band == "all" else str(c.age_band),
                     "Sex": "persons" if c.sex == "persons" else str(c.sex),
                     "Observed cases": shown})
    return pd.DataFrame(rows)


def assumptions_table(service) -> pd.DataFrame:
    """The parameters a reviewer should check, each with its source."""
    def cite(sid: str | None) -> str:
        if not sid:
            return ""
        s = service.source(sid)
        sec = f", {s.section}" if s.section else ""
        return f"{s.publisher}, {s.title}{sec} ({s.year})"

    rows = []
    cm = service.critical_mass
    rows.append(("Critical mass", f"{cm.minimum_per_centre:,g} {cm.unit} ({cm.status.replace('_', ' ')})",
                 cite(cm.source)))
    if service.rates is not None:
        r = service.rates
        how = r.method or ("age-sex rates" if r.table else "counts and person-years" if r.counts
                           else f"file {r.file}")
        rows.append(("Rates", how, cite(r.source)))
    if service.model is not None:
        model = str(service.model.path).replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        rows.append(("Model", f"{model.replace('_', ' ')} model (measure: "
                     f"{_MEASURES.get(service.model.measure, service.model.measure)})",
                     cite(service.model.source)))
    p = service.projection
    proj = p.method
    if p.method == "trend" and p.annual_change_percent is not None:
        proj += f", {p.annual_change_percent:+g}% a year, damping {p.damping:g}"
    rows.append(("Rate projection", proj + (f". {p.note}" if p.note else ""), cite(p.source)))
    sc = service.scope
    ages = f"{sc.age_min:g}+" if sc.age_max is None else f"{sc.age_min:g}-{sc.age_max:g}"
    rows.append(("Population scope", f"ages {ages}, {', '.join(sc.sexes)}", sc.note or ""))
    if service.cost is not None:
        c = service.cost
        rows.append(("Cost", f"GBP {c.gbp:,.0f} per {c.per.replace('_', '-')} ({c.price_year} prices)",
                     cite(c.source)))
    rows.append(("Population", "ONS mid-2020 estimates projected with national age-sex growth "
                 "(ONS 2020-based interim NPP)", "ONS (Open Government Licence v3.0)"))
    out = pd.DataFrame(rows, columns=["Assumption", "Value", "Source"])
    return out.map(_plain)


def sources_table(service) -> pd.DataFrame:
    """Every source listed in the service file."""
    rows = [{"Publisher": s.publisher, "Title": s.title, "Section": s.section or "",
             "Year": s.year, "Note": s.note or ""} for s in service.sources]
    out = pd.DataFrame(rows)
    for col in ("Publisher", "Title", "Section", "Note"):
        if col in out:
            out[col] = out[col].map(_plain)
    return out


def provenance_table(meta: dict[str, Any], **extra: Any) -> pd.DataFrame:
    """The provenance rows of a result (delegates to :func:`hna.provenance.provenance_table`)."""
    from hna.provenance import provenance_table as _table

    return _table(meta, **extra)


def headline_record(assessment, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Flat headline numbers for the run index and the job's JSON file."""
    h = assessment.headline
    rec = {
        "service": h["service"], "footprint": h["footprint"], "footprint_name": h["footprint_name"],
        # the one central value the report shows: the expected value, a whole number
        f"demand_{h['now']['year']}": round(h["now"]["expected"]),
        f"demand_{h['horizon']['year']}": round(h["horizon"]["expected"]),
        f"centres_{h['now']['year']}": h["now"]["centres_on_mean"],
        f"centres_{h['horizon']['year']}": h["horizon"]["centres_on_mean"],
        "planned_centres": h["n_centres"],
        f"p_viable_{h['horizon']['year']}": round(h["horizon"].get("p_viable", float("nan")), 3),
        "tier_emscg_2009": h["tiers"].get("emscg_2009"),
        "planning_population": round(h["planning_population"]),
        "scenario": h.get("scenario"),
        "interval_includes": [x.split(":")[0] for x in h.get("interval_includes", [])],
        "sensitivity": h.get("sensitivity"),  # one-at-a-time table of the horizon year
    }
    rec.update(extra or {})
    return rec


def interval_lines(includes: list[str] | tuple[str, ...]) -> list[str]:
    """What the intervals include, for people: one line per source of uncertainty.

    ``includes`` is ``meta['interval_includes']`` (:func:`hna.service_uncertainty.describe_uncertainty`:
    ``"<input>: <what is sampled>; source: <citation>"``). The input's name becomes its label
    (``rate_level`` -> "Level of the rates", ``Poisson`` -> "Chance variation in cases
    (Poisson)", :data:`hna.sensitivity.LABELS`); lines without a known name (model services)
    are kept, in plain words.
    """
    from hna.prevalence.projection import LABELS as MODEL_LABELS
    from hna.sensitivity import LABELS

    out = []
    for line in includes:
        key, sep, rest = str(line).partition(":")
        label = LABELS.get(key.strip().lower())
        if sep and label:
            text = f"{label}:{rest}"
        elif sep and key.strip() == "parameter uncertainty":  # model services: input names
            names = [MODEL_LABELS.get(n.strip(), n.strip()) for n in rest.split(",")]
            text = f"{key}: " + fmt.fmt_list(n[:1].lower() + n[1:] for n in names)
        else:
            text = str(line)
        out.append(plain(text[:1].upper() + text[1:]))
    return out


def intervals_text(includes: list[str] | tuple[str, ...], bullets: bool = True) -> str:
    """What the intervals include, in Markdown, from :func:`interval_lines`.

    Args:
        includes: ``meta['interval_includes']``.
        bullets: a heading line and one bullet per source (default), or one paragraph
            (``"Intervals include: A. B."``).
    """
    lines = interval_lines(includes)
    if not lines:
        return "The figures are expected values only (no intervals)."
    if bullets:
        return "**Intervals include:**\n\n" + "\n".join(f"- {x}" for x in lines)
    return "Intervals include: " + " ".join(x.rstrip(".") + "." for x in lines)


def band_rates(result, year: int) -> pd.DataFrame:
    """Rates applied in ``year`` by sex and band, for :func:`hna.plots.band_rates`.

    Returns ``sex, age_band, rate`` (per person-year; the mean over the result's footprints).
    """
    base = result.by_band[result.by_band["year"] == year]
    rates = base.groupby(["sex", "age_band"], observed=True, as_index=False)["rate_per_100k"].mean()
    rates["rate"] = rates["rate_per_100k"] / 1e5
    return rates[["sex", "age_band", "rate"]]

"""Report-ready summaries: the summary box, demand and capacity tables, assumptions, sources
and provenance, as shown to reviewers in the rendered notebooks.

These functions format results computed elsewhere (``hna.demand``, ``hna.thresholds``,
``hna.prevalence``); they hold no modelling logic.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

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
    "table",
    "band_rates",
    "overview_services",
    "overview_matrix",
]


class HTML:
    """A fragment of HTML that notebooks display as rich output (and print as text)."""

    def __init__(self, body: str, text: str = "") -> None:
        self.body = body
        self.text = text or body

    def _repr_html_(self) -> str:
        return self.body

    def __str__(self) -> str:
        return self.text

    __repr__ = __str__


def _n(v: Any, digits: int = 0) -> str:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "n/a"
    return f"{v:,.{digits}f}"


def summary_box(assessment, result) -> HTML:
    """The headline box at the top of a service report.

    Shows demand now and at the horizon (mean and 95% interval), centres sustainable, the
    probability that the planned number of centres each reach critical mass, the tier of the
    service under each scheme and the verdict in words.
    """
    h = assessment.headline
    now, hor = h["now"], h["horizon"]

    def interval(r: dict) -> str:
        return f" ({_n(r.get('q0.025'))}&ndash;{_n(r.get('q0.975'))})" if "q0.025" in r else ""

    def prob(r: dict) -> str:
        return f"{r['p_viable']:.2f}" if "p_viable" in r else "n/a"

    tiers = ", ".join(f"{html.escape(s)}: <b>{html.escape(str(t or 'no tier'))}</b>"
                      for s, t in h["tiers"].items())
    rows = [
        ("Demand measure", html.escape(h["measure"])),
        (f"Expected in {now['year']} (95% interval)", f"<b>{_n(now['mean'])}</b>{interval(now)}"),
        (f"Expected in {hor['year']} (95% interval)", f"<b>{_n(hor['mean'])}</b>{interval(hor)}"),
        ("Critical mass per " + html.escape(h["centre"]),
         f"{_n(h['minimum_per_centre'])} ({html.escape(h['minimum_status'].replace('_', ' '))}: "
         f"{html.escape(h['minimum_source'])})"),
        (f"Centres sustainable on the mean, {now['year']} / {hor['year']}",
         f"<b>{now['centres_on_mean']}</b> / <b>{hor['centres_on_mean']}</b>"),
        (f"Probability each of {h['n_centres']} reaches critical mass, {now['year']} / {hor['year']}",
         f"{prob(now)} / {prob(hor)}"),
        ("Minimum planning population (England crude rate)", _n(h["planning_population"])),
        ("Commissioning tier of the service", tiers),
        ("Parameter quality", html.escape(str(h["quality"]))),
    ]
    body = "".join(f"<tr><th style='text-align:left'>{k}</th><td>{v}</td></tr>" for k, v in rows)
    verdict = "<br>".join(html.escape(x) for x in assessment.verdict.split("\n"))
    box = (
        "<div style='border:2px solid #0072B2;border-radius:6px;padding:10px 14px;"
        "background:#F3F8FC;max-width:60em'>"
        f"<h3 style='margin-top:0'>{html.escape(h['service_name'])}: "
        f"{html.escape(h['footprint_name'])} ({html.escape(h['footprint'])})</h3>"
        f"<table>{body}</table><p style='margin-bottom:0'><b>Verdict.</b> {verdict}</p></div>"
    )
    return HTML(box, assessment.verdict)


def demand_table(result, area_code: str | None = None) -> pd.DataFrame:
    """Projected demand by year for display: population, expected, mean and intervals."""
    s = result.headline(area_code)
    out = pd.DataFrame({
        "Year": s["year"].astype(int),
        "Population": s["population"].round(0).astype(int),
        "Expected": s["expected"].round(1),
    })
    if "mean" in s and s["mean"].notna().any():
        out["Mean of draws"] = s["mean"].round(1)
        for lo, hi, lab in (("q0.025", "q0.975", "95% interval"), ("q0.1", "q0.9", "80% interval")):
            if lo in s:
                out[lab] = [f"{a:,.0f} to {b:,.0f}" for a, b in zip(s[lo], s[hi], strict=True)]
    out["Crude rate per 100,000"] = s["crude_per_100k"].round(2)
    return out


def centres_table(assessment) -> pd.DataFrame:
    """Critical-mass assessment by year: centres sustainable and probability of viability."""
    t = assessment.by_year
    cols = {"year": "Year", "mean": "Mean demand", "centres_on_mean": "Centres sustainable (mean)",
            "caseload_per_centre": "Per centre with planned number",
            "p_viable": "P(all planned centres viable)"}
    keep = [c for c in cols if c in t.columns]
    out = t[keep].rename(columns=cols)
    if "Mean demand" in out:
        out["Mean demand"] = out["Mean demand"].round(1)
    if "Per centre with planned number" in out:
        out["Per centre with planned number"] = out["Per centre with planned number"].round(1)
    if "P(all planned centres viable)" in out:
        out["P(all planned centres viable)"] = out["P(all planned centres viable)"].round(3)
    return out


def stations_table(result, area_code: str | None = None, **capacity) -> pd.DataFrame:
    """In-centre haemodialysis stations and sessions needed by year (dialysis services).

    Uses :func:`hna.prevalence.capacity.stations_columns` (the one place of the arithmetic) on
    the mean and the 97.5% quantile of the projected in-centre haemodialysis patients, at the
    planned ``occupancy`` (default 0.85); ``capacity`` passes sessions per week, shifts per day,
    days per week and ``occupancy`` through.
    """
    from hna.prevalence import patients_per_station, sessions_per_week
    from hna.prevalence.capacity import DEFAULT_OCCUPANCY, stations_columns

    occupancy = capacity.pop("occupancy", DEFAULT_OCCUPANCY)
    s = result.headline(area_code)
    mean = s["mean"] if s["mean"].notna().any() else s["expected"]
    out = pd.DataFrame({"Year": s["year"].astype(int), "ICHD patients (mean)": mean.round(0).astype(int)})
    upper = s["q0.975"] if "q0.975" in s else pd.Series(np.nan, index=s.index)
    st = stations_columns(pd.DataFrame({"mean": mean.to_numpy(), "q0.975": upper.to_numpy()}),
                          patients_per_station=patients_per_station(**capacity),
                          occupancy=occupancy)
    out["Stations needed (mean)"] = st["stations_on_mean"].to_numpy()
    if "stations_on_upper" in st:
        out["Stations needed (97.5% quantile)"] = st["stations_on_upper"].to_numpy()
    out["Station occupancy"] = occupancy
    out["Sessions per week (mean)"] = [round(float(sessions_per_week(v))) for v in mean]
    return out


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
        rows.append(("Model", f"{service.model.path} (measure: {service.model.measure})",
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
    return pd.DataFrame(rows, columns=["Assumption", "Value", "Source"])


def sources_table(service) -> pd.DataFrame:
    """Every source listed in the service file."""
    rows = [{"Id": s.id, "Publisher": s.publisher, "Title": s.title, "Section": s.section or "",
             "Year": s.year, "Note": s.note or ""} for s in service.sources]
    return pd.DataFrame(rows)


def provenance_table(meta: dict[str, Any], **extra: Any) -> pd.DataFrame:
    """Hna version, parameter hash, seed, draws, projection and data vintages of a result."""
    import hna

    rows = [("hna version", meta.get("hna_version", hna.__version__)),
            ("Service", meta.get("service", "")),
            ("Parameter hash (sha256)", meta.get("parameter_hash", "")),
            ("Seed", meta.get("seed", "")), ("Monte Carlo draws", meta.get("draws", "")),
            ("Population projection", meta.get("projection", ""))]
    rows += [(k, v) for k, v in extra.items()]
    vint = hna.data_vintages()
    for s in vint.get("sources", []):
        rows.append((f"Data: {s['dataset']}", f"{s['vintage']} (sha256 {s['sha256'][:12]})"))
    return pd.DataFrame(rows, columns=["Item", "Value"]).astype({"Value": str})


def headline_record(assessment, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Flat headline numbers for the run index and the job's JSON file."""
    h = assessment.headline
    rec = {
        "service": h["service"], "footprint": h["footprint"], "footprint_name": h["footprint_name"],
        f"demand_{h['now']['year']}": round(h["now"]["mean"], 1),
        f"demand_{h['horizon']['year']}": round(h["horizon"]["mean"], 1),
        f"centres_{h['now']['year']}": h["now"]["centres_on_mean"],
        f"centres_{h['horizon']['year']}": h["horizon"]["centres_on_mean"],
        "planned_centres": h["n_centres"],
        f"p_viable_{h['horizon']['year']}": round(h["horizon"].get("p_viable", float("nan")), 3),
        "tier_emscg_2009": h["tiers"].get("emscg_2009"),
        "planning_population": round(h["planning_population"]),
    }
    rec.update(extra or {})
    return rec


def table(df: pd.DataFrame, caption: str | None = None, precision: int = 1):
    """A readable table for reports: no index, thousands separators, an optional caption."""
    df = df.copy()
    for c in df.columns:
        if str(c).lower() in {"year", "years", "base_year", "horizon"}:
            df[c] = df[c].astype(str)
    sty = df.style.hide(axis="index").format(thousands=",", precision=precision, na_rep="")
    if caption:
        sty = sty.set_caption(caption)
    return sty.set_table_styles([
        {"selector": "caption", "props": "caption-side: top; font-weight: bold; text-align: left;"},
        {"selector": "th", "props": "text-align: left; padding: 2px 8px;"},
        {"selector": "td", "props": "padding: 2px 8px;"},
    ])


def band_rates(result, year: int) -> pd.DataFrame:
    """Rates applied in ``year`` by sex and band (``sex, age_band, rate`` per person-year; the
    mean over the result's footprints), for :func:`hna.plots.band_rates`.
    """
    base = result.by_band[result.by_band["year"] == year]
    rates = base.groupby(["sex", "age_band"], observed=True, as_index=False)["rate_per_100k"].mean()
    rates["rate"] = rates["rate_per_100k"] / 1e5
    return rates[["sex", "age_band", "rate"]]


def overview_services(overview: pd.DataFrame) -> pd.DataFrame:
    """One row per service of :func:`hna.thresholds.overview`: critical mass, minimum planning
    population, tier, total demand in the first year and how many footprints fit.
    """
    return (overview.groupby(["service", "service_name"], as_index=False)
            .agg(minimum_per_centre=("minimum_per_centre", "first"),
                 planning_population=("planning_population", "first"),
                 tier=("tier", "first"),
                 total_demand_now=("demand_now", "sum"),
                 footprints_that_fit=("fits", "sum"), footprints=("fits", "size")))


def overview_matrix(overview: pd.DataFrame, value: str = "centres_horizon") -> pd.DataFrame:
    """Footprints x services table of one column of :func:`hna.thresholds.overview`."""
    return overview.pivot_table(index=["area_code", "name"], columns="service",
                                values=value).reset_index()

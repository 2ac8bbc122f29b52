"""Critical mass: centres sustainable, planning population, viability by allocation, tiers.

"The critical mass is the smallest number of patients that it is considered safe and
cost-effective to treat by any individual clinician or centre" (East Midlands SCG annual report
2008/09). With a minimum ``m`` new cases (or patients) per centre a year:

- arithmetic centres: ``floor(demand / m)``, per year, on the mean and on each draw
  (:func:`centres_sustainable`): how many centres the demand could fill if it were split
  perfectly evenly; not a probability statement;
- minimum planning population: ``m / crude rate`` (crude rate per person a year, whole
  population), in people (:func:`planning_population`);
- viability of ``k`` centres by allocation (:func:`allocate`, :func:`viability`): each Monte
  Carlo draw's cases ``N_d`` are split between the centres as patients are,
  ``(X_1, ..., X_k) ~ Multinomial(N_d, shares)`` (catchment shares from a designation, or equal
  shares when none is given), and ``P(every centre >= m)`` is the share of draws in which the
  smallest ``X_i`` reaches ``m``; ``E[min_i X_i]`` is the expected smallest caseload. When
  ``k`` is not given, "centres sustainable with 80% probability" is the largest ``k`` (equal
  shares) with ``P(every centre >= m) >= 0.8`` (the level is configurable);
- first year a footprint crosses a threshold (:func:`first_year`);
- commissioning tier of the service from its minimum planning population under each scheme of
  ``parameters/tiers.yaml`` (:func:`service_tiers`, via :func:`hna.tiers.tier_for_service`).

:func:`assess` puts these together for a :class:`hna.demand.DemandResult` and the national
demand it is given (it does not recompute England's demand), and writes a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hna.codes import ENGLAND
from hna.errors import ParameterError
from hna.formatting import fmt_probability
from hna.viability import (
    _EPS,
    DEFAULT_LEVEL,
    _level,
    _positive,
    _shares,
    allocate,
    probability_centres_viable,
    viability,
)

__all__ = [
    "centres_sustainable",
    "planning_population",
    "probability_centres_viable",
    "allocate",
    "viability",
    "national_crude_rate",
    "DEFAULT_LEVEL",
    "first_year",
    "centres_table",
    "service_tiers",
    "Assessment",
    "assess",
    "overview",
]





def centres_sustainable(demand: Any, minimum_per_centre: float) -> Any:
    """``floor(demand / minimum_per_centre)``: how many centres the demand can keep at the minimum.

    Works on a number, an array (e.g. draws) or a Series; returns integers of the same shape.
    """
    m = _positive(minimum_per_centre, "minimum_per_centre")
    if isinstance(demand, pd.Series):
        return pd.Series(np.floor(demand.to_numpy(dtype=float) / m + _EPS).astype(np.int64),
                         index=demand.index, name=demand.name)
    arr = np.asarray(demand, dtype=float)
    if np.any(arr < 0) or np.any(~np.isfinite(arr)):
        raise ParameterError("demand must be finite and non-negative", field="demand")
    out = np.floor(arr / m + _EPS).astype(np.int64)
    return out.item() if out.ndim == 0 else out


def planning_population(minimum_per_centre: float, crude_rate: float) -> float:
    """Minimum planning population (people) = minimum per centre / crude rate per person a year.

    Args:
        minimum_per_centre: the critical mass (cases or patients per centre a year).
        crude_rate: demand per person a year in the whole population (e.g. 7.7e-5 for 7.7
            per 100,000).
    """
    m = _positive(minimum_per_centre, "minimum_per_centre")
    r = _positive(crude_rate, "crude_rate")
    return m / r


def first_year(years: Sequence[int], values: Sequence[float], threshold: float) -> int | None:
    """First year in which ``values`` reach ``threshold`` (``None`` if never)."""
    ys = np.asarray(years)
    vs = np.asarray(values, dtype=float)
    order = np.argsort(ys)
    hit = np.flatnonzero(vs[order] >= threshold - _EPS)
    return int(ys[order][hit[0]]) if len(hit) else None


def level_column(level: float = DEFAULT_LEVEL) -> str:
    """Column name of "centres sustainable with <level> probability": ``centres_sustainable_p80``."""
    return f"centres_sustainable_p{_level(level) * 100:g}"


def centres_table(
    result: Any,
    n_centres: int | None = None,
    shares: Sequence[float] | None = None,
    minimum_per_centre: float | None = None,
    *,
    level: float = DEFAULT_LEVEL,
    split: str | None = None,
) -> pd.DataFrame:
    """Per footprint and year: demand, centres sustainable and viability by allocation.

    Columns: the demand summary (``area_code, name, year, population, expected, mean,
    q...``), then ``centres_on_mean`` (arithmetic: floor of the expected demand / minimum),
    ``centres_q0.025``, ``centres_q0.5``, ``centres_q0.975`` (quantiles of floor(draw /
    minimum)); with draws, from :func:`viability`: ``centres_sustainable_p80`` (largest k
    whose P(every centre >= minimum) >= ``level``, when ``n_centres`` is not given),
    ``n_centres``, ``p_viable`` (P(every centre >= minimum), cases allocated by multinomial),
    ``expected_smallest_caseload``, ``split``; and ``caseload_per_centre`` (expected demand x
    smallest share) when ``n_centres`` is given.
    """
    svc = result.service
    m = _positive(minimum_per_centre if minimum_per_centre is not None
                  else svc.critical_mass.minimum_per_centre, "minimum_per_centre")
    t = result.summary.copy()
    # on the expected demand, the central value every report shows
    t["centres_on_mean"] = centres_sustainable(t["expected"], m)
    seed = int(result.meta.get("seed", 1) or 0)
    if not result.draws.empty:
        keys, mat = result.matrix()
        keys = keys.copy()
        cen = np.floor(mat / m + _EPS)
        for q in (0.025, 0.5, 0.975):
            keys[f"centres_q{q:g}"] = np.quantile(cen, q, axis=1, method="lower").astype(
                np.int64)
        parts = []
        for area in dict.fromkeys(keys["area_code"]):
            sel = (keys["area_code"] == area).to_numpy()
            v = viability(mat[sel], m, n_centres, shares, seed=seed,
                          years=keys.loc[sel, "year"].tolist(), level=level, split=split)
            v = v.rename(columns={"p_all_viable": "p_viable",
                                  "centres_sustainable_at_level": level_column(level)})
            v.insert(0, "area_code", area)
            parts.append(v.drop(columns=["mean", "centres_on_mean", "mean_per_centre",
                                         "level"]))
        keys = keys.merge(pd.concat(parts, ignore_index=True), on=["area_code", "year"])
        t = t.merge(keys, on=["area_code", "year"], how="left")
    if n_centres is not None:
        s = _shares(n_centres, shares)
        t.insert(t.columns.get_loc("centres_on_mean") + 1, "caseload_per_centre",
                 t["expected"] * s.min())
        if "p_viable" not in t.columns:
            t["p_viable"] = np.nan
    return t


def national_crude_rate(national: Any, year: int) -> float:
    """England crude rate per person a year in ``year``, from national demand.

    Args:
        national: a :class:`hna.demand.DemandResult` covering E92000001 and ``year``
            (``draws=0`` is enough), or the crude rate itself (a number, per person).
        year: the year.
    """
    if isinstance(national, int | float | np.floating) and not isinstance(national, bool):
        return _positive(national, "national")
    summary = getattr(national, "summary", None)
    if summary is None:
        raise ParameterError("national demand must be a DemandResult for E92000001 or a "
                             "crude rate", field="national", value=type(national).__name__)
    row = summary[(summary["area_code"] == ENGLAND) & (summary["year"] == int(year))]
    if row.empty:
        raise ParameterError("national demand does not cover England in this year",
                             field="national", value=int(year),
                             hint="Pass service_demand(service, 'E92000001', years=..., "
                             "draws=0)")
    r = row.iloc[0]
    return float(r["expected"] / r["population"])


def service_tiers(
    service: Any,
    min_planning_population: float,
    schemes: Sequence[str] | None = None,
    edges: str | None = None,
) -> pd.DataFrame:
    """Commissioning tier under each scheme for a minimum planning population.

    Uses :func:`hna.tiers.tier_for_service`; schemes and the band-edge rule default to the
    service's ``tiers`` settings (edges then to ``parameters/tiers.yaml``).
    """
    from hna.tiers import service_tiers as _service_tiers

    p = _positive(min_planning_population, "min_planning_population")
    return _service_tiers(service, p, schemes, edges)


# --------------------------------------------------------------------------------------------
# Assessment
# --------------------------------------------------------------------------------------------


@dataclass
class Assessment:
    """Critical-mass assessment of a service in a footprint.

    Attributes:
        by_year: :func:`centres_table` for the footprint.
        headline: the figures a reader wants first (dict; JSON-friendly).
        tiers: tier of the service under each scheme (from the England planning population).
        carter: the Carter review rules (:func:`hna.carter.carter_rules`) for the service.
        verdict: plain-text answer.
    """

    by_year: pd.DataFrame
    headline: dict[str, Any]
    tiers: pd.DataFrame
    carter: pd.DataFrame
    verdict: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """The verdict."""
        return self.verdict

    def to_dict(self) -> dict[str, Any]:
        """Headline, tiers and verdict as plain Python objects (for JSON)."""
        return {"headline": self.headline, "verdict": self.verdict,
                "tiers": self.tiers[["scheme", "tier", "label", "status", "note"]].to_dict(
                    "records")}

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return ("<p>" + self.verdict.replace("\n", "<br>") + "</p>"
                + self.by_year.to_html(index=False, float_format=lambda v: f"{v:,.1f}"))


def _fmt(v: float) -> str:
    return f"{v:,.0f}"


@dataclass(frozen=True)
class _Plan:
    """What :func:`assess` is asked about (the keyword-only settings)."""

    n_centres: int | None
    shares: Sequence[float] | None
    split: str | None
    level: float
    confidence: float


def assess(  # noqa: PLR0913 - documented notebook API; settings are keyword-only
    result: Any,
    service: Any = None,
    n_centres: int | None = None,
    *,
    national: Any = None,
    shares: Sequence[float] | None = None,
    split: str | None = None,
    level: float = DEFAULT_LEVEL,
    now: int | None = None,
    horizon: int | None = None,
    confidence: float = 0.9,
    area_code: str | None = None,
    edges: str | None = None,
) -> Assessment:
    """Can the footprint sustain ``n_centres`` centres at the service's critical mass?

    Args:
        result: a :class:`hna.demand.DemandResult` with draws (one footprint, or name it with
            ``area_code``).
        service: the service (default: ``result.service``).
        n_centres: centres planned (default: the largest number sustainable with ``level``
            probability in ``now``, at least 1).
        national: England's demand (a DemandResult for E92000001; ``draws=0`` is enough) or
            England's crude rate per person, for the planning population and tiers; omitted
            -> taken from ``result`` when it covers England.
        shares: catchment shares of the centres (e.g. from a designation; equal if omitted).
        split: how the shares were obtained (reported).
        level: probability for "centres sustainable with 80% probability".
        now: first year to report (default the first year of the result).
        horizon: last year to report (default the last year of the result).
        confidence: probability used for "first year viable with probability >= confidence".
        area_code: footprint to assess when the result holds several.
        edges: band-edge rule for the tiers (default from the service, then tiers.yaml).

    Returns:
        :class:`Assessment` (``by_year``, ``headline``, ``tiers``, ``carter``, ``verdict``).
    """
    from hna.services import load_service

    svc = load_service(service) if service is not None else result.service
    area = result._area(area_code)
    years = result.years
    now = years[0] if now is None else int(now)
    horizon = years[-1] if horizon is None else int(horizon)
    for name, y in (("now", now), ("horizon", horizon)):
        if y not in years:
            raise ParameterError("year not in the demand result", field=name, value=y,
                                 hint=f"The result covers {years[0]}-{years[-1]}")
    if not 0 < confidence < 1:
        raise ParameterError("must be between 0 and 1", field="confidence", value=confidence)
    if national is None:
        if ENGLAND not in result.areas:
            raise ParameterError(
                "assess needs England's demand for the planning population and tiers",
                field="national", value=None,
                hint="Pass national=service_demand(service, 'E92000001', years=..., draws=0)")
        national = result
    plan = _Plan(n_centres, shares, split, _level(level), confidence)
    return _assess(result, svc, area, (now, horizon), national, plan, edges)


def _at(table: pd.DataFrame, year: int, lcol: str) -> dict[str, Any]:
    """The headline figures of one year of the centres table."""
    r = table[table["year"] == year].iloc[0]
    out = {"year": year, "population": float(r["population"]),
           "expected": float(r["expected"]), "mean": float(r["mean"]),
           "centres_on_mean": int(r["centres_on_mean"]),
           "caseload_per_centre": float(r["caseload_per_centre"])}
    for q in ("q0.025", "q0.1", "q0.5", "q0.9", "q0.975"):
        if q in r and pd.notna(r[q]):
            out[q] = float(r[q])
    if "p_viable" in r and pd.notna(r["p_viable"]):
        out["p_viable"] = float(r["p_viable"])
        out["expected_smallest_caseload"] = float(r["expected_smallest_caseload"])
    if lcol in r and pd.notna(r[lcol]):
        out[lcol] = int(r[lcol])
    return out


def _assess(result: Any, svc: Any, area: str, years: tuple[int, int], national: Any,
            plan: _Plan, edges: str | None) -> Assessment:
    from hna.carter import carter_rules

    now, horizon = years
    cm = svc.critical_mass
    m = cm.minimum_per_centre
    row_now = result.summary[(result.summary["area_code"] == area)
                             & (result.summary["year"] == now)].iloc[0]
    has_draws = not result.draws.empty
    lcol = level_column(plan.level)
    free = None
    if has_draws:  # centres sustainable at the level, searched in the two reported years only
        yrs = sorted({now, horizon})
        mat = result.draws_matrix(area)[[result.years.index(y) for y in yrs]]
        free = viability(mat, m, None, seed=int(result.meta.get("seed", 1) or 0), years=yrs,
                         level=plan.level).set_index("year")["centres_sustainable_at_level"]
    n_centres = plan.n_centres
    if n_centres is None:
        n_centres = (max(1, int(free.loc[now])) if free is not None
                     else max(1, int(centres_sustainable(row_now["expected"], m))))
    table = centres_table(result, n_centres, plan.shares, level=plan.level, split=plan.split)
    table = table[table["area_code"] == area].reset_index(drop=True)
    if free is not None:
        table[lcol] = table["year"].map(free).astype("Int64")

    eng_crude = national_crude_rate(national, now)
    plan_pop = planning_population(m, eng_crude)
    fp_crude = float(row_now["expected"] / row_now["population"]) if row_now["expected"] else 0.0
    fp_plan = planning_population(m, fp_crude) if fp_crude > 0 else float("inf")
    tiers = service_tiers(svc, plan_pop, edges=edges)
    national_now = eng_crude * _england_population(now, national)
    carter = carter_rules(plan_pop, national_now)
    s = _shares(n_centres, plan.shares)

    first_mean = first_year(table["year"], table["expected"], m / s.min())
    first_p = (first_year(table["year"], table["p_viable"], plan.confidence)
               if has_draws else None)
    headline: dict[str, Any] = {
        "service": svc.id, "service_name": svc.name, "footprint": area,
        "footprint_name": str(row_now["name"]), "scenario": result.meta.get("scenario"),
        "measure": svc.measure, "minimum_per_centre": m, "unit": cm.unit, "centre": cm.centre,
        "kind": svc.kind, "minimum_status": cm.status,
        "minimum_source": _short_cite(svc, cm.source),
        "n_centres": int(n_centres),
        "n_centres_given": plan.n_centres is not None,
        "split": (table["split"].iloc[0] if "split" in table and has_draws else
                  "equal shares (no designation given)" if plan.shares is None else
                  "catchment shares given"),
        "shares": [float(x) for x in s],
        "allocation": "multinomial: each draw's cases split between centres on the shares",
        "level": plan.level,
        "centres_label": f"centres sustainable with {plan.level:.0%} probability",
        "centres_on_mean_label": "arithmetic centres: floor(expected demand / minimum)",
        "demand_needed": m / s.min(),
        "now": _at(table, now, lcol), "horizon": _at(table, horizon, lcol),
        "first_year_mean_reaches": first_mean,
        f"first_year_p_viable_{plan.confidence:g}": first_p,
        "england_crude_per_100k": eng_crude * 1e5,
        "planning_population": plan_pop,
        "footprint_crude_per_100k": fp_crude * 1e5,
        "footprint_planning_population": fp_plan,
        "tiers": {r["scheme"]: (None if pd.isna(r["tier"]) else r["tier"])
                  for _, r in tiers.iterrows()},
        "tier_status": {r["scheme"]: r["status"] for _, r in tiers.iterrows()},
        "quality": svc.quality,
        "interval_includes": list(result.meta.get("interval_includes", [])),
        "seed": result.meta.get("seed"), "draws": result.meta.get("draws"),
    }
    headline.update(_sensitivity(result, area, horizon))
    verdict = _verdict(headline, plan.confidence, has_draws)
    return Assessment(by_year=table, headline=headline, tiers=tiers, carter=carter,
                      verdict=verdict, meta=dict(result.meta))


def _sensitivity(result: Any, area: str, year: int) -> dict[str, Any]:
    """The one-at-a-time sensitivity table of the horizon year (rate services with draws)."""
    from hna.sensitivity import dominant_text, sensitivity

    ms = result.meta.get("model_sensitivity")  # model services (dialysis): hna.prevalence
    if ms and area in ms["by_area"] and not result.draws.empty:
        t = pd.DataFrame(ms["by_area"][area])
        t.attrs = {"year": ms["year"], "area_code": area}
        year = ms["year"]
    elif getattr(result, "rate_model", None) is None or result.draws.empty:
        return {}
    else:
        t = sensitivity(result, year, area_code=area)
    return {"sensitivity": {
        "year": year, "method": "one at a time: each input sampled alone, others central; "
        "share = its variance / sum of the one-at-a-time variances",
        "dominant": dominant_text(t),
        "table": [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}
                  for r in t.to_dict("records")]}}


def _short_cite(svc: Any, source_id: str) -> str:
    s = svc.source(source_id)
    return f"{s.publisher}, {s.title} ({s.year})"


def _england_population(year: int, national: Any = None) -> float:
    summary = getattr(national, "summary", None)
    if summary is not None:
        row = summary[(summary["area_code"] == ENGLAND) & (summary["year"] == int(year))]
        if not row.empty:
            return float(row.iloc[0]["population"])
    from hna.population import default_population, project

    pop = default_population()
    if year != int(pop["year"].iloc[0]):
        pop = project(pop, [year])
    return float(pop["population"].sum())


def _verdict(h: dict[str, Any], confidence: float, has_draws: bool) -> str:
    k = h["n_centres"]
    m = h["minimum_per_centre"]
    centre = h["centre"]
    plural = centre if k == 1 else (centre + "s" if not centre.endswith("s") else centre)
    per_year = " a year" if h["kind"] == "incidence" else ""
    lines = [
        f"{h['service_name']} in {h['footprint_name']} ({h['footprint']}): "
        f"{k} {plural}, each needing at least {_fmt(m)} {h['unit'].split(' per ')[0]}{per_year} "
        f"({h['minimum_status'].replace('_', ' ')}: {h['minimum_source']}); "
        f"cases allocated between the {plural} on {h['split']}"
        + ("" if h["n_centres_given"] else
           f" ({k} = {h['centres_label']} in {h['now']['year']})") + ".",
    ]
    lcol = f"centres_sustainable_p{h['level'] * 100:g}"
    for key in ("now", "horizon"):
        r = h[key]
        interval = (f" (95% interval {_fmt(r['q0.025'])}-{_fmt(r['q0.975'])})"
                    if "q0.025" in r else "")
        central = r["expected"]  # the one central value a report shows
        line = (f"{r['year']}: {_fmt(central)} {h['measure']} expected{interval}; "
                f"arithmetic centres floor(expected / minimum) = {r['centres_on_mean']}; "
                f"about {_fmt(r['caseload_per_centre'])} per {centre} with {k}.")
        if lcol in r:
            line += f" {h['centres_label'].capitalize()}: {r[lcol]}."
        if has_draws and "p_viable" in r:
            p = r["p_viable"]
            answer = ("yes" if p >= confidence else "no" if p <= 1 - confidence
                      else "uncertain")
            line += (f" Probability that {'each of the ' + str(k) if k > 1 else 'the'} "
                     f"{plural} reach{'es' if k == 1 else ''} {_fmt(m)} (by allocation): "
                     f"{fmt_probability(p)} ({answer}); expected smallest caseload "
                     f"{_fmt(r['expected_smallest_caseload'])}.")
        lines.append(line)
    if h.get("interval_includes"):
        from hna.sensitivity import LABELS

        names = [x.split(":")[0].strip() for x in h["interval_includes"]]
        labels = [LABELS[n.lower()][:1].lower() + LABELS[n.lower()][1:]
                  if n.lower() in LABELS else n for n in names]
        lines.append("Intervals include: " + "; ".join(labels) + ".")
    if h.get("sensitivity"):
        lines.append(h["sensitivity"]["dominant"])
    if h["first_year_mean_reaches"] is not None and h["first_year_mean_reaches"] > h["now"]["year"]:
        lines.append(f"The expected demand first reaches {_fmt(h['demand_needed'])} in "
                     f"{h['first_year_mean_reaches']}.")
    if h["now"]["mean"] < m:
        lines.append(f"The footprint's {h['now']['year']} demand is below one {centre}'s minimum: "
                     f"plan it with neighbouring footprints (minimum planning population "
                     f"{_fmt(h['planning_population'])}, footprint population "
                     f"{_fmt(h['now']['population'])}).")
    tiers = "; ".join(
        f"{s}: {t or 'no tier (' + h['tier_status'][s].replace('_', ' ') + ')'}"
        for s, t in h["tiers"].items())
    lines.append(
        f"Minimum planning population {_fmt(h['planning_population'])} people "
        f"(= {_fmt(m)} / England crude rate {h['england_crude_per_100k']:.2f} per 100,000); "
        f"tier {tiers}. Parameter quality: {h['quality']}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Overview: which footprint fits which service
# --------------------------------------------------------------------------------------------


def overview(
    services: Sequence[Any],
    level: str | None = "nhs_region",
    footprints: Sequence[str] | None = None,
    years: Sequence[int] = (2025, 2040),
    *,
    edges: str | None = None,
) -> pd.DataFrame:
    """Demand, centres sustainable and fit of every footprint for every service.

    For each service and footprint (all footprints of ``level``, or an explicit list), the
    expected annual demand in the first and last of ``years`` (deterministic: rate x
    population, or the model's expected-value run), the centres it sustains at the service's
    critical mass (floor(demand / minimum)), the service's minimum planning population (minimum /
    England crude rate) and its commissioning tier under the first scheme of the service file.
    A footprint "fits" a service when it sustains at least one centre at the horizon.

    Returns:
        One row per service x footprint: ``service, service_name, area_code, name, population,
        demand_now, demand_horizon, centres_now, centres_horizon, minimum_per_centre,
        planning_population, tier, fits``.
    """
    from hna.demand import level_demand, service_demand
    from hna.services import load_service

    ys = sorted({int(y) for y in years})
    if len(ys) < 1:
        raise ParameterError("no years given", field="years", value=years)
    now, horizon = ys[0], ys[-1]
    rows = []
    for s in services:
        svc = load_service(s)
        if footprints:
            res = service_demand(svc, list(footprints), years=[now, horizon], draws=0)
        else:
            res = level_demand(svc, level or "nhs_region", years=[now, horizon], draws=0)
        m = svc.critical_mass.minimum_per_centre
        england = service_demand(svc, ENGLAND, years=[now], draws=0)
        plan = planning_population(m, national_crude_rate(england, now))
        tiers = service_tiers(svc, plan, edges=edges)
        tier = tiers["tier"].iloc[0] if len(tiers) else None
        piv = res.summary.pivot_table(index=["area_code", "name"], columns="year",
                                      values=["expected", "population"], observed=True)
        for (code, name), r in piv.iterrows():
            d_now, d_hor = float(r[("expected", now)]), float(r[("expected", horizon)])
            rows.append({
                "service": svc.id, "service_name": svc.name, "area_code": code, "name": name,
                "population": float(r[("population", now)]),
                "demand_now": d_now, "demand_horizon": d_hor,
                "centres_now": int(centres_sustainable(d_now, m)),
                "centres_horizon": int(centres_sustainable(d_hor, m)),
                "minimum_per_centre": m, "planning_population": plan,
                "tier": None if pd.isna(tier) else tier,
                "fits": bool(centres_sustainable(d_hor, m) >= 1),
            })
    out = pd.DataFrame(rows)
    out.attrs["years"] = (now, horizon)
    return out

"""Critical mass: centres sustainable, planning population, viability probability, tiers.

"The critical mass is the smallest number of patients that it is considered safe and
cost-effective to treat by any individual clinician or centre" (East Midlands SCG annual report
2008/09). With a minimum ``m`` new cases (or patients) per centre a year:

- centres sustainable: ``floor(demand / m)``, per year, on the mean and on each draw
  (:func:`centres_sustainable`);
- minimum planning population: ``m / crude rate`` (crude rate per person a year, whole
  population), in people (:func:`planning_population`): the smallest population that yields
  ``m`` cases a year;
- probability that ``k`` centres each reach ``m``: the share of Monte Carlo draws in which
  every centre's caseload is at least ``m``, the draw's demand being split between the centres
  by a stated rule: equal shares, or the catchment shares given
  (:func:`probability_centres_viable`). The split is deterministic (centre ``i`` gets
  ``share_i x demand``), so all ``k`` centres are viable exactly when
  ``demand >= m / min(share)``;
- first year a footprint crosses a threshold (:func:`first_year`);
- commissioning tier of the service from its minimum planning population under each scheme of
  ``parameters/tiers.yaml`` (:func:`service_tiers`, via :func:`hna.tiers.tier_for_service`).

:func:`assess` puts these together for a :class:`hna.demand.DemandResult` and writes a verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import ParameterError

__all__ = [
    "centres_sustainable",
    "planning_population",
    "probability_centres_viable",
    "first_year",
    "centres_table",
    "service_tiers",
    "Assessment",
    "assess",
    "overview",
]

_EPS = 1e-9  # so that 200 / 100 is 2 centres despite floating point


def _positive(x: Any, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ParameterError("must be a number", field=name, value=x) from None
    if not np.isfinite(v) or v <= 0:
        raise ParameterError("must be a positive number", field=name, value=x)
    return v


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


def _shares(n_centres: int, shares: Sequence[float] | None) -> np.ndarray:
    if isinstance(n_centres, bool) or not isinstance(n_centres, int | np.integer) or n_centres < 1:
        raise ParameterError("the number of centres must be a whole number >= 1",
                             field="n_centres", value=n_centres)
    if shares is None:
        return np.full(int(n_centres), 1.0 / n_centres)
    s = np.asarray(shares, dtype=float)
    if s.ndim != 1 or len(s) != n_centres:
        raise ParameterError("give one catchment share per centre", field="shares",
                             value=list(np.atleast_1d(s)))
    if np.any(~np.isfinite(s)) or np.any(s <= 0) or abs(s.sum() - 1.0) > 1e-6:
        raise ParameterError("catchment shares must be positive and sum to 1", field="shares",
                             value=list(s))
    return s


def probability_centres_viable(
    draws: Any,
    minimum_per_centre: float,
    n_centres: int,
    shares: Sequence[float] | None = None,
) -> Any:
    """Probability that each of ``n_centres`` centres reaches the minimum caseload.

    Args:
        draws: Monte Carlo draws of total demand; the last axis is the draw axis (a 1-D array
            gives one probability, a ``(years, draws)`` array one per year).
        minimum_per_centre: the critical mass.
        n_centres: number of centres sharing the demand.
        shares: catchment share of each centre (positive, summing to 1); equal if omitted.

    Returns:
        The share of draws with ``share_i x demand >= minimum`` for every centre ``i``.
    """
    m = _positive(minimum_per_centre, "minimum_per_centre")
    s = _shares(n_centres, shares)
    arr = np.asarray(draws, dtype=float)
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ParameterError("no draws to compute a probability from", field="draws",
                             hint="Run the demand with draws > 0")
    need = m / s.min()
    out = (arr * (1 + _EPS) >= need).mean(axis=-1)
    return float(out) if np.ndim(out) == 0 else out


def first_year(years: Sequence[int], values: Sequence[float], threshold: float) -> int | None:
    """First year in which ``values`` reach ``threshold`` (``None`` if never)."""
    ys = np.asarray(years)
    vs = np.asarray(values, dtype=float)
    order = np.argsort(ys)
    hit = np.flatnonzero(vs[order] >= threshold - _EPS)
    return int(ys[order][hit[0]]) if len(hit) else None


def centres_table(
    result: Any,
    n_centres: int | None = None,
    shares: Sequence[float] | None = None,
    minimum_per_centre: float | None = None,
) -> pd.DataFrame:
    """Per footprint and year: demand, centres sustainable and (with ``n_centres``) viability.

    Columns: the demand summary (``area_code, name, year, population, expected, mean,
    q...``), then ``centres_on_mean`` (floor of mean / minimum), ``centres_q0.025``,
    ``centres_q0.5``, ``centres_q0.975`` (quantiles of floor(draw / minimum)), and, when
    ``n_centres`` is given, ``caseload_per_centre`` (mean x smallest share) and
    ``p_viable`` (probability every centre reaches the minimum).
    """
    svc = result.service
    m = _positive(minimum_per_centre if minimum_per_centre is not None
                  else svc.critical_mass.minimum_per_centre, "minimum_per_centre")
    t = result.summary.copy()
    t["centres_on_mean"] = centres_sustainable(t["mean"], m)
    if not result.draws.empty:
        keys, mat = result.matrix()
        keys = keys.copy()
        cen = np.floor(mat / m + _EPS)
        for q in (0.025, 0.5, 0.975):
            keys[f"centres_q{q:g}"] = np.quantile(cen, q, axis=1, method="lower").astype(
                np.int64)
        if n_centres is not None:
            keys["p_viable"] = probability_centres_viable(mat, m, n_centres, shares)
        t = t.merge(keys, on=["area_code", "year"], how="left")
    if n_centres is not None:
        s = _shares(n_centres, shares)
        t.insert(t.columns.get_loc("centres_on_mean") + 1, "caseload_per_centre",
                 t["mean"] * s.min())
        if "p_viable" not in t.columns:
            t["p_viable"] = np.nan
    return t


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
    from hna.services import load_service
    from hna.tiers import tier_for_service

    svc = load_service(service)
    names = list(schemes) if schemes is not None else list(svc.tiers.schemes)
    rule = edges if edges is not None else svc.tiers.edges
    p = _positive(min_planning_population, "min_planning_population")
    return tier_for_service(p, names, edges=rule)


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
        carter: the Carter review rules (:func:`hna.tiers.carter_rules`) for the service.
        verdict: plain-text answer.
    """

    by_year: pd.DataFrame
    headline: dict[str, Any]
    tiers: pd.DataFrame
    carter: pd.DataFrame
    verdict: str
    meta: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.verdict

    def to_dict(self) -> dict[str, Any]:
        """Headline, tiers and verdict as plain Python objects (for JSON)."""
        return {"headline": self.headline, "verdict": self.verdict,
                "tiers": self.tiers[["scheme", "tier", "label", "status", "note"]].to_dict(
                    "records")}

    def _repr_html_(self) -> str:  # pragma: no cover - notebook display
        return ("<p>" + self.verdict.replace("\n", "<br>") + "</p>"
                + self.by_year.to_html(index=False, float_format=lambda v: f"{v:,.1f}"))


def _england_crude(service: Any, year: int) -> float:
    from hna.demand import service_demand

    r = service_demand(service, "E92000001", years=[year], draws=0)
    row = r.summary.iloc[0]
    return float(row["expected"] / row["population"])


def _fmt(v: float) -> str:
    return f"{v:,.0f}"


def assess(
    result: Any,
    service: Any = None,
    n_centres: int | None = None,
    *,
    shares: Sequence[float] | None = None,
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
        n_centres: centres planned (default: as many as the mean sustains in ``now``, at
            least 1).
        shares: catchment shares of the centres (equal split if omitted).
        now, horizon: years to report (default first and last year of the result).
        confidence: probability used for "first year viable with probability >= confidence".
        area_code: footprint to assess when the result holds several.
        edges: band-edge rule for the tiers (default from the service, then tiers.yaml).

    Returns:
        :class:`Assessment` (``by_year``, ``headline``, ``tiers``, ``carter``, ``verdict``).
    """
    from hna.services import load_service
    from hna.tiers import carter_rules

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
    cm = svc.critical_mass
    m = cm.minimum_per_centre
    row_now = result.summary[(result.summary["area_code"] == area)
                             & (result.summary["year"] == now)].iloc[0]
    if n_centres is None:
        n_centres = max(1, int(centres_sustainable(row_now["mean"], m)))
    table = centres_table(result, n_centres, shares)
    table = table[table["area_code"] == area].reset_index(drop=True)

    eng_crude = _england_crude(svc, now)
    plan_pop = planning_population(m, eng_crude)
    fp_crude = float(row_now["expected"] / row_now["population"]) if row_now["expected"] else 0.0
    fp_plan = planning_population(m, fp_crude) if fp_crude > 0 else float("inf")
    tiers = service_tiers(svc, plan_pop, edges=edges)
    national_now = eng_crude * _england_population(now)
    carter = carter_rules(plan_pop, national_now)

    s = _shares(n_centres, shares)
    need_total = m / s.min()

    def at(year: int) -> dict[str, Any]:
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
        return out

    has_draws = "p_viable" in table and table["p_viable"].notna().any()
    first_mean = first_year(table["year"], table["mean"], need_total)
    first_p = (first_year(table["year"], table["p_viable"], confidence) if has_draws else None)
    name = str(row_now["name"])
    headline: dict[str, Any] = {
        "service": svc.id, "service_name": svc.name, "footprint": area, "footprint_name": name,
        "measure": svc.measure, "minimum_per_centre": m, "unit": cm.unit, "centre": cm.centre,
        "kind": svc.kind, "minimum_status": cm.status,
        "minimum_source": _short_cite(svc, cm.source),
        "n_centres": int(n_centres), "split": ("catchment shares " + ", ".join(
            f"{x:.2f}" for x in s)) if shares is not None else "equal shares",
        "demand_needed": need_total,
        "now": at(now), "horizon": at(horizon),
        "first_year_mean_reaches": first_mean,
        f"first_year_p_viable_{confidence:g}": first_p,
        "england_crude_per_100k": eng_crude * 1e5,
        "planning_population": plan_pop,
        "footprint_crude_per_100k": fp_crude * 1e5,
        "footprint_planning_population": fp_plan,
        "tiers": {r["scheme"]: (None if pd.isna(r["tier"]) else r["tier"])
                  for _, r in tiers.iterrows()},
        "tier_status": {r["scheme"]: r["status"] for _, r in tiers.iterrows()},
        "quality": svc.quality,
        "seed": result.meta.get("seed"), "draws": result.meta.get("draws"),
    }
    verdict = _verdict(headline, confidence, has_draws)
    return Assessment(by_year=table, headline=headline, tiers=tiers, carter=carter,
                      verdict=verdict, meta=dict(result.meta))


def _short_cite(svc: Any, source_id: str) -> str:
    s = svc.source(source_id)
    return f"{s.publisher}, {s.title} ({s.year})"


def _england_population(year: int) -> float:
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
        f"{h['split']}, so the footprint needs {_fmt(h['demand_needed'])}{per_year}.",
    ]
    for key in ("now", "horizon"):
        r = h[key]
        interval = (f" (95% interval {_fmt(r['q0.025'])}-{_fmt(r['q0.975'])})"
                    if "q0.025" in r else "")
        line = (f"{r['year']}: {_fmt(r['mean'])} {h['measure']} expected{interval}; "
                f"{r['centres_on_mean']} {centre}(s) sustainable on the mean; "
                f"about {_fmt(r['caseload_per_centre'])} per {centre} with {k}.")
        if has_draws and "p_viable" in r:
            p = r["p_viable"]
            answer = ("yes" if p >= confidence else "no" if p <= 1 - confidence
                      else "uncertain")
            line += (f" Probability that {'each of the ' + str(k) if k > 1 else 'the'} "
                     f"{plural} reach{'es' if k == 1 else ''} {_fmt(m)}: {p:.2f} -> {answer}.")
        lines.append(line)
    if h["first_year_mean_reaches"] is not None and h["first_year_mean_reaches"] > h["now"]["year"]:
        lines.append(f"The mean demand first reaches {_fmt(h['demand_needed'])} in "
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
        plan = planning_population(m, _england_crude(svc, now))
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

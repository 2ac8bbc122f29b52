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

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array, vstack

from hna.catchments import (
    DEFAULT_THRESHOLDS,
    TravelModel,
    _as_demand,
    _as_sites,
    allocation_table,
    catchments,
    major_acute_sites,
    travel_minutes,
    travel_summary,
    weighted_quantile,
)
from hna.errors import DataError, ParameterError

__all__ = [
    "designate",
    "compare_k",
    "DesignationResult",
    "ConfigurationChange",
    "KComparison",
    "DesignationInfeasible",
    "major_acute_sites",
]


class DesignationInfeasible(ParameterError):
    """No configuration satisfies the constraints; ``reasons`` names the binding ones.

    ``reasons`` is a list of ``(constraint, explanation)`` pairs, where ``constraint`` is one of
    ``"critical_mass"``, ``"max_travel"``, ``"force_include"``, ``"candidates"``, ``"k"``,
    ``"capacity"`` or ``"combination"``.
    """

    def __init__(self, message: str, *, reasons: list[tuple[str, str]], k: int,
                 hint: str | None = None) -> None:
        self.reasons = reasons
        self.k = k
        super().__init__(message, field="designation", hint=hint)

    @property
    def binding(self) -> list[str]:
        """Names of the binding constraints."""
        return [name for name, _ in self.reasons]


@dataclass
class ConfigurationChange:
    """The chosen configuration against the current one.

    Attributes:
        current_sites / chosen_sites: site codes.
        retained, opened, closed: site codes kept, added and no longer designated.
        current: nearest-site catchments of the current sites (:class:`CatchmentResult`).
        areas: per area ``area_code, cases, current_site, new_site, current_minutes,
            new_minutes, change_minutes``.
        areas_reassigned / cases_reassigned: areas (and their cases) whose centre changes.
        travel: ``current_*``, ``new_*`` and ``change_*`` for mean and 90th percentile minutes
            and the share of demand beyond each threshold.
    """

    current_sites: list[str]
    chosen_sites: list[str]
    retained: list[str]
    opened: list[str]
    closed: list[str]
    current: object
    areas: pd.DataFrame
    areas_reassigned: int
    cases_reassigned: float
    travel: dict[str, float]


@dataclass
class DesignationResult:
    """A designated configuration of ``k`` centres.

    Attributes:
        k, min_cases_per_centre, max_travel, forced: the request.
        centres: one row per chosen site: ``site_code, site_name, forced, n_areas, cases,
            share_of_cases, meets_minimum, mean_minutes, p90_minutes, max_minutes`` (+
            ``population``; with draws ``prob_meets_minimum, cases_p05, cases_p50, cases_p95``).
        allocation: one row per area: ``area_code, site_code, minutes, km, cases,
            nearest_open_site, is_nearest`` (min volumes can send an area past a nearer centre).
        travel: demand-weighted statistics (see :func:`hna.catchments.travel_summary`).
        objective: total case-weighted minutes of the solution.
        mip_gap: relative optimality gap reported by HiGHS (0 = proven optimal).
        status: ``"optimal"`` or ``"time limit (feasible, gap ...)"``.
        solve_seconds: wall time of the MILP solve.
        prob_all_meet_minimum: with draws, the share of draws in which every centre meets the
            minimum.
        change: :class:`ConfigurationChange` when current sites were given.
        assumptions: the travel model (or "matrix") and thresholds.
    """

    k: int
    min_cases_per_centre: float
    max_travel: float | None
    forced: list[str]
    centres: pd.DataFrame
    allocation: pd.DataFrame
    travel: dict[str, float]
    objective: float
    mip_gap: float
    status: str
    solve_seconds: float
    prob_all_meet_minimum: float | None = None
    change: ConfigurationChange | None = None
    assumptions: dict[str, object] = field(default_factory=dict)

    @property
    def chosen_sites(self) -> list[str]:
        return self.centres["site_code"].tolist()

    def headline(self) -> dict[str, object]:
        """JSON-friendly headline figures."""
        out: dict[str, object] = {
            "k": self.k,
            "min_cases_per_centre": self.min_cases_per_centre,
            "max_travel_minutes": self.max_travel,
            "sites": self.chosen_sites,
            "site_names": self.centres["site_name"].tolist(),
            "cases": [round(float(c), 2) for c in self.centres["cases"]],
            "mean_minutes": round(self.travel["mean_minutes"], 2),
            "p90_minutes": round(self.travel["p90_minutes"], 2),
            "mip_gap": self.mip_gap,
            "status": self.status,
        }
        for key, val in self.travel.items():
            if key.startswith("share_over_"):
                out[key] = round(val, 4)
        if self.prob_all_meet_minimum is not None:
            out["prob_all_meet_minimum"] = round(self.prob_all_meet_minimum, 4)
        if self.change is not None:
            out["opened"] = self.change.opened
            out["closed"] = self.change.closed
            out["change_mean_minutes"] = round(self.change.travel["change_mean_minutes"], 2)
        return out

    def summary(self) -> str:
        """A few lines of plain text."""
        lines = [
            f"{self.k} centre(s), minimum {self.min_cases_per_centre:g} cases each"
            + (f", max travel {self.max_travel:g} min" if self.max_travel is not None else "")
            + f": {self.status}, gap {self.mip_gap:.2g}",
        ]
        for row in self.centres.itertuples(index=False):
            extra = ""
            if "prob_meets_minimum" in self.centres.columns:
                extra = f", P(>= minimum) = {row.prob_meets_minimum:.2f}"
            lines.append(f"  {row.site_code} {row.site_name}: {row.cases:.1f} cases, "
                         f"{row.n_areas} areas, mean {row.mean_minutes:.0f} min{extra}")
        t = self.travel
        lines.append(f"  travel: mean {t['mean_minutes']:.0f} min, 90th percentile "
                     f"{t['p90_minutes']:.0f} min, max {t['max_minutes']:.0f} min")
        if self.change is not None:
            c = self.change
            lines.append(f"  vs current ({', '.join(c.current_sites)}): opened {c.opened or '-'}, "
                         f"closed {c.closed or '-'}, {c.areas_reassigned} areas "
                         f"({c.cases_reassigned:.1f} cases) change centre, mean travel "
                         f"{c.travel['change_mean_minutes']:+.1f} min")
        return "\n".join(lines)


@dataclass
class KComparison:
    """Designations for several ``k``: ``table`` (one row per k) and ``results`` (k -> result
    or the :class:`DesignationInfeasible` raised).
    """

    table: pd.DataFrame
    results: dict[int, DesignationResult | DesignationInfeasible]


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _check_number(value, name: str, *, minimum: float = 0.0, allow_none: bool = False):
    if value is None and allow_none:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError("must be a number", field=name, value=value) from None
    if not np.isfinite(v) or v < minimum:
        raise ParameterError(f"must be a finite number >= {minimum:g}", field=name, value=value)
    return v


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


def _model(model: TravelModel | None, circuity: float | None,
           speed_kmh: float | None) -> TravelModel:
    base = model or TravelModel()
    return TravelModel(circuity=base.circuity if circuity is None else circuity,
                       speed_kmh=base.speed_kmh if speed_kmh is None else speed_kmh)


# --------------------------------------------------------------------------------------------
# MILP
# --------------------------------------------------------------------------------------------


@dataclass
class _Problem:
    w: np.ndarray            # demand per area
    t: np.ndarray            # minutes, areas x sites (nan = no route)
    k: int
    m: float                 # minimum per open centre
    cap: float | None        # maximum per open centre
    t_max: float | None
    forced: np.ndarray       # bool per site
    closed: np.ndarray       # bool per site (cannot open)


@dataclass
class _Status:
    status: int
    message: str
    mip_gap: float


def _build(p: _Problem):
    """Constraint matrix of the MILP over the allowed (area, site) pairs."""
    n, J = p.t.shape
    allowed = np.isfinite(p.t)
    if p.t_max is not None:
        allowed &= p.t <= p.t_max + 1e-9
    allowed &= ~p.closed[None, :]
    ii, jj = np.nonzero(allowed)
    nx = len(ii)
    # objective: case-weighted minutes; a tiny weight on every area sends zero-demand areas to
    # their nearest open centre without changing the ranking of distinct solutions materially
    eps = 1e-6 * (p.w.mean() if p.w.sum() > 0 else 1.0)
    c = np.concatenate([(p.w[ii] + eps) * p.t[ii, jj], np.zeros(J)])
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0
    # (1) each area assigned to exactly one site
    rows.append(ii)
    cols.append(np.arange(nx))
    vals.append(np.ones(nx))
    lo.append(np.ones(n))
    hi.append(np.ones(n))
    r += n
    # (2) only to an open site: x_ij - y_j <= 0
    rows.extend([r + np.arange(nx), r + np.arange(nx)])
    cols.extend([np.arange(nx), nx + jj])
    vals.extend([np.ones(nx), -np.ones(nx)])
    lo.append(np.full(nx, -np.inf))
    hi.append(np.zeros(nx))
    r += nx
    # (3) exactly k open sites
    rows.append(np.full(J, r))
    cols.append(nx + np.arange(J))
    vals.append(np.ones(J))
    lo.append(np.array([float(p.k)]))
    hi.append(np.array([float(p.k)]))
    r += 1
    # (4) minimum volume: sum_i w_i x_ij - m y_j >= 0 ; (5) capacity: ... - M y_j <= 0
    for bound, is_min in ((p.m, True), (p.cap, False)):
        if bound is None or (is_min and bound <= 0):
            continue
        rows.extend([r + jj, r + np.arange(J)])
        cols.extend([np.arange(nx), nx + np.arange(J)])
        vals.extend([p.w[ii], np.full(J, -bound)])
        lo.append(np.zeros(J) if is_min else np.full(J, -np.inf))
        hi.append(np.full(J, np.inf) if is_min else np.zeros(J))
        r += J
    A = coo_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                  shape=(r, nx + J)).tocsr()
    lb = np.zeros(nx + J)
    ub = np.ones(nx + J)
    lb[nx:][p.forced] = 1.0
    ub[nx:][p.closed] = 0.0
    return c, A, np.concatenate(lo), np.concatenate(hi), lb, ub, ii, jj


def _lp_relaxation(c, A, lo, hi, lb, ub):
    """LP relaxation with HiGHS (linprog), for its bound, solution and reduced costs."""
    eq = lo == hi
    upper = ~eq & np.isfinite(hi)
    lower = ~eq & np.isfinite(lo)
    A_ub = vstack([A[upper], -A[lower]]).tocsr()
    b_ub = np.concatenate([hi[upper], -lo[lower]])
    return linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A[eq], b_eq=lo[eq],
                   bounds=np.column_stack([lb, ub]), method="highs")


@contextlib.contextmanager
def _quiet_native_stdout() -> Iterator[None]:
    """Silence text that the HiGHS library writes straight to file descriptor 1.

    Some HiGHS builds print internal debug lines (``HighsMipSolverData::...``) even with
    ``disp=False``. Python-level output is flushed first and the descriptor restored after.
    """
    try:
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        saved = os.dup(fd)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        sys.stdout.flush()
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), fd)
            try:
                yield
            finally:
                os.dup2(saved, fd)
    finally:
        os.close(saved)


def _milp(c, A, lo, hi, lb, ub, keep, time_limit, gap):
    """Solve the MILP restricted to the variables in ``keep`` (others fixed at their bound)."""
    cols = np.nonzero(keep)[0]
    sub = A[:, cols]
    fixed = np.nonzero(~keep)[0]
    shift = A[:, fixed] @ lb[fixed] if len(fixed) else np.zeros(A.shape[0])
    with _quiet_native_stdout():
        res = milp(
            c[cols],
            constraints=LinearConstraint(sub, lo - shift, hi - shift),
            integrality=np.ones(len(cols)),
            bounds=Bounds(lb[cols], ub[cols]),
            options={"time_limit": max(float(time_limit), 1.0), "mip_rel_gap": float(gap),
                     "disp": False},
        )
    full = None
    if res.x is not None:
        full = lb.copy()
        full[cols] = res.x
    return res, full


def _solve(p: _Problem, time_limit: float, gap: float):
    """Solve the MILP exactly: LP bound, a rounding heuristic, reduced-cost fixing, then HiGHS.

    The LP relaxation gives a lower bound LB and reduced costs d_v; opening the k sites with
    the largest LP values and solving the assignment gives an upper bound UB. Any variable
    with d_v > UB - LB cannot be in a solution better than UB, so it is fixed at its bound
    (standard LP reduced-cost fixing: exact). HiGHS then solves the much smaller MILP.
    """
    start = time.perf_counter()
    n, J = p.t.shape
    c, A, lo, hi, lb, ub, ii, jj = _build(p)
    nx = len(ii)
    keep = np.ones(nx + J, bool)
    lp = _lp_relaxation(c, A, lo, hi, lb, ub)
    if lp.status == 2:  # the relaxation is infeasible, so is the MILP
        return None, _Status(2, "LP relaxation infeasible", float("nan")), \
            time.perf_counter() - start
    heuristic = None
    if lp.status == 0:
        # heuristic: the best k among the sites the LP uses (plus the next best by LP value)
        y = lp.x[nx:]
        width = min(J, max(p.k + 2, int((y > 1e-6).sum())), p.k + 6)
        top = np.argsort(-y, kind="stable")[:width]
        h_lb, h_ub = lb.copy(), ub.copy()
        h_ub[nx:] = 0.0
        h_ub[nx:][top] = ub[nx:][top]
        h_keep = np.concatenate([np.isin(jj, top), np.zeros(J, bool)])
        h_keep[nx:][top] = True
        h_ub[:nx][~h_keep[:nx]] = 0.0
        if np.all(h_lb <= h_ub):
            h_res, h_x = _milp(c, A, lo, hi, h_lb, h_ub, h_keep, time_limit / 4, gap)
            if h_x is not None:
                heuristic = h_x
                slack = (h_res.fun - lp.fun) + 1e-7 * max(1.0, abs(h_res.fun)) + 1e-9
                rc = lp.lower.marginals
                keep = ~((rc > slack) & (lb == 0))  # fix at zero: cannot improve on UB
    remaining = max(time_limit - (time.perf_counter() - start), 1.0)
    res, x = _milp(c, A, lo, hi, lb, np.where(keep, ub, lb), keep, remaining, gap)
    status = _Status(res.status, res.message,
                     float(res.mip_gap) if res.mip_gap is not None else float("nan"))
    if x is None and heuristic is not None:  # time limit without an incumbent: keep UB
        x = heuristic
        status = _Status(1, "time limit; heuristic solution", float("nan"))
    seconds = time.perf_counter() - start
    if x is None:
        return None, status, seconds
    chosen = x[:nx] > 0.5
    assign = np.full(n, -1)
    assign[ii[chosen]] = jj[chosen]
    open_ = np.nonzero(x[nx:] > 0.5)[0]
    return (assign, open_), status, seconds


def _reach(p: _Problem) -> np.ndarray:
    """Areas x sites: a route exists (and is within the maximum travel time, if any)."""
    reach = np.isfinite(p.t)
    if p.t_max is not None:
        reach &= p.t <= p.t_max + 1e-9
    return reach


def _unusable(p: _Problem) -> np.ndarray:
    """Sites that cannot attract the minimum even from every area within reach."""
    if p.m <= 0:
        return np.zeros(p.t.shape[1], bool)
    return (p.w[:, None] * _reach(p)).sum(axis=0) < p.m - 1e-9


def _precheck(p: _Problem, areas: Sequence[str], sites: Sequence[str],
              site_names: Sequence[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Return (reasons, closed) where closed marks sites that can never reach the minimum."""
    reasons: list[tuple[str, str]] = []
    reach = _reach(p)
    total = float(p.w.sum())
    if p.m > 0 and total < p.k * p.m - 1e-9:
        reasons.append(("critical_mass",
                        f"total demand {total:,.1f} cases is less than k x minimum = "
                        f"{p.k} x {p.m:g} = {p.k * p.m:,.1f}; at most "
                        f"{int(np.floor(total / p.m + 1e-9))} centre(s) can reach the minimum"))
    if p.cap is not None and total > p.k * p.cap + 1e-9:
        reasons.append(("capacity", f"total demand {total:,.1f} exceeds k x maximum = "
                                    f"{p.k * p.cap:,.1f}"))
    stranded = ~reach.any(axis=1)
    if stranded.any():
        names = [areas[i] for i in np.nonzero(stranded)[0]]
        what = (f"within {p.t_max:g} minutes" if p.t_max is not None else "with a travel time")
        reasons.append(("max_travel" if p.t_max is not None else "candidates",
                        f"{len(names)} area(s) have no candidate site {what}: "
                        + ", ".join(names[:8]) + ("..." if len(names) > 8 else "")))
    reachable = (p.w[:, None] * reach).sum(axis=0)
    closed = _unusable(p)
    bad_forced = np.nonzero(p.forced & closed)[0]
    if len(bad_forced):
        parts = [f"{sites[j]} ({site_names[j]}) can attract at most {reachable[j]:,.1f}"
                 for j in bad_forced]
        where = f" within {p.t_max:g} minutes" if p.t_max is not None else ""
        reasons.append(("force_include",
                        f"forced site(s) cannot reach the minimum of {p.m:g} cases{where}: "
                        + "; ".join(parts)))
    usable = int((~closed).sum())
    if not len(bad_forced) and usable < p.k:
        where = f" within {p.t_max:g} minutes" if p.t_max is not None else ""
        reasons.append(("candidates",
                        f"only {usable} candidate site(s) can attract the minimum of {p.m:g} "
                        f"cases{where}; k = {p.k}"))
    if not stranded.any():
        lost = ~(reach & ~closed[None, :]).any(axis=1)
        if lost.any() and usable >= p.k:
            names = [areas[i] for i in np.nonzero(lost)[0]]
            reasons.append(("max_travel",
                            f"{len(names)} area(s) can reach only sites that cannot attract the "
                            f"minimum: " + ", ".join(names[:8])))
    return reasons, closed


def _diagnose(p: _Problem, time_limit: float) -> list[tuple[str, str]]:
    """Which single relaxation makes an infeasible MILP feasible."""
    none = np.zeros_like(p.forced)
    tries = []
    if p.m > 0:
        tries.append(("critical_mass", "without the minimum volume the problem is feasible: "
                      f"{p.k} centre(s) each with at least {p.m:g} cases cannot be combined "
                      "with the other constraints",
                      _Problem(p.w, p.t, p.k, 0.0, p.cap, p.t_max, p.forced, none)))
    if p.t_max is not None:
        tries.append(("max_travel", "without the maximum travel time the problem is feasible: "
                      f"{p.k} centre(s) cannot bring every area within {p.t_max:g} minutes "
                      "while meeting the other constraints",
                      _Problem(p.w, p.t, p.k, p.m, p.cap, None, p.forced, none)))
    if p.forced.any():
        tries.append(("force_include", "without the forced sites the problem is feasible",
                      _Problem(p.w, p.t, p.k, p.m, p.cap, p.t_max, none, none)))
    if p.cap is not None:
        tries.append(("capacity", "without the maximum caseload the problem is feasible",
                      _Problem(p.w, p.t, p.k, p.m, None, p.t_max, p.forced, none)))
    found = []
    for name, text, relaxed in tries:
        relaxed.closed = _unusable(relaxed)
        if (relaxed.forced & relaxed.closed).any() or (~relaxed.closed).sum() < relaxed.k:
            continue
        sol, _, _ = _solve(relaxed, min(time_limit, 30.0), 1e-2)
        if sol is not None:
            found.append((name, text))
    if not found:
        found.append(("combination", "no single constraint is to blame: the constraints are "
                      "infeasible together (relax more than one)"))
    return found


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


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
        cur = _as_sites(current_sites, need_xy=travel is None, source="current_sites")
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


def designate(
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
    circuity: float | None = None,
    speed_kmh: float | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    time_limit: float = 60.0,
    mip_rel_gap: float = 1e-6,
) -> DesignationResult:
    """Choose ``k`` centres minimising case-weighted travel, each reaching a minimum caseload.

    Args:
        demand: ``area_code, x, y, cases`` (+ ``population``), e.g. from
            :func:`hna.catchments.demand_points`. ``x, y`` (EPSG:27700) are not needed when a
            travel matrix is given.
        candidate_sites: ``site_code, site_name, x, y`` (e.g. :func:`major_acute_sites`).
        k: number of centres to designate.
        min_cases_per_centre: critical mass: expected cases a year each open centre must
            receive (0 = no minimum).
        force_include: site codes that must be among the centres (existing centres).
        max_travel: maximum travel time in minutes for every area (None = no limit).
        draws: Monte Carlo demand draws ``area_code, draw, cases``; the design uses ``demand``
            and the draws give each centre's probability of meeting the minimum.
        travel: precomputed matrix (CSV or table ``origin, destination, minutes``); missing
            pairs mean no route. Default: straight line x circuity / speed.
        current_sites: today's centres (site codes among the candidates, or a sites table), to
            report the change.
        max_cases_per_centre: optional capacity per centre.
        model, circuity, speed_kmh: travel-time assumptions (see :class:`TravelModel`).
        thresholds: minutes for the "share of demand beyond" statistics.
        time_limit, mip_rel_gap: HiGHS limits (seconds; relative optimality gap).

    Raises:
        DesignationInfeasible: no configuration satisfies the constraints (``reasons`` names
            the binding ones).
    """
    model = _model(model, circuity, speed_kmh)
    d = _as_demand(demand, need_xy=travel is None)
    cand = _as_sites(candidate_sites, need_xy=travel is None, source="candidate_sites")
    if isinstance(k, bool) or not float(k).is_integer() or int(k) < 1:
        raise ParameterError("k must be a positive whole number of centres", field="k", value=k)
    k = int(k)
    m = _check_number(min_cases_per_centre, "min_cases_per_centre")
    t_max = _check_number(max_travel, "max_travel", allow_none=True)
    cap = _check_number(max_cases_per_centre, "max_cases_per_centre", allow_none=True)
    if cap is not None and cap < m:
        raise ParameterError("the maximum caseload is below the minimum",
                             field="max_cases_per_centre", value=cap)
    forced_codes = [str(s) for s in ([force_include] if isinstance(force_include, str)
                                     else force_include)]
    unknown = sorted(set(forced_codes) - set(cand["site_code"]))
    if unknown:
        raise ParameterError("forced sites are not among the candidate sites",
                             field="force_include", value=unknown,
                             hint="add them to candidate_sites")
    if k > len(cand):
        raise DesignationInfeasible(
            f"cannot designate k={k} centres from {len(cand)} candidate sites",
            reasons=[("k", f"k = {k} exceeds the {len(cand)} candidate sites")], k=k)
    if len(set(forced_codes)) > k:
        raise DesignationInfeasible(
            f"{len(set(forced_codes))} forced sites exceed k={k}",
            reasons=[("force_include", f"{len(set(forced_codes))} forced sites but k = {k}")],
            k=k, hint="raise k or force fewer sites")
    draws_wide = _draws_matrix(draws, d["area_code"]) if draws is not None else None

    minutes = travel_minutes(d, cand, travel, model=model)
    problem = _Problem(
        w=d["cases"].to_numpy(float),
        t=minutes.to_numpy(float),
        k=k, m=m, cap=cap, t_max=t_max,
        forced=cand["site_code"].isin(forced_codes).to_numpy(),
        closed=np.zeros(len(cand), bool),
    )
    areas = d["area_code"].tolist()
    reasons, closed = _precheck(problem, areas, cand["site_code"].tolist(),
                                cand["site_name"].tolist())
    request = (f"k={k}, minimum {m:g} cases/centre"
               + (f", max travel {t_max:g} min" if t_max is not None else "")
               + (f", forced {forced_codes}" if forced_codes else ""))
    if reasons:
        raise DesignationInfeasible(
            f"no feasible designation for {request}: "
            + "; ".join(f"{name}: {text}" for name, text in reasons),
            reasons=reasons, k=k)
    problem.closed = closed
    solution, res, seconds = _solve(problem, time_limit, mip_rel_gap)
    if solution is None:
        if res.status == 2:
            why = _diagnose(problem, time_limit)
            raise DesignationInfeasible(
                f"the MILP is infeasible for {request}: "
                + "; ".join(f"{name}: {text}" for name, text in why),
                reasons=why, k=k)
        raise DesignationInfeasible(
            f"HiGHS found no solution for {request} ({res.message})",
            reasons=[("solver", str(res.message))], k=k,
            hint="raise time_limit or relax the constraints")
    assign, open_idx = solution
    status = "optimal" if res.status == 0 else f"time limit (feasible, gap {res.mip_gap:.3g})"

    site_codes = cand["site_code"].to_numpy()
    t = problem.t
    rows = np.arange(len(d))
    open_t = np.where(np.isfinite(t[:, open_idx]), t[:, open_idx], np.inf)
    nearest = open_idx[np.argmin(open_t, axis=1)]
    alloc = allocation_table(d, cand, t, assign)
    alloc["nearest_open_site"] = site_codes[nearest]
    alloc["is_nearest"] = t[rows, assign] <= t[rows, nearest] + 1e-9

    centres, prob_all = _centres_table(alloc, cand, np.sort(open_idx), set(forced_codes), m,
                                       draws_wide)
    travel_stats = travel_summary(alloc["minutes"], alloc["cases"], thresholds,
                                  model if travel is None else None)
    objective = float((alloc["cases"] * alloc["minutes"]).sum())
    assumptions: dict[str, object] = {"thresholds_minutes": tuple(thresholds)}
    if travel is None:
        assumptions.update(travel="straight-line x circuity / speed", circuity=model.circuity,
                           speed_kmh=model.speed_kmh)
    else:
        assumptions.update(travel="matrix")
    change = None
    if current_sites is not None:
        change = _current_change(d, cand, current_sites, travel, model, alloc,
                                 centres["site_code"].tolist(), thresholds)
    return DesignationResult(
        k=k, min_cases_per_centre=m, max_travel=t_max, forced=forced_codes,
        centres=centres, allocation=alloc, travel=travel_stats, objective=objective,
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

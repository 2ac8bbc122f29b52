"""The mixed integer programme of designation: build, bound, solve, diagnose infeasibility.

A capacitated p-median problem with minimum volumes, solved exactly with HiGHS through
:func:`scipy.optimize.milp` after LP reduced-cost fixing (formulation:
``docs/methods/designation.md``). Variables: ``x_ij`` (area i served by site j) over the
allowed pairs, then ``y_j`` (site j open). Internal: use :func:`hna.designation.designate`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array, vstack


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
    wm: np.ndarray | None = None  # years x areas: demand the minimum must hold on (None: w)
    split: bool = False      # assignment continuous: a point (zone) may be split among centres

    @property
    def w_min(self) -> np.ndarray:
        """Rows of demand on which the minimum volume must hold (one per year)."""
        return self.w[None, :] if self.wm is None else self.wm


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
    blocks = [(p.m, True, w) for w in p.w_min] + [(p.cap, False, p.w)]
    for bound, is_min, w in blocks:
        if bound is None or (is_min and bound <= 0):
            continue
        rows.extend([r + jj, r + np.arange(J)])
        cols.extend([np.arange(nx), nx + np.arange(J)])
        vals.extend([w[ii], np.full(J, -bound)])
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


def _milp(system, lb, ub, keep, time_limit, gap):
    """Solve the MILP restricted to the variables in ``keep`` (others fixed at their bound).

    ``system`` is ``(c, A, lo, hi, integer)``: objective, constraint matrix, its row bounds
    and which variables are integer.
    """
    c, A, lo, hi, integer = system
    cols = np.nonzero(keep)[0]
    sub = A[:, cols]
    fixed = np.nonzero(~keep)[0]
    shift = A[:, fixed] @ lb[fixed] if len(fixed) else np.zeros(A.shape[0])
    with _quiet_native_stdout():
        res = milp(
            c[cols],
            constraints=LinearConstraint(sub, lo - shift, hi - shift),
            integrality=integer[cols].astype(float),
            bounds=Bounds(lb[cols], ub[cols]),
            options={"time_limit": max(float(time_limit), 1.0), "mip_rel_gap": float(gap),
                     "disp": False},
        )
    full = None
    if res.x is not None:
        full = lb.copy()
        full[cols] = res.x
    return res, full


def _heuristic(p: _Problem, system, lb, ub, y, jj, time_limit, gap):
    """An upper bound from the LP relaxation's open sites: ``(objective, x)`` or None.

    First the sites the LP opens fully are fixed open and those it leaves shut are closed,
    so HiGHS chooses only among the fractional ones (near-integral p-median relaxations make
    this small); if that finds nothing, the best ``k`` among the sites with the largest LP
    values (plus up to six more).
    """
    nx, J = len(jj), len(y)
    one = (y > 1 - 1e-6) & (ub[nx:] > 0)
    zero = (y < 1e-6) & (lb[nx:] == 0)
    tries = []
    if one.sum() <= p.k <= (~zero).sum():
        tries.append((one, ~zero))
    width = min(J, max(p.k + 2, int((y > 1e-6).sum())), p.k + 6)
    top = np.zeros(J, bool)
    top[np.argsort(-y, kind="stable")[:width]] = True
    tries.append((lb[nx:] > 0, top))
    for must, may in tries:
        h_lb, h_ub = lb.copy(), ub.copy()
        h_lb[nx:][must] = 1.0
        h_ub[nx:][~may] = 0.0
        h_ub[:nx][~may[jj]] = 0.0
        h_keep = np.concatenate([may[jj], may & ~must])
        if not np.all(h_lb <= h_ub):
            continue
        h_res, h_x = _milp(system, h_lb, h_ub, h_keep, time_limit, gap)
        if h_x is not None:
            return float(h_res.fun), h_x
    return None


def _solve(p: _Problem, time_limit: float, gap: float):
    """Solve the MILP exactly: LP bound, a rounding heuristic, reduced-cost fixing, then HiGHS.

    The LP relaxation gives a lower bound LB and reduced costs d_v; :func:`_heuristic` (the
    LP's fully open sites kept open, its shut ones shut, HiGHS choosing among the rest)
    gives an upper bound UB. Any variable with d_v > UB - LB cannot be in a solution better
    than UB, so it is fixed at its bound (standard LP reduced-cost fixing: exact). HiGHS then
    solves the much smaller MILP. If it stops at the time limit, the better of its incumbent
    and UB is returned with the tighter of HiGHS's gap and (value - LB) / value.

    Returns:
        ``((assign, open, (points, sites)), status, seconds)``: each point's site (the one
        with its largest share when points may be split), the open sites, the (point, site)
        pairs with a positive share; or ``(None, status, seconds)``.
    """
    start = time.perf_counter()
    n, J = p.t.shape
    c, A, lo, hi, lb, ub, ii, jj = _build(p)
    nx = len(ii)
    keep = np.ones(nx + J, bool)
    # with split points only the open/closed decisions are integer
    integer = np.ones(nx + J, bool)
    integer[:nx] = not p.split
    system = (c, A, lo, hi, integer)
    lp = _lp_relaxation(c, A, lo, hi, lb, ub)
    if lp.status == 2:  # the relaxation is infeasible, so is the MILP
        return None, _Status(2, "LP relaxation infeasible", float("nan")), \
            time.perf_counter() - start
    heuristic = None
    if lp.status == 0:
        found = _heuristic(p, system, lb, ub, lp.x[nx:], jj, time_limit / 4, gap)
        if found is not None:
            h_fun, heuristic = found
            slack = (h_fun - lp.fun) + 1e-7 * max(1.0, abs(h_fun)) + 1e-9
            rc = lp.lower.marginals
            keep = ~((rc > slack) & (lb == 0))  # fix at zero: cannot improve on UB
    remaining = max(time_limit - (time.perf_counter() - start), 1.0)
    res, x = _milp(system, lb, np.where(keep, ub, lb), keep, remaining, gap)
    status = _Status(res.status, res.message,
                     float(res.mip_gap) if res.mip_gap is not None else float("nan"))
    worse = (x is not None and heuristic is not None and res.status != 0
             and float(c @ heuristic) < float(c @ x) - 1e-9)
    if heuristic is not None and (x is None or worse):  # time limit: keep the better UB
        x = heuristic
        status = _Status(1, "time limit; heuristic solution", float("nan"))
    if x is not None and res.status != 0 and lp.status == 0:
        # the LP relaxation of the full problem is a valid lower bound: report the
        # tighter of its gap and HiGHS's own
        value = float(c @ x)
        lp_gap = (value - float(lp.fun)) / value if value > 0 else float("nan")
        gaps = [g for g in (status.mip_gap, lp_gap) if np.isfinite(g)]
        status.mip_gap = min(gaps) if gaps else float("nan")
    seconds = time.perf_counter() - start
    if x is None:
        return None, status, seconds
    # each point's site (with split points: the site taking its largest share)
    order = np.lexsort((-x[:nx], ii))
    first = order[np.r_[True, ii[order][1:] != ii[order][:-1]]]
    assign = np.full(n, -1)
    assign[ii[first]] = jj[first]
    open_ = np.nonzero(x[nx:] > 0.5)[0]
    share = x[:nx] > 1e-9
    return (assign, open_, (ii[share], jj[share])), status, seconds


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
    reach = _reach(p)
    return np.any([(w[:, None] * reach).sum(axis=0) < p.m - 1e-9 for w in p.w_min], axis=0)


def _precheck(p: _Problem, areas: Sequence[str], sites: Sequence[str],
              site_names: Sequence[str]) -> tuple[list[tuple[str, str]], np.ndarray]:
    """Return (reasons, closed) where closed marks sites that can never reach the minimum."""
    reasons: list[tuple[str, str]] = []
    reach = _reach(p)
    total = float(p.w_min.sum(axis=1).min())
    if p.m > 0 and total < p.k * p.m - 1e-9:
        reasons.append(("critical_mass",
                        f"total demand {total:,.1f} cases is less than k x minimum = "
                        f"{p.k} x {p.m:g} = {p.k * p.m:,.1f}; at most "
                        f"{int(np.floor(total / p.m + 1e-9))} centre(s) can reach the minimum"))
    if p.cap is not None and p.w.sum() > p.k * p.cap + 1e-9:
        reasons.append(("capacity", f"total demand {p.w.sum():,.1f} exceeds k x maximum = "
                                    f"{p.k * p.cap:,.1f}"))
    stranded = ~reach.any(axis=1)
    if stranded.any():
        names = [areas[i] for i in np.nonzero(stranded)[0]]
        what = (f"within {p.t_max:g} minutes" if p.t_max is not None else "with a travel time")
        reasons.append(("max_travel" if p.t_max is not None else "candidates",
                        f"{len(names)} area(s) have no candidate site {what}: "
                        + ", ".join(names[:8]) + ("..." if len(names) > 8 else "")))
    reachable = np.min([(w[:, None] * reach).sum(axis=0) for w in p.w_min], axis=0)
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
                      replace(p, m=0.0, closed=none)))
    if p.t_max is not None:
        tries.append(("max_travel", "without the maximum travel time the problem is feasible: "
                      f"{p.k} centre(s) cannot bring every area within {p.t_max:g} minutes "
                      "while meeting the other constraints",
                      replace(p, t_max=None, closed=none)))
    if p.forced.any():
        tries.append(("force_include", "without the forced sites the problem is feasible",
                      replace(p, forced=none, closed=none)))
    if p.cap is not None:
        tries.append(("capacity", "without the maximum caseload the problem is feasible",
                      replace(p, cap=None, closed=none)))
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


"""Demand aggregation for large designations, and the exact re-assignment of small areas.

Thousands of small areas (3,285 LSOAs in the South West, 32,844 in England) make the MILP
slow. The standard remedy in location analysis is to aggregate demand points (Francis, Lowe,
Rayco and Tamir 2009, *Aggregation error for location models: survey and analysis*, Annals
of Operations Research 167:171-208). Here:

1. **zones**: areas with the same group (their district; no group above 5,000 areas) and the
   same two nearest candidate sites form a zone (``nearest_only`` can further restrict each
   zone to its nearest sites; it is off by default because with few centres among many sites
   it strands areas); its demand is the sum and its travel time to each site the
   demand-weighted mean of its areas' times (so a zone's cost equals the sum of its areas'
   costs for any assignment of the whole zone);
2. the MILP is solved exactly on zones (HiGHS gap reported), which chooses the open sites.
   Nationally (above 5,000 areas) a zone's demand may be divided between centres in the
   MILP, as its areas can be: only the open/closed decisions are integer, which makes the
   national MILP far easier and is a closer model of the small-area problem;
3. **re-assignment**: with those sites open, the areas themselves are assigned by the
   linear programme "least case-weighted minutes with every centre >= the minimum" (a
   transportation problem with ``k`` extra rows per demand row), solved exactly by column
   generation from each area's nearest open site and the zone solution's sites. A basic
   optimal solution splits few areas (at most one per minimum-volume row and centre); each
   area goes to the site holding most of it and, if that breaks a minimum, the split areas
   are re-decided by a small MILP, else single areas are moved into the short centres at
   least extra cost, else every area is re-decided by a MILP. The LP value is a lower bound
   for those sites, so the re-assignment gap ``(cost - LP) / cost`` is reported with the
   MILP gap.

The solution is feasible for the small-area problem, optimal for the zones and, for the
chosen sites, within the reported gap of the best small-area assignment. The choice of sites
carries aggregation error, which the gaps do not measure: for England, k = 10, 15, 19,
zones within districts (1,387 zones) gave the same mean journeys as the default 508 zones
for k = 10 and 15 (42.29 and 36.77 minutes) and 0.1% less for k = 19 (34.35 against 34.38;
that run stopped at its time limit, gap 0.15%) (measured 2026-12-02).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse import coo_array

__all__ = ["AUTO_AGGREGATE_AREAS", "LARGE_AREAS", "NEAREST_SITES", "Zones", "zones",
           "nearest_only", "reassign"]

#: designate() aggregates automatically above this many areas.
AUTO_AGGREGATE_AREAS = 400
#: above this many areas (national problems) zones ignore districts (fewer zones).
LARGE_AREAS = 5000
#: with more candidate sites than this, a zone may use only its nearest ones in the MILP.
NEAREST_SITES = 10_000  # restriction off: with k << sites it can strand areas (tried 8: infeasible)


def nearest_only(t: np.ndarray, n_nearest: int) -> np.ndarray:
    """Zone x site minutes with all but each zone's ``n_nearest`` sites set to NaN (no route).

    A restriction of the zone MILP (stated in the aggregation note): the areas are then
    re-assigned to any open site by :func:`reassign`.
    """
    tt = np.where(np.isfinite(t), t, np.inf)
    keep = np.argsort(tt, axis=1, kind="stable")[:, :n_nearest]
    out = np.full_like(t, np.nan)
    rows = np.arange(t.shape[0])[:, None]
    out[rows, keep] = t[rows, keep]
    return out


@dataclass
class Zones:
    """Zones of areas.

    ``label[i]`` is the zone of area ``i``; ``w`` zone demand; ``t`` zone x site minutes
    (demand-weighted means); ``wm`` zone demand per minimum row.
    """

    label: np.ndarray
    w: np.ndarray
    t: np.ndarray
    wm: np.ndarray | None


def zones(w: np.ndarray, t: np.ndarray, group: np.ndarray | None,
          wm: np.ndarray | None = None) -> Zones:
    """Group areas by ``group`` and their two nearest sites (see the module docstring).

    Args:
        w: demand per area.
        t: areas x sites minutes (NaN = no route).
        group: a label per area (e.g. district code) or None.
        wm: rows x areas demand on which the minimum must hold, or None.
    """
    tt = np.where(np.isfinite(t), t, np.inf)
    order = np.argsort(tt, axis=1, kind="stable")[:, :2]
    g = np.zeros(len(w), int) if group is None else np.unique(group, return_inverse=True)[1]
    keys = np.column_stack([g, order])
    _, label = np.unique(keys, axis=0, return_inverse=True)
    label = label.ravel()
    nz = int(label.max()) + 1
    wz = np.bincount(label, weights=w, minlength=nz)
    # demand-weighted mean minutes; zones of zero demand take the plain mean
    ww = np.where(wz[label] > 0, w, 1.0)
    tz = np.zeros((nz, t.shape[1]))
    np.add.at(tz, label, ww[:, None] * np.nan_to_num(t, nan=0.0))
    norm = np.bincount(label, weights=ww, minlength=nz)
    tz /= norm[:, None]
    unreachable = np.zeros((nz, t.shape[1]), bool)
    np.logical_or.at(unreachable, label, ~np.isfinite(t))
    tz[unreachable] = np.nan
    wmz = None
    if wm is not None:
        wmz = np.stack([np.bincount(label, weights=row, minlength=nz) for row in wm])
    return Zones(label=label, w=wz, t=tz, wm=wmz)


def reassign(w: np.ndarray, t: np.ndarray, open_idx: np.ndarray, m: float,
             wm: np.ndarray | None, fallback: np.ndarray, *,
             start: np.ndarray | None = None, time_limit: float = 30.0) -> tuple[np.ndarray | None, float, float]:
    """Best assignment of areas to the open sites with every centre >= ``m`` (LP + repair).

    The linear programme is solved exactly (:func:`_reassign_lp`); each area then goes to
    the site with its largest share. If that breaks a minimum, the areas the LP split are
    re-decided by a small MILP with the others kept (:func:`_repair`); if that is infeasible
    too, every area is re-decided among the LP's columns.

    Args:
        w: demand per area (objective weights).
        t: areas x sites minutes.
        open_idx: the open sites.
        m: minimum per centre.
        wm: rows x areas demand for the minimum (None: ``w``).
        fallback: a starting assignment (site index per area), e.g. each area's zone's site;
            it is among the LP's first columns and returned only if everything else fails
            and it meets the minimum.
        start: areas x open sites, columns of the first LP (e.g. a feasible fractional
            solution's support); the nearest open site and ``fallback`` are always included.
        time_limit: seconds for the repair MILP.

    Returns:
        ``(assign, cost, lp_bound)``: site index per area, its case-weighted minutes and the LP
        lower bound for these open sites; ``assign`` is None when no whole-area assignment
        meeting the minimum was found.
    """
    n, k = len(w), len(open_idx)
    sub = t[:, open_idx]
    ok = np.isfinite(sub)
    rows_w = [w] if wm is None else list(wm)
    first = np.searchsorted(open_idx, fallback)
    res, x = _reassign_lp(w, sub, ok, rows_w, m, first, start)
    cost_of = lambda a: float((w * t[np.arange(n), a]).sum())  # noqa: E731
    lp = float("nan")
    local = None
    if x is not None:
        lp = float((w * (x * np.where(ok, sub, 0.0)).sum(axis=1)).sum())
        local = np.argmax(x, axis=1)
        if not _meets(local, rows_w, m, k):
            rounded = local
            local = _repair(w, sub, ok, rows_w, m, x, time_limit, whole_only=True)
            if local is None:
                local = _greedy(w, sub, ok, rows_w, m, rounded)
            if local is None:
                local = _repair(w, sub, ok, rows_w, m, x, time_limit, whole_only=False)
    if local is None:
        if not (np.isin(fallback, open_idx).all() and _meets(first, rows_w, m, k)):
            return None, float("nan"), lp
        local = first
    assign = open_idx[local]
    return assign, cost_of(assign), lp


def _meets(local: np.ndarray, rows_w: list[np.ndarray], m: float, k: int) -> bool:
    """Every centre (local index) reaches ``m`` on every row of demand."""
    return all((np.bincount(local, weights=rw, minlength=k) >= m - 1e-9).all()
               for rw in rows_w)


def _greedy(w, sub, ok, rows_w, m, local):
    """Move single areas into centres below the minimum, cheapest extra minutes first.

    Each step takes the centre furthest below ``m`` and moves to it the area whose move adds
    the fewest case-weighted minutes among those whose own centre stays at or above ``m``
    on every demand row. Returns local site indices meeting every minimum, or None.
    """
    n, k = sub.shape
    w_rows = np.stack(rows_w)
    local = local.copy()
    loads = np.stack([np.bincount(local, weights=rw, minlength=k) for rw in rows_w])
    rows = np.arange(n)
    for _ in range(n):
        short = (loads - m).min(axis=0)
        if (short >= -1e-9).all():
            return local
        j = int(np.argmin(short))
        keeps = ((loads[:, local] - w_rows) >= m - 1e-9).all(axis=0)
        can = ok[:, j] & (local != j) & keeps & (w_rows > 0).any(axis=0)
        if not can.any():
            return None
        extra = np.where(can, w * (np.where(ok[:, j], sub[:, j], 0.0) - sub[rows, local]),
                         np.inf)
        i = int(np.argmin(extra))
        loads[:, local[i]] -= w_rows[:, i]
        loads[:, j] += w_rows[:, i]
        local[i] = j
    return None


def _repair(w, sub, ok, rows_w, m, x, time_limit, *, whole_only):
    """Whole-area assignment meeting every minimum, close to the LP solution ``x``.

    With ``whole_only`` only the areas the LP split are free (at most ``k`` per demand row
    in a basic solution) and the others stay where the LP put them; otherwise every area may
    use any site the LP gave a share to or its two nearest open sites. Returns local site
    indices, or None.
    """
    n, k = sub.shape
    whole = x.max(axis=1) > 1 - 1e-9
    near = np.argsort(np.where(ok, sub, np.inf), axis=1, kind="stable")[:, :2]
    support = x > 1e-9
    support[np.arange(n)[:, None], near] = True
    support &= ok
    free = ~whole if whole_only else np.ones(n, bool)
    if free.any():
        cols = support & free[:, None]
        ii, jj = np.nonzero(cols)
        fixed = np.where(free, -1, np.argmax(x, axis=1))
        need = [m - np.bincount(fixed[~free], weights=rw[~free], minlength=k)
                for rw in rows_w]
        a_eq = coo_array((np.ones(len(ii)), (np.searchsorted(np.nonzero(free)[0], ii),
                                             np.arange(len(ii)))),
                         shape=(int(free.sum()), len(ii)))
        blocks = [coo_array((rw[ii], (jj, np.arange(len(ii)))), shape=(k, len(ii)))
                  for rw in rows_w]
        cons = [LinearConstraint(a_eq, 1.0, 1.0)]
        cons += [LinearConstraint(b, nd, np.inf) for b, nd in zip(blocks, need, strict=True)]
        res = milp(w[ii] * sub[ii, jj], constraints=cons, integrality=np.ones(len(ii)),
                   bounds=Bounds(0, 1), options={"time_limit": time_limit, "disp": False})
        if res.x is not None:
            local = fixed.copy()
            pick = res.x > 0.5
            local[ii[pick]] = jj[pick]
            if (local >= 0).all() and _meets(local, rows_w, m, k):
                return local
    return None


#: columns per area in the first restricted re-assignment LP (its nearest open site; the
#: fallback site is added, and pricing adds any other column that can improve).
_FIRST_COLUMNS = 1


def _reassign_lp(w, sub, ok, rows_w, m, fallback, start=None):
    """The re-assignment LP by column generation: exact, on a fraction of the columns.

    Each area starts with its nearest open site, its fallback site and the ``start`` columns
    (widened to its 3 nearest, then all, if that restricted LP is infeasible); the LP is
    solved, and any left-out column with negative reduced cost ``c_ij - u_i + sum_r w_ri
    lambda_rj`` (``u`` the assignment duals, ``lambda <= 0`` the minimum-volume duals) is
    added until none is left: then the restricted optimum is the optimum of the full LP.

    Returns:
        ``(result, x)``: the final :func:`scipy.optimize.linprog` result and the areas x
        sites solution (None when the LP failed).
    """
    n, k = sub.shape
    eps = 1e-6 * (w.mean() if w.sum() > 0 else 1.0)
    cost = np.where(ok, (w + eps)[:, None] * np.where(ok, sub, 0.0), np.inf)
    active = np.zeros((n, k), bool)
    order = np.argsort(np.where(ok, sub, np.inf), axis=1, kind="stable")
    active[np.arange(n)[:, None], order[:, :_FIRST_COLUMNS]] = True
    active[np.arange(n), fallback] = True
    if start is not None:
        active |= start
    active &= ok
    w_rows = np.stack(rows_w)
    widths = [3, k]  # if the restricted LP is infeasible: more nearest sites, then all
    while True:
        ii, jj = np.nonzero(active)
        a_eq = coo_array((np.ones(len(ii)), (ii, np.arange(len(ii)))), shape=(n, len(ii)))
        a_ub = None
        if m > 0:
            r_idx = np.repeat(np.arange(len(rows_w)), len(ii))
            a_ub = coo_array((-w_rows[:, ii].ravel(), (np.tile(jj, len(rows_w)) + r_idx * k,
                                                       np.tile(np.arange(len(ii)),
                                                               len(rows_w)))),
                             shape=(k * len(rows_w), len(ii)))
        res = linprog(cost[ii, jj], A_ub=a_ub,
                      b_ub=np.full(k * len(rows_w), -m) if m > 0 else None,
                      A_eq=a_eq, b_eq=np.ones(n), bounds=(0, None), method="highs")
        if res.status == 2 and widths:  # restricted LP infeasible: widen the columns
            active[np.arange(n)[:, None], order[:, :widths.pop(0)]] = True
            active &= ok
            continue
        if res.status != 0:
            return res, None
        reduced = cost - res.eqlin.marginals[:, None]
        if m > 0:
            lam = res.ineqlin.marginals.reshape(len(rows_w), k)
            reduced = reduced + w_rows.T @ lam
        enter = ok & ~active & (reduced < -1e-9 * max(1.0, float(np.abs(res.fun))) / n)
        if not enter.any():
            x = np.zeros((n, k))
            x[ii, jj] = res.x
            return res, x
        active |= enter

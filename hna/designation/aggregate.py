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
2. the MILP is solved exactly on zones (HiGHS gap reported), which chooses the open sites;
3. **re-assignment**: with those sites open, the areas themselves are assigned by the
   linear programme "least case-weighted minutes with every centre >= the minimum" (a
   transportation problem with ``k`` extra rows). A basic optimal solution splits at most
   one area per minimum-volume row; split areas go to the site holding most of them, and the
   minimum is re-checked. The LP value is a lower bound for those sites, so the rounding gap
   ``(cost - LP) / cost`` is reported with the MILP gap.

The solution is feasible for the small-area problem, optimal for the zones and, for the
chosen sites, within the reported gap of the best small-area assignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
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
             wm: np.ndarray | None, fallback: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Best assignment of areas to the open sites with every centre >= ``m`` (LP + rounding).

    Args:
        w: demand per area (objective weights).
        t: areas x sites minutes.
        open_idx: the open sites.
        m: minimum per centre.
        wm: rows x areas demand for the minimum (None: ``w``).
        fallback: an assignment known to be feasible (site index per area).

    Returns:
        ``(assign, cost, lp_bound)``: site index per area, its case-weighted minutes and the LP
        lower bound for these open sites.
    """
    n, k = len(w), len(open_idx)
    sub = t[:, open_idx]
    ok = np.isfinite(sub)
    ii, jj = np.nonzero(ok)
    eps = 1e-6 * (w.mean() if w.sum() > 0 else 1.0)
    c = (w[ii] + eps) * sub[ii, jj]
    a_eq = coo_array((np.ones(len(ii)), (ii, np.arange(len(ii)))), shape=(n, len(ii)))
    rows_w = [w] if wm is None else list(wm)
    blocks = [coo_array((-rw[ii], (jj + r * k, np.arange(len(ii)))), shape=(k * len(rows_w),
                                                                              len(ii)))
              for r, rw in enumerate(rows_w)]
    a_ub = sum(blocks[1:], blocks[0]) if m > 0 else None
    res = linprog(c, A_ub=a_ub, b_ub=np.full(k * len(rows_w), -m) if m > 0 else None,
                  A_eq=a_eq, b_eq=np.ones(n), bounds=(0, 1), method="highs")
    cost_of = lambda a: float((w * t[np.arange(n), a]).sum())  # noqa: E731
    if res.status != 0:
        return fallback, cost_of(fallback), float("nan")
    x = np.zeros((n, k))
    x[ii, jj] = res.x
    assign = open_idx[np.argmax(x, axis=1)]
    for rw in rows_w:
        loads = np.bincount(np.searchsorted(open_idx, assign), weights=rw, minlength=k)
        if (loads < m - 1e-9).any():
            return fallback, cost_of(fallback), float((w * (x * sub).sum(axis=1)).sum())
    lp = float(np.nansum(w[:, None] * np.where(ok, sub, 0.0) * x))
    return assign, cost_of(assign), lp

"""Aggregated designation: the exact re-assignment LP, whole-area repair and split zones.

References are independent: the full transportation LP solved by ``scipy.optimize.linprog``
on every column, hand calculation, and brute force over every site subset and assignment.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import linprog
from scipy.sparse import coo_array
from test_designation import _random_instance

import hna.designation.solve as solve_mod
from hna.catchments import TravelModel
from hna.designation import designate
from hna.designation.aggregate import _greedy, _reassign_lp, reassign

KM = TravelModel(circuity=1.0, speed_kmh=60.0)  # one minute per km


def _instance(seed: int, n: int, k: int, holes: bool = True):
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    w = rng.uniform(0.2, 3.0, n)
    t = rng.uniform(5.0, 120.0, (n, k))
    if holes:  # some pairs without a route, never an area's every site
        t[rng.random((n, k)) < 0.15] = np.nan
        t[np.isnan(t).all(axis=1), 0] = 30.0
    return w, t


def _full_lp(w, t, m):
    """Least case-weighted minutes, every site >= m, on every column (independent)."""
    n, k = t.shape
    ii, jj = np.nonzero(np.isfinite(t))
    eps = 1e-6 * w.mean()
    a_eq = coo_array((np.ones(len(ii)), (ii, np.arange(len(ii)))), shape=(n, len(ii)))
    a_ub = coo_array((-w[ii], (jj, np.arange(len(ii)))), shape=(k, len(ii)))
    res = linprog((w[ii] + eps) * t[ii, jj], A_ub=a_ub, b_ub=np.full(k, -m), A_eq=a_eq,
                  b_eq=np.ones(n), bounds=(0, None), method="highs")
    assert res.status == 0
    return res.fun


@pytest.mark.parametrize("seed,m", [(1, 0.0), (2, 20.0), (3, 45.0)])
def test_column_generation_lp_equals_the_full_lp(seed, m):
    w, t = _instance(seed, n=120, k=4)
    ok = np.isfinite(t)
    nearest = np.argmin(np.where(ok, t, np.inf), axis=1)
    res, x = _reassign_lp(w, t, ok, [w], m, nearest)
    assert res.status == 0
    assert res.fun == pytest.approx(_full_lp(w, t, m), rel=1e-9)
    assert x.sum(axis=1) == pytest.approx(np.ones(len(w)))
    assert (np.bincount(np.argmax(x, axis=1), minlength=4) > 0).all()


def test_column_generation_widens_when_the_first_columns_are_infeasible():
    # everyone is nearest to site 0 and the fallback is site 0 too: site 1 needs columns
    w = np.array([5.0, 5.0, 5.0])
    t = np.array([[10.0, 20.0], [10.0, 30.0], [10.0, 40.0]])
    res, x = _reassign_lp(w, t, np.isfinite(t), [w], 5.0, np.zeros(3, int))
    assert res.status == 0
    assert x[0, 1] == pytest.approx(1.0)  # the cheapest area to move (10 extra minutes)


def test_greedy_moves_the_cheapest_area_into_a_short_centre():
    # site 1 has 2 cases and needs 4; site 0 has 7. Moving area 0 adds 3 x (15 - 10) = 15
    # case-minutes and leaves site 0 at 4; area 1 adds 2 x 20 = 40, area 2 2 x 30 = 60
    w = np.array([3.0, 2.0, 2.0, 2.0])
    t = np.array([[10.0, 15.0], [10.0, 30.0], [10.0, 40.0], [50.0, 10.0]])
    local = np.array([0, 0, 0, 1])
    out = _greedy(w, t, np.isfinite(t), [w], 4.0, local)
    assert out.tolist() == [1, 0, 0, 1]


def test_greedy_gives_up_when_no_area_can_move():
    w = np.array([3.0, 1.0])
    t = np.array([[10.0, 15.0], [10.0, 30.0]])
    assert _greedy(w, t, np.isfinite(t), [w], 3.0, np.array([0, 1])) is None


def _best_assignment(w, t, m):
    """Brute force over every whole assignment of areas to the open sites."""
    n, k = t.shape
    best = np.inf
    for assign in itertools.product(range(k), repeat=n):
        a = np.array(assign)
        if not np.isfinite(t[np.arange(n), a]).all():
            continue
        if (np.bincount(a, weights=w, minlength=k) < m - 1e-9).any():
            continue
        best = min(best, float((w * t[np.arange(n), a]).sum()))
    return best


@pytest.mark.parametrize("seed", [4, 5, 6, 7])
def test_reassign_meets_the_minimum_and_is_bounded_by_brute_force(seed):
    w, t = _instance(seed, n=9, k=3, holes=False)
    m = 0.3 * w.sum()  # binding: the nearest-site loads are uneven
    open_idx = np.arange(3)
    best = _best_assignment(w, t, m)
    start = np.argmin(t, axis=1)
    assign, cost, lp = reassign(w, t, open_idx, m, None, start)
    assert assign is not None
    assert (np.bincount(assign, weights=w, minlength=3) >= m - 1e-9).all()
    assert lp <= best + 1e-6 <= cost + 2e-6
    assert cost == pytest.approx(float((w * t[np.arange(9), assign]).sum()))


@pytest.mark.parametrize("k,m", [(2, 9.0), (3, 6.0)])
def test_national_split_zones_give_a_feasible_whole_area_answer(monkeypatch, k, m):
    # the national path (zones may be split between centres in the MILP) on a small instance
    monkeypatch.setattr(solve_mod, "LARGE_AREAS", 0)
    demand, sites, _ = _random_instance()
    res = designate(demand, sites, k, m, model=KM, aggregate=True)
    assert "same two nearest candidate sites" in res.assumptions["aggregation"]["rule"]
    assert (res.centres["cases"] >= m - 1e-9).all()
    assert res.allocation["site_code"].isin(res.chosen_sites).all()
    assert res.centres["cases"].sum() == pytest.approx(demand["cases"].sum())

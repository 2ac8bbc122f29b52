"""Designation MILP: exact optima on hand-solvable cases, constraints, infeasibility messages.

The line example: four areas on a straight line at 0, 1, 2 and 10 km (A, B, C, D) with
10, 12, 10 and 5 expected cases; every area is also a candidate site. Travel is set to one
minute per straight-line km (circuity 1, 60 km/h), so costs are cases x km.

By hand (cost = sum of cases x km to the assigned site):
- k=1: B costs 10x1 + 10x1 + 5x9 = 65; C 10x2 + 12x1 + 5x8 = 72; A 82; D 280 -> B, 65.
- k=2, no minimum: {B,D} costs 10 + 10 = 20; {A,D} and {C,D} 32; {B,C} 10 + 40 = 50 -> {B,D}.
- k=2, minimum 12: D alone has 5 cases. {B,C} (A,B -> B = 22 cases; C,D -> C = 15) costs
  10 + 40 = 50; {A,C} 12 + 40 = 52; {A,B} 62; {B,D} (C must go to D) 90 -> {B,C}, 50.
- k=3, minimum 12: 37 >= 36 cases in total, but no split of {10, 12, 10, 5} into three groups
  of at least 12 exists -> infeasible, found by the solver.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hna.catchments import TravelModel
from hna.designation import DesignationInfeasible, compare_k, designate
from hna.errors import ParameterError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
KM = TravelModel(circuity=1.0, speed_kmh=60.0)  # one minute per km


@pytest.fixture
def line():
    demand = pd.DataFrame({"area_code": list("ABCD"), "x": [0.0, 1000.0, 2000.0, 10000.0],
                           "y": 0.0, "cases": [10.0, 12.0, 10.0, 5.0]})
    sites = pd.DataFrame({"site_code": list("ABCD"), "site_name": [f"Site {c}" for c in "ABCD"],
                          "x": demand["x"], "y": 0.0})
    return demand, sites


def test_k1_picks_the_median(line):
    res = designate(*line, 1, model=KM)
    assert res.chosen_sites == ["B"]
    assert res.objective == pytest.approx(65.0)
    assert res.mip_gap == pytest.approx(0.0, abs=1e-9)
    assert res.status == "optimal"


def test_k2_without_minimum(line):
    res = designate(*line, 2, model=KM)
    assert res.chosen_sites == ["B", "D"]
    assert res.objective == pytest.approx(20.0)
    assert res.allocation["is_nearest"].all()


def test_minimum_volume_changes_the_answer(line):
    res = designate(*line, 2, 12, model=KM)
    assert res.chosen_sites == ["B", "C"]
    assert res.objective == pytest.approx(50.0)
    by_site = res.centres.set_index("site_code")["cases"]
    assert by_site.to_dict() == {"B": pytest.approx(22.0), "C": pytest.approx(15.0)}
    assert res.centres["meets_minimum"].all()


def test_minimum_volume_can_send_an_area_past_a_nearer_centre():
    # P at 0 km (10 cases), Q at 4 km (3), R at 10 km (6); sites at 0 and 10 km; k=2.
    # No minimum: Q goes to the 0 km site (3 x 4 = 12). Minimum 8: the 10 km site has only 6
    # cases of its own, so Q must go there (3 x 6 = 18) although the 0 km site is nearer.
    demand = pd.DataFrame({"area_code": ["P", "Q", "R"], "x": [0.0, 4000.0, 10000.0],
                           "y": 0.0, "cases": [10.0, 3.0, 6.0]})
    sites = pd.DataFrame({"site_code": ["S0", "S10"], "x": [0.0, 10000.0], "y": 0.0})
    assert designate(demand, sites, 2, model=KM).objective == pytest.approx(12.0)
    res = designate(demand, sites, 2, 8, model=KM)
    assert res.objective == pytest.approx(18.0)
    alloc = res.allocation.set_index("area_code")
    assert alloc.loc["Q", "site_code"] == "S10"
    assert alloc.loc["Q", "nearest_open_site"] == "S0"
    assert not alloc.loc["Q", "is_nearest"]


def test_zero_demand_area_goes_to_nearest_open_centre(line):
    demand, sites = line
    extra = pd.DataFrame({"area_code": ["E"], "x": [9000.0], "y": [0.0], "cases": [0.0]})
    res = designate(pd.concat([demand, extra], ignore_index=True), sites, 2, model=KM)
    assert res.allocation.set_index("area_code").loc["E", "site_code"] == "D"


def test_infeasible_combination_found_by_solver_names_critical_mass(line):
    with pytest.raises(DesignationInfeasible) as err:
        designate(*line, 3, 12, model=KM)
    assert err.value.binding == ["critical_mass"]
    assert "MILP is infeasible" in str(err.value)


def test_precheck_total_demand_below_k_times_minimum(line):
    with pytest.raises(DesignationInfeasible) as err:
        designate(*line, 3, 13, model=KM)
    assert err.value.binding == ["critical_mass"]
    assert "total demand 37.0 cases is less than k x minimum = 3 x 13 = 39.0" in str(err.value)
    assert "at most 2 centre(s)" in str(err.value)


def test_force_include(line):
    res = designate(*line, 2, force_include=["A"], model=KM)
    # by hand: {A,D} costs 12x1 + 10x2 = 32; {A,B} 10 + 5x8 = 50; {A,C} 12 + 40 = 52
    assert res.chosen_sites == ["A", "D"]
    assert res.objective == pytest.approx(32.0)
    assert res.centres.set_index("site_code").loc["A", "forced"]


def test_forced_site_that_cannot_reach_minimum(line):
    with pytest.raises(DesignationInfeasible) as err:
        designate(*line, 2, 12, force_include=["D"], max_travel=7, model=KM)
    assert "force_include" in err.value.binding
    assert "D (Site D) can attract at most 5.0" in str(err.value)


def test_max_travel(line):
    # k=1 within 7 minutes is impossible (every site has an area 8+ km away): solver + diagnosis
    with pytest.raises(DesignationInfeasible) as err:
        designate(*line, 1, max_travel=7, model=KM)
    assert err.value.binding == ["max_travel"]
    # k=2 within 7 minutes: D must serve itself, B serves A, B, C: {B, D}
    res = designate(*line, 2, max_travel=7, model=KM)
    assert res.chosen_sites == ["B", "D"]
    assert res.travel["max_minutes"] <= 7


def test_max_travel_unreachable_area_is_named(line):
    demand, sites = line
    with pytest.raises(DesignationInfeasible) as err:
        designate(demand, sites[sites["site_code"] != "D"], 1, max_travel=5, model=KM)
    assert err.value.binding == ["max_travel"]
    assert "1 area(s) have no candidate site within 5 minutes: D" in str(err.value)


def test_draws_give_probability_of_meeting_minimum(line):
    demand, sites = line
    # two draws; with k=2, minimum 12 the allocation is {A,B} -> B, {C,D} -> C.
    draws = pd.DataFrame({
        "area_code": list("ABCD") * 2,
        "draw": [0] * 4 + [1] * 4,
        "cases": [10, 12, 10, 5, 3, 4, 9, 4],
    })
    res = designate(demand, sites, 2, 12, draws=draws, model=KM)
    prob = res.centres.set_index("site_code")["prob_meets_minimum"]
    # B: draw 0 -> 22, draw 1 -> 7: P = 0.5. C: 15 and 13: P = 1.
    assert prob["B"] == pytest.approx(0.5)
    assert prob["C"] == pytest.approx(1.0)
    assert res.prob_all_meet_minimum == pytest.approx(0.5)


def test_change_versus_current_configuration(line):
    res = designate(*line, 2, 12, current_sites=["A", "D"], model=KM)
    change = res.change
    assert change.opened == ["B", "C"] and change.closed == ["A", "D"]
    # current nearest: A,B,C -> A (0 + 12x1 + 10x2 = 32), D -> D: mean 32/37 minutes
    assert change.travel["current_mean_minutes"] == pytest.approx(32 / 37)
    assert change.travel["new_mean_minutes"] == pytest.approx(50 / 37)
    assert change.areas_reassigned == 4
    assert change.cases_reassigned == pytest.approx(37.0)


def test_travel_matrix_input_is_used(line):
    demand, sites = line
    # a matrix in which C is the quickest site for everyone (say a motorway hub)
    rows = [(a, s, 5.0 if s == "C" else 50.0) for a in "ABCD" for s in "ABCD"]
    matrix = pd.DataFrame(rows, columns=["origin", "destination", "minutes"])
    res = designate(demand[["area_code", "cases"]], sites[["site_code", "site_name"]], 1,
                    travel=matrix)
    assert res.chosen_sites == ["C"]
    assert res.travel["mean_minutes"] == pytest.approx(5.0)


def test_compare_k_keeps_going_past_infeasible_k(line):
    cmp = compare_k(*line, ks=range(1, 5), min_cases_per_centre=12, model=KM)
    table = cmp.table.set_index("k")
    assert table.loc[1, "status"] == "optimal" and table.loc[2, "status"] == "optimal"
    assert table.loc[3, "status"] == "infeasible" and table.loc[4, "status"] == "infeasible"
    assert "critical_mass" in table.loc[4, "binding"]
    assert table.loc[2, "objective"] == pytest.approx(50.0)
    assert isinstance(cmp.results[3], DesignationInfeasible)


@pytest.mark.parametrize("kwargs", [{"k": 0}, {"k": 1.5}, {"k": 1, "force_include": ["Z"]},
                                    {"k": 1, "min_cases_per_centre": -1}])
def test_bad_arguments(line, kwargs):
    with pytest.raises(ParameterError):
        designate(*line, model=KM, **kwargs)


def test_more_centres_than_candidates(line):
    with pytest.raises(DesignationInfeasible, match="from 4 candidate sites"):
        designate(*line, 5, model=KM)


def _brute_force(w, t, k, m):
    """Best objective over every site subset and every single assignment (independent)."""
    n, J = t.shape
    best = np.inf
    for subset in itertools.combinations(range(J), k):
        for assign in itertools.product(subset, repeat=n):
            loads = np.zeros(J)
            np.add.at(loads, list(assign), w)
            if any(loads[j] < m for j in subset):
                continue
            best = min(best, float(sum(w[i] * t[i, assign[i]] for i in range(n))))
    return best


@pytest.mark.parametrize("k,m", [(2, 0.0), (2, 9.0), (3, 6.0)])
def test_matches_brute_force_on_random_instance(k, m):
    demand, sites, t = _random_instance(seed=7)
    expected = _brute_force(demand["cases"].to_numpy(), t, k, m)
    res = designate(demand, sites, k, m, model=KM)
    assert res.objective == pytest.approx(expected, rel=1e-6)


# --------------------------------------------------------------------------------------------
# South West soft tissue sarcoma: compare k = 1, 2, 3 among the region's major acute hospitals
# --------------------------------------------------------------------------------------------


@pytest.mark.skipif(not (SHARED / "population_estimates").is_dir(),
                    reason="shared data folder (../shared/data) not available")
def test_south_west_sarcoma_k_1_to_3():
    from hna.catchments import area_points, demand_points, major_acute_sites
    from hna.geography.boundaries import load_boundaries

    pop = pd.read_csv(SHARED / "population_estimates"
                      / "ons_mye_mid2020_2021geog_uk_all_areas_sex_syoa.csv",
                      usecols=["area_code", "population"])
    lookup = pd.read_csv(SHARED / "lookups" / "lad21_rgn21_en.csv")
    sw_lads = lookup.loc[lookup["region21_code"] == "E12000009", "ltla21_code"]
    population = pop[pop["area_code"].isin(sw_lads)].groupby("area_code")["population"].sum()
    assert len(population) == 30
    # constant crude rate: 7.7 per 100,000 a year (NHS Digital, England 2017-19; DOMAIN.md)
    cases = population * 7.7e-5
    assert 400 <= cases.sum() <= 450
    lads = load_boundaries(SHARED / "boundaries" / "lad_2021-12_uk_buc.geojson", level="lad")
    demand = demand_points(area_points(lads[lads["code"].isin(sw_lads)]), cases,
                           population=population)
    sites = major_acute_sites("E40000006", data_dir=SHARED)
    assert {"RK950", "REF12", "RVJ01", "RA701", "RH801"} <= set(sites["site_code"])
    cmp = compare_k(demand, sites, ks=range(1, 4), min_cases_per_centre=100)
    table = cmp.table.set_index("k")
    assert (table["status"] == "optimal").all()
    assert (table["min_centre_cases"] >= 100).all()
    means = table["mean_minutes"].to_numpy()
    assert means[0] > means[1] > means[2]
    for res in cmp.results.values():
        assert res.allocation["site_code"].isin(res.chosen_sites).all()
        assert res.centres["cases"].sum() == pytest.approx(cases.sum())


def _random_instance(seed=11, n=8, J=5):
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    demand = pd.DataFrame({"area_code": [f"a{i}" for i in range(n)],
                           "x": rng.uniform(0, 50_000, n), "y": rng.uniform(0, 50_000, n),
                           "cases": rng.integers(1, 8, n).astype(float)})
    sites = pd.DataFrame({"site_code": [f"s{j}" for j in range(J)],
                          "x": rng.uniform(0, 50_000, J), "y": rng.uniform(0, 50_000, J)})
    t = np.hypot(demand["x"].to_numpy()[:, None] - sites["x"].to_numpy()[None, :],
                 demand["y"].to_numpy()[:, None] - sites["y"].to_numpy()[None, :]) / 1000
    return demand, sites, t


@pytest.mark.parametrize("k,m", [(2, 0.0), (2, 9.0), (3, 6.0)])
def test_aggregation_with_one_area_per_zone_matches_brute_force(k, m):
    demand, sites, t = _random_instance()
    demand = demand.assign(lad_code=demand["area_code"])  # each area its own zone
    expected = _brute_force(demand["cases"].to_numpy(), t, k, m)
    res = designate(demand, sites, k, m, model=KM, aggregate=True)
    assert res.objective == pytest.approx(expected, rel=1e-6)
    assert res.assumptions["aggregation"]["zones"] == len(demand)


@pytest.mark.parametrize("k,m", [(2, 9.0), (3, 6.0)])
def test_aggregated_solution_is_feasible_and_no_better_than_the_optimum(k, m):
    demand, sites, t = _random_instance(seed=5, n=8)
    demand = demand.assign(lad_code=["d1"] * 4 + ["d2"] * 4)
    expected = _brute_force(demand["cases"].to_numpy(), t, k, m)
    res = designate(demand, sites, k, m, model=KM, aggregate=True)
    assert res.objective >= expected - 1e-6
    assert (res.centres["cases"] >= m - 1e-9).all()


def _brute_force_rows(rows, w, t, k, m):
    """Brute force with the minimum on every row of ``rows`` (years), objective on ``w``."""
    n, J = t.shape
    best = np.inf
    for subset in itertools.combinations(range(J), k):
        for assign in itertools.product(subset, repeat=n):
            ok = True
            for row in rows:
                loads = np.zeros(J)
                np.add.at(loads, list(assign), row)
                ok &= all(loads[j] >= m for j in subset)
            if ok:
                best = min(best, float(sum(w[i] * t[i, assign[i]] for i in range(n))))
    return best


def test_minimum_in_every_year_matches_brute_force():
    demand, sites, t = _random_instance(seed=3, n=7, J=4)
    w = demand["cases"].to_numpy()
    later = w * np.linspace(0.6, 1.4, len(w))  # demand shifts between areas over time
    years = pd.DataFrame({2025: w, 2030: later}, index=demand["area_code"])
    expected = _brute_force_rows([w, later], w, t, 2, 8.0)
    res = designate(demand, sites, 2, 8.0, model=KM, minimum_demand=years)
    assert res.objective == pytest.approx(expected, rel=1e-6)
    loads = years.groupby(res.allocation.set_index("area_code")["site_code"]).sum()
    assert (loads.to_numpy() >= 8.0 - 1e-9).all()

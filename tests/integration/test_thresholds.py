"""Critical-mass arithmetic, checked by hand.

Reference values are worked out in the comments from the formulas in hna/thresholds.py
(centres = floor(demand / minimum); planning population = minimum / crude rate); viability by
allocation is checked against exact binomial and multinomial probabilities (scipy.stats).
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from hna.errors import ParameterError
from hna.thresholds import (
    assess,
    centres_sustainable,
    first_year,
    planning_population,
    probability_centres_viable,
    service_tiers,
)
from tests.integration.test_demand import tiny_population, tiny_service


def test_centres_sustainable_is_the_floor():
    assert centres_sustainable(49, 20) == 2  # 49 / 20 = 2.45
    assert centres_sustainable(19.99, 20) == 0
    assert centres_sustainable(0.3, 0.1) == 3  # 2.9999999999999996 in floating point
    assert centres_sustainable(np.array([99, 100, 250]), 100).tolist() == [0, 1, 2]


def test_planning_population_is_minimum_over_crude_rate():
    # STS: 100 new patients per MDT / 7.7 per 100,000 = 1,298,701.3 people
    assert planning_population(100, 7.7e-5) == pytest.approx(1_298_701.2987, rel=1e-9)
    with pytest.raises(ParameterError):
        planning_population(100, 0)


def test_probability_with_one_centre_is_the_share_of_draws_reaching_the_minimum():
    # one centre gets every case: viable in the draws with demand >= 20, 3 of 4
    assert probability_centres_viable([10, 20, 30, 40], 20, 1) == 0.75


def test_two_centre_allocation_matches_the_exact_binomial():
    from scipy import stats

    # every draw has N = 210 cases; equal shares: X1 ~ Binomial(210, 0.5), X2 = 210 - X1;
    # both >= 100 <=> 100 <= X1 <= 110
    n_draws = 200_000
    exact = stats.binom.cdf(110, 210, 0.5) - stats.binom.cdf(99, 210, 0.5)
    p = probability_centres_viable(np.full(n_draws, 210), 100, 2, seed=3)
    assert p == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / n_draws))
    # unequal shares 0.4 / 0.6, N = 300, minimum 100: 100 <= X1 <= 200, X1 ~ Bin(300, 0.4)
    exact = stats.binom.cdf(200, 300, 0.4) - stats.binom.cdf(99, 300, 0.4)
    p = probability_centres_viable(np.full(n_draws, 300), 100, 2, shares=[0.4, 0.6], seed=3)
    assert p == pytest.approx(exact, abs=4 * np.sqrt(exact * (1 - exact) / n_draws))


def test_allocation_is_far_below_the_deterministic_split():

    from scipy import stats

    from hna.thresholds import viability

    # 505 cases, 5 centres of at least 100: an even split gives 101 each (always "viable"),
    # but by allocation P(all five >= 100) is small: exact multinomial computed below
    n, k, m = 505, 5, 100

    # P(all >= m) = sum over x1 P(X1 = x1) P(rest >= m | N - x1, k - 1), by recursion
    @functools.cache
    def p_all(n, k):
        if k == 1:
            return float(n >= m)
        xs = np.arange(m, n + 1)
        pmf = stats.binom.pmf(xs, n, 1 / k)
        return float(sum(pm * p_all(n - x, k - 1) for x, pm in zip(xs, pmf, strict=True)
                         if pm > 1e-12))

    exact = p_all(n, k)
    v = viability(np.full(100_000, n), m, k, seed=1)
    assert v["p_all_viable"].iloc[0] == pytest.approx(exact, abs=0.005)
    assert exact < 0.2 and v["centres_on_mean"].iloc[0] == 5


def test_centres_sustainable_at_level_is_the_largest_k_reaching_it():
    from hna.thresholds import viability

    draws = np.random.default_rng(0).poisson(503, 4000)
    v = viability(draws, 100, seed=2, level=0.8).iloc[0]
    k = int(v["centres_sustainable_at_level"])
    p = [probability_centres_viable(draws, 100, j, seed=2) for j in (k, k + 1)]
    assert p[0] >= 0.8 > p[1]
    assert v["centres_on_mean"] == 5 and k == 4
    with pytest.raises(ParameterError, match="probability"):
        viability(draws, 100, seed=2, level=1.5)


def test_bad_shares_are_rejected():
    with pytest.raises(ParameterError, match="one catchment share per centre"):
        probability_centres_viable([1, 2], 1, 2, shares=[1.0])
    with pytest.raises(ParameterError, match="sum to 1"):
        probability_centres_viable([1, 2], 1, 2, shares=[0.5, 0.6])


def test_first_year():
    assert first_year([2025, 2026, 2027], [90, 110, 130], 100) == 2026
    assert first_year([2025, 2026], [90, 95], 100) is None


def test_tiers_of_a_planning_population():
    t = service_tiers("soft_tissue_sarcoma", 1_298_701).set_index("scheme")["tier"]
    # emscg_2009 regional is 1-5m; dh_2003 lscg is 1-2m; stp_2016 STP or multi-STP is < 3m
    assert t.to_dict() == {"emscg_2009": "regional", "dh_2003": "lscg",
                           "stp_2016": "stp_or_multi_stp"}


def test_assess_hand_checked_case(tmp_path):
    # 380,000 people; expected 49 cases (see tests/integration/test_demand.py); minimum 20 per centre
    svc = tiny_service(tmp_path)
    from hna.demand import service_demand

    res = service_demand(svc, "E06000001", years=[2020], draws=2000, seed=5,
                         population=tiny_population())
    a = assess(res, n_centres=2, national=49 / 380_000)
    now = a.headline["now"]
    assert now["expected"] == pytest.approx(49.0)
    # arithmetic centres and caseload on the expected value the report shows: 49 / 20, 49 / 2
    assert now["centres_on_mean"] == centres_sustainable(49.0, 20) == 2
    assert now["caseload_per_centre"] == pytest.approx(49.0 / 2)
    # probability recomputed from the draws by the same allocation
    d = res.draws_matrix()[0]
    assert now["p_viable"] == pytest.approx(
        probability_centres_viable(d, 20, 2, seed=5, key=2020))
    assert a.headline["footprint_planning_population"] == pytest.approx(20 / (49 / 380_000))
    assert "2 centres" in a.verdict and isinstance(a.tiers, pd.DataFrame)
    # one central value per quantity: the verdict quotes the expected value, as the report does
    assert "2020: 49 " in a.verdict


def test_assess_needs_national_demand_rather_than_recomputing_it(tmp_path):
    from hna.demand import service_demand

    res = service_demand(tiny_service(tmp_path), "E06000001", years=[2020], draws=10, seed=5,
                         population=tiny_population())
    with pytest.raises(ParameterError, match="national"):
        assess(res, n_centres=1)


def test_south_west_five_centres_by_allocation_and_dominant_assumptions():
    from hna.demand import service_demand

    r = service_demand("soft_tissue_sarcoma", "E40000006", years="2025:2040", draws=1000,
                       seed=1, scenario="sts_uncertain_inputs")
    eng = service_demand("soft_tissue_sarcoma", "E92000001", years="2025:2040", draws=0,
                         scenario="sts_uncertain_inputs")
    a = assess(r, n_centres=5, national=eng)
    now = a.headline["now"]
    # recomputed independently: allocate each 2025 draw between 5 equal centres
    d = r.draws_matrix()[0]
    assert now["p_viable"] == pytest.approx(
        probability_centres_viable(d, 100, 5, seed=1, key=2025))
    # an even split would call 5 centres viable whenever demand >= 500: far more often
    assert now["p_viable"] < np.mean(d >= 500)
    sens = a.headline["sensitivity"]
    assert sens["year"] == 2040 and sens["table"][0]["input"] == "annual_change_percent"
    assert "driven mostly by trend in the rates" in a.verdict
    assert abs(sum(row["share"] for row in sens["table"]) - 1) < 1e-9

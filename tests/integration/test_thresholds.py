"""Critical-mass arithmetic, checked by hand.

Reference values are worked out in the comments from the formulas in hna/thresholds.py
(centres = floor(demand / minimum); planning population = minimum / crude rate; a centre with
catchment share s is viable when s x demand >= minimum).
"""

from __future__ import annotations

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


def test_probability_from_a_known_set_of_draws():
    draws = [10, 20, 30, 40]
    # two centres, equal split: each gets demand / 2 >= 15 when demand >= 30 -> 2 of 4 draws
    assert probability_centres_viable(draws, 15, 2) == 0.5
    # shares 0.25 / 0.75: the small centre needs 0.25 x demand >= 15 -> demand >= 60: none
    assert probability_centres_viable(draws, 15, 2, shares=[0.25, 0.75]) == 0.0
    # one centre needs demand >= 20: 3 of 4
    assert probability_centres_viable(draws, 20, 1) == 0.75
    # by year: rows are years, columns draws
    per_year = probability_centres_viable(np.array([[10, 20, 30, 40], [30, 31, 32, 33]]), 15, 2)
    assert per_year.tolist() == [0.5, 1.0]


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
    a = assess(res, n_centres=2)
    now = a.headline["now"]
    assert now["expected"] == pytest.approx(49.0)
    assert now["centres_on_mean"] == centres_sustainable(now["mean"], 20)
    assert now["caseload_per_centre"] == pytest.approx(now["mean"] / 2)
    # probability recomputed from the draws: both centres need demand >= 40
    d = res.draws_matrix()[0]
    assert now["p_viable"] == pytest.approx(np.mean(d >= 40))
    assert a.headline["footprint_planning_population"] == pytest.approx(20 / (49 / 380_000))
    assert "2 centres" in a.verdict and isinstance(a.tiers, pd.DataFrame)

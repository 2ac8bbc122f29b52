"""England sarcoma demand on one case definition, its centres and the reality check.

Plausibility references: NCIN England 2010, 2,740 soft tissue sarcomas (narrow definition);
the population grows and ages to 2025, so 2025 demand should lie between 2,740 and 1.3 x 2,740.
NHS England 170122S: 15 centres host a soft tissue sarcoma MDT, 5 a bone sarcoma MDT; with
minimums of 100 and 50 per MDT, England must sustain at least that many (centres are larger than
the minimum) and, at about 3,000 cases, no more than 30 at 80% probability.
"""

from __future__ import annotations

import pytest

from hna.demand import service_demand
from hna.narrative.reality import reality_check_table, reality_check_text
from hna.thresholds import assess


@pytest.fixture(scope="module")
def narrow():
    r = service_demand("soft_tissue_sarcoma", "E92000001", years=[2025, 2040], draws=400, seed=7)
    return r, assess(r)


def test_england_narrow_demand_is_plausible(narrow):
    r, _a = narrow
    mean_2025 = float(r.summary.query("year == 2025")["mean"].iloc[0])
    assert 2740 < mean_2025 < 1.3 * 2740


def test_england_narrow_minimum_100_gives_a_plausible_number_of_mdts(narrow):
    _r, a = narrow
    k = int(a.by_year.query("year == 2025")["centres_sustainable_p80"].iloc[0])
    assert 15 <= k <= 30
    assert a.headline["minimum_per_centre"] == 100


def test_national_report_carries_the_reality_check(narrow):
    _r, a = narrow
    t = reality_check_table(a)
    assert t is not None and (t["centres_existing"] == 15).all()
    assert (t["centres_sustainable_at_level"] >= 15).all()
    assert "15 exist" in reality_check_text(a)


def test_bone_minimum_50_gives_at_least_the_5_existing_mdts():
    r = service_demand("bone_sarcoma", "E92000001", years=[2025], draws=400, seed=7)
    a = assess(r)
    k = int(a.by_year["centres_sustainable_p80"].iloc[0])
    assert 5 <= k <= 12
    assert reality_check_table(a)["centres_existing"].iloc[0] == 5


def test_base_case_interval_widens_with_the_years_since_the_level():
    """Constant central rates, but the drift's SE (0.26%/yr, Scottish series) compounds from 2010."""
    r = service_demand("soft_tissue_sarcoma", "E92000001", years=[2025, 2040], draws=400, seed=7)
    s = r.summary.set_index("year")
    rel = (s["q0.975"] - s["q0.025"]) / s["mean"]
    assert rel[2040] > 1.2 * rel[2025]


def test_registry_trend_scenario_moves_the_centre_by_the_fitted_drift_from_2010():
    base = service_demand("soft_tissue_sarcoma", "E92000001", years=[2040], draws=0)
    trend = service_demand("soft_tissue_sarcoma", "E92000001", years=[2040], draws=0,
                           scenario="sts_registry_trend")
    ratio = float(trend.summary["mean"].iloc[0] / base.summary["mean"].iloc[0])
    assert ratio == pytest.approx(1.0011 ** (2040 - 2010), rel=2e-3)

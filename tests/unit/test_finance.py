"""Finance: do nothing, QIPP (F003), waterfall, risk sharing and voting (F001), F004 tables.

Reference values are worked by hand from docs/methods/finance.md and the seeds' own figures.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hna import finance  # noqa: E402
from hna.errors import DataError, ParameterError  # noqa: E402

BASE = pd.DataFrame({"service": ["a", "a", "b"], "footprint": ["x", "y", "x"],
                     "spend": [100.0, 50.0, 30.0]})
DEMAND = pd.DataFrame({"service": ["a"] * 4 + ["b"] * 4, "year": [2016, 2017, 2018, 2019] * 2,
                       "demand": [10, 11, 12, 13, 5, 5, 6, 6]})


# ------------------------------------------------------------------ do nothing


def test_do_nothing_grows_with_demand_ratio_and_non_demographic_rate():
    dn = finance.do_nothing(BASE, DEMAND, non_demographic_growth=0.02)
    r = dn[(dn.service == "a") & (dn.footprint == "x") & (dn.year == 2019)].iloc[0]
    # 100 x 13/10 x 1.02^3 = 137.95704
    assert r.do_nothing_spend == pytest.approx(100 * 1.3 * 1.02**3, rel=1e-12)
    assert len(dn) == 12


def test_do_nothing_single_demand_path_applies_to_every_row():
    d = pd.DataFrame({"year": [2020, 2025], "demand": [200.0, 230.0]})
    dn = finance.do_nothing(BASE, d)
    assert dn[dn.year == 2025].do_nothing_spend.tolist() == pytest.approx([115.0, 57.5, 34.5])


def test_do_nothing_scalar_base_and_explicit_base_year():
    d = pd.DataFrame({"year": [2019, 2020, 2021], "demand": [90.0, 100.0, 110.0]})
    dn = finance.do_nothing(1000.0, d, base_year=2020)
    assert dn.year.tolist() == [2020, 2021]
    assert dn.do_nothing_spend.tolist() == pytest.approx([1000.0, 1100.0])


def test_do_nothing_input_errors():
    with pytest.raises(DataError, match="demand"):
        finance.do_nothing(BASE, DEMAND.drop(columns="demand"))
    with pytest.raises(DataError, match="base year"):
        finance.do_nothing(BASE, DEMAND, base_year=2000)
    with pytest.raises(DataError, match="region"):
        finance.do_nothing(BASE, DEMAND.assign(region="r"))
    with pytest.raises(ParameterError, match="non_demographic_growth"):
        finance.do_nothing(BASE, DEMAND, non_demographic_growth="lots")


# ------------------------------------------------------------------ QIPP (F003)


def test_qipp_year_one_is_1_5_plus_1_5_percent():
    q = finance.qipp_schedule(4)
    y1 = q.iloc[0]
    assert (y1.transactional, y1.transformational, y1.total) == pytest.approx((0.015, 0.015, 0.03))


def test_qipp_later_years_default_keeps_c3_percent_with_transactional_at_1():
    q = finance.qipp_schedule([2017, 2018, 2019, 2020])
    assert q.transactional.tolist()[1:] == pytest.approx([0.01] * 3)
    assert q.transformational.tolist()[1:] == pytest.approx([0.02] * 3)
    assert q.total.tolist() == pytest.approx([0.03] * 4)


def test_qipp_part_year_carry_over():
    # 1.5% part-year at half a year -> full-year effect 3%, 1.5% lands in year two
    q = finance.qipp_schedule(3)
    assert q.transformational_carry_over.tolist() == pytest.approx([0.0, 0.015, 0.0])
    assert q.transformational_new.tolist() == pytest.approx([0.015, 0.005, 0.02])
    with pytest.raises(ParameterError, match="carry-over"):
        finance.qipp_schedule(3, transformational_later=0.01)
    assert finance.qipp_schedule(3, transformational_later=0.01,
                                 part_year_fraction=1.0).total.iloc[1] == pytest.approx(0.02)


def test_qipp_transformational_path_is_a_parameter_and_increases():
    q = finance.qipp_schedule(5, transformational_later=[0.02, 0.025, 0.03])
    assert q.transformational.tolist() == pytest.approx([0.015, 0.02, 0.025, 0.03, 0.03])


def test_qipp_cumulative_factor_compound_and_additive():
    q = finance.qipp_schedule(3)
    assert q.cumulative_factor.iloc[-1] == pytest.approx(0.97**3, rel=1e-12)
    a = finance.qipp_schedule(3, cumulation="additive")
    assert a.cumulative_saving.iloc[-1] == pytest.approx(0.09, rel=1e-12)


def test_qipp_transactional_cap():
    with pytest.raises(ParameterError, match="no more than 1%"):
        finance.qipp_schedule(3, transactional_later=0.012)


def test_apply_qipp_factor_by_year():
    dn = finance.do_nothing(BASE, DEMAND)
    p = finance.apply_qipp(dn, finance.qipp_schedule([2017, 2018]))
    f = p.groupby("year").qipp_factor.first()
    # before the plan 1; 2017 0.97; 2018 0.97^2; 2019 (after the plan) stays 0.97^2
    assert f.tolist() == pytest.approx([1.0, 0.97, 0.97**2, 0.97**2])
    assert np.allclose(p.spend + p.qipp_saving, p.do_nothing_spend)


def test_gap_to_allocation_sums_spend_to_allocation_keys():
    p = finance.project_spend(BASE, DEMAND)
    alloc = pd.DataFrame({"footprint": ["x", "x"], "year": [2016, 2019], "allocation": [120.0, 150.0]})
    g = finance.gap_to_allocation(p, alloc).set_index("year")
    # 2016: 100 + 30 = 130 -> gap 10; 2019: 130 + 30 x 6/5 = 166 -> gap 16
    assert g.gap.tolist() == pytest.approx([10.0, 16.0])


# ------------------------------------------------------------------ waterfall decomposition


def _projection():
    return finance.project_spend(BASE, DEMAND, non_demographic_growth=0.02,
                                 qipp=finance.qipp_schedule([2017, 2018, 2019]))


def test_decompose_components_add_up_exactly():
    d = finance.decompose(_projection())
    changes = d[d.kind == "change"].value.sum()
    start, end = d.value.iloc[0], d.value.iloc[-1]
    assert np.isclose(start + changes, end, rtol=1e-9, atol=0)
    assert d.component.tolist() == ["start", "population", "non_demographic", "qipp", "end"]


def test_decompose_values_follow_the_stated_order():
    d = finance.decompose(_projection(), by=["service", "footprint"]).set_index(
        ["service", "footprint", "component"]).value
    s0, p, n, q = 100.0, 1.3, 1.02**3, 0.97**3
    assert d["a", "x", "population"] == pytest.approx(s0 * (p - 1), rel=1e-12)
    assert d["a", "x", "non_demographic"] == pytest.approx(s0 * p * (n - 1), rel=1e-12)
    assert d["a", "x", "qipp"] == pytest.approx(s0 * p * n * (q - 1), rel=1e-12)


def test_decompose_other_order_is_also_exact_but_splits_differently():
    proj = _projection()
    d1 = finance.decompose(proj).set_index("component").value
    d2 = finance.decompose(proj, order=("qipp", "non_demographic", "population")).set_index(
        "component").value
    assert np.isclose(d1["end"], d2["end"], rtol=1e-12)
    assert np.isclose(d2[["population", "non_demographic", "qipp"]].sum(), d2["end"] - d2["start"],
                      rtol=1e-9, atol=0)
    assert not np.isclose(d1["qipp"], d2["qipp"])


def test_decompose_matches_projected_spend():
    proj = _projection()
    d = finance.decompose(proj, year=2018)
    assert np.isclose(d.value.iloc[-1], proj[proj.year == 2018].spend.sum(), rtol=1e-12)


def test_decompose_bad_order():
    with pytest.raises(ParameterError, match="order"):
        finance.decompose(_projection(), order=("population", "qipp"))


def test_waterfall_figure_has_title_labels_and_source():
    from hna.plots import waterfall

    d = finance.decompose(_projection())
    fig = waterfall(d, title="Specialised spend 2016 to 2019", source="test data",
                    ylabel="GBP thousands")
    ax = fig.axes[0]
    assert ax.get_title() == "Specialised spend 2016 to 2019"
    assert [t.get_text().replace("\n", " ") for t in ax.get_xticklabels()] == d.label.tolist()
    assert ax.get_ylabel() == "GBP thousands"
    assert any("Source: test data" in t.get_text() for t in fig.texts)
    # floating bars: each change bar spans from the previous level to the next
    bars = ax.patches
    assert bars[1].get_y() == pytest.approx(d.running_total.iloc[0])
    assert bars[1].get_height() == pytest.approx(d.value.iloc[1])


def test_waterfall_refuses_several_groups():
    from hna.plots import waterfall

    with pytest.raises(DataError, match="single group"):
        waterfall(finance.decompose(_projection(), by="service"))


# ------------------------------------------------------------------ risk sharing (F001)


def test_hiv_graduated_overperformance_2_5_percent():
    r = finance.risk_share_overperformance(2.5)
    # 0.25 x 1 + 0.5 x 1 + 0.75 x 0.5 = 1.125; provider 2.5 - 1.125 = 1.375
    assert r["commissioner"] == pytest.approx(1.125) and r["provider"] == pytest.approx(1.375)


def test_hiv_graduated_overperformance_4_percent():
    r = finance.risk_share_overperformance(4.0)
    # 0.25 + 0.5 + 0.75 + 1 x 1 = 2.5; provider 1.5
    assert r["commissioner"] == pytest.approx(2.5) and r["provider"] == pytest.approx(1.5)


def test_overperformance_vector_and_money():
    t = finance.risk_share_overperformance([0.0, 1.0, 3.0], baseline=2_000.0)
    assert t.commissioner.tolist() == pytest.approx([0.0, 0.25, 1.5])
    # 3% of 2,000 = 60: commissioner 1.5% = 30, provider 30
    assert t.commissioner_value.iloc[-1] == pytest.approx(30.0)
    assert t.provider_value.iloc[-1] == pytest.approx(30.0)


def test_overperformance_rejects_negative():
    with pytest.raises(ParameterError, match="non-negative"):
        finance.risk_share_overperformance(-1)


def test_commissioner_shares_three_year_rolling_usage():
    pop = pd.DataFrame({"commissioner": ["A", "B", "C"], "weighted_population": [100, 200, 300]})
    use = pd.DataFrame({"commissioner": list("ABC") * 4, "year": [1] * 3 + [2] * 3 + [3] * 3 + [4] * 3,
                        "activity": [99, 0, 0, 10, 20, 30, 12, 18, 30, 20, 20, 30]})
    out = finance.commissioner_shares(pop, use, budget=600).set_index("commissioner")
    # years 2-4: A 14, B 19.333, C 30 (total 63.333): A 0.2211 vs population 1/6
    assert out.attrs["years"] == [2, 3, 4]
    assert out.loc["A", "usage_share"] == pytest.approx(14 / (190 / 3))
    assert out.loc["A", "flagged"]  # +32.6% relative
    assert not out.loc["C", "flagged"]  # 0.4737 vs 0.5: -5.3%
    assert out.by_usage.sum() == pytest.approx(600)


def test_commissioner_shares_absolute_threshold():
    pop = pd.DataFrame({"commissioner": ["A", "B"], "weighted_population": [1, 1]})
    use = pd.DataFrame({"commissioner": ["A", "B"] * 3, "year": [1, 1, 2, 2, 3, 3],
                        "activity": [6, 4, 6, 4, 6, 4]})
    out = finance.commissioner_shares(pop, use, threshold=0.05, basis="absolute")
    assert out.flagged.tolist() == [True, True]  # 0.6 vs 0.5
    assert not finance.commissioner_shares(pop, use, threshold=0.15, basis="absolute").flagged.any()


def test_binding_six_of_eight():
    assert finance.binding_decision([True] * 6 + [False] * 2)["binding"]
    assert not finance.binding_decision([True] * 5 + [False] * 3)["binding"]
    with pytest.raises(ParameterError, match="8 members"):
        finance.binding_decision([True] * 6)


def test_binding_seventy_percent_of_pcts():
    # Thames Valley 2006/7: 15 PCTs; 11/15 = 73% binds, 10/15 = 67% does not
    assert finance.binding_decision([True] * 11 + [False] * 4, "seventy_percent")["binding"]
    assert not finance.binding_decision([True] * 10 + [False] * 5, "seventy_percent")["binding"]
    assert finance.binding_decision([True] * 7 + [False] * 3, "seventy_percent")["binding"]


def test_binding_capitation_weighted_75_percent():
    votes = {"p1": True, "p2": True, "p3": False}
    w = {"p1": 0.5, "p2": 0.25, "p3": 0.25}
    assert finance.binding_decision(votes, "weighted_75", weights=w,
                                    notice_days=30)["binding"]  # exactly 75%
    w2 = {"p1": 0.4, "p2": 0.3, "p3": 0.3}
    r = finance.binding_decision(votes, "weighted_75", weights=w2, notice_days=30)
    assert not r["binding"] and r["share"] == pytest.approx(0.7)


def test_binding_rule_errors():
    with pytest.raises(ParameterError, match="rule"):
        finance.binding_decision([True], "unanimous")
    with pytest.raises(ParameterError, match="weights"):
        finance.binding_decision({"a": True}, "weighted_75")


# ------------------------------------------------------------------ East Midlands 2008/09 (F004)


@pytest.mark.parametrize(("table", "rows"), [("pct", 9), ("provider", 12), ("service", 13)])
def test_east_midlands_tables_total_500838(table, rows):
    t = finance.east_midlands_spend(table)
    assert len(t) == rows and list(t.columns) == [table, "spend_gbp_thousands"]
    assert t.spend_gbp_thousands.sum() == 500_838


def test_east_midlands_priority_investments():
    t = finance.east_midlands_spend("investments")
    assert t.total_2009_10_gbp_thousands.sum() == 4_402
    assert t.full_year_effect_gbp_thousands.sum() == 6_613


def test_east_midlands_unknown_table():
    with pytest.raises(ParameterError, match="table"):
        finance.east_midlands_spend("ccg")


# ------------------------------------------------------------------ risk sharing (F001 case studies 1, 8; para 86)


@pytest.mark.parametrize(("over", "tolerance", "commissioner"), [
    (1.0, 3, 0.25),            # first 1%: 25% commissioner
    (2.0, 3, 0.75),            # + second 1% at 50%
    (3.0, 3, 1.5),             # + third 1% at 75%
    (4.0, 3, 2.5),             # over 3%: all commissioner
    (2.5, 2, 1.25),            # tolerance 2%: 0.25 + 0.5 + 0.5 x 100%
    (4.0, 2, 2.75),            # 0.25 + 0.5 + 2 x 100%
])
def test_hiv_bands_with_tolerance_seed_figures(over, tolerance, commissioner):
    r = finance.risk_share_overperformance(over, tolerance=tolerance)
    assert r["commissioner"] == pytest.approx(commissioner)
    assert r["commissioner"] + r["provider"] == pytest.approx(over)


def test_hiv_default_tolerance_is_the_seeds_three_percent():
    cfg = finance.load_risk_sharing()
    assert cfg.hiv.tolerance_percent == 3
    assert cfg.hiv.tolerance_options == [2, 3]
    assert [b.commissioner_share for b in cfg.hiv.bands] == [0.25, 0.5, 0.75]


def test_hiv_tolerance_must_be_positive():
    with pytest.raises(ParameterError, match="tolerance"):
        finance.risk_share_overperformance(1.0, tolerance=0)


def test_overspend_split_by_share_of_baseline_east_midlands_pcts():
    # F004 2008/09 PCT contributions (GBP thousands) as the baseline: an overspend of 1,000
    pct = finance.east_midlands_spend("pct")
    out = finance.overspend_contributions(dict(zip(pct["pct"], pct["spend_gbp_thousands"], strict=True)), 1000)
    lcr = out.set_index("member").loc["NHS Leicestershire County and Rutland"]
    assert lcr["share"] == pytest.approx(84961 / 500838)
    assert lcr["contribution"] == pytest.approx(1000 * 84961 / 500838)
    assert out["contribution"].sum() == pytest.approx(1000)


def test_pooled_budget_pro_rata_to_baseline_unless_agreed():
    out = finance.pooled_budget_shares({"a": 300, "b": 100}, 1000)
    assert out["contribution"].tolist() == [750, 250]
    agreed = finance.pooled_budget_shares({"a": 300, "b": 100}, 1000, agreed={"a": 0.5, "b": 0.5})
    assert agreed["contribution"].tolist() == [500, 500]
    with pytest.raises(ParameterError, match="sum to 1"):
        finance.pooled_budget_shares({"a": 300, "b": 100}, agreed={"a": 0.5, "b": 0.6})


def test_norcom_four_tests_any_one_met():
    t = finance.norcom_tests({"new_service": True}).set_index("test")
    assert len(t) == 5 and t.loc["overall", "met"] is True
    none = finance.norcom_tests(dict.fromkeys(
        ["low_incidence_high_cost", "new_service", "critical_mass_infrastructure",
         "cannot_influence_pathway"], False)).set_index("test")
    assert none.loc["overall", "met"] is not None and not none.loc["overall", "met"]
    assert finance.norcom_tests().set_index("test").loc["overall", "met"] is None


def test_norcom_small_number_test_from_crude_rate():
    # 1 per 100,000 x 333,000 = 3.33 cases a year: CV 0.55 > 0.2 -> met
    t = finance.norcom_tests(crude_rate=1e-5).set_index("test")
    assert t.loc["low_incidence_high_cost", "met"]
    # 1 per 1,000 -> 333 cases: CV 0.055 -> not met
    assert not finance.norcom_tests(crude_rate=1e-3).set_index("test").loc[
        "low_incidence_high_cost", "met"]


# ------------------------------------------------------------------ voting rules (F001)


def test_seventy_percent_of_ten_needs_seven():
    assert finance.binding_decision([True] * 7 + [False] * 3, "seventy_percent")["binding"]
    assert not finance.binding_decision([True] * 6 + [False] * 4, "seventy_percent")["binding"]


def test_simple_majority_is_more_than_half():
    assert finance.binding_decision([True] * 7 + [False] * 6, "simple_majority")["binding"]
    assert not finance.binding_decision([True] * 5 + [False] * 5, "simple_majority")["binding"]


def test_thirty_days_notice_for_northern_scg_rule():
    votes, w = {"a": True, "b": True, "c": False, "d": True}, dict.fromkeys("abcd", 1.0)
    assert finance.binding_decision(votes, "weighted_75", weights=w, notice_days=30)["binding"]
    short = finance.binding_decision(votes, "weighted_75", weights=w, notice_days=29)
    assert not short["binding"] and short["notice_met"] is False
    unknown = finance.binding_decision(votes, "weighted_75", weights=w)
    assert not unknown["binding"] and unknown["notice_met"] is None


def test_custom_voting_rule_threshold():
    rule = finance.VotingRule(kind="share", threshold=0.8, source="local agreement")
    assert not finance.binding_decision([True] * 7 + [False] * 2, rule)["binding"]  # 78%
    assert finance.binding_decision([True] * 8 + [False] * 2, rule)["binding"]


def test_voting_rule_file_refuses_incomplete_rules(tmp_path):
    import yaml

    raw = yaml.safe_load(finance.RISK_SHARING_FILE.read_text())
    del raw["voting_rules"]["six_of_eight"]["voters"]
    p = tmp_path / "risk_sharing.yaml"
    p.write_text(yaml.safe_dump(raw))
    with pytest.raises(ParameterError, match="voters"):
        finance.load_risk_sharing(p)

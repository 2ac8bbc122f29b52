"""Commissioning tiers: scheme bands, edge settings, gaps, Carter rules (DOMAIN.md sections 1, 7).

Reference populations are the figures stated in the seeds: East Midlands 4.4m (F004), South
West SCG "just over 5 million" (F000), a PCT "around a third of a million" (F004), Northern SCG
~3m (F001 case study 10).
"""

from __future__ import annotations

import pytest
import yaml

from hna.carter import carter_rules
from hna.errors import ParameterError
from hna.tiers import (
    DEFAULT_TIERS_FILE,
    classify_population,
    load_tier_schemes,
    tier_for_service,
)


def test_default_file_has_three_schemes_each_band_sourced():
    cfg = load_tier_schemes()
    assert list(cfg.schemes) == ["emscg_2009", "dh_2003", "stp_2016"]
    for scheme in cfg.schemes.values():
        assert scheme.source
        assert all(b.source for b in scheme.bands)


def test_stp_2016_bounds_are_labelled_as_inferred():
    s = load_tier_schemes().schemes["stp_2016"]
    assert s.inferred and "F003" in s.inference
    assert [b.tier for b in s.bands] == ["stp_or_multi_stp", "sub_regional_hub", "national_regional"]


def test_east_midlands_4_4m_is_regional():
    r = classify_population(4_400_000, "emscg_2009")
    assert (r.tier, r.lower, r.upper, r.status) == ("regional", 1e6, 5e6, "in_band")


@pytest.mark.parametrize("edges", ["lower_inclusive", "upper_inclusive"])
def test_south_west_just_over_5m_is_supra_regional_and_flagged_near_the_edge(edges):
    r = classify_population(5_050_000, "emscg_2009", edges=edges)
    assert r.tier == "supra_regional"
    assert r.near_edge and r.near_bound == 5e6 and r.near_tier == "regional"


def test_exactly_5m_depends_on_the_edge_setting():
    assert classify_population(5e6, "emscg_2009", edges="lower_inclusive").tier == "supra_regional"
    assert classify_population(5e6, "emscg_2009", edges="upper_inclusive").tier == "regional"


def test_pct_of_a_third_of_a_million_is_local():
    assert classify_population(330_000, "emscg_2009").tier == "local"


def test_pct_is_below_the_dh_2003_specialised_bands():
    r = classify_population(330_000, "dh_2003")
    assert r.tier is None and r.status == "below_lowest_band" and r.tier_above == "lscg"


@pytest.mark.parametrize(
    ("service", "population", "tier"),
    [
        # representative planning populations inside each F004 tier-chart band
        ("district nursing", 30_000, "practice"),
        ("hip replacement", 330_000, "local"),
        ("haemophilia", 2_000_000, "regional"),
        ("severe burn care", 10_000_000, "supra_regional"),
        ("heart transplant", 50_000_000, "national"),
    ],
)
def test_f004_tier_chart_examples(service, population, tier):
    r = classify_population(population, "emscg_2009")
    assert r.tier == tier
    band = next(b for b in load_tier_schemes().schemes["emscg_2009"].bands if b.tier == tier)
    assert any(service.split()[0] in e for e in band.examples)


def test_dh_2003_gap_is_reported_between_bands():
    r = classify_population(2_500_000, "dh_2003")
    assert r.tier is None
    assert r.status == "between_bands"
    assert (r.tier_below, r.tier_above) == ("lscg", "scg")
    assert "between" in r.note


def test_dh_2003_bands():
    assert classify_population(1_500_000, "dh_2003").tier == "lscg"
    assert classify_population(4_400_000, "dh_2003").tier == "scg"
    assert classify_population(7_000_000, "dh_2003").status == "above_highest_band"


def test_northern_scg_3m_edge_setting_moves_it_into_the_gap():
    assert classify_population(3e6, "dh_2003", edges="lower_inclusive").tier == "scg"
    assert classify_population(3e6, "dh_2003", edges="upper_inclusive").status == "between_bands"


def test_tier_for_service_returns_one_row_per_scheme():
    t = tier_for_service(4_400_000)
    assert list(t["scheme"]) == ["emscg_2009", "dh_2003", "stp_2016"]
    assert list(t["tier"]) == ["regional", "scg", "sub_regional_hub"]
    assert list(t["inferred"]) == [False, False, True]


def test_tier_for_service_selected_schemes():
    t = tier_for_service(2_500_000, schemes=["dh_2003"])
    assert len(t) == 1 and t.loc[0, "status"] == "between_bands"


def test_carter_pan_regional_rule_fires_above_6m():
    r = carter_rules(7_000_000).set_index("rule")
    assert r.loc["specialised", "fired"]
    assert r.loc["pan_regional_collaboration", "fired"]
    # exactly 6m: the tier file's edges decide (lower_inclusive: on the bound = the band above)
    assert carter_rules(6_000_000).set_index("rule").loc["pan_regional_collaboration", "fired"]
    assert not carter_rules(6_000_000, edges="upper_inclusive").set_index("rule").loc[
        "pan_regional_collaboration", "fired"]


def test_carter_6m_implies_fewer_than_9_or_10_centres():
    # F001 App 10 3a: > 6 million <-> fewer than 9/10 centres; 50m / 6m = 8.3
    detail = carter_rules(6_000_000).set_index("rule").loc["pan_regional_collaboration", "detail"]
    assert "8.3 centres" in detail


@pytest.mark.parametrize(
    ("caseload", "national", "ceiling"),
    [(150, True, False), (399, True, False), (400, False, False), (999, False, False),
     (1000, False, True), (5000, False, True)],
)
def test_carter_national_caseload_rules(caseload, national, ceiling):
    r = carter_rules(national_caseload=caseload).set_index("rule")
    assert bool(r.loc["national_commissioning", "fired"]) is national
    assert bool(r.loc["national_ceiling", "fired"]) is ceiling


def test_carter_provider_count_outside_2_to_4_fires():
    r = carter_rules(national_caseload=200, n_providers=6).set_index("rule")
    assert r.loc["national_providers", "fired"]
    assert not carter_rules(n_providers=3).set_index("rule").loc["national_providers", "fired"]


def test_carter_rules_only_reports_rules_with_inputs():
    assert carter_rules().empty
    assert set(carter_rules(national_caseload=10)["rule"]) == {"national_commissioning", "national_ceiling"}


@pytest.mark.parametrize("bad", [0, -5, float("nan"), "many"])
def test_bad_population_is_a_parameter_error(bad):
    with pytest.raises(ParameterError, match="population"):
        classify_population(bad)


def test_unknown_scheme_and_edge_rule():
    with pytest.raises(ParameterError, match="scheme"):
        classify_population(1e6, "nhs_1948")
    with pytest.raises(ParameterError, match="edges"):
        classify_population(1e6, edges="both")


def _edited(tmp_path, edit):
    data = yaml.safe_load(DEFAULT_TIERS_FILE.read_text())
    edit(data)
    p = tmp_path / "tiers.yaml"
    p.write_text(yaml.safe_dump(data))
    return p


def test_unknown_key_names_file_and_field(tmp_path):
    p = _edited(tmp_path, lambda d: d["schemes"]["emscg_2009"]["bands"][0].update(colour="red"))
    with pytest.raises(ParameterError) as e:
        load_tier_schemes(p)
    assert str(p) in str(e.value)
    assert "schemes.emscg_2009.bands[0].colour" in str(e.value)
    assert "unknown key" in str(e.value)


def test_wrong_type_names_field(tmp_path):
    p = _edited(tmp_path, lambda d: d["schemes"]["dh_2003"]["bands"][1].update(lower="three million"))
    with pytest.raises(ParameterError, match=r"schemes\.dh_2003\.bands\[1\]\.lower"):
        load_tier_schemes(p)


def test_overlapping_bands_rejected(tmp_path):
    p = _edited(tmp_path, lambda d: d["schemes"]["dh_2003"]["bands"][1].update(lower=1_500_000))
    with pytest.raises(ParameterError, match="overlap"):
        load_tier_schemes(p)


def test_bad_edges_setting_rejected(tmp_path):
    p = _edited(tmp_path, lambda d: d.update(edges="inclusive"))
    with pytest.raises(ParameterError, match="edges"):
        load_tier_schemes(p)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        load_tier_schemes(tmp_path / "nope.yaml")
    p = tmp_path / "bad.yaml"
    p.write_text("schemes: [unclosed\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_tier_schemes(p)


def test_edges_setting_from_file_is_the_default(tmp_path):
    p = _edited(tmp_path, lambda d: d.update(edges="upper_inclusive"))
    assert classify_population(5e6, config=p).tier == "regional"


# ------------------------------------------------------------------ one boundary setting


@pytest.mark.parametrize(("edges", "regional", "specialised"),
                         [("lower_inclusive", True, True), ("upper_inclusive", False, False)])
def test_one_million_boundary_same_in_tier_chart_and_carter(edges, regional, specialised):
    tier = classify_population(1_000_000, "emscg_2009", edges=edges).tier
    fired = carter_rules(1_000_000, edges=edges).set_index("rule").loc["specialised", "fired"]
    assert (tier == "regional") is regional
    assert bool(fired) is specialised


def test_just_above_and_below_one_million_do_not_depend_on_edges():
    for edges in ("lower_inclusive", "upper_inclusive"):
        r = carter_rules(1_000_001, edges=edges).set_index("rule")
        assert r.loc["specialised", "fired"]
        assert not carter_rules(999_999, edges=edges).set_index("rule").loc["specialised", "fired"]


def test_tier_from_score_uses_first_cutoff_above():
    from hna.tiers import ScoreCutoff, tier_from_score

    cuts = [ScoreCutoff(tier="a", below=1.5), ScoreCutoff(tier="b", below=2.5), ScoreCutoff(tier="c")]
    assert [tier_from_score(x, cuts) for x in (1.0, 1.5, 2.49, 2.5, 3.0)] == ["a", "b", "b", "c", "c"]


def test_check_cutoffs_refuses_decreasing_and_unknown_tiers():
    from hna.tiers import ScoreCutoff, check_cutoffs

    with pytest.raises(ParameterError, match="increase"):
        check_cutoffs([ScoreCutoff(tier="a", below=2), ScoreCutoff(tier="b", below=1),
                       ScoreCutoff(tier="c")])
    with pytest.raises(ParameterError, match="not a tier"):
        check_cutoffs([ScoreCutoff(tier="nowhere")], scheme="stp_2016")


def test_thresholds_service_tiers_delegates_to_tiers():
    from hna import thresholds, tiers

    a = thresholds.service_tiers("haemophilia", 2_500_000)
    b = tiers.service_tiers("haemophilia", 2_500_000)
    assert a.equals(b)

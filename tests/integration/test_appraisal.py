"""Appraisal frameworks: F003 segmentation, App 9, Thames Valley, App 10, App 4 survey.

Expected values are worked by hand from the formulas in docs/methods/appraisal.md.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
import yaml

from hna import frameworks as appraisal
from hna.errors import DataError, ParameterError
from hna.frameworks import APPRAISAL_DIR

# ------------------------------------------------------------------ segmentation (F003)

DEMAND = pd.DataFrame({
    "service": ["soft_tissue_sarcoma", "dialysis", "severe_burns", "haemophilia"],
    "annual_demand": [3_000, 7_000, 300, 2_000],
    "annual_cost": [3_000 * 15_000, 7_000 * 30_000, 300 * 120_000, 2_000 * 50_000],
})


def _yaml_copy(tmp_path, name, edit):
    data = yaml.safe_load((APPRAISAL_DIR / name).read_text())
    edit(data)
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, sort_keys=False))
    return p


def test_segment_scores_and_tiers():
    out = appraisal.segment(DEMAND).set_index("service")
    # sarcoma: patients 3,000 -> 2; provision 3; GBP 15k a case -> 2; specs 3; strategy 2
    # mean (2 + 3 + 2 + 3 + 2) / 5 = 2.4 >= 2.333 -> national_regional
    s = out.loc["soft_tissue_sarcoma"]
    assert (s.patient_numbers_score, s.provision_score, s.financial_risk_score) == (2, 3, 2)
    assert s.weighted_score == pytest.approx(2.4)
    assert s.tier == "national_regional"
    # dialysis: 7,000 -> 1; provision 1; GBP 30k -> 2; specs 2; strategy 1: 7 / 5 = 1.4 -> STP
    assert out.loc["dialysis", "weighted_score"] == pytest.approx(1.4)
    assert out.loc["dialysis", "tier"] == "stp_or_multi_stp"
    # burns: 300 -> 3 (below the Carter 400); GBP 120k -> 3; 3, 3, 3 -> 3.0
    assert out.loc["severe_burns", "weighted_score"] == 3.0


def test_segment_cost_per_case_is_annual_cost_over_demand():
    out = appraisal.segment(DEMAND).set_index("service")
    assert out.loc["haemophilia", "financial_risk_value"] == 50_000


def test_segment_records_override_with_reason():
    out = appraisal.segment(DEMAND).set_index("service")
    h = out.loc["haemophilia"]
    # (2 + 2 + 2 + 2 + 2) / 5 = 2.0 -> sub_regional_hub scored; override kept and reported
    assert h.tier_scored == "sub_regional_hub"
    assert h.overridden and h.tier == "sub_regional_hub" and "override" in h.override_reason
    assert not out.loc["soft_tissue_sarcoma", "overridden"]


def test_segment_override_changes_tier(tmp_path):
    p = _yaml_copy(tmp_path, "segmentation.yaml", lambda d: d["services"]["dialysis"].update(
        override={"tier": "sub_regional_hub", "reason": "home therapies network"}))
    r = appraisal.segment(DEMAND, p).set_index("service").loc["dialysis"]
    assert (r.tier_scored, r.tier, r.override_reason) == (
        "stp_or_multi_stp", "sub_regional_hub", "home therapies network")


def test_segment_weights_change_the_score(tmp_path):
    p = _yaml_copy(tmp_path, "segmentation.yaml",
                   lambda d: d["factors"]["patient_numbers"].update(weight=3.0))
    r = appraisal.segment(DEMAND, p).set_index("service").loc["soft_tissue_sarcoma"]
    # (3 x 2 + 3 + 2 + 3 + 2) / 7 = 16 / 7
    assert r.weighted_score == pytest.approx(16 / 7)


def test_segment_unit_cost_column_and_years():
    d = pd.DataFrame({"service": ["severe_burns", "severe_burns"], "year": [2025, 2040],
                      "annual_demand": [300, 450], "unit_cost": [120_000, 120_000]})
    out = appraisal.segment(d)
    assert list(out["annual_cost"]) == [36_000_000, 54_000_000]
    assert list(out["patient_numbers_score"]) == [3, 2]


def test_segment_service_without_yaml_entry(tmp_path):
    d = DEMAND.assign(service=["soft_tissue_sarcoma", "x_ray", "severe_burns", "haemophilia"])
    with pytest.raises(ParameterError, match=r"services\.x_ray"):
        appraisal.segment(d)


def test_segment_bad_demand_table():
    with pytest.raises(DataError, match="annual_demand"):
        appraisal.segment(DEMAND.assign(annual_demand=-1))
    with pytest.raises(DataError, match="annual_cost"):
        appraisal.segment(DEMAND.drop(columns="annual_cost"))
    with pytest.raises(DataError, match="one row per service"):
        appraisal.segment(pd.concat([DEMAND, DEMAND]))


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda d: d["services"]["severe_burns"]["scores"].update(provision=5),
         "services.severe_burns.scores.provision"),
        (lambda d: d["services"]["severe_burns"]["scores"].update(patient_numbers=1),
         "services.severe_burns.scores.patient_numbers"),
        (lambda d: d["factors"]["strategy"].update(colour="blue"), "factors.strategy.colour"),
        (lambda d: d["factors"]["strategy"].update(weight="heavy"), "factors.strategy.weight"),
        (lambda d: d["cutoffs"][0].update(tier="ward"), "cutoffs[0].tier"),
        (lambda d: d["services"]["haemophilia"]["override"].update(tier="national"),
         "services.haemophilia.override.tier"),
        (lambda d: d["services"]["haemophilia"]["override"].pop("reason"),
         "services.haemophilia.override.reason"),
        (lambda d: d["factors"].pop("strategy"), "factors"),
    ],
)
def test_segmentation_yaml_errors_name_file_and_field(tmp_path, edit, field):
    p = _yaml_copy(tmp_path, "segmentation.yaml", edit)
    with pytest.raises(ParameterError) as e:
        appraisal.load_segmentation(p)
    assert str(p) in str(e.value) and f"'{field}'" in str(e.value)


# ------------------------------------------------------------------ prioritisation (App 9)


def test_prioritisation_has_nine_criteria_and_four_categories():
    cfg = appraisal.load_prioritisation()
    assert len(cfg.criteria) == 9 and list(cfg.criteria) == list(appraisal.PRIORITISATION_CRITERIA)
    assert [c.label for c in cfg.focus_categories.values()] == [
        "Service Designation", "Service Review", "Developing Contestability and Benchmarking",
        "Routine Contract Management"]


def test_prioritise_ranks_by_weighted_score():
    out = appraisal.prioritise()
    # dialysis and sarcoma flag 3 criteria each (rank 1, tie), burns and bone sarcoma 2 (rank
    # 3, tie), haemophilia 1 (parameters/appraisal/prioritisation.yaml, unit weights)
    assert dict(zip(out["service"], out["rank"], strict=True)) == {
        "dialysis": 1, "soft_tissue_sarcoma": 1, "severe_burns": 3, "bone_sarcoma": 3,
        "haemophilia": 5}
    assert list(out["n_flagged"]) == [3, 3, 2, 2, 1]


def test_prioritise_suggests_focus_from_flags_and_keeps_given_focus():
    out = appraisal.prioritise().set_index("service")
    assert out.loc["soft_tissue_sarcoma", "focus"] == ["service_designation", "service_review"]
    assert out.loc["soft_tissue_sarcoma", "focus_source"] == "suggested"
    assert out.loc["haemophilia", "focus"] == ["routine_contract_management"]
    assert out.loc["haemophilia", "focus_source"] == "given"


def test_prioritise_dataframe_input_with_booleans():
    df = pd.DataFrame({"service": ["a", "b", "c"], "nsscg_lead_work": [True, False, False],
                       "vulnerability": [True, True, False]})
    out = appraisal.prioritise(df).set_index("service")
    assert out.loc["a", "score"] == 2 and out.loc["a", "rank"] == 1
    assert out.loc["a", "focus"] == ["service_review", "contestability_benchmarking"]
    assert out.loc["c", "focus"] == ["routine_contract_management"]  # nothing flagged


def test_prioritise_rejects_out_of_scale_scores_and_unknown_criteria():
    with pytest.raises(ParameterError, match="inequity"):
        appraisal.prioritise(pd.DataFrame({"service": ["a"], "inequity": [2]}))
    with pytest.raises(ParameterError, match="glamour"):
        appraisal.prioritise(pd.DataFrame({"service": ["a"], "glamour": [1]}))


def test_prioritisation_yaml_errors(tmp_path):
    p = _yaml_copy(tmp_path, "prioritisation.yaml",
                   lambda d: d["services"]["haemophilia"]["criteria"].update(inequity=3))
    with pytest.raises(ParameterError, match=r"services\.haemophilia\.criteria\.inequity"):
        appraisal.load_prioritisation(p)
    p = _yaml_copy(tmp_path, "prioritisation.yaml",
                   lambda d: d["services"]["haemophilia"].update(focus=["gardening"]))
    with pytest.raises(ParameterError, match=r"services\.haemophilia\.focus\[0\]"):
        appraisal.load_prioritisation(p)


# ------------------------------------------------------------------ Thames Valley (case study 6)

ALL = appraisal.THAMES_VALLEY_CATEGORIES


def test_thames_valley_extremes_are_8_and_32():
    df = pd.DataFrame([{"pressure": "low", **dict.fromkeys(ALL, 1)},
                       {"pressure": "high", **dict.fromkeys(ALL, "D")}])
    out = appraisal.thames_valley_score(df).set_index("pressure")
    assert out.loc["low", "raw_score"] == 8 and out.loc["high", "raw_score"] == 32
    assert out.loc["high", "rank"] == 1


def test_thames_valley_default_pressures_within_8_32():
    out = appraisal.thames_valley_score()
    assert out["raw_score"].between(8, 32).all()
    # dialysis_growth: A B B D C D D C = 1+2+2+4+3+4+4+3 = 23
    assert out.set_index("pressure").loc["dialysis_growth", "raw_score"] == 23
    assert (out["weighted_score"] == out["raw_score"]).all()  # equal weights


def test_thames_valley_weights_rescale_to_keep_range():
    levels = dict(zip(ALL, [1, 1, 1, 1, 1, 1, 4, 1], strict=True))  # financial at D
    out = appraisal.thames_valley_score([{"name": "p", "scores": levels}], weights={"financial": 3})
    # weights sum 10 -> scaled by 8/10: 7 x 0.8 x 1 + 2.4 x 4 = 5.6 + 9.6 = 15.2 (raw 11)
    assert out.loc[0, "raw_score"] == 11
    assert out.loc[0, "weighted_score"] == pytest.approx(15.2)
    top = appraisal.thames_valley_score([{"name": "p", "scores": dict.fromkeys(ALL, 4)}],
                                        weights={"financial": 3})
    assert top.loc[0, "weighted_score"] == pytest.approx(32)


@pytest.mark.parametrize("bad", [0, 5, "E", 2.5, True])
def test_thames_valley_levels_must_be_1_to_4(bad):
    row = {"pressure": "p", **dict.fromkeys(ALL, 2), "media": bad}
    with pytest.raises(ParameterError, match="media"):
        appraisal.thames_valley_score(pd.DataFrame([row]))


def test_thames_valley_missing_category():
    row = {"pressure": "p", **dict.fromkeys(ALL[:-1], 2)}
    with pytest.raises(ParameterError, match="patient_numbers"):
        appraisal.thames_valley_score(pd.DataFrame([row]))


def test_thames_valley_yaml_level_out_of_range(tmp_path):
    p = _yaml_copy(tmp_path, "thames_valley.yaml",
                   lambda d: d["pressures"][0]["scores"].update(legal=7))
    with pytest.raises(ParameterError) as e:
        appraisal.load_thames_valley(p)
    assert str(p) in str(e.value) and "pressures[0].scores.legal" in str(e.value)


def test_thames_valley_rank_in_area():
    rows = [{"name": n, "area": "service_growth", "scores": dict.fromkeys(ALL, lvl)}
            for n, lvl in [("a", 2), ("b", 3)]]
    out = appraisal.thames_valley_score(rows).set_index("pressure")
    assert out.loc["b", "rank_in_area"] == 1 and out.loc["a", "rank_in_area"] == 2


# ------------------------------------------------------------------ fitness for purpose (App 10)


def test_fitness_framework_has_nine_dimensions():
    fw = appraisal.load_fitness_framework()
    assert len(fw.dimensions) == 9
    assert sum(len(d.criteria) for d in fw.dimensions.values()) == 35


def test_fitness_for_purpose_summary():
    out = appraisal.fitness_for_purpose(
        {"engagement": ["Y", "Y", "Y"], "joint_working": ["Y", "P"], "monitoring": ["N", "y", "P"]}
    ).set_index("dimension")
    assert out.loc["engagement", "status"] == "achieved"
    assert out.loc["joint_working", "status"] == "partly achieved"
    assert out.loc["monitoring", "status"] == "not achieved"
    assert out.loc["strategy", "status"] == "not assessed"
    assert out.loc["overall", "status"] == "not achieved"
    assert out.loc["overall", ["Y", "P", "N"]].tolist() == [5, 2, 1]  # 3+1+1, 1+1, 1


def test_fitness_for_purpose_rejects_bad_ratings():
    with pytest.raises(ParameterError, match="engagement"):
        appraisal.fitness_for_purpose({"engagement": ["Y", "Maybe", "N"]})
    with pytest.raises(ParameterError, match="expected 3"):
        appraisal.fitness_for_purpose({"engagement": ["Y"]})


# ------------------------------------------------------------------ App 4 survey (F001)

# F001 Appendix 4, "Survey of collective commissioning arrangements by LSCGs (March 2006)":
# row | total LSCGs collectively procuring | yes and risk share | yes, but no risk share.
# Transcribed from the seed; blank = blank in the seed (header rows of grouped services).
APPENDIX_4 = """row,total,yes_risk_share,yes_no_risk_share
1,,,
1a,14,11,3
1b,10,8,2
1c,10,8,2
1d,10,8,2
1e,10,9,1
1f,12,11,1
2,17,16,1
3,17,15,2
4,14,12,2
5,16,15,1
6,17,14,3
7,17,16,1
8,,,
8a,14,12,2
8b,12,12,0
8c,13,12,1
8d,16,14,2
8e,8,8,0
9,20,18,2
10,12,11,1
11,,,
11a,17,14,3
11b,15,13,2
12,6,6,0
13,,,
13a,14,13,1
13b,23,22,1
13c,14,13,1
13d,15,14,1
13e,17,13,4
14,13,12,1
15,15,14,1
16,0,0,0
16a,6,6,0
17,5,4,1
18,5,4,1
19,11,9,2
20,6,6,0
20a,16,12,4
21,5,3,2
22,,,
22a,5,4,1
22b,5,4,1
22c,11,10,1
22d,17,12,5
22e,19,18,1
22f,15,15,0
22g,11,3,8
22h,10,5,5
22i,9,8,1
22j,5,4,1
22k,4,3,1
22l,9,3,6
22m,3,3,0
23,,,
23a,5,5,0
23b,16,16,0
23c,11,11,0
23d,19,18,1
23e,16,15,1
23f,5,4,1
23g,10,10,0
23h,12,12,0
24,5,4,1
25,5,4,1
26,5,4,1
27,5,4,1
28,8,8,0
29,10,8,2
30,5,4,1
31,7,6,1
32,,0,0
32a,11,9,2
33,5,4,1
34,2,4,2
35,11,7,4
36,,,
36a,9,8,1
36b,15,8,7
36c,9,9,0
"""


def _survey():
    return pd.read_csv(io.StringIO(APPENDIX_4), dtype={"row": str})


def test_survey_row_34_is_flagged_as_inconsistent():
    flagged = appraisal.check_survey_consistency(_survey()).set_index("row")
    # 2 / 4 / 2: a part (4) exceeds the total (2), and 4 + 2 = 6 != 2
    assert set(flagged.loc["34", "issues"]) == {"part_exceeds_total", "sum_mismatch"}
    assert "6 != 2" in flagged.loc["34", "detail"]


def test_survey_only_row_34_fails_the_arithmetic():
    flagged = appraisal.check_survey_consistency(_survey())
    arithmetic = flagged[flagged["issues"].map(lambda i: "sum_mismatch" in i)]
    assert list(arithmetic["row"]) == ["34"]
    # row 32 (specialised ear surgery) has a blank total beside two zeros: reported as missing
    assert flagged.set_index("row").loc["32", "issues"] == ["missing"]


def test_survey_counts_above_26_lscgs_are_flagged():
    t = pd.DataFrame({"row": ["x"], "total": [30], "yes_risk_share": [20], "yes_no_risk_share": [10]})
    assert appraisal.check_survey_consistency(t).loc[0, "issues"] == ["exceeds_respondents"]

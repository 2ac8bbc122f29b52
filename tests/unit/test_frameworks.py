"""hna.frameworks on the seeds' own figures.

Benchmarking (F001 App 14), designation criteria (F001 paras 122-128, F000), catalogues
(F001 App 1-2, F004), East Midlands prioritisation (F004), survey checks (F001 App 4).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from hna import finance, frameworks
from hna.errors import DataError, ParameterError

FIXTURE = Path(__file__).resolve().parents[1] / "data" / "reference" / "carter_app14_benchmark_fixture.csv"


# ------------------------------------------------------------------ benchmarking (App 14)


def test_benchmark_defines_the_ten_seed_measures():
    cfg = frameworks.load_benchmarking()
    numbers = sorted({int("".join(ch for ch in k if ch.isdigit())) for k in cfg.measures})
    assert numbers == list(range(1, 11))
    assert cfg.years == 3
    assert cfg.measures["1a"].target == 100  # "100% are expected by April 2008"
    assert cfg.measures["9"].scale == {"1": "poor", "2": "average", "3": "good"}


def test_benchmark_table_from_fixture():
    t = frameworks.benchmark(pd.read_csv(FIXTURE, dtype={"measure": str})).set_index("measure")
    assert t.loc["1a", "year_1"] == pytest.approx(100 * 20 / 35)
    assert t.loc["1a", "shown_3"] == "35 of 35"
    assert t.loc["1a", "status"] == "target met"
    assert t.loc["1b", "shown_2"] == "not reported"
    assert t.loc["2", "change"] == pytest.approx(100 * (28 - 12) / 35)
    assert t.loc["9", "shown_2"] == "average" and t.loc["9", "status"] == "target met"
    assert t.loc["5a", "year_3"] == 21
    assert t.loc["7a", "shown_3"].startswith("independent survey")
    assert len(t) == 16


def test_benchmark_refuses_count_above_denominator_and_bad_rating():
    with pytest.raises(DataError, match="services_meeting"):
        frameworks.benchmark(pd.DataFrame({"measure": ["2"], "year": [1],
                                           "services_meeting": [36], "services": [35]}))
    with pytest.raises(DataError, match="rating"):
        frameworks.benchmark(pd.DataFrame({"measure": ["9"], "year": [1], "value": [4]}))
    with pytest.raises(DataError, match="year"):
        frameworks.benchmark(pd.DataFrame({"measure": ["9"], "year": [4], "value": [2]}))
    with pytest.raises(DataError, match="unknown measure"):
        frameworks.benchmark(pd.DataFrame({"measure": ["11"], "year": [1], "value": [2]}))


def test_benchmark_chart_has_title_and_source():
    from hna.plots.benchmarking import benchmark_chart

    fig = benchmark_chart(frameworks.benchmark(pd.read_csv(FIXTURE, dtype={"measure": str})))
    ax = fig.axes[0]
    assert ax.get_title().startswith("Milestone trends")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Measure 1a", "Measure 1b", "Measure 2"]
    assert any("Appendix 14" in t.get_text() for t in fig.texts)


# ------------------------------------------------------------------ designation criteria


def test_six_criteria_plus_accreditation_and_five_years():
    cfg = frameworks.load_designation_criteria()
    assert len(cfg.criteria) == 6
    assert cfg.accreditation.source == "F001 para 128"
    assert cfg.max_years == 5


def test_review_due_five_years_and_never_more():
    assert frameworks.review_due("2026-04-01") == dt.date(2031, 4, 1)
    assert frameworks.review_due(dt.date(2024, 2, 29)) == dt.date(2029, 2, 28)
    assert frameworks.review_due("2026-04-01", years=3) == dt.date(2029, 4, 1)
    with pytest.raises(ParameterError, match="5 years"):
        frameworks.review_due("2026-04-01", years=6)


def _ratings(**over):
    base = dict.fromkeys(frameworks.load_designation_criteria().criteria, "met")
    return {**base, **over}


def test_assess_providers_eligibility_and_scores():
    t = pd.DataFrame([
        {"provider": "A", **_ratings(), "accreditation": "accredited"},
        {"provider": "B", **_ratings(patient_group="partly"), "accreditation": "not_applicable"},
        {"provider": "C", **_ratings(), "accreditation": "not_accredited"},
    ])
    out = frameworks.assess_providers(t, start="2026-04-01").set_index("provider")
    assert out.loc["A", "eligible"] and out.loc["A", "review_due"] == "2031-04-01"
    assert out.loc["A", "score"] == 12 and out.loc["A", "max_score"] == 12
    assert not out.loc["B", "eligible"] and out.loc["B", "score"] == 11
    assert out.loc["B", "criteria_met"] == 5 and "patient_group (partly)" in out.loc["B", "gaps"]
    assert not out.loc["C", "eligible"] and out.loc["C", "gaps"] == "accreditation"
    assert pd.isna(out.loc["C", "review_due"])


def test_assess_providers_refuses_unknown_rating():
    t = pd.DataFrame([{"provider": "A", **_ratings(costs_activity="maybe"),
                       "accreditation": "accredited"}])
    with pytest.raises(DataError, match="met, partly or not_met"):
        frameworks.assess_providers(t)


# ------------------------------------------------------------------ catalogues


def test_catalogue_sizes_match_the_seeds():
    c = frameworks.catalogue()
    n = c.groupby("catalogue").size()
    assert n["ndset_2002"] == 35                              # F001 para 5, App 1
    nscag = frameworks.catalogue("nscag_2006")
    assert nscag["funded_by_nscag"].sum() == 38               # F001 para 14
    assert (~nscag["funded_by_nscag"]).sum() == 2             # designated but not funded
    third = c[c["catalogue"] == "ndset_3rd_edition"]
    assert len(third) == 38
    assert third.loc[~third["defined"].astype(bool), "number"].tolist() == [14, 25, 28]


def test_catalogue_says_which_entries_hna_models():
    c = frameworks.catalogue("ndset_2002").set_index("number")
    assert c.loc[11, "hna_service"] == "dialysis"
    assert c.loc[3, "hna_service"] == "haemophilia"
    assert not c.loc[28, "has_model"]          # hyperbaric oxygen
    bone = frameworks.catalogue("nscag_2006").set_index("number").loc[22]
    assert bone["name"] == "Primary malignant bone tumours service"
    assert bone["hna_service"] == "bone_sarcoma"


def test_catalogue_hides_models_whose_service_file_is_absent():
    c = frameworks.catalogue("ndset_2002", services=["dialysis"]).set_index("number")
    assert c.loc[11, "has_model"] and not c.loc[3, "has_model"]


def test_segmentation_and_prioritisation_over_a_catalogue():
    a = pd.DataFrame({"number": [2, 28], "annual_demand": [3000, 50],
                      "annual_cost": [3e8, 1e6], "provision": [2, 3],
                      "service_specifications": [2, 3], "strategy": [1, 3]})
    seg = frameworks.segment_catalogue("ndset_2002", a).set_index("number")
    assert seg.loc[28, "name"] == "Hyperbaric oxygen treatment services"
    assert seg["inferred"].all()
    assert seg.loc[28, "weighted_score"] > seg.loc[2, "weighted_score"]
    p = frameworks.prioritise_catalogue("ndset_2002", pd.DataFrame(
        {"number": [2, 28], "vulnerability": [1, 0], "inequity": [1, 0]}))
    assert p["number"].tolist() == [2, 28] and p["score"].tolist() == [2.0, 0.0]


# ------------------------------------------------------------------ East Midlands prioritisation (F004)


def test_east_midlands_five_criteria_weights_marked_assumption():
    cfg = frameworks.load_prioritisation(frameworks.EAST_MIDLANDS_FILE)
    assert tuple(cfg.criteria) == frameworks.EAST_MIDLANDS_CRITERIA
    assert cfg.weights_kind == "assumption"
    out = frameworks.prioritise(config=cfg)
    assert (out["weights_kind"] == "assumption").all()
    assert out.iloc[0]["service"] == "dialysis"   # 13 of 15 in the illustrative scores


def test_east_midlands_weights_change_the_ranking(tmp_path):
    import yaml

    raw = yaml.safe_load(frameworks.EAST_MIDLANDS_FILE.read_text())
    raw["criteria"]["must_dos"]["weight"] = 5
    p = tmp_path / "em.yaml"
    p.write_text(yaml.safe_dump(raw, sort_keys=False))
    top = frameworks.prioritise(config=p).iloc[0]["service"]
    assert top in ("soft_tissue_sarcoma", "bone_sarcoma")


def test_four_stage_investment_process_on_the_2009_10_cases():
    cases = finance.east_midlands_spend("investments")
    for s in frameworks.EAST_MIDLANDS_STAGES:
        cases[s] = True
    out = frameworks.investment_stages(cases)
    last = out.iloc[-1]
    assert last["stage"] == "board_approval" and last["cases_passing"] == 12
    assert last["total_2009_10_gbp_thousands"] == 4402        # F004 "Totals 4,402 6,613"
    assert last["full_year_effect_gbp_thousands"] == 6613
    cases.loc[0, "confirm_and_challenge"] = False
    cases.loc[0, "board_approval"] = False
    out = frameworks.investment_stages(cases)
    assert out["cases_passing"].tolist() == [12, 12, 11, 11]


def test_investment_stage_cannot_be_skipped():
    cases = pd.DataFrame({"case": ["x"], "expression_of_interest": [False],
                          "business_case": [True], "confirm_and_challenge": [True],
                          "board_approval": [True]})
    with pytest.raises(DataError, match="did not reach"):
        frameworks.investment_stages(cases)


# ------------------------------------------------------------------ survey (F001 App 4)


def test_survey_flags_row_16_below_sub_row_16a_and_row_34():
    out = frameworks.check_survey_consistency().set_index("row")
    assert "parent_below_subrow" in out.loc["16", "issues"]
    assert out.loc["16", "detail"] == "row 16 total 0 < row 16a 6"
    assert out.loc["34", "issues"] == ["part_exceeds_total", "sum_mismatch"]
    assert "8" not in out.index            # a heading row with no numbers


def test_survey_table_is_the_seed_as_printed():
    t = frameworks.survey_table().set_index("row")
    assert t.loc["16a", "total"] == 6 and t.loc["1c", "service"] == "Sarcomas"
    assert t.loc["34", ["total", "yes_risk_share", "yes_no_risk_share"]].tolist() == [2, 4, 2]


def test_every_catalogue_service_has_a_segmentation_entry():
    from hna.services import catalogue

    cfg = frameworks.load_segmentation()
    missing = sorted(set(catalogue()["id"]) - set(cfg.services))
    assert missing == []

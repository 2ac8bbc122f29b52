"""hna.narrative.appraisal: readable appraisal tables and statements (the report idiom)."""

from __future__ import annotations

import re

import pytest

from hna.appraisal import TABLES, appraisal_demand, appraise_footprint
from hna.narrative import appraisal as report

SERVICES = ["haemophilia", "bone_sarcoma"]


@pytest.fixture(scope="module")
def a():
    demand = appraisal_demand("E12000004", SERVICES, range(2025, 2027), draws=20, seed=1)
    return appraise_footprint("E12000004", demand, 2025, 2026, SERVICES)


def test_every_table_has_human_headers_and_no_paths(a):
    for name in TABLES:
        df = report.report_table(a, name)
        assert len(df), name
        assert not [c for c in df.columns if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", c)], name
        text = df.astype(str).to_string()
        assert "parameters/" not in text and ".yaml" not in text, name


def test_money_is_formatted_with_price_year_and_no_cost_is_marked(a):
    f = report.report_table(a, "finance")
    costed = f["Prices"] != ""
    assert costed.sum() == 2 and (~costed).sum() == 2
    assert (f.loc[costed, "Prices"] == "2008/09").all()
    assert f.loc[costed, "Do nothing spend"].str.fullmatch(r"£[\d.,]+ (million|thousand)").all()
    assert (f.loc[~costed, "Spend"] == "no cost").all()
    assert "Spend basis" not in f.columns  # where each spend comes from: money_note
    assert "Haemophilia" in report.money_note(a) and "no cost" in report.money_note(a)
    assert "haemophilia" not in set(f["Service"])  # the service's name, not its id


def test_answer_states_population_tiers_and_missing_costs(a):
    text = report.answer(a)
    assert "East Midlands" in text and "regional" in text
    assert "No cost for Bone sarcoma" in text  # the service's name, not its id


def test_inferred_note_names_the_inferred_scheme_and_segmentation(a):
    text = report.inferred_note(a)
    assert "NHS England South 2016" in text and "segmentation" in text


def test_section_is_a_report_table_with_its_caption(a):
    t = report.section(a, "voting")
    assert t.caption == report.caption("voting")
    assert "Minimum in favour" in t.shown.columns


def test_headline_names_the_inferred_tier_scheme(a):
    assert a.headline()["tier_schemes_inferred"] == ["stp_2016"]


def test_counts_are_whole_numbers_and_shares_percentages(a):
    d = report.report_table(a, "demand")
    for col in ("Footprint demand (expected a year)", "Footprint demand, 2.5% quantile",
                "Critical mass per centre", "England demand (expected a year)"):
        assert d[col].str.fullmatch(r"\d{1,3}(,\d{3})*").all(), col
    assert d["Share of England"].str.fullmatch(r"\d+\.\d%").all()
    raw = a.demand.reset_index(drop=True)
    first = raw.iloc[0]
    assert d["Share of England"].iloc[0] == f"{first['footprint_share'] * 100:.1f}%"
    assert d["Footprint demand, 2.5% quantile"].iloc[0] == f"{round(first['footprint_low']):,}"
    assert d["Year"].iloc[0] == str(int(first["year"]))


def test_full_precision_data_behind_the_shown_table(a):
    data = report.report_data(a, "demand")
    assert list(data.columns) == list(report.report_table(a, "demand").columns)
    assert data["Share of England"].tolist() == a.demand["footprint_share"].tolist()
    t = report.section(a, "demand")
    assert t.frame["Footprint demand (expected a year)"].tolist() == \
        a.demand["footprint_demand"].tolist()
    assert t.shown.equals(report.report_table(a, "demand"))


def test_scores_percent_and_factor_columns_state_their_precision(a):
    seg = report.report_table(a, "segmentation")
    assert seg["Weighted score (2 d.p.)"].str.fullmatch(r"\d\.\d\d").all()
    assert seg["Patient numbers score"].str.fullmatch(r"\d").all()
    hiv = report.report_table(a, "hiv_risk_share")
    assert hiv.iloc[0].tolist() == ["0.5%", "0.125%", "0.375%", "3.0%"]  # F001 case study 1
    fin = report.report_table(a, "finance")
    costed = fin["Prices"] != ""
    assert fin.loc[costed, "Demographic factor (3 d.p.)"].str.fullmatch(r"\d\.\d{3}").all()
    vote = report.report_table(a, "voting").set_index("Rule")
    assert vote.loc["Six of eight", "Threshold"] == "75%"


def test_no_raw_decimals_ids_or_snake_case_in_any_shown_cell(a):
    for name in TABLES:
        df = report.report_table(a, name)
        for col in df.columns:
            for v in df[col]:
                assert isinstance(v, str), (name, col, v)
                assert not re.fullmatch(r"-?\d+\.0", v), (name, col, v)  # "50.0", "37.0"
                assert not re.search(r"\b[a-z]+_[a-z_]+\b", v), (name, col, v)
                assert v not in ("haemophilia", "bone_sarcoma", "True", "False", "nan"), (name, col)


def test_tier_ids_are_shown_by_their_labels(a):
    tiers = report.report_table(a, "tiers")
    assert "scg" not in set(tiers["Tier"]) and "lscg" not in set(tiers["Tier"])
    assert tiers["Tier"].str.contains("commissioning group|regional|Regional|hub|STP").all()


def test_sources_and_headline_name_schemes_and_services(a):
    topics = " ".join(report.sources_table(a)["Topic"])
    assert "Tier scheme: East Midlands SCG 2009" in topics
    assert "bone_sarcoma" not in topics and "bone sarcoma:" not in topics
    assert "Bone sarcoma: critical mass" in topics
    names = dict(zip(a.demand["service"], a.demand["service_name"], strict=True))
    h = report.headline_table(a.headline(), "2008/09", names).set_index("Item")["Value"]
    assert h["Tier (NHS England South 2016)"] == "Sub-regional / collaborative hub" or \
        "emscg" not in " ".join(h.index)
    assert h["Services without cost"] == "Bone sarcoma"
    assert h["Tier schemes with inferred bounds"] == "NHS England South 2016"
    assert h["Years"] == "2025 to 2026"

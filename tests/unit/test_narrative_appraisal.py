"""hna.narrative.appraisal: readable appraisal tables and statements (the report idiom)."""

from __future__ import annotations

import re

import pytest

from hna.appraisal import TABLES, appraisal_demand, appraise_footprint
from hna.narrative import appraisal as report

SERVICES = ["haemophilia", "bone_sarcoma"]


@pytest.fixture(scope="module")
def a():
    demand = appraisal_demand("E12000004", SERVICES, range(2025, 2027))
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
    costed = f["Spend basis"].str.startswith("footprint demand")
    assert costed.sum() == 2 and (~costed).sum() == 2
    assert f.loc[costed, "Do nothing spend"].str.endswith("(2008/09 prices)").all()
    assert (f.loc[~costed, "Spend"] == "no cost").all()
    assert "haemophilia" not in set(f["Service"])  # the service's name, not its id


def test_answer_states_population_tiers_and_missing_costs(a):
    text = report.answer(a)
    assert "East Midlands" in text and "regional" in text
    assert "No cost for bone_sarcoma" in text


def test_inferred_note_names_the_inferred_scheme_and_segmentation(a):
    text = report.inferred_note(a)
    assert "NHS England South 2016" in text and "segmentation" in text


def test_section_is_a_report_table_with_its_caption(a):
    t = report.section(a, "voting")
    assert t.caption == report.caption("voting")
    assert "Minimum in favour" in t.shown.columns


def test_headline_names_the_inferred_tier_scheme(a):
    assert a.headline()["tier_schemes_inferred"] == ["stp_2016"]

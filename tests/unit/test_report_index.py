"""Run index: headline keys become reviewer labels and values follow hna.formatting."""

from __future__ import annotations

import pytest

from hna.report_index import _column_label, _format_cell


@pytest.mark.parametrize("key,label", [
    ("demand_2025", "Expected demand 2025"),
    ("p_viable_2040", "P(every planned centre viable) 2040"),
    ("mean_minutes_k2", "Mean journey, 2 centre(s) (minutes)"),
    ("tier_emscg_2009", "Tier (East Midlands SCG 2009)"),
    ("pairs_that_fit", "Service-footprint pairs that fit"),
    ("england_dialysis_2025", "England dialysis 2025"),
])
def test_headline_keys_get_reviewer_labels(key, label):
    assert _column_label(key) == label


@pytest.mark.parametrize("key,value,text", [
    ("p_viable_2040", 0.999, ">99%"),
    ("p_viable_2040", 1.0, "100%"),
    ("prob_all_k3", 0.294, "29%"),
    ("do_nothing_spend_horizon", 2286200054.07, "£2.3 billion"),
    ("mean_minutes_k1", 77.9, "78"),
    ("population_start", 57689926.0, "57,689,926"),
    ("expected_cases", 344.0, "344"),
    ("year", 2025, "2025"),
    ("tier_dh_2003", "scg", "Specialised commissioning group (rarer conditions)"),
])
def test_headline_values_are_formatted_by_what_they_are(key, value, text):
    assert _format_cell(key, value) == text

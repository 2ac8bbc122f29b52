"""The scenarios report and the explorer notebook execute end to end (papermill)."""

from __future__ import annotations

import pytest

from tests.e2e.test_notebooks import _run


@pytest.mark.slow
def test_scenarios_report_compares_scenarios_side_by_side(tmp_path):
    h = _run("scenarios.ipynb", tmp_path, service="soft_tissue_sarcoma", footprint="E40000006",
             scenarios=[None, "sts_rising_2pc", "sts_uncertain_inputs"], years_start=2025,
             years_end=2040, draws=200, seed=1, n_centres=2)
    rows = {r["scenario"]: r for r in h["scenarios"]}
    assert list(rows) == ["base", "sts_rising_2pc", "sts_uncertain_inputs"]
    assert rows["base"]["horizon_difference"] == 0
    # +2% a year from 2025: 2040 about 1.02^15 = 1.35 times the base case
    assert rows["sts_rising_2pc"]["horizon_difference_percent"] == pytest.approx(34.6, abs=4)
    assert any("annual_change_percent" in x for x in rows["sts_uncertain_inputs"]["interval_includes"])
    assert "driven mostly by" in rows["sts_uncertain_inputs"]["dominant"]


@pytest.mark.slow
def test_explore_notebook_opens_the_explorer(tmp_path):
    _run("explore.ipynb", tmp_path, draws=100)

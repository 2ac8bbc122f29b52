"""The explorer, driven programmatically: each widget change recomputes the answer."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import hna  # noqa: E402
from hna.scenarios import apply_scenario, load_scenario  # noqa: E402


@pytest.fixture(scope="module")
def ex():
    return hna.explore("soft_tissue_sarcoma", "E40000006", years="2025:2040", draws=300,
                       seed=3)


def test_a_higher_trend_raises_the_horizon_mean(ex):
    ex.controls["trend"].value = 0.0
    flat = ex.summary.set_index("year")["mean"]
    ex.controls["trend"].value = 2.0
    up = ex.summary.set_index("year")["mean"]
    ex.controls["trend"].value = 0.0
    # The trend compounds from the service's stated base year (the rates' 2010 level), as in
    # the reports, so a steeper trend moves 2025 as well as 2040.
    assert ex.anchor == 2010
    assert up[2025] / flat[2025] == pytest.approx(1.02 ** 15, rel=0.02)
    assert up[2040] / flat[2040] == pytest.approx(1.02 ** 30, rel=0.02)


def test_trend_uncertainty_widens_the_horizon_interval_and_leads_the_tornado(ex):
    ex.controls["trend_sd"].value = 0.0
    narrow = ex.summary.iloc[-1]
    ex.controls["trend_sd"].value = 1.5
    wide = ex.summary.iloc[-1]
    assert wide["q0.975"] - wide["q0.025"] > 1.5 * (narrow["q0.975"] - narrow["q0.025"])
    assert ex.sensitivity["input"].iloc[0] == "annual_change_percent"
    ex.controls["trend_sd"].value = 0.0


def test_minimum_and_centres_change_the_viability_table(ex):
    ex.controls["centres"].value = 2
    ex.controls["minimum"].value = 100.0
    easy = ex.viability["p_all_viable"].to_numpy()
    ex.controls["minimum"].value = 160.0
    hard = ex.viability["p_all_viable"].to_numpy()
    assert (hard <= easy).all() and hard.sum() < easy.sum()
    assert (ex.viability["n_centres"] == 2).all()
    ex.controls["centres"].value = 0  # auto: centres sustainable with 80% probability
    assert "centres sustainable with 80% probability" in ex.viability_table().columns


def test_horizon_and_variant(ex):
    ex.controls["horizon"].value = 2030
    assert ex.summary["year"].max() == 2030 and ex.sensitivity.attrs["year"] == 2030
    ex.controls["variant"].value = "npp2018"
    a = ex.summary["expected"].to_numpy()
    ex.controls["variant"].value = "npp2020"
    b = ex.summary["expected"].to_numpy()
    assert not np.allclose(a, b)
    ex.controls["horizon"].value = 2040


def test_save_writes_a_valid_scenario_that_reproduces_the_settings(ex, tmp_path):
    ex.controls["rationale"].value = ""
    assert ex.save(tmp_path / "none.yaml") is None  # a rationale is required
    ex.controls["trend"].value = 1.5
    ex.controls["trend_sd"].value = 0.5
    ex.controls["minimum"].value = 120.0
    ex.controls["rationale"].value = "local clinical view"
    path = ex.save(tmp_path / "mine.yaml")
    sc = load_scenario(path)
    svc = apply_scenario("soft_tissue_sarcoma", sc)
    assert svc.projection.annual_change_percent == 1.5 and svc.projection.base_year == 2010
    assert svc.critical_mass.minimum_per_centre == 120.0
    assert svc.uncertainty["annual_change_percent"].sd == 0.5
    assert ex.last_seconds > 0

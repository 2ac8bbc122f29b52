"""Parameter uncertainty of the RRT model: vectorised draws, seeding, interval widths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hna.errors import ParameterError
from hna.prevalence import calibration_population, load_rrt_parameters, simulate_rrt_arrays
from hna.prevalence.ensemble import (
    incidence_path,
    sample_rrt_parameters,
    simulate_rrt_ensemble,
)
from hna.prevalence.projection import project_rrt
from hna.prevalence.stock import initial_prevalent


@pytest.fixture(scope="module")
def params():
    return load_rrt_parameters()


def _population(areas=("E54000001", "E54000002"), years=range(2020, 2031), size=1.0e6):
    p = load_rrt_parameters()
    base = calibration_population(p, [2020])
    base["population"] *= size / base["population"].sum()
    parts = []
    for i, area in enumerate(areas):
        for y in years:
            d = base.copy()
            d["area_code"] = area
            d["year"] = y
            d["population"] *= (1.0 + 0.1 * i) * (1.0 + 0.005 * (y - 2020))
            parts.append(d)
    return pd.concat(parts, ignore_index=True)


def test_vectorised_ensemble_equals_the_per_draw_loop(params):
    pop = _population(years=range(2021, 2026))
    start = initial_prevalent(params, pop[pop["year"] == 2021].assign(year=2020), 2020,
                              rate_pmp=900, modality_mix={"ichd": .4, "hhd": .02, "pd": .06,
                                                          "tx": .52})
    years = list(range(2021, 2026))
    f = sample_rrt_parameters(params, 5, seed=7)
    mult = np.linspace(0.9, 1.2, 5)[:, None] * np.linspace(1.0, 1.1, len(years))[None, :]
    areas, stock = simulate_rrt_ensemble(params, pop, start, years, f, mult)
    for d in range(5):
        one = simulate_rrt_arrays(
            params, pop, start, years, 0, incidence_multiplier=dict(zip(years, mult[d], strict=True)),
            _mortality_scale=params.mortality.scale.value * f["mortality_factor"][d],
            _transplant_scale=params.transplantation.scale.value * f["transplant_factor"][d])
        assert one.areas == areas
        np.testing.assert_allclose(stock[d], one.stock, rtol=1e-10, atol=1e-9)


def test_draw_zero_holds_every_parameter_at_its_central_value(params):
    f = sample_rrt_parameters(params, 50, seed=3)
    assert f["mortality_factor"][0] == 1.0 and f["transplant_factor"][0] == 1.0
    assert f["incidence_level"][0] == 1.0
    assert f["incidence_change_percent"][0] == params.projection.incidence_change_percent
    # and the spread is the file's: lognormal sd_log 0.08 -> sd of log about 0.08
    big = sample_rrt_parameters(params, 4000, seed=3)
    assert np.std(np.log(big["mortality_factor"])) == pytest.approx(0.08, rel=0.1)


def test_incidence_path_compounds_from_the_base_year_only(params):
    path = incidence_path(params, [2016, 2017, 2026], np.array([1.0]), np.array([2.0]))
    # 2016 published 118 pmp; 2017 = 118 x 1.02; 2026 = 118 x 1.02^10 (base year 2016)
    assert path[0].tolist() == pytest.approx([118.0, 118 * 1.02, 118 * 1.02 ** 10])
    later = incidence_path(params, [2020, 2026], np.array([1.0]), np.array([2.0]), base_year=2025)
    assert later[0].tolist() == pytest.approx([118.0, 118 * 1.02])


def test_same_seed_gives_same_2025_whatever_years_are_requested(params):
    pop = _population()
    a = project_rrt(params, pop, [2025], 200, 11, modalities=("ichd",))
    b = project_rrt(params, pop, [2022, 2025, 2030], 200, 11, modalities=("ichd",))
    np.testing.assert_array_equal(a.counts[:, 0], b.counts[:, 1])
    np.testing.assert_allclose(a.expected[:, 0], b.expected[:, 1])


def test_parameter_uncertainty_widens_intervals_beyond_poisson(params):
    pop = _population(size=5.0e6)
    years = [2021, 2030]
    full = project_rrt(params, pop, years, 1000, 5, modalities=("ichd",))
    pois = project_rrt(params, pop, years, 1000, 5, modalities=("ichd",), vary=[])

    def width(res, j):
        q = np.quantile(res.counts[0, j], [0.025, 0.975])
        return (q[1] - q[0]) / res.expected[0, j]

    # Poisson-only 95% width is about 2 x 1.96 / sqrt(E): with E ~ 2,000 about 9%. With the
    # parameters it must be at least 1.5 times that by 2030 (the incidence trend compounds)
    assert width(pois, 1) == pytest.approx(2 * 1.96 / np.sqrt(pois.expected[0, 1]), rel=0.15)
    assert width(full, 1) > 1.5 * width(pois, 1)
    # and it widens with the horizon relative to the mean
    assert width(full, 1) > width(full, 0)


def test_draw_chunking_does_not_change_parameter_draws(params):
    a = sample_rrt_parameters(params, 600, seed=9)
    b = sample_rrt_parameters(params, 300, seed=9, start=300)
    np.testing.assert_array_equal(a["transplant_factor"][300:], b["transplant_factor"])


def test_unknown_uncertain_parameter_names_the_file_and_field(tmp_path):
    import yaml

    from hna.prevalence import DEFAULT_PARAMETER_FILE

    raw = yaml.safe_load(DEFAULT_PARAMETER_FILE.read_text(encoding="utf-8"))
    raw["uncertainty"]["graft_factor"] = {"distribution": "lognormal", "median": 1.0,
                                          "sd_log": 0.1, "assumption": "x"}
    path = tmp_path / "rrt.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_rrt_parameters(path)
    assert err.value.field == "uncertainty.graft_factor"
    assert err.value.source == str(path)


def test_stations_on_the_upper_interval_with_occupancy():
    from hna.prevalence.capacity import stations_columns

    t = pd.DataFrame({"mean": [96.0, 100.0], "q0.975": [120.0, 130.0]})
    full = stations_columns(t, occupancy=1.0)
    # 16 stations serve 96 patients at 6 per station (East Midlands SCG 2008/09)
    assert full["stations_on_mean"].tolist() == [16, 17]
    assert full["stations_on_upper"].tolist() == [20, 22]
    # at 85% occupancy a station holds 5.1 patients: 120 / 5.1 = 23.5 -> 24
    assert stations_columns(t)["stations_on_upper"].tolist()[0] == 24
    with pytest.raises(ParameterError):
        stations_columns(t, occupancy=0)


def test_peer_arrivals_scenario_raises_demand_over_flat_incidence(params):
    pop = _population()
    flat = project_rrt(params, pop, [2030], 0, 1, modalities=("ichd",), trend=(0.0, 2016))
    peer = project_rrt(params, pop, [2030], 0, 1, modalities=("ichd",), trend=(3.2, 2016))
    assert (peer.expected > flat.expected * 1.1).all()


def test_sensitivity_shares_sum_to_one_and_the_trend_dominates_the_horizon(params):
    from hna.prevalence.projection import rrt_sensitivity

    pop = _population(years=range(2020, 2041), size=5.0e6)
    t = rrt_sensitivity(params, pop, 2040, 3, modalities=("ichd",), draws=400)
    rows = t["E54000001"]
    assert {r["input"] for r in rows} == {"poisson", "mortality_factor", "transplant_factor",
                                          "incidence_level", "incidence_change_percent"}
    assert sum(r["share"] for r in rows) == pytest.approx(1.0)
    # 24 years of a trend with SD 0.8 points a year: the largest single source by 2040
    assert rows[0]["input"] == "incidence_change_percent"


def test_incidence_trend_in_the_file_is_the_scripted_fit(params):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "derive_renal_trend.py"
    spec = importlib.util.spec_from_file_location("derive_renal_trend", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    change, se = mod.fit()
    assert params.projection.incidence_change_percent == pytest.approx(change, abs=0.005)
    assert se == pytest.approx(0.34, abs=0.005)


def test_variant_model_file_changes_one_cited_value(params, tmp_path):
    from hna.prevalence import DEFAULT_PARAMETER_FILE

    v = load_rrt_parameters(DEFAULT_PARAMETER_FILE.parent
                            / "renal_replacement_therapy_more_transplants.yaml")
    assert v.transplantation.improvement.factor == 1.2
    assert v.transplantation.improvement.source.kind == "assumption"
    # transplant probabilities x1.2 from 2025 on, unchanged before
    from hna.prevalence import transition_matrices

    for year, f in ((2024, 1.0), (2025, 1.2)):
        base = transition_matrices(params, year)[:, 0, 3]
        var = transition_matrices(v, year)[:, 0, 3]
        np.testing.assert_allclose(var, base * f)
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {DEFAULT_PARAMETER_FILE}\nchanges:\n"
                   "  - {set: transplantation.nosuch.value, value: 1, assumption: x}\n",
                   encoding="utf-8")
    with pytest.raises(ParameterError) as err:
        load_rrt_parameters(bad)
    assert err.value.field == "changes[0].set"

"""Tests for hna.prevalence: RRT stock-and-flow model and dialysis capacity.

Reference values are worked by hand from the published figures or the YAML parameters, not
taken from hna itself, and the working is written next to each assertion.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from hna.bands import AGE_BAND_DTYPE, AGE_BANDS, SEX_DTYPE
from hna.errors import DataError, ParameterError
from hna.prevalence import (
    ADULT_BANDS,
    DEFAULT_PARAMETER_FILE,
    FLOWS,
    MODALITIES,
    Source,
    calibration_markdown,
    calibration_population,
    calibration_table,
    fit_calibration,
    initial_prevalent,
    load_rrt_parameters,
    patients_per_station,
    rrt_parameters_from_mapping,
    sessions_per_week,
    simulate_rrt,
    simulate_rrt_arrays,
    stations_needed,
    transition_matrices,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def params():
    return load_rrt_parameters()


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(DEFAULT_PARAMETER_FILE.read_text(encoding="utf-8"))


def _population(areas=("E54000001", "E54000002"), years=range(2012, 2016), size=1.0e6):
    """Small population table: the England mid-2020 structure scaled to ``size`` per area."""
    p = load_rrt_parameters()
    base = calibration_population(p, [2012])
    base["population"] *= size / base["population"].sum()
    parts = []
    for i, area in enumerate(areas):
        for y in years:
            d = base.copy()
            d["area_code"] = area
            d["year"] = y
            d["population"] *= 1.0 + 0.1 * i
            parts.append(d)
    return pd.concat(parts, ignore_index=True)


def _one_cell_start(area, band, modality, n, sex="male", year=2012):
    return pd.DataFrame(
        {"area_code": [area], "year": [year], "sex": [sex], "age_band": [band],
         "modality": [modality], "patients": [float(n)]}
    )


# --------------------------------------------------------------------------------------------
# Parameters and sources
# --------------------------------------------------------------------------------------------


def _sources(node):
    if isinstance(node, Source):
        yield node
    elif hasattr(node, "__pydantic_fields__"):
        for name in type(node).model_fields:
            yield from _sources(getattr(node, name))
    elif isinstance(node, (list, tuple)):
        for item in node:
            yield from _sources(item)
    elif isinstance(node, dict):
        for item in node.values():
            yield from _sources(item)


def test_every_calibrated_figure_states_its_fit_target(params):
    sources = list(_sources(params))
    assert len(sources) > 40
    calibrated = [s for s in sources if s.kind == "calibrated"]
    # exactly the two fitted scales
    assert len(calibrated) == 2
    assert all(s.fit_target for s in calibrated)
    assert params.mortality.scale.source.kind == "calibrated"
    assert params.transplantation.scale.source.kind == "calibrated"


def test_published_domain_figures_are_in_the_parameter_file(params):
    inc = {c.year: c.rate_pmp for c in params.incidence_history}
    assert (inc[2010], inc[2011], inc[2012], inc[2014]) == (107, 108, 108, 115)
    e2012 = next(e for e in params.entry.by_year if e.year == 2012)
    assert (e2012.hd, e2012.pd, e2012.tx, e2012.early_exit) == (0.669, 0.190, 0.083, 0.059)
    targets = {t.year: t.rate_pmp for t in params.calibration.prevalence_targets}
    assert targets == {2005: 694, 2006: 725, 2007: 746, 2008: 774, 2012: 861}
    start = params.initial_prevalence.points[0]
    assert (start.year, start.rate_pmp) == (2000, 523)
    # 16 stations <-> 96 patients (East Midlands SCG 2008/09): 6 patients per station
    assert patients_per_station(**params.capacity.kwargs()) == 6


def test_incidence_profile_matches_published_crude_rate_and_median_age(raw):
    # Crude rate on the reference (ONS mid-2020 England) population, and the median age at
    # start, computed here from the YAML numbers with 18-19 = 2/5 of 15-19 and a uniform
    # spread of ages within each band (90+ taken as 90-99).
    ref = raw["calibration"]["reference_population"]
    rates = raw["incidence"]["rate_pmp"]
    total_pop = sum(ref["female"].values()) + sum(ref["male"].values())
    counts = []
    for band in ADULT_BANDS:
        share = 0.4 if band == "15-19" else 1.0
        counts.append(sum(rates[s][band] * ref[s][band] * share / 1e6 for s in ("female", "male")))
    counts = np.array(counts)
    assert counts.sum() / total_pop * 1e6 == pytest.approx(108, abs=0.5)
    lo = [18] + list(range(20, 95, 5))
    hi = [20] + list(range(25, 95, 5)) + [100]
    cum = np.cumsum(counts) / counts.sum()
    i = int(np.searchsorted(cum, 0.5))
    median = lo[i] + (0.5 - cum[i - 1]) / (cum[i] - cum[i - 1]) * (hi[i] - lo[i])
    assert median == pytest.approx(64.9, abs=1.0)  # UKRR 2010-2011: 64.9 years


def test_transition_matrix_rows_are_probabilities(params):
    T = transition_matrices(params, 2012)
    assert T.shape == (7, 4, 6)
    assert np.all(T >= 0) and np.all(T <= 1)
    np.testing.assert_allclose(T.sum(axis=2), 1.0)
    # transplant rates fall with age (rows: 7 age groups, from in-centre HD)
    tx = T[:, 0, 3]
    assert np.all(np.diff(tx) <= 0)


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


def test_calibration_reproduces_ukrr_prevalence_and_2012_modality_mix(params):
    t = calibration_table(params)
    asserted = t[t["asserted"]]
    prev = asserted[asserted["measure"].str.startswith("prevalence_pmp")].set_index("year")
    # UKRR adult RRT prevalence, per million: 694 (2005), 725 (2006), 746 (2007), 774 (2008)
    # in-sample and 861 (2012) held out; all within 5%
    for year, target in ((2005, 694), (2006, 725), (2007, 746), (2008, 774), (2012, 861)):
        assert prev.loc[year, "target"] == target
        assert abs(prev.loc[year, "model"] / target - 1) <= 0.05
    mix = asserted[asserted["measure"].str.startswith("share_") & (asserted["year"] == 2012)]
    mix = mix.set_index("measure")
    # 2012 modality: transplant 50.4%, HD 42.7%, PD 6.9%; within 5 percentage points
    for key, target in (("transplant", 50.4), ("haemodialysis", 42.7), ("peritoneal", 6.9)):
        row = mix[mix.index.str.contains(key)].iloc[0]
        assert row["target"] == pytest.approx(target)
        assert abs(row["model"] - target) <= 5.0
    assert len(asserted) == 11
    assert asserted["within_tolerance"].all()


def test_held_out_2012_is_not_used_by_the_fit(params):
    t = calibration_table(params)
    held = t[t["asserted"] & (t["role"] == "held out")]
    assert set(held["year"]) == {2012}
    # the held-out UKRR 2012 prevalence (861 pmp) within 3% and the mix within 1 point
    prev = held[held["measure"].str.startswith("prevalence_pmp")].iloc[0]
    assert abs(prev["difference"]) <= 3.0
    shares = held[held["measure"].str.startswith("share_")]
    assert (shares["difference"].abs() <= 1.0).all()


def test_calibration_doc_shows_the_current_table(params):
    doc = (REPO / "docs" / "calibration_dialysis.md").read_text(encoding="utf-8")
    assert calibration_markdown(params) in doc, (
        "docs/calibration_dialysis.md is out of date: regenerate the table with "
        "`python -m hna.prevalence`"
    )


def test_stored_calibrated_scales_are_the_least_squares_fit(params):
    fit = fit_calibration(params)
    assert fit["mortality_scale"] == pytest.approx(params.mortality.scale.value, abs=0.01)
    assert fit["transplant_scale"] == pytest.approx(params.transplantation.scale.value, abs=0.01)


# --------------------------------------------------------------------------------------------
# Capacity
# --------------------------------------------------------------------------------------------


def test_sixteen_stations_serve_96_patients():
    # 3 shifts a day x 6 days = 18 sessions a station; 3 sessions a patient -> 6 patients
    assert patients_per_station() == 6
    assert stations_needed(96) == 16


def test_shifts_per_day_is_configurable():
    # 2 shifts x 6 days / 3 sessions = 4 patients a station -> 96 / 4 = 24 stations
    assert stations_needed(96, shifts_per_day=2) == 24
    # 4 sessions a week: 3 x 6 / 4 = 4.5 patients a station -> ceil(96 / 4.5) = 22
    assert stations_needed(96, sessions_per_week=4) == 22


def test_stations_round_up_and_keep_shape():
    assert stations_needed(97) == 17  # 97 / 6 = 16.2 -> 17
    assert stations_needed(0) == 0
    np.testing.assert_array_equal(stations_needed(np.array([6, 7, 96])), [1, 2, 16])
    s = stations_needed(pd.Series([12.0, 13.0], index=["a", "b"]))
    assert list(s.index) == ["a", "b"] and list(s) == [2, 3]
    # 80% of slots usable: 96 / (6 x 0.8) = 20
    assert stations_needed(96, utilisation=0.8) == 20


def test_sessions_per_week_is_patients_times_sessions():
    assert sessions_per_week(96) == 288  # 96 x 3
    assert sessions_per_week(10, sessions_per_patient=4) == 40


def test_capacity_arguments_are_validated():
    with pytest.raises(ParameterError, match="shifts_per_day"):
        stations_needed(10, shifts_per_day=0)
    with pytest.raises(DataError, match="ichd_patients"):
        stations_needed(-1)


# --------------------------------------------------------------------------------------------
# Model mechanics
# --------------------------------------------------------------------------------------------


def test_one_year_of_transitions_and_ageing_by_hand(raw, params):
    # 100 men on in-centre HD aged 70-74 (age group 65-74), no population -> no incidence.
    # 2013 is after both trend periods, so the trend factors are 1. From the YAML:
    ms = raw["mortality"]["scale"]["value"]
    ts = raw["transplantation"]["scale"]["value"]
    death = raw["mortality"]["dialysis"]["values"]["65-74"] * ms
    tx = raw["transplantation"]["rate"]["values"]["65-74"] * ts
    hhd = raw["modality_switches"]["ichd_to_hhd"]["values"]["65-74"]
    pd_ = raw["modality_switches"]["ichd_to_pd"]["value"]
    rec = raw["recovery"]["value"]
    stay = 1 - (death + tx + hhd + pd_ + rec)
    pop = _population(areas=("A",), years=[2013])
    pop["population"] = 0.0
    start = _one_cell_start("A", "70-74", "ichd", 100)
    out, flows = simulate_rrt(params, pop, start, [2013], return_flows=True)
    got = out[out["year"] == 2013].set_index(["sex", "age_band", "modality"])["patients"]
    # survivors age: 1/5 of the band moves up
    assert got[("male", "70-74", "ichd")] == pytest.approx(100 * stay * 0.8)
    assert got[("male", "75-79", "ichd")] == pytest.approx(100 * stay * 0.2)
    assert got[("male", "70-74", "tx")] == pytest.approx(100 * tx * 0.8)
    f = flows.groupby("flow", observed=True)["patients"].sum()
    assert f["death"] == pytest.approx(100 * death)
    assert f["transplant"] == pytest.approx(100 * tx)
    assert f["recovered"] == pytest.approx(100 * rec)


def test_adult_part_of_15_19_moves_up_at_one_half(params):
    # 15-19 holds ages 18-19 only: half move to 20-24 each year
    pop = _population(areas=("A",), years=[2013])
    pop["population"] = 0.0
    start = _one_cell_start("A", "15-19", "tx", 10)
    out = simulate_rrt(params, pop, start, [2013])
    got = out[out["year"] == 2013].groupby("age_band", observed=True)["patients"].sum()
    assert got["20-24"] == pytest.approx(got["15-19"])


def test_incident_patients_equal_rate_times_population(raw, params):
    # one year, 1 million men in 60-64 only: incident = rate (pmp) x 1
    pop = _population(areas=("A",), years=[2013])
    pop["population"] = 0.0
    pop.loc[(pop["sex"] == "male") & (pop["age_band"] == "60-64"), "population"] = 1e6
    start = _one_cell_start("A", "60-64", "ichd", 0)
    _, flows = simulate_rrt(params, pop, start, [2013], return_flows=True)
    f = flows.groupby("flow", observed=True)["patients"].sum()
    assert f["incident"] == pytest.approx(raw["incidence"]["rate_pmp"]["male"]["60-64"])


def test_expected_run_conserves_patients(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012, rate_pmp=900,
                              modality_mix={"ichd": 0.4, "hhd": 0.02, "pd": 0.08, "tx": 0.5})
    stock, flows = simulate_rrt(params, pop, start, range(2013, 2016), return_flows=True)
    s = stock.groupby(["area_code", "year"])["patients"].sum().unstack()
    f = flows.pivot_table(index=["area_code", "year"], columns="flow", values="patients",
                          aggfunc="sum", observed=True)
    for year in (2013, 2014, 2015):
        change = s[year] - s[year - 1]
        inflow = f.xs(year, level="year")
        net = inflow["incident"] - inflow["early_exit"] - inflow["death"] - inflow["recovered"]
        np.testing.assert_allclose(change.to_numpy(), net.to_numpy(), rtol=1e-10)


def test_monte_carlo_draws_conserve_patients_exactly(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012, rate_pmp=900,
                              modality_mix={"ichd": 0.4, "hhd": 0.02, "pd": 0.08, "tx": 0.5})
    sim = simulate_rrt_arrays(params, pop, start, range(2013, 2016), draws=20, seed=11)
    total = sim.stock.sum(axis=(3, 4, 5))  # (draw, year, area)
    f = sim.flows.sum(axis=(3, 4))  # (draw, year, area, flow)
    i = {name: k for k, name in enumerate(FLOWS)}
    net = f[..., i["incident"]] - f[..., i["early_exit"]] - f[..., i["death"]] - f[..., i["recovered"]]
    np.testing.assert_array_equal(np.diff(total, axis=1), net)
    assert sim.stock.dtype.kind == "i"


def test_seeded_draws_are_reproducible(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012)
    kw = {"draws": 60, "keep": ("modality",)}
    a = simulate_rrt(params, pop, start, range(2013, 2015), seed=2024, workers=1, **kw)
    b = simulate_rrt(params, pop, start, range(2013, 2015), seed=2024, workers=2, **kw)
    c = simulate_rrt(params, pop, start, range(2013, 2015), seed=2025, **kw)
    pd.testing.assert_frame_equal(a, b)
    assert not a["patients"].equals(c["patients"])
    assert list(a.columns) == ["area_code", "year", "draw", "modality", "patients"]


def test_mean_of_draws_matches_expected_values(params):
    pop = _population(areas=("A",))
    start = initial_prevalent(params, pop, 2012)
    start["patients"] = start["patients"].round()  # integer start: no start-stock noise
    det = simulate_rrt_arrays(params, pop, start, range(2013, 2016), keep=("modality",))
    n = 400
    sto = simulate_rrt_arrays(params, pop, start, range(2013, 2016), draws=n, seed=7,
                              keep=("modality",))
    mean = sto.stock.mean(axis=0)
    se = sto.stock.std(axis=0) / np.sqrt(n)
    ok = se > 0
    assert np.all(np.abs(mean - det.stock)[ok] <= 4.5 * se[ok])


def test_output_table_shape_and_types(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012)
    out = simulate_rrt(params, pop, start, [2013, 2014])
    assert list(out.columns) == ["area_code", "year", "sex", "age_band", "modality", "patients"]
    assert out["age_band"].dtype == AGE_BAND_DTYPE and out["sex"].dtype == SEX_DTYPE
    assert sorted(out["year"].unique()) == [2012, 2013, 2014]
    assert set(out["modality"].astype(str)) == set(MODALITIES)
    assert set(out["age_band"].astype(str)) == set(ADULT_BANDS)
    assert len(out) == 2 * 3 * 2 * len(ADULT_BANDS) * 4
    # keeping less detail sums the rest
    small = simulate_rrt(params, pop, start, [2013, 2014], keep=("modality",))
    a = out.groupby(["area_code", "year", "modality"], observed=True)["patients"].sum()
    b = small.set_index(["area_code", "year", "modality"])["patients"]
    np.testing.assert_allclose(a.sort_index().to_numpy(), b.sort_index().to_numpy())


def test_initial_prevalent_matches_rate_mix_and_published_median_ages(params):
    pop = _population(years=[2000])
    start = initial_prevalent(params, pop, 2000)
    totals = pop.groupby("area_code")["population"].sum()
    got = start.groupby("area_code")["patients"].sum()
    np.testing.assert_allclose(got.to_numpy(), 523 * totals.to_numpy() / 1e6)  # 523 pmp
    mix = start.groupby("modality", observed=True)["patients"].sum() / start["patients"].sum()
    assert mix["tx"] == pytest.approx(0.46) and mix["pd"] == pytest.approx(0.184)
    # UKRR 2000 median ages (HD 63, PD 58, transplant 48), uniform within bands
    lo = [18] + list(range(20, 95, 5))
    hi = [20] + list(range(25, 95, 5)) + [100]
    for modality, median in (("ichd", 63), ("pd", 58), ("tx", 48)):
        c = (start[start["modality"] == modality].groupby("age_band", observed=True)["patients"]
             .sum().reindex(list(ADULT_BANDS)).to_numpy())
        cum = np.cumsum(c) / c.sum()
        i = int(np.searchsorted(cum, 0.5))
        m = lo[i] + (0.5 - cum[i - 1]) / (cum[i] - cum[i - 1]) * (hi[i] - lo[i])
        assert m == pytest.approx(median, abs=0.1)


def test_initial_prevalent_needs_figures_for_unpublished_years(params):
    pop = _population(years=[2019])
    with pytest.raises(ParameterError, match="rate_pmp"):
        initial_prevalent(params, pop, 2019)


# --------------------------------------------------------------------------------------------
# Validation errors
# --------------------------------------------------------------------------------------------


def test_negative_population_is_a_data_error(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012)
    pop.loc[5, "population"] = -3
    with pytest.raises(DataError) as err:
        simulate_rrt(params, pop, start, [2013])
    assert err.value.field == "population" and err.value.value == -3


def test_unknown_modality_is_a_data_error(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012)
    start["modality"] = start["modality"].astype(str)
    start.loc[0, "modality"] = "haemo"
    with pytest.raises(DataError) as err:
        simulate_rrt(params, pop, start, [2013])
    assert err.value.field == "modality" and err.value.value == "haemo"


def test_missing_band_is_a_data_error(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012)
    pop = pop[~((pop["age_band"] == "50-54") & (pop["year"] == 2013))]
    with pytest.raises(DataError, match="50-54"):
        simulate_rrt(params, pop, start, [2013])


def _write(tmp_path, data, name="rrt.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_probability_above_one_names_file_field_and_value(tmp_path, raw):
    data = yaml.safe_load(yaml.safe_dump(raw))
    data["mortality"]["dialysis"]["values"]["65-74"] = 1.4
    path = _write(tmp_path, data)
    with pytest.raises(ParameterError) as err:
        load_rrt_parameters(path)
    assert err.value.source == str(path)
    assert err.value.field == "mortality.dialysis.values.65-74"
    assert err.value.value == 1.4


def test_transition_row_summing_above_one_is_rejected(tmp_path, raw):
    data = yaml.safe_load(yaml.safe_dump(raw))
    # 85+ on in-centre HD in 2000: death 0.7 x 0.918 (scale) x 0.97^-12 (trend) = 0.94,
    # plus 0.2 to home HD, 0.01 to PD and 0.005 recovered: 1.16 > 1
    data["mortality"]["dialysis"]["values"]["85+"] = 0.7
    data["modality_switches"]["ichd_to_hhd"]["values"]["85+"] = 0.2
    path = _write(tmp_path, data)
    with pytest.raises(ParameterError) as err:
        load_rrt_parameters(path)
    assert err.value.field == "transitions[85+].ichd"
    assert err.value.value == pytest.approx(0.7 * 0.918 * 0.97**-12 + 0.215, abs=1e-3)
    assert re.search(r"sum to more than 1", str(err.value))


def test_unknown_keys_and_modalities_in_yaml_are_rejected(tmp_path, raw):
    data = yaml.safe_load(yaml.safe_dump(raw))
    data["mortality"]["dialysis_modality_ratio"]["icdh"] = 1.0
    with pytest.raises(ParameterError) as err:
        load_rrt_parameters(_write(tmp_path, data))
    assert err.value.field == "mortality.dialysis_modality_ratio.icdh"
    assert "unknown key" in str(err.value)
    data = yaml.safe_load(yaml.safe_dump(raw))
    data["mortality_scale"] = 0.9
    with pytest.raises(ParameterError, match="mortality_scale"):
        rrt_parameters_from_mapping(data)


def test_bad_yaml_and_missing_file_are_parameter_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: [unclosed\n", encoding="utf-8")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_rrt_parameters(bad)
    with pytest.raises(ParameterError, match="not found"):
        load_rrt_parameters(tmp_path / "nope.yaml")


def test_calibrated_source_without_fit_target_is_rejected(raw):
    data = yaml.safe_load(yaml.safe_dump(raw))
    del data["mortality"]["scale"]["source"]["fit_target"]
    with pytest.raises(ParameterError, match="fit_target"):
        rrt_parameters_from_mapping(data)


def test_bad_arguments_are_parameter_errors(params):
    pop = _population()
    start = initial_prevalent(params, pop, 2012)
    with pytest.raises(ParameterError, match="consecutive"):
        simulate_rrt(params, pop, start, [2013, 2015])
    with pytest.raises(ParameterError, match="draws"):
        simulate_rrt(params, pop, start, [2013], draws=-1)
    with pytest.raises(ParameterError, match="keep"):
        simulate_rrt(params, pop, start, [2013], keep=("area",))
    with pytest.raises(DataError, match="31 December 2013"):
        simulate_rrt(params, pop[pop["year"] >= 2014], start, [2014])


def test_reference_population_covers_all_bands(params):
    ref = params.calibration.reference_population
    assert set(ref.female) == set(AGE_BANDS)
    assert sum(ref.female.values()) + sum(ref.male.values()) == 56_550_138  # ONS mid-2020


def test_capacity_table_counts_in_centre_patients_only():
    stock = pd.DataFrame({
        "area_code": ["A"] * 4 + ["B"] * 4,
        "year": [2030] * 8,
        "modality": ["ichd", "hhd", "pd", "tx"] * 2,
        "patients": [96.0, 10, 20, 200, 13, 1, 1, 1],
    })
    from hna.prevalence import capacity_table

    cap = capacity_table(stock).set_index("area_code")
    assert cap.loc["A", "ichd_patients"] == 96 and cap.loc["A", "stations"] == 16
    assert cap.loc["A", "sessions_per_week"] == 288
    assert cap.loc["B", "stations"] == 3  # 13 / 6 = 2.2 -> 3


def test_modelled_prevalent_applies_national_rates_to_local_population(params):
    from hna.prevalence import calibration_trajectory, modelled_prevalent

    pop = calibration_population(params, [2012])
    start = modelled_prevalent(params, pop, 2012)
    national = calibration_trajectory(params).set_index("year").loc[2012, "prevalence_pmp"]
    assert start["patients"].sum() / pop["population"].sum() * 1e6 == pytest.approx(national)
    doubled = pop.assign(population=pop["population"] * 2)
    assert modelled_prevalent(params, doubled, 2012)["patients"].sum() == pytest.approx(
        2 * start["patients"].sum())


def test_figures_have_titles_and_source_notes(params):
    import matplotlib.pyplot as plt

    from hna.plots import plot_dialysis_stations, plot_rrt_modalities
    from hna.prevalence import capacity_table

    pop = _population(areas=("A",))
    start = initial_prevalent(params, pop, 2012)
    out = simulate_rrt(params, pop, start, [2013, 2014], draws=5, seed=1, keep=("modality",))
    for fig in (plot_rrt_modalities(out), plot_dialysis_stations(capacity_table(out))):
        assert fig.axes[0].get_title()
        assert any(t.get_text().startswith("Source:") for t in fig.texts)
        plt.close(fig)


def test_age_structure_misfit_stays_within_its_stated_bound(params):
    # docs/calibration_dialysis.md: band rates at the published peaks are 10-21% low (the 2020
    # age structure inflates the old bands' denominators); the bound asserted here is 0 to -25%,
    # and the share aged 70+ within 3 points of the published 24.9% (2012)
    t = calibration_table(params)
    peaks = t[t["measure"].str.contains(r"men \d|women \d", regex=True)
              & t["measure"].str.startswith("prevalence_pmp")]
    assert len(peaks) == 6
    assert ((peaks["difference"] < 0) & (peaks["difference"] > -25)).all()
    over70 = t[t["measure"].str.startswith("share aged 70+")].iloc[0]
    assert abs(over70["difference"]) <= 3.0

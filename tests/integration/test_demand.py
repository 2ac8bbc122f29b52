"""Demand: expected cases by hand, scope, projections, determinism, metadata, dialysis."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
import pytest

import hna
from hna.bands import AGE_BANDS
from hna.demand import level_demand, parse_years, rate_multipliers, service_demand
from hna.errors import ParameterError
from hna.services import load_service
from hna.thresholds import assess


def tiny_population() -> pd.DataFrame:
    """One district (Hartlepool's code), 10,000 people in every band and sex, mid-2020."""
    return pd.DataFrame([{"area_code": "E06000001", "sex": s, "age_band": b, "year": 2020,
                          "population": 10_000.0}
                         for s in ("female", "male") for b in AGE_BANDS])


def tiny_service(tmp_path, extra: str = "", scope: str = "", sid: str = "tiny"):
    """5 per 100,000 at ages 0-44 and 20 per 100,000 at 45+, both sexes; minimum 20 a year.

    On tiny_population: 0-44 is 9 bands x 2 sexes x 10,000 = 180,000 people -> 9 cases;
    45+ is 10 bands x 2 x 10,000 = 200,000 -> 40 cases; 49 in all, from 380,000 people.
    """
    path = tmp_path / f"{sid}.yaml"
    path.write_text(textwrap.dedent(f"""\
        id: {sid}
        name: Tiny service
        kind: incidence
        measure: new cases
        {scope}
        rates:
          reference_year: 2020
          table:
            - {{age_band: "0-44", sex: persons, rate: 5}}
            - {{age_band: "45+", sex: persons, rate: 20}}
          source: made_up
        {extra}
        critical_mass:
          minimum_per_centre: 20
          unit: new cases per centre per year
          centre: centre
          status: local_assumption
          source: made_up
        quality: low
        sources:
          - {{id: made_up, publisher: hna tests, title: fixture, year: 2025}}
        """))
    return load_service(path)


def test_expected_cases_hand_checked(tmp_path):
    r = service_demand(tiny_service(tmp_path), "E06000001", years=[2020], draws=0,
                       population=tiny_population())
    row = r.summary.iloc[0]
    assert row["population"] == 380_000
    assert row["expected"] == pytest.approx(49.0)
    assert row["crude_per_100k"] == pytest.approx(49 / 380_000 * 1e5)
    assert r.by_band["expected"].sum() == pytest.approx(49.0)
    b = r.by_band.set_index(["sex", "age_band"])
    assert b.loc[("male", "50-54"), "expected"] == pytest.approx(10_000 * 20e-5)  # 2 cases


def test_scope_counts_part_of_a_band(tmp_path):
    svc = tiny_service(tmp_path, scope="scope: {age_min: 18}")
    r = service_demand(svc, "E06000001", years=[2020], draws=0, population=tiny_population())
    # 0-14 out; 15-19 counts 2/5 (ages 18, 19); 20-44 in full:
    # (0.4 + 5 bands) x 20,000 x 5e-5 = 5.4; 45+ = 40 -> 45.4
    assert r.summary.iloc[0]["expected"] == pytest.approx(45.4)


def test_draws_are_seeded(tmp_path):
    svc = tiny_service(tmp_path)
    kw = {"years": [2020], "draws": 300, "population": tiny_population()}
    a = service_demand(svc, "E06000001", seed=11, **kw)
    b = service_demand(svc, "E06000001", seed=11, **kw)
    c = service_demand(svc, "E06000001", seed=12, **kw)
    assert a.draws.equals(b.draws)
    assert not a.draws["cases"].equals(c.draws["cases"])


def test_fixed_rates_give_poisson_draws(tmp_path):
    r = service_demand(tiny_service(tmp_path), "E06000001", years=[2020], draws=4000, seed=3,
                       population=tiny_population())
    d = r.draws_matrix()[0]
    # Poisson(49): mean 49, variance 49; 4,000 draws give standard errors 0.11 and about 1.1
    assert d.mean() == pytest.approx(49, abs=0.5)
    assert d.var(ddof=1) == pytest.approx(49, abs=5)
    assert r.summary.iloc[0]["q0.5"] == pytest.approx(49, abs=1)


def test_meta_records_provenance(tmp_path):
    r = service_demand(tiny_service(tmp_path), "E06000001", years=[2020], draws=10, seed=4,
                       population=tiny_population())
    m = r.meta
    assert m["hna_version"] == hna.__version__
    assert m["data_vintages"] == hna.data_vintages()
    assert m["seed"] == 4 and m["draws"] == 10
    assert len(m["parameter_hash"]) == 64
    assert "projection" in m and r.summary.attrs["meta"] is m
    r2 = service_demand(tiny_service(tmp_path), "E06000001", years=[2020], draws=10, seed=5,
                        population=tiny_population())
    assert r2.meta["parameter_hash"] != m["parameter_hash"]


def test_trend_multiplier_compounds_and_damps(tmp_path):
    svc = tiny_service(tmp_path, extra=textwrap.dedent("""\
        projection: {method: trend, annual_change_percent: 2, base_year: last_observed,
                     source: made_up}"""))
    m = rate_multipliers(svc, [2020, 2022, 2025]).groupby("year")["multiplier"].first()
    assert m[2020] == pytest.approx(1.0)
    assert m[2025] == pytest.approx(1.02 ** 5)
    damped = tiny_service(tmp_path, sid="damped", extra=textwrap.dedent("""\
        projection: {method: trend, annual_change_percent: 2, damping: 0.5,
                     base_year: last_observed, source: made_up}"""))
    md = rate_multipliers(damped, [2022]).iloc[0]["multiplier"]
    assert md == pytest.approx(1.02 ** (0.5 + 0.25))  # drift damped by 0.5 each year
    # applied to demand: 2025 demand uses rates x 1.02^5 on the 2025 population
    r = service_demand(svc, "E06000001", years=[2025], draws=0)
    r0 = service_demand(tiny_service(tmp_path, sid="flat"), "E06000001", years=[2025], draws=0)
    assert r.summary.iloc[0]["expected"] == pytest.approx(
        r0.summary.iloc[0]["expected"] * 1.02 ** 5)


def test_trend_fitted_to_history(tmp_path):
    rows = []
    for year in range(2010, 2020):
        for s in ("female", "male"):
            for b in AGE_BANDS:
                py = 1_000_000.0
                rows.append({"age_band": b, "sex": s, "year": year, "person_years": py,
                             "cases": round(20e-5 * py * 1.03 ** (year - 2019))})
    pd.DataFrame(rows).to_csv(tmp_path / "history.csv", index=False)
    svc = tiny_service(tmp_path, extra="projection: {method: trend, history: history.csv, "
                       "base_year: 2020}")
    m = rate_multipliers(svc, [2021]).iloc[0]["multiplier"]
    assert m == pytest.approx(1.03 ** 1, rel=2e-3)  # anchored at 2020 -> one year of drift


def test_trend_anchored_at_stated_base_year_not_reference_year(tmp_path):
    svc = tiny_service(tmp_path, extra=textwrap.dedent("""\
        projection: {method: trend, annual_change_percent: 2, base_year: 2025,
                     source: made_up}"""))
    m = rate_multipliers(svc, [2023, 2025, 2027]).groupby("year")["multiplier"].first()
    assert m[2023] == 1.0 and m[2025] == 1.0  # no silent 1.02^(2025 - 2020) jump
    assert m[2027] == pytest.approx(1.02 ** 2)


def test_trend_without_base_year_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="base_year"):
        tiny_service(tmp_path, extra="projection: {method: trend, annual_change_percent: 2, "
                     "source: made_up}")


def test_nordpred_projection_scales_rates_by_the_projected_change(tmp_path):
    groups = [f"{lo}-{lo + 4}" for lo in range(0, 85, 5)] + ["85+"]
    rows = []
    for k, start in enumerate(range(1995, 2020, 5)):
        for s in ("female", "male"):
            for g, grp in enumerate(groups):
                py = 5_000_000.0
                rate = (2 + g) * 1e-5 * 1.10 ** k  # rising 10% a period
                rows.append({"sex": s, "age_band": grp, "period": f"{start}-{start + 4}",
                             "cases": round(rate * py), "person_years": py})
    pd.DataFrame(rows).to_csv(tmp_path / "periods.csv", index=False)
    svc = tiny_service(tmp_path, extra="projection: {method: nordpred, history: periods.csv}")
    m = rate_multipliers(svc, [2019, 2022, 2030]).set_index(["year", "sex", "age_band"])[
        "multiplier"]
    assert m.xs(2019, level="year").eq(1.0).all()  # inside the last observed period
    older = m.xs((2022, "male", "60-64"), level=("year", "sex", "age_band")).item()
    later = m.xs((2030, "male", "60-64"), level=("year", "sex", "age_band")).item()
    assert 1.0 < older < later  # the rise continues (damped by cuttrend)


def test_level_demand_sums_to_england(tmp_path):
    svc = load_service("bone_sarcoma")
    icb = level_demand(svc, "icb", years=[2030], draws=0)
    eng = service_demand(svc, "E92000001", years=[2030], draws=0)
    assert icb.summary["area_code"].nunique() == 42
    assert icb.summary["expected"].sum() == pytest.approx(eng.summary["expected"].item(),
                                                          rel=1e-9)


def test_south_west_two_sts_centres_now_and_2040():
    r = service_demand("soft_tissue_sarcoma", "E12000009", years="2025:2040", draws=1000,
                       seed=1)
    eng = service_demand("soft_tissue_sarcoma", "E92000001", years="2025:2040", draws=0)
    a = assess(r, n_centres=2, national=eng)
    now, later = a.headline["now"], a.headline["horizon"]
    # narrow definition: about 5.8m people x roughly 5.9 per 100,000 (older than England's
    # 5.46) = about 340 a year
    assert 300 < now["mean"] < 400 and now["mean"] < later["mean"]
    assert now["q0.025"] > 200 and now["p_viable"] == 1.0 and later["p_viable"] == 1.0
    assert ("Probability that each of the 2 sarcoma MDTs reach 100 (by allocation): 100% (yes)"
            in a.verdict)


def test_dialysis_demand_has_draws_for_every_year():
    # the dialysis model's own behaviour (parameter draws, stock-and-flow) is tested with
    # hna.prevalence; here only that demand wires it through
    r = service_demand("dialysis", "E06000001", years="2025:2027", draws=200, seed=3)
    exp = r.summary["expected"].to_numpy()
    assert 20 < exp[0] < 80  # Hartlepool: about 93,000 people, ~45 on in-centre HD
    assert r.draws_matrix().shape == (3, 200)


def test_parse_years():
    assert parse_years("2025:2027") == [2025, 2026, 2027]
    assert parse_years(2030) == [2030]
    assert parse_years("2030,2025") == [2025, 2030]
    with pytest.raises(ParameterError):
        parse_years("soon")


def test_unknown_footprint_is_a_parameter_error():
    with pytest.raises(ParameterError, match="unknown area code"):
        service_demand("bone_sarcoma", "E99999999", years=[2025], draws=0)


# ------------------------------------------------------------------ parameter uncertainty

SW = "E40000006"


def test_same_seed_gives_the_same_2025_draws_whatever_years_are_requested():
    kw = {"draws": 600, "seed": 9, "scenario": "sts_uncertain_inputs"}
    full = service_demand("soft_tissue_sarcoma", SW, years="2025:2040", **kw)
    part = service_demand("soft_tissue_sarcoma", SW, years=[2025, 2033], **kw)
    np.testing.assert_array_equal(full.draws_matrix()[0], part.draws_matrix()[0])
    np.testing.assert_array_equal(full.draws_matrix()[8], part.draws_matrix()[1])


def _sw_draws(seed):
    from hna.demand import service_demand as sd

    return sd("soft_tissue_sarcoma", SW, years="2025:2030", draws=300, seed=seed,
              scenario="sts_uncertain_inputs").draws_matrix()


def test_results_do_not_depend_on_the_worker_process():
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        remote = list(pool.map(_sw_draws, [4, 5]))
    np.testing.assert_array_equal(remote[0], _sw_draws(4))
    np.testing.assert_array_equal(remote[1], _sw_draws(5))


def test_intervals_widen_with_the_horizon_and_draws_correlate_across_years():
    r = service_demand("soft_tissue_sarcoma", SW, years="2025:2040", draws=2000, seed=1,
                       scenario="sts_uncertain_inputs")
    s = r.summary.set_index("year")
    rel = (s["q0.975"] - s["q0.025"]) / s["mean"]
    assert rel[2040] > 1.3 * rel[2025]
    m = r.draws_matrix()
    assert np.corrcoef(m[0], m[-1])[0, 1] > 0.3  # shared parameters, not independent years
    includes = " ".join(r.meta["interval_includes"])
    for word in ("Poisson", "annual_change_percent", "case_definition", "population_variant"):
        assert word in includes


def test_intervals_exceed_poisson_only_width_by_a_stated_margin():
    r = service_demand("soft_tissue_sarcoma", SW, years=[2040], draws=2000, seed=2,
                       scenario="sts_uncertain_inputs")
    row = r.summary.iloc[0]
    poisson_width = 2 * 1.96 * np.sqrt(row["expected"])  # 95% width of Poisson(E) alone
    assert row["q0.975"] - row["q0.025"] > 2.0 * poisson_width


def test_draws_zero_is_the_central_estimate_and_draw_zero_uses_central_parameters():
    kw = {"years": "2025:2040", "seed": 1, "scenario": "sts_uncertain_inputs"}
    central = service_demand("soft_tissue_sarcoma", SW, draws=0, **kw)
    r = service_demand("soft_tissue_sarcoma", SW, draws=50, **kw)
    np.testing.assert_allclose(central.summary["expected"], r.summary["expected"])
    np.testing.assert_allclose(r.rate_model.expected()[0], r.summary["expected"], rtol=1e-9)
    from hna.incidence.rate_draws import simulate_rate_model

    no_noise = simulate_rate_model(r.rate_model, 5, 1, vary=["annual_change_percent",
                                                             "case_definition"])["counts"]
    np.testing.assert_allclose(no_noise[0, :, 0], r.summary["expected"], rtol=1e-9)


def test_streamed_quantiles_equal_those_of_the_kept_draws():
    kw = {"years": "2025:2030", "draws": 500, "seed": 3, "scenario": "sts_uncertain_inputs"}
    kept = service_demand("soft_tissue_sarcoma", SW, **kw)
    streamed = service_demand("soft_tissue_sarcoma", SW, keep_draws=False, **kw)
    assert streamed.draws.empty
    cols = ["mean", "q0.025", "q0.5", "q0.975"]
    np.testing.assert_allclose(streamed.summary[cols], kept.summary[cols])


def test_too_many_draws_are_refused_before_allocating():
    with pytest.raises(ParameterError) as err:
        service_demand("soft_tissue_sarcoma", SW, years="2025:2040", draws=10**9)
    assert "GiB" in str(err.value) and err.value.field == "draws"
    with pytest.raises(ParameterError, match="limit 0.001 GiB"):
        service_demand("soft_tissue_sarcoma", SW, years=[2025], draws=5000,
                       memory_limit_gb=0.001)


def test_unknown_scenario_is_one_clear_error():
    with pytest.raises(ParameterError, match="unknown scenario"):
        service_demand("soft_tissue_sarcoma", SW, years=[2025], draws=0, scenario="nope")


def test_population_variant_scenario_uses_the_2018_projection():
    base = service_demand("soft_tissue_sarcoma", SW, years=[2040], draws=0)
    alt = service_demand("soft_tissue_sarcoma", SW, years=[2040], draws=0,
                         scenario="population_npp2018")
    direct = service_demand("soft_tissue_sarcoma", SW, years=[2040], draws=0, variant="npp2018")
    assert alt.meta["variant"] == "npp2018"
    assert alt.summary["expected"].item() == pytest.approx(direct.summary["expected"].item())
    assert alt.summary["expected"].item() != pytest.approx(base.summary["expected"].item())

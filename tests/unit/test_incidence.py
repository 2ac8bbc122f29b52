"""Tests for hna.incidence: expected cases, rate projection and Monte Carlo simulation.

Reference values are computed by hand in the comments (or from the model formula with NumPy),
never with hna itself.
"""

from __future__ import annotations

import io
import itertools

import numpy as np
import pandas as pd
import pytest

from hna import incidence
from hna.errors import DataError, ParameterError
from hna.incidence import (
    constant_rates,
    damped_drift,
    expected_cases,
    project_rates,
    rates_from_counts,
    simulate,
    trend_rates,
)
from hna.uncertainty import summarise

BANDS = ("40-44", "45-49")
SEXES = ("female", "male")
# per person-year
RATES = {("40-44", "female"): 1e-4, ("40-44", "male"): 2e-4,
         ("45-49", "female"): 3e-4, ("45-49", "male"): 5e-4}


def rates_table(**extra):
    rows = [{"age_band": b, "sex": s, "rate": r} for (b, s), r in RATES.items()]
    return pd.DataFrame(rows).assign(**extra)


def population(areas=("E06000001", "E06000002"), years=(2030,), base=10_000.0):
    """Area i, year y, cell k has base * (i + 1) * (1 + k) * (1 + 0.1 * (y - years[0]))."""
    rows = []
    for i, a in enumerate(areas):
        for y in years:
            for k, (b, s) in enumerate(itertools.product(BANDS, SEXES)):
                rows.append((a, s, b, y, base * (i + 1) * (1 + k) * (1 + 0.1 * (y - years[0]))))
    return pd.DataFrame(rows, columns=["area_code", "sex", "age_band", "year", "population"])


# ------------------------------------------------------------------------- expected cases


def test_expected_cases_hand_computed():
    # Area 1: cells (40-44 f, 40-44 m, 45-49 f, 45-49 m) = 10k, 20k, 30k, 40k people:
    # 1e-4*10k + 2e-4*20k + 3e-4*30k + 5e-4*40k = 1 + 4 + 9 + 20 = 34 cases. Area 2 doubles: 68.
    out = expected_cases(rates_table(), population())
    assert list(out.columns) == ["area_code", "sex", "age_band", "year", "cases"]
    assert np.allclose(out["cases"], [1, 4, 9, 20, 2, 8, 18, 40])
    assert np.allclose(out.groupby("area_code")["cases"].sum(), [34, 68])


def test_expected_cases_year_specific_rates():
    # 2031 rates are double the 2030 rates; 2031 population is 1.1 x 2030: 34 * 2 * 1.1.
    pop = population(areas=("E06000001",), years=(2030, 2031))
    rates = pd.concat([rates_table(year=2030), rates_table(year=2031)], ignore_index=True)
    rates.loc[rates["year"] == 2031, "rate"] *= 2
    out = expected_cases(rates, pop).groupby("year")["cases"].sum()
    assert np.allclose(out.to_numpy(), [34.0, 34.0 * 2 * 1.1])


def test_expected_cases_area_specific_rates():
    # Area 2 has rates 10x area 1's: totals 34 and 68 * 10.
    rates = pd.concat([rates_table(area_code="E06000001"), rates_table(area_code="E06000002")],
                      ignore_index=True)
    rates.loc[rates["area_code"] == "E06000002", "rate"] *= 10
    out = expected_cases(rates, population()).groupby("area_code")["cases"].sum()
    assert np.allclose(out.to_numpy(), [34.0, 680.0])


def test_missing_rate_names_band_and_sex():
    rates = rates_table().iloc[:3]  # no 45-49 male
    with pytest.raises(DataError) as err:
        expected_cases(rates, population())
    assert "age_band=45-49" in str(err.value) and "sex=male" in str(err.value)
    assert err.value.field == "rate"


def test_missing_zero_counts_cells_without_rate_as_zero():
    # Without 45-49 male (20 and 40 cases), totals are 34 - 20 = 14 and 68 - 40 = 28.
    out = expected_cases(rates_table().iloc[:3], population(), missing="zero")
    assert np.allclose(out.groupby("area_code")["cases"].sum(), [14, 28])


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [("rates", "rate", -1e-4), ("rates", "rate", np.nan),
     ("population", "population", -5.0), ("population", "population", np.nan)],
)
def test_negative_or_missing_values_rejected(table, column, value):
    rates, pop = rates_table(), population()
    target = rates if table == "rates" else pop
    target.loc[1, column] = value
    with pytest.raises(DataError) as err:
        expected_cases(rates, pop)
    assert err.value.field == column and err.value.source == table


@pytest.mark.parametrize("column", ["rate", "sex", "age_band"])
def test_missing_rate_column_rejected(column):
    with pytest.raises(DataError) as err:
        expected_cases(rates_table().drop(columns=column), population())
    assert err.value.field == column


def test_missing_population_column_rejected():
    with pytest.raises(DataError) as err:
        expected_cases(rates_table(), population().drop(columns="year"))
    assert err.value.field == "year" and err.value.source == "population"


def test_unknown_band_label_rejected():
    rates = rates_table()
    rates.loc[0, "age_band"] = "40-45"
    with pytest.raises(DataError) as err:
        expected_cases(rates, population())
    assert err.value.field == "age_band" and err.value.value == "40-45"


# ------------------------------------------------------------------------ rates from counts


def test_rates_from_counts_sums_person_years():
    # 30 cases in 40-44 women over 2019-2021; 10,000 women each year -> 30,000 person-years,
    # rate 1e-3. The counts are kept for the uncertainty.
    counts = pd.DataFrame({"age_band": ["40-44"], "sex": ["female"], "cases": [30]})
    pop = pd.DataFrame({"area_code": "E92000001", "sex": "female", "age_band": "40-44",
                        "year": [2019, 2020, 2021], "population": 10_000.0})
    out = rates_from_counts(counts, pop)
    assert out.loc[0, "person_years"] == 30_000.0
    assert out.loc[0, "cases"] == 30.0
    assert np.isclose(out.loc[0, "rate"], 1e-3)


def test_rates_from_counts_requires_person_years():
    counts = pd.DataFrame({"age_band": ["40-44"], "sex": ["male"], "cases": [3]})
    pop = population().query("sex == 'female'")
    with pytest.raises(DataError) as err:
        rates_from_counts(counts, pop)
    assert "sex=male" in str(err.value)


# ------------------------------------------------------------------------------ projection


def test_constant_rates_equal_base_every_year():
    out = constant_rates(rates_table(), [2030, 2031, 2032])
    assert len(out) == 12
    for _, group in out.groupby("year"):
        assert np.array_equal(group["rate"].to_numpy(), rates_table()["rate"].to_numpy())


def test_constant_projection_changes_cases_with_population_only():
    # Populations grow 10% a year; with constant rates cases are 34, 37.4, 40.8 in area 1.
    pop = population(areas=("E06000001",), years=(2030, 2031, 2032))
    cases = expected_cases(project_rates("constant", rates_table(), [2030, 2031, 2032]), pop)
    assert np.allclose(cases.groupby("year")["cases"].sum(), [34.0, 37.4, 40.8])


def test_constant_rates_reject_year_specific_base():
    with pytest.raises(DataError) as err:
        constant_rates(rates_table(year=2020), [2030])
    assert err.value.field == "year"


def test_damped_drift_values():
    # D(t) = sum_{k=1..t} 0.5^k: 0.5, 0.75, 0.875; inside the data D(t) = t.
    assert np.allclose(damped_drift([-1, 0, 1, 2, 3], 0.5), [-1, 0, 0.5, 0.75, 0.875])
    assert np.allclose(damped_drift([1, 5], 1.0), [1, 5])
    assert np.allclose(damped_drift([1, 5], 0.0), [0, 0])


def _trend_counts(beta=0.03, noise=False):
    """Counts with log rate = log a[cell] + beta * (year - 2019), person-years 1e6."""
    rng = np.random.default_rng(11)
    rows = []
    for (band, sex), a in RATES.items():
        for year in range(2010, 2020):
            mean = 1e6 * a * np.exp(beta * (year - 2019))
            rows.append((band, sex, year, rng.poisson(mean) if noise else mean, 1e6))
    return pd.DataFrame(rows, columns=["age_band", "sex", "year", "cases", "person_years"])


def test_trend_recovers_exact_synthetic_trend():
    # Noise-free counts: the Poisson MLE reproduces beta and the rates exactly:
    # rate(2025) = a * exp(0.03 * 6).
    out = trend_rates(_trend_counts(), [2025])
    assert np.isclose(out.attrs["beta"], 0.03, atol=1e-8)
    ref = np.array([RATES[(b, s)] for b, s in zip(out["age_band"], out["sex"], strict=True)])
    assert np.allclose(out["rate"], ref * np.exp(0.03 * 6), rtol=1e-6)


def test_trend_recovers_noisy_trend_within_standard_errors():
    out = trend_rates(_trend_counts(noise=True), [2025])
    assert abs(out.attrs["beta"] - 0.03) < 3 * out.attrs["beta_se"]


def test_trend_damping_follows_schedule():
    # damping 0.5, two years ahead: log drift 0.03 * (0.5 + 0.25).
    out = trend_rates(_trend_counts(), [2021], damping=0.5)
    f = out.query("age_band == '40-44' and sex == 'female'")["rate"].item()
    assert np.isclose(f, 1e-4 * np.exp(0.03 * 0.75), rtol=1e-6)


def test_trend_zero_damping_holds_fitted_base_rate():
    out = trend_rates(_trend_counts(), [2020, 2040], damping=0.0)
    assert np.allclose(out.groupby("year")["rate"].apply(np.asarray).iloc[0],
                       out.groupby("year")["rate"].apply(np.asarray).iloc[1])


def test_trend_cell_without_cases_projects_zero():
    counts = _trend_counts()
    counts.loc[(counts["age_band"] == "40-44") & (counts["sex"] == "female"), "cases"] = 0.0
    out = trend_rates(counts, [2025])
    assert out.query("age_band == '40-44' and sex == 'female'")["rate"].item() == 0.0
    assert np.isclose(out.attrs["beta"], 0.03, atol=1e-8)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "half"])
def test_damping_validated(bad):
    with pytest.raises(ParameterError) as err:
        trend_rates(_trend_counts(), [2025], damping=bad)
    assert err.value.field == "damping"


def test_unknown_projection_method():
    with pytest.raises(ParameterError) as err:
        project_rates("linear", rates_table(), [2030])
    assert err.value.field == "method"


def test_nordpred_is_reexported(monkeypatch):
    import sys

    import hna.incidence.nordpred  # noqa: F401 - loaded already; leaves the wrapper in place

    nordpred_module = sys.modules["hna.incidence.nordpred"]
    assert callable(incidence.nordpred) and incidence.nordpred is not nordpred_module
    calls = []
    monkeypatch.setattr(nordpred_module, "nordpred", lambda *a, **k: calls.append((a, k)) or 7)
    assert incidence.nordpred(1, x=2) == 7
    assert project_rates("nordpred", 3) == 7
    assert calls == [((1,), {"x": 2}), ((3,), {})]


# ------------------------------------------------------------------------------ simulation


def counted_rates(years=(2030, 2031, 2032)):
    """Crude rates with counts: cases c and person-years c / rate (c = 5, 20, 50, 200)."""
    base = rates_table()
    base["cases"] = [5.0, 20.0, 50.0, 200.0]
    base["person_years"] = base["cases"] / base["rate"]
    return constant_rates(base, list(years))


SIM_POP = population(areas=("E06000001", "E06000002", "E06000003"), years=(2030, 2031, 2032))


def test_same_seed_gives_byte_identical_csv():
    a = simulate(counted_rates(), SIM_POP, 300, seed=7)
    b = simulate(counted_rates(), SIM_POP, 300, seed=7)
    assert a.to_csv(index=False) == b.to_csv(index=False)


def test_different_seed_gives_different_draws():
    a = simulate(counted_rates(), SIM_POP, 300, seed=7)
    b = simulate(counted_rates(), SIM_POP, 300, seed=8)
    assert not a["cases"].equals(b["cases"])


def test_chunked_draws_equal_unchunked():
    whole = simulate(counted_rates(), SIM_POP, 1000, seed=3)
    parts = pd.concat([simulate(counted_rates(), SIM_POP, n, seed=3, start=s)
                       for s, n in [(0, 260), (260, 490), (750, 250)]])
    parts = parts.sort_values(["area_code", "year", "draw"]).reset_index(drop=True)
    buf_a, buf_b = io.StringIO(), io.StringIO()
    whole.to_csv(buf_a, index=False)
    parts.to_csv(buf_b, index=False)
    assert buf_a.getvalue() == buf_b.getvalue()


def test_draws_table_layout():
    out = simulate(counted_rates(), SIM_POP, 10, seed=1)
    assert list(out.columns) == ["area_code", "year", "draw", "cases"]
    assert len(out) == 3 * 3 * 10 and out["cases"].dtype == np.int64
    assert out["draw"].tolist()[:10] == list(range(10))


def test_quantile_columns_and_order():
    out = simulate(counted_rates(), SIM_POP, 400, seed=1,
                   quantiles=(0.025, 0.1, 0.5, 0.9, 0.975))
    assert list(out.columns) == ["area_code", "year", "expected", "mean",
                                 "q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]
    q = out[["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]].to_numpy()
    assert np.all(np.diff(q, axis=1) >= 0)


def test_quantiles_equal_summary_of_draws():
    draws = simulate(counted_rates(), SIM_POP, 500, seed=4)
    summary = simulate(counted_rates(), SIM_POP, 500, seed=4, quantiles=(0.05, 0.5, 0.95))
    ref = summarise(draws, (0.05, 0.5, 0.95), by=["area_code", "year"])
    pd.testing.assert_frame_equal(summary.drop(columns="expected"), ref)


def test_expected_column_is_rate_times_population():
    # Area 1, 2030: 34 cases (see test_expected_cases_hand_computed); 2031: 37.4.
    out = simulate(counted_rates(), SIM_POP, 10, seed=1, quantiles=(0.5,))
    assert np.allclose(out["expected"].iloc[:2], [34.0, 37.4])


def test_mean_within_monte_carlo_error_and_variance_matches_model():
    # By = () gives the grand total. Given the rate draws it is Poisson, so with
    # w_g = population of cell type g / person-years_g and G_g ~ Gamma(c_g, 1):
    # E = sum w c (= expected cases) and Var = E + sum w^2 c. Tolerance: 5 standard errors.
    rates = counted_rates()
    out = simulate(rates, SIM_POP, 20_000, seed=12, by=())
    pop_by_cell = SIM_POP.groupby(["age_band", "sex"])["population"].sum()
    first = rates[rates["year"] == 2030]
    w = np.array([pop_by_cell[(b, s)] for b, s in zip(first["age_band"], first["sex"],
                                                         strict=True)]) / first["person_years"]
    c = first["cases"].to_numpy()
    mean, var = float((w * c).sum()), float((w * w * c).sum() + (w * c).sum())
    assert abs(out["cases"].mean() - mean) < 5 * np.sqrt(var / 20_000)
    assert np.isclose(out["cases"].var(), var, rtol=0.05)


def test_fixed_rates_give_poisson_totals_and_say_so():
    # Without counts the total is Poisson(expected): variance = mean.
    out = simulate(rates_table(), population(years=(2030,)), 20_000, seed=2, by=())
    assert "fixed" in out.attrs["rate_uncertainty"]
    # expected total 34 + 68 = 102
    assert abs(out["cases"].mean() - 102) < 5 * np.sqrt(102 / 20_000)
    assert np.isclose(out["cases"].var(), 102, rtol=0.05)


def test_rate_draws_are_shared_across_areas():
    # Areas share the rate draw: Cov(Y1, Y2) = sum_g w1_g w2_g c_g > 0 (areas 1, 2, 2030).
    rates = counted_rates(years=(2030,))
    pop = population(years=(2030,))
    out = simulate(rates, pop, 20_000, seed=5)
    wide = out.pivot(index="draw", columns="area_code", values="cases").to_numpy(float)
    p1 = pop[pop["area_code"] == "E06000001"]["population"].to_numpy()
    w1 = p1 / rates["person_years"].to_numpy()
    w2 = 2 * w1
    c = rates["cases"].to_numpy()
    # w1 = (10k, 20k, 30k, 40k) / (50k, 100k, 166.7k, 400k) = (0.2, 0.2, 0.18, 0.1), w2 = 2 w1:
    # Cov = 2 * (0.04 * 5 + 0.04 * 20 + 0.0324 * 50 + 0.01 * 200) = 9.24.
    cov = float((w1 * w2 * c).sum())
    assert np.isclose(cov, 9.24)
    assert abs(np.cov(wide[:, 0], wide[:, 1])[0, 1] - cov) < 0.25 * cov


def test_jeffreys_offset_raises_mean_by_half_a_case_per_rate():
    # Mean rate (c + 0.5) / PY: total mean = sum_g pop_g (c_g + 0.5) / PY_g.
    rates = counted_rates(years=(2030,))
    pop = population(areas=("E06000001",), years=(2030,))
    out = simulate(rates, pop, 20_000, seed=9, by=(), shape_offset=0.5)
    w = pop["population"].to_numpy() / rates["person_years"].to_numpy()
    c = rates["cases"].to_numpy()
    mean, var = (w * (c + 0.5)).sum(), (w * (c + 0.5)).sum() + (w * w * (c + 0.5)).sum()
    assert abs(out["cases"].mean() - mean) < 5 * np.sqrt(var / 20_000)
    assert "Jeffreys" in out.attrs["rate_uncertainty"]


def test_counts_must_be_shared_by_years_of_a_rate():
    rates = counted_rates(years=(2030, 2031))
    rates.loc[rates["year"] == 2031, ["cases", "person_years"]] *= 2
    with pytest.raises(DataError) as err:
        simulate(rates, SIM_POP.query("year < 2032"), 10, seed=1)
    assert err.value.field == "cases"


def test_rate_must_match_counts():
    rates = counted_rates()
    rates["rate"] *= 1.5
    with pytest.raises(DataError) as err:
        simulate(rates, SIM_POP, 10, seed=1)
    assert err.value.field == "rate"


def test_trend_rate_draws_drive_simulation():
    # Draws of the trend coefficients: mean rate close to the point rate (the lognormal
    # mean exceeds it by exp(var/2) - 1, well under 2% here) and simulate uses them by draw.
    counts = _trend_counts(noise=True)
    point = trend_rates(counts, [2030])
    draws = trend_rates(counts, [2030], draws=400, seed=1)
    assert sorted(draws["draw"].unique()) == list(range(400))
    assert np.allclose(draws.groupby(["age_band", "sex"], observed=True)["rate"].mean(),
                       point.groupby(["age_band", "sex"], observed=True)["rate"].mean(),
                       rtol=0.03)
    pop = population(years=(2030,))
    whole = simulate(draws, pop, 400, seed=2)
    parts = pd.concat([simulate(draws, pop, 150, seed=2),
                       simulate(draws, pop, 250, seed=2, start=150)])
    parts = parts.sort_values(["area_code", "year", "draw"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(whole, parts)
    assert "draw" in whole.attrs["rate_uncertainty"]


def test_too_few_rate_draws_rejected():
    draws = trend_rates(_trend_counts(noise=True), [2030], draws=10, seed=1)
    with pytest.raises(DataError) as err:
        simulate(draws, population(years=(2030,)), 20, seed=1)
    assert err.value.field == "draw"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"draws": 0}, "draws"), ({"draws": 2.5}, "draws"), ({"seed": 1.5}, "seed"),
     ({"seed": "abc"}, "seed"), ({"seed": -3}, "seed"), ({"by": ("region",)}, "by"),
     ({"quantiles": (0.5, 2.0)}, "quantiles"), ({"shape_offset": -1}, "shape_offset"),
     ({"start": -1}, "start"), ({"missing": "ignore"}, "missing")],
)
def test_simulate_arguments_validated(kwargs, field):
    args = {"draws": 10, "seed": 1} | kwargs
    with pytest.raises(ParameterError) as err:
        simulate(counted_rates(), SIM_POP, **args)
    assert err.value.field == field


def test_simulate_rejects_negative_population():
    pop = SIM_POP.copy()
    pop.loc[3, "population"] = -1.0
    with pytest.raises(DataError) as err:
        simulate(counted_rates(), pop, 10, seed=1)
    assert err.value.field == "population" and err.value.value == -1.0

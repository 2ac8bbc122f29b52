"""Tests for hna.incidence.nordpred (Nordpred age-period-cohort projection, Moller et al. 2003).

Two kinds of reference:

* The nordpred R package (version 1.1) run on its own Norwegian colon cancer example; the inputs
  and outputs are copied from ``../shared/data/nordpred`` into
  ``tests/data/reference/nordpred`` (see PROVENANCE.md there), so they run in a clean clone.
* Synthetic tables whose counts are *exactly* ``person_years * rate`` for chosen model
  parameters, so the fit recovers them and the projection can be checked by hand against the
  published formula: ``rate = (A_age + D * period + P_period + C_cohort) ** 5`` with the drift
  damped by ``cumsum(1 - cuttrend)`` in future periods.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hna.errors import DataError, ParameterError
from hna.incidence.nordpred import AGE_GROUPS, WORLD_STANDARD, Power5RateLink, nordpred

REF_DIR = Path(__file__).resolve().parents[1] / "data" / "reference" / "nordpred"
needs_reference = pytest.mark.skipif(
    not (REF_DIR / "colon-men-Norway.csv").is_file(),
    reason=f"nordpred reference data not found at {REF_DIR} (sibling folder ../shared)",
)
CUT = (0, 0.25, 0.5, 0.75, 0.75)
RTOL = 1e-4


def max_rel_diff(got: pd.DataFrame, want: pd.DataFrame) -> float:
    """Largest |got - want| / |want| over cells; cells where want == 0 must be 0 too."""
    assert got.shape == want.shape
    assert [str(c) for c in got.columns] == [str(c) for c in want.columns]
    g, w = got.to_numpy(dtype=float), want.to_numpy(dtype=float)
    zero = w == 0
    assert np.all(np.abs(g[zero]) < 1e-12)
    return float(np.max(np.abs(g[~zero] - w[~zero]) / np.abs(w[~zero])))


# ---------------------------------------------------------------------------------------------
# Reference: the nordpred R package on the Norway example
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def norway() -> tuple[pd.DataFrame, pd.DataFrame]:
    if not (REF_DIR / "colon-men-Norway.csv").is_file():
        pytest.skip(f"nordpred reference data not found at {REF_DIR}")
    cases = pd.read_csv(REF_DIR / "colon-men-Norway.csv", index_col=0)
    pyr = pd.concat(
        [pd.read_csv(REF_DIR / "men-Norway.csv", index_col=0),
         pd.read_csv(REF_DIR / "men-Norway-pred.csv", index_col=0)],
        axis=1,
    )
    return cases, pyr


def expected(name: str, kind: str) -> pd.DataFrame:
    return pd.read_csv(REF_DIR / f"expected_{name}_{kind}.csv", index_col=0)


@needs_reference
def test_power5_automatic_choice_matches_r(norway):
    # R: nordpred(cases, pyr, startestage=5, startuseage=6, noperiods=4:6,
    #             cuttrend=c(0,.25,.5,.75,.75)) chose noperiod=6, recent=TRUE.
    res = nordpred(*norway, "20-24", "25-29", n_periods=(4, 5, 6), cuttrend=CUT)
    assert res.n_periods == 6
    assert res.recent is True
    assert max_rel_diff(res.predictions, expected("power5_auto", "cases")) < RTOL
    assert max_rel_diff(res.rates, expected("power5_auto", "rates_per100k")) < RTOL


@needs_reference
def test_power5_four_periods_recent_matches_r(norway):
    # R: nordpred.estimate(noperiod=4, startestage=5);
    #    nordpred.prediction(startuseage=6, cuttrend=c(0,.25,.5,.75,.75), recent=TRUE)
    res = nordpred(*norway, "20-24", "25-29", n_periods=4, cuttrend=CUT, recent=True)
    assert res.n_periods == 4 and res.recent is True and res.period_selection == {}
    name = "power5_noperiod4_recent"
    assert max_rel_diff(res.predictions, expected(name, "cases")) < RTOL
    assert max_rel_diff(res.rates, expected(name, "rates_per100k")) < RTOL


@needs_reference
def test_poisson_four_periods_recent_matches_r(norway):
    # R: the same with linkfunc="poisson".
    res = nordpred(*norway, "20-24", "25-29", n_periods=4, cuttrend=CUT, recent=True,
                   link="poisson")
    assert res.link == "poisson"
    name = "poisson_noperiod4_recent"
    assert max_rel_diff(res.predictions, expected(name, "cases")) < RTOL
    assert max_rel_diff(res.rates, expected(name, "rates_per100k")) < RTOL


@needs_reference
def test_world_standardised_rate_matches_r(norway):
    # R: nordpred.getpred(res, incidence=TRUE, standpop=wstand) for the automatic model.
    res = nordpred(*norway, "20-24", "25-29", cuttrend=CUT)
    want = pd.read_csv(REF_DIR / "expected_power5_auto_asr_world.csv", index_col=0)["x"]
    got = res.asr(WORLD_STANDARD)
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=RTOL)


@needs_reference
def test_start_ages_as_r_group_numbers(norway):
    # R's startestage=5, startuseage=6 are the groups "20-24" and "25-29".
    by_label = nordpred(*norway, "20-24", "25-29", n_periods=4, recent=True)
    by_number = nordpred(*norway, 5, 6, n_periods=4, recent=True)
    pd.testing.assert_frame_equal(by_label.predictions, by_number.predictions)
    assert by_number.start_est_age == "20-24" and by_number.start_use_age == "25-29"


# ---------------------------------------------------------------------------------------------
# Synthetic tables that follow the model exactly
# ---------------------------------------------------------------------------------------------

N_OBS = 8  # observed periods
N_FUT = 4  # future periods
PERIODS = [f"P{k}" for k in range(1, N_OBS + N_FUT + 1)]
S, U = 5, 7  # start_est_age "20-24", start_use_age "30-34" (1-based group numbers)


def birth_cohort(age: int, period: int) -> int:
    """Absolute cohort number, groups - age + period (ages and periods 1-based)."""
    return 18 - age + period


def make_table(n_use: int, link: str = "power5", seed: int = 1):
    """Cases exactly equal to pyr * rate in the fitted window (ages S..18, last n_use periods).

    Parameters: age effects A, drift D, period effects P (zero for the first and last period
    of the window), cohort effects C (zero for the oldest and youngest cohort of the window),
    all keyed by absolute age group / period / cohort number.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    first = N_OBS - n_use + 1
    ages = range(S, 19)
    cohorts = range(birth_cohort(18, first), birth_cohort(S, N_OBS) + 1)
    if link == "power5":
        A = {a: 0.05 + 0.012 * (a - S) for a in ages}
        D = 0.004
        P = {p: rng.uniform(-0.004, 0.004) for p in range(first, N_OBS + 1)}
        C = {c: rng.uniform(-0.006, 0.006) for c in cohorts}
    else:
        A = {a: -11.0 + 0.3 * (a - S) for a in ages}
        D = 0.05
        P = {p: rng.uniform(-0.05, 0.05) for p in range(first, N_OBS + 1)}
        C = {c: rng.uniform(-0.1, 0.1) for c in cohorts}
    P[first] = P[N_OBS] = 0.0
    C[min(cohorts)] = C[max(cohorts)] = 0.0
    pyr = pd.DataFrame(rng.uniform(5e5, 2e6, size=(18, N_OBS + N_FUT)),
                       index=list(AGE_GROUPS), columns=PERIODS)
    # Outside the window: arbitrary counts (young ages, older periods).
    cases = pd.DataFrame(rng.integers(0, 30, size=(18, N_OBS)).astype(float),
                         index=list(AGE_GROUPS), columns=PERIODS[:N_OBS])
    for a in ages:
        for p in range(first, N_OBS + 1):
            eta = A[a] + D * p + P[p] + C[birth_cohort(a, p)]
            rate = eta**5 if link == "power5" else np.exp(eta)
            cases.iloc[a - 1, p - 1] = pyr.iloc[a - 1, p - 1] * rate
    return cases, pyr, dict(A=A, D=D, P=P, C=C)


def hand_projection(par, cases, pyr, *, link, recent, cut):
    """Projected cases from the published formula, written out independently of hna."""
    out = np.full((18, N_FUT), np.nan)
    steps = np.cumsum(1 - np.asarray(cut[:N_FUT]))
    # Recent slope: change in the linear predictor between the last two observed periods.
    slope = (par["D"] + par["P"][N_OBS] - par["P"][N_OBS - 1]) if recent else par["D"]
    youngest_used = birth_cohort(U, N_OBS)  # youngest cohort seen at start_use_age
    for a in range(1, 19):
        for j in range(1, N_FUT + 1):
            future_pyr = pyr.iloc[a - 1, N_OBS + j - 1]
            if a < U:  # mean crude rate of the last two observed periods
                r = np.mean(cases.iloc[a - 1, N_OBS - 2:N_OBS] / pyr.iloc[a - 1, N_OBS - 2:N_OBS])
            else:
                c = min(birth_cohort(a, N_OBS + j), youngest_used)
                eta = par["A"][a] + par["D"] * N_OBS + slope * steps[j - 1] + par["C"][c]
                r = eta**5 if link == "power5" else np.exp(eta)
            out[a - 1, j - 1] = r * future_pyr
    return out


@pytest.mark.parametrize("link", ["power5", "poisson"])
@pytest.mark.parametrize("recent", [False, True])
def test_projection_follows_published_formula(link, recent):
    cases, pyr, par = make_table(n_use=5, link=link)
    cut = (0.1, 0.3, 0.5, 0.7, 0.9)
    res = nordpred(cases, pyr, S, U, n_periods=5, cuttrend=cut, link=link, recent=recent)
    want = hand_projection(par, cases, pyr, link=link, recent=recent, cut=cut)
    np.testing.assert_allclose(res.predictions.iloc[:, N_OBS:].to_numpy(), want, rtol=1e-6)
    # Observed periods are the observed counts; rates are per 100,000 person-years.
    np.testing.assert_array_equal(res.predictions.iloc[:, :N_OBS].to_numpy(), cases.to_numpy())
    np.testing.assert_allclose(res.rates.to_numpy(),
                               res.predictions.to_numpy() / pyr.to_numpy() * 1e5)
    assert res.cuttrend == cut[:N_FUT] and res.n_future == N_FUT
    assert res.gof_pvalue > 0.999  # exact data: deviance ~ 0


def test_coefficients_recover_generating_parameters():
    cases, pyr, par = make_table(n_use=5)
    res = nordpred(cases, pyr, S, U, n_periods=5, recent=False)
    assert res.coefficients["drift"] == pytest.approx(par["D"], rel=1e-6)
    assert res.coefficients["age[40-44]"] == pytest.approx(par["A"][9], rel=1e-6)
    assert res.coefficients[f"period[{PERIODS[N_OBS - 2]}]"] == pytest.approx(
        par["P"][N_OBS - 1], abs=1e-8)
    assert res.coefficients[f"period[{PERIODS[N_OBS - 1]}]"] == 0.0


def test_zero_cut_keeps_full_drift_and_full_cut_freezes_it():
    cases, pyr, par = make_table(n_use=5)
    full = nordpred(cases, pyr, S, U, n_periods=5, cuttrend=(0, 0, 0, 0), recent=False)
    frozen = nordpred(cases, pyr, S, U, n_periods=5, cuttrend=(1, 1, 1, 1), recent=False)
    # Oldest age group: its future cohorts were all observed, so each keeps its own effect.
    # No cut: the drift runs on (period N + j); full cut: it stops at the last period N.
    a = 18
    for j in range(1, N_FUT + 1):
        c = birth_cohort(a, N_OBS + j)
        eta_full = par["A"][a] + par["D"] * (N_OBS + j) + par["C"][c]
        eta_frozen = par["A"][a] + par["D"] * N_OBS + par["C"][c]
        rate_full = full.predictions.iloc[a - 1, N_OBS + j - 1] / pyr.iloc[a - 1, N_OBS + j - 1]
        rate_frozen = (frozen.predictions.iloc[a - 1, N_OBS + j - 1]
                       / pyr.iloc[a - 1, N_OBS + j - 1])
        assert rate_full == pytest.approx(eta_full**5, rel=1e-6)
        assert rate_frozen == pytest.approx(eta_frozen**5, rel=1e-6)


def test_young_ages_use_mean_rate_of_last_two_periods():
    cases, pyr, _ = make_table(n_use=5)
    res = nordpred(cases, pyr, S, U, n_periods=5)
    for a in range(1, U):
        r = (cases.iloc[a - 1, -2] / pyr.iloc[a - 1, N_OBS - 2]
             + cases.iloc[a - 1, -1] / pyr.iloc[a - 1, N_OBS - 1]) / 2
        np.testing.assert_allclose(res.predictions.iloc[a - 1, N_OBS:].to_numpy(),
                                   r * pyr.iloc[a - 1, N_OBS:].to_numpy(), rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Choices: recent trend and number of periods
# ---------------------------------------------------------------------------------------------


def loglinear_table(curvature: float):
    """Counts exactly exp(age + drift + cohort + curvature * period^2) * pyr, last 6 periods."""
    cases, pyr, _ = make_table(n_use=6, seed=4)
    first = N_OBS - 6 + 1
    for a in range(S, 19):
        for p in range(first, N_OBS + 1):
            log_rate = (-11.0 + 0.3 * (a - S) + 0.04 * p + 0.05 * (birth_cohort(a, p) % 3)
                        + curvature * ((p - first) / 5) ** 2)
            cases.iloc[a - 1, p - 1] = np.exp(log_rate) * pyr.iloc[a - 1, p - 1]
    return cases, pyr


def test_recent_chosen_when_trend_curves():
    # A bend in the period trend: the squared period term is highly significant.
    res = nordpred(*loglinear_table(curvature=0.3), S, U, n_periods=6)
    assert res.recent_pvalue < 0.05
    assert res.recent is True


def test_average_trend_chosen_when_log_linear():
    # Counts exactly log-linear in age, period and cohort: the squared term adds nothing.
    res = nordpred(*loglinear_table(curvature=0.0), S, U, n_periods=6)
    assert res.recent_pvalue > 0.99
    assert res.recent is False


def test_recent_can_be_forced():
    cases, pyr, _ = make_table(n_use=5)
    assert nordpred(cases, pyr, S, U, n_periods=5, recent=True).recent is True
    assert nordpred(cases, pyr, S, U, n_periods=5, recent=False).recent is False


def distort_period(cases: pd.DataFrame, period: int) -> pd.DataFrame:
    """Change the age pattern of one period (no APC term can absorb it)."""
    out = cases.copy()
    factor = np.linspace(0.6, 1.6, 18 - S + 1)
    out.iloc[S - 1:, period - 1] *= factor
    return out


def test_oldest_period_dropped_when_fit_is_poor():
    cases, pyr, _ = make_table(n_use=5)  # exact model over the last 5 periods
    bad = distort_period(cases, N_OBS - 5)  # the 6th-latest period does not fit
    res = nordpred(bad, pyr, S, U, n_periods=(4, 5, 6))
    assert res.n_periods == 5
    assert list(res.period_selection) == [6, 5]
    assert res.period_selection[6] < 0.01 and res.period_selection[5] > 0.99


def test_widest_base_kept_when_it_fits():
    cases, pyr, _ = make_table(n_use=6)
    res = nordpred(cases, pyr, S, U, n_periods=(4, 5, 6))
    assert res.n_periods == 6 and list(res.period_selection) == [6]


def test_smallest_candidate_used_untested_when_all_fit_poorly():
    cases, pyr, _ = make_table(n_use=6)
    bad = distort_period(cases, N_OBS - 1)  # inside every window
    res = nordpred(bad, pyr, S, U, n_periods=(4, 5, 6))
    assert res.n_periods == 4
    assert list(res.period_selection) == [6, 5]
    assert res.gof_pvalue < 0.01


def test_period_choice_uses_power5_model_for_either_link():
    # As in the R package, the goodness-of-fit test behind the choice is the power5 model's.
    cases, pyr, _ = make_table(n_use=5)
    bad = distort_period(cases, N_OBS - 5)
    p5 = nordpred(bad, pyr, S, U, n_periods=(5, 6))
    ln = nordpred(bad, pyr, S, U, n_periods=(5, 6), link="poisson")
    assert ln.period_selection == pytest.approx(p5.period_selection)
    assert ln.n_periods == p5.n_periods == 5


# ---------------------------------------------------------------------------------------------
# Age standardisation and the link
# ---------------------------------------------------------------------------------------------


def test_asr_is_weighted_mean_of_age_rates():
    cases, pyr, _ = make_table(n_use=5)
    res = nordpred(cases, pyr, S, U, n_periods=5)
    one_hot = [0.0] * 18
    one_hot[10] = 1.0
    pd.testing.assert_series_equal(res.asr(one_hot), res.rates.iloc[10], check_names=False)
    # Standard population counts give the same as the weights they imply.
    counts = [w * 100_000 for w in WORLD_STANDARD]
    pd.testing.assert_series_equal(res.asr(counts), res.asr(WORLD_STANDARD))
    assert sum(WORLD_STANDARD) == pytest.approx(1.0)


@pytest.mark.parametrize("standard", [[1.0] * 17, [1.0] * 19, [-1.0] + [1.0] * 17, [0.0] * 18])
def test_asr_rejects_bad_standard(standard):
    cases, pyr, _ = make_table(n_use=5)
    res = nordpred(cases, pyr, S, U, n_periods=5)
    with pytest.raises(ParameterError, match="standard"):
        res.asr(standard)


def test_power5_link_maps_rates_through_fifth_root():
    pyr = np.array([1e5, 2e5])
    link = Power5RateLink(pyr)
    mu = np.array([32.0, 2.0])
    eta = link(mu)
    np.testing.assert_allclose(eta, (mu / pyr) ** 0.2)
    np.testing.assert_allclose(link.inverse(eta), mu)
    np.testing.assert_allclose(link.deriv(mu) * link.inverse_deriv(eta), 1.0)


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------


@pytest.fixture()
def table():
    cases, pyr, _ = make_table(n_use=5)
    return cases, pyr


def test_rejects_wrong_number_of_age_groups(table):
    cases, pyr = table
    with pytest.raises(DataError, match="18 rows"):
        nordpred(cases.iloc[:17], pyr.iloc[:17])


def test_rejects_negative_counts(table):
    cases, pyr = table
    bad = cases.copy()
    bad.iloc[3, 2] = -1
    with pytest.raises(DataError, match="negative"):
        nordpred(bad, pyr)


def test_rejects_missing_counts(table):
    cases, pyr = table
    bad = cases.copy()
    bad.iloc[3, 2] = np.nan
    with pytest.raises(DataError, match="missing"):
        nordpred(bad, pyr)


def test_rejects_nonpositive_person_years(table):
    cases, pyr = table
    bad = pyr.copy()
    bad.iloc[0, 0] = 0
    with pytest.raises(DataError, match="positive"):
        nordpred(cases, bad)


def test_rejects_person_years_without_future_periods(table):
    cases, pyr = table
    with pytest.raises(DataError, match="future"):
        nordpred(cases, pyr.iloc[:, :N_OBS])


def test_rejects_more_than_five_future_periods(table):
    cases, pyr = table
    extra = pyr.iloc[:, -2:].set_axis(["X1", "X2"], axis=1)
    with pytest.raises(DataError, match="at most 5"):
        nordpred(cases, pd.concat([pyr, extra], axis=1))


def test_rejects_mismatched_periods(table):
    cases, pyr = table
    with pytest.raises(DataError, match="observed periods"):
        nordpred(cases, pyr.iloc[:, 1:])


def test_rejects_age_groups_out_of_order(table):
    cases, pyr = table
    order = sorted(AGE_GROUPS)  # string sort puts "10-14" before "5-9"
    with pytest.raises(DataError, match="out of order"):
        nordpred(cases.loc[order], pyr.loc[order])


def test_rejects_start_use_age_below_start_est_age(table):
    with pytest.raises(ParameterError, match="start_use_age"):
        nordpred(*table, start_est_age="30-34", start_use_age="25-29")


@pytest.mark.parametrize("age", ["20-25", 0, 19, True, 5.0])
def test_rejects_unknown_start_age(table, age):
    with pytest.raises(ParameterError, match="start_est_age"):
        nordpred(*table, start_est_age=age, start_use_age="85+")


def test_rejects_unknown_link(table):
    with pytest.raises(ParameterError, match="link"):
        nordpred(*table, link="identity")


@pytest.mark.parametrize("cut", [(0, 0.25, 0.5), (0, 0.2, 0.4, 1.5), 0.5])
def test_rejects_bad_cuttrend(table, cut):
    with pytest.raises(ParameterError, match="cuttrend"):
        nordpred(*table, cuttrend=cut)


@pytest.mark.parametrize("n", [2, 9, (4, 5, 9), 4.5, ()])
def test_rejects_bad_number_of_periods(table, n):
    with pytest.raises(ParameterError, match="n_periods"):
        nordpred(*table, n_periods=n)


def test_errors_are_value_errors(table):
    # InputError subclasses ValueError, so callers catching ValueError still work.
    with pytest.raises(ValueError):
        nordpred(*table, link="log")

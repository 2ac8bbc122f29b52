"""Tests for hna.rates.

Reference values are computed independently of hna in each test: Byar's limits with explicit
arithmetic from the published formula (Breslow & Day 1987, p. 69; PHE Technical Guide
"Confidence intervals", appendix 1), exact Poisson limits with ``scipy.stats.chi2.ppf``
(appendix 2), Dobson limits from Dobson et al. (1991) as written in appendix 4, Wilson limits from
Wilson (1927), and z from ``statistics.NormalDist``. Where a published figure exists it is quoted
with its source.
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2, norm

from hna import rates
from hna.bands import AGE_BAND_DTYPE, AGE_BANDS
from hna.errors import DataError, InputError, ParameterError

ESP2013 = [5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
           7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000]  # Eurostat 2013, 90+ combined


def z_of(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def byars_by_hand(o: float, confidence: float) -> tuple[float, float]:
    """Byar's limits for a count, written out from the PHE Technical Guide, appendix 1."""
    z = z_of(confidence)
    lower = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    upper = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    return lower, upper


def exact_by_hand(o: float, confidence: float) -> tuple[float, float]:
    """Exact Poisson limits from the chi-square distribution (PHE Technical Guide, appendix 2)."""
    a = 1 - confidence
    lower = chi2.ppf(a / 2, 2 * o) / 2 if o > 0 else 0.0
    upper = chi2.ppf(1 - a / 2, 2 * o + 2) / 2
    return lower, upper


def band_table(counts, pops, **extra) -> pd.DataFrame:
    return pd.DataFrame({"age_band": list(AGE_BANDS), "deaths": counts, "pop": pops, **extra})


def dobson_by_hand(counts, pops, weights, confidence=0.95, multiplier=100_000):
    """DSR and Dobson limits, element by element (Dobson et al. 1991; PHE guide appendix 4)."""
    sw = sum(weights)
    value = sum(w * o / n for o, n, w in zip(counts, pops, weights, strict=True)) / sw
    var = sum(w * w * o / (n * n) for o, n, w in zip(counts, pops, weights, strict=True)) / sw**2
    total = sum(counts)
    ol, ou = byars_by_hand(total, confidence)
    lower = value + math.sqrt(var / total) * (ol - total)
    upper = value + math.sqrt(var / total) * (ou - total)
    return value * multiplier, lower * multiplier, upper * multiplier


COUNTS_19 = [0, 0, 1, 0, 2, 1, 3, 2, 4, 6, 9, 12, 15, 21, 30, 38, 41, 35, 22]
POPS_19 = [6100, 6300, 6000, 5800, 6400, 7100, 7300, 7000, 6600, 6900,
           7200, 6800, 6100, 5500, 4900, 3600, 2500, 1400, 700]


# ---------------------------------------------------------------------------- crude rates


def test_crude_rate_uses_byars_limits_for_65_events():
    # Reference: Byar's formula by hand (PHE Technical Guide appendix 1), O = 65, N = 10,000.
    out = rates.crude_rate(pd.DataFrame({"x": [65], "n": [10_000]}), "x", "n")
    lo, hi = byars_by_hand(65, 0.95)
    assert out.loc[0, "value"] == pytest.approx(650.0)
    assert out.loc[0, "lowercl"] == pytest.approx(lo / 10_000 * 100_000, rel=1e-12)
    assert out.loc[0, "uppercl"] == pytest.approx(hi / 10_000 * 100_000, rel=1e-12)
    assert out.loc[0, "method"] == "Byars"


def test_crude_rate_byars_matches_published_byar_gem_example():
    # Reference: Ruby gem "byar" 1.0.0 documentation (rubydoc.info/gems/byar): with z = 1.96,
    # observed 100 gives upper bound 121.628347271806 and lower(100, 90) = 0.9040199067337297,
    # i.e. a lower bound of 0.9040199067337297 * 90 events. confidence is chosen so z = 1.96.
    confidence = 2 * norm.cdf(1.96) - 1
    out = rates.crude_rate(pd.DataFrame({"x": [100], "n": [100_000]}), "x", "n",
                           confidence=confidence)
    assert out.loc[0, "uppercl"] == pytest.approx(121.628347271806, rel=1e-9)
    assert out.loc[0, "lowercl"] == pytest.approx(0.9040199067337297 * 90, rel=1e-9)


def test_crude_rate_uses_exact_limits_for_5_events():
    # Reference: scipy chi2.ppf (PHE guide appendix 2) and the published 95% Poisson limits for
    # 5 events, 1.623 to 11.668 (Garwood 1936 tables, as in Breslow & Day 1987 appendix).
    out = rates.crude_rate(pd.DataFrame({"x": [5], "n": [1_000]}), "x", "n", multiplier=1_000)
    lo, hi = exact_by_hand(5, 0.95)
    assert out.loc[0, "lowercl"] == pytest.approx(lo, rel=1e-10)
    assert out.loc[0, "uppercl"] == pytest.approx(hi, rel=1e-10)
    assert (round(lo, 3), round(hi, 3)) == (1.623, 11.668)
    assert out.loc[0, "method"] == "Exact"


def test_crude_rate_zero_events_has_lower_0_and_published_upper():
    # Reference: epitools pois.exact documentation: "When x = 0 ... pois.exact returns 3.689"
    # as the 95% upper limit; the lower limit of a zero count is 0.
    out = rates.crude_rate(pd.DataFrame({"x": [0], "n": [1]}), "x", "n", multiplier=1)
    assert out.loc[0, "lowercl"] == 0.0
    assert out.loc[0, "uppercl"] == pytest.approx(3.689, abs=5e-4)
    assert out.loc[0, "uppercl"] == pytest.approx(chi2.ppf(0.975, 2) / 2, rel=1e-10)


def test_exact_below_10_and_byars_from_10():
    # Reference: PHEindicatormethods phe_rate switches on x < 10; limits by hand for 9 and 10.
    df = pd.DataFrame({"area": ["a", "b"], "x": [9, 10], "n": [50_000, 50_000]})
    out = rates.crude_rate(df, "x", "n", by="area").set_index("area")
    assert list(out["method"]) == ["Exact", "Byars"]
    lo9, hi9 = exact_by_hand(9, 0.95)
    lo10, hi10 = byars_by_hand(10, 0.95)
    assert out.loc["a", "lowercl"] == pytest.approx(lo9 / 50_000 * 1e5, rel=1e-10)
    assert out.loc["a", "uppercl"] == pytest.approx(hi9 / 50_000 * 1e5, rel=1e-10)
    assert out.loc["b", "lowercl"] == pytest.approx(lo10 / 50_000 * 1e5, rel=1e-12)
    assert out.loc["b", "uppercl"] == pytest.approx(hi10 / 50_000 * 1e5, rel=1e-12)


def test_confidence_pair_gives_four_limit_columns():
    # Reference: PHEindicatormethods column names for confidence = c(0.95, 0.998); values from
    # Byar's formula by hand at each level.
    out = rates.crude_rate(pd.DataFrame({"x": [120], "n": [40_000]}), "x", "n",
                           confidence=(0.95, 0.998))
    assert [c for c in out.columns if "cl" in c] == [
        "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]
    assert out.loc[0, "confidence"] == "95%, 99.8%"
    for level, lo_col, hi_col in [(0.95, "lower95_0cl", "upper95_0cl"),
                                  (0.998, "lower99_8cl", "upper99_8cl")]:
        lo, hi = byars_by_hand(120, level)
        assert out.loc[0, lo_col] == pytest.approx(lo / 40_000 * 1e5, rel=1e-12)
        assert out.loc[0, hi_col] == pytest.approx(hi / 40_000 * 1e5, rel=1e-12)


def test_single_998_confidence_uses_lowercl_uppercl():
    # Reference: z for 99.8% = 3.0902 (NormalDist), Byar's formula by hand.
    out = rates.crude_rate(pd.DataFrame({"x": [30], "n": [1_000]}), "x", "n",
                           confidence=0.998, multiplier=1_000)
    lo, hi = byars_by_hand(30, 0.998)
    assert out.loc[0, "confidence"] == "99.8%"
    assert (out.loc[0, "lowercl"], out.loc[0, "uppercl"]) == (
        pytest.approx(lo, rel=1e-12), pytest.approx(hi, rel=1e-12))


def test_crude_rate_without_by_sums_the_whole_table():
    # Reference: 3 + 4 + 5 = 12 events over 6,000 person-years = 200 per 100,000.
    df = pd.DataFrame({"x": [3, 4, 5], "n": [1_000, 2_000, 3_000]})
    out = rates.crude_rate(df, "x", "n")
    assert len(out) == 1
    assert out.loc[0, "x"] == 12 and out.loc[0, "n"] == 6_000
    assert out.loc[0, "value"] == pytest.approx(200.0)


def test_crude_rate_by_two_columns_groups_and_sorts():
    # Reference: sums by hand per (area, sex).
    df = pd.DataFrame({
        "area": ["b", "a", "a", "b", "a"], "sex": ["m", "f", "f", "m", "m"],
        "x": [1, 2, 3, 4, 20], "n": [100, 200, 300, 400, 1000],
    })
    out = rates.crude_rate(df, "x", "n", by=["area", "sex"], multiplier=100)
    assert list(zip(out["area"], out["sex"], strict=True)) == [("a", "f"), ("a", "m"), ("b", "m")]
    assert list(out["x"]) == [5, 20, 5]
    assert list(out["value"]) == pytest.approx([1.0, 2.0, 1.0])


def test_crude_rate_statistic_names_the_multiplier():
    # Reference: PHEindicatormethods statistic text "rate per <multiplier>".
    out = rates.crude_rate(pd.DataFrame({"x": [50], "n": [5_000]}), "x", "n", multiplier=1_000)
    assert out.loc[0, "statistic"] == "rate per 1000"
    assert out.loc[0, "value"] == pytest.approx(10.0)


# ---------------------------------------------------------------------------- DSR


def test_dsr_esp2013_matches_dobson_by_hand():
    # Reference: DSR and Dobson limits by hand (Dobson et al. 1991; PHE guide appendix 4) with
    # the ESP2013 weights typed in above.
    out = rates.dsr(band_table(COUNTS_19, POPS_19), "deaths", "pop")
    value, lo, hi = dobson_by_hand(COUNTS_19, POPS_19, ESP2013)
    assert out.loc[0, "total_count"] == sum(COUNTS_19)
    assert out.loc[0, "total_pop"] == sum(POPS_19)
    assert out.loc[0, "value"] == pytest.approx(value, rel=1e-12)
    assert out.loc[0, "lowercl"] == pytest.approx(lo, rel=1e-12)
    assert out.loc[0, "uppercl"] == pytest.approx(hi, rel=1e-12)
    assert (out.loc[0, "statistic"], out.loc[0, "method"]) == ("dsr per 100000", "Dobson")


def test_dsr_equals_crude_rate_when_population_has_the_standard_shape():
    # Reference: property of direct standardisation: if n_i is proportional to w_i the DSR is
    # the crude rate sum(O)/sum(n).
    pops = [w * 3 for w in ESP2013]
    out = rates.dsr(band_table(COUNTS_19, pops), "deaths", "pop")
    assert out.loc[0, "value"] == pytest.approx(sum(COUNTS_19) / sum(pops) * 1e5, rel=1e-12)


def test_dsr_total_below_10_is_not_published():
    # Reference: PHEindicatormethods calculate_dsr sets value and limits to NA for total < 10.
    counts = [0] * 16 + [3, 3, 3]
    out = rates.dsr(band_table(counts, POPS_19), "deaths", "pop")
    assert out.loc[0, "total_count"] == 9
    assert out[["value", "lowercl", "uppercl"]].isna().all(axis=None)
    assert out.loc[0, "statistic"] == (
        "dsr per 100000 (95%, Dobson): total count < 10, not published")


def test_dsr_total_of_exactly_10_is_published():
    # Reference: Dobson by hand for total count 10 (threshold is < 10, PHE guide).
    counts = [0] * 16 + [3, 3, 4]
    out = rates.dsr(band_table(counts, POPS_19), "deaths", "pop")
    value, lo, hi = dobson_by_hand(counts, POPS_19, ESP2013)
    assert out.loc[0, ["value", "lowercl", "uppercl"]].tolist() == pytest.approx([value, lo, hi])


def test_dsr_standard_as_column_equals_bundled_esp2013():
    # Reference: the same ESP2013 weights supplied as a column give the same result.
    table = band_table(COUNTS_19, POPS_19, esp=ESP2013)
    by_col = rates.dsr(table, "deaths", "pop", standard="esp")
    bundled = rates.dsr(table, "deaths", "pop")
    pd.testing.assert_frame_equal(by_col, bundled)


def test_dsr_standard_as_series_with_custom_bands_by_hand():
    # Reference: a 3-band standard (weights 30, 50, 20) worked by hand with Dobson's formula.
    table = pd.DataFrame({"ageband": ["65+", "0-19", "20-64"], "x": [40, 5, 20],
                          "n": [2_000, 5_000, 10_000]})
    std = pd.Series({"0-19": 30, "20-64": 50, "65+": 20})
    out = rates.dsr(table, "x", "n", standard=std, band="ageband")
    value, lo, hi = dobson_by_hand([5, 20, 40], [5_000, 10_000, 2_000], [30, 50, 20])
    assert out.loc[0, ["value", "lowercl", "uppercl"]].tolist() == pytest.approx([value, lo, hi])


def test_dsr_confidence_pair_matches_single_levels():
    # Reference: Dobson by hand at 95% and 99.8%.
    out = rates.dsr(band_table(COUNTS_19, POPS_19), "deaths", "pop", confidence=(0.95, 0.998))
    _, lo95, hi95 = dobson_by_hand(COUNTS_19, POPS_19, ESP2013, 0.95)
    _, lo998, hi998 = dobson_by_hand(COUNTS_19, POPS_19, ESP2013, 0.998)
    got = out.loc[0, ["lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"]].tolist()
    assert got == pytest.approx([lo95, hi95, lo998, hi998], rel=1e-12)


def test_dsr_by_area_matches_each_area_alone():
    # Reference: Dobson by hand for each area separately; rows shuffled to show order is free.
    other = [c * 2 for c in COUNTS_19]
    table = pd.concat([band_table(COUNTS_19, POPS_19, area="E1"),
                       band_table(other, POPS_19, area="E2")], ignore_index=True)
    table = table.sample(frac=1, random_state=np.random.RandomState(3))
    out = rates.dsr(table, "deaths", "pop", by="area").set_index("area")
    for area, counts in [("E1", COUNTS_19), ("E2", other)]:
        expected = dobson_by_hand(counts, POPS_19, ESP2013)
        assert out.loc[area, ["value", "lowercl", "uppercl"]].tolist() == pytest.approx(expected)


def test_dsr_accepts_categorical_and_en_dash_band_labels():
    # Reference: hna.bands convention: '0–4' (en dash) and the categorical dtype are the same
    # bands as the plain labels, so the result is unchanged.
    plain = rates.dsr(band_table(COUNTS_19, POPS_19), "deaths", "pop")
    cat = band_table(COUNTS_19, POPS_19)
    cat["age_band"] = cat["age_band"].astype(AGE_BAND_DTYPE)
    dash = band_table(COUNTS_19, POPS_19)
    dash["age_band"] = dash["age_band"].str.replace("-", "\u2013")
    pd.testing.assert_frame_equal(rates.dsr(cat, "deaths", "pop"), plain)
    pd.testing.assert_frame_equal(rates.dsr(dash, "deaths", "pop"), plain)


# ---------------------------------------------------------------------------- ISR and israte

REF_X = [5, 40, 300]          # reference events by band
REF_N = [10_000, 20_000, 15_000]  # reference person-years by band
ISR_TABLE = pd.DataFrame({"age_band": ["young", "mid", "old"], "obs": [1, 10, 45],
                          "pop": [2_000, 3_000, 2_500]})


def expected_by_hand() -> float:
    return sum(n * x / r for n, x, r in zip([2_000, 3_000, 2_500], REF_X, REF_N, strict=True))


def test_isr_byars_by_hand():
    # Reference: E = sum(n_i X_i / N_i) and Byar's limits on O = 56 (PHE guide; calculate_ISRatio).
    table = ISR_TABLE.assign(rx=REF_X, rn=REF_N)
    out = rates.isr(table, "obs", "pop", "rx", "rn")
    e = expected_by_hand()
    lo, hi = byars_by_hand(56, 0.95)
    assert (out.loc[0, "observed"], out.loc[0, "expected"]) == (56, pytest.approx(e))
    assert out.loc[0, ["value", "lowercl", "uppercl"]].tolist() == pytest.approx(
        [56 / e, lo / e, hi / e], rel=1e-12)
    assert out.loc[0, "method"] == "Byars"
    assert out.loc[0, "statistic"] == "indirectly standardised ratio x 1"


def test_isr_exact_below_10_by_hand():
    # Reference: exact chi-square limits on O = 6 divided by E (PHE guide appendix 2).
    table = ISR_TABLE.assign(obs=[1, 2, 3], rx=REF_X, rn=REF_N)
    out = rates.isr(table, "obs", "pop", "rx", "rn", multiplier=100)
    e = expected_by_hand()
    lo, hi = exact_by_hand(6, 0.95)
    assert out.loc[0, ["value", "lowercl", "uppercl"]].tolist() == pytest.approx(
        [600 / e, lo / e * 100, hi / e * 100], rel=1e-10)
    assert out.loc[0, "method"] == "Exact"


def test_isr_reference_as_series_equals_reference_as_columns():
    # Reference: the same reference data given as vectors keyed by band.
    table = ISR_TABLE.assign(rx=REF_X, rn=REF_N)
    as_cols = rates.isr(table, "obs", "pop", "rx", "rn")
    as_vec = rates.isr(ISR_TABLE, "obs", "pop",
                       pd.Series(REF_X, index=["young", "mid", "old"]),
                       pd.Series(dict(zip(["old", "mid", "young"], REF_N[::-1], strict=True))))
    pd.testing.assert_frame_equal(as_vec, as_cols)


def test_isr_by_groups_with_reference_vectors():
    # Reference: expected counts by hand per area.
    table = pd.concat([ISR_TABLE.assign(area="a"),
                       ISR_TABLE.assign(area="b", pop=[1_000, 1_000, 1_000])], ignore_index=True)
    out = rates.isr(table, "obs", "pop", pd.Series(REF_X, index=["young", "mid", "old"]),
                    pd.Series(REF_N, index=["young", "mid", "old"]), by="area")
    e_b = sum(1_000 * x / r for x, r in zip(REF_X, REF_N, strict=True))
    assert out["expected"].tolist() == pytest.approx([expected_by_hand(), e_b])


def test_israte_uses_reference_crude_rate_by_hand():
    # Reference: calculate_ISRate: value = O/E * sum(X)/sum(N) * multiplier.
    table = ISR_TABLE.assign(rx=REF_X, rn=REF_N)
    out = rates.israte(table, "obs", "pop", "rx", "rn")
    e = expected_by_hand()
    ref = sum(REF_X) / sum(REF_N) * 100_000
    lo, hi = byars_by_hand(56, 0.95)
    assert out.loc[0, "ref_rate"] == pytest.approx(ref)
    assert out.loc[0, ["value", "lowercl", "uppercl"]].tolist() == pytest.approx(
        [56 / e * ref, lo / e * ref, hi / e * ref], rel=1e-12)
    assert out.loc[0, "statistic"] == "indirectly standardised rate per 100000"


def test_israte_reference_rate_override_is_per_person():
    # Reference: reference_rate 0.004 per person-year = 400 per 100,000.
    table = ISR_TABLE.assign(rx=REF_X, rn=REF_N)
    out = rates.israte(table, "obs", "pop", "rx", "rn", reference_rate=0.004)
    assert out.loc[0, "ref_rate"] == pytest.approx(400.0)
    assert out.loc[0, "value"] == pytest.approx(56 / expected_by_hand() * 400.0)


def test_isr_confidence_pair():
    # Reference: Byar's by hand at 99.8% for O = 56.
    table = ISR_TABLE.assign(rx=REF_X, rn=REF_N)
    out = rates.isr(table, "obs", "pop", "rx", "rn", confidence=(0.95, 0.998))
    lo, hi = byars_by_hand(56, 0.998)
    e = expected_by_hand()
    assert out.loc[0, ["lower99_8cl", "upper99_8cl"]].tolist() == pytest.approx([lo / e, hi / e])


# ---------------------------------------------------------------------------- proportions


@pytest.mark.parametrize(("x", "n", "lower", "upper"), [
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombe_1998_published_intervals(x, n, lower, upper):
    # Reference: Newcombe RG (1998) Stat Med 17:857-72, Table II, method 3 (Wilson score
    # without continuity correction), to 4 decimal places.
    out = rates.proportion(pd.DataFrame({"x": [x], "n": [n]}), "x", "n")
    assert round(out.loc[0, "lowercl"], 4) == lower
    assert round(out.loc[0, "uppercl"], 4) == upper


def test_wilson_by_hand_formula():
    # Reference: Wilson (1927) formula written out (PHE guide appendix 3).
    x, n, z = 65, 100, z_of(0.95)
    root = math.sqrt(z * z + 4 * x * (1 - x / n))
    out = rates.proportion(pd.DataFrame({"x": [x], "n": [n]}), "x", "n")
    assert out.loc[0, "lowercl"] == pytest.approx((2 * x + z * z - z * root) / 2 / (n + z * z))
    assert out.loc[0, "uppercl"] == pytest.approx((2 * x + z * z + z * root) / 2 / (n + z * z))


def test_wilson_zero_numerator_has_lower_limit_zero():
    # Reference: Wilson lower limit at x = 0 is (z^2 - z*z) / ... = 0.
    out = rates.proportion(pd.DataFrame({"x": [0], "n": [50]}), "x", "n")
    assert out.loc[0, "value"] == 0.0
    assert out.loc[0, "lowercl"] == 0.0
    assert out.loc[0, "uppercl"] == pytest.approx(z_of(0.95) ** 2 / (50 + z_of(0.95) ** 2))


def test_wilson_numerator_equal_to_denominator_has_upper_limit_one():
    # Reference: Wilson upper limit at x = n is 1; lower limit n / (n + z^2) by the formula.
    out = rates.proportion(pd.DataFrame({"x": [50], "n": [50]}), "x", "n")
    assert out.loc[0, "uppercl"] == 1.0
    assert out.loc[0, "lowercl"] == pytest.approx(50 / (50 + z_of(0.95) ** 2))


def test_wilson_at_confidence_one_is_zero_to_one():
    # Reference: PHEindicatormethods wilson_lower/upper with confidence = 1 return 0 and 1.
    out = rates.proportion(pd.DataFrame({"x": [3], "n": [7]}), "x", "n", confidence=1)
    assert (out.loc[0, "lowercl"], out.loc[0, "uppercl"]) == (0.0, 1.0)


def test_proportion_as_percentage_by_group():
    # Reference: PHEindicatormethods statistic "percentage" when multiplier = 100.
    df = pd.DataFrame({"g": ["a", "a", "b"], "x": [1, 2, 5], "n": [10, 20, 10]})
    out = rates.proportion(df, "x", "n", by="g", multiplier=100)
    assert out["value"].tolist() == pytest.approx([10.0, 50.0])
    assert set(out["statistic"]) == {"percentage"}
    assert set(out["method"]) == {"Wilson"}


# ---------------------------------------------------------------------------- standard population


def test_esp2013_weights_are_the_19_eurostat_bands():
    # Reference: Eurostat (2013) ESP, 90+ combined; the weights sum to 100,000.
    w = rates.esp2013_weights()
    assert list(w.index) == list(AGE_BANDS)
    assert w.tolist() == ESP2013
    assert w.sum() == 100_000


SHARED_ESP = Path(__file__).resolve().parents[1] / "data" / "reference" / "esp2013" / "esp2013_5yr_19bands.csv"


def test_bundled_esp2013_matches_its_shared_source():
    # Reference: the source file named in hna/data/PROVENANCE_rates.md.
    src = pd.read_csv(SHARED_ESP, dtype={"ageband": str})
    w = rates.esp2013_weights()
    assert list(w.index) == src["ageband"].tolist()
    assert w.tolist() == src["esp2013_weight"].astype(float).tolist()


# ---------------------------------------------------------------------------- errors


def _raises(kind, fn, *args, match=None, **kwargs):
    with pytest.raises(kind, match=match) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, InputError)
    return info.value


def test_count_above_population_is_a_rate_above_one_per_person_year():
    # Reference: PHEindicatormethods phe_rate accepts it (test data Area12: 250 events, 220).
    out = rates.crude_rate(pd.DataFrame({"x": [11], "n": [10]}), "x", "n", multiplier=1)
    assert out["value"].iloc[0] == pytest.approx(1.1, rel=1e-15)


def test_numerator_above_denominator_is_a_data_error():
    err = _raises(DataError, rates.proportion, pd.DataFrame({"a": [3], "b": [2]}), "a", "b")
    assert err.field == "a" and "greater than b" in str(err)


def test_dsr_count_above_population_is_accepted_as_repeat_events():
    # Reference: PHEindicatormethods calculate_dsr does not require count <= population.
    counts = list(COUNTS_19)
    counts[0] = POPS_19[0] + 1
    out = rates.dsr(band_table(counts, POPS_19), "deaths", "pop")
    expected = sum(w * c / n for w, c, n in zip(ESP2013, counts, POPS_19, strict=True))
    assert out["value"].iloc[0] == pytest.approx(expected / sum(ESP2013) * 1e5, rel=1e-12)


def test_reference_count_above_reference_population_is_accepted():
    # Reference: calculate_ISRatio does not require x_ref <= n_ref (repeat events).
    table = ISR_TABLE.assign(rx=[5, 40, 30_000], rn=REF_N)
    out = rates.isr(table, "obs", "pop", "rx", "rn")
    expected = sum(n * x / r for n, x, r in zip([2_000, 3_000, 2_500], [5, 40, 30_000], REF_N,
                                                strict=True))
    assert out["expected"].iloc[0] == pytest.approx(expected, rel=1e-12)


def test_negative_count_is_a_data_error():
    err = _raises(DataError, rates.crude_rate, pd.DataFrame({"x": [1, -2], "n": [10, 10]}),
                  "x", "n", match="negative")
    assert err.field == "x" and err.value == -2


@pytest.mark.parametrize("bad", [0, -5, np.nan, None])
def test_zero_negative_or_missing_population_is_a_data_error(bad):
    df = pd.DataFrame({"x": [1, 1], "n": [10, bad]})
    err = _raises(DataError, rates.crude_rate, df, "x", "n")
    assert err.field == "n"


def test_nullable_na_population_is_a_data_error():
    df = pd.DataFrame({"x": [1, 1], "n": pd.array([10, pd.NA], dtype="Int64")})
    _raises(DataError, rates.crude_rate, df, "x", "n", match="missing")


def test_missing_count_is_a_data_error():
    df = pd.DataFrame({"x": [1.0, np.nan], "n": [10, 10]})
    _raises(DataError, rates.crude_rate, df, "x", "n", match="missing")


def test_infinite_population_is_a_data_error():
    df = pd.DataFrame({"x": [1.0], "n": [np.inf]})
    _raises(DataError, rates.crude_rate, df, "x", "n", match="infinite")


@pytest.mark.parametrize("values", [["1", "2"], [True, False]])
def test_non_numeric_count_column_is_a_data_error(values):
    err = _raises(DataError, rates.crude_rate, pd.DataFrame({"x": values, "n": [10, 10]}),
                  "x", "n", match="numeric")
    assert err.field == "x"


def test_missing_column_is_a_data_error():
    err = _raises(DataError, rates.crude_rate, pd.DataFrame({"x": [1], "n": [10]}), "x", "pop")
    assert err.field == "pop" and "not found" in str(err)


def test_missing_by_column_is_a_data_error():
    err = _raises(DataError, rates.proportion, pd.DataFrame({"x": [1], "n": [10]}), "x", "n",
                  by="area")
    assert err.field == "area"


def test_missing_band_column_is_a_data_error():
    err = _raises(DataError, rates.dsr, pd.DataFrame({"x": [1], "n": [10]}), "x", "n")
    assert err.field == "age_band"


def test_missing_standard_column_is_a_data_error():
    err = _raises(DataError, rates.dsr, band_table(COUNTS_19, POPS_19), "deaths", "pop",
                  standard="std_pop")
    assert err.field == "std_pop"


@pytest.mark.parametrize("confidence", [0.8, 95, 1.01, float("nan"), "0.95", True,
                                        (0.9, 0.95), (0.95, 0.998, 0.999), (), None])
def test_confidence_outside_range_is_a_parameter_error(confidence):
    err = _raises(ParameterError, rates.crude_rate, pd.DataFrame({"x": [1], "n": [10]}),
                  "x", "n", confidence=confidence)
    assert err.field == "confidence"


@pytest.mark.parametrize("confidence", [0.9, 1.0, [0.95, 0.998], np.array([0.95, 0.998])])
def test_confidence_at_the_edges_and_pair_as_list_are_accepted(confidence):
    out = rates.crude_rate(pd.DataFrame({"x": [20], "n": [100]}), "x", "n",
                           confidence=confidence)
    assert len(out) == 1


@pytest.mark.parametrize("multiplier", [0, -1, "100", float("inf")])
def test_bad_multiplier_is_a_parameter_error(multiplier):
    err = _raises(ParameterError, rates.crude_rate, pd.DataFrame({"x": [1], "n": [10]}),
                  "x", "n", multiplier=multiplier)
    assert err.field == "multiplier"


def test_missing_band_in_a_group_is_a_data_error():
    table = pd.concat([band_table(COUNTS_19, POPS_19, area="E1"),
                       band_table(COUNTS_19, POPS_19, area="E2").iloc[:-1]], ignore_index=True)
    err = _raises(DataError, rates.dsr, table, "deaths", "pop", by="area",
                  match="no row for 1 band")
    assert err.value == "90+" and "area='E2'" in str(err)


def test_duplicated_band_in_a_group_is_a_data_error():
    table = pd.concat([band_table(COUNTS_19, POPS_19), band_table(COUNTS_19, POPS_19)],
                      ignore_index=True)
    _raises(DataError, rates.dsr, table, "deaths", "pop", match="2 rows for band")


def test_unknown_band_label_is_a_data_error():
    table = band_table(COUNTS_19, POPS_19)
    table.loc[18, "age_band"] = "85+"
    err = _raises(DataError, rates.dsr, table, "deaths", "pop", match="band not in")
    assert err.value == "85+"


def test_missing_band_with_standard_column_is_a_data_error():
    table = pd.concat([band_table(COUNTS_19, POPS_19, area="E1", w=ESP2013),
                       band_table(COUNTS_19, POPS_19, area="E2", w=ESP2013).iloc[1:]])
    _raises(DataError, rates.dsr, table, "deaths", "pop", standard="w", by="area")


def test_band_outside_series_standard_is_a_data_error():
    table = pd.DataFrame({"age_band": ["a", "b"], "x": [10, 10], "n": [100, 100]})
    _raises(DataError, rates.dsr, table, "x", "n", standard=pd.Series({"a": 1.0, "c": 1.0}))


def test_standard_of_wrong_type_is_a_parameter_error():
    err = _raises(ParameterError, rates.dsr, band_table(COUNTS_19, POPS_19), "deaths", "pop",
                  standard=ESP2013)
    assert err.field == "standard"


def test_negative_standard_weight_is_a_parameter_error():
    table = pd.DataFrame({"age_band": ["a", "b"], "x": [10, 10], "n": [100, 100]})
    _raises(ParameterError, rates.dsr, table, "x", "n", standard=pd.Series({"a": -1, "b": 1}))


def test_reference_vectors_keyed_by_different_bands_is_a_parameter_error():
    _raises(ParameterError, rates.isr, ISR_TABLE, "obs", "pop",
            pd.Series(REF_X, index=["young", "mid", "old"]),
            pd.Series(REF_N, index=["young", "mid", "elderly"]))


def test_positional_reference_vector_is_a_parameter_error():
    _raises(ParameterError, rates.isr, ISR_TABLE, "obs", "pop", REF_X, REF_N)


def test_zero_reference_population_is_a_parameter_error():
    _raises(ParameterError, rates.isr, ISR_TABLE, "obs", "pop",
            pd.Series(REF_X, index=["young", "mid", "old"]),
            pd.Series([0, 1, 1], index=["young", "mid", "old"]))


def test_zero_expected_count_is_a_data_error():
    table = ISR_TABLE.assign(rx=[0, 0, 0], rn=REF_N)
    _raises(DataError, rates.isr, table, "obs", "pop", "rx", "rn", match="expected count")


def test_non_positive_reference_rate_is_a_parameter_error():
    table = ISR_TABLE.assign(rx=REF_X, rn=REF_N)
    err = _raises(ParameterError, rates.israte, table, "obs", "pop", "rx", "rn",
                  reference_rate=0)
    assert err.field == "reference_rate"


def test_by_column_that_is_the_count_is_a_parameter_error():
    _raises(ParameterError, rates.crude_rate, pd.DataFrame({"x": [1], "n": [10]}), "x", "n",
            by="x")


def test_data_that_is_not_a_dataframe_is_a_parameter_error():
    _raises(ParameterError, rates.crude_rate, {"x": [1], "n": [10]}, "x", "n")


def test_empty_table_is_a_data_error():
    _raises(DataError, rates.crude_rate, pd.DataFrame({"x": [], "n": []}), "x", "n")


def test_error_message_names_field_and_value():
    df = pd.DataFrame({"x": [1], "pop": [0]})
    with pytest.raises(DataError) as info:
        rates.crude_rate(df, "x", "pop")
    assert "field 'pop'" in str(info.value) and "(got 0.0)" in str(info.value)


# ------------------------------------------------------------------ PHEindicatormethods tests
# The reference's own test spreadsheets (tests/data/reference/phe/, see README.md there):
# inputs and the outputs PHEindicatormethods 2.x computed from them.
PHE = Path(__file__).resolve().parents[1] / "data" / "reference" / "phe"


def phe(name: str) -> pd.DataFrame:
    return pd.read_csv(PHE / name)


def test_crude_rate_matches_phe_rate_test_data_including_count_above_population():
    ref = phe("rate.csv").iloc[8:16]  # multiplier 100000, Area1..Area8
    ref = pd.concat([ref, phe("rate.csv").iloc[[19]]])  # Area12: 250 events in 220 person-years
    out = rates.crude_rate(ref, "Numerator", "Denominator", by="Area",
                           confidence=(0.95, 0.998))
    out = out.set_index("Area").loc[ref["Area"]]
    for col in ("value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"):
        np.testing.assert_allclose(out[col], ref[col], rtol=1e-12)
    assert list(out["method"]) == list(ref["method"])


def test_crude_rate_missing_na_gives_na_for_that_group_as_phe_rate():
    ref = phe("rate.csv").iloc[16:19]  # Area09 NA count, Area10 NA population, Area11 both
    out = rates.crude_rate(ref, "Numerator", "Denominator", by="Area", missing="na")
    assert out["value"].isna().all() and out["lowercl"].isna().all()
    assert out["uppercl"].isna().all()
    assert list(out["method"].isna()) == list(ref["method"].isna())


def test_crude_rate_na_refused_by_default_with_a_hint():
    ref = phe("rate.csv").iloc[16:17]
    err = _raises(DataError, rates.crude_rate, ref, "Numerator", "Denominator")
    assert "missing=" in str(err)


def test_crude_rate_na_in_one_row_makes_only_its_group_na():
    table = pd.DataFrame({"g": ["a", "a", "b"], "x": [1.0, np.nan, 12.0], "n": [100, 100, 50]})
    out = rates.crude_rate(table, "x", "n", by="g", missing="na").set_index("g")
    assert np.isnan(out.loc["a", "value"])
    assert out.loc["b", "value"] == pytest.approx(12 / 50 * 1e5)


def test_proportion_matches_phe_proportion_test_data():
    ref = phe("proportion.csv").iloc[:8]
    out = rates.proportion(ref, "Numerator", "Denominator", by="Area",
                           confidence=(0.95, 0.998)).set_index("Area").loc[ref["Area"]]
    for col in ("value", "lower95_0cl", "upper95_0cl", "lower99_8cl", "upper99_8cl"):
        np.testing.assert_allclose(out[col], ref[col], rtol=1e-12)


def test_proportion_value_only_without_confidence_interval():
    ref = phe("proportion.csv").iloc[:8]
    out = rates.proportion(ref, "Numerator", "Denominator", by="Area", confidence=None)
    assert not {"lowercl", "uppercl"} & set(out.columns)
    np.testing.assert_allclose(out.set_index("Area").loc[ref["Area"], "value"], ref["value"],
                               rtol=1e-14)
    assert out["confidence"].isna().all()


def test_proportion_missing_na_gives_na_as_phe_proportion():
    ref = phe("proportion.csv").iloc[16:19]
    out = rates.proportion(ref, "Numerator", "Denominator", by="Area", missing="na")
    assert out["value"].isna().all() and out["lowercl"].isna().all()


def _esp_in_band_order(table: pd.DataFrame, band: str) -> pd.Series:
    order = {b: i for i, b in enumerate(sorted(table[band].unique()))}
    return table[band].map(order).map(dict(enumerate(ESP2013)))


def test_dsr_matches_calculate_dsr_test_results():
    data = phe("dsr_isr_multiarea.csv")
    data["esp"] = data.groupby("area").cumcount().map(dict(enumerate(ESP2013)))
    out = rates.dsr(data, "count", "pop", standard="esp", by="area", band="ageband",
                    confidence=(0.95, 0.998), missing="zero").set_index("area")
    ref = phe("dsr_results.csv").iloc[4:6].set_index("area")  # per 100000, big and small
    for col in ("total_count", "value", "lower95_0cl", "upper95_0cl", "lower99_8cl",
                "upper99_8cl"):
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col], rtol=1e-12)
    assert np.isnan(out.loc["testdata_tiny", "value"])  # 9 events: not published


def _nonindependent() -> pd.DataFrame:
    """The reference's pivot of its non-independent test sheet (data-raw/LoadTestdata.R)."""
    wide = phe("dsr_nonindependent.csv").drop(columns="count")
    long = wide.melt(id_vars=["area", "ageband", "pop"], value_vars=["f1", "f2", "f3", "f4"],
                     var_name="freq", value_name="persons")
    long["freq"] = long["freq"].str[1:].astype(int)
    small = long["area"].isin(["testdata_nonind_dummy", "testdata_nonind_small",
                               "testdata_nonind_tiny"])
    long = long[~(small & (long["freq"] == 4))].sort_values(["area", "freq", "ageband"])
    long["esp"] = long.groupby(["area", "freq"]).cumcount().map(dict(enumerate(ESP2013)))
    return long.reset_index(drop=True)


def test_dsr_non_independent_events_matches_calculate_dsr_independent_events_false():
    out = rates.dsr(_nonindependent(), "persons", "pop", standard="esp", by="area",
                    band="ageband", confidence=(0.95, 0.998), missing="zero",
                    event_frequency="freq").set_index("area")
    ref = phe("dsr_results.csv").iloc[8:11].set_index("area")
    for col in ("total_count", "total_pop", "value", "lower95_0cl", "upper95_0cl",
                "lower99_8cl", "upper99_8cl"):
        # The spreadsheet holds the reference's output rounded to 8 decimal places.
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col], rtol=1e-9)
    assert np.isnan(out.loc["testdata_nonind_tiny", "value"])
    assert set(out["method"]) == {"Dobson, with confidence adjusted for non-independent events"}


def test_dsr_non_independent_interval_is_wider_than_independent_with_same_value():
    data = _nonindependent()
    data["events"] = data["persons"].fillna(0) * data["freq"]
    per_band = data.groupby(["area", "ageband"], as_index=False).agg(
        events=("events", "sum"), pop=("pop", "first"), esp=("esp", "first"))
    ind = rates.dsr(per_band, "events", "pop", standard="esp", by="area", band="ageband")
    non = rates.dsr(data, "persons", "pop", standard="esp", by="area", band="ageband",
                    missing="zero", event_frequency="freq")
    big = "testdata_nonind_big"
    i, n = ind.set_index("area").loc[big], non.set_index("area").loc[big]
    assert n["value"] == pytest.approx(i["value"], rel=1e-14)
    assert n["lowercl"] < i["lowercl"] and n["uppercl"] > i["uppercl"]


def test_dsr_non_independent_bands_with_different_populations_is_a_data_error():
    data = _nonindependent()
    data.loc[0, "pop"] = 1  # the reference's test_DSR_nonind_err1
    _raises(DataError, rates.dsr, data, "persons", "pop", standard="esp", by="area",
            band="ageband", missing="zero", event_frequency="freq", match="different")


def test_isr_with_a_zero_population_band_counts_it_as_zero_expected():
    # Reference: calculate_ISRatio "test n = 0" (test_ISR_results rows 15:16, refvalue 100).
    data = phe("isr_zero_population.csv")
    ref_data = phe("isr_refdata.csv")
    xr = pd.Series(ref_data["refcount"].to_numpy(), index=ref_data["Age Band"])
    nr = pd.Series(ref_data["refpop"].to_numpy(), index=ref_data["Age Band"])
    out = rates.isr(data, "count", "pop", xr, nr, by="area", multiplier=100,
                    band="ageband").set_index("area")
    ref = phe("isr_results.csv").iloc[14:16].set_index("area")
    for col in ("observed", "expected", "value"):
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col], rtol=1e-12)
    for col in ("lowercl", "uppercl"):
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col.replace("cl", "95_0cl")],
                                   rtol=1e-12)


def test_isr_missing_zero_counts_na_population_as_zero_expected():
    data = phe("isr_zero_population.csv")
    data["pop"] = data["pop"].astype(float)
    data.loc[1, "pop"] = np.nan
    ref_data = phe("isr_refdata.csv")
    xr = pd.Series(ref_data["refcount"].to_numpy(), index=ref_data["Age Band"])
    nr = pd.Series(ref_data["refpop"].to_numpy(), index=ref_data["Age Band"])
    out = rates.isr(data, "count", "pop", xr, nr, by="area", band="ageband", missing="zero")
    ref = phe("isr_results.csv").iloc[14]
    assert out.set_index("area").loc["Area1", "expected"] == pytest.approx(ref["expected"],
                                                                            rel=1e-12)
    _raises(DataError, rates.isr, data, "count", "pop", xr, nr, by="area", band="ageband")


def test_israte_matches_calculate_israte_test_results():
    data = phe("dsr_isr_multiarea.csv")
    ref_data = phe("isr_refdata.csv")
    xr = pd.Series(ref_data["refcount"].to_numpy(), index=ref_data["Age Band"])
    nr = pd.Series(ref_data["refpop"].to_numpy(), index=ref_data["Age Band"])
    out = rates.israte(data, "count", "pop", xr, nr, by="area", band="ageband",
                       confidence=(0.95, 0.998), missing="zero").set_index("area")
    ref = phe("isr_results.csv").iloc[:3].set_index("area")
    for col in ("expected", "ref_rate", "value", "lower95_0cl", "upper95_0cl", "lower99_8cl",
                "upper99_8cl"):
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col], rtol=1e-12)


def test_missing_policy_not_supported_by_a_statistic_is_a_parameter_error():
    table = pd.DataFrame({"x": [1], "n": [10]})
    err = _raises(ParameterError, rates.crude_rate, table, "x", "n", missing="zero")
    assert err.field == "missing"

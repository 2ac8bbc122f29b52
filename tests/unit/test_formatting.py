import math

import numpy as np
import pytest

from hna import formatting as f


@pytest.mark.parametrize("value, text", [
    (9116623.6, "9,116,624"), (24470, "24,470"), (461.975, "462"), (np.float64(3.4), "3"),
    (0, "0"), (None, "n/a"), (float("nan"), "n/a")])
def test_count_is_whole_number_with_separators(value, text):
    assert f.fmt_count(value) == text


def test_count_refuses_bool():
    with pytest.raises(TypeError):
        f.fmt_count(True)


@pytest.mark.parametrize("value, text", [
    (0.0, "0%"), (0.004, "<1%"), (0.01, "1%"), (0.5, "50%"), (0.99, "99%"), (0.994, ">99%"), (0.999, ">99%"),
    (1.0, "100%"), (np.float64(0.9999), ">99%"), (None, "n/a")])
def test_probability_percentages_never_round_to_certainty(value, text):
    assert f.fmt_probability(value) == text


def test_probability_outside_unit_interval_refused():
    with pytest.raises(ValueError):
        f.fmt_probability(1.2)


@pytest.mark.parametrize("value, text", [(2025, "2025"), (2025.0, "2025"), (np.int64(2030), "2030"),
                                         ("2025/26", "2025/26")])
def test_year_is_four_digits(value, text):
    assert f.fmt_year(value) == text


def test_year_fraction_refused():
    with pytest.raises(ValueError):
        f.fmt_year(2025.5)


def test_years_span_in_words():
    assert f.fmt_years([2030, 2025]) == "2025 to 2030"
    assert f.fmt_years([2025]) == "2025"


@pytest.mark.parametrize("value, text", [
    (5807517.580426, "£5.8 million"), (9005, "£9,005"), (51122, "£51 thousand"),
    (-1.25e6, "-£1.2 million"), (2.5e9, "£2.5 billion")])
def test_money_with_scale_word(value, text):
    assert f.fmt_money(value) == text


def test_money_price_year():
    assert f.fmt_money(62842, "2025/26") == "£63 thousand (2025/26 prices)"


def test_rate_stated_precision():
    assert f.fmt_rate(4.5678, 2) == "4.57"
    assert f.fmt_rate(1234.5, 0, per="per 100,000") == "1,234 per 100,000"


def test_interval_uses_quantity_format():
    assert f.fmt_interval(461.975, 545.2) == "462 to 545"
    assert f.fmt_interval(0.2, 0.999, "probability") == "20% to >99%"
    assert f.fmt_interval(1.234, 5.678, "rate", 2) == "1.23 to 5.68"
    assert f.fmt_interval(math.nan, 3) == "n/a"


def test_bool_and_list_in_words():
    assert f.fmt_bool(np.bool_(True)) == "Yes"
    assert f.fmt_bool(False) == "No"
    assert f.fmt_list(["a", "b", "c"]) == "a, b and c"
    assert f.fmt_list([]) == "none"


@pytest.mark.parametrize("name, text", [
    ("footprint_share", "Footprint share"), ("cost_gbp", "Cost GBP"), ("q0.025", "2.5% quantile"),
    ("icb_code", "ICB code"), ("Year", "Year")])
def test_humanise_column_names(name, text):
    assert f.humanise(name) == text

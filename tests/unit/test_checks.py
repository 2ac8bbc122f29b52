"""hna.checks: one rule and one message per kind of argument."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hna.checks import (
    check_choice,
    check_draws,
    check_int_list,
    check_int_range,
    check_nonnegative_finite,
    check_number,
    check_positive,
    check_probability,
)
from hna.errors import ParameterError


@pytest.mark.parametrize("bad", [0, -1, math.inf, math.nan, "x", "3", None, True, np.True_])
def test_check_positive_refuses(bad):
    with pytest.raises(ParameterError) as info:
        check_positive(bad, "minimum")
    assert info.value.field == "minimum"


def test_check_positive_returns_float():
    assert check_positive(np.int64(3), "x") == 3.0 and isinstance(check_positive(3, "x"), float)


@pytest.mark.parametrize("bad", [-1e-9, math.inf, -math.inf, math.nan, 1e400])
def test_check_nonnegative_finite_refuses(bad):
    with pytest.raises(ParameterError, match="finite"):
        check_nonnegative_finite(bad, "count")


def test_check_nonnegative_finite_accepts_zero():
    assert check_nonnegative_finite(0, "count") == 0.0


@pytest.mark.parametrize(("value", "ok"), [(0, True), (1, True), (0.5, True), (1.01, False),
                                           (-0.01, False), (math.nan, False)])
def test_check_probability_closed_interval(value, ok):
    if ok:
        assert check_probability(value, "p") == value
    else:
        with pytest.raises(ParameterError, match="probability"):
            check_probability(value, "p")


def test_check_probability_open_interval_refuses_the_ends():
    for v in (0, 1):
        with pytest.raises(ParameterError, match="exclusive"):
            check_probability(v, "level", open_interval=True)
    assert check_probability(0.8, "level", open_interval=True) == 0.8


@pytest.mark.parametrize("bad", [1.0, "3", True, np.float64(2.0), 0, 11])
def test_check_int_range_refuses(bad):
    with pytest.raises(ParameterError, match="whole number"):
        check_int_range(bad, "k", minimum=1, maximum=10)


def test_check_int_range_accepts_numpy_ints():
    assert check_int_range(np.int32(4), "k", minimum=1) == 4


def test_check_draws_one_rule_zero_means_central_estimate():
    assert check_draws(0) == 0 and check_draws(1000) == 1000
    with pytest.raises(ParameterError, match="0 = central estimate only") as info:
        check_draws(-1)
    assert info.value.field == "draws"
    with pytest.raises(ParameterError):
        check_draws(10.0)


def test_check_number_bounds_and_source_in_message():
    with pytest.raises(ParameterError, match=r"finite number >= 1 and <= 5") as info:
        check_number(6, "x", minimum=1, maximum=5, source="f.yaml")
    assert str(info.value).startswith("f.yaml")
    assert check_number(None, "x", allow_none=True) is None


def test_check_choice_lists_options():
    with pytest.raises(ParameterError, match="Use one of: a, b"):
        check_choice("c", "mode", ["a", "b"])
    assert check_choice("a", "mode", ["a", "b"]) == "a"


def test_check_int_list_sorts_and_deduplicates():
    assert check_int_list([3, 1, 3], "ks") == [1, 3]
    assert check_int_list(2, "ks") == [2]
    with pytest.raises(ParameterError, match="no values"):
        check_int_list([], "ks")
    with pytest.raises(ParameterError):
        check_int_list([1, 0], "ks")

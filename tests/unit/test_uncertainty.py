"""Tests for hna.uncertainty: seeding by blocks, rate and count draws, summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import sparse, stats

from hna import uncertainty
from hna.distributions import Distribution, parse_uncertainty, sample_parameters
from hna.errors import DataError, InputError, ParameterError
from hna.uncertainty import (
    DEFAULT_QUANTILES,
    check_quantiles,
    draw_blocks,
    gamma_rate_draws,
    mixed_poisson_draws,
    poisson_draws,
    quantile_columns,
    seed_sequence,
    summarise,
)

# ------------------------------------------------------------------------------- seeding


@pytest.mark.parametrize("bad", [1.5, -1, True, "7", None])
def test_seed_must_be_non_negative_integer(bad):
    with pytest.raises(ParameterError) as err:
        seed_sequence(bad)
    assert err.value.field == "seed"
    assert isinstance(err.value, InputError)


def test_seed_accepts_numpy_integer():
    assert seed_sequence(np.int64(5)).entropy == 5


def test_block_plan_covers_requested_draws_only():
    # draws 100..699 with blocks of 250: block 0 from draw 100 (skip 100), block 1 whole,
    # block 2 draws 500..699.
    plan = [(b.index, b.start, b.stop, b.skip) for b in draw_blocks(1, 600, start=100,
                                                                       block_size=250)]
    assert plan == [(0, 100, 250, 100), (1, 250, 500, 0), (2, 500, 700, 0)]


def test_block_seed_depends_only_on_seed_block_and_stream():
    # Reference: the SeedSequence spawn key (block, stream) built directly with NumPy.
    block = list(draw_blocks(42, 1000))[3]
    ref = np.random.SeedSequence(42, spawn_key=(3, 1)).generate_state(4)
    assert np.array_equal(block.seed(1).generate_state(4), ref)


# ------------------------------------------------------------------------ elementary draws


def test_gamma_rate_draws_match_posterior_moments():
    # Gamma(shape=c, rate=py): mean c/py, sd sqrt(c)/py. 20,000 draws: the mean's standard
    # error is sd/141, so 5 standard errors is a safe bound.
    c, py = np.array([25.0, 400.0]), np.array([1e5, 2e6])
    x = gamma_rate_draws(c, py, 20_000, np.random.default_rng(1))
    sd = np.sqrt(c) / py
    assert x.shape == (20_000, 2)
    assert np.all(np.abs(x.mean(axis=0) - c / py) < 5 * sd / np.sqrt(20_000))
    assert np.allclose(x.std(axis=0), sd, rtol=0.05)


def test_gamma_rate_draws_zero_cases():
    # shape_offset 0: no cases -> rate 0; Jeffreys (0.5): mean 0.5 / py.
    rng = np.random.default_rng(2)
    assert np.all(gamma_rate_draws([0.0], [1e4], 100, rng) == 0)
    x = gamma_rate_draws([0.0], [1e4], 20_000, rng, shape_offset=0.5)
    assert abs(x.mean() - 0.5e-4) < 5 * np.sqrt(0.5) / 1e4 / np.sqrt(20_000)


def test_gamma_rate_draws_rejects_zero_person_years():
    with pytest.raises(DataError) as err:
        gamma_rate_draws([1.0], [0.0], 10, np.random.default_rng(0))
    assert err.value.field == "person_years"


def test_poisson_draws_reject_negative_mean():
    with pytest.raises(DataError) as err:
        poisson_draws([1.0, -2.0], np.random.default_rng(0))
    assert err.value.field == "mean" and err.value.value == -2.0


# --------------------------------------------------------------------------------- engine

W = np.array([[10.0, 0.0, 2.0], [0.0, 5.0, 1.0]])  # 2 outputs x 3 rate groups
SHAPES = np.array([3.0, 0.5, 40.0])
FIXED = np.array([1.0, 0.0])


def _engine(draws, start=0, weights=W):
    return mixed_poisson_draws(FIXED, weights, SHAPES, draws=draws, seed=99, start=start)


def test_engine_chunked_equals_unchunked():
    whole = _engine(1000)
    parts = np.vstack([_engine(370, 0), _engine(500, 370), _engine(130, 870)])
    assert np.array_equal(whole, parts)


def test_engine_prefix_is_stable():
    # Asking for fewer draws gives the first draws of a longer run.
    assert np.array_equal(_engine(100), _engine(1000)[:100])


def test_engine_memory_batches_do_not_change_draws(monkeypatch):
    ref = _engine(600, start=130)
    monkeypatch.setattr(uncertainty, "_BATCH_CELLS", 7)  # 3 draws of 2 outputs per batch
    assert np.array_equal(_engine(600, start=130), ref)


def test_engine_outputs_first_is_the_transpose():
    flipped = mixed_poisson_draws(FIXED, W, SHAPES, draws=600, seed=99, start=130,
                                  outputs_first=True)
    assert np.array_equal(flipped, _engine(600, start=130).T)


def test_engine_rejects_negative_weights():
    with pytest.raises(DataError) as err:
        _engine(10, weights=-W)
    assert err.value.field == "weights"


def test_engine_sparse_weights_give_same_draws():
    assert np.array_equal(_engine(300), _engine(300, weights=sparse.csr_array(W)))


def test_engine_moments_are_poisson_gamma_mixture():
    # Y = Poisson(f + sum_g w_g G_g), G_g ~ Gamma(k_g, 1):
    # E[Y] = f + sum w k ;  Var[Y] = E[Y] + sum w^2 k   (law of total variance).
    y = _engine(40_000)
    mean = FIXED + W @ SHAPES
    var = mean + (W**2) @ SHAPES
    se = np.sqrt(var / 40_000)
    assert np.all(np.abs(y.mean(axis=0) - mean) < 5 * se)
    assert np.allclose(y.var(axis=0), var, rtol=0.05)


def test_engine_shares_rate_draws_across_outputs():
    # Outputs 0 and 1 share group 2: Cov = w_02 * w_12 * k_2 = 2 * 1 * 40 = 80.
    y = _engine(40_000).astype(float)
    cov = np.cov(y[:, 0], y[:, 1])[0, 1]
    assert abs(cov - 80.0) < 8.0


def test_engine_fixed_only_is_poisson():
    y = mixed_poisson_draws(np.array([3.0, 50.0]), draws=40_000, seed=5)
    assert np.allclose(y.mean(axis=0), [3.0, 50.0], rtol=0.02)
    assert np.allclose(y.var(axis=0), [3.0, 50.0], rtol=0.05)


def test_engine_external_factor_draws_chunk_independent():
    table = np.random.default_rng(0).gamma(2.0, 1.0, size=(600, 3))

    def factors(lo, hi):
        return table[lo:hi]

    def run(draws, start):
        return mixed_poisson_draws(FIXED, W, draws=draws, seed=3, start=start,
                                   factor_draws=factors)

    assert np.array_equal(run(600, 0), np.vstack([run(260, 0), run(340, 260)]))


# ------------------------------------------------------------------------------ summaries


def test_summarise_hand_computed_quantiles():
    # Group a: 1..5. Type-7 quantile at p: h = (n-1)p; x[floor h] + frac(h) * (next - x).
    # p=0.1 -> h=0.4 -> 1.4 ; p=0.5 -> 3 ; p=0.975 -> h=3.9 -> 4.9. Mean 3.
    # Group b: 10, 20, 30, 10, 20 -> sorted 10, 10, 20, 20, 30: median 20, mean 18.
    draws = pd.DataFrame({
        "area_code": ["a"] * 5 + ["b"] * 5,
        "draw": list(range(5)) * 2,
        "cases": [5, 3, 1, 4, 2, 10, 20, 30, 10, 20],
    })
    out = summarise(draws, (0.1, 0.5, 0.975), by=["area_code"])
    assert list(out.columns) == ["area_code", "mean", "q0.1", "q0.5", "q0.975"]
    assert out["area_code"].tolist() == ["a", "b"]
    assert np.allclose(out.loc[0, ["mean", "q0.1", "q0.5", "q0.975"]].astype(float),
                       [3.0, 1.4, 3.0, 4.9])
    assert np.isclose(out.loc[1, "mean"], 18.0) and np.isclose(out.loc[1, "q0.5"], 20.0)


def test_summarise_infers_by_and_names_default_quantiles():
    draws = pd.DataFrame({"year": [2030] * 4, "draw": range(4), "cases": [1, 2, 3, 4]})
    out = summarise(draws)
    assert list(out.columns) == ["year", "mean", *quantile_columns(DEFAULT_QUANTILES)]
    assert quantile_columns(DEFAULT_QUANTILES) == ["q0.025", "q0.1", "q0.5", "q0.9", "q0.975"]


def test_summarise_rejects_unequal_draw_counts():
    draws = pd.DataFrame({"g": ["a", "a", "b"], "draw": [0, 1, 0], "cases": [1, 2, 3]})
    with pytest.raises(DataError) as err:
        summarise(draws, (0.5,), by=["g"])
    assert err.value.field == "draw"


@pytest.mark.parametrize("bad", [(1.5,), "0.5", (0.5, 0.5), ()])
def test_quantiles_validated(bad):
    with pytest.raises(ParameterError) as err:
        check_quantiles(bad)
    assert err.value.field == "quantiles"


# ------------------------------------------------------------------ parameter distributions


def _dist(**kw):
    return parse_uncertainty({"x": {**kw, "assumption": "test"}}, source="f.yaml")["x"]


@pytest.mark.parametrize(("spec", "field", "frozen"), [
    ({"distribution": "normal", "mean": 1.0, "sd": 0.5}, "x", stats.norm(1.0, 0.5)),
    ({"distribution": "lognormal", "median": 1.0, "sd_log": 0.1}, "x",
     stats.lognorm(0.1, scale=1.0)),
    ({"distribution": "gamma", "cases": 400}, "x", stats.gamma(400, scale=1 / 400)),
    ({"distribution": "beta", "mean": 0.2, "n": 50}, "x", stats.beta(10, 40)),
    ({"distribution": "triangular", "low": 0.9, "mode": 1.0, "high": 1.2}, "x",
     stats.triang(1 / 3, loc=0.9, scale=0.3)),
    ({"distribution": "uniform", "low": 2.0, "high": 4.0}, "x", stats.uniform(2, 2)),
])
def test_parameter_draws_follow_their_distribution(spec, field, frozen):
    d = _dist(**spec)
    x = sample_parameters({field: d}, 20_000, 7, namespace="t")[field]
    # Kolmogorov-Smirnov against scipy's distribution (an independent implementation)
    assert stats.kstest(x[1:], frozen.cdf).pvalue > 1e-3
    assert x[0] == pytest.approx(d.central_value())  # draw 0 is the central value


def test_normal_from_an_interval_is_nhp_model_style():
    d = _dist(distribution="normal", interval=[1.0, 3.0])  # 95% interval
    assert d.central_value() == 2.0
    assert d.frozen().ppf(0.975) == pytest.approx(3.0)


def test_choice_draws_in_proportion_to_weights():
    d = _dist(distribution="choice", values=["npp2020", "npp2018"], weights=[0.25, 0.75])
    x = sample_parameters({"v": d}, 40_000, 3, namespace="t")["v"]
    assert x[0] == "npp2020"
    assert (x == "npp2018").mean() == pytest.approx(0.75, abs=0.01)


def test_parameter_draws_do_not_depend_on_chunks_or_other_parameters():
    a = _dist(distribution="normal", mean=0.0, sd=1.0)
    b = _dist(distribution="gamma", cases=50)
    whole = sample_parameters({"a": a, "b": b}, 1000, 11, namespace="svc")
    alone = sample_parameters({"a": a}, 1000, 11, namespace="svc")
    tail = sample_parameters({"a": a}, 400, 11, namespace="svc", start=600)
    np.testing.assert_array_equal(whole["a"], alone["a"])
    np.testing.assert_array_equal(whole["a"][600:], tail["a"])
    other = sample_parameters({"a": a}, 1000, 11, namespace="other")
    assert not np.array_equal(other["a"][1:], alone["a"][1:])


def test_changing_a_spread_keeps_common_random_numbers():
    narrow = sample_parameters({"a": _dist(distribution="normal", mean=1.0, sd=0.1)}, 500, 2,
                               namespace="s")["a"]
    wide = sample_parameters({"a": _dist(distribution="normal", mean=1.0, sd=0.3)}, 500, 2,
                             namespace="s")["a"]
    np.testing.assert_allclose(wide - 1.0, 3 * (narrow - 1.0))


@pytest.mark.parametrize(("spec", "field", "words"), [
    ({"distribution": "normal", "mean": 1.0, "sd": -0.5}, "uncertainty.x.sd", "must be >= 0"),
    ({"distribution": "beta", "mean": 1.5, "n": 10}, "uncertainty.x.mean", "probability"),
    ({"distribution": "choice", "values": ["a", "b"], "weights": [1.2, -0.2]},
     "uncertainty.x.weights", "probabilities"),
    ({"distribution": "triangular", "low": 1.0, "mode": 0.5, "high": 2.0}, "uncertainty.x",
     "low <= mode"),
    ({"distribution": "normal", "mean": 1.0, "sd": 0.5, "lower": 0.0}, "uncertainty.x.lower",
     "not respected"),
    ({"distribution": "normal", "mean": 1.0}, "uncertainty.x", "takes"),
])
def test_impossible_distributions_name_file_field_and_value(spec, field, words):
    with pytest.raises(ParameterError) as err:
        _dist(**spec)
    msg = str(err.value)
    assert msg.startswith("f.yaml") and f"field '{field}'" in msg and words in msg


def test_a_distribution_needs_a_source_or_an_assumption():
    with pytest.raises(ParameterError, match="exactly one of 'source'"):
        parse_uncertainty({"x": {"distribution": "normal", "mean": 0, "sd": 1}}, source="f")
    with pytest.raises(ParameterError, match="missing source"):
        parse_uncertainty({"x": {"distribution": "normal", "mean": 0, "sd": 1,
                                 "source": "nope"}}, source="f", sources={"a"})
    assert isinstance(_dist(distribution="normal", mean=0.0, sd=1.0), Distribution)

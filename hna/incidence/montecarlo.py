"""Seeded Monte Carlo of future counts: rate uncertainty (gamma) then Poisson variation."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from hna.errors import DataError, ParameterError
from hna.incidence.inputs import (
    _POP_KEYS,
    _check_missing_option,
    _clean_population,
    _clean_rates,
    _match_rates,
    _rate_keys,
)
from hna.uncertainty import (
    BLOCK_SIZE,
    check_draws,
    check_quantiles,
    mixed_poisson_draws,
    quantile_columns,
    seed_sequence,
    summarise_array,
)

__all__ = ["simulate"]

#: Simulations refuse to hold more draws x output groups than this (1 GiB of int64 counts;
#: a long table of draws takes about four times as much).
_MAX_CELLS = 2**27


def _check_by(by: object) -> list[str]:
    if isinstance(by, str):
        by = (by,)
    if by is None or not isinstance(by, Iterable):
        raise ParameterError("by must be a list of column names", field="by", value=by)
    cols = list(by)
    for c in cols:
        if c not in _POP_KEYS:
            raise ParameterError("unknown reporting level", field="by", value=c,
                                 hint=f"Choose from {', '.join(_POP_KEYS)}")
    if len(set(cols)) != len(cols):
        raise ParameterError("columns repeat", field="by", value=cols)
    return [c for c in _POP_KEYS if c in cols]


def simulate(  # noqa: PLR0913 - public API; settings are keyword-only
    rates: pd.DataFrame,
    population: pd.DataFrame,
    draws: int = 1000,
    *,
    seed: int | np.random.SeedSequence,
    quantiles: Sequence[float] | None = None,
    by: Sequence[str] = ("area_code", "year"),
    start: int = 0,
    shape_offset: float = 0.0,
    missing: str = "error",
    block_size: int = BLOCK_SIZE,
) -> pd.DataFrame:
    """Monte Carlo draws of future case counts, or their mean and quantiles.

    Each draw ``d``:

    1. draws the rates. With ``cases`` and ``person_years`` columns, the rate of each band x
       sex (x area, if area-specific) is drawn once from its gamma posterior
       ``Gamma(shape=cases + shape_offset, rate=person_years)`` and shared by every area and
       year (a rate is a parameter, not a per-cell quantity). With a ``draw`` column (e.g.
       from ``trend_rates(..., draws=)``), rate draw ``d`` is used. Otherwise rates are
       fixed and only Poisson variation remains; ``attrs['rate_uncertainty']`` says which;
    2. sums ``population x rate`` over the cells of each ``by`` group and draws the group's
       count from a Poisson distribution with that mean. Given the rates, cells are
       independent Poisson and a sum of independent Poisson variables is Poisson with the
       summed mean, so this has exactly the distribution of the sum of per-cell draws.

    Seeding is by blocks of ``block_size`` draws (:func:`hna.uncertainty.draw_blocks`), so
    ``simulate(draws=1000, seed=s)`` equals the concatenation of ``draws=600, start=0`` and
    ``draws=400, start=600`` (see :func:`hna.uncertainty.summarise` to summarise chunks).

    Args:
        rates: rates table (see module docstring); ``year``-specific rates are matched to the
            population's years. Counts must be the same for every year of a band x sex.
        population: ``area_code, sex, age_band, year, population``.
        draws: number of draws (>= 1).
        seed: non-negative integer (or ``SeedSequence``); required.
        quantiles: ``None`` for the long table of draws, or probabilities such as
            ``(0.025, 0.1, 0.5, 0.9, 0.975)`` for summary columns ``q0.025`` ...
        by: reporting level, any of ``area_code, sex, age_band, year`` (``()`` = one total).
        start: index of the first draw (for computing a run in chunks).
        shape_offset: 0 (default: posterior mean = crude rate) or 0.5 (Jeffreys prior).
        missing: ``'error'`` or ``'zero'`` for population cells without a rate.
        block_size: draws per seeding block; keep the default for comparable results.

    Returns:
        Draws: ``by`` columns, ``draw``, ``cases`` (int64), sorted by ``by`` then ``draw``.
        Quantiles: ``by`` columns, ``expected`` (point estimate, rate x population; with
        supplied rate draws, population x the mean of the draws used), ``mean`` (of the
        simulated counts), ``q<p>`` columns. ``attrs`` record seed, draws, start, block size,
        shape offset and how rate uncertainty was handled.
    """
    root = seed_sequence(seed)
    draws = check_draws(draws)
    if isinstance(start, bool) or not isinstance(start, numbers.Integral) or start < 0:
        raise ParameterError("must be an integer >= 0", field="start", value=start)
    block_size = check_draws(block_size, "block_size")
    qs = None if quantiles is None else check_quantiles(quantiles)
    by_cols = _check_by(by)
    _check_missing_option(missing)
    if (
        isinstance(shape_offset, bool)
        or not isinstance(shape_offset, numbers.Real)
        or not np.isfinite(shape_offset)
        or shape_offset < 0
    ):
        raise ParameterError("must be a number >= 0", field="shape_offset", value=shape_offset,
                             hint="Use 0 (crude-rate mean) or 0.5 (Jeffreys)")

    pop = _clean_population(population)
    rt = _clean_rates(rates)
    has_draws = "draw" in rt.columns
    rate_keys = _rate_keys(rt, with_draw=False)
    params = rt[rate_keys].drop_duplicates().reset_index(drop=True)  # one row per rate cell
    idx = _match_rates(params, pop, missing)
    hit = idx >= 0
    popn = pop["population"].to_numpy()

    # Output groups, numbered in sorted key order.
    if by_cols:
        codes = pop.groupby(by_cols, sort=True, observed=True).ngroup().to_numpy()
        first = np.unique(codes, return_index=True)[1]
        keys = pop[by_cols].iloc[first].reset_index(drop=True)
    else:
        codes = np.zeros(len(pop), dtype=np.int64)
        keys = pd.DataFrame(index=range(1))
    n_out = len(keys)
    if n_out * draws > _MAX_CELLS:
        raise ParameterError(
            f"{n_out} groups x {draws} draws is too large to hold in memory",
            field="by",
            value=tuple(by_cols),
            hint="Report at a coarser level, use fewer draws, or compute in chunks with start=",
        )
    if has_draws:
        available = np.unique(rt["draw"].to_numpy())
        want = np.arange(start, start + draws)
        if not np.isin(want, available).all():
            raise DataError(
                f"rates have draws {available.min()}..{available.max()}, need "
                f"{start}..{start + draws - 1}",
                source="rates",
                field="draw",
                value=len(available),
                hint="Make at least as many rate draws as simulation draws",
            )
        pos = rt.merge(params.reset_index(), on=rate_keys, how="left")
        matrix = np.full((int(available.max()) + 1, len(params)), np.nan)
        matrix[pos["draw"].to_numpy(), pos["index"].to_numpy()] = pos["rate"].to_numpy()
        # A chunk replays its first block from the block's start, so needs those draws too.
        needed = matrix[(start // block_size) * block_size:start + draws]
        if np.isnan(needed).any():
            raise DataError(
                "every rate cell needs a value in every draw (from the start of the seeding "
                "block containing the first draw)",
                source="rates",
                field="draw",
                value=len(available),
            )
        point_rate = matrix[start:start + draws].mean(axis=0)
    else:
        point_rate = rt["rate"].to_numpy()  # keys are unique, so params has rt's rows
    cell_rate = np.append(point_rate, 0.0)[idx]
    expected = np.bincount(codes, weights=popn * cell_rate, minlength=n_out)

    weights = shapes = factor_draws = None
    fixed = expected
    if has_draws:
        uncertainty = "rate draws supplied in the 'draw' column"
        weights = sparse.csr_array((popn[hit], (codes[hit], idx[hit])),
                                   shape=(n_out, len(params)))
        if n_out * len(params) <= 2**22:
            weights = weights.toarray()
        fixed = np.zeros(n_out)

        def factor_draws(lo: int, hi: int) -> np.ndarray:
            return matrix[lo:hi]

    elif "cases" in rt.columns:
        prior = {0.0: " (prior 1/rate)", 0.5: " (Jeffreys prior)"}.get(float(shape_offset), "")
        shared = ("years" if "area_code" in rt.columns else "areas and years")
        uncertainty = (
            f"gamma posterior: rate ~ Gamma(shape = cases + {shape_offset:g}, rate = "
            f"person_years){prior}, one draw per rate shared across {shared}"
        )
        gkeys = [k for k in _rate_keys(rt, with_draw=False) if k != "year"]
        grp = rt.groupby(gkeys, observed=True, sort=False)
        varies = (grp["cases"].transform("nunique") > 1) | (
            grp["person_years"].transform("nunique") > 1)
        if varies.any():
            row = rt.loc[varies, gkeys].iloc[0]
            raise DataError(
                "counts differ between years of the same rate",
                source="rates",
                field="cases",
                value=", ".join(f"{k}={row[k]}" for k in gkeys),
                hint="Rate draws are shared across years: give the base-period counts on every "
                "year's row (as constant_rates does), or drop the counts to treat rates as fixed",
            )
        implied = rt["cases"].to_numpy() / rt["person_years"].to_numpy()
        if not np.allclose(rt["rate"].to_numpy(), implied, rtol=1e-6, atol=0.0):
            bad = ~np.isclose(rt["rate"].to_numpy(), implied, rtol=1e-6, atol=0.0)
            raise DataError(
                "rate differs from cases / person_years",
                source="rates",
                field="rate",
                value=float(rt["rate"].to_numpy()[bad][0]),
                hint="Rates with counts must be crude rates (rates_from_counts); drop the counts "
                "columns to simulate other rates as fixed",
            )
        # without a draw column, params has the rows of rt in the same order
        group = grp.ngroup().to_numpy()
        n_groups = int(group.max()) + 1
        first_row = np.unique(group, return_index=True)[1]
        shapes = rt["cases"].to_numpy()[first_row] + shape_offset
        inv_py = 1.0 / rt["person_years"].to_numpy()
        g_of_pop = group[idx[hit]]
        weights = sparse.csr_array(
            (popn[hit] * inv_py[idx[hit]], (codes[hit], g_of_pop)), shape=(n_out, n_groups)
        )
        if n_out * n_groups <= 2**22:
            weights = weights.toarray()
        fixed = np.zeros(n_out)
    else:
        uncertainty = (
            "none: rates carry no counts and are treated as fixed (Poisson variation only)"
        )

    counts = mixed_poisson_draws(
        fixed, weights, shapes, draws=draws, seed=root, start=start, block_size=block_size,
        factor_draws=factor_draws, outputs_first=True,
    )  # (n_out, draws)

    attrs = {
        "seed": int(root.entropy) if isinstance(root.entropy, int) else root.entropy,
        "draws": draws,
        "start": int(start),
        "block_size": int(block_size),
        "shape_offset": float(shape_offset),
        "rate_uncertainty": uncertainty,
        "by": tuple(by_cols),
    }
    if qs is None:
        # Build columns directly: far cheaper than DataFrame.iloc on tens of millions of rows.
        rep = np.repeat(np.arange(n_out), draws)
        data: dict[str, Any] = {c: keys[c].array.take(rep) for c in by_cols}
        data["draw"] = np.tile(np.arange(start, start + draws, dtype=np.int64), n_out)
        data["cases"] = counts.ravel()  # a view: rows are groups, then draws
        out = pd.DataFrame(data, copy=False)
    else:
        stats = summarise_array(counts, qs, overwrite=True)
        out = keys.copy()
        out["expected"] = expected
        for j, name in enumerate(["mean", *quantile_columns(qs)]):
            out[name] = stats[:, j]
        attrs["quantiles"] = qs
    out.attrs = attrs
    return out

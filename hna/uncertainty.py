"""Seeded Monte Carlo building blocks: reproducible seeding, rate and count draws, summaries.

Everything random in hna goes through :class:`numpy.random.SeedSequence` with an explicit seed
(see ``docs/contributing.md``). The draws of a simulation are split into fixed-size **blocks**
(:data:`BLOCK_SIZE` draws). Block ``b`` of a run seeded with ``seed`` always gets the same child
seed, ``SeedSequence(seed, spawn_key=(b,))``, whichever process computes it and however many
other blocks exist; inside a block every independent source of randomness (rates, counts, ...)
gets its own stream ``SeedSequence(seed, spawn_key=(b, stream))``. Variates are generated
draw-major (all cells of draw 0, then all cells of draw 1, ...), so the first ``n`` draws of a
block are the same whether ``n`` or the whole block is generated. Together these make results
independent of chunking: draws ``0..999`` computed in one call equal draws ``0..499`` and
``500..999`` computed separately (even on different workers) and concatenated.

Reusable pieces:

- :func:`seed_sequence`, :func:`draw_blocks`: validated seeds and the block plan;
- :func:`gamma_rate_draws`, :func:`poisson_draws`: rate uncertainty and count noise;
- :func:`mixed_poisson_draws`: totals of Poisson cells whose means depend linearly on shared
  gamma-distributed rate factors (the engine behind :func:`hna.incidence.simulate`);
- :func:`summarise`: mean and quantiles of a long table of draws.

Formulas and choices are in ``docs/methods/incidence.md``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from hna.errors import DataError, ParameterError

__all__ = [
    "BLOCK_SIZE",
    "DEFAULT_QUANTILES",
    "DrawBlock",
    "seed_sequence",
    "draw_blocks",
    "check_draws",
    "check_quantiles",
    "quantile_columns",
    "gamma_rate_draws",
    "poisson_draws",
    "mixed_poisson_draws",
    "summarise",
    "summarise_array",
]

#: Draws per seeding block. Changing it changes the numbers produced for a given seed.
BLOCK_SIZE: int = 250

#: Quantiles reported when a caller asks for "the usual" intervals (95% and 80%, median).
DEFAULT_QUANTILES: tuple[float, ...] = (0.025, 0.1, 0.5, 0.9, 0.975)

#: Output cells (draws x outputs) per batch of Poisson means inside a block (32 MiB of float64).
_BATCH_CELLS = 2**22

# Streams inside a block used by mixed_poisson_draws.
_STREAM_RATES = 0
_STREAM_COUNTS = 1


# --------------------------------------------------------------------------------------------
# Seeds and blocks
# --------------------------------------------------------------------------------------------


def seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """Return the root :class:`~numpy.random.SeedSequence` for ``seed``.

    Args:
        seed: a non-negative integer (Python or NumPy integer) or a ``SeedSequence``.

    Raises:
        ParameterError: ``seed`` is missing, negative, boolean, a float or any other type.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ParameterError(
            "the seed must be a non-negative integer",
            field="seed",
            value=seed,
            hint="Pass an explicit integer such as seed=20240601",
        )
    if int(seed) < 0:
        raise ParameterError(
            "the seed must be a non-negative integer", field="seed", value=seed,
            hint="Pass an explicit integer such as seed=20240601",
        )
    return np.random.SeedSequence(int(seed))


def check_draws(draws: object, field: str = "draws") -> int:
    """Validate a number of draws (an integer >= 1) and return it as ``int``."""
    if isinstance(draws, bool) or not isinstance(draws, numbers.Integral) or int(draws) < 1:
        raise ParameterError(
            "the number of draws must be an integer of at least 1",
            field=field,
            value=draws,
            hint="Use e.g. draws=1000",
        )
    return int(draws)


@dataclass(frozen=True)
class DrawBlock:
    """One seeding block's share of a request for draws ``start .. stop - 1``.

    Attributes:
        index: block number ``b``; the block covers global draws
            ``b * block_size .. (b + 1) * block_size - 1``.
        start: first global draw index returned from this block.
        stop: one past the last global draw index returned from this block.
        skip: draws to generate and discard at the start of the block (``start`` minus the
            block's first draw), so the kept draws match an unchunked run.
        root: the run's root seed sequence.
    """

    index: int
    start: int
    stop: int
    skip: int
    root: np.random.SeedSequence

    @property
    def n_generate(self) -> int:
        """Draws to generate in this block (``skip`` discarded + ``stop - start`` kept)."""
        return self.skip + self.stop - self.start

    def seed(self, stream: int = 0) -> np.random.SeedSequence:
        """Seed of ``stream`` within this block: a function of (root seed, block, stream) only."""
        return np.random.SeedSequence(
            self.root.entropy, spawn_key=(*self.root.spawn_key, self.index, int(stream))
        )

    def rng(self, stream: int = 0) -> np.random.Generator:
        """A fresh generator for ``stream`` within this block."""
        return np.random.default_rng(self.seed(stream))


def draw_blocks(
    seed: int | np.random.SeedSequence,
    draws: int,
    *,
    start: int = 0,
    block_size: int = BLOCK_SIZE,
) -> Iterator[DrawBlock]:
    """Plan the blocks that produce global draws ``start .. start + draws - 1``.

    A caller generates ``block.n_generate`` draws from ``block.rng(stream)`` draw-major and
    keeps the last ``block.stop - block.start`` of them. Splitting a run into chunks at any
    draw index therefore reproduces the unchunked numbers exactly (at the cost of regenerating
    at most one partial block per chunk).
    """
    root = seed_sequence(seed)
    draws = check_draws(draws)
    if isinstance(start, bool) or not isinstance(start, numbers.Integral) or start < 0:
        raise ParameterError("the first draw index must be an integer >= 0", field="start",
                             value=start)
    block_size = check_draws(block_size, "block_size")
    stop = int(start) + draws
    first = int(start) // block_size
    last = (stop - 1) // block_size
    for b in range(first, last + 1):
        lo = max(int(start), b * block_size)
        hi = min(stop, (b + 1) * block_size)
        yield DrawBlock(index=b, start=lo, stop=hi, skip=lo - b * block_size, root=root)


# --------------------------------------------------------------------------------------------
# Elementary draws
# --------------------------------------------------------------------------------------------


def _as_nonnegative(values: object, field: str, source: str | None = None) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    bad = ~np.isfinite(arr) | (arr < 0)
    if bad.any():
        raise DataError(
            "values must be finite and non-negative",
            source=source,
            field=field,
            value=arr[bad].ravel()[0].item(),
            hint="Check the input for missing or negative values",
        )
    return arr


def gamma_rate_draws(
    cases: object,
    person_years: object,
    draws: int,
    rng: np.random.Generator,
    *,
    shape_offset: float = 0.0,
) -> np.ndarray:
    """Draws of Poisson rates from their gamma posterior given observed counts.

    With ``cases`` events observed in ``person_years`` and a prior proportional to
    ``rate ** (shape_offset - 1)``, the posterior of the rate is
    ``Gamma(shape=cases + shape_offset, rate=person_years)``. ``shape_offset=0`` (the default;
    prior ``1/rate``) gives draws whose mean is the crude rate ``cases / person_years``, and a
    rate of exactly zero when no cases were seen; ``shape_offset=0.5`` is the Jeffreys prior
    (mean ``(cases + 0.5) / person_years``).

    Args:
        cases: observed counts, shape ``(n,)`` (non-negative; need not be integers).
        person_years: exposure, same shape, strictly positive.
        draws: number of draws.
        rng: the generator to consume (``draws * n`` gamma variates, draw-major).
        shape_offset: added to ``cases`` to form the gamma shape (>= 0).

    Returns:
        Array of shape ``(draws, n)``.
    """
    draws = check_draws(draws)
    c = _as_nonnegative(cases, "cases")
    py = _as_nonnegative(person_years, "person_years")
    if c.shape != py.shape:
        raise DataError("cases and person_years must have the same shape", field="person_years",
                        value=(c.shape, py.shape))
    if (py <= 0).any():
        raise DataError("person-years must be positive", field="person_years", value=0.0,
                        hint="Drop cells with no exposure")
    if not np.isfinite(shape_offset) or shape_offset < 0:
        raise ParameterError("must be finite and >= 0", field="shape_offset", value=shape_offset)
    shape = c + shape_offset
    return rng.gamma(shape, 1.0, size=(draws, *shape.shape)) / py


def poisson_draws(mean: object, rng: np.random.Generator) -> np.ndarray:
    """Independent Poisson counts with the given means (any shape; int64 result)."""
    lam = _as_nonnegative(mean, "mean")
    return rng.poisson(lam)


# --------------------------------------------------------------------------------------------
# Engine: Poisson totals with shared gamma rate factors
# --------------------------------------------------------------------------------------------


def mixed_poisson_draws(  # noqa: PLR0913 - engine API; settings are keyword-only
    fixed_mean: object,
    weights: np.ndarray | sparse.sparray | sparse.spmatrix | None = None,
    shapes: object = None,
    *,
    draws: int,
    seed: int | np.random.SeedSequence,
    start: int = 0,
    block_size: int = BLOCK_SIZE,
    factor_draws: Callable[[int, int], np.ndarray] | None = None,
    outputs_first: bool = False,
) -> np.ndarray:
    """Draws of totals ``Y[d, o] ~ Poisson(fixed_mean[o] + sum_g weights[o, g] * G[d, g])``.

    ``G[d, g]`` are rate factors shared by every output ``o`` within draw ``d`` and
    independent between draws: ``Gamma(shapes[g], 1)`` variates, or the values returned by
    ``factor_draws(start, stop)`` (shape ``(stop - start, n_groups)``, for rate draws made
    elsewhere). Conditional on ``G``, the totals are independent Poisson: this is exact for a
    total over many independent Poisson cells, because a sum of independent Poisson variables
    is Poisson with the summed mean, so cells can be aggregated to the reporting level
    *before* sampling.

    Args:
        fixed_mean: shape ``(n_out,)``, the part of each mean without rate uncertainty.
        weights: ``(n_out, n_groups)`` dense or scipy sparse; omit when every rate is fixed.
        shapes: ``(n_groups,)`` gamma shapes (>= 0), when ``factor_draws`` is not given.
        draws: number of draws (see :func:`draw_blocks`).
        seed: the run's seed (see :func:`draw_blocks`).
        start: first global draw index (for chunked runs).
        block_size: draws per seeding block.
        factor_draws: alternative source of ``G`` (deterministic given the draw indices).
        outputs_first: return ``(n_out, draws)`` instead (same numbers, transposed), which
            suits per-output summaries and long tables sorted by output then draw.

    Returns:
        int64 array of shape ``(draws, n_out)``, row ``i`` being global draw ``start + i``.
    """
    fixed = _as_nonnegative(fixed_mean, "fixed_mean").ravel()
    n_out = fixed.size
    draws = check_draws(draws)
    if weights is not None:
        if weights.shape[0] != n_out:
            raise DataError("weights must have one row per output", field="weights",
                            value=weights.shape)
        if factor_draws is None:
            if shapes is None:
                raise ParameterError("shapes are required with weights", field="shapes")
            shapes = _as_nonnegative(shapes, "shapes").ravel()
            if shapes.size != weights.shape[1]:
                raise DataError("need one shape per weight column", field="shapes",
                                value=(shapes.size, weights.shape[1]))
        n_groups = weights.shape[1]
        if sparse.issparse(weights):
            w_sparse = sparse.csr_array(weights, dtype=float)
            _as_nonnegative(w_sparse.data, "weights")
        else:
            wt = np.ascontiguousarray(_as_nonnegative(weights, "weights").T)
            w_sparse = None
    out = np.empty((n_out, draws) if outputs_first else (draws, n_out), dtype=np.int64)
    # Means and counts are made a few draws at a time to bound temporary memory; generation
    # is sequential, so the variates do not depend on this batch size.
    batch = max(1, _BATCH_CELLS // max(n_out, 1))
    for block in draw_blocks(seed, draws, start=start, block_size=block_size):
        n = block.n_generate  # includes `skip` leading draws that are generated and dropped
        if weights is not None:
            if factor_draws is None:
                factors = block.rng(_STREAM_RATES).gamma(shapes, 1.0, size=(n, shapes.size))
            else:
                factors = np.asarray(factor_draws(block.start - block.skip, block.stop),
                                     dtype=float)
                if factors.shape != (n, n_groups):
                    raise DataError("factor draws have the wrong shape", field="factor_draws",
                                    value=factors.shape)
        rng = block.rng(_STREAM_COUNTS)
        for lo in range(0, n, batch):
            hi = min(n, lo + batch)
            if weights is None:
                means = np.broadcast_to(fixed, (hi - lo, n_out))
            elif w_sparse is not None:
                # (draws x groups) @ (groups x outputs), computed as (W @ F')' for CSR W.
                means = np.ascontiguousarray((w_sparse @ factors[lo:hi].T).T) + fixed
            else:
                means = factors[lo:hi] @ wt + fixed
            counts = rng.poisson(means)
            keep_lo, keep_hi = max(lo, block.skip), hi
            if keep_hi > keep_lo:
                first = block.start - start + keep_lo - block.skip
                if outputs_first:
                    out[:, first:first + keep_hi - keep_lo] = counts[keep_lo - lo:].T
                else:
                    out[first:first + keep_hi - keep_lo] = counts[keep_lo - lo:]
    return out


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def check_quantiles(quantiles: object) -> tuple[float, ...]:
    """Validate quantile probabilities (each in [0, 1], distinct) and return them as a tuple."""
    if isinstance(quantiles, str | bytes) or not isinstance(quantiles, Sequence | np.ndarray):
        raise ParameterError("quantiles must be a sequence of probabilities", field="quantiles",
                             value=quantiles, hint="Use e.g. quantiles=(0.025, 0.5, 0.975)")
    qs = []
    for q in quantiles:
        if isinstance(q, bool) or not isinstance(q, numbers.Real) or not 0 <= float(q) <= 1:
            raise ParameterError("each quantile must be a number in [0, 1]", field="quantiles",
                                 value=q)
        qs.append(float(q))
    if not qs or len(set(qs)) != len(qs):
        raise ParameterError("quantiles must be non-empty and distinct", field="quantiles",
                             value=tuple(quantiles))
    return tuple(qs)


def quantile_columns(quantiles: Sequence[float]) -> list[str]:
    """Column names for quantiles: ``0.025 -> 'q0.025'``, ``0.5 -> 'q0.5'``."""
    return [f"q{q:g}" for q in quantiles]


def summarise_array(
    values: np.ndarray, quantiles: Sequence[float], *, overwrite: bool = False
) -> np.ndarray:
    """Mean and quantiles along axis 1 of a ``(groups, draws)`` array.

    Quantiles use linear interpolation between order statistics (Hyndman and Fan 1996,
    definition 7; NumPy's and R's default). Returns ``(groups, 1 + len(quantiles))``.
    ``overwrite=True`` lets the quantile step reorder ``values`` in place (saves a copy).
    """
    values = np.asarray(values)
    mean = values.mean(axis=1, dtype=float)
    qs = (
        np.quantile(values, quantiles, axis=1, method="linear", overwrite_input=overwrite)
        if len(quantiles)
        else None
    )
    cols = [mean] + ([] if qs is None else list(np.atleast_2d(qs)))
    return np.column_stack(cols)


def summarise(
    draws: pd.DataFrame,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    by: Sequence[str] | None = None,
    *,
    value: str = "cases",
    draw: str = "draw",
) -> pd.DataFrame:
    """Mean and quantiles of Monte Carlo draws, one row per ``by`` group.

    Args:
        draws: long table with the ``by`` columns, a ``draw`` column and a ``value`` column.
        quantiles: probabilities in [0, 1]; columns are named ``q<p>`` (``q0.025``...).
        by: grouping columns; default every column except ``draw`` and ``value``.
        value: the column summarised.
        draw: the draw-index column (only used to infer ``by``).

    Returns:
        ``by`` columns, ``mean``, then one column per quantile, sorted by ``by``. Groups must
        all have the same number of draws.
    """
    if not isinstance(draws, pd.DataFrame):
        raise DataError("draws must be a pandas DataFrame", source="draws", value=type(draws))
    qs = check_quantiles(quantiles)
    if by is None:
        by = [c for c in draws.columns if c not in (draw, value)]
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, value] if c not in draws.columns]
    if missing:
        raise DataError("missing column", source="draws", field=missing[0],
                        hint=f"Columns present: {', '.join(map(str, draws.columns))}")
    vals = draws[value].to_numpy()
    if by:
        codes = draws.groupby(by, sort=True, observed=True, dropna=True).ngroup().to_numpy()
        if (codes < 0).any():
            raise DataError("grouping columns must not be missing", source="draws",
                            field=next(c for c in by if draws[c].isna().any()), value=None)
        # ngroup numbers groups in sorted key order; the first row of each group gives its keys
        first = np.unique(codes, return_index=True)[1]
        keys = draws[by].iloc[first].reset_index(drop=True)
        n_groups = len(keys)
        sizes = np.bincount(codes, minlength=n_groups)
        if sizes.min() != sizes.max():
            raise DataError("every group needs the same number of draws", source="draws",
                            field="draw", value=(int(sizes.min()), int(sizes.max())))
        order = np.argsort(codes, kind="stable")
        matrix = vals[order].reshape(n_groups, sizes[0])
    else:
        keys = pd.DataFrame(index=range(1))
        matrix = vals.reshape(1, -1)
    stats = summarise_array(matrix, qs)
    out = keys.copy()
    for j, name in enumerate(["mean", *quantile_columns(qs)]):
        out[name] = stats[:, j]
    return out

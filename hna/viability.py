"""Viability of centres by allocation: each draw's cases split between centres (multinomial).

With ``N_d`` cases in Monte Carlo draw ``d`` and centres with catchment shares ``s_1 .. s_k``
(from a designation, or equal when none is given), the caseloads are
``(X_1, ..., X_k) ~ Multinomial(N_d, s)``: each patient goes to centre ``i`` with probability
``s_i``, independently. Then

- ``P(every centre >= m)`` = share of draws with ``min_i X_i >= m``;
- expected smallest caseload = mean over draws of ``min_i X_i``;
- centres sustainable with probability ``level`` (default 0.8) = the largest ``k`` (equal
  shares) whose ``P(every centre >= m) >= level``.

A deterministic split (centre ``i`` gets ``s_i N_d``) would overstate viability: it ignores that
patients do not divide themselves evenly (for two centres the exact answer is binomial).
Allocations are seeded per (seed, k, key, row), so they do not depend on other years.
:mod:`hna.thresholds` uses these; see ``docs/methods/uncertainty.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import ParameterError

__all__ = ["DEFAULT_LEVEL", "allocate", "viability", "probability_centres_viable"]

_EPS = 1e-9  # so that 200 / 100 is 2 centres despite floating point

#: Probability at which "centres sustainable" is reported when k is not given.
DEFAULT_LEVEL = 0.8

#: Seed stream for allocations (kept apart from the demand streams).
_STREAM_ALLOC = 40_000


def _positive(x: Any, name: str) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ParameterError("must be a number", field=name, value=x) from None
    if not np.isfinite(v) or v <= 0:
        raise ParameterError("must be a positive number", field=name, value=x)
    return v


def _shares(n_centres: int, shares: Sequence[float] | None) -> np.ndarray:
    if isinstance(n_centres, bool) or not isinstance(n_centres, int | np.integer) or n_centres < 1:
        raise ParameterError("the number of centres must be a whole number >= 1",
                             field="n_centres", value=n_centres)
    if shares is None:
        return np.full(int(n_centres), 1.0 / n_centres)
    s = np.asarray(shares, dtype=float)
    if s.ndim != 1 or len(s) != n_centres:
        raise ParameterError("give one catchment share per centre", field="shares",
                             value=list(np.atleast_1d(s)))
    if np.any(~np.isfinite(s)) or np.any(s <= 0) or abs(s.sum() - 1.0) > 1e-6:
        raise ParameterError("catchment shares must be positive and sum to 1", field="shares",
                             value=list(s))
    return s


def _level(level: Any) -> float:
    try:
        v = float(level)
    except (TypeError, ValueError):
        raise ParameterError("must be a probability", field="level", value=level) from None
    if not 0 < v < 1:
        raise ParameterError("must be a probability strictly between 0 and 1", field="level",
                             value=level, hint="e.g. level=0.8")
    return v


def _totals(draws: Any) -> np.ndarray:
    arr = np.asarray(draws, dtype=float)
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ParameterError("no draws to compute a probability from", field="draws",
                             hint="Run the demand with draws > 0")
    if np.any(~np.isfinite(arr)) or np.any(arr < 0):
        raise ParameterError("draws must be finite and non-negative", field="draws")
    return np.rint(arr).astype(np.int64)


def allocate(totals: Any, n_centres: int | None = None, shares: Sequence[float] | None = None,
             *, seed: int, key: int = 0) -> np.ndarray:
    """Split each draw's cases between centres: ``Multinomial(N_d, shares)``.

    Args:
        totals: case counts, any shape; the last axis is the draw axis (rounded to integers).
        n_centres: number of centres (default ``len(shares)``).
        shares: catchment share of each centre (positive, summing to 1); equal if omitted.
        seed: non-negative integer; the split of row ``r`` uses the stream
            ``(seed, 40000, k, key, r)``, so it depends only on the seed, ``k``, ``key`` (e.g.
            the year) and the row.
        key: an integer that keys the stream (use the year for year-subset independence).

    Returns:
        int64 array of shape ``(*totals.shape, k)``.
    """
    if n_centres is None:
        if shares is None:
            raise ParameterError("give the number of centres or their shares",
                                 field="n_centres")
        n_centres = len(shares)
    s = _shares(n_centres, shares)
    arr = _totals(totals)
    flat = arr.reshape(-1, arr.shape[-1])
    out = np.empty((*flat.shape, len(s)), dtype=np.int64)
    from hna.uncertainty import seed_sequence

    root = seed_sequence(seed)
    for r in range(flat.shape[0]):
        ss = np.random.SeedSequence(root.entropy, spawn_key=(
            *root.spawn_key, _STREAM_ALLOC, len(s), int(key), r))
        out[r] = np.random.default_rng(ss).multinomial(flat[r], s)
    return out.reshape(*arr.shape, len(s))


def _viable_stats(row: np.ndarray, m: float, k: int, shares: Sequence[float] | None,
                  seed: int, key: int) -> tuple[float, float]:
    x = allocate(row, k, shares, seed=seed, key=key)
    smallest = x.min(axis=-1)
    return float((smallest >= m - _EPS).mean()), float(smallest.mean())


def _k_at_level(row: np.ndarray, m: float, level: float, seed: int, key: int) -> int:
    """Largest k (equal shares) with P(every centre >= m) >= level; 0 if not even one.

    Bisection on k: P(0) = 1, and P(k) = 0 for ``k > max(N) / m`` (every centre needs m), so
    the answer ``k`` satisfies ``P(k) >= level > P(k + 1)``; about log2(max N / m) allocations.
    """
    lo, hi = 0, max(1, int(np.floor(row.max() / m + _EPS))) + 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _viable_stats(row, m, mid, None, seed, key)[0] >= level:
            lo = mid
        else:
            hi = mid
    return lo


def viability(
    draws: Any,
    minimum_per_centre: float,
    n_centres: int | None = None,
    shares: Sequence[float] | None = None,
    *,
    seed: int,
    years: Sequence[int] | None = None,
    level: float = DEFAULT_LEVEL,
    split: str | None = None,
) -> pd.DataFrame:
    """Viability of centres by allocating each draw's cases between them.

    Args:
        draws: draws of total demand, ``(draws,)`` or ``(years, draws)``.
        minimum_per_centre: the critical mass ``m``.
        n_centres: centres planned; omitted -> report the largest ``k`` sustainable at
            ``level`` (equal shares) and its probabilities.
        shares: catchment shares (e.g. from a designation); equal shares when omitted.
        seed: seeds the allocation (see :func:`allocate`).
        years: one label per row (keys the streams; default 0, 1, ...).
        level: probability for "centres sustainable with <level> probability".
        split: how the shares were obtained, for the ``split`` column (default "equal
            shares (no designation given)" or "catchment shares given").

    Returns:
        One row per year: ``year, mean, centres_on_mean`` (arithmetic ``floor(mean / m)``),
        ``centres_sustainable_at_level`` (largest k with ``P >= level``; only without
        ``n_centres``), ``n_centres, p_all_viable, expected_smallest_caseload,
        mean_per_centre, level, split``.
    """
    m = _positive(minimum_per_centre, "minimum_per_centre")
    lev = _level(level)
    arr = _totals(draws)
    arr2 = arr.reshape(1, -1) if arr.ndim == 1 else arr
    ys = list(range(arr2.shape[0])) if years is None else [int(y) for y in years]
    if len(ys) != arr2.shape[0]:
        raise ParameterError("give one year per row of draws", field="years", value=len(ys))
    if shares is not None:
        n_centres = len(shares) if n_centres is None else n_centres
        _shares(n_centres, shares)
    label = split or ("equal shares (no designation given)" if shares is None
                      else "catchment shares given")
    rows = []
    for row, y in zip(arr2, ys, strict=True):
        mean = float(row.mean())
        rec: dict[str, Any] = {"year": y, "mean": mean,
                               "centres_on_mean": int(np.floor(mean / m + _EPS))}
        k = n_centres
        if k is None:
            k = _k_at_level(row, m, lev, seed, y)
            rec["centres_sustainable_at_level"] = k
            k = max(k, 1)
        p, small = _viable_stats(row, m, int(k), shares, seed, y)
        rec.update({"n_centres": int(k), "p_all_viable": p, "expected_smallest_caseload": small,
                    "mean_per_centre": mean / int(k), "level": lev, "split": label})
        rows.append(rec)
    return pd.DataFrame(rows)


def probability_centres_viable(
    draws: Any,
    minimum_per_centre: float,
    n_centres: int,
    shares: Sequence[float] | None = None,
    *,
    seed: int = 1,
    key: int = 0,
) -> Any:
    """Probability that each of ``n_centres`` centres reaches the minimum caseload.

    Each draw's cases are allocated between the centres (:func:`allocate`: multinomial on
    ``shares``, equal if omitted) and the result is the share of draws in which every centre
    gets at least ``minimum_per_centre``.

    Args:
        draws: Monte Carlo draws of total demand; the last axis is the draw axis (a 1-D array
            gives one probability, a ``(years, draws)`` array one per row).
        minimum_per_centre: the critical mass.
        n_centres: number of centres sharing the demand.
        shares: catchment share of each centre (positive, summing to 1); equal if omitted.
        seed: seeds the allocation.
        key: keys the allocation stream (e.g. the year).
    """
    m = _positive(minimum_per_centre, "minimum_per_centre")
    x = allocate(draws, n_centres, shares, seed=seed, key=key)
    out = (x.min(axis=-1) >= m - _EPS).mean(axis=-1)
    return float(out) if np.ndim(out) == 0 else out

"""Confidence limits for counts and proportions, and the bundled standard population.

Exact Poisson limits (Garwood 1936), Byar's approximation (Breslow & Day 1987, vol. II, p. 69)
and the Wilson (1927) score interval, as PHEindicatormethods ``byars_lower``/``byars_upper``,
``wilson_lower``/``wilson_upper``; numpy in, numpy out (NaN in gives NaN out).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

__all__ = [
    "EXACT_BELOW",
    "byars_lower",
    "byars_upper",
    "exact_lower",
    "exact_upper",
    "wilson_lower",
    "wilson_upper",
    "esp2013_weights",
]

#: Counts below this use exact Poisson limits; counts at or above it use Byar's approximation.
EXACT_BELOW = 10


# --------------------------------------------------------------------------------------------
# Confidence limits for counts and proportions (numpy in, numpy out)
# --------------------------------------------------------------------------------------------


def _z(confidence: float) -> float:
    """Two-sided standard normal quantile: z = Phi^-1(c + (1 - c)/2) (1.959964 for 95%)."""
    return float(special.ndtri(confidence + (1.0 - confidence) / 2.0))


def byars_lower(x: Any, confidence: float = 0.95) -> np.ndarray:
    """Byar's approximate lower confidence limit for a Poisson count.

    ``O_L = x (1 - 1/(9x) - z/(3 sqrt(x)))^3`` with ``z = Phi^-1((1 + c)/2)`` (Byar, unpublished,
    1977, in Breslow NE & Day NE, *Statistical Methods in Cancer Research vol. II*, IARC 1987,
    p. 69; PHE Technical Guide "Confidence intervals", appendix 1). The cubed term is floored at
    zero, so the limit is 0 where the approximation would go negative (x = 0, or c = 1);
    PHEindicatormethods returns NA there. Byar's method is only used here for counts >= 10.

    Args:
        x: observed counts (events), array-like, >= 0.
        confidence: two-sided confidence level in [0.9, 1].

    Returns:
        Lower limits for the count (events), float array shaped like ``x``.
    """
    x = np.asarray(x, dtype=float)
    z = _z(confidence)
    with np.errstate(divide="ignore", invalid="ignore"):
        base = 1.0 - 1.0 / (9.0 * x) - z / (3.0 * np.sqrt(x))
    return x * np.clip(base, 0.0, None) ** 3


def byars_upper(x: Any, confidence: float = 0.95) -> np.ndarray:
    """Byar's approximate upper confidence limit for a Poisson count.

    ``O_U = (x + 1) (1 - 1/(9(x + 1)) + z/(3 sqrt(x + 1)))^3`` (Breslow & Day 1987, p. 69; PHE
    Technical Guide "Confidence intervals", appendix 1).

    Args:
        x: observed counts (events), array-like, >= 0.
        confidence: two-sided confidence level in [0.9, 1].

    Returns:
        Upper limits for the count (events), float array shaped like ``x``.
    """
    x1 = np.asarray(x, dtype=float) + 1.0
    z = _z(confidence)
    return x1 * (1.0 - 1.0 / (9.0 * x1) + z / (3.0 * np.sqrt(x1))) ** 3


def exact_lower(x: Any, confidence: float = 0.95) -> np.ndarray:
    """Exact (chi-square, Garwood 1936) lower confidence limit for a Poisson count.

    ``O_L = chi2_{(1-c)/2, 2x} / 2``, i.e. the ``(1 - c)/2`` quantile of the chi-square
    distribution on ``2x`` degrees of freedom, halved; 0 when x = 0 (PHE Technical Guide
    "Confidence intervals", appendix 2; Armitage P, Berry G, *Statistical Methods in Medical
    Research*, 4th edn, 2002). Computed as the inverse regularised incomplete gamma function,
    which is the same quantity.

    Args:
        x: observed counts (events), array-like, >= 0.
        confidence: two-sided confidence level in [0.9, 1].

    Returns:
        Lower limits for the count (events), float array shaped like ``x``.
    """
    x = np.asarray(x, dtype=float)
    p = (1.0 - confidence) / 2.0
    with np.errstate(invalid="ignore"):
        lower = special.gammaincinv(np.where(x > 0, x, 1.0), p)
    return np.where(x > 0, lower, np.where(np.isnan(x), np.nan, 0.0))


def exact_upper(x: Any, confidence: float = 0.95) -> np.ndarray:
    """Exact (chi-square, Garwood 1936) upper confidence limit for a Poisson count.

    ``O_U = chi2_{(1+c)/2, 2x+2} / 2`` (PHE Technical Guide "Confidence intervals", appendix 2).

    Args:
        x: observed counts (events), array-like, >= 0.
        confidence: two-sided confidence level in [0.9, 1].

    Returns:
        Upper limits for the count (events), float array shaped like ``x``.
    """
    x = np.asarray(x, dtype=float)
    return special.gammaincinv(x + 1.0, confidence + (1.0 - confidence) / 2.0)


def _poisson_limits(x: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact limits below :data:`EXACT_BELOW`, Byar's at or above it (as PHEindicatormethods)."""
    small = x < EXACT_BELOW
    lower = np.where(small, exact_lower(x, confidence), byars_lower(x, confidence))
    upper = np.where(small, exact_upper(x, confidence), byars_upper(x, confidence))
    return lower, upper


def wilson_lower(x: Any, n: Any, confidence: float = 0.95) -> np.ndarray:
    """Wilson score lower confidence limit for a proportion ``x / n``.

    ``p_L = (2x + z^2 - z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))`` (Wilson EB 1927, *J Am Stat
    Assoc* 22:209-12; Newcombe & Altman in *Statistics with Confidence*, 2nd edn, 2000, pp. 46-48;
    PHE Technical Guide "Confidence intervals", appendix 3). Clipped to [0, 1] against rounding;
    0 when ``confidence`` is 1.

    Args:
        x: numerators (cases), array-like, 0 <= x <= n.
        n: denominators (sample sizes), array-like, > 0.
        confidence: two-sided confidence level in [0.9, 1].

    Returns:
        Lower limits as proportions (0-1), float array.
    """
    return _wilson(x, n, confidence, -1.0)


def wilson_upper(x: Any, n: Any, confidence: float = 0.95) -> np.ndarray:
    """Wilson score upper confidence limit for a proportion ``x / n``.

    ``p_U = (2x + z^2 + z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))`` (Wilson 1927; see
    :func:`wilson_lower`). Clipped to [0, 1]; 1 when ``confidence`` is 1.

    Args:
        x: numerators (cases), array-like, 0 <= x <= n.
        n: denominators (sample sizes), array-like, > 0.
        confidence: two-sided confidence level in [0.9, 1].

    Returns:
        Upper limits as proportions (0-1), float array.
    """
    return _wilson(x, n, confidence, 1.0)


def _wilson(x: Any, n: Any, confidence: float, sign: float) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    if confidence >= 1.0:
        return np.full(np.broadcast(x, n).shape, 0.0 if sign < 0 else 1.0)
    z = _z(confidence)
    z2 = z * z
    root = np.sqrt(np.maximum(z2 + 4.0 * x * (1.0 - x / n), 0.0))
    return np.clip((2.0 * x + z2 + sign * z * root) / (2.0 * (n + z2)), 0.0, 1.0)


# --------------------------------------------------------------------------------------------
# Bundled standard population
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _esp2013_cached() -> pd.Series:
    with resources.files("hna").joinpath("data/esp2013.csv").open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"age_band": str, "weight": float})
    return pd.Series(
        table["weight"].to_numpy(), index=pd.Index(table["age_band"], name="age_band"),
        name="esp2013",
    )


def esp2013_weights() -> pd.Series:
    """The 2013 European Standard Population, 19 five-year bands (``0-4`` ... ``85-89``, ``90+``).

    Source: Eurostat (2013), *Revision of the European Standard Population*, with ages 90 and
    over combined, as PHEindicatormethods ``esp2013``; bundled as ``hna/data/esp2013.csv``
    (provenance in ``hna/data/PROVENANCE_rates.md``). The weights sum to 100,000.

    Returns:
        Float Series of standard population weights (persons) indexed by ``age_band`` label.
    """
    return _esp2013_cached().copy()


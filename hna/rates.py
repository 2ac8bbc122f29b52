"""Crude and standardised rates, ratios and proportions with confidence intervals (PHE methods).

The statistics and confidence-interval methods are those used by OHID Fingertips and the R
package PHEindicatormethods (``phe_rate``, ``calculate_dsr``, ``calculate_ISRatio``,
``calculate_ISRate``, ``phe_proportion``), described in the PHE/OHID *Public Health Technical
Guidance*: "Confidence intervals" and "Common public health statistics and their confidence
intervals" (APHO Technical Briefing 3, Eayres 2008). Formulas, with their sources, are set out
in ``docs/methods/rates.md``.

Every function takes a tidy DataFrame and returns a DataFrame with one row per group of the
``by`` columns (``by=None``: one row for the whole table). The output holds the ``by`` columns,
the summed inputs, ``value``, the confidence limits, ``confidence`` (e.g. ``"95%"``),
``statistic`` (e.g. ``"rate per 100000"``) and ``method``. With ``confidence=0.95`` (default) or
any single level in [0.9, 1] the limits are ``lowercl``/``uppercl``; with the pair
``(0.95, 0.998)`` they are ``lower95_0cl, upper95_0cl, lower99_8cl, upper99_8cl``.

Units: ``count`` columns are numbers of events; ``population`` columns are person-years at risk
(a mid-year population for one year). Rates are events per person-year times ``multiplier``
(per 100,000 by default). All computation is vectorised over groups (numpy ``bincount`` on
group codes); there are no Python loops over rows or groups.

Confidence-interval methods:

* counts below 10: exact Poisson limits from the chi-square distribution (Garwood 1936;
  Armitage & Berry 2002), ``chi2.ppf((1-c)/2, 2x)/2`` and ``chi2.ppf((1+c)/2, 2x+2)/2``;
* counts of 10 or more: Byar's approximation (Breslow & Day 1987, vol. II, p. 69),
  ``x(1 - 1/(9x) - z/(3 sqrt x))^3`` and ``(x+1)(1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3``;
* directly standardised rates: Dobson et al. (1991) *Stat Med* 10:457-62, with Byar's limits on
  the total count; not published (NA) when the total count is below 10;
* proportions: Wilson (1927) *J Am Stat Assoc* 22:209-12 score interval.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from hna.bands import AGE_BANDS
from hna.errors import DataError, ParameterError

__all__ = [
    "crude_rate",
    "dsr",
    "isr",
    "israte",
    "proportion",
    "esp2013_weights",
    "byars_lower",
    "byars_upper",
    "exact_lower",
    "exact_upper",
    "wilson_lower",
    "wilson_upper",
    "EXACT_BELOW",
    "DSR_MIN_COUNT",
]

#: Counts below this use exact Poisson limits; counts at or above it use Byar's approximation.
EXACT_BELOW = 10
#: Directly standardised rates with a total count below this are not published (NA).
DSR_MIN_COUNT = 10

_PAIR = (0.95, 0.998)
_ESP2013 = "esp2013"


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
    return np.where(x > 0, lower, 0.0)


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


# --------------------------------------------------------------------------------------------
# Argument and data validation
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Conf:
    levels: tuple[float, ...]
    label: str
    columns: tuple[tuple[str, str], ...]


def _pct(c: float) -> str:
    return f"{c * 100:g}%"


def _parse_confidence(confidence: Any) -> _Conf:
    hint = "give a proportion between 0.9 and 1 (e.g. 0.95, not 95) or the pair (0.95, 0.998)"
    levels: tuple[Any, ...]
    if isinstance(confidence, (str, bytes, bool, np.bool_)):
        raise ParameterError("confidence must be a number", field="confidence",
                             value=confidence, hint=hint)
    if isinstance(confidence, Real):
        levels = (confidence,)
    elif isinstance(confidence, (Sequence, np.ndarray)):
        levels = tuple(confidence)
        if len(levels) == 0 or any(
            isinstance(c, (bool, np.bool_)) or not isinstance(c, Real) for c in levels
        ):
            raise ParameterError("confidence must be a number or the pair (0.95, 0.998)",
                                 field="confidence", value=confidence, hint=hint)
    else:
        raise ParameterError("confidence must be a number", field="confidence",
                             value=confidence, hint=hint)
    floats = tuple(float(c) for c in levels)
    if len(floats) == 2:
        if floats != _PAIR:
            raise ParameterError(
                "two confidence levels can only be the pair (0.95, 0.998)",
                field="confidence", value=confidence, hint=hint,
            )
        return _Conf(_PAIR, "95%, 99.8%",
                     (("lower95_0cl", "upper95_0cl"), ("lower99_8cl", "upper99_8cl")))
    if len(floats) != 1:
        raise ParameterError("at most two confidence levels, (0.95, 0.998), can be given",
                             field="confidence", value=confidence, hint=hint)
    c = floats[0]
    if not math.isfinite(c) or c < 0.9 or c > 1.0:
        raise ParameterError("confidence level must be between 0.9 and 1", field="confidence",
                             value=confidence, hint=hint)
    return _Conf((c,), _pct(c), (("lowercl", "uppercl"),))


def _parse_multiplier(multiplier: Any, field: str = "multiplier") -> float:
    if isinstance(multiplier, (bool, np.bool_)) or not isinstance(multiplier, Real):
        raise ParameterError(f"{field} must be a positive number", field=field,
                             value=multiplier, hint="e.g. 100000 for a rate per 100,000")
    m = float(multiplier)
    if not math.isfinite(m) or m <= 0:
        raise ParameterError(f"{field} must be a positive number", field=field,
                             value=multiplier, hint="e.g. 100000 for a rate per 100,000")
    return m


def _fmt_number(m: float) -> str:
    """100000.0 -> '100000' (as R's format(scientific = FALSE)); 0.5 -> '0.5'."""
    return str(int(m)) if float(m).is_integer() else f"{m:g}"


def _check_frame(data: Any, fname: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(f"{fname}() needs a pandas DataFrame", field="data",
                             value=type(data).__name__)
    if len(data) == 0:
        raise DataError("the table has no rows", source=f"{fname}() data",
                        hint="pass at least one row of counts and populations")


def _check_column_name(data: pd.DataFrame, col: Any, arg: str, fname: str) -> None:
    if not isinstance(col, Hashable) or isinstance(col, (list, tuple)):
        raise ParameterError(f"{arg} must be a column name", field=arg, value=col)
    if col not in data.columns:
        shown = ", ".join(map(str, list(data.columns)[:12]))
        raise DataError(f"column for {arg} not found", source=f"{fname}() data", field=str(col),
                        value=col, hint=f"columns present: {shown}")


def _by_list(data: pd.DataFrame, by: Any, fname: str, reserved: Sequence[Any]) -> list[Any]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) or not isinstance(by, (list, tuple)) else list(by)
    for c in cols:
        _check_column_name(data, c, "by", fname)
    if len(set(cols)) != len(cols):
        raise ParameterError("by lists a column twice", field="by", value=by)
    clash = [c for c in cols if c in set(reserved)]
    if clash:
        raise ParameterError(
            "a by column cannot also be a count, population, band or standard column",
            field="by", value=clash[0],
            hint="group by identifiers such as area_code, sex or year only",
        )
    return cols


def _first_bad(data: pd.DataFrame, mask: np.ndarray) -> tuple[int, Any]:
    idx = int(np.flatnonzero(mask)[0])
    return int(mask.sum()), data.index[idx]


def _numeric(
    data: pd.DataFrame, col: Any, arg: str, fname: str, *, positive: bool = False,
) -> np.ndarray:
    """Column ``col`` as float64, refusing non-numeric, NA, infinite and negative values."""
    _check_column_name(data, col, arg, fname)
    src = f"{fname}() data"
    s = data[col]
    if isinstance(s, pd.DataFrame):
        raise DataError("column name is duplicated", source=src, field=str(col), value=col)
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        example = s.dropna().iloc[0] if s.notna().any() else None
        raise DataError(f"{arg} column must be numeric (dtype {s.dtype})", source=src,
                        field=str(col), value=example,
                        hint="convert it with pd.to_numeric() first")
    a = s.to_numpy(dtype="float64", na_value=np.nan)
    bad = np.isnan(a)
    if bad.any():
        k, row = _first_bad(data, bad)
        hint = ("write zero counts as explicit 0 rows" if not positive
                else "every row needs a population (person-years) greater than zero")
        raise DataError(f"{arg} has {k} missing (NA/NaN) value(s), first at row {row!r}",
                        source=src, field=str(col), value=s.iloc[int(np.flatnonzero(bad)[0])],
                        hint=hint)
    bad = np.isinf(a)
    if bad.any():
        k, row = _first_bad(data, bad)
        raise DataError(f"{arg} has {k} infinite value(s), first at row {row!r}", source=src,
                        field=str(col), value=float(a[bad][0]))
    bad = a <= 0 if positive else a < 0
    if bad.any():
        k, row = _first_bad(data, bad)
        what = "zero or negative" if positive else "negative"
        raise DataError(f"{arg} has {k} {what} value(s), first at row {row!r}", source=src,
                        field=str(col), value=float(a[bad][0]),
                        hint="populations must be > 0" if positive else "counts must be >= 0")
    return a


def _not_above(
    data: pd.DataFrame, x: np.ndarray, n: np.ndarray, xcol: Any, ncol: Any, fname: str,
) -> None:
    bad = x > n
    if bad.any():
        k, row = _first_bad(data, bad)
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{k} row(s) have {xcol!s} greater than {ncol!s}, first at row {row!r} "
            f"({x[i]:g} > {n[i]:g})",
            source=f"{fname}() data", field=str(xcol), value=float(x[i]),
            hint=f"check that {xcol!s} and {ncol!s} refer to the same people and period",
        )


# --------------------------------------------------------------------------------------------
# Groups and bands
# --------------------------------------------------------------------------------------------


def _groups(data: pd.DataFrame, by: list[Any]) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer group code per row and the table of group keys (sorted), one row per group."""
    if not by:
        return np.zeros(len(data), dtype=np.intp), pd.DataFrame(index=pd.RangeIndex(1))
    if len(by) == 1:
        codes, uniques = pd.factorize(data[by[0]], sort=True, use_na_sentinel=False)
        keys = pd.DataFrame({by[0]: uniques})
        return codes.astype(np.intp, copy=False), keys
    grouped = data.groupby(by, sort=True, observed=True, dropna=False)
    codes = grouped.ngroup().to_numpy(dtype=np.intp)
    keys = grouped.size().index.to_frame(index=False)
    return codes, keys


def _describe_group(keys: pd.DataFrame, g: int) -> str:
    if keys.shape[1] == 0:
        return "the whole table"
    return "group " + ", ".join(f"{c}={keys.iloc[g][c]!r}" for c in keys.columns)


def _norm_labels(values: Any) -> pd.Index:
    """Band labels compared as text, ignoring spaces and en dashes ('0 – 4' == '0-4')."""
    return (
        pd.Index(np.asarray(values, dtype=object)).astype(str)
        .str.replace("\u2013", "-", regex=False).str.replace(" ", "", regex=False)
    )


def _band_codes(
    data: pd.DataFrame, band: Any, labels: pd.Index | None, fname: str, what: str,
) -> tuple[np.ndarray, pd.Index]:
    """Code of each row's band in ``labels`` (normalised); ``labels=None``: the bands in data."""
    _check_column_name(data, band, "band", fname)
    src = f"{fname}() data"
    codes, uniques = pd.factorize(data[band], use_na_sentinel=True)
    if (codes < 0).any():
        k, row = _first_bad(data, codes < 0)
        raise DataError(f"{k} row(s) have no band, first at row {row!r}", source=src,
                        field=str(band), hint="every row needs a band label")
    normed = _norm_labels(uniques)
    if labels is None:
        labels = pd.Index(pd.unique(normed))
    where = labels.get_indexer(normed)
    if (where < 0).any():
        unknown = list(uniques[where < 0])
        raise DataError(f"band not in the {what}", source=src, field=str(band),
                        value=unknown[0],
                        hint=f"expected the bands {', '.join(map(str, labels[:19]))}"
                        + (" ..." if len(labels) > 19 else ""))
    return where[codes], labels


def _check_complete(
    gcodes: np.ndarray, bcodes: np.ndarray, keys: pd.DataFrame, labels: pd.Index, band: Any,
    fname: str,
) -> None:
    """Each group must hold every band exactly once (no gaps, no duplicates)."""
    n_groups, n_bands = len(keys), len(labels)
    counts = np.bincount(gcodes * n_bands + bcodes, minlength=n_groups * n_bands)
    counts = counts.reshape(n_groups, n_bands)
    src = f"{fname}() data"
    dup = counts > 1
    if dup.any():
        g, b = np.argwhere(dup)[0]
        raise DataError(
            f"{_describe_group(keys, g)} has {counts[g, b]} rows for band {labels[b]!r}",
            source=src, field=str(band), value=labels[b],
            hint="aggregate to one row per group and band, or add the missing by column",
        )
    gap = counts == 0
    if gap.any():
        g = int(np.flatnonzero(gap.any(axis=1))[0])
        missing = [labels[b] for b in np.flatnonzero(gap[g])]
        n_bad = int(gap.any(axis=1).sum())
        raise DataError(
            f"{_describe_group(keys, g)} has no row for {len(missing)} band(s) "
            f"({n_bad} group(s) incomplete)",
            source=src, field=str(band), value=missing if len(missing) > 1 else missing[0],
            hint="bands with no events must be explicit rows with a count of 0",
        )


def _band_vector(values: Any, arg: str, *, positive: bool) -> pd.Series:
    """A reference vector keyed by band: a pandas Series or mapping, validated."""
    if isinstance(values, Mapping):
        values = pd.Series(dict(values))
    if not isinstance(values, pd.Series):
        raise ParameterError(
            f"{arg} must be a column name in data or a pandas Series keyed by band",
            field=arg, value=type(values).__name__,
            hint="positional vectors are not accepted: key the values by band label",
        )
    if len(values) == 0:
        raise ParameterError(f"{arg} is empty", field=arg)
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        raise ParameterError(f"{arg} must be numeric", field=arg, value=str(values.dtype))
    a = values.to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(a) | ((a <= 0) if positive else (a < 0))
    if bad.any():
        need = "finite and > 0" if positive else "finite and >= 0"
        raise ParameterError(f"{arg} values must be {need}", field=arg,
                             value={values.index[np.flatnonzero(bad)[0]]: a[bad][0]})
    labels = _norm_labels(values.index)
    if labels.has_duplicates:
        raise ParameterError(f"{arg} has a band more than once", field=arg,
                             value=labels[labels.duplicated()][0])
    return pd.Series(a, index=labels)


# --------------------------------------------------------------------------------------------
# Output helpers
# --------------------------------------------------------------------------------------------


def _finish(
    keys: pd.DataFrame, columns: dict[str, Any], conf: _Conf, limits: list[tuple[Any, Any]],
    statistic: Any, method: Any,
) -> pd.DataFrame:
    out = keys.reset_index(drop=True).copy()
    for name, values in columns.items():
        out[name] = values
    for (lo_name, hi_name), (lo, hi) in zip(conf.columns, limits, strict=True):
        out[lo_name] = lo
        out[hi_name] = hi
    out["confidence"] = conf.label
    out["statistic"] = statistic
    out["method"] = method
    return out


def _sum(codes: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=n_groups)


# --------------------------------------------------------------------------------------------
# Public statistics
# --------------------------------------------------------------------------------------------


def crude_rate(
    data: pd.DataFrame,
    count: str,
    population: str,
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 100_000,
) -> pd.DataFrame:
    """Crude rate per ``multiplier`` person-years with exact or Byar's confidence limits.

    Counts and populations are summed within each ``by`` group, then
    ``value = O / N * multiplier``. Limits are ``O_L / N * multiplier`` and
    ``O_U / N * multiplier`` where ``O_L, O_U`` are exact Poisson (chi-square) limits for the
    count when ``O < 10`` and Byar's approximation when ``O >= 10`` (PHEindicatormethods
    ``phe_rate``; PHE Technical Guide "Confidence intervals", appendices 1-2; Byar 1977 in
    Breslow & Day 1987; Armitage & Berry 2002).

    Args:
        data: one row per observation unit (e.g. area x sex x age band).
        count: column of event counts (events, >= 0, finite).
        population: column of populations at risk (person-years, > 0, >= count).
        by: grouping column(s); None = one rate for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the rate is expressed per this many person-years (default 100,000).

    Returns:
        One row per group: the ``by`` columns, the summed ``count`` and ``population`` columns
        (same names), ``value``, the limits, ``confidence``, ``statistic`` ("rate per 100000")
        and ``method`` ("Exact" or "Byars", per row).

    Raises:
        DataError: missing or non-numeric columns, NA/negative counts, NA/zero/negative
            populations, counts above populations, an empty table.
        ParameterError: confidence or multiplier out of range, bad ``by``.
    """
    fname = "crude_rate"
    conf = _parse_confidence(confidence)
    mult = _parse_multiplier(multiplier)
    _check_frame(data, fname)
    by_cols = _by_list(data, by, fname, [count, population])
    x = _numeric(data, count, "count", fname)
    n = _numeric(data, population, "population", fname, positive=True)
    _not_above(data, x, n, count, population, fname)
    codes, keys = _groups(data, by_cols)
    obs = _sum(codes, x, len(keys))
    pop = _sum(codes, n, len(keys))
    limits = []
    for c in conf.levels:
        lo, hi = _poisson_limits(obs, c)
        limits.append((lo / pop * mult, hi / pop * mult))
    return _finish(
        keys, {count: obs, population: pop, "value": obs / pop * mult}, conf, limits,
        f"rate per {_fmt_number(mult)}", np.where(obs < EXACT_BELOW, "Exact", "Byars"),
    )


def dsr(
    data: pd.DataFrame,
    count: str,
    population: str,
    standard: str | pd.Series | Mapping[str, float] = _ESP2013,
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 100_000,
    *,
    band: str = "age_band",
) -> pd.DataFrame:
    """Directly standardised rate with Dobson confidence limits (as PHEindicatormethods).

    Within each group, with band counts ``O_i``, populations ``n_i`` and standard weights
    ``w_i``: ``DSR = sum(w_i O_i / n_i) / sum(w_i) * multiplier``,
    ``var(DSR) = sum(w_i^2 O_i / n_i^2) / sum(w_i)^2`` (per person-year squared) and, with
    ``O = sum(O_i)`` and Byar's limits ``O_L, O_U`` for ``O``,
    ``limit = DSR + sqrt(var(DSR) / O) * (O_L|U - O) * multiplier`` (Dobson A, Kuulasmaa K,
    Eberle E, Scherer J 1991, *Stat Med* 10:457-62; PHE Technical Guide "Confidence intervals",
    appendix 4; PHEindicatormethods ``calculate_dsr``). When ``O < 10`` the DSR is not reliable:
    value and limits are NA and ``statistic`` says why.

    Args:
        data: one row per group and band; bands with no events must be rows with count 0.
        count: column of event counts per band (events, >= 0).
        population: column of populations per band (person-years, > 0, >= count).
        standard: ``"esp2013"`` (default; the bundled 19-band 2013 European Standard
            Population, see :func:`esp2013_weights`), a column name in ``data`` holding each
            row's standard population, or a pandas Series (or mapping) of weights keyed by band.
        by: grouping column(s); None = one DSR for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the rate is expressed per this many person-years (default 100,000).
        band: the column of band labels (default ``age_band``). With ``"esp2013"`` it must
            hold the 19 ESP2013 labels (``0-4`` ... ``90+``).

    Returns:
        One row per group: the ``by`` columns, ``total_count``, ``total_pop``, ``value`` (per
        ``multiplier`` person-years), the limits, ``confidence``, ``statistic``
        ("dsr per 100000", or the suppression reason) and ``method`` ("Dobson").

    Raises:
        DataError: missing/non-numeric columns, NA or negative counts, NA/zero populations,
            counts above populations, unknown bands, and groups with a missing or duplicated
            band.
        ParameterError: bad standard, confidence, multiplier or ``by``.
    """
    fname = "dsr"
    conf = _parse_confidence(confidence)
    mult = _parse_multiplier(multiplier)
    _check_frame(data, fname)
    std_is_column = isinstance(standard, str) and standard != _ESP2013
    reserved = [count, population, band] + ([standard] if std_is_column else [])
    by_cols = _by_list(data, by, fname, reserved)
    x = _numeric(data, count, "count", fname)
    n = _numeric(data, population, "population", fname, positive=True)
    _not_above(data, x, n, count, population, fname)

    if std_is_column:
        w = _numeric(data, standard, "standard", fname)
        bcodes, labels = _band_codes(data, band, None, fname, "data")
    else:
        if isinstance(standard, str):  # "esp2013"
            vec = pd.Series(_esp2013_cached().to_numpy(), index=_norm_labels(AGE_BANDS))
            what = "2013 European Standard Population (19 bands)"
        elif isinstance(standard, (pd.Series, Mapping)):
            vec = _band_vector(standard, "standard", positive=False)
            what = "standard population"
        else:
            raise ParameterError(
                "standard must be 'esp2013', a column name in data or a pandas Series keyed by "
                "band", field="standard", value=type(standard).__name__,
            )
        bcodes, labels = _band_codes(data, band, vec.index, fname, what)
        w = vec.to_numpy()[bcodes]

    codes, keys = _groups(data, by_cols)
    _check_complete(codes, bcodes, keys, labels, band, fname)
    n_groups = len(keys)
    sum_w = _sum(codes, w, n_groups)
    if (sum_w <= 0).any():
        g = int(np.flatnonzero(sum_w <= 0)[0])
        raise DataError(f"standard population sums to zero in {_describe_group(keys, g)}",
                        source=f"{fname}() data", field=str(standard),
                        hint="standard weights must not all be zero")
    ratio = w / n
    obs = _sum(codes, x, n_groups)
    pop = _sum(codes, n, n_groups)
    value = _sum(codes, x * ratio, n_groups) / sum_w * mult
    var = _sum(codes, x * ratio * ratio, n_groups) / (sum_w * sum_w)
    publish = obs >= DSR_MIN_COUNT
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(var / obs) * mult
    limits = []
    for c in conf.levels:
        lo = value + scale * (byars_lower(obs, c) - obs)
        hi = value + scale * (byars_upper(obs, c) - obs)
        limits.append((np.where(publish, lo, np.nan), np.where(publish, hi, np.nan)))
    stat = f"dsr per {_fmt_number(mult)}"
    reason = f"{stat} ({conf.label}, Dobson): total count < {DSR_MIN_COUNT}, not published"
    return _finish(
        keys,
        {"total_count": obs, "total_pop": pop, "value": np.where(publish, value, np.nan)},
        conf, limits, np.where(publish, stat, reason), "Dobson",
    )


def _isr_core(
    fname: str,
    data: pd.DataFrame,
    count: str,
    population: str,
    reference_count: Any,
    reference_population: Any,
    by: Any,
    band: str,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate ISR inputs; return keys, observed, expected, row codes, ref counts, ref pops."""
    _check_frame(data, fname)
    ref_cols = [r for r in (reference_count, reference_population) if isinstance(r, str)]
    by_cols = _by_list(data, by, fname, [count, population, band, *ref_cols])
    x = _numeric(data, count, "count", fname)
    n = _numeric(data, population, "population", fname, positive=True)
    _not_above(data, x, n, count, population, fname)

    vectors = {}
    for arg, ref, positive in (
        ("reference_count", reference_count, False),
        ("reference_population", reference_population, True),
    ):
        if not isinstance(ref, str):
            vectors[arg] = _band_vector(ref, arg, positive=positive)
    if len(vectors) == 2:
        a, b = vectors["reference_count"], vectors["reference_population"]
        if set(a.index) != set(b.index):
            raise ParameterError(
                "reference_count and reference_population must be keyed by the same bands",
                field="reference_population",
                value=sorted(set(a.index) ^ set(b.index)),
            )
    if vectors:
        labels = next(iter(vectors.values())).index
        bcodes, labels = _band_codes(data, band, labels, fname, "reference bands")
    else:
        bcodes, labels = _band_codes(data, band, None, fname, "data")

    def ref_values(arg: str, ref: Any, positive: bool) -> np.ndarray:
        if isinstance(ref, str):
            return _numeric(data, ref, arg, fname, positive=positive)
        return vectors[arg].reindex(labels).to_numpy()[bcodes]

    xr = ref_values("reference_count", reference_count, False)
    nr = ref_values("reference_population", reference_population, True)
    _not_above(data, xr, nr, reference_count if isinstance(reference_count, str)
               else "reference_count",
               reference_population if isinstance(reference_population, str)
               else "reference_population", fname)

    codes, keys = _groups(data, by_cols)
    _check_complete(codes, bcodes, keys, labels, band, fname)
    observed = _sum(codes, x, len(keys))
    expected = _sum(codes, xr / nr * n, len(keys))
    if (expected <= 0).any():
        g = int(np.flatnonzero(expected <= 0)[0])
        raise DataError(
            f"expected count is zero in {_describe_group(keys, g)}",
            source=f"{fname}() data", field=str(reference_count),
            hint="the reference population has no events in this group's bands",
        )
    return keys, observed, expected, codes, xr, nr


def isr(
    data: pd.DataFrame,
    count: str,
    population: str,
    reference_count: str | pd.Series | Mapping[str, float],
    reference_population: str | pd.Series | Mapping[str, float],
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 1,
    *,
    band: str = "age_band",
) -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected, e.g. an SMR) with confidence limits.

    ``E = sum(n_i * X_i / N_i)`` over the bands of a group, where ``n_i`` is the local
    population and ``X_i / N_i`` the reference rate; ``value = O / E * multiplier`` with
    ``O = sum(O_i)``; limits ``O_L / E * multiplier`` and ``O_U / E * multiplier`` with exact
    Poisson limits for ``O < 10`` and Byar's otherwise (PHEindicatormethods
    ``calculate_ISRatio``; PHE Technical Guide "Common public health statistics and their
    confidence intervals"; Breslow & Day 1987).

    Args:
        data: one row per group and band (zero-count bands as explicit rows).
        count: column of observed events per band (events, >= 0).
        population: column of local populations per band (person-years, > 0).
        reference_count: reference events per band: a column name in ``data`` or a pandas
            Series (or mapping) keyed by band.
        reference_population: reference populations per band (person-years, > 0): a column
            name or a Series keyed by band.
        by: grouping column(s); None = one ratio for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the reference value of the ratio (1 by default; 100 for SMRs as
            percentages), as PHEindicatormethods ``refvalue``.
        band: the column of band labels (default ``age_band``).

    Returns:
        One row per group: the ``by`` columns, ``observed``, ``expected`` (events), ``value``,
        the limits, ``confidence``, ``statistic`` ("indirectly standardised ratio x 1") and
        ``method`` ("Exact" or "Byars", per row).

    Raises:
        DataError: as :func:`dsr`, plus reference counts above reference populations and
            groups whose expected count is zero.
        ParameterError: bad reference vectors, confidence, multiplier or ``by``.
    """
    fname = "isr"
    conf = _parse_confidence(confidence)
    mult = _parse_multiplier(multiplier)
    keys, obs, exp, *_ = _isr_core(fname, data, count, population, reference_count,
                                   reference_population, by, band)
    limits = []
    for c in conf.levels:
        lo, hi = _poisson_limits(obs, c)
        limits.append((lo / exp * mult, hi / exp * mult))
    return _finish(
        keys, {"observed": obs, "expected": exp, "value": obs / exp * mult}, conf, limits,
        f"indirectly standardised ratio x {_fmt_number(mult)}",
        np.where(obs < EXACT_BELOW, "Exact", "Byars"),
    )


def israte(
    data: pd.DataFrame,
    count: str,
    population: str,
    reference_count: str | pd.Series | Mapping[str, float],
    reference_population: str | pd.Series | Mapping[str, float],
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 100_000,
    *,
    reference_rate: float | None = None,
    band: str = "age_band",
) -> pd.DataFrame:
    """Indirectly standardised rate: the ISR times the reference crude rate.

    ``value = O / E * R`` where ``R`` is the reference crude rate per ``multiplier``
    person-years, by default ``R = sum(X_i) / sum(N_i) * multiplier`` over the group's bands
    (PHEindicatormethods ``calculate_ISRate``); limits ``O_L / E * R`` and ``O_U / E * R``
    (exact below 10 observed, Byar's otherwise). See :func:`isr` for ``E``.

    Args:
        data: one row per group and band (zero-count bands as explicit rows).
        count: column of observed events per band (events, >= 0).
        population: column of local populations per band (person-years, > 0).
        reference_count: reference events per band: column name or Series keyed by band.
        reference_population: reference person-years per band: column name or Series.
        by: grouping column(s); None = one rate for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the rate is expressed per this many person-years (default 100,000).
        reference_rate: the reference crude rate in events per person-year (NOT scaled by
            ``multiplier``), overriding the rate computed from the reference columns, e.g. the
            national rate over all ages when the reference bands do not cover it.
        band: the column of band labels (default ``age_band``).

    Returns:
        One row per group: the ``by`` columns, ``observed``, ``expected``, ``ref_rate`` (per
        ``multiplier``), ``value``, the limits, ``confidence``, ``statistic``
        ("indirectly standardised rate per 100000") and ``method`` ("Exact"/"Byars").

    Raises:
        DataError: as :func:`isr`.
        ParameterError: as :func:`isr`, and a non-positive ``reference_rate``.
    """
    fname = "israte"
    conf = _parse_confidence(confidence)
    mult = _parse_multiplier(multiplier)
    if reference_rate is not None:
        rate = _parse_multiplier(reference_rate, "reference_rate")
    keys, obs, exp, codes, xr, nr = _isr_core(fname, data, count, population, reference_count,
                                              reference_population, by, band)
    if reference_rate is None:
        ref = _sum(codes, xr, len(keys)) / _sum(codes, nr, len(keys)) * mult
    else:
        ref = np.full(len(keys), rate * mult)
    limits = []
    for c in conf.levels:
        lo, hi = _poisson_limits(obs, c)
        limits.append((lo / exp * ref, hi / exp * ref))
    return _finish(
        keys,
        {"observed": obs, "expected": exp, "ref_rate": ref, "value": obs / exp * ref},
        conf, limits, f"indirectly standardised rate per {_fmt_number(mult)}",
        np.where(obs < EXACT_BELOW, "Exact", "Byars"),
    )


def proportion(
    data: pd.DataFrame,
    numerator: str,
    denominator: str,
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 1,
) -> pd.DataFrame:
    """Proportion with Wilson score confidence limits (as PHEindicatormethods ``phe_proportion``).

    Numerators ``x`` and denominators ``n`` are summed within each group;
    ``value = x / n * multiplier``; limits are the Wilson (1927) score interval
    ``(2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))`` times ``multiplier`` (PHE
    Technical Guide "Confidence intervals", appendix 3; Newcombe & Altman 2000). The interval
    stays within [0, 1]: 0 successes give a lower limit of 0 and ``x = n`` an upper limit of 1.

    Args:
        data: one row per observation unit.
        numerator: column of cases meeting the condition (>= 0).
        denominator: column of cases in the sample (> 0, >= numerator).
        by: grouping column(s); None = one proportion for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: 1 (default) for a proportion, 100 for a percentage.

    Returns:
        One row per group: the ``by`` columns, the summed ``numerator`` and ``denominator``
        columns, ``value``, the limits, ``confidence``, ``statistic`` ("proportion of 1" or
        "percentage") and ``method`` ("Wilson").

    Raises:
        DataError: missing or non-numeric columns, NA or negative numerators, NA/zero/negative
            denominators, numerators above denominators.
        ParameterError: confidence or multiplier out of range, bad ``by``.
    """
    fname = "proportion"
    conf = _parse_confidence(confidence)
    mult = _parse_multiplier(multiplier)
    _check_frame(data, fname)
    by_cols = _by_list(data, by, fname, [numerator, denominator])
    x = _numeric(data, numerator, "numerator", fname)
    n = _numeric(data, denominator, "denominator", fname, positive=True)
    _not_above(data, x, n, numerator, denominator, fname)
    codes, keys = _groups(data, by_cols)
    num = _sum(codes, x, len(keys))
    den = _sum(codes, n, len(keys))
    limits = [
        (wilson_lower(num, den, c) * mult, wilson_upper(num, den, c) * mult)
        for c in conf.levels
    ]
    stat = "percentage" if mult == 100 else f"proportion of {_fmt_number(mult)}"
    return _finish(
        keys, {numerator: num, denominator: den, "value": num / den * mult}, conf, limits,
        stat, "Wilson",
    )

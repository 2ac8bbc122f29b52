"""Argument and table checks shared by the five rate statistics (one validator, one message).

Every statistic in :mod:`hna.rates` starts with :func:`validate_call` (confidence, multiplier,
the table and the ``by`` columns) and reads its columns with :func:`numeric`, so the same bad
input gives the same :class:`hna.errors.ParameterError` or :class:`hna.errors.DataError` whichever
statistic it was given to.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd

from hna.checks import check_positive
from hna.errors import DataError, ParameterError

_PAIR = (0.95, 0.998)


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
    return check_positive(multiplier, field, hint="e.g. 100000 for a rate per 100,000")


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
    allow_na: bool = False,
) -> np.ndarray:
    """Column ``col`` as float64, refusing non-numeric, infinite and negative values.

    NA values are refused too unless ``allow_na`` (they are then NaN in the result);
    ``positive`` refuses zeros as well.
    """
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
    if bad.any() and not allow_na:
        k, row = _first_bad(data, bad)
        hint = ("write zero counts as explicit 0 rows, or pass missing= ('na' or 'zero', "
                "see the function's help) to choose how NA is handled" if not positive
                else "every row needs a population (person-years) greater than zero")
        raise DataError(f"{arg} has {k} missing (NA/NaN) value(s), first at row {row!r}",
                        source=src, field=str(col), value=s.iloc[int(np.flatnonzero(bad)[0])],
                        hint=hint)
    bad = np.isinf(a)
    if bad.any():
        k, row = _first_bad(data, bad)
        raise DataError(f"{arg} has {k} infinite value(s), first at row {row!r}", source=src,
                        field=str(col), value=float(a[bad][0]))
    with np.errstate(invalid="ignore"):
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
    with np.errstate(invalid="ignore"):
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
    keys: pd.DataFrame, columns: dict[str, Any], conf: _Conf | None, limits: list[tuple[Any, Any]],
    statistic: Any, method: Any,
) -> pd.DataFrame:
    out = keys.reset_index(drop=True).copy()
    for name, values in columns.items():
        out[name] = values
    if conf is not None:
        for (lo_name, hi_name), (lo, hi) in zip(conf.columns, limits, strict=True):
            out[lo_name] = lo
            out[hi_name] = hi
    out["confidence"] = conf.label if conf is not None else None
    out["statistic"] = statistic
    out["method"] = method
    return out


def _sum(codes: np.ndarray, weights: np.ndarray, n_groups: int) -> np.ndarray:
    return np.bincount(codes, weights=weights, minlength=n_groups)



Missing = Literal["error", "na", "zero"]


@dataclass(frozen=True)
class Call:
    """The checked common arguments of one call of a rate statistic.

    Attributes:
        conf: the confidence levels and their column names (None: no interval requested).
        mult: the multiplier (rate per ``mult`` person-years, or the ratio's reference value).
        by: the grouping columns.
        missing: what to do with NA values: ``error``, ``na`` (NA result for the group) or
            ``zero`` (NA counted as zero, PHE's rule for DSR and ISR).
    """

    conf: _Conf | None
    mult: float
    by: list[Any]
    missing: str


def validate_call(fname: str, data: Any, *, confidence: Any, multiplier: Any, by: Any,
                  reserved: Sequence[Any], missing: Any = "error",
                  accepts: frozenset[str] = frozenset({"na"})) -> Call:
    """The one prologue of every rate statistic: check confidence, multiplier, table and ``by``.

    Args:
        fname: the statistic's name, for messages (``"crude_rate"``).
        data: the table passed in.
        confidence: a level in [0.9, 1], the pair (0.95, 0.998), or None when ``accepts``
            holds ``"no_confidence"`` (value only).
        multiplier: a positive finite number.
        by: grouping column(s) or None.
        reserved: columns that cannot also be ``by`` columns (counts, populations, bands).
        missing: the NA policy asked for: ``"error"`` or one of the policies in ``accepts``.
        accepts: what this statistic supports beyond the default: NA policies (``"na"``,
            ``"zero"``) and ``"no_confidence"``.

    Raises:
        ParameterError: bad confidence, multiplier, ``by`` or ``missing``.
        DataError: ``data`` has no rows.
    """
    if confidence is None and "no_confidence" in accepts:
        conf = None
    else:
        conf = _parse_confidence(confidence)
    mult = _parse_multiplier(multiplier)
    policies = ["error", *sorted(accepts & {"na", "zero"})]
    if not isinstance(missing, str) or missing not in policies:
        raise ParameterError(f"{fname}() cannot handle missing values this way", field="missing",
                             value=missing, hint=f"Use one of: {', '.join(policies)}")
    _check_frame(data, fname)
    return Call(conf, mult, _by_list(data, by, fname, reserved), missing)

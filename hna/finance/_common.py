"""Shared argument checks of the finance modules (tables, rates, year paths)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError


def need(df: Any, cols: Sequence[str], source: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataError("expected a DataFrame", source=source, value=type(df).__name__)
    for c in cols:
        if c not in df.columns:
            raise DataError("missing column", source=source, field=c,
                            hint=f"Columns needed: {', '.join(cols)}")
    return df


def numbers(df: pd.DataFrame, col: str, source: str, *, positive: bool = False,
             nonneg: bool = True) -> pd.Series:
    v = pd.to_numeric(df[col], errors="coerce").astype(float)
    bad = v.isna() | ~np.isfinite(v)
    if positive:
        bad |= v <= 0
    elif nonneg:
        bad |= v < 0
    if bad.any():
        what = "positive" if positive else ("non-negative" if nonneg else "finite")
        raise DataError(f"must be {what} numbers", source=source, field=col,
                        value=df.loc[bad, col].iloc[0])
    return v


def rate(x: Any, field: str, lo: float = -1.0, hi: float = 1.0) -> float:
    try:
        r = float(x)
    except (TypeError, ValueError):
        raise ParameterError("must be a number (a fraction, e.g. 0.015 for 1.5%)", field=field,
                             value=x) from None
    if not math.isfinite(r) or not lo <= r <= hi:
        raise ParameterError(f"must be a fraction in [{lo:g}, {hi:g}] (e.g. 0.015 for 1.5%)",
                             field=field, value=x)
    return r


def year_path(values: Any, n: int, field: str, lo: float = 0.0, hi: float = 1.0) -> list[float]:
    """A scalar or a sequence for n years (the last value repeats)."""
    if n <= 0:
        return []
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray | pd.Series):
        return [rate(values, field, lo, hi)] * n
    seq = [rate(v, f"{field}[{i}]", lo, hi) for i, v in enumerate(list(values))]
    if not seq:
        raise ParameterError("needs at least one value", field=field)
    return (seq + [seq[-1]] * n)[:n]

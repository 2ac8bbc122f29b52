"""Shared argument checkers: one rule, one message for each kind of argument.

Each checker returns the value in its canonical Python type (``float`` or ``int``) or raises one
:class:`hna.errors.ParameterError` naming the argument (``field``), the value and what to do.
Booleans and text are never accepted as numbers. ``source`` names the file or table an argument came from,
when it came from one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from hna.errors import ParameterError

__all__ = [
    "check_number",
    "check_positive",
    "check_nonnegative_finite",
    "check_probability",
    "check_int_range",
    "check_draws",
    "check_choice",
    "check_int_list",
]


def _as_float(value: Any, field: str, source: str | None) -> float:
    if isinstance(value, bool | np.bool_):
        raise ParameterError("must be a number, not true/false", field=field, value=value,
                             source=source)
    if isinstance(value, str | bytes):
        raise ParameterError("must be a number, not text", field=field, value=value,
                             source=source, hint="Pass 100000, not '100000'")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ParameterError("must be a number", field=field, value=value,
                             source=source) from None


def check_number(value: Any, field: str, *, minimum: float | None = None,
                 maximum: float | None = None, strict_minimum: bool = False,
                 allow_none: bool = False, source: str | None = None,
                 hint: str | None = None) -> float | None:
    """A finite number within optional bounds.

    Args:
        value: the argument.
        field: its name, for the message.
        minimum: smallest allowed value (inclusive unless ``strict_minimum``).
        maximum: largest allowed value (inclusive).
        strict_minimum: the value must be greater than ``minimum``.
        allow_none: accept ``None`` (returned unchanged).
        source: the file or table the value came from.
        hint: what to tell the user to do.

    Returns:
        The value as a float (or None when allowed).

    Raises:
        ParameterError: not a number, NaN or infinite, or outside the bounds.
    """
    if value is None and allow_none:
        return None
    v = _as_float(value, field, source)
    if not math.isfinite(v):
        raise ParameterError("must be a finite number", field=field, value=value, source=source,
                             hint=hint)
    low_bad = minimum is not None and (v <= minimum if strict_minimum else v < minimum)
    if low_bad or (maximum is not None and v > maximum):
        lo = "" if minimum is None else f"{'>' if strict_minimum else '>='} {minimum:g}"
        hi = "" if maximum is None else f"<= {maximum:g}"
        rule = " and ".join(x for x in (lo, hi) if x)
        raise ParameterError(f"must be a finite number {rule}", field=field, value=value,
                             source=source, hint=hint)
    return v


def check_positive(value: Any, field: str, *, source: str | None = None,
                   hint: str | None = None) -> float:
    """A finite number > 0 (see :func:`check_number`)."""
    return check_number(value, field, minimum=0.0, strict_minimum=True, source=source, hint=hint)


def check_nonnegative_finite(value: Any, field: str, *, source: str | None = None,
                             hint: str | None = None) -> float:
    """A finite number >= 0 (see :func:`check_number`)."""
    return check_number(value, field, minimum=0.0, source=source, hint=hint)


def check_probability(value: Any, field: str, *, open_interval: bool = False,
                      source: str | None = None, hint: str | None = None) -> float:
    """A probability in [0, 1], or in (0, 1) when ``open_interval`` (e.g. a confidence level).

    Raises:
        ParameterError: not a number, or outside the interval.
    """
    v = _as_float(value, field, source)
    ok = (0.0 < v < 1.0) if open_interval else (0.0 <= v <= 1.0)
    if not ok:
        what = "between 0 and 1 (exclusive)" if open_interval else "between 0 and 1"
        raise ParameterError(f"must be a probability {what}", field=field, value=value,
                             source=source, hint=hint)
    return v


def check_int_range(value: Any, field: str, *, minimum: int | None = None,
                    maximum: int | None = None, source: str | None = None,
                    hint: str | None = None) -> int:
    """A whole number (Python or numpy int, not bool) within optional inclusive bounds.

    Raises:
        ParameterError: not a whole number, or outside the bounds.
    """
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer)
    if ok and ((minimum is not None and value < minimum)
               or (maximum is not None and value > maximum)):
        ok = False
    if not ok:
        lo = "" if minimum is None else f">= {minimum}"
        hi = "" if maximum is None else f"<= {maximum}"
        rule = " and ".join(x for x in (lo, hi) if x)
        raise ParameterError(f"must be a whole number{' ' + rule if rule else ''}", field=field,
                             value=value, source=source, hint=hint)
    return int(value)


def check_draws(draws: Any, field: str = "draws", *, source: str | None = None) -> int:
    """Monte Carlo draws: a whole number >= 0, where 0 means the central estimate only.

    The one rule for every caller (demand, thresholds, designation, run specs and the CLI).

    Raises:
        ParameterError: not a whole number, or negative.
    """
    return check_int_range(draws, field, minimum=0, source=source,
                           hint="Use e.g. 1000 (0 = central estimate only, no intervals)")


def check_choice(value: Any, field: str, choices: Iterable[str], *,
                 source: str | None = None) -> str:
    """One of a fixed set of strings.

    Raises:
        ParameterError: not one of ``choices`` (the message lists them).
    """
    options = list(choices)
    if not isinstance(value, str) or value not in options:
        raise ParameterError("unknown option", field=field, value=value, source=source,
                             hint=f"Use one of: {', '.join(options)}")
    return value


def check_int_list(values: Any, field: str, *, minimum: int = 1,
                   source: str | None = None, hint: str | None = None) -> list[int]:
    """One whole number or a non-empty list of them, each >= ``minimum``; sorted, unique.

    Raises:
        ParameterError: the list is empty, or an item is not a whole number >= ``minimum``.
    """
    items = [values] if isinstance(values, int | np.integer) else list(values)
    if not items:
        raise ParameterError("no values given", field=field, value=values, source=source,
                             hint=hint)
    return sorted({check_int_range(v, field, minimum=minimum, source=source, hint=hint)
                   for v in items})

"""The one formatting policy for numbers shown to people (reports, tables, statements).

Every number a reviewer reads passes through one of these functions, so the same quantity is
written the same way everywhere:

- counts (people, cases, patients, centres): whole numbers with thousands separators
  (``fmt_count(9116623.6) == "9,116,624"``); quantiles of counts are counts;
- rates: per 100,000 person-years to a stated number of decimals (``fmt_rate``);
- probabilities: percentages, with ``"<1%"`` and ``">99%"`` at the ends so that 0.999 never
  prints as 100% or 1 (``fmt_probability``);
- years: four digits, never ``2,025`` (``fmt_year``), and year ranges as ``2025 to 2030``;
- money: pounds with a scale word (``fmt_money(5807517.58) == "£5.8 million"``);
- intervals: ``"lower to upper"`` in the formatting of their quantity (``fmt_interval``).

Missing values (None, NaN) print as :data:`MISSING`. Rounding is half-to-even as Python's
``format`` (the value shown is the value rounded once, from the one source).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from numbers import Real
from typing import Any

__all__ = [
    "MISSING",
    "is_missing",
    "fmt_count",
    "fmt_number",
    "fmt_rate",
    "fmt_probability",
    "fmt_percent",
    "fmt_year",
    "fmt_years",
    "fmt_money",
    "fmt_interval",
    "fmt_bool",
    "fmt_list",
    "humanise",
]

#: What a missing value prints as.
MISSING = "n/a"


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' NA/NaT."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN, pd.NA (raises TypeError for pd.NA in bool)
    except TypeError:
        return True


def _real(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        try:
            import numpy as np

            if isinstance(value, np.generic) and not isinstance(value, np.bool_):
                return float(value)
        except ImportError:  # pragma: no cover - numpy is a dependency
            pass
        raise TypeError(f"{what} must be a number, got {value!r}")
    return float(value)


def fmt_count(value: Any) -> str:
    """A count of people, cases, patients or centres: a whole number with separators.

    Args:
        value: a number (floats are rounded to the nearest whole number).

    Returns:
        e.g. ``"24,470"``; :data:`MISSING` for None/NaN.
    """
    if is_missing(value):
        return MISSING
    v = _real(value, "count")
    if math.isinf(v):
        return "infinite" if v > 0 else "-infinite"
    return f"{round(v):,d}"


def fmt_number(value: Any, digits: int = 1) -> str:
    """A measured quantity (not a count) to ``digits`` decimals with thousands separators."""
    if is_missing(value):
        return MISSING
    return f"{_real(value, 'number'):,.{digits}f}"


def fmt_rate(value: Any, digits: int = 1, per: str | None = None) -> str:
    """A rate already expressed per 100,000 person-years, to ``digits`` decimals.

    Args:
        value: rate per 100,000 (convert per-person rates with ``* 1e5`` first).
        digits: decimals shown; state the precision in the column header or caption.
        per: optional unit appended, e.g. ``"per 100,000"``.
    """
    text = fmt_number(value, digits)
    return f"{text} {per}" if per and text != MISSING else text


def fmt_probability(value: Any) -> str:
    """A probability as a whole percentage, with ``"<1%"`` and ``">99%"`` at the extremes.

    0 and 1 exactly print as ``"0%"`` and ``"100%"`` (certain outcomes, e.g. of arithmetic);
    anything strictly between 0 and 0.01 is ``"<1%"`` and strictly between 0.99 and 1 is
    ``">99%"``, so a near-certainty is never shown as a certainty.

    Raises:
        ValueError: if the value lies outside [0, 1].
    """
    if is_missing(value):
        return MISSING
    p = _real(value, "probability")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"probability must lie in [0, 1], got {p!r}")
    if p == 0.0:
        return "0%"
    if p == 1.0:
        return "100%"
    if p < 0.01:
        return "<1%"
    if p > 0.99:
        return ">99%"
    pct = round(p * 100)
    return f"{min(max(pct, 1), 99)}%"


def fmt_percent(value: Any, digits: int = 0, signed: bool = False) -> str:
    """A percentage already in per cent units (e.g. a change of ``12.3`` -> ``"12%"``)."""
    if is_missing(value):
        return MISSING
    v = _real(value, "percentage")
    return f"{v:+,.{digits}f}%" if signed else f"{v:,.{digits}f}%"


def fmt_year(value: Any) -> str:
    """A calendar year: ``2025`` -> ``"2025"`` (never ``"2,025"`` or ``"2025.0"``)."""
    if is_missing(value):
        return MISSING
    if isinstance(value, str):
        return value
    v = _real(value, "year")
    if v != int(v):
        raise ValueError(f"a year must be a whole number, got {value!r}")
    return str(int(v))


def fmt_years(years: Iterable[Any]) -> str:
    """A span of years: ``[2025, 2030]`` -> ``"2025 to 2030"``; one year -> ``"2025"``."""
    ys = sorted({int(fmt_year(y)) for y in years if not is_missing(y)})
    if not ys:
        return MISSING
    if len(ys) == 1:
        return str(ys[0])
    return f"{ys[0]} to {ys[-1]}"


def fmt_money(value: Any, price_year: str | None = None, digits: int = 1) -> str:
    """Pounds sterling with a scale word: ``5807517.58`` -> ``"£5.8 million"``.

    Below £10,000 whole pounds are shown (``"£9,005"``); thousands are ``"£51 thousand"``;
    millions and billions carry ``digits`` decimals. Negative values keep their sign
    (``"-£1.2 million"``).

    Args:
        value: amount in pounds.
        price_year: optional price base appended, e.g. ``"2025/26"`` -> ``"(2025/26 prices)"``.
        digits: decimals for millions and billions.
    """
    if is_missing(value):
        return MISSING
    v = _real(value, "amount")
    sign = "-" if v < 0 else ""
    a = abs(v)
    if a >= 1e9:
        text = f"£{a / 1e9:,.{digits}f} billion"
    elif a >= 1e6:
        text = f"£{a / 1e6:,.{digits}f} million"
    elif a >= 1e4:
        text = f"£{a / 1e3:,.0f} thousand"
    else:
        text = f"£{a:,.0f}"
    text = sign + text
    return f"{text} ({price_year} prices)" if price_year else text


def fmt_interval(lower: Any, upper: Any, kind: str = "count", digits: int = 1) -> str:
    """An interval as ``"lower to upper"`` in the formatting of its quantity.

    Args:
        lower: lower limit.
        upper: upper limit.
        kind: ``count``, ``rate``, ``number``, ``probability`` or ``money``.
        digits: decimals for ``rate`` and ``number``.
    """
    if is_missing(lower) or is_missing(upper):
        return MISSING
    f = {
        "count": fmt_count,
        "rate": lambda v: fmt_rate(v, digits),
        "number": lambda v: fmt_number(v, digits),
        "probability": fmt_probability,
        "money": fmt_money,
    }.get(kind)
    if f is None:
        raise ValueError(f"kind must be count, rate, number, probability or money, got {kind!r}")
    return f"{f(lower)} to {f(upper)}"


def fmt_bool(value: Any, yes: str = "Yes", no: str = "No") -> str:
    """A flag as a word (``"Yes"``/``"No"`` by default), never ``True``/``False``."""
    if is_missing(value):
        return MISSING
    return yes if bool(value) else no


def fmt_list(items: Iterable[Any]) -> str:
    """A list in words: ``["a", "b", "c"]`` -> ``"a, b and c"`` (never a Python list)."""
    xs = [str(x) for x in items if not is_missing(x)]
    if not xs:
        return "none"
    if len(xs) == 1:
        return xs[0]
    return ", ".join(xs[:-1]) + " and " + xs[-1]


_WORDS = {"gbp": "GBP", "icb": "ICB", "nhs": "NHS", "ons": "ONS", "p": "P", "ichd": "ICHD",
          "dsr": "DSR", "ci": "CI", "mdt": "MDT", "qipp": "QIPP", "lsoa": "LSOA", "id": "ID",
          "lad": "LAD", "gss": "GSS", "hhd": "HHD", "pd": "PD"}


def humanise(name: str) -> str:
    """A column or key name for people: ``"footprint_share"`` -> ``"Footprint share"``.

    Known abbreviations keep their capitals (``"cost_gbp"`` -> ``"Cost GBP"``); quantile
    names ``q0.025`` become ``"2.5% quantile"``.
    """
    s = str(name)
    if s.startswith("q") and s[1:].replace(".", "", 1).isdigit():
        return f"{float(s[1:]) * 100:g}% quantile"
    words = [w for w in s.replace("-", "_").split("_") if w]
    if not words:
        return s
    out = [_WORDS.get(w.lower(), w) for w in words]
    first = out[0]
    out[0] = first if first.isupper() else first[:1].upper() + first[1:]
    return " ".join(out)

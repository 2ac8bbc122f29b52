"""Model tool for benchmarking SCG performance over three years (F001 Appendix 14).

Ten milestone measures (1a/1b budgets and risk sharing, 2 activity data, 3 quality standards,
4 outcomes, 5a/5b designation reviews, 6 benchmarking, 7 stakeholder survey, 8 NSSCG work, 9
financial management rated 1-3, 10 disputes), each with a value for Year 1, 2 and 3. Most are
"% of services for which this exists": give the number of services meeting the measure and
the number of services (the seed's denominator is the services on the national definitions
set, 35 in the 2002 edition) and the tool computes the percentage. Definitions:
``parameters/appraisal/benchmarking.yaml``; chart: :func:`hna.plots.benchmarking.benchmark_chart`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from hna.errors import DataError
from hna.frameworks._common import config_path
from hna.parameters import StrictModel, read_parameter_file

__all__ = ["BenchmarkMeasure", "BenchmarkingConfig", "load_benchmarking", "benchmark"]

_UNITS = ("percent_of_services", "count", "rating", "text")


class BenchmarkMeasure(StrictModel):
    """One Appendix 14 measure."""

    text: str
    unit: Literal["percent_of_services", "count", "rating", "text"]
    comment: str = ""
    target: float | None = None
    scale: dict[str, str] | None = None


class BenchmarkingConfig(StrictModel):
    """Contents of ``parameters/appraisal/benchmarking.yaml``."""

    source: str
    years: int = Field(ge=1)
    measures: dict[str, BenchmarkMeasure] = Field(min_length=1)


def load_benchmarking(path: str | Path | None = None) -> BenchmarkingConfig:
    """Load the Appendix 14 measures (default ``parameters/appraisal/benchmarking.yaml``)."""
    return read_parameter_file(config_path(path, "benchmarking.yaml"), BenchmarkingConfig)


def _value(row: pd.Series, m: BenchmarkMeasure, key: str) -> tuple[float, str]:
    def num(col: str) -> float:
        v = row.get(col)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return math.nan
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise DataError("must be a number", source="measures", field=f"{key}.{col}",
                            value=v) from None
        if not math.isfinite(f) or f < 0:
            raise DataError("must be a non-negative number", source="measures",
                            field=f"{key}.{col}", value=v)
        return f

    if m.unit == "text":
        text = row.get("text")
        return math.nan, "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text)
    if m.unit == "percent_of_services":
        k, n = num("services_meeting"), num("services")
        if math.isnan(k) and not math.isnan(num("value")):
            v = num("value")
            if v > 100:
                raise DataError("a percentage must be at most 100", source="measures",
                                field=f"{key}.value", value=v)
            return v, f"{v:g}%"
        if math.isnan(k) or math.isnan(n):
            return math.nan, "not reported"
        if n <= 0 or k > n:
            raise DataError("services_meeting must be between 0 and services (> 0)",
                            source="measures", field=f"{key}.services_meeting", value=k)
        return 100.0 * k / n, f"{k:g} of {n:g}"
    v = num("value")
    if m.unit == "rating" and not math.isnan(v):
        if m.scale and str(int(v)) not in m.scale or v != int(v):
            raise DataError(f"rating must be one of {', '.join(m.scale or {})}",
                            source="measures", field=f"{key}.value", value=v)
        return v, (m.scale or {}).get(str(int(v)), f"{v:g}")
    return v, "not reported" if math.isnan(v) else f"{v:g}"


def benchmark(
    measures: pd.DataFrame,
    *,
    config: BenchmarkingConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Benchmark table of the Appendix 14 measures over the three years.

    Args:
        measures: long table, one row per measure and year: ``measure`` (``1a``, ``2``, ...),
            ``year`` (1..3), and, by the measure's unit, ``services_meeting`` + ``services``
            (or ``value`` in percent) for percent_of_services, ``value`` for counts and
            ratings (1 poor, 2 average, 3 good), ``text`` for text measures.
        config: the measure definitions (default ``parameters/appraisal/benchmarking.yaml``).

    Returns:
        DataFrame, one row per defined measure (in the seed's order): ``measure, text, unit,
        year_1, year_2, year_3`` (numbers; NaN = not reported or text), ``shown_1..3`` (what a
        reader sees: "12 of 35", "average", the text), ``change`` (year 3 - year 1, numeric
        measures), ``target``, ``status`` (``target met``, ``below target``, ``no target``,
        ``not reported``), ``comment``.

    Raises:
        DataError: an unknown measure, a year outside 1..3, a duplicated measure-year, a count
            above its denominator, a rating off the scale.
    """
    cfg = config if isinstance(config, BenchmarkingConfig) else load_benchmarking(config)
    if not isinstance(measures, pd.DataFrame) or not {"measure", "year"} <= set(measures.columns):
        raise DataError("expected a DataFrame with columns measure, year", source="measures",
                        field="measure")
    df = measures.copy()
    df["measure"] = df["measure"].astype(str)
    unknown = sorted(set(df["measure"]) - set(cfg.measures))
    if unknown:
        raise DataError("unknown measure", source="measures", field="measure", value=unknown[0],
                        hint=f"Use one of: {', '.join(cfg.measures)}")
    years = pd.to_numeric(df["year"], errors="coerce")
    if years.isna().any() or not years.between(1, cfg.years).all() or (years != np.floor(years)).any():
        raise DataError(f"year must be 1..{cfg.years}", source="measures", field="year",
                        value=df.loc[~years.between(1, cfg.years), "year"].iloc[0])
    df["year"] = years.astype(int)
    if df.duplicated(["measure", "year"]).any():
        raise DataError("one row per measure and year", source="measures", field="measure",
                        value=df.loc[df.duplicated(["measure", "year"]), "measure"].iloc[0])
    rows = []
    for key, m in cfg.measures.items():
        row = {"measure": key, "text": m.text, "unit": m.unit}
        for y in range(1, cfg.years + 1):
            hit = df[(df["measure"] == key) & (df["year"] == y)]
            v, shown = _value(hit.iloc[0], m, key) if len(hit) else (math.nan, "not reported")
            row[f"year_{y}"], row[f"shown_{y}"] = v, shown
        first, last = row["year_1"], row[f"year_{cfg.years}"]
        row["change"] = last - first if m.unit != "text" else math.nan
        row["target"] = m.target
        if m.unit == "text":
            row["status"] = "no target"
        elif math.isnan(last):
            row["status"] = "not reported"
        elif m.target is None:
            row["status"] = "no target"
        else:
            row["status"] = "target met" if last >= m.target else "below target"
        row["comment"] = m.comment
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs["source"] = cfg.source
    return out

"""Demand points, travel summaries and nearest-site catchments.

Travel times come from :mod:`hna.geography.travel` (road matrix, user matrix or straight line),
sites from :mod:`hna.geography.sites`. This module attaches demand to points, allocates each
area to its nearest site and summarises travel weighted by demand.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.geography.sites import acute_trusts, hospital_sites, load_sites, major_acute_sites
from hna.geography.tables import (
    area_points,
    as_demand,
    as_sites,
    code_column,
    shared_data_dir,
)
from hna.geography.travel import (
    DEFAULT_CIRCUITY,
    DEFAULT_SPEED_KMH,
    TravelModel,
    distance_km,
    read_travel_matrix,
    travel_minutes,
)

__all__ = [
    "DEFAULT_CIRCUITY",
    "DEFAULT_SPEED_KMH",
    "DEFAULT_THRESHOLDS",
    "TravelModel",
    "shared_data_dir",
    "area_points",
    "demand_points",
    "load_sites",
    "hospital_sites",
    "acute_trusts",
    "major_acute_sites",
    "distance_km",
    "read_travel_matrix",
    "travel_minutes",
    "travel_summary",
    "weighted_quantile",
    "catchments",
    "CatchmentResult",
]

DEFAULT_THRESHOLDS: tuple[float, ...] = (60.0, 90.0, 120.0)


def _values_by_area(values: pd.Series | pd.DataFrame, value: str, year: int | None,
                    source: str) -> pd.Series:
    if isinstance(values, pd.Series):
        s = values.copy()
        s.index = s.index.astype(str)
        return s.groupby(level=0).sum().astype(float)
    table = values
    col = code_column(table, ("area_code", "code"), source)
    if value not in table.columns:
        raise DataError("value column not found", source=source, field=value,
                        value=list(table.columns))
    if "draw" in table.columns:
        raise ParameterError(
            "the table has a 'draw' column", field=source,
            hint="pass the central demand here and the draws separately (draws=)",
        )
    if "year" in table.columns:
        years = sorted(table["year"].dropna().unique().tolist())
        if year is None and len(years) > 1:
            raise ParameterError("the table holds several years; choose one", field="year",
                                 value=years)
        if year is not None:
            if year not in years:
                raise ParameterError("year not in the table", field="year", value=year,
                                     hint=f"available: {years}")
            table = table[table["year"] == year]
    return table.groupby(table[col].astype(str))[value].sum().astype(float)


def demand_points(
    points: pd.DataFrame,
    demand: pd.Series | pd.DataFrame,
    *,
    value: str = "cases",
    year: int | None = None,
    population: pd.Series | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Attach demand to area points: ``area_code, x, y, cases`` (+ ``population``).

    ``demand`` is a Series keyed by area code or a table with ``area_code`` and ``value``
    (e.g. the canonical cases table ``area_code, sex, age_band, year, cases``: summed over sex
    and age band; pick ``year`` if there are several). ``population`` (Series or canonical
    population table) is optional. Every area with demand must have a point.
    """
    cases = _values_by_area(demand, value, year, "demand")
    if (cases < 0).any() or cases.isna().any():
        raise DataError("demand must be non-negative numbers", source="demand", field=value,
                        value=cases[(cases < 0) | cases.isna()].head(3).to_dict())
    pts = points.set_index("area_code")
    missing = sorted(set(cases.index) - set(pts.index))
    if missing:
        raise DataError(f"{len(missing)} area(s) with demand have no point", source="demand",
                        field="area_code", value=missing[:8],
                        hint="use points and demand on the same geography (codes and vintage)")
    out = pd.DataFrame({"area_code": cases.index, "x": pts.loc[cases.index, "x"].to_numpy(),
                        "y": pts.loc[cases.index, "y"].to_numpy(), "cases": cases.to_numpy()})
    if population is not None:
        pop = _values_by_area(population, "population", year, "population")
        out["population"] = out["area_code"].map(pop).fillna(0.0).to_numpy()
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Summaries
# --------------------------------------------------------------------------------------------


def weighted_quantile(values: Iterable[float], weights: Iterable[float], q: float) -> float:
    """Smallest value ``v`` with at least a share ``q`` of the weight at or below ``v``.

    The inverse of the weighted empirical distribution function (no interpolation), so with
    equal weights it is the "inverted CDF" quantile. Zero total weight gives NaN.
    """
    v = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float)
    w = np.asarray(list(weights) if not isinstance(weights, np.ndarray) else weights, float)
    if v.size == 0 or w.sum() <= 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order]) / w.sum()
    idx = int(np.searchsorted(cum, q - 1e-12, side="left"))
    return float(v[order][min(idx, v.size - 1)])


def travel_summary(minutes: Iterable[float], weights: Iterable[float],
                   thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
                   model: TravelModel | None = None) -> dict[str, float]:
    """Demand-weighted travel statistics: mean, median, 90th percentile, max, share beyond.

    Keys: ``mean_minutes, median_minutes, p90_minutes, max_minutes`` and
    ``share_over_<t>_min`` for each threshold (share of demand with travel > t). With a
    ``model``, ``km_equivalent_<t>_min`` gives the straight-line km of each threshold.
    """
    m = np.asarray(list(minutes) if not isinstance(minutes, np.ndarray) else minutes, float)
    w = np.asarray(list(weights) if not isinstance(weights, np.ndarray) else weights, float)
    total = w.sum()
    out = {
        "demand": float(total),
        "mean_minutes": float((m * w).sum() / total) if total > 0 else float("nan"),
        "median_minutes": weighted_quantile(m, w, 0.5),
        "p90_minutes": weighted_quantile(m, w, 0.9),
        "max_minutes": float(m[w > 0].max()) if (w > 0).any() else float("nan"),
    }
    for t in thresholds:
        out[f"share_over_{t:g}_min"] = float(w[m > t].sum() / total) if total > 0 else float("nan")
        if model is not None:
            out[f"km_equivalent_{t:g}_min"] = float(model.km_for(t))
    return out


@dataclass
class CatchmentResult:
    """Nearest-site catchments.

    Attributes:
        allocation: ``area_code, site_code, minutes, km, cases`` (+ ``population``), one row
            per area; ``km`` is straight-line (NaN when a travel matrix was given without
            coordinates).
        sites: per site ``site_code, site_name, n_areas, cases, population, share_of_cases,
            mean_minutes, p90_minutes, max_minutes``.
        travel: demand-weighted statistics over all areas (:func:`travel_summary`).
        assumptions: travel model used (or ``"matrix"``) and thresholds.
    """

    allocation: pd.DataFrame
    sites: pd.DataFrame
    travel: dict[str, float]
    assumptions: dict[str, object] = field(default_factory=dict)


def _site_table(alloc: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    rows = []
    total = alloc["cases"].sum()
    for site in sites.itertuples(index=False):
        part = alloc[alloc["site_code"] == site.site_code]
        w = part["cases"].to_numpy(float)
        m = part["minutes"].to_numpy(float)
        rows.append({
            "site_code": site.site_code,
            "site_name": site.site_name,
            "n_areas": len(part),
            "cases": float(w.sum()),
            "population": float(part["population"].sum()) if "population" in part else np.nan,
            "share_of_cases": float(w.sum() / total) if total > 0 else np.nan,
            "mean_minutes": float((m * w).sum() / w.sum()) if w.sum() > 0 else np.nan,
            "p90_minutes": weighted_quantile(m, w, 0.9),
            "max_minutes": float(m.max()) if len(m) else np.nan,
        })
    out = pd.DataFrame(rows)
    if "population" not in alloc.columns:
        out = out.drop(columns="population")
    return out


def allocation_table(demand: pd.DataFrame, sites: pd.DataFrame, minutes: np.ndarray,
                     assign: np.ndarray) -> pd.DataFrame:
    """One row per demand area: its site, travel minutes, straight-line km and cases.

    ``km`` is NaN when coordinates are missing (e.g. with a travel-time matrix); population is
    kept when the demand has it.

    Args:
        demand: ``area_code, cases`` (+ ``x, y``, ``population``).
        sites: ``site_code`` (+ ``x, y``).
        minutes: travel minutes, areas x sites.
        assign: index of the assigned site for each area.
    """
    rows = np.arange(len(demand))
    alloc = pd.DataFrame({
        "area_code": demand["area_code"],
        "site_code": sites["site_code"].to_numpy()[assign],
        "minutes": minutes[rows, assign],
    })
    if {"x", "y"} <= set(demand.columns) and {"x", "y"} <= set(sites.columns):
        alloc["km"] = distance_km(demand, sites).to_numpy()[rows, assign]
    else:
        alloc["km"] = np.nan
    alloc["cases"] = demand["cases"].to_numpy(float)
    if "population" in demand.columns:
        alloc["population"] = demand["population"].to_numpy(float)
    return alloc


def catchments(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    travel: str | Path | pd.DataFrame | None = None,
    *,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    model: TravelModel | None = None,
) -> CatchmentResult:
    """Allocate each area to its nearest site (by travel time) and summarise.

    ``demand`` is ``area_code, x, y, cases`` (+ ``population``; see :func:`demand_points`);
    ``sites`` is ``site_code, site_name, x, y`` (see :func:`load_sites`). Ties go to the site
    listed first. Areas with no route to any site (matrix input) raise
    :class:`~hna.errors.DataError`.
    """
    d = as_demand(demand, need_xy=travel is None)
    s = as_sites(sites, need_xy=travel is None)
    model = model or TravelModel()
    minutes = travel_minutes(d, s, travel, model=model)
    arr = minutes.to_numpy(float)
    unreachable = np.all(np.isnan(arr), axis=1)
    if unreachable.any():
        raise DataError("areas with no travel time to any site", source="travel",
                        value=d.loc[unreachable, "area_code"].tolist()[:8])
    best = np.nanargmin(np.where(np.isnan(arr), np.inf, arr), axis=1)
    alloc = allocation_table(d, s, arr, best)
    summary = travel_summary(alloc["minutes"], alloc["cases"], thresholds,
                             model if travel is None else None)
    assumptions: dict[str, object] = {"thresholds_minutes": tuple(thresholds)}
    if travel is None:
        assumptions.update(circuity=model.circuity, speed_kmh=model.speed_kmh,
                           travel="straight-line x circuity / speed")
    else:
        assumptions.update(travel="matrix")
    return CatchmentResult(allocation=alloc, sites=_site_table(alloc, s), travel=summary,
                           assumptions=assumptions)

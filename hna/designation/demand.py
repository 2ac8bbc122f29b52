"""Demand for designation: per district over the horizon, then per small area (LSOA).

1. :func:`district_demand`: expected demand (and Monte Carlo draws) of every district (LAD) of
   a footprint for each year of the horizon, from :func:`hna.demand.level_demand` computed for
   all of England at once (so a district's draws do not depend on the footprint asked for),
   scaled by each member's share (ICB splits by LSOA population).
2. :func:`area_demand`: the district demand apportioned to LSOAs in proportion to population
   (:func:`hna.geography.small_areas.apportion`), or kept per district at the population-
   weighted mean of its LSOA centroids (``geography="lad"``). LSOA values sum to the district
   values exactly (to floating-point precision).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna.checks import check_draws, check_int_range
from hna.errors import DataError, ParameterError
from hna.geography import Footprint, area_name, resolve_footprint
from hna.geography.small_areas import apportion, footprint_lsoas
from hna.services import Service, load_service

__all__ = ["DistrictDemand", "AreaDemand", "district_demand", "area_demand"]


@dataclass
class DistrictDemand:
    """Demand for a service in each district of a footprint.

    Attributes:
        cases: ``area_code, name, share, population, cases`` in the design ``year``: expected
            number a year (incidence: new cases; prevalence: patients) from the district's
            ``share`` of its population in the footprint.
        draws: ``area_code, draw, cases`` Monte Carlo draws in ``year`` (scaled by ``share``);
            empty when ``draws=0``.
        by_year: ``area_code, year, cases`` expected demand in every year of the horizon.
        totals: footprint total per draw, shape ``(years, draws)`` (empty without draws).
        years: the horizon's years; ``year`` is the design year (one of them).
        meta: provenance of the demand (``hna.demand`` meta).
    """

    cases: pd.DataFrame
    draws: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    totals: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    years: list[int] = field(default_factory=list)
    year: int = 0

    @property
    def total(self) -> float:
        """Expected demand of the footprint in the design year."""
        return float(self.cases["cases"].sum())


def _footprint(footprint: str | Footprint) -> Footprint:
    return footprint if isinstance(footprint, Footprint) else resolve_footprint(footprint)


def _years(year: int, horizon_end: int | None) -> list[int]:
    year = check_int_range(year, "year", minimum=1900, maximum=2100)
    if horizon_end is None:
        return [year]
    end = check_int_range(horizon_end, "horizon_end", minimum=year, maximum=2100)
    return list(range(year, end + 1))


def district_demand(  # noqa: PLR0913 - the demand options of hna.demand, keyword-only
    service: str | Service,
    footprint: str | Footprint,
    year: int = 2025,
    draws: int = 200,
    seed: int = 1,
    *,
    horizon_end: int | None = None,
    population: pd.DataFrame | str | Path | None = None,
) -> DistrictDemand:
    """Expected demand and Monte Carlo draws per district (LAD) of a footprint.

    Args:
        service: service id, YAML path or Service.
        footprint: GSS code, name or Footprint.
        year: the design year (the first year of the horizon).
        draws: Monte Carlo draws (0: central estimate only).
        seed: root seed of the draws.
        horizon_end: last year of the horizon (default: ``year`` only).
        population: district population (default: bundled ONS mid-2020 and projections).

    Raises:
        DataError: districts of the footprint without demand in the population.
    """
    from hna.demand import level_demand

    svc = load_service(service)
    fp = _footprint(footprint)
    years = _years(year, horizon_end)
    draws = check_draws(draws)
    res = level_demand(svc, "lad", years=years, draws=draws, seed=seed, population=population)
    members = fp.members[fp.members["share"] > 0][["lad_code", "share"]]
    summary = res.summary.set_index(["area_code", "year"])
    missing = sorted(set(members["lad_code"]) - set(res.summary["area_code"]))
    if missing:
        raise DataError(f"{len(missing)} district(s) of the footprint have no demand",
                        source="population", field="area_code", value=missing[:8],
                        hint="the population must cover every district of the footprint")
    share = members.set_index("lad_code")["share"].astype(float)
    codes = members["lad_code"].tolist()
    idx = pd.MultiIndex.from_arrays([codes, [years[0]] * len(codes)])
    s = share.loc[codes].to_numpy()
    cases = pd.DataFrame({
        "area_code": codes, "name": [area_name(c) for c in codes], "share": s,
        "population": summary.loc[idx, "population"].to_numpy(float) * s,
        "cases": summary.loc[idx, "expected"].to_numpy(float) * s,
    })
    by = res.summary[res.summary["area_code"].isin(codes)]
    by_year = pd.DataFrame({"area_code": by["area_code"].to_numpy(), "year": by["year"].to_numpy(),
                            "cases": by["expected"].to_numpy(float)
                            * by["area_code"].map(share).to_numpy(float)})
    long, totals = _draws(res.draws, svc.value, codes, share, years)
    meta = {k: v for k, v in res.meta.items() if k not in ("footprints", "data_vintages")}
    meta.update(footprint=fp.code, footprint_name=fp.name, footprint_note=fp.note,
                geography="lad", year=years[0], years=years)
    return DistrictDemand(cases=cases, draws=long, meta=meta, by_year=by_year, totals=totals,
                          years=years, year=years[0])


def _draws(draws: pd.DataFrame, value: str, codes: list[str], share: pd.Series,
           years: list[int]) -> tuple[pd.DataFrame, np.ndarray]:
    if draws.empty:
        empty = pd.DataFrame({"area_code": pd.Series(dtype=str), "draw": pd.Series(dtype=int),
                              "cases": pd.Series(dtype=float)})
        return empty, np.zeros((len(years), 0))
    d = draws[draws["area_code"].isin(codes)]
    scaled = d[value].to_numpy(float) * d["area_code"].map(share).to_numpy(float)
    d = pd.DataFrame({"area_code": d["area_code"].astype(str).to_numpy(),
                      "year": d["year"].to_numpy(int), "draw": d["draw"].to_numpy(int),
                      "cases": scaled})
    totals = d.pivot_table(index="year", columns="draw", values="cases", aggfunc="sum")
    first = d[d["year"] == years[0]][["area_code", "draw", "cases"]].reset_index(drop=True)
    return first, totals.reindex(years).to_numpy(float)


@dataclass
class AreaDemand:
    """Demand points for designation.

    Attributes:
        table: one row per area: ``area_code, lad_code, name, x, y, population, cases,
            imd_quintile`` (+ ``imd_decile, weight`` for LSOAs); ``cases`` in the design year.
        by_year: areas x years (index ``area_code``) of expected demand over the horizon.
        draws: area draws ``area_code, draw, cases`` in the design year (LSOAs get their
            district's draw x population weight); empty without draws.
        geography: ``"lsoa"`` or ``"lad"``.
        district: the :class:`DistrictDemand` it came from.
    """

    table: pd.DataFrame
    by_year: pd.DataFrame
    draws: pd.DataFrame
    geography: str
    district: DistrictDemand


def area_demand(demand: DistrictDemand, footprint: Footprint, geography: str = "lsoa"
                ) -> AreaDemand:
    """Apportion district demand to LSOAs (or place it at district points).

    Args:
        demand: the district demand of ``footprint``.
        footprint: the footprint (its members select the LSOAs of split districts).
        geography: ``"lsoa"`` (population-weighted apportionment to LSOAs) or ``"lad"``
            (one point per district: the population-weighted mean of its LSOA centroids).

    Raises:
        ParameterError: an unknown geography.
    """
    if geography not in ("lsoa", "lad"):
        raise ParameterError("geography must be 'lsoa' or 'lad'", field="geography",
                             value=geography)
    lsoa = footprint_lsoas(footprint.members)
    table = apportion(demand.cases[["area_code", "cases", "population"]], lsoa)
    wide = demand.by_year.pivot(index="area_code", columns="year", values="cases")
    names = demand.cases.set_index("area_code")["name"]
    if geography == "lsoa":
        table.insert(2, "name", table["lad_code"].map(names).to_numpy())
        by_year = pd.DataFrame(wide.loc[table["lad_code"]].to_numpy()
                               * table["weight"].to_numpy()[:, None],
                               index=pd.Index(table["area_code"], name="area_code"),
                               columns=wide.columns)
        draws = _lsoa_draws(demand.draws, table)
        return AreaDemand(table=table, by_year=by_year, draws=draws, geography="lsoa",
                          district=demand)
    return AreaDemand(table=_district_points(table, demand, names), by_year=wide,
                      draws=demand.draws, geography="lad", district=demand)


def _lsoa_draws(draws: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    if draws.empty:
        return draws
    from hna.geography.small_areas import apportion_draws

    return apportion_draws(draws, table)


def _district_points(table: pd.DataFrame, demand: DistrictDemand, names: pd.Series
                     ) -> pd.DataFrame:
    w = table["population"].to_numpy(float)
    g = pd.DataFrame({"lad_code": table["lad_code"], "wx": table["x"] * w, "wy": table["y"] * w,
                      "w": w, "q": table["imd_quintile"] * w})
    agg = g.groupby("lad_code").sum()
    codes = demand.cases["area_code"]
    return pd.DataFrame({
        "area_code": codes.to_numpy(), "lad_code": codes.to_numpy(),
        "name": codes.map(names).to_numpy(),
        "x": (agg["wx"] / agg["w"]).loc[codes].to_numpy(),
        "y": (agg["wy"] / agg["w"]).loc[codes].to_numpy(),
        "population": demand.cases["population"].to_numpy(float),
        "cases": demand.cases["cases"].to_numpy(float),
        "imd_quintile": np.rint((agg["q"] / agg["w"]).loc[codes].to_numpy()).astype(int),
    })

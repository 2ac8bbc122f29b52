"""Input tables of the spatial stage: shared data folder, coordinates, demand and site tables.

Geometry is on the British National Grid (EPSG:27700, metres), so straight-line distance is
Euclidean distance in metres / 1000. Every table is checked on entry: a bad table raises one
:class:`~hna.errors.DataError` naming the table, the field and the value.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from hna.errors import DataError, ParameterError
from hna.geography.boundaries import BNG

__all__ = ["shared_data_dir", "area_points", "xy_from_table", "code_column", "as_demand",
           "as_sites"]

_TO_BNG = Transformer.from_crs("EPSG:4326", BNG, always_xy=True)


def shared_data_dir(data_dir: str | Path | None = None) -> Path:
    """The shared open-data folder: ``data_dir``, ``$HNA_SHARED_DATA``, or ``../shared/data``.

    The default is the ``shared/data`` folder next to the repository (``<repo>/../shared/data``).
    """
    if data_dir is None:
        env = os.environ.get("HNA_SHARED_DATA")
        data_dir = Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"
    path = Path(data_dir)
    if not path.is_dir():
        raise DataError("shared data folder not found", source=str(path),
                        hint="pass data_dir= or set HNA_SHARED_DATA to the shared/data folder")
    return path



def xy_from_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """Return ``x, y`` on BNG from columns x/y, easting/northing (BNG) or lon/lat (WGS84)."""
    lower = {str(c).lower(): c for c in table.columns}
    for xs, ys in (("x", "y"), ("easting", "northing"), ("bng_e", "bng_n"), ("e", "n")):
        if xs in lower and ys in lower:
            x = pd.to_numeric(table[lower[xs]], errors="coerce")
            y = pd.to_numeric(table[lower[ys]], errors="coerce")
            return pd.DataFrame({"x": x.to_numpy(float), "y": y.to_numpy(float)},
                                index=table.index)
    for xs, ys in (("longitude", "latitude"), ("lon", "lat"), ("long", "lat")):
        if xs in lower and ys in lower:
            lon = pd.to_numeric(table[lower[xs]], errors="coerce").to_numpy(float)
            lat = pd.to_numeric(table[lower[ys]], errors="coerce").to_numpy(float)
            x, y = _TO_BNG.transform(lon, lat)
            return pd.DataFrame({"x": np.asarray(x, float), "y": np.asarray(y, float)},
                                index=table.index)
    raise DataError(
        "no coordinate columns", source=source, value=list(table.columns),
        hint="give x/y or easting/northing (EPSG:27700), or longitude/latitude (WGS84)",
    )


def code_column(table: pd.DataFrame, preferred: Sequence[str], source: str,
                explicit: str | None = None) -> str:
    """The code column of a table: ``explicit``, else the first of ``preferred`` present.

    Raises:
        DataError: no such column (naming the table and its columns).
    """
    if explicit is not None:
        if explicit not in table.columns:
            raise DataError("column not found", source=source, field=explicit,
                            value=list(table.columns))
        return explicit
    lower = {str(c).lower(): c for c in table.columns}
    for name in preferred:
        if name in lower:
            return lower[name]
    raise DataError("no code column", source=source, value=list(table.columns),
                    hint=f"name it one of {list(preferred)}")


def area_points(
    areas: gpd.GeoDataFrame | pd.DataFrame,
    weighted: pd.DataFrame | None = None,
    *,
    code_col: str | None = None,
) -> pd.DataFrame:
    """One point per area: ``area_code, x, y, method`` on EPSG:27700.

    ``weighted`` is an optional table of population-weighted centroids (``area_code`` or
    ``code`` plus x/y, easting/northing or longitude/latitude), e.g. the ONS LAD or LSOA
    population-weighted centroids; they are used where available (``method =
    "population_weighted"``). Other areas get the geometric centroid of their polygon, or a
    point inside the polygon when the centroid falls outside it (``method = "geometric"``).
    ``areas`` may also be a plain table of points (then ``method = "given"``).
    """
    if isinstance(areas, gpd.GeoDataFrame):
        col = code_column(areas, ("area_code", "code"), "areas", code_col)
        geo = areas.to_crs(BNG) if areas.crs is not None else areas
        if areas.crs is None:
            raise DataError("areas have no CRS", source="areas",
                            hint="use hna.geography.boundaries.load_boundaries()")
        cent = geo.geometry.centroid
        inside = cent.within(geo.geometry)
        rep = geo.geometry.representative_point()
        pts = cent.where(inside, rep)
        out = pd.DataFrame({"area_code": geo[col].astype(str).to_numpy(),
                            "x": pts.x.to_numpy(), "y": pts.y.to_numpy(),
                            "method": "geometric"})
    else:
        col = code_column(areas, ("area_code", "code"), "areas", code_col)
        xy = xy_from_table(areas, "areas")
        out = pd.DataFrame({"area_code": areas[col].astype(str).to_numpy(),
                            "x": xy["x"].to_numpy(), "y": xy["y"].to_numpy(), "method": "given"})
    if weighted is not None:
        wcol = code_column(weighted, ("area_code", "code"), "weighted centroids")
        wxy = xy_from_table(weighted, "weighted centroids")
        w = pd.DataFrame({"x": wxy["x"].to_numpy(), "y": wxy["y"].to_numpy()},
                         index=weighted[wcol].astype(str).to_numpy())
        w = w[~w.index.duplicated()]
        hit = out["area_code"].isin(w.index)
        out.loc[hit, "x"] = w.loc[out.loc[hit, "area_code"], "x"].to_numpy()
        out.loc[hit, "y"] = w.loc[out.loc[hit, "area_code"], "y"].to_numpy()
        out.loc[hit, "method"] = "population_weighted"
    if out["area_code"].duplicated().any():
        raise DataError("repeated area codes", source="areas", field="area_code",
                        value=out.loc[out["area_code"].duplicated(), "area_code"].tolist()[:5])
    return out.reset_index(drop=True)


def as_demand(demand: pd.DataFrame, *, need_xy: bool) -> pd.DataFrame:
    """Validate a demand table (``area_code, cases`` and, unless a matrix is given, ``x, y``)."""
    if isinstance(demand, gpd.GeoDataFrame) and not {"x", "y"} <= set(demand.columns):
        pts = area_points(demand)
        demand = pd.DataFrame(demand.drop(columns=demand.geometry.name)).assign(
            x=pts["x"].to_numpy(), y=pts["y"].to_numpy())
    if not isinstance(demand, pd.DataFrame):
        raise ParameterError("demand must be a table (area_code, x, y, cases)", field="demand",
                             value=type(demand).__name__, hint="use demand_points()")
    required = ["area_code", "cases"] + (["x", "y"] if need_xy else [])
    missing = [c for c in required if c not in demand.columns]
    if missing:
        raise DataError("demand table lacks columns", source="demand", value=missing,
                        hint="build it with hna.catchments.demand_points()")
    out = pd.DataFrame(demand).copy()
    out["area_code"] = out["area_code"].astype(str)
    if out["area_code"].duplicated().any():
        raise DataError("repeated area codes in demand", source="demand", field="area_code",
                        value=out.loc[out["area_code"].duplicated(), "area_code"].tolist()[:5])
    out["cases"] = pd.to_numeric(out["cases"], errors="coerce")
    bad = out["cases"].isna() | (out["cases"] < 0)
    if bad.any():
        raise DataError("demand must be non-negative numbers", source="demand", field="cases",
                        value=out.loc[bad, "area_code"].tolist()[:5])
    if len(out) == 0:
        raise DataError("demand table is empty", source="demand")
    return out.reset_index(drop=True)


def as_sites(sites: pd.DataFrame, *, need_xy: bool, source: str = "sites") -> pd.DataFrame:
    """Validate a sites table (``site_code`` and, unless a matrix is given, ``x, y``).

    Raises:
        DataError: missing columns, repeated codes or no sites.
    """
    if not isinstance(sites, pd.DataFrame):
        raise ParameterError("sites must be a table (site_code, site_name, x, y)", field=source,
                             value=type(sites).__name__, hint="use load_sites()")
    required = ["site_code"] + (["x", "y"] if need_xy else [])
    missing = [c for c in required if c not in sites.columns]
    if missing:
        raise DataError("sites table lacks columns", source=source, value=missing,
                        hint="build it with hna.geography.sites.load_sites()")
    out = pd.DataFrame(sites).copy()
    out["site_code"] = out["site_code"].astype(str)
    if "site_name" not in out.columns:
        out["site_name"] = out["site_code"]
    if out["site_code"].duplicated().any():
        raise DataError("repeated site codes", source=source, field="site_code",
                        value=out.loc[out["site_code"].duplicated(), "site_code"].tolist()[:5])
    if len(out) == 0:
        raise DataError("no sites", source=source)
    return out.reset_index(drop=True)


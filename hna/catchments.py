"""Demand points, candidate sites, travel times and nearest-site catchments.

Geometry is on the British National Grid (EPSG:27700, metres), so straight-line distance is
Euclidean distance in metres / 1000.

Travel time, until a routing engine is plugged in, is estimated as::

    minutes = straight_line_km * circuity / speed_kmh * 60

with two documented, configurable assumptions (see ``docs/methods/designation.md``):

* ``circuity`` (default 1.3): road distance / straight-line distance. Published ratios for road
  travel are typically between about 1.2 and 1.4 and fall with trip length (Ballou, Rahardja
  and Sakai 2002, *Transportation Research Part A* 36:843-848; Boscoe, Henry and Zdeb 2012,
  *Professional Geographer* 64:188-196, for trips to hospitals). 1.3 is a round central value:
  an assumption, not a measurement for England.
* ``speed_kmh`` (default 60 km/h, about 37 mph): an average door-to-door road speed for trips
  to a specialised centre, which mix local roads (DfT *Travel time measures for the Strategic
  Road Network and local 'A' roads*: about 25 mph on local A roads) with the strategic road
  network (about 60 mph). A planning assumption: check it against a routing engine.

Anywhere a travel estimate is used, a precomputed matrix (CSV ``origin, destination, minutes``,
e.g. from OSRM or a commercial router) can be passed as ``travel=`` instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from hna.boundaries import BNG
from hna.errors import DataError, ParameterError

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

DEFAULT_CIRCUITY = 1.3
DEFAULT_SPEED_KMH = 60.0
DEFAULT_THRESHOLDS: tuple[float, ...] = (60.0, 90.0, 120.0)

_TO_BNG = Transformer.from_crs("EPSG:4326", BNG, always_xy=True)


@dataclass(frozen=True)
class TravelModel:
    """Straight-line to travel-time conversion: ``km * circuity / speed_kmh * 60`` minutes."""

    circuity: float = DEFAULT_CIRCUITY
    speed_kmh: float = DEFAULT_SPEED_KMH

    def __post_init__(self) -> None:
        if not (np.isfinite(self.circuity) and self.circuity >= 1.0):
            raise ParameterError("circuity must be a number >= 1 (road / straight-line distance)",
                                 field="circuity", value=self.circuity)
        if not (np.isfinite(self.speed_kmh) and self.speed_kmh > 0):
            raise ParameterError("speed must be a positive number of km/h", field="speed_kmh",
                                 value=self.speed_kmh)

    def minutes(self, km: np.ndarray | pd.DataFrame | float):
        """Travel minutes for straight-line kilometres."""
        return km * self.circuity / self.speed_kmh * 60.0

    def km_for(self, minutes: float) -> float:
        """Straight-line kilometres equivalent to ``minutes`` of travel."""
        return minutes * self.speed_kmh / 60.0 / self.circuity


# --------------------------------------------------------------------------------------------
# Shared data
# --------------------------------------------------------------------------------------------


def shared_data_dir(data_dir: str | Path | None = None) -> Path:
    """The shared open-data folder: ``data_dir``, ``$HNA_SHARED_DATA``, or ``../shared/data``.

    The default is the ``shared/data`` folder next to the repository (``<repo>/../shared/data``).
    """
    if data_dir is None:
        env = os.environ.get("HNA_SHARED_DATA")
        data_dir = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    path = Path(data_dir)
    if not path.is_dir():
        raise DataError("shared data folder not found", source=str(path),
                        hint="pass data_dir= or set HNA_SHARED_DATA to the shared/data folder")
    return path


# --------------------------------------------------------------------------------------------
# Demand points
# --------------------------------------------------------------------------------------------


def _xy_from_table(table: pd.DataFrame, source: str) -> pd.DataFrame:
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


def _code_column(table: pd.DataFrame, preferred: Sequence[str], source: str,
                 explicit: str | None = None) -> str:
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
        col = _code_column(areas, ("area_code", "code"), "areas", code_col)
        geo = areas.to_crs(BNG) if areas.crs is not None else areas
        if areas.crs is None:
            raise DataError("areas have no CRS", source="areas",
                            hint="use hna.boundaries.load_boundaries()")
        cent = geo.geometry.centroid
        inside = cent.within(geo.geometry)
        rep = geo.geometry.representative_point()
        pts = cent.where(inside, rep)
        out = pd.DataFrame({"area_code": geo[col].astype(str).to_numpy(),
                            "x": pts.x.to_numpy(), "y": pts.y.to_numpy(),
                            "method": "geometric"})
    else:
        col = _code_column(areas, ("area_code", "code"), "areas", code_col)
        xy = _xy_from_table(areas, "areas")
        out = pd.DataFrame({"area_code": areas[col].astype(str).to_numpy(),
                            "x": xy["x"].to_numpy(), "y": xy["y"].to_numpy(), "method": "given"})
    if weighted is not None:
        wcol = _code_column(weighted, ("area_code", "code"), "weighted centroids")
        wxy = _xy_from_table(weighted, "weighted centroids")
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


def _values_by_area(values: pd.Series | pd.DataFrame, value: str, year: int | None,
                    source: str) -> pd.Series:
    if isinstance(values, pd.Series):
        s = values.copy()
        s.index = s.index.astype(str)
        return s.groupby(level=0).sum().astype(float)
    table = values
    col = _code_column(table, ("area_code", "code"), source)
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


def _as_demand(demand: pd.DataFrame, *, need_xy: bool) -> pd.DataFrame:
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


# --------------------------------------------------------------------------------------------
# Sites
# --------------------------------------------------------------------------------------------

_SITE_CODE = ("site_code", "organisationcode", "code", "nhs_trust22_code", "trust_code",
              "ods_code", "hospital_code")
_SITE_NAME = ("site_name", "organisationname", "name", "nhs_trust22_name", "trust_name",
              "hospital22_name", "hospital_name")


def load_sites(
    path: str | Path | pd.DataFrame,
    *,
    code_field: str | None = None,
    name_field: str | None = None,
    nhs_only: bool = False,
) -> pd.DataFrame:
    """Read a table of sites into ``site_code, site_name, x, y`` (EPSG:27700) plus extras.

    Reads CSV with longitude/latitude (the NHS Choices and RCPCH hospital files: site code
    ``OrganisationCode``, name ``OrganisationName``, trust ``ParentODSCode``) or with x/y or
    easting/northing, and point GeoJSON/GeoPackage/shapefile (e.g. the geocoded trust points;
    files without a code column get their name as code). Extra columns kept when present:
    ``trust_code, trust_name, sector, postcode``. ``nhs_only`` keeps ``Sector == "NHS Sector"``.
    Sites without coordinates are dropped; their number is in ``attrs["dropped"]``.
    """
    source = "sites table" if isinstance(path, pd.DataFrame) else str(path)
    if isinstance(path, gpd.GeoDataFrame):
        raw: pd.DataFrame = path
    elif isinstance(path, pd.DataFrame):
        raw = path
    else:
        p = Path(path)
        if not p.exists():
            raise DataError("sites file not found", source=source)
        if p.suffix.lower() in (".csv", ".txt"):
            raw = pd.read_csv(p, dtype=str, encoding_errors="replace")
            first = str(raw.columns[0])
            if re.match(r"^[A-Z0-9]{3,5}$", first) or re.match(r"^[A-Z]{1,2}\d", first):
                raise DataError(
                    "this CSV has no header row (an ODS etr trust list or postcode lookup?) and "
                    "no site coordinates", source=source,
                    hint="use a site file with coordinates (e.g. the NHS Choices hospital CSV)",
                )
        else:
            try:
                raw = gpd.read_file(p)
            except Exception as exc:
                raise DataError(f"cannot read sites file ({exc})", source=source) from exc
    if isinstance(raw, gpd.GeoDataFrame):
        geo = raw.to_crs(BNG) if raw.crs is not None else raw.set_crs(BNG)
        pts = geo.geometry.representative_point()
        xy = pd.DataFrame({"x": pts.x.to_numpy(), "y": pts.y.to_numpy()}, index=geo.index)
        table = pd.DataFrame(geo.drop(columns=geo.geometry.name))
    else:
        table = raw
        xy = _xy_from_table(table, source)
    lower = {str(c).lower(): c for c in table.columns}
    name_col = _code_column(table, _SITE_NAME, source, name_field)
    try:
        code_col = _code_column(table, _SITE_CODE, source, code_field)
        codes = table[code_col].astype(str).str.strip()
    except DataError:
        if code_field is not None:
            raise
        codes = table[name_col].astype(str).str.strip()
    out = pd.DataFrame({
        "site_code": codes.to_numpy(),
        "site_name": table[name_col].astype(str).str.strip().to_numpy(),
        "x": xy["x"].to_numpy(float),
        "y": xy["y"].to_numpy(float),
    })
    extras = {"parentodscode": "trust_code", "parentname": "trust_name", "sector": "sector",
              "postcode": "postcode", "trust_code": "trust_code", "trust_name": "trust_name"}
    for low, new in extras.items():
        if low in lower and new not in out.columns:
            out[new] = table[lower[low]].to_numpy()
    if nhs_only:
        if "sector" not in out.columns:
            raise DataError("no Sector column to filter NHS sites on", source=source)
        out = out[out["sector"].astype(str).str.strip().str.lower() == "nhs sector"]
    ok = np.isfinite(out["x"]) & np.isfinite(out["y"])
    dropped = int((~ok).sum())
    out = out[ok].reset_index(drop=True)
    out.attrs["source"] = source
    out.attrs["dropped"] = dropped
    if len(out) == 0:
        raise DataError("no sites with coordinates", source=source)
    return out


def _as_sites(sites: pd.DataFrame, *, need_xy: bool, source: str = "sites") -> pd.DataFrame:
    if not isinstance(sites, pd.DataFrame):
        raise ParameterError("sites must be a table (site_code, site_name, x, y)", field=source,
                             value=type(sites).__name__, hint="use load_sites()")
    required = ["site_code"] + (["x", "y"] if need_xy else [])
    missing = [c for c in required if c not in sites.columns]
    if missing:
        raise DataError("sites table lacks columns", source=source, value=missing,
                        hint="build it with hna.catchments.load_sites()")
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


_MAJOR_NAME = re.compile(r"\b(?:HOSPITAL|INFIRMARY)\b", re.I)
_NOT_MAJOR = re.compile(
    r"\b(?:COMMUNITY|CHILDREN'?S?|CHILD|ROSIE|EYE|DENTAL|MATERNITY|WOMEN'?S|HOSPICE|HEALTH CENTRE|"
    r"CLINIC|HOUSE|UNIT|CENTRE|LODGE|COURT|PSYCHIATRIC|MENTAL|REHABILITATION|WAR MEMORIAL|"
    r"COTTAGE|INDEPENDENT|PRIVATE|NUFFIELD|SPIRE|BMI)\b",
    re.I,
)


def _tidy_name(name: str) -> str:
    """Capitalise names given in upper case (``QUEEN'S HOSPITAL`` -> ``Queen's Hospital``)."""
    name = re.sub(r"\s+", " ", name).strip()
    if not name.isupper():
        return name
    keep = {"NHS", "HQ", "UK", "II"}
    return re.sub(r"[A-Za-z]+(?:'[A-Za-z]+)?",
                  lambda m: m.group(0) if m.group(0) in keep else m.group(0).capitalize(), name)


@lru_cache(maxsize=4)
def _hospital_sites_cached(data_dir: str) -> pd.DataFrame:
    base = Path(data_dir) / "facilities"
    frames = []
    for fname, year in (("rcpch_paediatric_epilepsy_hospital_sites_2024.csv", 2024),
                        ("nhs_choices_hospitals_2018-01-30.csv", 2018)):
        path = base / fname
        if path.exists():
            sites = load_sites(path).assign(source_year=year)
            # Sector is blank or wrong for some RCPCH rows: NHS trusts have ODS codes R..
            nhs = (sites["sector"].astype(str).str.strip().str.lower() == "nhs sector") | (
                sites["trust_code"].astype(str).str.strip().str.match(r"^R[A-Z0-9]{2}$"))
            frames.append(sites[nhs])
    if not frames:
        raise DataError("no hospital site files found", source=str(base),
                        hint="expected the NHS Choices 2018 or RCPCH 2024 hospital CSVs")
    sites = pd.concat(frames, ignore_index=True)
    sites["site_name"] = sites["site_name"].str.strip().map(_tidy_name)
    sites["trust_code"] = sites["trust_code"].astype(str).str.strip()
    # A site listed in both files under the same trust is kept once (2024 first). A site whose
    # trust changed (merger) is kept under both trust codes so either vintage finds it.
    return sites.drop_duplicates(["site_code", "trust_code"], keep="first").reset_index(drop=True)


def hospital_sites(data_dir: str | Path | None = None) -> pd.DataFrame:
    """NHS hospital sites from the shared facilities folder (RCPCH 2024 + NHS Choices 2018).

    Columns ``site_code, site_name, x, y, trust_code, trust_name, sector, postcode,
    source_year``. Sites are NHS-sector only.
    """
    return _hospital_sites_cached(str(shared_data_dir(data_dir))).copy()


def _nhser_codes(data_dir: Path) -> pd.DataFrame:
    look = pd.read_csv(data_dir / "lookups" / "icb_to_nhser_en.csv", dtype=str)
    return look[["nhser_ods", "nhser_code", "nhser_name"]].drop_duplicates()


def acute_trusts(data_dir: str | Path | None = None, *, include_closed: bool = False
                 ) -> pd.DataFrame:
    """Acute NHS trusts: ``trust_code, trust_name, nhser_code, nhser_name, status``.

    "Acute" means the trust appears in OHID's *NHS Acute (Hospital) Trust Catchment
    Populations* (2022), the only acute-trust list in the shared data; it includes specialist
    acute trusts (e.g. orthopaedic and cancer trusts). NHS England regions come from the ODS
    trust list (2022) via the region's ODS code, given with the 2022 E40 codes.
    """
    base = shared_data_dir(data_dir)
    trusts = pd.read_csv(base / "lookups" / "nhs_trust22_to_nhser21.csv", dtype=str)
    catch = pd.read_csv(base / "lookups" / "nhs_trust22_to_icb22_catchment_proportions.csv",
                        dtype=str)
    acute = trusts[trusts["nhs_trust22_code"].isin(set(catch["nhs_trust22_code"]))]
    if not include_closed:
        acute = acute[acute["status"].str.lower() == "open"]
    regions = _nhser_codes(base)
    out = acute.merge(regions, left_on="nhs_region21_nhs_code", right_on="nhser_ods", how="left")
    return pd.DataFrame({
        "trust_code": out["nhs_trust22_code"].to_numpy(),
        "trust_name": out["nhs_trust22_name"].to_numpy(),
        "nhser_code": out["nhser_code"].to_numpy(),
        "nhser_name": out["nhser_name"].to_numpy(),
        "status": out["status"].to_numpy(),
    }).sort_values("trust_code", ignore_index=True)


def _trust_hq_points(base: Path) -> pd.DataFrame:
    """Trust HQ coordinates: ODS etr HQ postcode -> NSPL centroid, else geocoded trust point."""
    fac = base / "facilities"
    rows = []
    pc_path = fac / "ods_etr_2021-01_hq_postcode_bng_nspl_nov2020.csv"
    if pc_path.exists():
        pcs = pd.read_csv(pc_path, header=None, names=["postcode", "x", "y"], dtype=str)
        pcs["x"] = pd.to_numeric(pcs["x"], errors="coerce")
        pcs["y"] = pd.to_numeric(pcs["y"], errors="coerce")
        for fname in ("ods_etr_trusts_2022-01.csv", "ods_etr_trusts_2021-01.csv"):
            if (fac / fname).exists():
                etr = pd.read_csv(fac / fname, header=None, dtype=str)
                hq = etr[[0, 9]].set_axis(["trust_code", "postcode"], axis=1)
                rows.append(hq.merge(pcs, on="postcode", how="inner")[["trust_code", "x", "y"]])
    pts_path = fac / "nhs_trusts_2022_points.geojson"
    if pts_path.exists():
        pts = load_sites(pts_path)
        rows.append(pts.rename(columns={"site_code": "trust_code"})[["trust_code", "x", "y"]])
    if not rows:
        return pd.DataFrame(columns=["trust_code", "x", "y"])
    hq = pd.concat(rows, ignore_index=True).dropna()
    return hq.drop_duplicates("trust_code", keep="first").set_index("trust_code")


_MAX_SITE_TO_HQ_M = 15_000.0  # a trust's main site is within 15 km of its HQ postcode


def _main_sites(base: Path, trusts: pd.DataFrame) -> pd.DataFrame:
    sites = hospital_sites(base)
    major = sites[sites["site_name"].str.contains(_MAJOR_NAME)
                  & ~sites["site_name"].str.contains(_NOT_MAJOR)]
    hq = _trust_hq_points(base)
    rows = []
    for trust in trusts.itertuples(index=False):
        own = major[major["trust_code"] == trust.trust_code]
        if trust.trust_code in hq.index:
            hx, hy = hq.loc[trust.trust_code, ["x", "y"]].astype(float)
            own = own[np.hypot(own["x"] - hx, own["y"] - hy) <= _MAX_SITE_TO_HQ_M]
        if len(own) and trust.trust_code in hq.index:
            d = np.hypot(own["x"] - hx, own["y"] - hy).to_numpy()
            # sites on the same campus as the nearest (within 1 km more): lowest site code
            near = own[d <= d.min() + 1000.0].sort_values("site_code")
            site = near.iloc[0]
            rows.append((site["site_code"], site["site_name"], site["x"], site["y"],
                         "site nearest trust HQ"))
        elif len(own):
            site = own.sort_values("site_code").iloc[0]
            rows.append((site["site_code"], site["site_name"], site["x"], site["y"],
                         "first listed site"))
        elif trust.trust_code in hq.index:
            hx, hy = hq.loc[trust.trust_code, ["x", "y"]].astype(float)
            rows.append((trust.trust_code, f"{trust.trust_name} (trust HQ)", hx, hy, "trust HQ"))
        else:
            rows.append((trust.trust_code, trust.trust_name, np.nan, np.nan, "no location"))
    located = pd.DataFrame(rows, columns=["site_code", "site_name", "x", "y", "location"])
    out = pd.concat([located, trusts.reset_index(drop=True)], axis=1)
    return out


_NHSER_ALIASES = {"E40000008": "E40000011", "E40000009": "E40000012"}  # 2020-21 -> 2022 codes


def major_acute_sites(region_code: str, *, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Main site of each open acute trust in a region, as candidate centres.

    ``region_code`` is an NHS England region (E40, e.g. ``E40000006`` South West; trusts by
    their ODS region) or an ONS region (E12, e.g. ``E12000009``; sites located inside the
    region's boundary). Returns ``site_code, site_name, x, y, location, trust_code, trust_name,
    nhser_code, nhser_name, status``.

    A trust's main site is its hospital site (from the RCPCH 2024 and NHS Choices 2018 site
    lists) whose name says hospital or infirmary, excluding community, children's, eye,
    maternity and similar sites, nearest to the trust's headquarters postcode (ODS etr with the
    NSPL centroid; OSM-geocoded HQ when the postcode is not in NSPL). When the site lists hold
    no site for the trust (e.g. after a merger), the HQ point stands in (``location = "trust
    HQ"``). The definition is a documented heuristic: review the list before a decision.
    """
    base = shared_data_dir(data_dir)
    code = str(region_code).strip()
    code = _NHSER_ALIASES.get(code, code)
    trusts = acute_trusts(base)
    if code.startswith("E40"):
        known = sorted(set(trusts["nhser_code"].dropna()))
        if code not in known:
            raise ParameterError("unknown NHS England region code", field="region_code",
                                 value=region_code, hint=f"use one of {known}")
        main = _main_sites(base, trusts[trusts["nhser_code"] == code])
    elif code.startswith("E12"):
        path = base / "boundaries" / "regions_2024_en_derived_from_lad24_buc.geojson"
        from hna.boundaries import load_boundaries

        regions = load_boundaries(path, level="region")
        poly = regions.loc[regions["code"] == code, "geometry"]
        if poly.empty:
            raise ParameterError("unknown ONS region code", field="region_code",
                                 value=region_code, hint=f"use one of {regions['code'].tolist()}")
        main = _main_sites(base, trusts).dropna(subset=["x", "y"])
        inside = gpd.points_from_xy(main["x"], main["y"], crs=BNG).within(poly.iloc[0])
        main = main[np.asarray(inside)]
    else:
        raise ParameterError("region code must be an NHS England region (E40) or an ONS region "
                             "(E12)", field="region_code", value=region_code)
    main = main.dropna(subset=["x", "y"])
    dup = main["site_code"].duplicated(keep="first")
    return main[~dup].sort_values("site_code", ignore_index=True)


# --------------------------------------------------------------------------------------------
# Distances and travel times
# --------------------------------------------------------------------------------------------


def distance_km(demand: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Straight-line km on the BNG: rows ``area_code``, columns ``site_code``."""
    d = _as_demand(demand, need_xy=True)
    s = _as_sites(sites, need_xy=True)
    dx = d["x"].to_numpy(float)[:, None] - s["x"].to_numpy(float)[None, :]
    dy = d["y"].to_numpy(float)[:, None] - s["y"].to_numpy(float)[None, :]
    return pd.DataFrame(np.hypot(dx, dy) / 1000.0,
                        index=pd.Index(d["area_code"], name="area_code"),
                        columns=pd.Index(s["site_code"], name="site_code"))


def read_travel_matrix(travel: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read a travel-time matrix (CSV ``origin, destination, minutes``) into a long table.

    ``origin`` is an area code, ``destination`` a site code, ``minutes`` the travel time.
    A wide matrix (index area codes, columns site codes) is accepted too.
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

    With ``travel`` (a matrix, see :func:`read_travel_matrix`) the given times are used and
    missing pairs are NaN (no route). Otherwise minutes are estimated from straight-line
    distance with ``model`` (default :class:`TravelModel`).
    """
    if travel is None:
        model = model or TravelModel()
        return model.minutes(distance_km(demand, sites))
    d = _as_demand(demand, need_xy=False)
    s = _as_sites(sites, need_xy=False)
    long = read_travel_matrix(travel)
    wide = long.pivot(index="origin", columns="destination", values="minutes")
    missing_areas = sorted(set(d["area_code"]) - set(wide.index))
    if missing_areas:
        raise DataError(f"{len(missing_areas)} demand area(s) are not origins in the travel "
                        "matrix", source="travel", field="origin", value=missing_areas[:8])
    missing_sites = sorted(set(s["site_code"]) - set(wide.columns))
    if missing_sites:
        raise DataError(f"{len(missing_sites)} site(s) are not destinations in the travel "
                        "matrix", source="travel", field="destination", value=missing_sites[:8])
    out = wide.reindex(index=d["area_code"], columns=s["site_code"]).astype(float)
    out.index.name, out.columns.name = "area_code", "site_code"
    return out


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
    """One row per demand area: the site it is assigned to, travel minutes and straight-line km
    (NaN when coordinates are missing, e.g. with a travel-time matrix), cases (and population).

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
    d = _as_demand(demand, need_xy=travel is None)
    s = _as_sites(sites, need_xy=travel is None)
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

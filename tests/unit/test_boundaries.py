"""Boundaries: reading ONS files (CRS, code columns), repair, dissolve, and the hex cartogram."""

from __future__ import annotations

import itertools
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from hna.errors import DataError, ParameterError
from hna.geography.boundaries import (
    BNG,
    dissolve_to,
    hex_centres,
    hex_geodataframe,
    hex_layout,
    hex_neighbours,
    icb_centroids,
    load_boundaries,
    repair_geometry,
)

matplotlib.use("Agg")

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
BOUNDARIES = SHARED / "boundaries"
needs_shared = pytest.mark.skipif(not BOUNDARIES.is_dir(),
                                  reason="shared data folder (../shared/data) not available")

#: Share of true ICB neighbour pairs adjacent in the bundled layout: 77 of 101 (76%) as built by
#: scripts/build_geo_data.py; the test allows for nothing less.
MIN_ICB_ADJACENCY = 0.76


# --------------------------------------------------------------------------------------------
# Reading, CRS and repair
# --------------------------------------------------------------------------------------------


@needs_shared
def test_wgs84_file_round_trips_to_bng_at_ons_coordinates(tmp_path):
    # The ONS LAD (Dec 2022) file gives each district's centroid both as LONG/LAT and as
    # BNG_E/BNG_N: tiny squares built around LONG/LAT in EPSG:4326 must land on BNG_E/BNG_N.
    raw = gpd.read_file(BOUNDARIES / "Local_Authority_Districts_December_2022_UK_BUC.geojson",
                        ignore_geometry=True)
    sample = raw[raw["LAD22CD"].isin(["E06000001", "E06000052", "E09000001", "E07000008"])]
    squares = gpd.GeoDataFrame(
        {"LAD22CD": sample["LAD22CD"].to_numpy()},
        geometry=[box(x - 1e-4, y - 1e-4, x + 1e-4, y + 1e-4)
                  for x, y in zip(sample["LONG"], sample["LAT"], strict=True)],
        crs="EPSG:4326",
    )
    path = tmp_path / "wgs84.geojson"
    squares.to_file(path)
    out = load_boundaries(path, level="lad").set_index("code")
    assert out.crs == BNG
    ref = sample.set_index("LAD22CD")
    centre = out.geometry.centroid
    dx = centre.x - ref.loc[out.index, "BNG_E"]
    dy = centre.y - ref.loc[out.index, "BNG_N"]
    assert np.hypot(dx, dy).max() < 5.0  # metres


def test_other_crs_and_geopackage_are_reprojected(tmp_path):
    # a 1 km square at BNG (400000, 300000) written in Web Mercator to a GeoPackage
    square = gpd.GeoDataFrame({"RGN21CD": ["E12000005"], "RGN21NM": ["West Midlands"]},
                              geometry=[box(400_000, 300_000, 401_000, 301_000)], crs=BNG)
    path = tmp_path / "regions.gpkg"
    square.to_crs("EPSG:3857").to_file(path, driver="GPKG")
    out = load_boundaries(path, level="region")
    assert out.loc[0, "code"] == "E12000005" and out.loc[0, "name"] == "West Midlands"
    assert out.geometry.iloc[0].area == pytest.approx(1e6, rel=1e-6)
    assert out.geometry.iloc[0].bounds == pytest.approx((400_000, 300_000, 401_000, 301_000),
                                                        abs=0.01)


def test_bow_tie_polygon_is_repaired():
    bow_tie = Polygon([(0, 0), (2, 2), (2, 0), (0, 2), (0, 0)])
    assert not bow_tie.is_valid
    gdf = gpd.GeoDataFrame({"LAD21CD": ["E06000001"]}, geometry=[bow_tie], crs=BNG)
    out = load_boundaries(gdf, level="lad")
    geom = out.geometry.iloc[0]
    assert geom.is_valid
    assert isinstance(geom, MultiPolygon) and len(geom.geoms) == 2
    # two triangles of base 2 and height 1 -> area 1 each
    assert geom.area == pytest.approx(2.0)


def test_repair_keeps_only_polygonal_parts():
    # a polygon with a dangling spike: make_valid returns a polygon and a line
    spiky = Polygon([(0, 0), (4, 0), (4, 4), (0, 4), (0, 2), (-3, 2), (0, 2), (0, 0)])
    out = repair_geometry(gpd.GeoSeries([spiky]))
    assert out.iloc[0].geom_type in ("Polygon", "MultiPolygon")
    assert out.iloc[0].area == pytest.approx(16.0)


def test_code_column_detection_and_errors():
    gdf = gpd.GeoDataFrame({"objectid": [1], "icb22_code": ["E54000036"], "icb22_name": ["C"]},
                           geometry=[box(0, 0, 1, 1)], crs=BNG)
    out = load_boundaries(gdf, level="icb")
    assert out.loc[0, "code"] == "E54000036" and out.loc[0, "name"] == "C"
    with pytest.raises(DataError, match="do not look like lad codes"):
        load_boundaries(gdf, level="lad", code_field="icb22_code")
    with pytest.raises(DataError, match="no area-code column"):
        load_boundaries(gdf[["objectid", "geometry"]])
    with pytest.raises(ParameterError):
        load_boundaries(gdf, level="ward")
    explicit = load_boundaries(gdf, code_field="icb22_code")
    assert explicit.loc[0, "code"] == "E54000036"


def test_missing_file_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_boundaries(tmp_path / "nope.geojson")


@needs_shared
def test_known_invalid_ons_polygons_are_valid_after_loading():
    lads = load_boundaries(BOUNDARIES / "Local_Authority_Districts_December_2022_UK_BUC.geojson",
                           level="lad")
    assert len(lads) == 374
    assert lads.geometry.is_valid.all()
    assert {"E06000024", "E07000085"} <= set(lads["code"])  # North Somerset, East Hampshire


@needs_shared
def test_dissolve_lads_to_regions():
    lads = load_boundaries(BOUNDARIES / "lad_2021-12_uk_buc.geojson", level="lad")
    lookup = pd.read_csv(SHARED / "lookups" / "lad21_rgn21_en.csv")
    england = lads[lads["code"].str.startswith("E")]
    regions = dissolve_to(england, lookup[["ltla21_code", "region21_code"]])
    assert len(regions) == 9 and regions["n_areas"].sum() == 309
    london = regions.set_index("code").loc["E12000007"]
    # ONS Standard Area Measurement for London: about 1,572 km2 (generalised boundaries)
    assert london.geometry.area / 1e6 == pytest.approx(1572, rel=0.02)
    with pytest.raises(DataError, match="have no footprint"):
        dissolve_to(lads, lookup[["ltla21_code", "region21_code"]])


def test_dissolve_with_a_dict():
    gdf = gpd.GeoDataFrame({"code": ["a", "b", "c"]},
                           geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(5, 5, 6, 6)], crs=BNG)
    out = dissolve_to(gdf, {"a": "X", "b": "X", "c": "Y"}, names={"X": "Ex", "Y": "Why"})
    out = out.set_index("code")
    assert out.loc["X", "geometry"].area == pytest.approx(2.0)
    assert out.loc["X", "name"] == "Ex" and out.loc["X", "n_areas"] == 2


def test_dissolve_membership_table_uses_best_fit_for_split_areas():
    # layout of hna.geography.lad_membership(): footprint code, lad_code, share
    gdf = gpd.GeoDataFrame({"code": ["a", "b", "c"]},
                           geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1), box(2, 0, 3, 1)], crs=BNG)
    membership = pd.DataFrame({"code": ["X", "X", "Y", "Y"], "lad_code": ["a", "b", "b", "c"],
                               "share": [1.0, 0.3, 0.7, 1.0]})
    out = dissolve_to(gdf, membership).set_index("code")
    # b is 70% in Y, so it goes whole to Y
    assert out.loc["X", "n_areas"] == 1 and out.loc["Y", "n_areas"] == 2
    only_x = dissolve_to(gdf, membership[membership["code"] == "X"], drop_unmapped=True)
    assert only_x["code"].tolist() == ["X"] and only_x.loc[0, "n_areas"] == 2


# --------------------------------------------------------------------------------------------
# Hex cartogram
# --------------------------------------------------------------------------------------------


def test_hex_neighbours_are_at_unit_hex_spacing():
    for col, row in [(0, 0), (3, 1), (2, 4), (5, 7)]:
        centre = hex_centres([col], [row])[0]
        nbrs = hex_neighbours(col, row)
        assert len(set(nbrs)) == 6
        for c, r in nbrs:
            # with circumradius 1 adjacent pointy-top hexagons are sqrt(3) apart
            d = np.hypot(*(hex_centres([c], [r])[0] - centre))
            assert d == pytest.approx(np.sqrt(3))


@pytest.mark.parametrize("level,n", [("icb", 42), ("nhs_region", 7)])
def test_hex_layout_one_area_per_hex(level, n):
    layout = hex_layout(level)
    assert len(layout) == n
    assert layout["code"].is_unique
    assert not layout[["col", "row"]].duplicated().any()
    prefix = "E54" if level == "icb" else "E40"
    assert layout["code"].str.startswith(prefix).all()


@needs_shared
def test_icb_hex_layout_covers_the_2022_icbs():
    lookup = pd.read_csv(SHARED / "lookups" / "icb_to_nhser_en.csv")
    layout = hex_layout("icb")
    assert set(layout["code"]) == set(lookup["icb22_code"])
    assert set(hex_layout("nhs_region")["code"]) == set(lookup["nhser_code"])
    assert set(icb_centroids()["code"]) == set(lookup["icb22_code"])


def _adjacent_in_layout(layout: pd.DataFrame) -> set[tuple[str, str]]:
    """Hexagon adjacency from centre distances (independent of hex_neighbours)."""
    xy = hex_centres(layout["col"], layout["row"])
    codes = layout["code"].tolist()
    out = set()
    for i, j in itertools.combinations(range(len(codes)), 2):
        if abs(np.hypot(*(xy[i] - xy[j])) - np.sqrt(3)) < 1e-9:
            out.add(tuple(sorted((codes[i], codes[j]))))
    return out


@needs_shared
def test_icb_hex_layout_keeps_true_neighbours_adjacent():
    icb = gpd.read_file(BOUNDARIES / "icb_2022-07_en_buc_simplified.geojson").to_crs(BNG)
    icb["geometry"] = icb.geometry.make_valid().buffer(500)
    # true neighbours: shared boundary of at least 1 km (overlap of 500 m buffers >= 1 km2)
    true_pairs = set()
    for i, j in itertools.combinations(range(len(icb)), 2):
        if icb.geometry.iloc[i].intersection(icb.geometry.iloc[j]).area >= 1e6:
            true_pairs.add(tuple(sorted((icb["icb22_code"].iloc[i], icb["icb22_code"].iloc[j]))))
    assert 95 <= len(true_pairs) <= 110
    adjacent = _adjacent_in_layout(hex_layout("icb"))
    share = len(true_pairs & adjacent) / len(true_pairs)
    assert share >= MIN_ICB_ADJACENCY


def test_nhs_region_hex_layout_keeps_all_ten_neighbour_pairs():
    # NHS England regions that share a land boundary, listed by hand
    names = {"E40000003": "London", "E40000005": "SE", "E40000006": "SW", "E40000007": "East",
             "E40000010": "NW", "E40000011": "Midlands", "E40000012": "NEY"}
    code = {v: k for k, v in names.items()}
    pairs = [("London", "SE"), ("London", "East"), ("SE", "SW"), ("SE", "East"),
             ("SE", "Midlands"), ("SW", "Midlands"), ("East", "Midlands"), ("Midlands", "NW"),
             ("Midlands", "NEY"), ("NW", "NEY")]
    adjacent = _adjacent_in_layout(hex_layout("nhs_region"))
    for a, b in pairs:
        assert tuple(sorted((code[a], code[b]))) in adjacent, (a, b)


def test_hex_geodataframe_polygons():
    gdf = hex_geodataframe("icb", size=2.0)
    assert len(gdf) == 42
    # regular hexagon with circumradius s has area 3 sqrt(3) / 2 s^2
    assert gdf.geometry.area.to_numpy() == pytest.approx(np.full(42, 1.5 * np.sqrt(3) * 4))
    union_area = gdf.geometry.union_all().area
    assert union_area == pytest.approx(gdf.geometry.area.sum())  # no overlaps


# --------------------------------------------------------------------------------------------
# Choropleth
# --------------------------------------------------------------------------------------------


def test_hex_choropleth_figure():
    import matplotlib.pyplot as plt

    from hna.plots import choropleth

    layout = hex_layout("icb")
    values = pd.DataFrame({"code": layout["code"][2:], "rate": np.arange(40.0)})
    fig = choropleth(values, level="icb", title="Rate by ICB", source="ONS; hna",
                     legend_label="per 100,000", cmap="cividis")
    assert tuple(fig.get_size_inches()) == pytest.approx((7.5, 9.0))
    ax = fig.axes[0]
    assert ax.get_title(loc="left") == "Rate by ICB"
    texts = [t.get_text() for t in ax.texts]
    assert "BNSSG" in texts and "C&M" in texts
    assert any("Source: ONS; hna" in t.get_text() for t in fig.texts)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["No data"]
    plt.close(fig)


def test_choropleth_on_real_boundaries_with_classes():
    import matplotlib.pyplot as plt

    from hna.plots import choropleth

    gdf = gpd.GeoDataFrame({"code": ["E06000001", "E06000002"], "name": ["A", "B"]},
                           geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)], crs=BNG)
    fig = choropleth(pd.Series({"E06000001": 1.0, "E06000002": 3.0}), boundaries=gdf,
                     title="Two areas", source="test", bins=[0, 2, 4], fmt="{:.0f}")
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["0 to 2", "2 to 4"]
    plt.close(fig)
    with pytest.raises(DataError, match="none of the value codes"):
        choropleth(pd.Series({"E99999999": 1.0}), boundaries=gdf)

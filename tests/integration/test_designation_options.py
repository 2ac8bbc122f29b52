"""Designation options: district demand, candidate sites, the k comparison and its statement.

Tests without the shared data folder use the bundled population, the bundled ICB centroids
(``boundaries=False``) and three hand-placed candidate sites; the South West test of the issue
("compare k = 1, 2, 3 among the region's major acute hospitals; state which k are feasible under
the critical mass and the travel cost of each") needs ``../shared/data``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
import yaml

from hna.designation import (
    DesignationOptions,
    candidate_sites,
    designation_options,
    district_demand,
)
from hna.errors import InputError, ParameterError
from hna.report import record_headline

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not (SHARED / "facilities").is_dir() or not (SHARED / "boundaries").is_dir(),
    reason="shared data folder (../shared/data) not available")

SW = "E40000006"
STS = "soft_tissue_sarcoma"
VALE_OF_WHITE_HORSE = "E07000180"  # split between the South East and South West NHS regions

# Six hand-placed candidate sites on the British National Grid (metres): roughly Plymouth,
# Exeter, Bristol, Truro, Taunton and Poole. Independent of the shared data.
SITES = pd.DataFrame({
    "site_code": ["PLY", "EXE", "BRS", "TRU", "TAU", "POO"],
    "site_name": ["Plymouth", "Exeter", "Bristol", "Truro", "Taunton", "Poole"],
    "x": [249_000.0, 292_000.0, 359_000.0, 182_000.0, 322_000.0, 401_000.0],
    "y": [56_000.0, 92_000.0, 173_000.0, 45_000.0, 124_000.0, 91_000.0],
})


@pytest.fixture(scope="module")
def offline() -> DesignationOptions:
    """South West STS on ICB centroids with the six hand-placed sites (no shared data)."""
    return designation_options(STS, SW, ks=(1, 2, 3, 6), candidates=SITES, boundaries=False,
                               draws=200, seed=7)


# --------------------------------------------------------------------------------------------
# District demand
# --------------------------------------------------------------------------------------------


def test_district_demand_scales_split_districts_by_their_share():
    from hna.demand import service_demand

    sw = district_demand(STS, SW, year=2025, draws=50, seed=3)
    se = district_demand(STS, "E40000005", year=2025, draws=50, seed=3)
    assert len(sw.cases) == 31 and sw.cases["area_code"].is_unique
    a = sw.cases.set_index("area_code").loc[VALE_OF_WHITE_HORSE]
    b = se.cases.set_index("area_code").loc[VALE_OF_WHITE_HORSE]
    # 4 of its 76 LSOAs (2011), 6,003 of 131,227 people (ONS SAPE20DT1 mid-2017, summed by
    # hand from the ONS LSOA11-ICB22 lookup), are in BSW ICB
    assert a["share"] == pytest.approx(6_003 / 131_227)
    assert a["share"] + b["share"] == pytest.approx(1.0)
    # reference: the district on its own, through the single-footprint path of hna.demand
    whole = service_demand(STS, VALE_OF_WHITE_HORSE, years=[2025], draws=0).summary
    assert a["cases"] + b["cases"] == pytest.approx(float(whole["expected"].iloc[0]))
    assert a["cases"] == pytest.approx(float(whole["expected"].iloc[0]) * 6_003 / 131_227)


def test_district_demand_draws_have_the_expected_mean_and_shape():
    d = district_demand(STS, SW, year=2025, draws=400, seed=11)
    per_area = d.draws.groupby("area_code")["draw"].nunique()
    assert (per_area == 400).all() and set(per_area.index) == set(d.cases["area_code"])
    totals = d.draws.groupby("draw")["cases"].sum()
    # Poisson (plus a small rate uncertainty) around about 500 cases: sd about 23, so the mean
    # of 400 draws is within 3 standard errors (3 x 23 / 20 = 3.5) of the expectation
    assert abs(totals.mean() - d.total) < 4.0
    # crude rate: the South West is older than England (narrow definition, 3,151 cases in 2025
    # over 57.69 million = 5.46 per 100,000): between 5.46 and 7
    crude = d.total / d.cases["population"].sum() * 1e5
    assert 5.46 < crude < 7.0


# --------------------------------------------------------------------------------------------
# The comparison (offline: ICB centroids, hand-placed sites)
# --------------------------------------------------------------------------------------------


def test_fallback_sums_district_demand_into_icbs(offline):
    assert offline.geography == "icb" and offline.areas is None
    assert set(offline.demand["area_code"]) == {f"E540000{n}" for n in
                                                (36, 37, 38, 39, 40, 41, 43)}
    lads = district_demand(STS, SW, year=2025, draws=200, seed=7)
    assert offline.total_cases == pytest.approx(lads.total)
    by_draw_icb = offline.draws.groupby("draw")["cases"].sum()
    by_draw_lad = lads.draws.groupby("draw")["cases"].sum()
    np.testing.assert_allclose(by_draw_icb.to_numpy(), by_draw_lad.to_numpy())


def test_table_reports_feasibility_and_infeasible_reason(offline):
    t = offline.table.set_index("k")
    assert list(t.index) == [1, 2, 3, 6]
    assert t.loc[[1, 2, 3], "feasible"].all()
    assert not t.loc[6, "feasible"]
    assert t.loc[6, "binding"] == "critical_mass"
    assert "600" in t.loc[6, "reason"]  # 6 x 100 > about 500 expected cases
    assert offline.feasible_ks == [1, 2, 3] and offline.infeasible_ks == [6]
    assert (t.loc[[1, 2, 3], "min_centre_cases"] >= 100).all()
    assert t.loc[2, "mean_centre_cases"] == pytest.approx(offline.total_cases / 2)
    for col in ("sites", "site_names", "prob_all_meet_minimum", "mean_minutes", "p90_minutes",
                "mean_km", "p90_km", "share_over_60_min", "share_over_90_min",
                "share_over_120_min"):
        assert col in t.columns


def test_travel_statistics_recomputed_by_hand(offline):
    t = offline.table.set_index("k")
    demand = offline.demand.set_index("area_code")
    sites = SITES.set_index("site_code")
    for k, alloc in offline.allocations.items():
        site = alloc["site_code"].to_numpy()
        dx = demand.loc[alloc["area_code"], "x"].to_numpy() - sites.loc[site, "x"].to_numpy()
        dy = demand.loc[alloc["area_code"], "y"].to_numpy() - sites.loc[site, "y"].to_numpy()
        km = np.hypot(dx, dy) / 1000
        minutes = km * 1.3 / 60 * 60  # straight line x circuity 1.3 at 60 km/h
        w = demand.loc[alloc["area_code"], "cases"].to_numpy()
        assert t.loc[k, "mean_km"] == pytest.approx((km * w).sum() / w.sum())
        assert t.loc[k, "mean_minutes"] == pytest.approx((minutes * w).sum() / w.sum())
        assert t.loc[k, "share_over_90_min"] == pytest.approx(w[minutes > 90].sum() / w.sum())
        # 90th percentile: smallest value with at least 90% of the weight at or below it
        order = np.argsort(km)
        cum = np.cumsum(w[order]) / w.sum()
        assert t.loc[k, "p90_km"] == pytest.approx(km[order][np.argmax(cum >= 0.9 - 1e-12)])


def test_probability_all_centres_meet_minimum_recomputed_from_draws(offline):
    wide = offline.draws.pivot(index="area_code", columns="draw", values="cases")
    for k, alloc in offline.allocations.items():
        site_of = alloc.set_index("area_code")["site_code"]
        per_site = wide.groupby(site_of.loc[wide.index].to_numpy()).sum()
        expected = float((per_site >= 100 - 1e-9).all(axis=0).mean())
        assert offline.table.set_index("k").loc[k, "prob_all_meet_minimum"] == pytest.approx(
            expected)
        cen = offline.results[k].centres.set_index("site_code")
        np.testing.assert_allclose(cen.loc[per_site.index, "prob_meets_minimum"],
                                   (per_site >= 100 - 1e-9).mean(axis=1))


def test_statement_names_feasible_k_and_the_travel_of_each(offline):
    text = offline.statement()
    assert text.startswith("With a minimum of 100 new soft tissue sarcoma patients per sarcoma "
                           "MDT a year")
    assert ("1, 2 and 3 centres are feasible in the NHS England South West region but 6 centres "
            "are not") in text
    t = offline.table.set_index("k")
    for k in (1, 2, 3):
        para = next(p for p in text.split("\n\n") if p.startswith(f"{k} centre"))
        assert f"mean travel {t.loc[k, 'mean_minutes']:.0f} minutes" in para
        assert f"{100 * t.loc[k, 'share_over_90_min']:.0f}% of patients travel more than 90" in para
    assert re.search(r"^6 centres: not feasible \(total demand", text, re.M)
    assert "straight-line distance x 1.3 (circuity) at 60 km/h" in text


def test_statement_when_nothing_is_feasible():
    opts = designation_options(STS, SW, ks=[1, 2], candidates=SITES, boundaries=False,
                               draws=0, minimum=10_000)
    assert opts.feasible_ks == []
    assert "no configuration of 1 or 2 centres is feasible" in opts.statement()
    assert opts.headline()["feasible"] == "none"


def test_minimum_defaults_to_the_service_critical_mass(offline):
    raw = yaml.safe_load((REPO / "parameters" / "services" / f"{STS}.yaml").read_text())
    assert offline.minimum == raw["critical_mass"]["minimum_per_centre"] == 100
    assert offline.meta["critical_mass"]["source"] == raw["critical_mass"]["source"]


def test_current_configuration_is_compared():
    opts = designation_options(STS, SW, ks=[2], candidates=SITES, boundaries=False, draws=0,
                               current=["PLY", "BRS"])
    row = opts.table.iloc[0]
    res = opts.results[2]
    # reference: nearest-centre travel of the current sites, by hand
    d = opts.demand
    cur = SITES.set_index("site_code").loc[["PLY", "BRS"]]
    dist = np.hypot(d["x"].to_numpy()[:, None] - cur["x"].to_numpy()[None, :],
                    d["y"].to_numpy()[:, None] - cur["y"].to_numpy()[None, :]) / 1000 * 1.3
    current_mean = (dist.min(axis=1) * d["cases"]).sum() / d["cases"].sum()
    assert opts.current_travel["mean_minutes"] == pytest.approx(current_mean)
    assert row["change_mean_minutes"] == pytest.approx(res.travel["mean_minutes"] - current_mean)
    assert set(row["opened"].split(", ") if row["opened"] else []) == \
        set(res.chosen_sites) - {"PLY", "BRS"}
    assert "For comparison, the current configuration (Plymouth and Bristol" in opts.statement()


def test_candidates_from_a_csv_file(tmp_path):
    path = tmp_path / "sites.csv"
    SITES.rename(columns={"x": "easting", "y": "northing"}).to_csv(path, index=False)
    sites = candidate_sites(SW, path)
    assert sites["site_code"].tolist() == SITES["site_code"].tolist()
    assert sites["x"].tolist() == SITES["x"].tolist()


def test_headline_is_json_and_recorded(offline, tmp_path):
    head = offline.headline()
    path = record_headline(head, path=tmp_path / "headline.json")
    back = json.loads(Path(path).read_text())
    assert back["feasible"] == "1, 2, 3"
    assert back["feasible_ks"] == [1, 2, 3] and back["infeasible_ks"] == [6]
    assert back["minimum_per_centre"] == 100
    assert back["prob_all_k6"] is None
    assert back["options"]["6"] == {"feasible": False,
                                    "reason": offline.table.set_index("k").loc[6, "reason"]}
    two = back["options"]["2"]
    assert two["mean_minutes"] == pytest.approx(
        round(offline.results[2].travel["mean_minutes"], 1))
    assert len(two["sites"]) == 2 and sum(two["cases"]) == pytest.approx(back["expected_cases"],
                                                                          abs=0.2)


def test_report_tables_have_one_column_per_k(offline):
    table = offline.report_table()
    assert list(table.columns) == ["1 centre", "2 centres", "3 centres", "6 centres"]
    assert table.loc["Feasible"].tolist() == ["yes", "yes", "yes", "no"]
    assert "600" in table.loc["Why not feasible", "6 centres"]
    centres = offline.report_centres()
    assert centres["Centres"].value_counts().sort_index().to_dict() == {1: 1, 2: 2, 3: 3}


def test_maps_on_demand_points_without_boundaries(offline):
    figs = offline.maps()
    assert sorted(figs) == [1, 2, 3]
    fig = figs[2]
    ax = fig.axes[0]
    assert "2 centres" in ax.get_title(loc="left")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(label.startswith("Plymouth (") or label.startswith("Exeter (")
               for label in labels)
    assert "Other candidate site" in labels and "Area (size = cases a year)" in labels
    assert any(t.get_text().startswith("Source:") for t in fig.texts)
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.mark.parametrize("kwargs, field", [
    ({"ks": []}, "ks"),
    ({"ks": [0, 1]}, "ks"),
    ({"ks": [1.5]}, "ks"),
    ({"draws": -1}, "draws"),
    ({"candidates": "no_such_file.csv"}, "candidates"),
    ({"minimum": -5}, "minimum"),
])
def test_bad_arguments_are_named(kwargs, field):
    args = {"candidates": SITES, "boundaries": False, "draws": 0} | kwargs
    with pytest.raises(ParameterError) as err:
        designation_options(STS, SW, **args)
    assert err.value.field == field


def test_unknown_footprint_or_service():
    with pytest.raises(InputError):
        designation_options(STS, "E40999999", candidates=SITES, boundaries=False, draws=0)
    with pytest.raises(InputError):
        designation_options("no_such_service", SW, candidates=SITES, boundaries=False)


# --------------------------------------------------------------------------------------------
# With the shared data: the done-when check
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def south_west() -> DesignationOptions:
    return designation_options(STS, SW, ks=(1, 2, 3), candidates="major_acute", year=2025,
                               draws=200, seed=1)


@needs_shared
def test_south_west_sarcoma_compares_k_1_to_3_among_major_acute_hospitals(south_west):
    opts = south_west
    assert opts.geography == "lad" and len(opts.demand) == 31
    assert len(opts.candidates) == 14
    assert {"RK950", "REF12", "RVJ01", "RA701", "RH801"} <= set(opts.candidates["site_code"])
    t = opts.table.set_index("k")
    assert t["feasible"].all() and (t["status"] == "optimal").all()
    assert (t["min_centre_cases"] >= opts.minimum).all()
    for k, res in opts.results.items():
        assert set(res.chosen_sites) <= set(opts.candidates["site_code"])
        assert len(res.chosen_sites) == k
        assert res.centres["cases"].sum() == pytest.approx(opts.total_cases)
    means = t["mean_minutes"].to_numpy()
    assert means[0] > means[1] > means[2]
    assert t.loc[1, "prob_all_meet_minimum"] == 1.0
    # the output states which k are feasible under the critical mass and the travel cost of each
    text = opts.statement()
    assert ("With a minimum of 100 new soft tissue sarcoma patients per sarcoma MDT a year"
            in text)
    assert "1, 2 and 3 centres are all feasible in the NHS England South West region" in text
    for k in (1, 2, 3):
        names = opts.results[k].centres["site_name"].tolist()
        para = next(p for p in text.split("\n\n") if p.startswith(f"{k} centre"))
        assert all(n in para for n in names)
        assert f"mean travel {t.loc[k, 'mean_minutes']:.0f} minutes" in para
        assert f"(90th percentile {t.loc[k, 'p90_minutes']:.0f})" in para
        assert "chance that every centre reaches the minimum" in para
    assert any("Vale of White Horse" in n for n in opts.assumption_notes())
    assert any("Isles of Scilly" in n for n in opts.assumption_notes())


@needs_shared
def test_south_west_maps_on_district_boundaries(south_west):
    figs = south_west.maps()
    assert sorted(figs) == [1, 2, 3]
    for k, fig in figs.items():
        ax = fig.axes[0]
        assert f"{k} centre" in ax.get_title(loc="left")
        assert ax.get_legend() is not None
        assert any("Local Authority Districts" in t.get_text() for t in fig.texts)
        assert tuple(fig.get_size_inches()) == pytest.approx((7.5, 9.0))
    import matplotlib.pyplot as plt

    plt.close("all")


@needs_shared
def test_candidates_as_site_codes():
    sites = candidate_sites(SW, ["RK950", "RA701", "RH801"])
    assert sites["site_code"].tolist() == ["RK950", "RA701", "RH801"]
    assert sites["site_name"].str.contains("Derriford").iloc[0]
    with pytest.raises(ParameterError) as err:
        candidate_sites(SW, ["RK950", "NOPE1"])
    assert err.value.value == ["NOPE1"]

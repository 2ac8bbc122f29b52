"""Lookups, footprints, aggregation and code changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hna import geography as G
from hna.errors import ParameterError


def test_levels_have_expected_counts():
    assert len(G.footprint_codes("region")) == 9
    assert len(G.footprint_codes("icb")) == 42
    assert len(G.footprint_codes("nhs_region")) == 7
    assert len(G.footprint_codes("lad")) == 309


def test_icb_shares_sum_to_one_per_district():
    m = G.lad_membership("icb")
    assert m.groupby("lad_code")["share"].sum().round(12).eq(1).all()


def test_split_district_is_apportioned_by_lsoa_population():
    # East Suffolk: 73 of 146 LSOA11s in each of two ICBs (ONS LSOA11-ICB22 lookup), but
    # 117,897 vs 129,016 people (ONS SAPE20DT1 mid-2017, summed by hand over those LSOAs).
    m = G.lad_membership("icb")
    es = m[m.lad_code == "E07000244"].set_index("code")["share"]
    total = 117_897 + 129_016
    assert es.to_dict() == pytest.approx({"E54000022": 117_897 / total,
                                          "E54000023": 129_016 / total}, abs=1e-8)


def test_union_in_python_equals_union_of_member_districts():
    fp = G.union(["E54000036", "E54000037"], name="Peninsula")
    a = G.resolve_footprint("E54000036").members
    b = G.resolve_footprint("E54000037").members
    assert fp.code == "peninsula" and fp.level == "custom"
    assert set(fp.members["lad_code"]) == set(a["lad_code"]) | set(b["lad_code"])
    assert fp.members["share"].sum() == pytest.approx(a["share"].sum() + b["share"].sum())


def test_union_refuses_overlap_and_empty():
    with pytest.raises(ParameterError, match="overlap"):
        G.union(["E12000009", "E06000052"], name="Twice Cornwall")
    with pytest.raises(ParameterError, match="list"):
        G.union([], name="Nothing")


def test_nhs_region_sums_to_england(default_population):
    agg = G.aggregate_level(default_population, "nhs_region")
    assert agg["population"].sum() == pytest.approx(56_550_138, abs=1e-3)
    assert agg["area_code"].nunique() == 7


def test_aggregate_nhs_region_equals_sum_of_district_figures(default_population):
    """Midlands (E40000011) = sum over its districts of population x share (hand-built)."""
    mem = G.lad_membership("nhs_region")
    mem = mem[mem.code == "E40000011"]
    pop = default_population.groupby("area_code")["population"].sum()
    expect = (pop.reindex(mem.lad_code).to_numpy() * mem.share.to_numpy()).sum()
    got = G.aggregate(default_population, "E40000011")["population"].sum()
    assert got == pytest.approx(expect, rel=1e-12)


def test_aggregate_keeps_other_keys(default_population):
    out = G.aggregate(default_population, "E12000004")
    assert list(out.columns) == ["area_code", "sex", "age_band", "year", "population"]
    assert len(out) == 38


def test_custom_footprint_union(default_population):
    sw = G.aggregate(default_population, "south_west_scg")["population"].sum()
    assert sw == 5_659_143


def test_two_icb_collaborative_equals_sum_of_icbs(default_population):
    a = G.aggregate(default_population, "E54000052")["population"].sum()
    b = G.aggregate(default_population, "E54000053")["population"].sum()
    c = G.aggregate(default_population, "surrey_sussex_collaborative")["population"].sum()
    assert c == pytest.approx(a + b)


def test_overlapping_union_rejected(tmp_path):
    f = tmp_path / "fp.yaml"
    f.write_text("footprints:\n  - code: dup\n    name: Dup\n    union: [E12000009, E06000022]\n"
                 "    source: test\n")
    with pytest.raises(ParameterError, match="overlap.*E06000022"):
        G.read_footprint_file(f)


def test_footprint_yaml_unknown_key(tmp_path):
    f = tmp_path / "fp.yaml"
    f.write_text("footprints:\n  - code: x\n    name: X\n    unoin: [E12000009]\n    source: s\n")
    with pytest.raises(ParameterError, match="fp.yaml.*footprints.0"):
        G.read_footprint_file(f)


def test_footprint_yaml_malformed(tmp_path):
    f = tmp_path / "fp.yaml"
    f.write_text("footprints: [\n")
    with pytest.raises(ParameterError, match="malformed YAML"):
        G.read_footprint_file(f)


def test_lad_2023_code_resolves_to_predecessors(default_population):
    """Cumberland (E06000063) = Allerdale + Carlisle + Copeland (ONS LAD22->LAD23)."""
    fp = G.resolve_footprint("E06000063")
    assert sorted(fp.members.lad_code) == ["E07000026", "E07000028", "E07000029"]
    assert "formed" in fp.note


def test_icb_2023_code_is_recognised():
    fp = G.resolve_footprint("E54000063")
    old = G.resolve_footprint("E54000052")
    pd.testing.assert_frame_equal(fp.members, old.members)
    assert "E54000052" in fp.note


def test_retired_code_names_successor():
    with pytest.raises(ParameterError, match="Corby.*E06000061"):
        G.resolve_footprint("E07000150")


def test_unknown_code_lists_near_matches():
    with pytest.raises(ParameterError, match="Did you mean.*E12000009"):
        G.resolve_footprint("E12000099")


def test_ambiguous_name_asks_for_code():
    with pytest.raises(ParameterError, match="ambiguous.*E12000009.*|ambiguous.*E40000006"):
        G.resolve_footprint("South West")


def test_name_lookup():
    assert G.resolve_footprint("East Midlands").code == "E12000004"


def test_unknown_level():
    with pytest.raises(ParameterError, match="unknown footprint level"):
        G.footprint_codes("county")


def test_aggregate_rejects_non_district_table():
    df = pd.DataFrame({"area_code": ["E12000001"], "population": [1.0]})
    with pytest.raises(Exception, match="not an English LAD"):
        G.aggregate(df, "E92000001")


def test_lsoa_table_deprivation_direction_and_totals():
    from hna.geography.small_areas import lsoas

    t = lsoas().set_index("lsoa_code")
    assert len(t) == 32_844
    assert t["population"].sum() == 55_619_430  # ONS SAPE20DT1 mid-2017, England LSOAs
    # Tendring 018A (Jaywick) is the most deprived LSOA of IMD 2019 (rank 1)
    assert t.loc["E01021988", "imd_decile"] == 1 and t.loc["E01021988", "imd_quintile"] == 1
    # quintiles are fifths of the 32,844 LSOAs (deciles of 3,284-3,285)
    assert set(t["imd_quintile"].value_counts()) <= {6568, 6569, 6570}


def test_apportion_sums_to_district_totals_exactly():
    from hna.geography.small_areas import apportion, footprint_lsoas

    fp = G.resolve_footprint("E54000023")  # with part of the split East Suffolk
    lsoa = footprint_lsoas(fp.members)
    district = pd.DataFrame({"area_code": fp.members["lad_code"],
                             "cases": np.arange(1, len(fp.members) + 1) * 3.7,
                             "population": 1000.0})
    out = apportion(district, lsoa)
    sums = out.groupby("lad_code")["cases"].sum()
    ref = district.set_index("area_code")["cases"].loc[sums.index]
    np.testing.assert_allclose(sums.to_numpy(), ref.to_numpy(), rtol=1e-13)
    # East Suffolk contributes its 73 LSOAs in E54000023 only
    assert (out["lad_code"] == "E07000244").sum() == 73


def test_acute_sites_are_hospitals_with_ods_codes():
    from hna.geography.sites import acute_hospital_sites

    s = acute_hospital_sites(adult_only=False)
    assert len(s) == 141 and s["in_road_matrix"].sum() == 125
    eng = s[s["country"] == "England"]
    assert (eng["ods_code"] != "").all() and eng["site_code"].str.match(r"^R[A-Z0-9]{4}$").all()
    assert s.set_index("site_code").loc["RK950", "site_name"] == "Derriford Hospital, Plymouth"

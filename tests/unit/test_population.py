"""Population tables: readers, band mapping, validation, bundled data and projection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hna import population as P
from hna.bands import AGE_BANDS
from hna.errors import DataError, ParameterError
from tests.conftest import TEST_DATA

# Hartlepool (E06000001) mid-2020, ONS MYE2: males 45,610 ... read from the workbook row; the
# two-district totals below are sums of the fixture's single-year cells computed by hand
# (awk over the CSV), independent of hna.


def _tidy(n_areas: int = 1, year: int = 2020) -> pd.DataFrame:
    rows = []
    for a in range(n_areas):
        for sex in ("female", "male"):
            for i, b in enumerate(AGE_BANDS):
                rows.append({"area_code": f"E0600000{a + 1}", "sex": sex, "age_band": b,
                             "year": year, "population": 100.0 + i})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- bundled data
def test_england_total_mid2020_is_exact(default_population):
    assert int(default_population["population"].sum()) == 56_550_138


def test_bundled_table_has_309_districts_by_sex_and_19_bands(default_population):
    assert default_population["area_code"].nunique() == 309
    assert len(default_population) == 309 * 2 * 19
    assert list(default_population["age_band"].cat.categories) == list(AGE_BANDS)


def test_region_sums_equal_ons_region_rows(default_population):
    """LAD sums equal the ONS region rows of MYE2 (E12000004 4,865,583; E12000009 5,659,143)."""
    from hna.geography import aggregate

    assert aggregate(default_population, "E12000004")["population"].sum() == 4_865_583
    assert aggregate(default_population, "E12000009")["population"].sum() == 5_659_143


# ---------------------------------------------------------------- readers
def test_read_mye_wide_csv_bands_single_years():
    df = P.read_mye_wide(TEST_DATA / "mye2_wide_two_lads_mid2020.csv", year=2020)
    raw = pd.read_csv(TEST_DATA / "mye2_wide_two_lads_mid2020.csv")
    assert df["population"].sum() == raw["All ages"].sum()
    # 0-4 band for Hartlepool females = sum of ages 0..4 in the fixture row
    row = raw[(raw.Code == "E06000001") & (raw.sex == "Female")].iloc[0]
    expect = sum(row[str(a)] for a in range(5))
    got = df[(df.area_code == "E06000001") & (df.sex == "female") & (df.age_band == "0-4")]
    assert got["population"].item() == expect
    assert df[(df.age_band == "90+")]["population"].sum() == raw["90+"].sum()


def test_read_mye_workbook_matches_bundled(shared_data, default_population):
    wb = shared_data / "population_estimates" / "ukpopestimatesmid2020on2021geography.xls"
    df = P.read_mye_wide(wb)
    assert df["year"].unique().tolist() == [2020]
    pd.testing.assert_frame_equal(df, default_population, check_like=True)


def test_read_snpp_keeps_population_rows_and_drops_totals():
    df = P.read_snpp(TEST_DATA / "snpp_two_lads.csv")
    assert sorted(df["year"].unique()) == [2020, 2021]
    raw = pd.read_csv(TEST_DATA / "snpp_two_lads.csv")
    persons_all = raw[(raw.SEX == "persons") & (raw.AGE_GROUP == "All ages")]
    assert df[df.year == 2020]["population"].sum() == pytest.approx(persons_all["2020"].sum())
    assert "subnational" in P.projection_label(df)


def test_snpp_projection_is_used_as_is():
    df = P.read_snpp(TEST_DATA / "snpp_two_lads.csv")
    out = P.project(df, [2021], method="snpp")
    raw = pd.read_csv(TEST_DATA / "snpp_two_lads.csv")
    keep = (raw.SEX != "persons") & (raw.AGE_GROUP != "All ages")
    assert out["population"].sum() == pytest.approx(raw.loc[keep, "2021"].sum())


def test_read_tidy_csv_and_parquet_round_trip(tmp_path):
    df = P.validate_population(_tidy(2))
    df.to_csv(tmp_path / "p.csv", index=False)
    df.to_parquet(tmp_path / "p.parquet")
    pd.testing.assert_frame_equal(P.load_population(tmp_path / "p.csv"), df)
    pd.testing.assert_frame_equal(P.load_population(tmp_path / "p.parquet"), df)


def test_load_population_detects_layouts():
    assert P.load_population(TEST_DATA / "snpp_two_lads.csv")["year"].nunique() == 2
    wide = P.load_population(TEST_DATA / "mye2_wide_two_lads_mid2020.csv", year=2020)
    assert wide["area_code"].nunique() == 2


def test_load_population_rejects_unknown_format(tmp_path):
    f = tmp_path / "pop.json"
    f.write_text("{}")
    with pytest.raises(DataError, match="unsupported file format"):
        P.load_population(f)


# ---------------------------------------------------------------- band mapping
def test_single_years_sum_into_esp_bands():
    rows = [{"area_code": "E06000001", "sex": "male", "age": str(a), "year": 2020, "population": 1}
            for a in range(90)] + [
        {"area_code": "E06000001", "sex": "male", "age": "90+", "year": 2020, "population": 7}]
    df = P.validate_population(pd.DataFrame(rows))
    assert df["population"].tolist() == [5.0] * 18 + [7.0]


def test_coarse_open_band_is_not_split_silently():
    df = _tidy()
    df = df[df.age_band != "90+"].copy()
    df.loc[df.age_band == "85-89", "age_band"] = "85+"
    with pytest.raises(DataError, match="do not match the 19 ESP2013 bands.*85\\+"):
        P.validate_population(df)


# ---------------------------------------------------------------- validation errors
def test_unknown_sex_label_is_named():
    df = _tidy()
    df.loc[0, "sex"] = "unknown"
    with pytest.raises(DataError, match="field 'sex'.*unknown sex label.*'unknown'"):
        P.validate_population(df, source="pop.csv")


def test_sex_aliases_are_mapped():
    df = _tidy()
    df["sex"] = df["sex"].map({"female": "F", "male": "Males"})
    assert set(P.validate_population(df)["sex"]) == {"female", "male"}


def test_negative_count_rejected():
    df = _tidy()
    df.loc[3, "population"] = -1
    with pytest.raises(DataError, match="negative count"):
        P.validate_population(df)


def test_non_numeric_count_rejected():
    df = _tidy().astype({"population": object})
    df.loc[3, "population"] = "12a"
    with pytest.raises(DataError, match="non-numeric count.*'12a'"):
        P.validate_population(df)


def test_duplicate_rows_rejected():
    df = _tidy()
    df = pd.concat([df, df.iloc[[0]]])
    with pytest.raises(DataError, match="duplicate rows"):
        P.validate_population(df)


def test_missing_band_named():
    df = _tidy()
    df = df[~((df.sex == "male") & (df.age_band == "40-44"))]
    with pytest.raises(DataError, match="missing age bands.*male 2020: 40-44"):
        P.validate_population(df)


def test_overlapping_bands_rejected():
    df = _tidy()
    extra = df.iloc[[0]].assign(age_band="0-9")
    with pytest.raises(DataError, match="overlapping age bands"):
        P.validate_population(pd.concat([df, extra]))


def test_missing_column_named():
    with pytest.raises(DataError, match="field 'population'.*missing column"):
        P.validate_population(_tidy().drop(columns="population"))


def test_malformed_area_code_rejected():
    df = _tidy()
    df["area_code"] = "Hartlepool"
    with pytest.raises(DataError, match="not a GSS area code"):
        P.validate_population(df)


def test_file_name_in_error(tmp_path):
    f = tmp_path / "bad.csv"
    d = _tidy()
    d.loc[0, "population"] = -5
    d.to_csv(f, index=False)
    with pytest.raises(DataError, match="bad.csv"):
        P.load_population(f)


# ---------------------------------------------------------------- projection
def test_national_trend_arithmetic_by_hand():
    """P(y) = P(2020) x N(y)/N(2020), N from the 2020-based NPP (hand-computed from the CSV)."""
    pop = P.validate_population(_tidy())
    out = P.project(pop, [2030])
    g = pd.read_csv(TEST_DATA.parents[1] / "hna" / "data" / "npp_growth_england.csv")
    g = g[(g.variant == "npp2020") & (g.sex == "female") & (g.age_band == "70-74")]
    ratio = g[g.year == 2030].population.item() / g[g.year == 2020].population.item()
    got = out[(out.sex == "female") & (out.age_band == "70-74")]["population"].item()
    assert got == pytest.approx((100 + 14) * ratio, rel=1e-12)


def test_projected_england_equals_npp_totals(default_population):
    """ONS 2020-based interim NPP England totals: 2030 58,540,552; 2040 59,763,744."""
    out = P.project(default_population, [2030, 2040])
    tot = out.groupby("year")["population"].sum()
    assert tot[2030] == pytest.approx(58_540_552, abs=0.5)
    assert tot[2040] == pytest.approx(59_763_744, abs=0.5)


def test_projection_variant_2018_differs(default_population):
    """ONS 2018-based NPP projects more people in 2040 than the 2020-based interim."""
    a = P.project(default_population, 2040, variant="npp2018")["population"].sum()
    b = P.project(default_population, 2040, variant="npp2020")["population"].sum()
    assert a > b


def test_projection_is_labelled(default_population):
    out = P.project(default_population, "2025:2026")
    assert "national-trend" in P.projection_label(out)
    assert "not a subnational projection" in P.projection_label(out)


def test_projection_years_out_of_range():
    pop = P.validate_population(_tidy())
    with pytest.raises(ParameterError, match="year outside the projection"):
        P.project(pop, [2071])


def test_unknown_variant():
    with pytest.raises(ParameterError, match="unknown projection variant"):
        P.project(P.validate_population(_tidy()), [2030], variant="npp1999")


def test_projection_reaches_2045_for_both_variants():
    for v in P.PROJECTION_VARIANTS:
        g = P.growth_factors(v)
        assert g["year"].max() >= 2045
        assert np.allclose(g[g.year == 2020]["growth_from_2020"], 1.0)


# ------------------------------------------------------------------ issue 14: reliability
def _members(codes):
    return pd.DataFrame({"lad_code": codes, "share": 1.0})


def test_check_coverage_names_missing_districts():
    from hna.errors import DataError
    from hna.population import check_coverage

    table = pd.DataFrame({"area_code": ["E06000001", "E06000002"]})
    with pytest.raises(DataError, match="1 of the 3 districts") as info:
        check_coverage(table, _members(["E06000001", "E06000002", "E06000003"]),
                       footprint="Test (X)")
    assert "E06000003" in str(info.value)


def test_check_coverage_opt_in_is_a_warning_listing_codes():
    from hna.population import check_coverage

    table = pd.DataFrame({"area_code": ["E06000001"]})
    with pytest.warns(UserWarning, match="E06000002"):
        gone = check_coverage(table, _members(["E06000001", "E06000002"]), footprint="T",
                              allow_missing=True)
    assert gone == ["E06000002"]


def test_check_coverage_complete_is_silent():
    from hna.population import check_coverage

    table = pd.DataFrame({"area_code": ["E06000001", "E06000002"]})
    assert check_coverage(table, _members(["E06000002"]), footprint="T") == []


def test_header_only_table_is_a_data_error():
    from hna.errors import DataError
    from hna.population import validate_population

    empty = pd.DataFrame(columns=["area_code", "sex", "age_band", "year", "population"])
    with pytest.raises(DataError, match="no rows"):
        validate_population(empty)


@pytest.mark.parametrize("value", [float("inf"), 1e308, 2e9])
def test_infinite_or_absurd_counts_are_data_errors(value):
    from hna.bands import AGE_BANDS
    from hna.errors import DataError
    from hna.population import validate_population

    table = pd.DataFrame({"area_code": "E06000001", "sex": "female", "age_band": AGE_BANDS,
                          "year": 2020, "population": 100.0})
    table.loc[3, "population"] = value
    with pytest.raises(DataError, match="implausible count"):
        validate_population(table)

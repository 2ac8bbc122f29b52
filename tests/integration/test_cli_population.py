"""`hna population` and `hna footprints` agree with sums of the district figures."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from typer.testing import CliRunner

from hna.cli import app
from tests.conftest import REPO

runner = CliRunner()


def _csv(args: list[str]) -> pd.DataFrame:
    res = runner.invoke(app.typer_app, args)
    assert res.exit_code == 0, res.output
    return pd.read_csv(io.StringIO(res.stdout))


def test_region_2020_equals_district_sum(default_population):
    lads = pd.read_csv(REPO / "hna" / "data" / "lad21_region.csv")
    members = lads[lads.region_code == "E12000004"].lad_code
    expect = default_population[default_population.area_code.isin(members)].population.sum()
    out = _csv(["population", "--footprint", "E12000004", "--year", "2020", "--format", "csv"])
    assert out["population"].item() == expect == 4_865_583


def test_nhs_region_equals_share_weighted_district_sum(default_population):
    share = pd.read_csv(REPO / "hna" / "data" / "lad21_icb22.csv")
    share["share"] = share.n_lsoa11 / share.groupby("lad_code").n_lsoa11.transform("sum")
    icb = pd.read_csv(REPO / "hna" / "data" / "icb22_nhser.csv")
    m = share.merge(icb, on="icb_code")
    m = m[m.nhser_code == "E40000011"]
    pop = default_population.groupby("area_code").population.sum()
    expect = (pop.reindex(m.lad_code).to_numpy() * m.share.to_numpy()).sum()
    out = _csv(["population", "--footprint", "E40000011", "--format", "csv"])
    assert out["population"].item() == pytest.approx(expect, abs=0.05)


def test_breakdown_by_sex_and_band():
    out = _csv(["population", "-f", "E12000009", "--year", "2030", "--by", "sex,age_band",
                "--format", "csv"])
    assert len(out) == 38
    assert set(out.columns) == {"area_code", "name", "sex", "age_band", "year", "population"}


def test_year_range_json():
    res = runner.invoke(app.typer_app, ["population", "-f", "E92000001", "--year", "2025:2027",
                                         "--format", "json"])
    assert res.exit_code == 0
    assert '"year": 2027' in res.stdout


def test_unknown_footprint_exit_code():
    res = runner.invoke(app.typer_app, ["population", "-f", "E99999999"])
    assert res.exit_code == 2
    assert "unknown area code" in res.output


def test_bad_breakdown():
    res = runner.invoke(app.typer_app, ["population", "-f", "E92000001", "--by", "ethnicity"])
    assert res.exit_code == 2


def test_footprints_list_levels():
    out = _csv(["footprints", "list", "--format", "csv"])
    counts = out.level.value_counts()
    assert counts["icb"] == 42 and counts["nhs_region"] == 7 and counts["region"] == 9
    assert (out.level == "custom").any()

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


# ------------------------------------------------------------------ incomplete population files
def _north_east(default_population, tmp_path, drop: int = 1):
    lads = pd.read_csv(REPO / "hna" / "data" / "lad21_region.csv")
    members = sorted(lads[lads.region_code == "E12000001"].lad_code)
    keep = default_population[default_population.area_code.isin(members[drop:])]
    path = tmp_path / "north_east.csv"
    keep.to_csv(path, index=False)
    return path, members[:drop], keep


def test_population_footprint_with_a_missing_district_is_exit_2_naming_it(default_population,
                                                                        tmp_path):
    path, gone, _ = _north_east(default_population, tmp_path)
    res = runner.invoke(app.typer_app, ["population", "-f", "E12000001", "--population",
                                        str(path), "--format", "csv"])
    assert res.exit_code == 2
    assert "1 of the 12 districts" in res.output and gone[0] in res.output
    assert "Traceback" not in res.output


def test_population_missing_district_allowed_explicitly_warns_loudly(default_population,
                                                                     tmp_path):
    path, gone, keep = _north_east(default_population, tmp_path)
    res = runner.invoke(app.typer_app, ["population", "-f", "E12000001", "--population",
                                        str(path), "--format", "csv",
                                        "--allow-missing-districts"])
    assert res.exit_code == 0, res.output
    assert "WARNING" in res.stderr and gone[0] in res.stderr
    out = pd.read_csv(io.StringIO(res.stdout))
    assert out["population"].item() == pytest.approx(keep["population"].sum())


def test_population_footprint_absent_from_the_file_is_exit_2(default_population, tmp_path):
    path, _, _ = _north_east(default_population, tmp_path)
    res = runner.invoke(app.typer_app, ["population", "-f", "E12000009", "--population",
                                        str(path)])
    assert res.exit_code == 2
    assert "no district of footprint" in res.output and "Traceback" not in res.output


def test_project_on_a_footprint_missing_from_the_population_file_is_exit_2(default_population,
                                                                         tmp_path):
    path, _, _ = _north_east(default_population, tmp_path)
    res = runner.invoke(app.typer_app, ["project", "soft_tissue_sarcoma", "-f", "E12000009",
                                        "--population", str(path), "--draws", "0",
                                        "--years", "2025"])
    assert res.exit_code == 2, res.output
    assert "no district of footprint" in res.output and "Traceback" not in res.output


def test_project_missing_district_error_names_the_population_file(default_population, tmp_path):
    path, gone, _ = _north_east(default_population, tmp_path)
    res = runner.invoke(app.typer_app, ["project", "soft_tissue_sarcoma", "-f", "E12000001",
                                        "--population", str(path), "--draws", "0",
                                        "--years", "2025"])
    assert res.exit_code == 2, res.output
    assert str(path) in res.stderr and gone[0] in res.stderr
    assert "--allow-missing-districts" in res.stderr and res.stderr.count("\n") == 1


def test_project_allow_missing_districts_warns_and_uses_the_districts_present(
        default_population, tmp_path):
    path, gone, keep = _north_east(default_population, tmp_path)
    res = runner.invoke(app.typer_app, ["project", "soft_tissue_sarcoma", "-f", "E12000001",
                                        "--population", str(path), "--draws", "0",
                                        "--years", "2025", "--format", "csv",
                                        "--allow-missing-districts"])
    assert res.exit_code == 0, res.output
    assert "WARNING" in res.stderr and gone[0] in res.stderr and str(path) in res.stderr
    out = pd.read_csv(io.StringIO(res.stdout))
    # the bundled file is mid-2020; 2025 is projected, so compare with the full region's run
    full = runner.invoke(app.typer_app, ["project", "soft_tissue_sarcoma", "-f", "E12000001",
                                         "--draws", "0", "--years", "2025", "--format", "csv"])
    whole = pd.read_csv(io.StringIO(full.stdout))
    assert out["population"].item() < whole["population"].item()


@pytest.mark.parametrize("text", ["", "area_code,sex,age_band,year,population\n"])
def test_empty_and_header_only_population_csv_are_exit_2(tmp_path, text):
    path = tmp_path / "pop.csv"
    path.write_text(text, encoding="utf-8")
    res = runner.invoke(app.typer_app, ["population", "-f", "E12000001", "--population",
                                        str(path)])
    assert res.exit_code == 2
    assert ("empty" in res.output or "no rows" in res.output) and "Traceback" not in res.output


@pytest.mark.parametrize("count", ["inf", "1e308"])
def test_infinite_or_absurd_counts_are_exit_2(default_population, tmp_path, count):
    path, _, keep = _north_east(default_population, tmp_path, drop=0)
    text = path.read_text(encoding="utf-8").splitlines()
    head, first = text[0], text[1].split(",")
    first[-1] = count
    path.write_text("\n".join([head, ",".join(first), *text[2:]]) + "\n", encoding="utf-8")
    res = runner.invoke(app.typer_app, ["population", "-f", "E12000001", "--population",
                                        str(path)])
    assert res.exit_code == 2
    assert "implausible count" in res.output and "Traceback" not in res.output

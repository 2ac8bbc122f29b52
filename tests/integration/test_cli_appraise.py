"""`hna appraise`: headings per table, csv/json outputs, atomic writes, one-line errors."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from hna.appraisal import TITLES
from hna.cli import app

runner = CliRunner()


def _run(args: list[str]):
    return runner.invoke(app.typer_app, args)


def test_table_format_has_one_heading_per_table():
    res = _run(["appraise", "--footprint", "E12000004"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert out.startswith("Commissioning appraisal: East Midlands (E12000004), 2025 to 2030")
    for title in TITLES.values():
        assert out.count(f"== {title} ==") == 1
    assert "regional" in out and "supra_regional" in out
    assert "Services without a cost" in out


def test_section_selects_tables_and_name_resolves():
    res = _run(["appraise", "-f", "Midlands", "--section", "tiers", "--year", "2025",
                "--horizon", "2026"])
    assert res.exit_code == 0, res.output
    assert f"== {TITLES['tiers']} ==" in res.stdout
    assert TITLES["carter"] not in res.stdout and TITLES["waterfall"] not in res.stdout


def test_csv_is_one_file_with_a_section_column(tmp_path):
    out = tmp_path / "em.csv"
    res = _run(["appraise", "-f", "E12000004", "--section", "carter,finance", "--format", "csv",
                "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert res.stdout == ""
    df = pd.read_csv(out)
    assert df.columns[0] == "section"
    assert set(df["section"]) == {"carter", "service_tiers", "finance", "finance_total",
                                  "waterfall"}
    w = df[df["section"] == "waterfall"].set_index("component")["value"]
    assert w[["population", "non_demographic", "qipp"]].sum() == pytest.approx(w["end"] - w["start"])
    assert [p.name for p in tmp_path.iterdir()] == ["em.csv"]  # no temporary file left


def test_json_is_one_object_keyed_by_table_with_meta():
    res = _run(["appraise", "-f", "E40000006", "--format", "json", "--section",
                "tiers,segmentation,priorities,thames_valley", "--no-qipp"])
    assert res.exit_code == 0, res.output
    obj = json.loads(res.stdout)
    assert list(obj) == ["tiers", "segmentation", "priorities", "east_midlands_priorities",
                         "thames_valley", "meta"]
    assert obj["meta"]["footprint"]["code"] == "E40000006"
    assert obj["meta"]["qipp"] == "no QIPP"
    assert isinstance(obj["priorities"][0]["focus"], list)
    assert all(8 <= r["raw_score"] <= 32 for r in obj["thames_valley"])


def test_csv_to_stdout_reads_back():
    res = _run(["appraise", "-f", "E92000001", "--section", "tiers", "--format", "csv"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.stdout))
    assert df.set_index(["year", "scheme"]).loc[(2025, "emscg_2009"), "tier"] == "national"


def test_unknown_footprint_is_one_line_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "never.json"
    res = _run(["appraise", "--footprint", "E99999999", "--format", "json",
                "--output", str(out)])
    assert res.exit_code == 2
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1
    assert "E99999999" in res.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_section_and_format_exit_2():
    for args in (["--section", "tiers,bogus"], ["--format", "xml"], ["--horizon", "2020"]):
        res = _run(["appraise", "-f", "E12000004", *args])
        assert res.exit_code == 2, args
        assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1


@pytest.mark.parametrize(("section", "titles"), [
    ("risk_sharing", ["risk_sharing", "hiv_risk_share"]),
    ("pooled_risk", ["overspend_split", "pooled_budget"]),
    ("binding_decisions", ["voting"]),
    ("fitness_for_purpose", ["fitness"]),
    ("survey", ["survey"]),
    ("east_midlands", ["east_midlands", "investments"]),
])
def test_library_sections_are_reachable_from_the_cli(section, titles):
    res = _run(["appraise", "-f", "E12000004", "--services", "haemophilia", "--horizon", "2025",
                "--section", section])
    assert res.exit_code == 0, res.output
    for t in titles:
        assert f"== {TITLES[t]} ==" in res.stdout


def test_hiv_tolerance_option_changes_the_sharing():
    res = _run(["appraise", "-f", "E12000004", "--services", "haemophilia", "--horizon", "2025",
                "--section", "risk_sharing", "--hiv-tolerance", "2", "--format", "json"])
    assert res.exit_code == 0, res.output
    hiv = {r["over_baseline"]: r for r in json.loads(res.stdout)["hiv_risk_share"]}
    assert hiv[2.5]["commissioner"] == pytest.approx(1.25) and hiv[2.5]["tolerance"] == 2


def test_benchmark_values_file_fills_the_benchmarking_section():
    from pathlib import Path

    fixture = Path(__file__).resolve().parents[1] / "data" / "reference" / \
        "carter_app14_benchmark_fixture.csv"
    res = _run(["appraise", "-f", "E12000004", "--services", "haemophilia", "--horizon", "2025",
                "--section", "benchmarking", "--benchmark-values", str(fixture),
                "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["measure"]: r for r in json.loads(res.stdout)["benchmarking"]}
    assert rows["1a"]["shown_3"] == "35 of 35" and rows["1a"]["status"] == "target met"


def test_services_catalogue_lists_and_says_which_have_a_model():
    res = _run(["services", "catalogue", "ndset_2002"])
    assert res.exit_code == 0, res.output
    assert "35 entries, 4 with an hna model" in res.stdout
    assert "Hyperbaric oxygen treatment services" in res.stdout
    res = _run(["services", "catalogue", "--modelled", "--format", "csv"])
    df = pd.read_csv(io.StringIO(res.stdout))
    assert df["has_model"].all() and "bone_sarcoma" in set(df["hna_service"])


def test_services_catalogue_unknown_name_exit_2():
    res = _run(["services", "catalogue", "ndset_1999"])
    assert res.exit_code == 2 and res.stderr.startswith("error: ")


def test_fitness_ratings_file_is_summarised(tmp_path):
    p = tmp_path / "fitness.yaml"
    p.write_text("engagement: [Y, Y, Y]\nstructure: [Y, N, P, Y, Y, Y, Y]\n")
    res = _run(["appraise", "-f", "E12000004", "--services", "haemophilia", "--horizon", "2025",
                "--section", "fitness_for_purpose", "--fitness-ratings", str(p), "--format",
                "json"])
    assert res.exit_code == 0, res.output
    rows = {r["dimension"]: r["status"] for r in json.loads(res.stdout)["fitness"]}
    assert rows["engagement"] == "achieved" and rows["structure"] == "not achieved"
    assert rows["overall"] == "not achieved" and rows["strategy"] == "not assessed"


def test_bad_fitness_ratings_exit_2(tmp_path):
    p = tmp_path / "fitness.yaml"
    p.write_text("engagement: [Y, maybe, Y]\n")
    res = _run(["appraise", "-f", "E12000004", "--services", "haemophilia", "--horizon", "2025",
                "--section", "fitness_for_purpose", "--fitness-ratings", str(p)])
    assert res.exit_code == 2 and res.stderr.startswith("error: ")

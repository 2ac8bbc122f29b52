"""`hna project`, `hna services list` and `hna validate`: output, errors, atomic writes."""

from __future__ import annotations

import io
import json

import pandas as pd
from typer.testing import CliRunner

from hna.cli import app
from tests.conftest import REPO, TEST_DATA

runner = CliRunner()


def _run(args: list[str]):
    return runner.invoke(app.typer_app, args)


def test_project_csv_has_intervals_centres_and_tiers(tmp_path):
    out = tmp_path / "sw.csv"
    res = _run(["project", "soft_tissue_sarcoma", "--footprint", "E12000009", "--years",
                "2025:2026", "--draws", "200", "--centres", "2", "--format", "csv",
                "--output", str(out)])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(out)
    assert df["year"].tolist() == [2025, 2026]
    for col in ["mean_cases", "q0.025", "q0.975", "centres_on_mean", "p_viable",
                "tier_emscg_2009", "planning_population", "parameter_hash"]:
        assert col in df.columns
    assert (df["centres_on_mean"] == (df["mean_cases"] // 100)).all()


def test_project_table_answers_the_question():
    res = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                "--draws", "100", "--centres", "2"])
    assert res.exit_code == 0, res.output
    assert "Probability that each of the 2 sarcoma MDTs reach 100" in res.stdout
    assert "tier emscg_2009: regional" in res.stdout


def test_project_json_is_records():
    res = _run(["project", "haemophilia", "-f", "E54000036", "--years", "2030", "--draws", "50",
                "--format", "json"])
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert rows[0]["year"] == 2030 and rows[0]["mean_patients"] > 0


def test_project_error_is_one_line_exit_2_and_writes_nothing(tmp_path):
    out = tmp_path / "never.csv"
    res = _run(["project", "soft_tissue_sarcoma", "--footprint", "E99999999", "--format", "csv",
                "--output", str(out)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_services_list():
    res = _run(["services", "list", "--format", "csv"])
    assert res.exit_code == 0, res.output
    df = pd.read_csv(io.StringIO(res.stdout))
    assert {"soft_tissue_sarcoma", "bone_sarcoma", "dialysis"} <= set(df["id"])


def test_validate_good_and_bad_files():
    good = _run(["validate", str(REPO / "parameters" / "services" / "dialysis.yaml"),
                 str(REPO / "parameters" / "footprints" / "historical.yaml")])
    assert good.exit_code == 0, good.output
    assert good.stdout.count("ok: ") == 2
    bad = _run(["validate", str(TEST_DATA / "services" / "missing_source.yaml")])
    assert bad.exit_code == 2
    assert bad.stderr.count("\n") == 1 and "missing source" in bad.stderr


def test_project_refuses_a_billion_draws_before_allocating(tmp_path):
    out = tmp_path / "x.csv"
    res = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025:2026",
                "--draws", "1000000000", "--format", "csv", "--output", str(out)])
    assert res.exit_code == 2
    assert "GiB of memory" in res.output and "draws" in res.output
    assert "Traceback" not in res.output and not out.exists()


def test_project_reports_centres_sustainable_with_80pc_probability():
    res = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                "--draws", "400"])
    assert res.exit_code == 0, res.output
    assert "centres sustainable with 80% probability" in res.output
    assert "arithmetic centres floor(expected / minimum)" in res.output


def test_validate_recognises_a_run_spec_outside_parameters_runs(tmp_path):
    import shutil

    dst = tmp_path / "mine.yaml"
    shutil.copy(REPO / "parameters" / "runs" / "default.yaml", dst)
    text = dst.read_text(encoding="utf-8")  # relative notebook paths resolve from tmp_path
    dst.write_text(text.replace("path: notebooks/", f"path: {REPO}/notebooks/"), encoding="utf-8")
    res = _run(["validate", str(dst)])
    assert res.exit_code == 0, res.output
    assert "run spec" in res.stdout


def test_validate_fails_a_copied_run_spec_whose_notebooks_hna_run_cannot_find(tmp_path):
    import shutil

    dst = tmp_path / "mine.yaml"
    shutil.copy(REPO / "parameters" / "runs" / "default.yaml", dst)
    res = _run(["validate", str(dst)])
    assert res.exit_code == 2
    assert "notebook not found" in res.output and "Traceback" not in res.output


def test_validate_duplicate_key_is_one_line_exit_2(tmp_path):
    path = tmp_path / "run.yaml"
    path.write_text((REPO / "parameters" / "runs" / "default.yaml").read_text(encoding="utf-8")
                    + "draws: 5\n", encoding="utf-8")
    res = _run(["validate", str(path)])
    assert res.exit_code == 2
    assert res.stderr.count("\n") == 1 and "duplicate key 'draws'" in res.stderr
    assert "Traceback" not in res.output


def test_project_with_a_scenario_names_it_and_an_unknown_one_exits_2(tmp_path):
    res = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025,2040",
                "--draws", "200", "--scenario", "sts_rising_2pc"])
    assert res.exit_code == 0, res.output
    assert "Scenario: Soft tissue sarcoma incidence rising 2% a year from 2025" in res.output
    out = tmp_path / "x.csv"
    res = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--scenario", "nope",
                "--format", "csv", "--output", str(out)])
    assert res.exit_code == 2 and "unknown scenario" in res.output and not out.exists()


def test_service_file_with_an_impossible_distribution_exits_2(tmp_path):
    import yaml

    svc = yaml.safe_load((REPO / "parameters/services/bone_sarcoma.yaml").read_text())
    svc["uncertainty"] = {"case_definition": {"distribution": "lognormal", "median": 1.0,
                                              "sd_log": -0.2, "assumption": "x"}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(svc))
    res = _run(["project", str(path), "-f", "E40000006", "--years", "2025", "--draws", "10"])
    assert res.exit_code == 2
    assert "bad.yaml" in res.output and "uncertainty.case_definition" in res.output
    assert "sd_log must be >= 0" in res.output and "-0.2" in res.output


def _main(args: list[str], capsys) -> tuple[int, str]:
    import pytest

    with pytest.raises(SystemExit) as info:
        app(args=args)
    return info.value.code, capsys.readouterr().err


def test_output_parent_that_is_a_file_exits_3_naming_the_output(tmp_path, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    code, err = _main(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                       "--draws", "0", "-o", str(blocker / "x.json")], capsys)
    assert code == 3
    assert f"cannot write {blocker}" in err and "not a folder" in err
    assert "Traceback" not in err


def test_read_only_output_exits_3_naming_the_file_asked_for_not_the_temporary(tmp_path, capsys,
                                                                               monkeypatch):
    import errno
    import os

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(args[0]))

    monkeypatch.setattr(os, "open", read_only)
    out = tmp_path / "sw.json"
    code, err = _main(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                       "--draws", "0", "--format", "json", "-o", str(out)], capsys)
    assert code == 3
    assert f"cannot write {out}: Read-only file system" in err and "read-only" in err
    assert ".tmp" not in err and not out.exists()


def test_project_json_says_how_many_centres_and_how_cases_were_split():
    res = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                "--draws", "200", "--centres", "5", "--format", "json"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)[0]
    assert row["n_centres"] == 5
    assert row["split"] == "equal shares (no designation given)"
    assert row["expected_smallest_caseload"] < row["caseload_per_centre"]  # min of 5 < mean
    shared = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                   "--draws", "200", "--shares", "0.7,0.3", "--format", "json"])
    assert json.loads(shared.stdout)[0]["split"] != row["split"]


def test_project_csv_and_json_carry_the_parameter_quality():
    res = _run(["project", "severe_burns", "-f", "E40000006", "--years", "2025", "--draws", "0",
                "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)[0]["quality"] == "low"
    csv = _run(["project", "soft_tissue_sarcoma", "-f", "E40000006", "--years", "2025",
                "--draws", "0", "--format", "csv"])
    assert pd.read_csv(io.StringIO(csv.stdout))["quality"].tolist() == ["moderate"]

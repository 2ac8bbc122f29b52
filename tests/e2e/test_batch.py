"""Tests for hna.batch and ``hna run``: run specs, jobs, parameters, execution, resume.

Execution tests use the small notebooks in tests/data/notebooks (copied into a temporary
folder, which becomes the kernels' working folder) and explicit footprint codes. Service ids
are checked against hna.services when it exists, so tests that run over services replace that
check with :func:`_any_service`.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

import hna
import hna.batch.jobs as batch_jobs
import hna.batch.run as batch_run
from hna.batch import (
    RESERVED_PARAMETERS,
    check_injected_code,
    expand_jobs,
    load_runspec,
    project_root,
    run_batch,
    validate_parameters,
)
from hna.errors import HnaError, ParameterError

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "tests" / "data" / "notebooks"
RUNS = REPO / "tests" / "data" / "runs"
HNA = Path(sys.executable).with_name("hna")

HOSTILE_VALUE = "'); import os; os.system('touch pwned'); ('"
FOOTPRINTS = ["E92000001", "E40000003"]


def _any_service(ids, source):
    return {sid: sid.replace("_", " ").capitalize() for sid in ids}


def _write_spec(tmp_path: Path, notebooks: list[dict], name: str = "t", **fields) -> Path:
    """Copy the named test notebooks into tmp_path/notebooks and write a run spec there."""
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    for entry in notebooks:
        src = NOTEBOOKS / Path(entry["path"]).name
        if src.exists():  # a missing notebook stays missing (tests of that error)
            shutil.copy(src, tmp_path / "notebooks" / src.name)
        entry["path"] = f"notebooks/{src.name}"
    spec = {"name": name, "notebooks": notebooks, "years": {"start": 2025, "end": 2027},
            "draws": 5, "seed": 11}
    spec.update(fields)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _jobs(manifest: dict) -> dict[str, dict]:
    return {job["id"]: job for job in manifest["jobs"]}


# --------------------------------------------------------------------------- run specs


def test_load_runspec_reads_a_valid_spec():
    spec = load_runspec(RUNS / "small.yaml")
    assert spec.name == "small"
    assert spec.notebooks[0].over == ["footprint"]
    assert spec.footprints == FOOTPRINTS
    assert spec.year_list == list(range(2025, 2031))
    assert (spec.draws, spec.seed, spec.parameters) == (10, 7, {"note": "small run"})


def test_default_runspec_expands_to_service_reports_overview_designation_appraisals_scenarios(
        tmp_path, monkeypatch):
    spec = load_runspec(REPO / "parameters" / "runs" / "default.yaml")
    assert (spec.draws, spec.seed, spec.years_label) == (1000, 20261124, "2025-2040")
    # Stand-ins for the content notebooks and the service catalogue (written elsewhere).
    (tmp_path / "notebooks").mkdir()
    for name in ("service_needs", "footprint_overview", "designation_options",
                 "commissioning_appraisal", "scenarios"):
        shutil.copy(NOTEBOOKS / "ok.ipynb", tmp_path / "notebooks" / f"{name}.ipynb")
    monkeypatch.setattr(batch_jobs, "check_services", _any_service)
    regions = ["E40000003", "E40000005", "E40000006", "E40000007", "E40000010", "E40000011",
               "E40000012"]
    jobs = expand_jobs(spec, root=tmp_path)
    assert len(jobs) == 16 + 1 + 1 + 8 + 1
    assert jobs[-1].id == "soft_tissue_sarcoma/E92000001_scenarios"
    assert jobs[-1].parameters["scenarios"] == [None, "sts_registry_trend"]
    assert [j.id for j in jobs[:2]] == ["soft_tissue_sarcoma/E92000001",
                                        "soft_tissue_sarcoma/E40000003"]
    design = jobs[17]
    assert design.id == "soft_tissue_sarcoma/E40000006_designation"
    assert design.parameters["ks"] == [1, 2, 3]
    assert [j.id for j in jobs[18:20]] == ["_overview/commissioning_appraisal/E92000001",
                                          "_overview/commissioning_appraisal/E40000003"]
    assert jobs[18].parameters["horizon"] == 2030
    overview = jobs[16]
    assert overview.id == "_overview/footprint_overview"
    assert overview.parameters["level"] == "nhs_region"
    assert overview.parameters["services"] == ["soft_tissue_sarcoma", "dialysis"]
    assert overview.parameters["footprints"] == ["E92000001", *regions]
    first = jobs[0].parameters
    assert {k: first[k] for k in ("service", "footprint", "years_start", "years_end", "draws",
                                  "seed", "run_name")} == {
        "service": "soft_tissue_sarcoma", "footprint": "E92000001", "years_start": 2025,
        "years_end": 2040, "draws": 1000, "seed": 20261124, "run_name": "default"}


def test_unknown_key_error_names_file_and_field():
    with pytest.raises(ParameterError) as info:
        load_runspec(RUNS / "bad_extra_key.yaml")
    message = str(info.value)
    assert "bad_extra_key.yaml" in message and "notebooks[0].ovr" in message
    assert "not a known key" in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "not a name"}, "name"),
        ({"years": {"start": 2040, "end": 2025}}, "years"),
        ({"draws": 0}, "draws"),
        ({"draws": "1000"}, "draws"),
        ({"footprints": {"level": "galaxy"}}, "footprints.level"),
        ({"notebooks": [{"path": "a.ipynb", "over": ["sevice"]}]}, "notebooks[0].over[0]"),
        ({"parameters": {"seed": 3}}, "parameters"),
        ({"services": []}, "services"),
    ],
)
def test_schema_errors_name_the_field(tmp_path, change, field):
    spec = {"name": "x", "notebooks": [{"path": "a.ipynb", "over": ["service"]}],
            "services": ["dialysis"], "years": [2025], "draws": 1, "seed": 1}
    spec.update(change)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ParameterError) as info:
        load_runspec(path)
    assert f"field '{field}'" in str(info.value) and str(path) in str(info.value)


def test_unreadable_yaml_is_a_parameter_error(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n")
    with pytest.raises(ParameterError, match="not valid YAML at line"):
        load_runspec(path)
    with pytest.raises(ParameterError, match="cannot read"):
        load_runspec(tmp_path / "missing.yaml")


def test_project_root_is_above_parameters_runs(tmp_path):
    (tmp_path / "parameters" / "runs").mkdir(parents=True)
    assert project_root(tmp_path / "parameters" / "runs" / "x.yaml") == tmp_path.resolve()
    assert project_root(RUNS / "small.yaml") == RUNS


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    "name", ["x=1\nimport os", "__import__('os')", "a b", "1st", "class", "x\n", "é", ""]
)
def test_hostile_or_invalid_parameter_names_are_rejected(name):
    with pytest.raises(ParameterError, match="not a valid parameter name"):
        validate_parameters({name: 1})


def test_hostile_parameter_name_in_a_spec_names_file_and_field():
    with pytest.raises(ParameterError) as info:
        load_runspec(RUNS / "hostile_name.yaml")
    assert "hostile_name.yaml" in str(info.value) and "field 'parameters'" in str(info.value)


def test_parameter_values_must_be_json_typed():
    clean = validate_parameters({"a": np.int32(2), "b": np.array([0.5, 1.5]), "c": {"k": [None]}})
    assert clean == {"a": 2, "b": [0.5, 1.5], "c": {"k": [None]}}
    assert type(clean["a"]) is int
    for bad in [(1, 2), {1, 2}, float("nan"), object(), b"bytes"]:
        with pytest.raises(ParameterError, match="parameters.v"):
            validate_parameters({"v": bad})


def test_injected_code_is_only_literal_assignments_even_for_hostile_strings():
    values = {"s": HOSTILE_VALUE, "t": 'a"\\"; import os #', "u": "\n__import__('os')\n",
              "d": {"x=1\nimport os": "']"}}
    code = check_injected_code(values)
    namespace: dict = {}
    exec(compile(code, "<parameters>", "exec"), {"__builtins__": {}}, namespace)
    assert namespace == values


def test_injected_code_check_catches_a_quoting_bug(monkeypatch):
    from papermill.translators import PythonTranslator

    # If papermill ever quoted strings naively, the check would stop the job.
    monkeypatch.setattr(PythonTranslator, "translate_str", classmethod(lambda cls, v: f"'{v}'"))
    with pytest.raises(ParameterError, match="other than a literal assignment"):
        check_injected_code({"s": "'; import os; x = '"})  # -> s = ''; import os; x = ''
    with pytest.raises(ParameterError, match="invalid code"):
        check_injected_code({"s": HOSTILE_VALUE})


# --------------------------------------------------------------------------- job expansion


def test_jobs_follow_each_notebooks_axes_and_output_layout(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_jobs, "check_services", _any_service)
    path = _write_spec(
        tmp_path,
        [{"path": "ok.ipynb", "over": ["service", "footprint"]},
         {"path": "raising.ipynb", "over": ["service"]},
         {"path": "slow.ipynb", "over": ["footprint"]},
         {"path": "kernel_death.ipynb", "over": []}],
        services=["dialysis", "soft_tissue_sarcoma"], footprints=FOOTPRINTS,
    )
    jobs = expand_jobs(load_runspec(path), root=tmp_path)
    assert [j.id for j in jobs] == [
        "dialysis/E92000001", "dialysis/E40000003",
        "soft_tissue_sarcoma/E92000001", "soft_tissue_sarcoma/E40000003",
        "dialysis/raising", "soft_tissue_sarcoma/raising",
        "_overview/slow/E92000001", "_overview/slow/E40000003",
        "_overview/kernel_death",
    ]
    by_id = {j.id: j.parameters for j in jobs}
    assert by_id["dialysis/raising"]["footprints"] == FOOTPRINTS
    assert "footprint" not in by_id["dialysis/raising"]
    assert by_id["_overview/slow/E40000003"]["services"] == ["dialysis", "soft_tissue_sarcoma"]
    assert by_id["_overview/kernel_death"]["level"] is None
    assert set(RESERVED_PARAMETERS) >= set(by_id["dialysis/E92000001"])


def test_a_notebook_can_override_services_footprints_and_parameters(tmp_path, monkeypatch):
    """Per-notebook services/footprints/parameters restrict one notebook within a wider run."""
    monkeypatch.setattr(batch_jobs, "check_services", _any_service)
    path = _write_spec(
        tmp_path,
        [{"path": "ok.ipynb", "over": ["service", "footprint"]},
         {"path": "ok.ipynb", "over": ["service", "footprint"], "suffix": "extra",
          "services": ["dialysis"], "footprints": ["E40000003"], "parameters": {"note": "x"}}],
        services=["dialysis", "soft_tissue_sarcoma"], footprints=FOOTPRINTS,
    )
    jobs = expand_jobs(load_runspec(path), root=tmp_path)
    assert [j.id for j in jobs][-1] == "dialysis/E40000003_extra"
    assert len(jobs) == 4 + 1
    assert jobs[-1].parameters["note"] == "x"
    assert "note" not in jobs[0].parameters


def test_a_notebook_override_cannot_set_runner_parameters(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": [], "parameters": {"seed": 1}}],
                       services=[], footprints=[])
    with pytest.raises(ParameterError, match=r"notebooks\[0\]\.parameters.*'seed' is set by the runner"):
        load_runspec(path)


def test_two_notebooks_writing_the_same_outputs_need_a_suffix(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_jobs, "check_services", _any_service)
    entries = [{"path": "ok.ipynb"}, {"path": "raising.ipynb"}]
    path = _write_spec(tmp_path, entries, services=["dialysis"], footprints=["E92000001"])
    with pytest.raises(ParameterError, match="suffix"):
        expand_jobs(load_runspec(path), root=tmp_path)
    entries = [{"path": "ok.ipynb"}, {"path": "raising.ipynb", "suffix": "extra"}]
    path = _write_spec(tmp_path, entries, services=["dialysis"], footprints=["E92000001"])
    ids = [j.id for j in expand_jobs(load_runspec(path), root=tmp_path)]
    assert ids == ["dialysis/E92000001", "dialysis/E92000001_extra"]


def test_batch_imports_hna_modules_directly_without_probing():
    sources = "\n".join(p.read_text() for p in (REPO / "hna" / "batch").glob("*.py"))
    assert "importlib" not in sources and "_optional_module" not in sources
    assert "from hna import geography, scenarios, services" in (REPO / "hna/batch/jobs.py").read_text()


def test_unknown_footprint_is_reported_with_its_position(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=["E92000001", "Atlantis"])
    with pytest.raises(ParameterError, match=r"footprints\[1\]"):
        expand_jobs(load_runspec(path), root=tmp_path)


def test_missing_notebook_is_reported(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": []}])
    spec = load_runspec(path)
    spec = spec.model_copy(update={"notebooks": [spec.notebooks[0].model_copy(
        update={"path": "notebooks/nope.ipynb"})]})
    with pytest.raises(ParameterError, match=r"notebooks\[0\]\.path.*notebook not found"):
        expand_jobs(spec, root=tmp_path)


def test_a_run_folder_is_written_by_one_run_at_a_time(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": []}])
    run_dir = tmp_path / "outputs" / "t"
    run_dir.mkdir(parents=True)
    with batch_run._run_lock(run_dir), pytest.raises(HnaError, match="another 'hna run'"):
        run_batch(path, output_dir=tmp_path / "outputs")
    assert not (run_dir / "manifest.json").exists()


# --------------------------------------------------------------------------- execution


@pytest.fixture(scope="module")
def mixed_run(tmp_path_factory):
    """One run with successes, an exception, a kernel death and a timeout (5 jobs)."""
    tmp_path = tmp_path_factory.mktemp("mixed")
    mp = pytest.MonkeyPatch()
    mp.setattr(batch_jobs, "check_services", _any_service)
    try:
        path = _write_spec(
            tmp_path,
            [{"path": "ok.ipynb", "over": ["service", "footprint"]},
             {"path": "raising.ipynb", "over": []},
             {"path": "kernel_death.ipynb", "over": []},
             {"path": "slow.ipynb", "over": []}],
            name="mixed", services=["dialysis", "soft_tissue_sarcoma"],
            footprints=["E92000001"], parameters={"note": HOSTILE_VALUE},
        )
        result = run_batch(path, output_dir=tmp_path / "outputs", jobs=2, timeout=6)
    finally:
        mp.undo()
    return tmp_path, result


@pytest.mark.slow
def test_successful_jobs_write_notebook_report_and_headline(mixed_run):
    _, result = mixed_run
    job = _jobs(result.manifest)["dialysis/E92000001"]
    assert job["status"] == "ok"
    base = result.run_dir / "dialysis" / "E92000001"
    for ext in ("ipynb", "html", "json"):
        assert base.with_suffix(f".{ext}").is_file()
    record = json.loads(base.with_suffix(".json").read_text())
    # ok.ipynb: total = sum(len(service) * year for years 2025..2027) + seed
    assert record["headline"]["total"] == sum(len("dialysis") * y for y in range(2025, 2028)) + 11
    assert record["status"] == "ok" and record["parameters"]["service"] == "dialysis"


@pytest.mark.slow
def test_hostile_string_value_arrives_as_a_literal_string(mixed_run):
    tmp_path, result = mixed_run
    for service in ("dialysis", "soft_tissue_sarcoma"):
        assert _jobs(result.manifest)[f"{service}/E92000001"]["headline"]["note"] == HOSTILE_VALUE
    # The kernels ran in tmp_path/notebooks; nothing was created anywhere near them.
    assert not list(tmp_path.rglob("pwned"))
    assert not (Path.cwd() / "pwned").exists()


@pytest.mark.slow
def test_a_failing_job_records_its_cell_and_message(mixed_run):
    _, result = mixed_run
    error = _jobs(result.manifest)["_overview/raising"]["error"]
    assert error["kind"] == "exception" and error["ename"] == "ValueError"
    assert "deliberate failure" in error["evalue"]
    assert "raise ValueError" in error["source"]
    assert error["cell_index"] is not None and error["exec_count"] is not None
    index = (result.run_dir / "index.html").read_text()
    assert "unexpected error (ValueError)" in index and 'class="failed"' in index
    assert "Traceback" not in index and "raise ValueError" not in index


@pytest.mark.slow
def test_kernel_death_and_timeout_are_failures_not_crashes(mixed_run):
    _, result = mixed_run
    jobs = _jobs(result.manifest)
    assert jobs["_overview/kernel_death"]["status"] == "failed"
    assert jobs["_overview/kernel_death"]["error"]["kind"] == "kernel_died"
    assert "exit status 1" in jobs["_overview/kernel_death"]["error"]["summary"]
    assert jobs["_overview/slow"]["error"]["kind"] == "timeout"
    assert "time.sleep(120)" in jobs["_overview/slow"]["error"]["source"]
    assert jobs["_overview/slow"]["duration_s"] < 60
    assert [result.count("ok"), result.count("failed")] == [2, 3]
    assert not result.ok


@pytest.mark.slow
def test_manifest_records_provenance_per_job(mixed_run):
    _, result = mixed_run
    manifest = json.loads((result.run_dir / "manifest.json").read_text())
    assert manifest["hna_version"] == hna.__version__
    assert manifest["seed"] == 11 and manifest["data_hash"]
    assert manifest["data_vintages"]
    for job in manifest["jobs"]:
        assert len(job["parameter_hash"]) == 64 and len(job["input_hash"]) == 64
        assert job["status"] in ("ok", "failed")
        assert job["started"] and job["duration_s"] > 0
    assert (result.run_dir / "summary.csv").is_file()
    assert not list(result.run_dir.rglob("*.tmp"))


@pytest.mark.slow
def test_rerun_reuses_finished_jobs_and_force_reruns(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=FOOTPRINTS)
    out = tmp_path / "outputs"
    first = run_batch(path, output_dir=out, jobs=2)
    assert first.ok and first.reused == 0
    report = first.run_dir / "_overview" / "ok" / "E92000001.html"
    assert "record_headline" not in report.read_text()

    # Same inputs: nothing executes; --show-code re-renders the reports from the notebooks.
    second = run_batch(path, output_dir=out, jobs=2, show_code=True)
    assert second.ok and second.reused == 2
    assert [j["started"] for j in second.jobs] == [j["started"] for j in first.jobs]
    assert "record_headline" in report.read_text()

    # A changed parameter changes the inputs of every job.
    spec = yaml.safe_load(path.read_text())
    spec["parameters"] = {"note": "changed"}
    path.write_text(yaml.safe_dump(spec))
    third = run_batch(path, output_dir=out, jobs=2, show_code=True)
    assert third.reused == 0 and third.ok

    fourth = run_batch(path, output_dir=out, jobs=2, show_code=True, force=True)
    assert fourth.reused == 0 and fourth.ok


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_keeps_finished_jobs_and_resumes(tmp_path, sig):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=["E92000001", "E40000003", "E40000005", "E40000006"],
                       parameters={"sleep_seconds": 1.0})
    out = tmp_path / "outputs"
    cmd = [str(HNA), "run", str(path), "--output", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    manifest_path = out / "t" / "manifest.json"
    deadline = time.monotonic() + 90
    finished: list[str] = []
    while time.monotonic() < deadline and not finished and proc.poll() is None:
        time.sleep(0.1)
        try:
            finished = [j["id"] for j in json.loads(manifest_path.read_text())["jobs"]
                        if j["status"] == "ok"]
        except (OSError, ValueError):
            pass
    assert finished, "no job finished before the deadline"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=150)  # generous: shutting kernels down on a loaded 2-core machine
    assert proc.returncode == 130, err
    manifest = json.loads(manifest_path.read_text())
    statuses = {j["id"]: j["status"] for j in manifest["jobs"]}
    assert set(finished) <= {k for k, v in statuses.items() if v == "ok"}
    assert "interrupted" in statuses.values()
    assert not list(out.rglob("*.tmp"))
    for job_id in finished:
        assert (out / "t" / f"{job_id}.html").is_file()

    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    jobs = _jobs(json.loads(manifest_path.read_text()))
    assert all(j["status"] == "ok" for j in jobs.values())
    assert {k for k, j in jobs.items() if j["reused"]} >= set(finished)
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_dask_executor_runs_jobs_on_a_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=FOOTPRINTS)
    result = run_batch(path, output_dir=tmp_path / "outputs", jobs=2, executor="dask",
                       scheduler="local")
    assert result.ok and len(result.jobs) == 2
    assert result.manifest["executor"] == "dask (local)"
    assert all(j["headline"]["footprint"] == j["footprint"] for j in result.jobs)


# --------------------------------------------------------------------------- command line


@pytest.mark.slow
def test_cli_exits_non_zero_when_a_job_fails(tmp_path):
    from typer.testing import CliRunner

    from hna.cli import app

    path = _write_spec(tmp_path, [{"path": "raising.ipynb", "over": []}])
    result = CliRunner().invoke(app.typer_app, ["run", str(path), "--output",
                                                str(tmp_path / "out"), "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert "failed" in result.output and "index.html" in result.output


def test_cli_reports_invalid_specs_on_one_line_with_status_2(tmp_path):
    from typer.testing import CliRunner

    from hna.cli import app

    result = CliRunner().invoke(app.typer_app, ["run", str(RUNS / "bad_extra_key.yaml")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "notebooks[0].ovr" in lines[0]

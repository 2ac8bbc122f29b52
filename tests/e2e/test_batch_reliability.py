"""Batch runner reliability (issue 14) and analyst workflow (issue 13).

Validation before anything is created, exit codes, resume keyed by what each job read,
determinism, no orphan processes.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_batch import _write_spec
from typer.testing import CliRunner

import hna.batch.jobs as batch_jobs
import hna.batch.outputs as batch_outputs
from hna.batch import RunEnvironmentError, expand_jobs, load_runspec, run_batch
from hna.cli import app
from hna.errors import ParameterError

HNA = Path(sys.executable).with_name("hna")
FOOTPRINTS = ["E92000001", "E40000003"]


def _cli(*args: str):
    return CliRunner().invoke(app.typer_app, ["run", *args])


def _reads_file_spec(tmp_path: Path) -> Path:
    data = tmp_path / "inputs"
    data.mkdir()
    for code in FOOTPRINTS:
        (data / f"{code}.txt").write_text(f"text for {code}\n")
    return _write_spec(tmp_path, [{"path": "reads_file.ipynb", "over": ["footprint"]}],
                       footprints=FOOTPRINTS, parameters={"input_dir": str(data)})


# --------------------------------------------------------------------------- validation first


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "not valid notebook JSON"),
    (json.dumps({"nbformat": 3, "worksheets": []}), "format 4"),
    (b"\xff\xfe\x00bad", "cannot read the notebook"),
])
def test_broken_notebooks_are_refused_before_the_run_folder_exists(tmp_path, content, message):
    path = _write_spec(tmp_path, [{"path": "broken.ipynb", "over": []}])
    target = tmp_path / "notebooks" / "broken.ipynb"
    target.write_bytes(content if isinstance(content, bytes) else content.encode())
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=message):
        run_batch(path, output_dir=out)
    assert not out.exists()


def test_a_notebook_without_a_parameters_cell_is_refused_clearly(tmp_path):
    path = _write_spec(tmp_path, [{"path": "no_parameters.ipynb", "over": []}])
    result = _cli(str(path), "--output", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "no cell tagged 'parameters'" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_years_outside_the_data_are_refused_before_any_job(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": []}], years=[2019, 2025])
    with pytest.raises(ParameterError, match=r"field 'years'.*2019.*Choose years from 2020"):
        expand_jobs(load_runspec(path), root=tmp_path, source=str(path))


def test_unknown_service_is_refused_with_the_known_ones(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["service"]}],
                       services=["sarcomaa"])
    result = _cli(str(path), "--dry-run")
    assert result.exit_code == 2 and "services[0]" in result.output
    assert "dialysis" in result.output


def test_dry_run_lists_full_job_names_and_creates_nothing(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["service", "footprint"]}],
                       services=["dialysis"], footprints=FOOTPRINTS)
    result = _cli(str(path), "--dry-run", "--output", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "2 jobs" in result.output
    assert "England (E92000001)" in result.output and "London (E40000003)" in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "outputs").exists()


def test_cli_list_parameter_reaches_every_job(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": []}])
    jobs = expand_jobs(load_runspec(path), root=tmp_path, overrides={"ks": [6, 8, 10]})
    assert jobs[0].parameters["ks"] == [6, 8, 10]
    result = _cli(str(path), "--dry-run", "-p", "ks", "[6, 8, 10]", "-p", "note", "x")
    assert result.exit_code == 0, result.output
    result = _cli(str(path), "--dry-run", "-p", "seed", "3")
    assert result.exit_code == 2 and "set by the runner" in result.output


# --------------------------------------------------------------------------- exit codes


def test_output_parent_that_is_a_file_exits_3_without_traceback(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": []}])
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    result = _cli(str(path), "--output", str(blocker / "sub"))
    assert result.exit_code == 3, result.output
    assert "not a folder" in result.output and "Traceback" not in result.output


def test_read_only_output_exits_3(tmp_path, monkeypatch):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": []}])

    def read_only(self, *args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(Path, "mkdir", read_only)
    result = _cli(str(path), "--output", str(tmp_path / "ro"))
    assert result.exit_code == 3, result.output
    assert "read-only" in result.output and "Traceback" not in result.output


@pytest.mark.slow
def test_disk_full_mid_run_exits_3_and_keeps_the_run_resumable(tmp_path, monkeypatch):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=FOOTPRINTS)
    real = batch_outputs.atomic_write_json

    def full(target, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(batch_outputs, "atomic_write_json", full)
    with pytest.raises(RunEnvironmentError, match="disk is full"):
        run_batch(path, output_dir=tmp_path / "out", jobs=1)
    monkeypatch.setattr(batch_outputs, "atomic_write_json", real)
    again = run_batch(path, output_dir=tmp_path / "out", jobs=1)
    assert again.ok


# --------------------------------------------------------------------------- resume key


@pytest.mark.slow
def test_editing_a_file_one_job_read_reruns_only_that_job(tmp_path):
    path = _reads_file_spec(tmp_path)
    out = tmp_path / "out"
    first = run_batch(path, output_dir=out, jobs=2)
    assert first.ok, [j["error"] for j in first.jobs]
    job = {j["id"]: j for j in first.jobs}["_overview/reads_file/E40000003"]
    assert str(tmp_path / "inputs" / "E40000003.txt") in job["inputs"]
    (tmp_path / "inputs" / "E40000003.txt").write_text("changed\n")
    second = run_batch(path, output_dir=out, jobs=2)
    reused = {j["id"]: j["reused"] for j in second.jobs}
    assert reused == {"_overview/reads_file/E92000001": True,
                      "_overview/reads_file/E40000003": False}
    record = json.loads((second.run_dir / "_overview/reads_file/E40000003.json").read_text())
    assert record["headline"]["text"] == "changed"


# --------------------------------------------------------------------------- determinism


def _result_files(run_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes()
            for p in sorted(run_dir.rglob("*")) if p.suffix in (".json", ".csv", ".html")
            and p.name != "manifest.json"}


@pytest.mark.slow
def test_same_spec_twice_and_jobs_1_vs_2_give_byte_identical_results(tmp_path):
    path = _reads_file_spec(tmp_path)
    one = run_batch(path, output_dir=tmp_path / "a", jobs=1)
    two = run_batch(path, output_dir=tmp_path / "b", jobs=2)
    again = run_batch(path, output_dir=tmp_path / "b", jobs=2, force=True)
    assert one.ok and two.ok and again.ok
    files_one = _result_files(one.run_dir)
    assert files_one == _result_files(two.run_dir)
    assert files_one == _result_files(again.run_dir)
    report = files_one["_overview/reads_file/E92000001.html"].decode()
    assert "PosixPath" not in report and "hna-job-" not in report and "text for" in report


# --------------------------------------------------------------------------- orphans


def _run_processes(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def _kernel_pids_of(children: list[int]) -> set[int]:
    pids = set(children)
    frontier = list(children)
    while frontier:
        pid = frontier.pop()
        try:
            kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            if kid not in pids:
                pids.add(kid)
                frontier.append(kid)
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_kill_9_of_the_parent_leaves_no_process_and_the_rerun_resumes(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=["E92000001", "E40000003", "E40000005", "E40000006"],
                       parameters={"sleep_seconds": 3.0})
    out = tmp_path / "out"
    cmd = [str(HNA), "run", str(path), "--output", str(out), "--jobs", "2"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "t" / "manifest.json"
    deadline = time.monotonic() + 90
    family: set[int] = set()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        family |= _kernel_pids_of([proc.pid])
        if any("ipykernel" in (Path(f"/proc/{p}/cmdline").read_text(errors="ignore")
                               if Path(f"/proc/{p}/cmdline").exists() else "")
               for p in family):
            break
    time.sleep(1.0)
    family |= _kernel_pids_of([proc.pid])
    assert len(family) > 3, "the run did not start its workers and kernels"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 8
    survivors = family
    while time.monotonic() < deadline:
        survivors = {pid for pid in family if pid != proc.pid and _alive(pid)}
        if not survivors:
            break
        time.sleep(0.25)
    assert not survivors, [Path(f"/proc/{p}/cmdline").read_bytes() for p in survivors]
    rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert rerun.returncode == 0, rerun.stderr
    for file in (out / "t").rglob("*"):
        if file.suffix == ".json":
            json.loads(file.read_text())
    assert all(j["status"] == "ok" for j in json.loads(manifest.read_text())["jobs"])
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_progress_reports_running_job_names(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_jobs, "check_services", lambda ids, source: dict.fromkeys(ids, "X"))
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"]}],
                       footprints=FOOTPRINTS)
    events = []
    result = run_batch(path, output_dir=tmp_path / "out", jobs=1,
                       progress=lambda event, job, counts: events.append((event, job)))
    assert result.ok
    running = [job["running"] for event, job in events if event == "running"]
    assert running[0] == ["Ok: England (E92000001)"]
    assert running[-1] == []


# --------------------------------------------------------------------------- scenarios


def test_scenarios_expand_into_one_job_each_with_the_base_case_unsuffixed(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_jobs, "check_services", lambda ids, source: dict.fromkeys(ids, "X"))
    monkeypatch.setattr(batch_jobs, "check_scenarios",
                        lambda ids, source: {s: s.upper() for s in ids if s})
    path = _write_spec(tmp_path, [{"path": "ok.ipynb",
                                   "over": ["service", "footprint", "scenario"]},
                                  {"path": "ok.ipynb", "over": [], "suffix": "once"}],
                       services=["dialysis"], footprints=["E92000001"],
                       scenarios=[None, "higher"])
    jobs = expand_jobs(load_runspec(path), root=tmp_path)
    assert [j.id for j in jobs] == ["dialysis/E92000001", "dialysis/E92000001__higher",
                                    "_overview/ok_once"]
    assert [j.parameters.get("scenario", "absent") for j in jobs] == [None, "higher", "absent"]
    assert jobs[1].title.endswith("scenario: HIGHER")


def test_unknown_scenario_is_refused_before_any_job(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint", "scenario"]}],
                       footprints=["E92000001"], scenarios=[None, "no_such_scenario"])
    with pytest.raises(ParameterError, match=r"scenarios\[1\]"):
        expand_jobs(load_runspec(path), root=tmp_path, source=str(path))


def test_unknown_scenario_in_notebook_parameters_exits_2_before_anything_is_written(tmp_path):
    path = _write_spec(tmp_path, [{"path": "ok.ipynb", "over": ["footprint"],
                                   "parameters": {"scenarios": [None, "no_such_scenario"]}}],
                       footprints=["E92000001"])
    out = tmp_path / "out"
    result = _cli(str(path), "--output", str(out))
    assert result.exit_code == 2, result.output
    assert "notebooks[0].parameters.scenarios[1]" in result.output
    assert not out.exists()

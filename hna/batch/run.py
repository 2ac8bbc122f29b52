"""The coordinator: plan a run, lock its folder, resume, execute, record, summarise.

:func:`run_batch` validates the whole spec and every option before it creates anything,
then holds a lock on ``<output>/<run name>/`` while it runs the jobs that are not already
done with the same inputs, writing each job's files and the manifest as each finishes.

A job is reused when its *resume key* is unchanged (notebook, parameters, hna version,
code hash, bundled data, kernel) and every file its kernel read last time (services, model
and footprint files, data tables, wherever they live) still has the same SHA-256.
"""

from __future__ import annotations

import math
import os
import platform
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import hna
from hna.batch import executors
from hna.batch.jobs import Job, expand_jobs, read_notebook
from hna.batch.outputs import (
    RunEnvironmentError,
    counts,
    environment_error,
    output_paths,
    table_paths,
    tables_folder,
    write_job_outputs,
    write_summary_csv,
)
from hna.batch.runspec import RunSpec, load_runspec, project_root
from hna.batch.safety import canonical_hash
from hna.batch.worker import file_hashes
from hna.errors import ParameterError
from hna.provenance import code_hash
from hna.report import (
    atomic_write_text,
    data_hash,
    data_vintages,
    read_manifest,
    remove_stale_tmp,
    render_html,
    write_index,
    write_manifest,
)

__all__ = ["Plan", "ProgressCallback", "RunOptions", "RunResult", "plan_run", "run_batch"]

ProgressCallback = Callable[[str, Mapping[str, Any] | None, Mapping[str, int]], None]


@dataclass
class RunResult:
    """What :func:`run_batch` did: the run folder, the manifest and counts."""

    run_dir: Path
    manifest: dict[str, Any]
    interrupted: bool = False
    elapsed_s: float = 0.0

    @property
    def jobs(self) -> list[dict[str, Any]]:
        """The manifest's job entries."""
        return list(self.manifest.get("jobs", []))

    def count(self, status: str) -> int:
        """How many jobs have ``status``."""
        return sum(1 for job in self.jobs if job.get("status") == status)

    @property
    def reused(self) -> int:
        """How many jobs were reused from an earlier run."""
        return sum(1 for job in self.jobs if job.get("reused"))

    @property
    def ok(self) -> bool:
        """True if the run was not interrupted and every job succeeded."""
        return not self.interrupted and all(job.get("status") == "ok" for job in self.jobs)


@dataclass(frozen=True)
class Plan:
    """A validated run: the spec, where it lives, and its jobs (nothing executed yet)."""

    spec: RunSpec
    spec_path: Path
    root: Path
    jobs: list[Job]


class _Interrupts:
    """Turn SIGINT/SIGTERM into KeyboardInterrupt, deferred while a job's outputs are written."""

    def __init__(self) -> None:
        self.pending: int | None = None
        self.depth = 0
        self.previous: dict[int, Any] = {}

    def _handler(self, signum: int, frame: Any) -> None:
        if self.depth:
            self.pending = signum
            return
        raise KeyboardInterrupt(f"signal {signum}")

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    @contextmanager
    def critical(self) -> Iterator[None]:
        """Defer interrupts until the block has finished."""
        self.depth += 1
        try:
            yield
        finally:
            self.depth -= 1
        if not self.depth and self.pending is not None:
            signum, self.pending = self.pending, None
            raise KeyboardInterrupt(f"signal {signum}")


@contextmanager
def _run_lock(run_dir: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock
        yield
        return
    handle = open(run_dir / ".hna-run.lock", "w")  # noqa: SIM115
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RunEnvironmentError(
                f"another 'hna run' is writing to {run_dir}; wait for it to finish"
            ) from None
        yield
    finally:
        handle.close()


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def plan_run(spec_path: str | os.PathLike[str],
             parameters: Mapping[str, Any] | None = None) -> Plan:
    """Load and validate a run spec and expand its jobs (what ``hna run --dry-run`` lists).

    ``parameters`` (from ``hna run -p``) are set for every job, after the spec's own.

    Raises:
        ParameterError: anything wrong with the spec, its notebooks, services, footprints,
            years or parameters.
    """
    spec_path = Path(spec_path)
    spec = load_runspec(spec_path)
    root = project_root(spec_path)
    jobs = expand_jobs(spec, root=root, source=str(spec_path), overrides=dict(parameters or {}))
    return Plan(spec=spec, spec_path=spec_path, root=root, jobs=jobs)


def _check_options(jobs: int | None, executor: str, timeout: float | None,
                   kernel: str | None) -> tuple[int, float | None]:
    n_workers = executors.default_jobs() if jobs is None else jobs
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ParameterError("must be a whole number of at least 1", field="--jobs",
                             value=jobs)
    if executor not in executors.EXECUTORS:
        raise ParameterError(f"must be one of {', '.join(executors.EXECUTORS)}",
                             field="--executor", value=executor)
    if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0
                                or not math.isfinite(timeout)):
        raise ParameterError("must be a number of seconds (0 for no limit)", field="--timeout",
                             value=timeout)
    if kernel is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", kernel):
        raise ParameterError("is not a kernel name", field="--kernel", value=kernel)
    return n_workers, (float(timeout) if timeout else None)


def _run_dir(plan: Plan, output_dir: str | os.PathLike[str] | None) -> Path:
    base = Path(output_dir) if output_dir is not None else plan.root / "outputs"
    run_dir = (base / plan.spec.name).resolve()
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".hna-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise environment_error(exc, "write the run folder") from None
    return run_dir


@dataclass(frozen=True)
class RunOptions:
    """How to run a spec (the keyword arguments of :func:`run_batch`).

    Attributes:
        output_dir: the folder holding run folders (default ``<project root>/outputs``).
        jobs: concurrent jobs (default :func:`~hna.batch.executors.default_jobs`); with
            ``executor="dask"`` and ``scheduler="local"`` the number of local Dask workers.
        executor: a name in :data:`~hna.batch.executors.EXECUTORS` (``process``, ``dask``).
        scheduler: a Dask scheduler address, or ``"local"``/None for a local cluster.
        force: re-run jobs even if an earlier run finished them with the same inputs.
        timeout: wall-clock limit per job in seconds (None or 0: no limit).
        show_code: include code cells in the HTML reports.
        kernel: kernel name, overriding each notebook's kernelspec.
        parameters: extra notebook parameters for every job (``hna run -p``).
    """

    output_dir: str | os.PathLike[str] | None = None
    jobs: int | None = None
    executor: str = "process"
    scheduler: str | None = None
    force: bool = False
    timeout: float | None = 3600
    show_code: bool = False
    kernel: str | None = None
    parameters: Mapping[str, Any] | None = None


def run_batch(spec_path: str | os.PathLike[str], *, progress: ProgressCallback | None = None,
              **options: Any) -> RunResult:
    """Run every job of a run spec; resume from an earlier run unless ``force``.

    Args:
        spec_path: the run spec YAML file.
        progress: called as ``progress(event, job_entry, counts)`` with events ``"start"``,
            ``"running"`` (job_entry: ``{"running": [titles of the jobs running now]}``),
            ``"job"`` (a job finished) and ``"end"``.
        **options: the fields of :class:`RunOptions` (``output_dir``, ``jobs``,
            ``executor``, ``scheduler``, ``force``, ``timeout``, ``show_code``, ``kernel``,
            ``parameters``).

    Returns:
        A :class:`RunResult`; failed jobs are recorded, not raised.

    Raises:
        ParameterError: the spec or an argument is invalid (nothing has been created).
        RunEnvironmentError: the output folder cannot be written (permissions, read-only,
            disk full) or another run holds it.
        KeyboardInterrupt: on Ctrl-C or SIGTERM, after recording every finished job.
    """
    opts = RunOptions(**options)
    t_start = time.monotonic()
    n_workers, timeout = _check_options(opts.jobs, opts.executor, opts.timeout, opts.kernel)
    executors.prepare(opts.executor)  # its imports overlap with the expansion below
    plan = plan_run(spec_path, opts.parameters)
    run_dir = _run_dir(plan, opts.output_dir)
    settings = {"executor": opts.executor, "scheduler": opts.scheduler, "workers": n_workers,
                "timeout": timeout, "show_code": opts.show_code, "kernel": opts.kernel,
                "force": opts.force}
    try:
        with _run_lock(run_dir):
            remove_stale_tmp(run_dir)
            manifest, tasks, rerender = _prepare(plan, run_dir, settings)
            interrupted = _execute(plan, run_dir, manifest, tasks, rerender, settings, progress)
    except OSError as exc:
        raise environment_error(exc, "write the run's outputs") from None
    return RunResult(run_dir=run_dir, manifest=manifest, interrupted=interrupted,
                     elapsed_s=time.monotonic() - t_start)


def _manifest_header(plan: Plan, previous: Mapping[str, Any], settings: Mapping[str, Any],
                     fixed: Mapping[str, str]) -> dict[str, Any]:
    spec = plan.spec
    try:
        spec_label = str(plan.spec_path.resolve().relative_to(plan.root))
    except ValueError:
        spec_label = str(plan.spec_path)
    executor = settings["executor"]
    return {
        "format": 2,
        "run": spec.name,
        "description": spec.description,
        "runspec": spec_label,
        "runspec_hash": canonical_hash(plan.spec.model_dump(mode="json")),
        "hna_version": hna.__version__,
        "code_hash": fixed["code"],
        "python": platform.python_version(),
        "created": previous.get("created") or _now(),
        "updated": _now(),
        "seed": spec.seed,
        "draws": spec.draws,
        "years": spec.year_list,
        "years_label": spec.years_label,
        "data_hash": fixed["data"],
        "data_vintages": data_vintages(),
        "executor": executor if executor != "dask" else
        f"dask ({settings['scheduler'] or 'local'})",
        "workers": settings["workers"],
        "timeout_s": settings["timeout"],
        "show_code": settings["show_code"],
        "jobs": [],
    }


def _new_entry(job: Job, resume_key: str, show_code: bool) -> dict[str, Any]:
    return {
        "id": job.id, "title": job.title, "notebook": job.notebook_label,
        "service": job.service, "service_name": job.service_name,
        "footprint": job.footprint, "footprint_name": job.footprint_name,
        "parameters": job.parameters, "parameter_hash": job.parameter_hash,
        "notebook_hash": job.notebook_hash, "input_hash": resume_key,
        "status": "pending", "reused": False, "show_code": show_code, "started": None,
        "duration_s": None, "worker": None, "error": None, "headline": None,
        "inputs": {}, "outputs": {},
    }


def _reusable(old: Mapping[str, Any] | None, key: str, run_dir: Path, job: Job,
              hashes: dict[str, str | None]) -> bool:
    """True if an earlier result has the same key, its files exist and its inputs match."""
    if old is None or old.get("status") != "ok" or old.get("input_hash") != key:
        return False
    files = [*output_paths(run_dir, job.id).values(), *table_paths(run_dir, old)]
    if not all(p.is_file() for p in files):
        return False
    inputs = old.get("inputs")
    if not isinstance(inputs, dict):
        return False
    missing = [path for path in inputs if path not in hashes]
    hashes.update(dict.fromkeys(missing))
    hashes.update(file_hashes(missing))
    return all(hashes.get(path) == digest for path, digest in inputs.items())


def _task(plan: Plan, job: Job, texts: dict[Path, str], settings: Mapping[str, Any]
          ) -> dict[str, Any]:
    if job.notebook not in texts:
        texts[job.notebook] = read_notebook(job.notebook, label=job.notebook_label,
                                            field="notebooks", source=str(plan.spec_path)).text
    return {
        "job_id": job.id, "notebook_json": texts[job.notebook],
        "notebook_dir": str(job.notebook.parent), "parameters": job.parameters,
        "kernel_name": settings["kernel"], "timeout": settings["timeout"],
        "show_code": settings["show_code"], "meta": report_meta(plan.spec, job),
        "tables_href": tables_folder(Path("."), job.id).name,
    }


def _prepare(plan: Plan, run_dir: Path, settings: Mapping[str, Any]
             ) -> tuple[dict[str, Any], list[dict[str, Any]], list[tuple[dict[str, Any], Job]]]:
    """The manifest (reused jobs filled in), the tasks to run and the reports to re-render."""
    fixed = {"code": code_hash(), "data": data_hash()}
    previous = read_manifest(run_dir) or {}
    previous_jobs = {j.get("id"): j for j in previous.get("jobs", []) if isinstance(j, dict)}
    manifest = _manifest_header(plan, previous, settings, fixed)
    hashes: dict[str, str | None] = {}
    texts: dict[Path, str] = {}
    tasks: list[dict[str, Any]] = []
    rerender: list[tuple[dict[str, Any], Job]] = []
    for job in plan.jobs:
        key = canonical_hash({
            "notebook": job.notebook_hash, "parameters": job.parameter_hash,
            "hna": hna.__version__, "code": fixed["code"], "data": fixed["data"],
            "kernel": settings["kernel"],
        })
        entry = _new_entry(job, key, settings["show_code"])
        old = previous_jobs.get(job.id)
        if not settings["force"] and _reusable(old, key, run_dir, job, hashes):
            for name in ("started", "duration_s", "worker", "headline", "outputs", "show_code",
                         "inputs"):
                entry[name] = old.get(name)
            entry.update(status="ok", reused=True)
            if bool(old.get("show_code")) != settings["show_code"]:
                rerender.append((entry, job))
        else:
            tasks.append(_task(plan, job, texts, settings))
        manifest["jobs"].append(entry)
    return manifest, tasks, rerender


def report_meta(spec: RunSpec, job: Job) -> dict[str, Any]:
    """What a job's HTML report header shows (no timestamps: reports are reproducible)."""
    return {
        "run": spec.name, "title": job.title, "notebook": job.notebook_label,
        "service": job.service, "service_name": job.service_name,
        "footprint": job.footprint, "footprint_name": job.footprint_name,
        "years": spec.years_label, "seed": spec.seed, "draws": spec.draws,
        "hna_version": hna.__version__,
    }


def _running_titles(tasks: list[dict[str, Any]], done: set[str], n_workers: int,
                    titles: Mapping[str, str]) -> list[str]:
    """The jobs most likely running now: the first ``n_workers`` not yet finished."""
    pending = [t["job_id"] for t in tasks if t["job_id"] not in done]
    return [titles[job_id] for job_id in pending[:n_workers]]


def _execute(plan: Plan, run_dir: Path, manifest: dict[str, Any], tasks: list[dict[str, Any]],
             rerender: list[tuple[dict[str, Any], Job]], settings: Mapping[str, Any],
             progress: ProgressCallback | None) -> bool:
    """Run the tasks, recording each result; returns True if interrupted."""
    entries = manifest["jobs"]
    by_id = {entry["id"]: entry for entry in entries}
    jobs_by_id = {job.id: job for job in plan.jobs}
    titles = {job.id: job.title for job in plan.jobs}
    done: set[str] = set()
    interrupted = False
    with _Interrupts() as interrupts:
        try:
            for entry, job in rerender:
                with interrupts.critical():
                    paths = output_paths(run_dir, job.id)
                    meta = report_meta(plan.spec, job) | {"status": "ok"}
                    atomic_write_text(paths["html"], render_html(
                        paths["ipynb"], meta, show_code=settings["show_code"]))
                    entry["show_code"] = settings["show_code"]
            with interrupts.critical():
                write_manifest(run_dir, manifest)
            if progress:
                progress("start", None, counts(entries))
                progress("running", {"running": _running_titles(
                    tasks, done, settings["workers"], titles)}, counts(entries))

            def record(result: Mapping[str, Any]) -> None:
                with interrupts.critical():
                    entry = by_id[result["job_id"]]
                    write_job_outputs(run_dir, plan.spec.name, jobs_by_id[entry["id"]], entry,
                                      result)
                    manifest["updated"] = _now()
                    write_manifest(run_dir, manifest)
                done.add(entry["id"])
                if progress:
                    progress("job", entry, counts(entries))
                    progress("running", {"running": _running_titles(
                        tasks, done, settings["workers"], titles)}, counts(entries))

            if tasks:
                executors.EXECUTORS[settings["executor"]](
                    tasks, record, settings["workers"], settings["scheduler"])
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            _finish(run_dir, manifest, interrupted, interrupts)
            if progress and not interrupted:
                progress("end", None, counts(entries))
    return interrupted


def _finish(run_dir: Path, manifest: dict[str, Any], interrupted: bool,
            interrupts: _Interrupts) -> None:
    """Mark unfinished jobs and write the manifest, summary.csv and index.html."""
    with interrupts.critical():
        for entry in manifest["jobs"]:
            if entry["status"] == "pending" and interrupted:
                entry["status"] = "interrupted"
        manifest["updated"] = _now()
        manifest["counts"] = counts(manifest["jobs"])
        try:
            write_manifest(run_dir, manifest)
            write_summary_csv(run_dir, manifest)
            write_index(run_dir, manifest)
        except OSError:
            if not interrupted:
                raise

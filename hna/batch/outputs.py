"""Outputs of a run: where each job's files go, its records, the manifest and summary.csv.

Every file is written atomically by the coordinating process. Job records (``.json``),
``summary.csv`` and the reports are byte-identical for the same inputs; timestamps, timings,
worker names and the input files' paths live only in ``manifest.json``.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import hna
from hna.batch.jobs import Job
from hna.errors import HnaError
from hna.report import SUMMARY_NAME, atomic_write_json, atomic_write_text

__all__ = [
    "RunEnvironmentError",
    "counts",
    "environment_error",
    "job_record",
    "output_paths",
    "round_number",
    "table_paths",
    "tables_folder",
    "write_job_outputs",
    "write_summary_csv",
]


class RunEnvironmentError(HnaError):
    """The machine, not the input, stopped the run: permissions, disk full, a busy folder.

    ``hna run`` exits with status 3 for it.
    """


_ERRNO_HINTS = {
    errno.EACCES: "you have no permission to write there; choose another --output folder",
    errno.EPERM: "you have no permission to write there; choose another --output folder",
    errno.EROFS: "the file system is read-only; choose another --output folder",
    errno.ENOSPC: "the disk is full; free some space, then run the same command to resume",
    errno.EDQUOT: "your disk quota is used up; free some space, then run again to resume",
    errno.ENOTDIR: "part of the output path is a file, not a folder; choose another --output",
    errno.EEXIST: "part of the output path is a file, not a folder; choose another --output",
}


def environment_error(exc: OSError, what: str) -> RunEnvironmentError:
    """A one-line :class:`RunEnvironmentError` for an ``OSError`` raised while ``what``."""
    where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
    hint = _ERRNO_HINTS.get(exc.errno or 0, "check the output folder and try again")
    reason = exc.strerror or type(exc).__name__
    return RunEnvironmentError(f"cannot {what}{where}: {reason}; {hint}")


def output_paths(run_dir: Path, job_id: str) -> dict[str, Path]:
    """The ``.ipynb``, ``.html`` and ``.json`` files of a job."""
    base = run_dir / job_id
    return {ext: base.parent / f"{base.name}.{ext}" for ext in ("ipynb", "html", "json")}


#: What follows a report's name in the name of the folder of its tables' CSV files.
TABLES_SUFFIX = "_tables"


def tables_folder(run_dir: Path, job_id: str) -> Path:
    """The folder beside a job's report holding its tables' CSV files.

    ``soft_tissue_sarcoma/E92000001`` -> ``<run>/soft_tissue_sarcoma/E92000001_tables``; the
    report links each file as ``E92000001_tables/<nn>-<caption>.csv``
    (:func:`hna.report.table_file_name`).
    """
    base = run_dir / job_id
    return base.parent / f"{base.name}{TABLES_SUFFIX}"


def table_paths(run_dir: Path, entry: Mapping[str, Any]) -> list[Path]:
    """The CSV files a manifest ``entry`` lists under ``outputs["tables"]``."""
    listed = (entry.get("outputs") or {}).get("tables") or []
    return [run_dir / str(name) for name in listed] if isinstance(listed, list) else []


def _write_tables(run_dir: Path, job_id: str, tables: Mapping[str, str]) -> list[str]:
    """Write a job's table CSV files (each atomically) and return them relative to the run.

    Only plain ``<nn>-<slug>.csv`` names are written (the names come from the worker: anything
    else, such as a path, is left out).
    """
    folder = tables_folder(run_dir, job_id)
    written = []
    for name in sorted(tables):
        if not _TABLE_NAME.fullmatch(name):
            continue
        atomic_write_text(folder / name, tables[name])
        written.append((folder / name).relative_to(run_dir).as_posix())
    return written


def _remove_stale_tables(run_dir: Path, job_id: str, keep: Mapping[str, str]) -> None:
    """Delete CSV files an earlier run of the job left that this run did not write."""
    folder = tables_folder(run_dir, job_id)
    if not folder.is_dir():
        return
    for path in folder.iterdir():
        if path.is_file() and _TABLE_NAME.fullmatch(path.name) and path.name not in keep:
            path.unlink(missing_ok=True)
    try:
        folder.rmdir()  # only if empty
    except OSError:
        pass


#: The names :func:`hna.report.table_file_name` gives.
_TABLE_NAME = re.compile(r"\d{2,}-[a-z0-9-]+\.csv")


def counts(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Jobs by state: total, ok, failed, remaining, reused."""
    out = {"total": len(entries), "ok": 0, "failed": 0, "remaining": 0, "reused": 0}
    for entry in entries:
        status = entry.get("status")
        if status == "ok":
            out["ok"] += 1
        elif status == "failed":
            out["failed"] += 1
        else:
            out["remaining"] += 1
        if entry.get("reused"):
            out["reused"] += 1
    return out


def job_record(run_name: str, job: Job, entry: Mapping[str, Any]) -> dict[str, Any]:
    """The job's ``.json`` record: what ran and its headline (no timestamps or paths)."""
    error = entry.get("error") or None
    return {
        "run": run_name,
        "job": job.id,
        "title": job.title,
        "notebook": job.notebook_label,
        "service": job.service,
        "service_name": job.service_name,
        "footprint": job.footprint,
        "footprint_name": job.footprint_name,
        "status": entry["status"],
        "parameters": job.parameters,
        "parameter_hash": job.parameter_hash,
        "hna_version": hna.__version__,
        "error": None if error is None else {
            k: error.get(k) for k in ("kind", "ename", "summary", "reason")},
        "headline": entry.get("headline") or {},
    }


def write_job_outputs(run_dir: Path, run_name: str, job: Job, entry: dict[str, Any],
                      result: Mapping[str, Any]) -> None:
    """Write a finished job's files and update its manifest ``entry`` from ``result``."""
    paths = output_paths(run_dir, job.id)
    outputs: dict[str, Any] = {}
    tables = dict(result.get("tables") or {})
    # the tables first: once the report is in place, every link in it resolves
    outputs["tables"] = _write_tables(run_dir, job.id, tables)
    for ext in ("ipynb", "html"):
        content = result.get(ext)
        if content is not None:
            atomic_write_text(paths[ext], content)
            outputs[ext] = paths[ext].relative_to(run_dir).as_posix()
        else:  # do not leave an earlier run's file where this run has none
            paths[ext].unlink(missing_ok=True)
    _remove_stale_tables(run_dir, job.id, tables)
    headline = result.get("headline")
    if headline is not None and not isinstance(headline, dict):
        headline = {"value": headline}
    entry.update(
        status=result.get("status", "failed"),
        reused=False,
        started=result.get("started"),
        duration_s=result.get("duration_s"),
        worker=result.get("worker"),
        error=result.get("error"),
        headline=headline,
        inputs=dict(result.get("inputs") or {}),
    )
    atomic_write_json(paths["json"], job_record(run_name, job, entry))
    outputs["json"] = paths["json"].relative_to(run_dir).as_posix()
    entry["outputs"] = {k: outputs[k] for k in ("ipynb", "html", "json", "tables")
                        if k in outputs}


def round_number(value: float) -> float | int:
    """A number rounded for a summary table: 4 significant figures, at least to 0.1.

    ``502.83 -> 502.8``, ``0.998765 -> 0.9988``, ``24470.6 -> 24470.6``; integers unchanged.
    """
    if isinstance(value, bool) or isinstance(value, int) or not math.isfinite(value):
        return value
    if value == 0:
        return 0.0
    digits = max(1, 3 - int(math.floor(math.log10(abs(value)))))
    return round(value, digits)


#: Headline keys that repeat a job column: left out of summary.csv.
_JOB_KEYS = {"service", "footprint", "service_name", "footprint_name", "run", "job", "status"}


def _summary_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round_number(value)
    if isinstance(value, bool | int | str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _looks_like_path(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(("/", "~")) or ":\\" in value[:3])


def _headline_keys(jobs: Sequence[Mapping[str, Any]]) -> list[str]:
    keys: list[str] = []
    for job in jobs:
        for key, value in (job.get("headline") or {}).items():
            if key in _JOB_KEYS or key in keys or _looks_like_path(value):
                continue
            keys.append(key)
    return keys


def write_summary_csv(run_dir: str | Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``summary.csv``: one row per job, then its headline numbers (rounded).

    Job columns: ``job, title, notebook, service, service_name, footprint, footprint_name,
    status, reason``. Headline columns are prefixed ``headline.`` and leave out keys
    that repeat a job column and values that are file paths; lists and mappings are JSON.
    No timings, timestamps or reuse flags, so the file is the same for the same inputs.
    """
    jobs = list(manifest.get("jobs") or [])
    keys = _headline_keys(jobs)
    fields = ["job", "title", "notebook", "service", "service_name", "footprint",
              "footprint_name", "status", "reason"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields + [f"headline.{k}" for k in keys])
    for job in jobs:
        error = job.get("error") or {}
        row = [
            job.get("id"), job.get("title") or "", Path(str(job.get("notebook") or "")).name,
            job.get("service") or "", job.get("service_name") or "", job.get("footprint") or "",
            job.get("footprint_name") or "", job.get("status"),
            error.get("reason") or error.get("summary") or "",
        ]
        headline = job.get("headline") or {}
        for key in keys:
            value = headline.get(key)
            row.append("" if _looks_like_path(value) else _summary_value(value))
        writer.writerow(row)
    return atomic_write_text(Path(run_dir) / SUMMARY_NAME, buffer.getvalue())

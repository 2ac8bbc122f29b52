"""Run specs -> jobs -> papermill executions, on a process pool or a Dask cluster, resumable.

A *run spec* (``parameters/runs/*.yaml``) names notebooks and what each is run over
(services, footprints, both or neither). :func:`expand_jobs` turns it into :class:`Job` s,
one papermill execution each; :func:`run_batch` executes them with a bounded pool of workers,
each with a pre-started kernel, and writes, under ``<output>/<run name>/``::

    <service>/<footprint>.ipynb|.html|.json      notebooks run over service and footprint
    <service>/<notebook>.ipynb|.html|.json       notebooks run over service only
    _overview/<notebook>/<footprint>.*           notebooks run over footprint only
    _overview/<notebook>.*                       notebooks run once (``over: []``)
    index.html, summary.csv, manifest.json

One job per module:

* :mod:`hna.batch.runspec`: the run-spec models and :func:`load_runspec` (imports only the
  foundation and :mod:`hna.batch.safety`, so :mod:`hna.services` can validate run specs);
* :mod:`hna.batch.safety`: parameter names, JSON types, size limits, the injected code;
* :mod:`hna.batch.jobs`: expansion into jobs and validation of the whole spec;
* :mod:`hna.batch.worker`: one job in a fresh pre-started kernel;
* :mod:`hna.batch.failures`: failure records with a plain-English reason;
* :mod:`hna.batch.executors`: the process pool and Dask executors;
* :mod:`hna.batch.run`: the coordinator (lock, resume, interrupts, manifest);
* :mod:`hna.batch.outputs`: output paths, job records, ``summary.csv``.

The names below are re-exported here; the modules that import papermill, the services and
the geography are loaded when one of their names is first used.
"""

from __future__ import annotations

from typing import Any

from hna.batch.runspec import (
    FOOTPRINT_LEVELS,
    FootprintLevel,
    NotebookEntry,
    RunSpec,
    YearRange,
    load_runspec,
    project_root,
)
from hna.batch.safety import (
    RESERVED_PARAMETERS,
    check_injected_code,
    is_identifier,
    validate_parameters,
)
from hna.codes import ENGLAND

__all__ = [
    "ENGLAND",
    "FOOTPRINT_LEVELS",
    "RESERVED_PARAMETERS",
    "FootprintLevel",
    "Job",
    "NotebookEntry",
    "Plan",
    "RunEnvironmentError",
    "RunResult",
    "RunSpec",
    "YearRange",
    "check_injected_code",
    "default_jobs",
    "execute_job",
    "expand_jobs",
    "is_identifier",
    "load_runspec",
    "plan_run",
    "project_root",
    "run_batch",
    "validate_parameters",
]

_JOBS = {"Job", "expand_jobs"}
_RUN = {"Plan", "RunResult", "plan_run", "run_batch"}


def __getattr__(name: str) -> Any:
    """The heavier names, from their modules on first use (explicit, no probing)."""
    if name in _JOBS:
        from hna.batch import jobs

        return getattr(jobs, name)
    if name in _RUN:
        from hna.batch import run

        return getattr(run, name)
    if name == "RunEnvironmentError":
        from hna.batch.outputs import RunEnvironmentError

        return RunEnvironmentError
    if name == "default_jobs":
        from hna.batch.executors import default_jobs

        return default_jobs
    if name == "execute_job":
        from hna.batch.worker import execute_job

        return execute_job
    raise AttributeError(f"module 'hna.batch' has no attribute {name!r}")

"""Run specs -> jobs -> papermill executions, on a process pool or a Dask cluster, resumable.

A *run spec* (``parameters/runs/*.yaml``, validated by :class:`RunSpec`) names notebooks and
what each is run over (services, footprints, both or neither). :func:`expand_jobs` turns it
into :class:`Job` s, one papermill execution each; :func:`run_batch` executes them with a
bounded pool and writes, under ``<output>/<run name>/``::

    <service>/<footprint>.ipynb|.html|.json      notebooks run over service and footprint
    <service>/<notebook>.ipynb|.html|.json       notebooks run over service only
    _overview/<notebook>/<footprint>.*           notebooks run over footprint only
    _overview/<notebook>.*                       notebooks run once (``over: []``)
    index.html, summary.csv, manifest.json

Parameters reach papermill only after :func:`validate_parameters`: identifiers matching
``^[A-Za-z_][A-Za-z0-9_]*$`` (not Python keywords) and JSON-typed values, and the code papermill
generates from them is parsed back and must consist of plain literal assignments.

Workers never write into the output folder: each job runs in a private temporary folder and
returns its executed notebook, HTML and headline to the coordinating process, which writes
every file atomically and updates ``manifest.json`` after each job. A re-run skips jobs that
succeeded with the same inputs (notebook, parameters, data, hna version, kernel).
"""

from __future__ import annotations

import ast
import hashlib
import json
import keyword
import logging
import math
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

import hna
from hna.codes import ENGLAND
from hna.errors import HnaError, InputError, ParameterError
from hna.parameters import StrictModel, read_yaml, validation_error
from hna.report import (
    HEADLINE_ENV,
    atomic_write_json,
    atomic_write_text,
    data_hash,
    data_vintages,
    read_manifest,
    remove_stale_tmp,
    render_html,
    to_json_value,
    write_index,
    write_manifest,
    write_summary_csv,
)

__all__ = [
    "ENGLAND",
    "FOOTPRINT_LEVELS",
    "RESERVED_PARAMETERS",
    "FootprintLevel",
    "Job",
    "NotebookEntry",
    "RunResult",
    "RunSpec",
    "YearRange",
    "default_jobs",
    "execute_job",
    "check_injected_code",
    "expand_jobs",
    "is_identifier",
    "load_runspec",
    "project_root",
    "run_batch",
    "validate_parameters",
]

log = logging.getLogger(__name__)

FOOTPRINT_LEVELS = ("lad", "icb", "region", "nhs_region", "england")
OVERVIEW_DIR = "_overview"

#: Parameters the runner sets itself; a spec's ``parameters:`` may not use these names.
RESERVED_PARAMETERS = frozenset(
    {
        "service", "services", "footprint", "footprints", "level", "years_start", "years_end",
        "years", "draws", "seed", "run_name",
    }
)

_IDENTIFIER_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_GSS_RE = re.compile(r"[EJKLMNSW]\d{8}")
_PATH_PART_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def is_identifier(name: Any) -> bool:
    """True if ``name`` is an ASCII identifier (``^[A-Za-z_][A-Za-z0-9_]*$``), not a keyword."""
    return (
        isinstance(name, str)
        and _IDENTIFIER_RE.fullmatch(name) is not None
        and not keyword.iskeyword(name)
    )


def default_jobs() -> int:
    """The default pool size: ``min(2, number of CPUs)``."""
    return max(1, min(2, os.cpu_count() or 1))


# --------------------------------------------------------------------------------------------
# Run spec models
# --------------------------------------------------------------------------------------------



def _check_service_ids(value: list[str]) -> list[str]:
    for i, item in enumerate(value):
        if not is_identifier(item) or item.startswith("_"):
            raise ValueError(f"item {i} ({item!r}) is not a service id")
    if len(set(value)) != len(value):
        raise ValueError("lists a service twice")
    return value


def _check_spec_parameters(value: dict[str, Any]) -> dict[str, Any]:
    for name in value:
        if name in RESERVED_PARAMETERS:
            raise ValueError(
                f"{name!r} is set by the runner; set it with the run spec key of that name"
            )
    try:
        return validate_parameters(value, field="parameters")
    except InputError as exc:
        raise PydanticCustomError(
            "hna_parameter", "{message}",
            {"message": exc.message, "field": exc.field, "value": exc.value,
             "hint": exc.hint},
        ) from None


class FootprintLevel(StrictModel):
    """Footprints given as every area of a level, e.g. ``{level: nhs_region}``."""

    level: Literal["lad", "icb", "region", "nhs_region", "england"]
    include_england: StrictBool = False


class NotebookEntry(StrictModel):
    """One notebook of a run spec and the parameters it is run over."""

    path: str
    over: list[Literal["service", "footprint"]] = Field(
        default_factory=lambda: ["service", "footprint"]
    )
    suffix: str | None = None
    #: Per-notebook overrides of the spec's services, footprints and parameters (e.g. one
    #: designation job for one service in one footprint within a wider run).
    services: list[str] | None = None
    footprints: FootprintLevel | list[str] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("services")
    @classmethod
    def _entry_service_ids(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_service_ids(value)

    @field_validator("parameters")
    @classmethod
    def _entry_parameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_spec_parameters(value)

    @field_validator("over")
    @classmethod
    def _unique_over(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists 'service' or 'footprint' twice")
        return value

    @field_validator("suffix")
    @classmethod
    def _suffix_identifier(cls, value: str | None) -> str | None:
        if value is not None and not is_identifier(value):
            raise ValueError("must be an identifier (letters, digits, underscores)")
        return value


class YearRange(StrictModel):
    """An inclusive range of years, e.g. ``{start: 2025, end: 2040}``."""

    start: StrictInt = Field(ge=1900, le=2200)
    end: StrictInt = Field(ge=1900, le=2200)

    @model_validator(mode="after")
    def _ordered(self) -> YearRange:
        if self.end < self.start:
            raise ValueError(f"end ({self.end}) is before start ({self.start})")
        return self


class RunSpec(StrictModel):
    """A run spec: which notebooks to run over which services, footprints and years."""

    name: str
    description: str | None = None
    notebooks: list[NotebookEntry] = Field(min_length=1)
    services: list[str] = Field(default_factory=list)
    footprints: FootprintLevel | list[str] = Field(default_factory=list)
    years: YearRange | list[StrictInt]
    draws: StrictInt = Field(ge=1)
    seed: StrictInt = Field(ge=0)
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name_identifier(cls, value: str) -> str:
        if not is_identifier(value):
            raise ValueError("must be an identifier (letters, digits, underscores)")
        return value

    @field_validator("services")
    @classmethod
    def _service_ids(cls, value: list[str]) -> list[str]:
        return _check_service_ids(value)

    @field_validator("years")
    @classmethod
    def _years(cls, value: YearRange | list[int]) -> YearRange | list[int]:
        if isinstance(value, list):
            if not value:
                raise ValueError("must list at least one year")
            for year in value:
                if not 1900 <= year <= 2200:
                    raise ValueError(f"year {year} is outside 1900-2200")
            if len(set(value)) != len(value):
                raise ValueError("lists a year twice")
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _check_spec_parameters(value)

    @model_validator(mode="after")
    def _needs(self) -> RunSpec:
        for nb in self.notebooks:
            for axis, key in (("service", "services"), ("footprint", "footprints")):
                own = getattr(nb, key)
                value = own if own is not None else getattr(self, key)
                if not (axis in nb.over and isinstance(value, list) and not value):
                    continue
                raise PydanticCustomError(
                    "hna_parameter", "{message}",
                    {"message": f"is empty, but a notebook runs over '{axis}'", "field": key,
                     "value": None, "hint": f"List the {key} or remove '{axis}' from 'over'"},
                )
        return self

    @property
    def year_list(self) -> list[int]:
        """The years as a sorted list."""
        if isinstance(self.years, YearRange):
            return list(range(self.years.start, self.years.end + 1))
        return sorted(self.years)

    @property
    def years_label(self) -> str:
        years = self.year_list
        if years == list(range(years[0], years[-1] + 1)):
            return f"{years[0]}-{years[-1]}"
        return ", ".join(map(str, years))


def load_runspec(path: str | os.PathLike[str]) -> RunSpec:
    """Read and validate a run spec YAML file.

    Raises:
        ParameterError: the file is missing, is not YAML, or breaks the schema; the message
            names the file and the field (e.g. ``notebooks[0].over[1]``).
    """
    path = Path(path)
    data = read_yaml(path, missing_hint=(
        "Give the path of a YAML file such as parameters/runs/default.yaml"))
    try:
        return RunSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, str(path), RunSpec,
                               hint="docs/batch.md lists the keys of a run spec") from None


def project_root(spec_path: str | os.PathLike[str]) -> Path:
    """The folder that relative notebook paths (and the default outputs) are relative to.

    For a spec in ``<root>/parameters/runs/`` it is ``<root>``; otherwise the spec's folder.
    """
    spec_path = Path(spec_path).resolve()
    parent = spec_path.parent
    if parent.name == "runs" and parent.parent.name == "parameters":
        return parent.parent.parent
    return parent


# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------


def _papermill_source(parameters: Mapping[str, Any]) -> str:
    from papermill.translators import PythonTranslator

    return PythonTranslator.codify(dict(parameters))


def check_injected_code(parameters: Mapping[str, Any], *, field: str = "parameters",
                        source: str | None = None) -> str:
    """Parse the code papermill would inject and check it only assigns the given literals.

    A second line of defence after :func:`validate_parameters`, run by each worker just
    before papermill (which it has imported anyway): the generated parameters cell must be
    exactly one literal assignment per parameter, evaluating to the validated value.
    Returns the generated code.

    Raises:
        ParameterError: the generated code is anything else.
    """
    code = _papermill_source(parameters)
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:  # pragma: no cover - prevented by the checks above
        raise ParameterError(f"would inject invalid code ({exc.msg})", source=source,
                             field=field, value=code) from None
    seen = set()
    for stmt in tree.body:
        ok = (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.targets[0].id in parameters
        )
        if ok:
            name = stmt.targets[0].id
            try:
                value = ast.literal_eval(stmt.value)
            except ValueError:
                ok = False
            else:
                canon = json.dumps(parameters[name], sort_keys=True)
                ok = json.dumps(value, sort_keys=True) == canon
            seen.add(name)
        if not ok:
            raise ParameterError(
                "papermill would inject code other than a literal assignment", source=source,
                field=field, value=ast.get_source_segment(code, stmt),
                hint="Report this as a bug; the run was stopped before executing anything",
            )
    if seen != set(parameters):  # pragma: no cover - as above
        raise ParameterError("papermill dropped a parameter", source=source, field=field,
                             value=sorted(set(parameters) - seen))
    return code


def validate_parameters(
    parameters: Mapping[str, Any], *, field: str = "parameters", source: str | None = None
) -> dict[str, Any]:
    """Check notebook parameters before they reach papermill; return them JSON-typed.

    Names must be identifiers (``^[A-Za-z_][A-Za-z0-9_]*$``, not Python keywords); values
    must be JSON-typed (NumPy scalars and arrays are converted; NaN, infinity and any other
    type are rejected). Papermill writes strings as quoted, escaped literals, so a value can
    only ever arrive as data; :func:`check_injected_code` verifies that again in the worker.

    Raises:
        ParameterError: naming ``field`` (e.g. ``parameters.x``) and ``source``.
    """
    if not isinstance(parameters, Mapping):
        raise ParameterError("must be a mapping of names to values", source=source,
                             field=field, value=parameters)
    clean: dict[str, Any] = {}
    for name, value in parameters.items():
        if not is_identifier(name):
            raise ParameterError(
                "is not a valid parameter name", source=source, field=field, value=name,
                hint="Names are letters, digits and underscores, not starting with a digit, "
                "and not a Python keyword",
            )
        clean[name] = to_json_value(value, field=f"{field}.{name}", source=source)
    return clean


def _canonical_hash(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


# --------------------------------------------------------------------------------------------
# Optional collaborators: hna.services and hna.geography
# --------------------------------------------------------------------------------------------


def _optional_module(name: str) -> Any | None:
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _check_services(ids: Sequence[str], source: str | None) -> dict[str, str | None]:
    """Validate service ids against the catalogue (when hna.services exists); return names."""
    names: dict[str, str | None] = {sid: None for sid in ids}
    services = _optional_module("hna.services")
    if services is None or not ids:
        return names
    lister = getattr(services, "list_services", None)
    if callable(lister):
        known = [getattr(s, "id", s) for s in lister()]
        known_ids = {str(k) for k in known}
        for i, sid in enumerate(ids):
            if sid not in known_ids:
                raise ParameterError(
                    "is not a known service", source=source, field=f"services[{i}]", value=sid,
                    hint=f"Known services: {', '.join(sorted(known_ids)) or 'none'}",
                )
    loader = getattr(services, "load_service", None)
    if callable(loader):
        for sid in ids:
            try:
                svc = loader(sid)
            except InputError as exc:
                raise ParameterError(exc.message, source=exc.source or source,
                                     field=exc.field or "services", value=sid,
                                     hint=exc.hint) from None
            name = getattr(svc, "name", None) or getattr(svc, "title", None)
            names[sid] = str(name) if name else None
    return names


def _resolve_footprints(
    footprints: FootprintLevel | list[str], source: str | None, key: str = "footprints"
) -> list[str]:
    geography = _optional_module("hna.geography")
    codes: list[str] = []
    if isinstance(footprints, FootprintLevel):
        lister = getattr(geography, "footprint_codes", None)
        if not callable(lister):
            raise ParameterError(
                "footprints given as a level need hna.geography, which is not available",
                source=source, field=f"{key}.level", value=footprints.level,
                hint="List the footprints' GSS codes instead",
            )
        try:
            codes = [str(c) for c in lister(footprints.level)]
        except InputError as exc:
            raise ParameterError(exc.message, source=source, field=f"{key}.level",
                                 value=footprints.level, hint=exc.hint) from None
        if footprints.include_england and ENGLAND not in codes:
            codes.insert(0, ENGLAND)
    else:
        resolver = getattr(geography, "resolve_footprint", None)
        for i, item in enumerate(footprints):
            if callable(resolver):
                try:
                    found = resolver(item)
                    code = str(getattr(found, "code", found))
                except InputError as exc:
                    raise ParameterError(exc.message, source=source, field=f"{key}[{i}]",
                                         value=item, hint=exc.hint) from None
            elif _GSS_RE.fullmatch(item):
                code = item
            else:
                raise ParameterError(
                    "is not a GSS area code", source=source, field=f"{key}[{i}]",
                    value=item,
                    hint="Names can be resolved only when hna.geography is available; "
                    "use a code such as E92000001",
                )
            codes.append(code)
    unique: list[str] = []
    for code in codes:
        if not _PATH_PART_RE.fullmatch(code) or code in (".", ".."):
            raise ParameterError("is not a usable area code", source=source,
                                 field="footprints", value=code)
        if code not in unique:
            unique.append(code)
    return unique


def _footprint_names(codes: Sequence[str]) -> dict[str, str | None]:
    geography = _optional_module("hna.geography")
    namer = getattr(geography, "footprint_name", None)
    names: dict[str, str | None] = {}
    for code in codes:
        name = None
        if callable(namer):
            try:
                name = namer(code)
            except Exception:  # noqa: BLE001 - a missing name must not stop the run
                name = None
        names[code] = str(name) if name else None
    return names


# --------------------------------------------------------------------------------------------
# Jobs
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One papermill execution: a notebook with its parameters and its output location.

    ``id`` is the output path relative to the run folder, without extension
    (``dialysis/E92000001``, ``_overview/footprint_overview``).
    """

    id: str
    notebook: Path
    notebook_label: str
    service: str | None
    footprint: str | None
    parameters: dict[str, Any]
    service_name: str | None = None
    footprint_name: str | None = None
    level: str | None = None

    @property
    def parameter_hash(self) -> str:
        return _canonical_hash(self.parameters)


def _job_id(entry: NotebookEntry, notebook: Path, service: str | None,
            footprint: str | None) -> str:
    stem = notebook.stem
    suffix = f"_{entry.suffix}" if entry.suffix else ""
    if service and footprint:
        return f"{service}/{footprint}{suffix}"
    if service:
        return f"{service}/{stem}{suffix}"
    if footprint:
        return f"{OVERVIEW_DIR}/{stem}{suffix}/{footprint}"
    return f"{OVERVIEW_DIR}/{stem}{suffix}"


def expand_jobs(
    spec: RunSpec,
    *,
    root: str | os.PathLike[str] | None = None,
    source: str | None = None,
) -> list[Job]:
    """Expand a run spec into jobs: each notebook x services x footprints, as declared.

    Relative notebook paths are resolved against ``root`` (see :func:`project_root`).
    Service ids are checked against ``hna.services`` and footprint names resolved to codes
    with ``hna.geography`` when those modules are available.

    Raises:
        ParameterError: a notebook is missing, a service or footprint is unknown, or two
            notebooks would write the same output file (give one a ``suffix``).
    """
    base = Path(root) if root is not None else Path.cwd()
    all_services = list(dict.fromkeys(
        [*spec.services, *(s for nb in spec.notebooks for s in (nb.services or []))]))
    service_names = _check_services(all_services, source)
    spec_footprints = _resolve_footprints(spec.footprints, source)
    spec_level = spec.footprints.level if isinstance(spec.footprints, FootprintLevel) else None
    footprint_names = _footprint_names(spec_footprints) if any(
        "footprint" in nb.over and nb.footprints is None for nb in spec.notebooks) else {}
    years = spec.year_list
    common = {
        "run_name": spec.name,
        "years_start": years[0],
        "years_end": years[-1],
        "years": years,
        "draws": spec.draws,
        "seed": spec.seed,
    }
    jobs: list[Job] = []
    owners: dict[str, str] = {}
    for i, entry in enumerate(spec.notebooks):
        notebook = Path(entry.path)
        if not notebook.is_absolute():
            notebook = base / notebook
        notebook = notebook.resolve()
        if not notebook.is_file():
            raise ParameterError(
                "notebook not found", source=source, field=f"notebooks[{i}].path",
                value=entry.path, hint=f"Relative paths are relative to {base}",
            )
        if notebook.suffix != ".ipynb":
            raise ParameterError("is not a .ipynb notebook", source=source,
                                 field=f"notebooks[{i}].path", value=entry.path)
        services = list(entry.services) if entry.services is not None else list(spec.services)
        if entry.footprints is not None:
            footprints = _resolve_footprints(entry.footprints, source, f"notebooks[{i}].footprints")
            level = (entry.footprints.level if isinstance(entry.footprints, FootprintLevel)
                     else None)
            if "footprint" in entry.over:
                footprint_names.update(_footprint_names(footprints))
        else:
            footprints, level = spec_footprints, spec_level
        service_axis: list[str | None] = services if "service" in entry.over else [None]
        footprint_axis: list[str | None] = footprints if "footprint" in entry.over else [None]
        for service in service_axis:
            for footprint in footprint_axis:
                params = dict(common)
                if service is None:
                    params["services"] = services
                else:
                    params["service"] = service
                if footprint is None:
                    params["footprints"] = footprints
                    params["level"] = level
                else:
                    params["footprint"] = footprint
                params.update(spec.parameters)
                params.update(entry.parameters)
                params = validate_parameters(params, field="parameters", source=source)
                job_id = _job_id(entry, notebook, service, footprint)
                if job_id in owners:
                    raise ParameterError(
                        f"would write the same outputs ({job_id}) as {owners[job_id]}",
                        source=source, field=f"notebooks[{i}]", value=entry.path,
                        hint="Give one of the notebooks a 'suffix:'",
                    )
                owners[job_id] = f"notebooks[{i}] ({entry.path})"
                jobs.append(
                    Job(
                        id=job_id,
                        notebook=notebook,
                        notebook_label=entry.path,
                        service=service,
                        footprint=footprint,
                        parameters=params,
                        service_name=service_names.get(service) if service else None,
                        footprint_name=footprint_names.get(footprint) if footprint else None,
                        level=level,
                    )
                )
    return jobs


def _notebook_hash(text: str) -> str:
    """Hash of what executes: cell types and sources, and the kernel name (not outputs).

    Reads the notebook JSON directly (nbformat is slow to import and not needed here).
    """
    nb = json.loads(text)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError("no 'cells' list; is this a Jupyter notebook (format 4)?")
    cells = []
    for cell in nb["cells"]:
        source = cell.get("source", "")
        cells.append([cell.get("cell_type"), "".join(source) if isinstance(source, list)
                      else str(source)])
    kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
    return _canonical_hash({"kernel": kernel, "cells": cells})


# --------------------------------------------------------------------------------------------
# Worker side: execute one job
# --------------------------------------------------------------------------------------------

_KM_CLASS: Any = None
_LIVE_KMS: dict[str, list[Any]] = {}
_LIVE_LOCK = threading.Lock()
_ACTIVE_WORKDIRS: set[str] = set()


def _kernel_manager_class() -> Any:
    """A jupyter_client kernel manager that gives each job's kernel its env, cwd and log."""
    global _KM_CLASS
    if _KM_CLASS is None:
        from jupyter_client.manager import AsyncKernelManager
        from traitlets import Dict, Unicode

        class HnaKernelManager(AsyncKernelManager):
            """Starts the kernel with the job's environment, working folder and log file."""

            job_env = Dict(config=True)
            job_cwd = Unicode("", config=True)
            job_log = Unicode("", config=True)
            job_token = Unicode("", config=True)

            async def start_kernel(self, **kw: Any) -> None:
                env = dict(kw.pop("env", None) or os.environ)
                env.update({str(k): str(v) for k, v in self.job_env.items()})
                kw["env"] = env
                if self.job_cwd:
                    kw.setdefault("cwd", self.job_cwd)
                handle = open(self.job_log, "ab") if self.job_log else None  # noqa: SIM115
                try:
                    if handle is not None:
                        kw.setdefault("stdout", handle)
                        kw.setdefault("stderr", handle)
                    await super().start_kernel(**kw)
                finally:
                    if handle is not None:
                        handle.close()
                with _LIVE_LOCK:
                    _LIVE_KMS.setdefault(self.job_token, []).append(self)

        _KM_CLASS = HnaKernelManager
    return _KM_CLASS


def _kill_leftover_kernels(token: str, *, lock: bool = True) -> None:
    """Kill kernels of a job that are still running (after an interruption)."""
    if lock:
        with _LIVE_LOCK:
            managers = _LIVE_KMS.pop(token, [])
    else:  # from a signal handler, which must not wait for a lock its own thread may hold
        managers = _LIVE_KMS.pop(token, [])
    for km in managers:
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is None:
            continue
        try:
            if process.poll() is None:  # not yet reaped, so the pid is still the kernel's
                if hasattr(os, "killpg"):  # the kernel leads its own process group
                    os.killpg(process.pid, signal.SIGKILL)
                else:  # pragma: no cover - Windows
                    process.kill()
                process.wait(timeout=5)
        except (OSError, ValueError, Exception):  # noqa: BLE001 - best effort
            pass


def _kernel_exit_code(token: str) -> int | None:
    with _LIVE_LOCK:
        managers = list(_LIVE_KMS.get(token, []))
    for km in reversed(managers):
        process = getattr(getattr(km, "provisioner", None), "process", None)
        code = getattr(process, "returncode", None) if process is not None else None
        if code is not None:
            return int(code)
    return None


def _quiet_logs() -> None:
    # Failures are reported in the manifest and the index; the libraries' own log lines
    # (unknown parameters, "Kernel died", timeouts) would only interleave with the progress bar.
    for name in ("papermill", "traitlets", "nbclient", "jupyter_client", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _excerpt(text: str | None, lines: int = 12, chars: int = 1200) -> str:
    if not text:
        return ""
    text = _ANSI_RE.sub("", text)
    parts = text.splitlines()
    if len(parts) > lines:
        parts = parts[:lines] + ["..."]
    out = "\n".join(parts)
    return out if len(out) <= chars else out[: chars - 3] + "..."


_KERNEL_LOG_NOISE = ("Kernel is running over TCP without encryption",)


def _tail(text: str | None, lines: int = 15, chars: int = 2000) -> str:
    if not text:
        return ""
    parts = [
        line for line in _ANSI_RE.sub("", text).rstrip().splitlines()
        if not any(noise in line for noise in _KERNEL_LOG_NOISE)
    ][-lines:]
    out = "\n".join(parts)
    return out if len(out) <= chars else "..." + out[-(chars - 3):]


def _running_cell(nb_path: Path) -> tuple[int | None, int | None, str]:
    """The cell that was executing when a job stopped (from papermill's cell metadata)."""
    try:
        import nbformat

        nb = nbformat.read(str(nb_path), as_version=4)
    except Exception:  # noqa: BLE001
        return None, None, ""
    found = (None, None, "")
    for index, cell in enumerate(nb.cells):
        pm = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type == "code" and pm.get("start_time"):
            found = (index, cell.get("execution_count"), cell.source)
    return found


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def execute_job(task: Mapping[str, Any]) -> dict[str, Any]:
    """Execute one job with papermill and return its results; never raises for job failures.

    Runs in a worker (a pool process or a Dask worker). ``task`` carries the notebook's
    content, the validated parameters, the kernel name, the time limit and the report
    metadata; everything the job produces is returned, not written to the output folder:
    ``{"status": "ok"|"failed", "error", "ipynb", "html", "headline", "started",
    "duration_s", "worker"}``.

    The kernel runs in the notebook's folder (when it exists on this machine) with
    :data:`hna.report.HEADLINE_ENV` pointing into a private temporary folder. The time limit
    is a wall-clock deadline for the whole job, applied to each cell's wait.
    """
    _quiet_logs()
    import nbformat
    import papermill
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    t0 = time.monotonic()
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    token = f"{os.getpid()}-{threading.get_ident()}-{time.monotonic_ns()}"
    workdir = Path(tempfile.mkdtemp(prefix="hna-job-"))
    _ACTIVE_WORKDIRS.add(str(workdir))
    result: dict[str, Any] = {
        "job_id": task["job_id"], "status": "failed", "error": None, "ipynb": None,
        "html": None, "headline": None, "started": started, "duration_s": None,
        "worker": f"{socket.gethostname()}:{os.getpid()}",
    }
    try:
        out_nb = workdir / "executed.ipynb"
        headline_path = workdir / "headline.json"
        kernel_log = workdir / "kernel.log"
        nb = nbformat.reads(task["notebook_json"], as_version=4)
        kernel_name = (
            task.get("kernel_name")
            or (nb.metadata.get("kernelspec") or {}).get("name")
            or "python3"
        )
        notebook_dir = task.get("notebook_dir")
        cwd = notebook_dir if notebook_dir and os.path.isdir(notebook_dir) else str(workdir)
        timeout = task.get("timeout")
        deadline = t0 + timeout if timeout else None
        config = Config(
            {
                "HnaKernelManager": {
                    "job_env": {HEADLINE_ENV: str(headline_path)},
                    "job_cwd": cwd,
                    "job_log": str(kernel_log),
                    "job_token": token,
                }
            }
        )

        def cell_timeout(cell: Any) -> float | None:
            if deadline is None:
                return None
            return max(0.05, deadline - time.monotonic())

        error: dict[str, Any] | None = None
        try:
            check_injected_code(task["parameters"])
            papermill.execute_notebook(
                nb,
                str(out_nb).replace("{", "{{").replace("}", "}}"),
                parameters=dict(task["parameters"]),
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                start_timeout=max(1, int(min(60, timeout))) if timeout else 60,
                kernel_manager_class=_kernel_manager_class(),
                config=config,
                timeout_func=cell_timeout,
                shutdown_kernel="immediate",
            )
        except PapermillExecutionError as exc:
            evalue = _ANSI_RE.sub("", str(exc.evalue))
            error = {
                "kind": "exception",
                "ename": exc.ename,
                "evalue": evalue,
                "cell_index": exc.cell_index,
                "exec_count": exc.exec_count,
                "source": _excerpt(exc.source),
                "detail": _tail("\n".join(exc.traceback or [])),
                "summary": f"{exc.ename}: {_excerpt(evalue, lines=1, chars=300)} "
                f"(cell {exc.cell_index}, In [{exc.exec_count}])",
            }
        except CellTimeoutError:
            index, count, source = _running_cell(out_nb)
            error = {
                "kind": "timeout", "ename": "Timeout",
                "evalue": f"the job did not finish within {timeout:g} s",
                "cell_index": index, "exec_count": count, "source": _excerpt(source),
                "detail": "",
                "summary": f"Timeout: the job did not finish within {timeout:g} s"
                + (f" (cell {index}, In [{count}])" if index is not None else ""),
            }
        except DeadKernelError as exc:
            index, count, source = _running_cell(out_nb)
            code = _kernel_exit_code(token)
            error = {
                "kind": "kernel_died", "ename": "DeadKernelError",
                "evalue": (str(exc) or "Kernel died")
                + (f" (exit status {code})" if code is not None else ""),
                "cell_index": index, "exec_count": count, "source": _excerpt(source),
                "detail": _tail(_read_text(kernel_log)),
                "summary": "Kernel died"
                + (f" with exit status {code}" if code is not None else "")
                + (f" while running cell {index} (In [{count}])" if index is not None else ""),
            }
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none escapes
            error = {
                "kind": "error", "ename": type(exc).__name__,
                "evalue": _excerpt(str(exc), lines=5, chars=600),
                "cell_index": None, "exec_count": None, "source": "",
                "detail": _tail(_read_text(kernel_log)),
                "summary": f"{type(exc).__name__}: {_excerpt(str(exc), lines=1, chars=300)}",
            }
        result["ipynb"] = _read_text(out_nb)
        if headline_path.exists():
            try:
                result["headline"] = json.loads(headline_path.read_text(encoding="utf-8"))
            except ValueError as exc:
                error = error or {
                    "kind": "error", "ename": "HeadlineError", "evalue": str(exc),
                    "summary": f"HeadlineError: unreadable headline JSON ({exc})",
                }
        if result["ipynb"] is not None:
            meta = dict(task.get("meta") or {})
            meta["status"] = "ok" if error is None else "failed"
            meta["date"] = datetime.now().strftime("%Y-%m-%d %H:%M")
            try:
                result["html"] = render_html(out_nb, meta, show_code=bool(task.get("show_code")))
            except Exception as exc:  # noqa: BLE001
                error = error or {
                    "kind": "render", "ename": type(exc).__name__, "evalue": str(exc),
                    "summary": f"Rendering the HTML report failed: {type(exc).__name__}: {exc}",
                }
        result["error"] = error
        result["status"] = "ok" if error is None else "failed"
    finally:
        _kill_leftover_kernels(token)
        shutil.rmtree(workdir, ignore_errors=True)
        _ACTIVE_WORKDIRS.discard(str(workdir))
        result["duration_s"] = round(time.monotonic() - t0, 3)
    return result


def _terminate_worker(signum: int, frame: Any) -> None:
    """SIGTERM in a pool worker: kill this worker's kernels, delete its job folders, exit."""
    for token in list(_LIVE_KMS):
        _kill_leftover_kernels(token, lock=False)
    for workdir in list(_ACTIVE_WORKDIRS):
        shutil.rmtree(workdir, ignore_errors=True)
    os._exit(128 + signum)


def _worker_init() -> None:
    """Pool worker set-up: the coordinator handles Ctrl-C and stops workers with SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    _quiet_logs()
    import nbconvert  # noqa: F401 - warm the imports once per worker
    import papermill  # noqa: F401


# --------------------------------------------------------------------------------------------
# Coordinator
# --------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What :func:`run_batch` did: the run folder, the manifest and counts."""

    run_dir: Path
    manifest: dict[str, Any]
    interrupted: bool = False
    elapsed_s: float = 0.0

    @property
    def jobs(self) -> list[dict[str, Any]]:
        return list(self.manifest.get("jobs", []))

    def count(self, status: str) -> int:
        return sum(1 for job in self.jobs if job.get("status") == status)

    @property
    def reused(self) -> int:
        return sum(1 for job in self.jobs if job.get("reused"))

    @property
    def ok(self) -> bool:
        return not self.interrupted and all(job.get("status") == "ok" for job in self.jobs)


ProgressCallback = Callable[[str, Mapping[str, Any] | None, Mapping[str, int]], None]


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
            raise HnaError(
                f"another 'hna run' is writing to {run_dir}; wait for it to finish"
            ) from None
        yield
    finally:
        handle.close()


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def _output_paths(run_dir: Path, job_id: str) -> dict[str, Path]:
    base = run_dir / job_id
    return {ext: base.parent / f"{base.name}.{ext}" for ext in ("ipynb", "html", "json")}


def _counts(entries: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    counts = {"total": len(entries), "ok": 0, "failed": 0, "remaining": 0, "reused": 0}
    for entry in entries:
        status = entry.get("status")
        if status == "ok":
            counts["ok"] += 1
        elif status == "failed":
            counts["failed"] += 1
        else:
            counts["remaining"] += 1
        if entry.get("reused"):
            counts["reused"] += 1
    return counts


def run_batch(
    spec_path: str | os.PathLike[str],
    *,
    output_dir: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    executor: Literal["process", "dask"] = "process",
    scheduler: str | None = None,
    force: bool = False,
    timeout: float | None = 3600,
    show_code: bool = False,
    kernel: str | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run every job of a run spec; resume from an earlier run unless ``force``.

    Args:
        spec_path: the run spec YAML file.
        output_dir: the folder holding run folders (default ``<project root>/outputs``).
        jobs: concurrent jobs (default :func:`default_jobs`); with ``executor="dask"`` and
            ``scheduler="local"`` the number of local Dask workers.
        executor: ``"process"`` (a local process pool) or ``"dask"``.
        scheduler: a Dask scheduler address, or ``"local"``/None for a local cluster.
        force: re-run jobs even if an earlier run finished them with the same inputs.
        timeout: wall-clock limit per job in seconds (None or 0: no limit).
        show_code: include code cells in the HTML reports.
        kernel: kernel name, overriding each notebook's kernelspec.
        progress: called as ``progress(event, job_entry, counts)`` with events ``"start"``,
            ``"job"`` (a job finished) and ``"end"``.

    Returns:
        A :class:`RunResult`; failed jobs are recorded, not raised.

    Raises:
        ParameterError: the spec or an argument is invalid (nothing has been executed).
        KeyboardInterrupt: on Ctrl-C or SIGTERM, after recording every finished job.
    """
    t_start = time.monotonic()
    spec_path = Path(spec_path)
    source = str(spec_path)
    spec = load_runspec(spec_path)
    n_workers = default_jobs() if jobs is None else jobs
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ParameterError("must be a whole number of at least 1", field="--jobs",
                             value=jobs)
    if executor not in ("process", "dask"):
        raise ParameterError("must be 'process' or 'dask'", field="--executor", value=executor)
    if timeout is not None and (not isinstance(timeout, int | float) or timeout < 0
                                or not math.isfinite(timeout)):
        raise ParameterError("must be a number of seconds (0 for no limit)", field="--timeout",
                             value=timeout)
    timeout = float(timeout) if timeout else None
    if kernel is not None and not re.fullmatch(r"[A-Za-z0-9_.-]+", kernel):
        raise ParameterError("is not a kernel name", field="--kernel", value=kernel)
    if executor == "process":
        _pool_context(start=True)  # its imports overlap with the expansion below
    root = project_root(spec_path)
    job_list = expand_jobs(spec, root=root, source=source)
    run_dir = (Path(output_dir) if output_dir is not None else root / "outputs") / spec.name
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)

    with _run_lock(run_dir):
        remove_stale_tmp(run_dir)
        return _run_locked(
            spec=spec, spec_path=spec_path, root=root, job_list=job_list, run_dir=run_dir,
            n_workers=n_workers, executor=executor, scheduler=scheduler, force=force,
            timeout=timeout, show_code=show_code, kernel=kernel, progress=progress,
            t_start=t_start,
        )


def _run_locked(
    *, spec: RunSpec, spec_path: Path, root: Path, job_list: list[Job], run_dir: Path,
    n_workers: int, executor: str, scheduler: str | None, force: bool,
    timeout: float | None, show_code: bool, kernel: str | None,
    progress: ProgressCallback | None, t_start: float,
) -> RunResult:
    notebook_text: dict[Path, str] = {}
    notebook_hashes: dict[Path, str] = {}
    for job in job_list:
        if job.notebook not in notebook_text:
            try:
                text = job.notebook.read_text(encoding="utf-8")
                notebook_hashes[job.notebook] = _notebook_hash(text)
                notebook_text[job.notebook] = text
            except (ValueError, AttributeError, TypeError) as exc:  # not a notebook's JSON
                raise ParameterError(f"is not a readable notebook ({exc})",
                                     source=str(spec_path), field="notebooks",
                                     value=job.notebook_label) from None

    dhash = data_hash([root / "parameters" / "services", root / "parameters" / "footprints"])
    version = hna.__version__
    previous = read_manifest(run_dir) or {}
    previous_jobs = {j.get("id"): j for j in previous.get("jobs", []) if isinstance(j, dict)}

    try:
        spec_label = str(spec_path.resolve().relative_to(root))
    except ValueError:
        spec_label = str(spec_path)
    manifest: dict[str, Any] = {
        "format": 1,
        "run": spec.name,
        "description": spec.description,
        "runspec": spec_label,
        "runspec_hash": hashlib.sha256(spec_path.read_bytes()).hexdigest(),
        "hna_version": version,
        "python": platform.python_version(),
        "created": previous.get("created") or _now(),
        "updated": _now(),
        "seed": spec.seed,
        "draws": spec.draws,
        "years": spec.year_list,
        "years_label": spec.years_label,
        "data_hash": dhash,
        "data_vintages": data_vintages(),
        "executor": executor if executor == "process" else f"dask ({scheduler or 'local'})",
        "workers": n_workers,
        "timeout_s": timeout,
        "show_code": show_code,
        "jobs": [],
    }

    entries: list[dict[str, Any]] = []
    tasks: list[dict[str, Any]] = []
    rerender: list[tuple[dict[str, Any], Job]] = []
    for job in job_list:
        paths = _output_paths(run_dir, job.id)
        input_hash = _canonical_hash(
            {
                "notebook": notebook_hashes[job.notebook],
                "parameters": job.parameter_hash,
                "data": dhash,
                "hna": version,
                "kernel": kernel,
            }
        )
        entry: dict[str, Any] = {
            "id": job.id,
            "notebook": job.notebook_label,
            "service": job.service,
            "service_name": job.service_name,
            "footprint": job.footprint,
            "footprint_name": job.footprint_name,
            "parameters": job.parameters,
            "parameter_hash": job.parameter_hash,
            "notebook_hash": notebook_hashes[job.notebook],
            "input_hash": input_hash,
            "status": "pending",
            "reused": False,
            "show_code": show_code,
            "started": None,
            "duration_s": None,
            "worker": None,
            "error": None,
            "headline": None,
            "outputs": {},
        }
        old = previous_jobs.get(job.id)
        reusable = (
            not force
            and old is not None
            and old.get("status") == "ok"
            and old.get("input_hash") == input_hash
            and all(p.is_file() for p in paths.values())
        )
        if reusable:
            for key in ("started", "duration_s", "worker", "headline", "outputs", "show_code"):
                entry[key] = old.get(key)
            entry["status"] = "ok"
            entry["reused"] = True
            if bool(old.get("show_code")) != show_code:
                rerender.append((entry, job))
        else:
            tasks.append(
                {
                    "job_id": job.id,
                    "notebook_json": notebook_text[job.notebook],
                    "notebook_dir": str(job.notebook.parent),
                    "parameters": job.parameters,
                    "kernel_name": kernel,
                    "timeout": timeout,
                    "show_code": show_code,
                    "meta": _report_meta(spec, job),
                }
            )
        entries.append(entry)
    manifest["jobs"] = entries
    by_id = {entry["id"]: entry for entry in entries}
    jobs_by_id = {job.id: job for job in job_list}

    interrupted = False
    with _Interrupts() as interrupts:
        try:
            for entry, job in rerender:
                with interrupts.critical():
                    paths = _output_paths(run_dir, job.id)
                    meta = _report_meta(spec, job) | {"status": "ok", "date": entry["started"]}
                    atomic_write_text(paths["html"],
                                      render_html(paths["ipynb"], meta, show_code=show_code))
                    entry["show_code"] = show_code
            with interrupts.critical():
                write_manifest(run_dir, manifest)
            if progress:
                progress("start", None, _counts(entries))

            def record(result: Mapping[str, Any]) -> None:
                with interrupts.critical():
                    entry = by_id[result["job_id"]]
                    _write_job_outputs(run_dir, spec, jobs_by_id[entry["id"]], entry, result)
                    manifest["updated"] = _now()
                    write_manifest(run_dir, manifest)
                if progress:
                    progress("job", entry, _counts(entries))

            if tasks:
                if executor == "dask":
                    _run_dask(tasks, record, n_workers, scheduler)
                else:
                    _run_pool(tasks, record, n_workers)
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            with interrupts.critical():
                for entry in entries:
                    if entry["status"] == "pending" and interrupted:
                        entry["status"] = "interrupted"
                manifest["updated"] = _now()
                manifest["counts"] = _counts(entries)
                write_manifest(run_dir, manifest)
                write_summary_csv(run_dir, manifest)
                write_index(run_dir, manifest)
            if progress and not interrupted:
                progress("end", None, _counts(entries))
    return RunResult(run_dir=run_dir, manifest=manifest, interrupted=interrupted,
                     elapsed_s=time.monotonic() - t_start)


def _report_meta(spec: RunSpec, job: Job) -> dict[str, Any]:
    return {
        "run": spec.name,
        "notebook": job.notebook_label,
        "service": job.service,
        "service_name": job.service_name,
        "footprint": job.footprint,
        "footprint_name": job.footprint_name,
        "seed": spec.seed,
        "draws": spec.draws,
        "hna_version": hna.__version__,
    }


def _write_job_outputs(run_dir: Path, spec: RunSpec, job: Job, entry: dict[str, Any],
                       result: Mapping[str, Any]) -> None:
    paths = _output_paths(run_dir, job.id)
    outputs: dict[str, str] = {}
    for ext in ("ipynb", "html"):
        content = result.get(ext)
        if content is not None:
            atomic_write_text(paths[ext], content)
            outputs[ext] = paths[ext].relative_to(run_dir).as_posix()
        else:  # do not leave an earlier run's file where this run has none
            try:
                paths[ext].unlink()
            except FileNotFoundError:
                pass
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
    )
    record = {
        "run": spec.name,
        "job": job.id,
        "notebook": job.notebook_label,
        "service": job.service,
        "service_name": job.service_name,
        "footprint": job.footprint,
        "footprint_name": job.footprint_name,
        "status": entry["status"],
        "started": entry["started"],
        "duration_s": entry["duration_s"],
        "parameters": job.parameters,
        "parameter_hash": job.parameter_hash,
        "hna_version": hna.__version__,
        "error": entry["error"],
        "headline": headline or {},
    }
    atomic_write_json(paths["json"], record)
    outputs["json"] = paths["json"].relative_to(run_dir).as_posix()
    entry["outputs"] = outputs


def _failure(task: Mapping[str, Any], exc: BaseException, what: str) -> dict[str, Any]:
    return {
        "job_id": task["job_id"], "status": "failed", "ipynb": None, "html": None,
        "headline": None, "started": None, "duration_s": None, "worker": None,
        "error": {
            "kind": "worker", "ename": type(exc).__name__, "evalue": str(exc),
            "summary": f"{what}: {type(exc).__name__}: {exc}",
        },
    }


_PRELOAD = ["hna.batch", "papermill", "nbconvert"]


def _pool_context(start: bool = False) -> Any:
    """The multiprocessing context for pool workers: a fork server where available.

    Workers are forked from a fresh server process that has imported papermill and nbconvert
    once (slow imports), never from the coordinating process and its threads. With ``start``
    the server is started now, so those imports overlap with the job expansion.
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():  # pragma: no cover
        return multiprocessing.get_context("spawn")
    from multiprocessing import forkserver

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    if start:
        forkserver.ensure_running()
    return context


def _run_pool(tasks: list[dict[str, Any]], record: Callable[[Mapping[str, Any]], None],
              n_workers: int) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = _pool_context()
    others = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=min(n_workers, len(tasks)), mp_context=context,
                               initializer=_worker_init)
    clean = False
    try:
        futures = {pool.submit(execute_job, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker process died
                result = _failure(futures[future], exc, "the worker process failed")
            record(result)
        clean = True
    finally:
        if clean:
            pool.shutdown(wait=True)
        else:
            _stop_pool(pool, others)


def _stop_pool(pool: Any, others: set[Any]) -> None:
    """Cancel queued jobs and stop the pool's workers (each kills its kernel, cleans up)."""
    pool.shutdown(wait=False, cancel_futures=True)
    children = [c for c in multiprocessing.active_children() if c not in others]
    for child in children:
        try:
            child.terminate()
        except Exception:  # noqa: BLE001
            pass
    deadline = time.monotonic() + 10
    for child in children:
        child.join(timeout=max(0.1, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
            child.join(timeout=2)


def _run_dask(tasks: list[dict[str, Any]], record: Callable[[Mapping[str, Any]], None],
              n_workers: int, scheduler: str | None) -> None:
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler in (None, "", "local"):
        cluster = LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError(f"cannot connect to the Dask scheduler ({exc})",
                                 field="--scheduler", value=scheduler) from None
    futures: list[Any] = []
    try:
        by_key = {}
        for task in tasks:
            future = client.submit(execute_job, task, pure=False, retries=0)
            futures.append(future)
            by_key[future.key] = task
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker
                result = _failure(by_key[future.key], exc, "the Dask task failed")
            record(result)
    finally:
        try:
            if futures:
                client.cancel(futures, force=True)
        except Exception:  # noqa: BLE001
            pass
        client.close()
        if cluster is not None:
            cluster.close()


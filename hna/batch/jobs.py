"""Jobs: a run spec expanded into notebook executions, each checked before anything runs.

:func:`expand_jobs` turns a :class:`~hna.batch.runspec.RunSpec` into :class:`Job` s, one
papermill execution each, and validates the whole spec first: every service against the
catalogue (:mod:`hna.services`), every footprint against :mod:`hna.geography`, the years against
the range the bundled population data can be projected to, and every notebook (valid JSON,
nbformat 4, one cell tagged ``parameters``), so a bad spec fails before a run folder exists.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from hna import geography, scenarios, services
from hna.batch.runspec import FootprintLevel, NotebookEntry, RunSpec
from hna.batch.safety import canonical_hash, validate_parameters
from hna.codes import ENGLAND
from hna.errors import InputError, ParameterError

__all__ = [
    "OVERVIEW_DIR",
    "Job",
    "NotebookFile",
    "data_years",
    "expand_jobs",
    "read_notebook",
]

OVERVIEW_DIR = "_overview"

_PATH_PART_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


@dataclass(frozen=True)
class NotebookFile:
    """A notebook read and checked once: its text and the hash of what executes."""

    path: Path
    text: str
    hash: str


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
    notebook_hash: str | None = field(default=None, compare=False)
    scenario: str | None = None
    scenario_name: str | None = None

    @property
    def parameter_hash(self) -> str:
        """SHA-256 of the job's parameters as canonical JSON."""
        return canonical_hash(self.parameters)

    @property
    def title(self) -> str:
        """A readable name: service name, footprint name and code, or the notebook's name."""
        parts = []
        if self.service:
            parts.append(self.service_name or self.service)
        if self.footprint:
            name = self.footprint_name
            parts.append(f"{name} ({self.footprint})" if name else self.footprint)
        label = " \u2014 ".join(parts)
        stem = self.notebook.stem.replace("_", " ")
        scenario = f", scenario: {self.scenario_name or self.scenario}" if self.scenario else ""
        if not label:
            return stem.capitalize() + scenario
        if self.id.startswith(OVERVIEW_DIR) or not (self.service and self.footprint):
            return f"{stem.capitalize()}: {label}{scenario}"
        suffix = Path(self.id.split("__")[0]).name.partition("_")[2]
        label += f" ({suffix.replace('_', ' ')})" if suffix else ""
        return label + scenario


# --------------------------------------------------------------------------------------------
# Notebooks
# --------------------------------------------------------------------------------------------


def _has_parameters_cell(nb: dict[str, Any]) -> bool:
    for cell in nb["cells"]:
        tags = (cell.get("metadata") or {}).get("tags") or []
        if cell.get("cell_type") == "code" and "parameters" in tags:
            return True
    return False


def read_notebook(path: Path, *, label: str, field: str, source: str | None) -> NotebookFile:
    """Read a notebook and check it can run as a job; hash what executes.

    The hash covers cell types and sources and the kernel name, not outputs. The checks:
    readable UTF-8, valid JSON, nbformat 4 with a list of cells, and one code cell tagged
    ``parameters`` (where papermill injects the job's values after it).

    Raises:
        ParameterError: naming the notebook, the spec field and what to do.
    """

    def refuse(message: str, hint: str) -> ParameterError:
        return ParameterError(message, source=source, field=field, value=label, hint=hint)

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise refuse(f"cannot read the notebook ({reason})",
                     "Check the file's permissions and that it is a saved .ipynb") from None
    try:
        nb = json.loads(text)
    except ValueError as exc:
        raise refuse(f"is not valid notebook JSON ({exc})",
                     "Open and save it again in Jupyter") from None
    if not isinstance(nb, dict) or nb.get("nbformat") != 4 or not isinstance(nb.get("cells"),
                                                                           list):
        found = nb.get("nbformat") if isinstance(nb, dict) else None
        raise refuse(f"is not a Jupyter notebook in format 4 (nbformat: {found!r})",
                     "Convert it with 'jupyter nbconvert --to notebook' or save it in Jupyter")
    if not all(isinstance(cell, dict) for cell in nb["cells"]):
        raise refuse("has a cell that is not a JSON object", "Open and save it again in Jupyter")
    if not _has_parameters_cell(nb):
        raise refuse(
            "has no cell tagged 'parameters', so the job's values cannot be set",
            "In Jupyter, tag the cell that assigns the defaults (service, footprint, years_start, "
            "...) with 'parameters' (View > Cell toolbar > Tags); see docs/batch.md",
        )
    cells = []
    for cell in nb["cells"]:
        src = cell.get("source", "")
        cells.append([cell.get("cell_type"), "".join(src) if isinstance(src, list) else str(src)])
    kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name")
    return NotebookFile(path=path, text=text,
                        hash=canonical_hash({"kernel": kernel, "cells": cells}))


# --------------------------------------------------------------------------------------------
# Services, footprints and years
# --------------------------------------------------------------------------------------------


def check_services(ids: Sequence[str], source: str | None) -> dict[str, str]:
    """Validate service ids against the catalogue and load each; return their names.

    Raises:
        ParameterError: an unknown id (with the known ones) or an invalid service file.
    """
    known = set(services.list_services())
    names: dict[str, str] = {}
    for i, sid in enumerate(ids):
        if sid not in known:
            raise ParameterError(
                "is not a known service", source=source, field=f"services[{i}]", value=sid,
                hint=f"Known services: {', '.join(sorted(known)) or 'none'}",
            )
        try:
            names[sid] = services.load_service(sid).name
        except InputError as exc:
            raise ParameterError(exc.message, source=exc.source or source,
                                 field=exc.field or "services", value=sid,
                                 hint=exc.hint) from None
    return names


def resolve_footprints(
    footprints: FootprintLevel | list[str], source: str | None, key: str = "footprints"
) -> list[str]:
    """Footprint codes for a spec's ``footprints`` (a level or a list of codes or names).

    Raises:
        ParameterError: an unknown level, code or name.
    """
    codes: list[str] = []
    if isinstance(footprints, FootprintLevel):
        try:
            codes = [str(c) for c in geography.footprint_codes(footprints.level)]
        except InputError as exc:
            raise ParameterError(exc.message, source=source, field=f"{key}.level",
                                 value=footprints.level, hint=exc.hint) from None
        if footprints.include_england and ENGLAND not in codes:
            codes.insert(0, ENGLAND)
    else:
        for i, item in enumerate(footprints):
            try:
                codes.append(str(geography.resolve_footprint(item).code))
            except InputError as exc:
                raise ParameterError(exc.message, source=source, field=f"{key}[{i}]",
                                     value=item, hint=exc.hint) from None
    unique: list[str] = []
    for code in codes:
        if not _PATH_PART_RE.fullmatch(code) or code in (".", ".."):
            raise ParameterError("is not a usable area code", source=source, field=key,
                                 value=code)
        if code not in unique:
            unique.append(code)
    return unique


def check_scenarios(ids: Sequence[str | None], source: str | None) -> dict[str, str]:
    """Validate scenario ids (None is the base case); return their names.

    Raises:
        ParameterError: an unknown or invalid scenario, naming the spec's field.
    """
    names: dict[str, str] = {}
    for i, sid in enumerate(ids):
        if sid is None:
            continue
        try:
            names[sid] = scenarios.load_scenario(sid).name
        except InputError as exc:
            raise ParameterError(exc.message, source=exc.source or source,
                                 field=f"scenarios[{i}]", value=sid, hint=exc.hint) from None
    return names


def check_parameter_scenarios(params: dict[str, Any], where: str, source: str | None) -> None:
    """Scenario ids given to notebooks as parameters ``scenario`` or ``scenarios``: known only.

    Raises:
        ParameterError: a scenario id that is not a string or null, or an unknown scenario,
            naming the field (e.g. ``notebooks[4].parameters.scenarios[1]``).
    """
    for key in ("scenario", "scenarios"):
        if key not in params:
            continue
        value = params[key]
        ids = value if isinstance(value, list) else [value]
        for j, sid in enumerate(ids):
            where_j = f"{where}.{key}" + (f"[{j}]" if isinstance(value, list) else "")
            if sid is None:
                continue
            if not isinstance(sid, str):
                raise ParameterError("a scenario id must be a string (or null for the base case)",
                                     source=source, field=where_j, value=sid)
            try:
                scenarios.load_scenario(sid)
            except InputError as exc:
                raise ParameterError(exc.message, source=exc.source or source, field=where_j,
                                     value=sid, hint=exc.hint) from None


def _footprint_names(codes: Sequence[str]) -> dict[str, str]:
    return {code: str(geography.footprint_name(code)) for code in codes}


@lru_cache(maxsize=1)
def data_years() -> tuple[int, int]:
    """The years the bundled population can be projected to: (base year, last year)."""
    from hna import population

    base = int(population.default_population()["year"].min())
    last = int(population.growth_factors()["year"].max())
    return base, last


def _check_years(spec: RunSpec, source: str | None) -> None:
    low, high = data_years()
    outside = [year for year in spec.year_list if not low <= year <= high]
    if outside:
        raise ParameterError(
            "is outside the years the bundled population data can be projected to",
            source=source, field="years", value=outside[0],
            hint=f"Choose years from {low} to {high}",
        )


# --------------------------------------------------------------------------------------------
# Expansion
# --------------------------------------------------------------------------------------------


def _job_id(entry: NotebookEntry, notebook: Path, service: str | None,
            footprint: str | None, scenario: str | None = None) -> str:
    stem = notebook.stem
    suffix = f"_{entry.suffix}" if entry.suffix else ""
    suffix += f"__{scenario}" if scenario else ""
    if service and footprint:
        return f"{service}/{footprint}{suffix}"
    if service:
        return f"{service}/{stem}{suffix}"
    if footprint:
        return f"{OVERVIEW_DIR}/{stem}{suffix}/{footprint}"
    return f"{OVERVIEW_DIR}/{stem}{suffix}"


def _entry_notebook(entry: NotebookEntry, i: int, base: Path,
                    source: str | None) -> NotebookFile:
    notebook = Path(entry.path)
    if not notebook.is_absolute():
        notebook = base / notebook
    notebook = notebook.resolve()
    where = f"notebooks[{i}].path"
    if not notebook.is_file():
        raise ParameterError("notebook not found", source=source, field=where,
                             value=entry.path, hint=f"Relative paths are relative to {base}")
    if notebook.suffix != ".ipynb":
        raise ParameterError("is not a .ipynb notebook", source=source, field=where,
                             value=entry.path)
    return read_notebook(notebook, label=entry.path, field=where, source=source)


def _common_parameters(spec: RunSpec) -> dict[str, Any]:
    years = spec.year_list
    return {
        "run_name": spec.name,
        "years_start": years[0],
        "years_end": years[-1],
        "years": years,
        "draws": spec.draws,
        "seed": spec.seed,
    }


@dataclass
class _Context:
    """What every notebook entry's jobs share while a spec is expanded."""

    spec: RunSpec
    source: str | None
    common: dict[str, Any]
    overrides: dict[str, Any]
    service_names: dict[str, str]
    scenario_names: dict[str, str]
    footprints: list[str]
    level: str | None
    owners: dict[str, str] = field(default_factory=dict)


def _entry_jobs(ctx: _Context, i: int, entry: NotebookEntry, nbfile: NotebookFile) -> list[Job]:
    spec, source = ctx.spec, ctx.source
    services_ = list(entry.services) if entry.services is not None else list(spec.services)
    if entry.footprints is not None:
        footprints = resolve_footprints(entry.footprints, source, f"notebooks[{i}].footprints")
        level = entry.footprints.level if isinstance(entry.footprints, FootprintLevel) else None
    else:
        footprints, level = ctx.footprints, ctx.level
    scenario_ids = list(entry.scenarios) if entry.scenarios is not None else list(spec.scenarios)
    names = _footprint_names(footprints) if "footprint" in entry.over else {}
    service_axis: list[str | None] = services_ if "service" in entry.over else [None]
    footprint_axis: list[str | None] = footprints if "footprint" in entry.over else [None]
    scenario_axis: list[str | None] = scenario_ids if "scenario" in entry.over else [None]
    jobs = []
    for service in service_axis:
        for footprint in footprint_axis:
            for scenario in scenario_axis:
                params = dict(ctx.common)
                if service is None:
                    params["services"] = services_
                else:
                    params["service"] = service
                if footprint is None:
                    params.update(footprints=footprints, level=level)
                else:
                    params["footprint"] = footprint
                if "scenario" in entry.over:
                    params["scenario"] = scenario
                params.update(spec.parameters)
                params.update(entry.parameters)
                params.update(ctx.overrides)
                params = validate_parameters(params, field="parameters", source=source)
                job_id = _job_id(entry, nbfile.path, service, footprint, scenario)
                if job_id in ctx.owners:
                    raise ParameterError(
                        f"would write the same outputs ({job_id}) as {ctx.owners[job_id]}",
                        source=source, field=f"notebooks[{i}]", value=entry.path,
                        hint="Give one of the notebooks a 'suffix:'",
                    )
                ctx.owners[job_id] = f"notebooks[{i}] ({entry.path})"
                jobs.append(Job(
                    id=job_id, notebook=nbfile.path, notebook_label=entry.path,
                    service=service, footprint=footprint, parameters=params,
                    service_name=ctx.service_names.get(service) if service else None,
                    footprint_name=names.get(footprint) if footprint else None,
                    level=level, notebook_hash=nbfile.hash, scenario=scenario,
                    scenario_name=ctx.scenario_names.get(scenario) if scenario else None,
                ))
    return jobs


def expand_jobs(
    spec: RunSpec,
    *,
    root: str | os.PathLike[str] | None = None,
    source: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> list[Job]:
    """Expand a run spec into jobs: each notebook x services x footprints x scenarios.

    Each notebook runs over the axes its ``over`` lists. Relative notebook paths are resolved
    against ``root`` (see :func:`~hna.batch.runspec.project_root`). ``overrides`` (e.g.
    ``hna run -p``) are set last, for every job. The whole spec is validated first (see the
    module docstring); a job over a scenario writes ``<...>__<scenario id>.*`` (the base case,
    null, keeps the plain name).

    Raises:
        ParameterError: a notebook is missing or unusable, a service, footprint, scenario or
            year is unknown, or two notebooks would write the same output file (give one a
            ``suffix``).
    """
    base = Path(root) if root is not None else Path.cwd()
    _check_years(spec, source)
    all_services = list(dict.fromkeys(
        [*spec.services, *(s for nb in spec.notebooks for s in (nb.services or []))]))
    all_scenarios = list(dict.fromkeys(
        [*spec.scenarios, *(s for nb in spec.notebooks for s in (nb.scenarios or []))]))
    ctx = _Context(
        spec=spec, source=source, common=_common_parameters(spec),
        overrides=dict(overrides or {}), service_names=check_services(all_services, source),
        scenario_names=check_scenarios(all_scenarios, source),
        footprints=resolve_footprints(spec.footprints, source),
        level=spec.footprints.level if isinstance(spec.footprints, FootprintLevel) else None,
    )
    check_parameter_scenarios(spec.parameters, "parameters", source)
    check_parameter_scenarios(dict(overrides or {}), "-p", source)
    for i, entry in enumerate(spec.notebooks):
        check_parameter_scenarios(entry.parameters, f"notebooks[{i}].parameters", source)
    notebooks = [_entry_notebook(entry, i, base, source) for i, entry in enumerate(spec.notebooks)]
    jobs: list[Job] = []
    for i, (entry, nbfile) in enumerate(zip(spec.notebooks, notebooks, strict=True)):
        jobs.extend(_entry_jobs(ctx, i, entry, nbfile))
    return jobs

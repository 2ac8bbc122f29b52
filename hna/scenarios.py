"""Named scenarios: validated, sourced changes to a service's parameters.

A scenario file (``parameters/scenarios/<id>.yaml``) says which services it applies to and
what it changes, each change with a source or an explicit assumption and its rationale::

    id: sts_rising_2pc
    name: Soft tissue sarcoma incidence rising 2% a year from 2025
    services: [soft_tissue_sarcoma]
    year: 2026                       # when the scenario was written
    changes:
      - set: projection
        value: {method: trend, annual_change_percent: 2.0, base_year: 2025}
        assumption: >-
          Recorded incidence rose about 26% from 1990 to 2007 (1.4% a year); 2% a year tests a
          faster continued rise from the first planning year.
    uncertainty:                     # distributions added to (or replacing) the service's
      annual_change_percent: {distribution: normal, sd: 0.5, assumption: "..."}
    sources: []                      # publications the changes cite by id

In Python::

    from hna.demand import service_demand
    r = service_demand("soft_tissue_sarcoma", "E40000006", scenario="sts_rising_2pc")

or build one in a notebook with :func:`scenario`, and save it with :meth:`Scenario.to_yaml`.
``set`` is a dotted key of the service file (``critical_mass.minimum_per_centre``,
``projection.annual_change_percent``); a mapping ``value`` on a block updates the keys it gives.
A key the service does not have, an unknown scenario or an impossible value is one
:class:`hna.errors.ParameterError` naming the scenario file, the field and the value.
"""

from __future__ import annotations

import difflib
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from hna.distributions import Distribution
from hna.errors import HnaError, ParameterError
from hna.parameters import PARAMETERS_DIR, StrictModel, display_path, read_yaml, validation_error
from hna.services import Source

__all__ = [
    "SCENARIOS_DIR",
    "Change",
    "Scenario",
    "load_scenario",
    "list_scenarios",
    "apply_scenario",
    "scenario",
    "validate_scenario_file",
    "is_scenario",
]

#: ``parameters/scenarios`` at the root of the source tree.
SCENARIOS_DIR = PARAMETERS_DIR / "scenarios"

_ID = r"^[A-Za-z_]\w*$"



class Change(StrictModel):
    """One change: a dotted service key, its new value, and a source or an assumption."""

    set: str = Field(pattern=r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$",
                     description="dotted key of the service file, e.g. projection.base_year")
    value: Any
    source: str | None = Field(default=None, pattern=_ID)
    assumption: str | None = Field(default=None, min_length=1,
                                   description="why this value, in words")
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> Change:
        if (self.source is None) == (self.assumption is None):
            raise ValueError("give exactly one of 'source' (an id in sources) or "
                             "'assumption' (the rationale in words)")
        return self


class Scenario(StrictModel):
    """A named set of changes to one or more services (a ``parameters/scenarios`` file)."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    description: str | None = None
    services: list[str] = Field(min_length=1, description="ids of the services it applies to")
    year: int = Field(strict=True, ge=2000, le=2100, description="year the scenario was written")
    changes: list[Change] = Field(default_factory=list)
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    n_centres: int | None = Field(default=None, ge=1, description="centres planned (optional)")
    level: float | None = Field(default=None, gt=0, lt=1,
                                description="probability for centres sustainable")
    sources: list[Source] = Field(default_factory=list)

    @model_validator(mode="after")
    def _something(self) -> Scenario:
        if not self.changes and not self.uncertainty:
            raise ValueError("a scenario needs 'changes' or 'uncertainty'")
        return self

    def applies_to(self, service_id: str) -> bool:
        """Whether the scenario is written for this service."""
        return service_id in self.services

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The scenario as YAML (written atomically to ``path`` if given)."""
        data = self.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        data["uncertainty"] = {k: d.model_dump(mode="json", exclude_none=True,
                                               exclude_defaults=True) | {
            "distribution": d.distribution} for k, d in self.uncertainty.items()}
        for k in ("uncertainty", "changes", "sources"):
            if not data.get(k):
                data.pop(k, None)
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=96)
        if path is not None:
            from hna.report_io import atomic_write_text

            atomic_write_text(Path(path), text)
        return text


def _error(exc: ValidationError, source: str) -> ParameterError:
    return validation_error(exc, source, Scenario)


def parse_scenario(raw: Any, source: str) -> Scenario:
    """Validate a scenario mapping (read from ``source``)."""
    if not isinstance(raw, dict):
        raise ParameterError("expected a mapping of keys to values at the top level",
                             source=source, value=type(raw).__name__)
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        raise _error(exc, source) from None


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int) -> Scenario:
    p = Path(path)
    sc = parse_scenario(read_yaml(p, source=display_path(p)), display_path(p))
    if p.parent.resolve() == SCENARIOS_DIR.resolve() and sc.id != p.stem:
        raise ParameterError("id must match the file name", source=display_path(p),
                             field="id", value=sc.id, hint=f"Use id: {p.stem}")
    return sc


def _scenario_path(name: str) -> Path:
    if name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name:
        return Path(name)
    path = SCENARIOS_DIR / f"{name}.yaml"
    if not path.is_file():
        ids = list_scenarios()
        near = difflib.get_close_matches(name, ids, n=3, cutoff=0.5)
        raise ParameterError("unknown scenario", field="scenario", value=name,
                             hint=(f"Did you mean {', '.join(near)}?" if near else
                                   f"Known scenarios: {', '.join(ids) or 'none'}"))
    return path


def load_scenario(scenario_or_path: str | Path | Scenario) -> Scenario:
    """Load and validate a scenario by id (``parameters/scenarios/<id>.yaml``) or path.

    Raises:
        ParameterError: unknown id (with the nearest names), missing file, bad YAML, unknown
            keys, a change without a source or assumption, impossible distributions.
    """
    if isinstance(scenario_or_path, Scenario):
        return scenario_or_path
    if not isinstance(scenario_or_path, str | Path):
        raise ParameterError("a scenario is an id, a YAML path or a Scenario",
                             field="scenario", value=type(scenario_or_path).__name__)
    path = _scenario_path(str(scenario_or_path))
    if not path.is_file():
        read_yaml(path, source=display_path(path))  # raises "file not found"
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


def list_scenarios(directory: str | Path | None = None) -> list[str]:
    """Ids of the scenarios in ``parameters/scenarios`` (or ``directory``), sorted."""
    d = Path(directory) if directory else SCENARIOS_DIR
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def _check_key(svc: Any, key: str, source: str, field: str) -> None:
    """The dotted key must name a field of the service (its parents present)."""
    obj: Any = svc
    parts = key.split(".")
    for depth, part in enumerate(parts):
        fields = type(obj).model_fields if isinstance(obj, BaseModel) else {}
        if part not in fields:
            near = difflib.get_close_matches(part, list(fields), n=1, cutoff=0.6)
            raise ParameterError(
                f"the service {svc.id} has no key '{'.'.join(parts[:depth + 1])}'",
                source=source, field=field, value=key,
                hint=(f"Did you mean '{'.'.join([*parts[:depth], near[0]])}'?" if near else
                      f"Keys here: {', '.join(fields) or 'none (not a block)'}"))
        if depth < len(parts) - 1:
            obj = getattr(obj, part)
            if obj is None:
                raise ParameterError(f"the service {svc.id} has no '{'.'.join(parts[:depth + 1])}'"
                                     " block to change", source=source, field=field, value=key)


def _set(data: dict, key: str, value: Any) -> None:
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        node = node[part]
    old = node.get(parts[-1])
    if isinstance(value, dict) and isinstance(old, dict):
        node[parts[-1]] = {**old, **value}
    else:
        node[parts[-1]] = value


def _scenario_source(sc: Scenario, change: Change) -> dict:
    return {"id": f"scenario_{sc.id}", "publisher": "hna scenario (assumption)",
            "title": sc.name, "section": f"assumption: {change.assumption}", "year": sc.year}


def apply_scenario(service: Any, scen: str | Path | Scenario) -> Any:
    """The service with the scenario's changes applied and validated (a new object).

    The result keeps the service's id (so its random streams, and the comparison with the
    base case, use common random numbers) and its folder (for relative files); ``_scenario``
    records the scenario. Changes are applied in order.

    Raises:
        ParameterError: the scenario is not for this service, changes a key the service does
            not have, or gives a value the service's validation refuses (naming the scenario
            file, ``changes[i]`` and the value).
    """
    from hna.service_checks import check_service_uncertainty, check_sources
    from hna.services import Service, load_service

    svc = load_service(service)
    sc = load_scenario(scen)
    source = _scenario_display(scen, sc)
    if not sc.applies_to(svc.id):
        raise ParameterError("the scenario is not written for this service", source=source,
                             field="services", value=svc.id,
                                              hint=f"It applies to: {', '.join(sc.services)}")
    data = svc.model_dump(mode="python", exclude_none=True)
    extra_sources = [s.model_dump(exclude_none=True) for s in sc.sources]
    for i, ch in enumerate(sc.changes):
        field = f"changes[{i}].set"
        _check_key(svc, ch.set, source, field)
        _set(data, ch.set, ch.value)
        sid = ch.source or f"scenario_{sc.id}"
        if ch.assumption is not None and all(s["id"] != sid for s in extra_sources):
            extra_sources.append(_scenario_source(sc, ch))
        _cite(data, ch.set, sid)
    data["uncertainty"] = {**data.get("uncertainty", {}), **{
        k: d.model_dump(exclude_none=True) for k, d in sc.uncertainty.items()}}
    known = {s["id"] for s in data["sources"]}
    data["sources"] = data["sources"] + [s for s in extra_sources if s["id"] not in known]
    try:
        new = Service.model_validate(data)
    except ValidationError as exc:
        err = validation_error(exc, source, Service)
        raise ParameterError(f"after the scenario's changes: {err.message}", source=source,
                             field=err.field, value=err.value, hint=err.hint) from None
    new._path = svc._path
    new._scenario = sc
    check_sources(new, source)
    check_service_uncertainty(new, source)
    return new


def _cite(data: dict, key: str, sid: str) -> None:
    """Point the changed block's ``source`` at the change's source, where it has one."""
    top = key.split(".")[0]
    block = data.get(top)
    if isinstance(block, dict) and top in ("projection", "critical_mass", "rates", "cost",
                                           "model"):
        block["source"] = sid


def _scenario_display(scen: Any, sc: Scenario) -> str:
    if isinstance(scen, str | Path):
        try:
            return display_path(_scenario_path(str(scen)))
        except HnaError:
            pass
    return f"scenario {sc.id}"


def scenario(
    id: str,  # noqa: A002 - the scenario's id, as in the YAML
    name: str,
    services: list[str] | str,
    set: dict[str, Any] | None = None,  # noqa: A002 - mirrors the YAML key
    *,
    assumption: str | None = None,
    source: str | None = None,
    uncertainty: dict[str, Any] | None = None,
    year: int = 2026,
) -> Scenario:
    """Build a scenario in Python (the same checks as a scenario file).

    Example: ``scenario("mine", "2% rise", "soft_tissue_sarcoma", {"projection": {"method":
    "trend", "annual_change_percent": 2, "base_year": 2025}}, assumption="a faster rise")``.
    Every change shares ``assumption`` (or ``source``, an id you add with ``sources`` in a
    file). Raises :class:`ParameterError` for the same problems as a scenario file.
    """
    raw = {"id": id, "name": name, "year": year,
           "services": [services] if isinstance(services, str) else list(services),
           "changes": [{"set": k, "value": v,
                        **({"assumption": assumption} if assumption else {}),
                        **({"source": source} if source else {})}
                       for k, v in (set or {}).items()],
           "uncertainty": uncertainty or {}}
    return parse_scenario(raw, f"scenario {id}")


def is_scenario(raw: Any) -> bool:
    """Whether a parsed YAML mapping looks like a scenario file (for ``hna validate``)."""
    return isinstance(raw, dict) and "services" in raw and (
        "changes" in raw or "uncertainty" in raw) and "kind" not in raw


def validate_scenario_file(path: str | Path) -> str:
    """Validate a scenario file, including applying it to each service it names.

    Returns a one-line description; raises :class:`ParameterError` otherwise.
    """
    sc = load_scenario(Path(path))
    for sid in sc.services:
        apply_scenario(sid, Path(path))
    return (f"scenario {sc.id} ({len(sc.changes)} change(s), {len(sc.uncertainty)} "
            f"distribution(s); for {', '.join(sc.services)})")

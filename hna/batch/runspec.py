"""Run specs: the YAML file that names notebooks and what each is run over.

A *run spec* (``parameters/runs/*.yaml``, validated by :class:`RunSpec`) names notebooks and
what each is run over (services, footprints, both or neither), the years, draws and seed.
This module imports only the foundation (:mod:`hna.parameters`) and :mod:`hna.batch.safety`,
so :mod:`hna.services` can validate run specs without importing the rest of the batch runner.
"""

from __future__ import annotations

import os
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

from hna.batch.safety import RESERVED_PARAMETERS, is_identifier, validate_parameters
from hna.errors import InputError
from hna.parameters import StrictModel, read_yaml, validation_error

__all__ = [
    "FOOTPRINT_LEVELS",
    "FootprintLevel",
    "NotebookEntry",
    "RunSpec",
    "YearRange",
    "load_runspec",
    "project_root",
]

FOOTPRINT_LEVELS = ("lad", "icb", "region", "nhs_region", "england")


def _check_service_ids(value: list[str]) -> list[str]:
    for i, item in enumerate(value):
        if not is_identifier(item) or item.startswith("_"):
            raise ValueError(f"item {i} ({item!r}) is not a service id")
    if len(set(value)) != len(value):
        raise ValueError("lists a service twice")
    return value


def _check_scenario_ids(value: list[str | None]) -> list[str | None]:
    for i, item in enumerate(value):
        if item is not None and (not is_identifier(item) or item.startswith("_")):
            raise ValueError(f"item {i} ({item!r}) is not a scenario id (or null)")
    if len(set(value)) != len(value):
        raise ValueError("lists a scenario twice")
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
    over: list[Literal["service", "footprint", "scenario"]] = Field(
        default_factory=lambda: ["service", "footprint"]
    )
    suffix: str | None = None
    #: Per-notebook overrides of the spec's services, footprints and parameters (e.g. one
    #: designation job for one service in one footprint within a wider run).
    services: list[str] | None = None
    footprints: FootprintLevel | list[str] | None = None
    scenarios: list[str | None] | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)

    @field_validator("scenarios")
    @classmethod
    def _entry_scenarios(cls, value: list[str | None] | None) -> list[str | None] | None:
        return None if value is None else _check_scenario_ids(value)

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
            raise ValueError("lists 'service', 'footprint' or 'scenario' twice")
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
    #: Scenario ids (``parameters/scenarios/<id>.yaml``; null = the base case) for notebooks
    #: that run over ``scenario``; each job gets the parameter ``scenario`` (text or None).
    scenarios: list[str | None] = Field(default_factory=list)
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

    @field_validator("scenarios")
    @classmethod
    def _scenario_ids(cls, value: list[str | None]) -> list[str | None]:
        return _check_scenario_ids(value)

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
            for axis, key in (("service", "services"), ("footprint", "footprints"),
                              ("scenario", "scenarios")):
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
        """The years for people: ``2025-2040`` for a run of years, else a list."""
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

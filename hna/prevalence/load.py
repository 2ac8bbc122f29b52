"""Reading and validating the RRT parameter file (:func:`load_rrt_parameters`)."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import (
    ValidationError,
)

from hna.errors import ParameterError
from hna.parameters import read_yaml, validation_error
from hna.prevalence.ensemble import check_model_uncertainty
from hna.prevalence.parameters import (
    DEFAULT_PARAMETER_FILE,
    RRTParameters,
    _Change,
)
from hna.prevalence.transitions import (
    _entry_by_group,
    transition_matrices,
)


def rrt_parameters_from_mapping(data: Any, source: str = "<mapping>") -> RRTParameters:
    """Validate a mapping (e.g. parsed YAML) into :class:`RRTParameters`.

    Raises:
        ParameterError: naming ``source``, the offending key path and value.
    """
    if not isinstance(data, Mapping):
        raise ParameterError(
            "the parameter file must be a mapping of keys to values",
            source=source,
            value=type(data).__name__,
        )
    try:
        params = RRTParameters.model_validate(dict(data))
    except ValidationError as exc:
        raise validation_error(exc, str(source), RRTParameters) from None
    params._source_file = str(source)
    # Transition rows must be valid over the whole trend period (extremes are at its ends).
    years = {
        params.mortality.trend.from_year,
        params.mortality.trend.to_year,
        params.transplantation.trend.from_year,
        params.transplantation.trend.to_year,
    }
    for year in sorted(years):
        transition_matrices(params, year)
    for e in params.entry.by_year:
        _entry_by_group(params, e.year)
    check_model_uncertainty(params)
    return params


def load_rrt_parameters(path: str | os.PathLike[str] | None = None) -> RRTParameters:
    """Load and validate the RRT model parameters.

    Args:
        path: YAML file; defaults to :data:`DEFAULT_PARAMETER_FILE`
            (``parameters/models/renal_replacement_therapy.yaml``).

    Raises:
        ParameterError: missing file, bad YAML, unknown keys, probabilities outside [0, 1],
            transition rows summing to more than 1, with file, field and value.
    """
    file = Path(path) if path is not None else DEFAULT_PARAMETER_FILE
    data = read_yaml(file, missing_hint=(
        "Pass the path of renal_replacement_therapy.yaml (it lives in parameters/models/)"))
    if isinstance(data, Mapping) and "extends" in data:
        data = _extended(file, data)
    return rrt_parameters_from_mapping(data, source=str(file))


def _extended(file: Path, data: Mapping[str, Any]) -> dict[str, Any]:
    """A model file written as ``extends: <base file>`` plus ``changes:`` (a scenario variant).

    Each change ``{set: dotted.key, value, source | assumption}`` replaces one value of the
    base (its parent block must exist); the change's citation is appended to the note of the
    nearest enclosing ``source`` so every changed figure stays cited.
    """
    extra = sorted(set(data) - {"extends", "description", "changes"})
    if extra:
        raise ParameterError("an 'extends' model file may only give description and changes",
                             source=str(file), field=extra[0])
    base_file = (file.parent / str(data["extends"])).resolve()
    base = read_yaml(base_file, missing_hint="'extends' is relative to this file")
    if "extends" in base:
        raise ParameterError("a base model file cannot itself extend another", source=str(file),
                             field="extends", value=str(data["extends"]))
    out = copy.deepcopy(dict(base))
    if "description" in data:
        out["description"] = data["description"]
    for i, raw in enumerate(data.get("changes") or []):
        try:
            ch = _Change.model_validate(raw)
        except ValidationError as exc:
            raise validation_error(exc, str(file), _Change) from None
        _apply_change(out, ch, str(file), f"changes[{i}]")
    return out


def _apply_change(data: dict[str, Any], ch: Any, source: str, field: str) -> None:
    parts = ch.set.split(".")
    node: Any = data
    cited = None
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, dict) or part not in node:
            raise ParameterError("the base model file has no such key", source=source,
                                 field=f"{field}.set", value=".".join(parts[:depth + 1]))
        node = node[part]
        if isinstance(node, dict) and isinstance(node.get("source"), dict):
            cited = node["source"]
    if not isinstance(node, dict):
        raise ParameterError("not a block", source=source, field=f"{field}.set", value=ch.set)
    node[parts[-1]] = copy.deepcopy(ch.value)
    why = ch.assumption or (ch.source.cite() if ch.source else "")
    if isinstance(node[parts[-1]], dict) and "source" not in node[parts[-1]] and cited is None:
        node[parts[-1]]["source"] = {"publisher": "hna scenario", "title": why[:200],
                                     "year": 2026, "kind": "assumption", "note": why}
    elif cited is not None:
        cited["note"] = (str(cited.get("note") or "") + f" Changed by a scenario file: {why}").strip()


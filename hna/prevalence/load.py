"""Reading and validating the RRT parameter file (:func:`load_rrt_parameters`)."""

from __future__ import annotations

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
    return rrt_parameters_from_mapping(data, source=str(file))


"""Model fitness-for-purpose framework for SCGs (F001 Appendix 10): nine dimensions, Y/N/P.

Criteria (abridged from the seed) are in ``parameters/appraisal/fitness_for_purpose.yaml``;
an assessment (ratings per criterion) is summarised per dimension and overall.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import Field, model_validator

from hna.errors import ParameterError
from hna.frameworks._common import config_path
from hna.parameters import StrictModel, read_parameter_file

__all__ = ["FitnessFramework", "load_fitness_framework", "fitness_for_purpose"]


class Dimension(StrictModel):
    label: str
    criteria: list[str] = Field(min_length=1)


class FitnessFramework(StrictModel):
    """Contents of ``parameters/appraisal/fitness_for_purpose.yaml``."""

    source: str
    ratings: list[Literal["Y", "N", "P"]]
    dimensions: dict[str, Dimension]

    @model_validator(mode="after")
    def _nine(self) -> FitnessFramework:
        if len(self.dimensions) != 9:
            raise ValueError(f"Appendix 10 has 9 dimensions, got {len(self.dimensions)}")
        return self


def load_fitness_framework(path: str | Path | None = None) -> FitnessFramework:
    """Load the F001 Appendix 10 framework (default ``parameters/appraisal/fitness_for_purpose.yaml``)."""
    return read_parameter_file(config_path(path, "fitness_for_purpose.yaml"), FitnessFramework)


def fitness_for_purpose(
    ratings: Mapping[str, Sequence[str]],
    *,
    framework: FitnessFramework | str | Path | None = None,
) -> pd.DataFrame:
    """Summarise a Y/N/P self-assessment against the nine F001 Appendix 10 dimensions.

    Args:
        ratings: dimension -> list of ``Y``/``N``/``P`` ratings, one per criterion in the
            framework's order (a dimension left out is reported as not assessed).
        framework: the framework or its YAML path.

    Returns:
        DataFrame, one row per dimension plus an ``overall`` row: ``dimension, label,
        n_criteria, Y, P, N, status`` where status is ``achieved`` (all Y), ``not achieved``
        (any N), ``partly achieved`` (otherwise) or ``not assessed``.
    """
    fw = framework if isinstance(framework, FitnessFramework) else load_fitness_framework(framework)
    unknown = [d for d in ratings if d not in fw.dimensions]
    if unknown:
        raise ParameterError("unknown dimension", source="ratings", field=unknown[0],
                             hint=f"Use one of: {', '.join(fw.dimensions)}")
    rows = []
    for name, dim in fw.dimensions.items():
        given = ratings.get(name)
        n = len(dim.criteria)
        if given is None:
            rows.append({"dimension": name, "label": dim.label, "n_criteria": n,
                         "Y": 0, "P": 0, "N": 0, "status": "not assessed"})
            continue
        given = [str(g).strip().upper() for g in given]
        if len(given) != n:
            raise ParameterError(f"expected {n} ratings, one per criterion", source="ratings",
                                 field=name, value=len(given))
        bad = [g for g in given if g not in fw.ratings]
        if bad:
            raise ParameterError("ratings must be Y, N or P", source="ratings", field=name,
                                 value=bad[0])
        y, p, no = given.count("Y"), given.count("P"), given.count("N")
        status = "not achieved" if no else ("achieved" if y == n else "partly achieved")
        rows.append({"dimension": name, "label": dim.label, "n_criteria": n,
                     "Y": y, "P": p, "N": no, "status": status})
    out = pd.DataFrame(rows)
    assessed = out[out["status"] != "not assessed"]
    if len(assessed) == 0:
        overall = "not assessed"
    elif (assessed["status"] == "not achieved").any():
        overall = "not achieved"
    elif len(assessed) == len(out) and (assessed["status"] == "achieved").all():
        overall = "achieved"
    else:
        overall = "partly achieved"
    total = {"dimension": "overall", "label": "All dimensions",
             "n_criteria": int(out["n_criteria"].sum()), "Y": int(out["Y"].sum()),
             "P": int(out["P"].sum()), "N": int(out["N"].sum()), "status": overall}
    return pd.concat([out, pd.DataFrame([total])], ignore_index=True)

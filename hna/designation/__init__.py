"""Designation of centres: where should ``k`` centres go, and how far will patients travel?

Stage "designation" of the pipeline (``../shared/DESIGN.md``): compute only, no prose or
figures (those are in :mod:`hna.narrative.designation` and :mod:`hna.plots.maps`).

- :mod:`hna.designation.milp`: the mixed integer programme (capacitated p-median with minimum
  volumes, HiGHS);
- :mod:`hna.designation.solve`: :func:`designate` one ``k``, :func:`compare_k` several;
- :mod:`hna.designation.result`: result types and :class:`DesignationInfeasible`;
- :mod:`hna.designation.demand`: district demand over the horizon, apportioned to LSOAs;
- :mod:`hna.designation.candidates`: candidate hospital sites, the current configuration;
- :mod:`hna.designation.equity`: population-weighted access by IMD quintile;
- :mod:`hna.designation.options`: :func:`designation_options` composes demand, small areas,
  candidate sites, travel, critical mass, viability and equity for a service and footprint.
"""

from hna.designation.candidates import candidate_sites, current_configuration
from hna.designation.demand import AreaDemand, DistrictDemand, area_demand, district_demand
from hna.designation.options import DesignationOptions, DesignationSettings, designation_options
from hna.designation.result import (
    ConfigurationChange,
    DesignationInfeasible,
    DesignationResult,
    KComparison,
)
from hna.designation.solve import compare_k, designate

__all__ = [
    "designate",
    "compare_k",
    "designation_options",
    "DesignationOptions",
    "DesignationSettings",
    "DistrictDemand",
    "AreaDemand",
    "area_demand",
    "current_configuration",
    "district_demand",
    "candidate_sites",
    "DesignationResult",
    "ConfigurationChange",
    "KComparison",
    "DesignationInfeasible",
]

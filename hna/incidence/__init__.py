"""Expected cases and their projection: constant rates, log-linear trend, Nordpred; Monte Carlo.

Tables follow ``docs/contributing.md``:

- rates: ``age_band, sex, rate`` (rate per person-year), optionally ``area_code`` and/or
  ``year`` for area- or year-specific rates, and ``cases, person_years`` (the counts behind
  each rate, used for rate uncertainty) or ``draw`` (one row per rate draw);
- population: ``area_code, sex, age_band, year, population`` (current or projected);
- cases: ``area_code, sex, age_band, year, cases``.

Functions:

- :func:`expected_cases`: cases = rate x population, cell by cell;
- :func:`rates_from_counts`: crude rates from counts and person-years (counts kept);
- :func:`constant_rates`, :func:`trend_rates`, :func:`nordpred` (from
  :mod:`hna.incidence.nordpred`), selectable with :func:`project_rates`;
- :func:`simulate`: seeded Monte Carlo of future counts with rate uncertainty and Poisson
  variation, as draws or as mean and quantiles.

Formulas, choices and sources: ``docs/methods/incidence.md``.

Modules: :mod:`~hna.incidence.inputs` (table checks), :mod:`~hna.incidence.cases`,
:mod:`~hna.incidence.projection`, :mod:`~hna.incidence.nordpred` (Moller et al. 2003),
:mod:`~hna.incidence.montecarlo`.
"""

from __future__ import annotations

# Load the nordpred submodule first: the package attribute ``nordpred`` is then rebound to the
# wrapper function below, and later imports of the submodule (already loaded) leave it alone.
import hna.incidence.nordpred  # noqa: F401  isort: skip
from hna.incidence.cases import expected_cases, rates_from_counts
from hna.incidence.inputs import CASES_COLUMNS
from hna.incidence.montecarlo import simulate
from hna.incidence.projection import (
    PROJECTION_METHODS,
    constant_rates,
    damped_drift,
    nordpred,
    project_rates,
    trend_rates,
)

__all__ = [
    "CASES_COLUMNS",
    "PROJECTION_METHODS",
    "expected_cases",
    "rates_from_counts",
    "constant_rates",
    "trend_rates",
    "damped_drift",
    "project_rates",
    "nordpred",
    "simulate",
]

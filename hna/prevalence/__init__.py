"""Stock-and-flow model of adults on renal replacement therapy (RRT), and dialysis capacity.

The model follows adults on RRT by area, sex, ESP2013 age band and modality state
(:data:`MODALITIES`: in-centre haemodialysis ``ichd``, home haemodialysis ``hhd``, peritoneal
dialysis ``pd``, functioning transplant ``tx``) with an annual time step. Each simulated year
``t``, starting from the stock on 31 December of ``t - 1``:

1. every patient moves between states, dies or recovers with the annual transition probability
   matrix of their age group (:func:`transition_matrices`);
2. survivors age: a share 1/5 of each 5-year band moves up a band (1/2 of the adult part of
   ``15-19``, which holds ages 18-19 only; nobody leaves ``90+``);
3. patients starting RRT (incidence rate x population, by band and sex) take their 90-day
   outcome (HD, PD, transplant, or died/stopped before day 90), then are exposed to half a
   year of the transition probabilities (they arrive on average mid-year).

``draws=0`` gives the expected-value (deterministic) run; ``draws=N`` gives N Monte Carlo draws
with Poisson incidence and multinomial transitions, seeded through
:class:`numpy.random.SeedSequence`. Arrays are area x sex x band x state, vectorised over areas
and draws. Parameters (every figure with its source) live in
``parameters/models/renal_replacement_therapy.yaml``; methods in ``docs/methods/prevalence.md``;
the calibration against UK Renal Registry figures in ``docs/calibration_dialysis.md``, produced
by :func:`calibration_table`.

The package has one module per job: :mod:`~hna.prevalence.parameters` (states, flows, parameter
models), :mod:`~hna.prevalence.load` (reading the file), :mod:`~hna.prevalence.transitions`
(transition matrices, 90-day split, sampling plans), :mod:`~hna.prevalence.inputs` (input
tables to arrays), :mod:`~hna.prevalence.simulate` (the engine), :mod:`~hna.prevalence.stock`
(starting stock), :mod:`~hna.prevalence.capacity` (stations and sessions),
:mod:`~hna.prevalence.calibration` (national calibration run) and
:mod:`~hna.prevalence.validation` (tables against UK Renal Registry figures),
:mod:`~hna.prevalence.ensemble` (parameter draws, vectorised expected runs) and
:mod:`~hna.prevalence.projection` (footprint demand: anchored start, draws, Poisson events).
"""

from hna.prevalence.calibration import (
    calibration_population,
    calibration_run,
    crude_incidence_multiplier,
    fit_calibration,
    modelled_prevalent,
    prevalence_per_person,
)
from hna.prevalence.capacity import (
    DEFAULT_OCCUPANCY,
    capacity_table,
    patients_per_station,
    sessions_per_week,
    stations_columns,
    stations_needed,
)
from hna.prevalence.ensemble import (
    UNCERTAIN_PARAMETERS,
    sample_rrt_parameters,
    simulate_rrt_ensemble,
)
from hna.prevalence.load import load_rrt_parameters, rrt_parameters_from_mapping
from hna.prevalence.parameters import (
    ADULT_BANDS,
    DEFAULT_PARAMETER_FILE,
    DIALYSIS_MODALITIES,
    FLOW_DTYPE,
    FLOWS,
    MODALITIES,
    MODALITY_DTYPE,
    OUTCOMES,
    RRTParameters,
    Source,
)
from hna.prevalence.projection import RRTProjection, project_rrt
from hna.prevalence.simulate import RRTSimulation, simulate_rrt, simulate_rrt_arrays
from hna.prevalence.stock import initial_prevalent
from hna.prevalence.transitions import entry_split, transition_matrices
from hna.prevalence.validation import (
    calibration_markdown,
    calibration_table,
    calibration_trajectory,
)

__all__ = [
    "MODALITIES",
    "MODALITY_DTYPE",
    "DIALYSIS_MODALITIES",
    "OUTCOMES",
    "FLOWS",
    "FLOW_DTYPE",
    "ADULT_BANDS",
    "DEFAULT_PARAMETER_FILE",
    "Source",
    "RRTParameters",
    "RRTSimulation",
    "load_rrt_parameters",
    "rrt_parameters_from_mapping",
    "transition_matrices",
    "entry_split",
    "simulate_rrt",
    "simulate_rrt_arrays",
    "initial_prevalent",
    "stations_needed",
    "stations_columns",
    "DEFAULT_OCCUPANCY",
    "UNCERTAIN_PARAMETERS",
    "sample_rrt_parameters",
    "simulate_rrt_ensemble",
    "project_rrt",
    "RRTProjection",
    "patients_per_station",
    "sessions_per_week",
    "capacity_table",
    "calibration_population",
    "calibration_run",
    "calibration_table",
    "calibration_markdown",
    "calibration_trajectory",
    "fit_calibration",
    "modelled_prevalent",
    "prevalence_per_person",
    "crude_incidence_multiplier",
]

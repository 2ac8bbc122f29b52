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
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from hna.bands import AGE_BAND_DTYPE, AGE_BANDS, SEX_DTYPE, SEXES, as_band, as_sex
from hna.errors import DataError, ParameterError
from hna.parameters import PARAMETERS_DIR, read_yaml, validation_error
from hna.uncertainty import draw_blocks, seed_sequence

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

#: Modality states, in array order.
MODALITIES: tuple[str, ...] = ("ichd", "hhd", "pd", "tx")
MODALITY_DTYPE = pd.CategoricalDtype(list(MODALITIES), ordered=False)
DIALYSIS_MODALITIES: tuple[str, ...] = ("ichd", "hhd", "pd")
#: Columns of a transition matrix row: the four states, then the two exits.
OUTCOMES: tuple[str, ...] = (*MODALITIES, "death", "recovered")
#: Flows recorded each simulated year (patients in a year, not a stock).
FLOWS: tuple[str, ...] = (
    "incident",  # started RRT (day 0)
    "early_exit",  # died or stopped before day 90
    "death",  # died on RRT after day 90
    "recovered",  # left RRT alive after day 90
    "transplant",  # dialysis -> transplant (pre-emptive transplants are in the 90-day split)
    "graft_failure",  # transplant -> dialysis
    "early_transplant",  # transplanted by day 90 (mostly pre-emptive); part of `incident`
)
FLOW_DTYPE = pd.CategoricalDtype(list(FLOWS), ordered=False)
#: Bands covered by the adult model: the adult part of 15-19 (ages 18-19), 20-24 ... 90+.
ADULT_BANDS: tuple[str, ...] = AGE_BANDS[3:]
_FIRST_ADULT = 3
_NB = len(ADULT_BANDS)
_NM = len(MODALITIES)
_ICHD, _HHD, _PD, _TX, _DEATH, _RECOVERED = range(6)
_KEEPABLE = ("sex", "age_band", "modality")
_CHUNK = 50  # draws per random-number stream / worker task

#: The parameter file shipped with the repository.
DEFAULT_PARAMETER_FILE = PARAMETERS_DIR / "models" / "renal_replacement_therapy.yaml"

# --------------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------------

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Strict):
    """Where a figure comes from: publisher, document (report, chapter/table) and year."""

    publisher: str
    document: str
    year: int = Field(ge=1900, le=2100)
    table: str | None = None
    kind: Literal["published", "derived", "assumption", "calibrated"] = "published"
    note: str | None = None
    fit_target: str | None = None

    @model_validator(mode="after")
    def _calibrated_needs_target(self) -> Source:
        if self.kind == "calibrated" and not self.fit_target:
            raise ValueError("a calibrated figure must say what it was fitted to (fit_target)")
        return self


class _Value(_Strict):
    value: Probability
    source: Source


class _Scale(_Strict):
    value: Annotated[float, Field(gt=0.0, le=100.0)]
    source: Source


class _ByAgeGroup(_Strict):
    values: dict[str, Probability]
    source: Source


class _ByDialysisModality(_Strict):
    ichd: NonNegative
    hhd: NonNegative
    pd: NonNegative
    source: Source


class _Trend(_Strict):
    per_year: Annotated[float, Field(ge=-0.5, le=0.5)]
    from_year: int
    to_year: int
    source: Source

    @model_validator(mode="after")
    def _ordered(self) -> _Trend:
        if self.to_year < self.from_year:
            raise ValueError("to_year must not be before from_year")
        return self

    def factor(self, year: int) -> float:
        """Multiplier on the ``to_year`` level in ``year`` (constant outside the interval)."""
        y = min(max(year, self.from_year), self.to_year)
        return float((1.0 + self.per_year) ** (y - self.to_year))


class _AgeGroups(_Strict):
    bands: dict[str, list[str]]
    source: Source

    @model_validator(mode="after")
    def _cover_adult_bands(self) -> _AgeGroups:
        seen = [b for bands in self.bands.values() for b in bands]
        unknown = [b for b in seen if b not in ADULT_BANDS]
        if unknown:
            raise ValueError(f"unknown or non-adult age band {unknown[0]!r}; use {ADULT_BANDS}")
        if sorted(seen, key=ADULT_BANDS.index) != list(ADULT_BANDS):
            raise ValueError(f"age groups must cover each of {ADULT_BANDS} exactly once")
        return self


class _Incidence(_Strict):
    reference_year: int
    rate_pmp: dict[Literal["female", "male"], dict[str, NonNegative]]
    source: Source

    @field_validator("rate_pmp")
    @classmethod
    def _all_bands(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for sex in SEXES:
            if sex not in v:
                raise ValueError(f"missing sex {sex!r}")
            if set(v[sex]) != set(ADULT_BANDS):
                bad = sorted(set(v[sex]) ^ set(ADULT_BANDS))
                raise ValueError(f"{sex}: bands must be exactly {ADULT_BANDS} (check {bad[0]!r})")
        return v


class _CrudeRate(_Strict):
    year: int
    rate_pmp: NonNegative
    geography: str
    source: Source


class _EntryYear(_Strict):
    year: int
    hd: Probability
    pd: Probability
    tx: Probability
    early_exit: Probability
    source: Source

    @model_validator(mode="after")
    def _sums_to_one(self) -> _EntryYear:
        total = self.hd + self.pd + self.tx + self.early_exit
        if abs(total - 1.0) > 0.005:
            raise ValueError(f"hd + pd + tx + early_exit must be 1 (within 0.005), got {total:.4f}")
        return self

    def shares(self) -> np.ndarray:
        v = np.array([self.hd, self.pd, self.tx, self.early_exit], dtype=float)
        return v / v.sum()


class _AgeWeights(_Strict):
    tx: dict[str, NonNegative]
    pd: dict[str, NonNegative]
    early_exit: dict[str, NonNegative]
    source: Source


class _Entry(_Strict):
    by_year: list[_EntryYear] = Field(min_length=1)
    home_hd_share_of_hd: _Value
    age_weights: _AgeWeights

    @field_validator("by_year")
    @classmethod
    def _unique_sorted(cls, v: list[_EntryYear]) -> list[_EntryYear]:
        years = [e.year for e in v]
        if len(set(years)) != len(years):
            raise ValueError("each year may appear only once")
        return sorted(v, key=lambda e: e.year)


class _Mortality(_Strict):
    dialysis: _ByAgeGroup
    transplant: _ByAgeGroup
    dialysis_modality_ratio: _ByDialysisModality
    trend: _Trend
    scale: _Scale


class _Transplantation(_Strict):
    rate: _ByAgeGroup
    modality_ratio: _ByDialysisModality
    trend: _Trend
    scale: _Scale


class _GraftFailure(_Strict):
    rate: _ByAgeGroup
    to_pd_share: _Value


class _Switches(_Strict):
    pd_to_ichd: _Value
    ichd_to_pd: _Value
    ichd_to_hhd: _ByAgeGroup
    hhd_to_ichd: _Value


class _Mix(_Strict):
    ichd: Probability
    hhd: Probability
    pd: Probability
    tx: Probability

    @model_validator(mode="after")
    def _sums_to_one(self) -> _Mix:
        total = self.ichd + self.hhd + self.pd + self.tx
        if abs(total - 1.0) > 0.005:
            raise ValueError(f"modality shares must sum to 1 (within 0.005), got {total:.4f}")
        return self

    def shares(self) -> np.ndarray:
        v = np.array([self.ichd, self.hhd, self.pd, self.tx], dtype=float)
        return v / v.sum()


class _MedianAge(_Strict):
    ichd: Annotated[float, Field(ge=18, le=100)] | None = None
    hhd: Annotated[float, Field(ge=18, le=100)] | None = None
    pd: Annotated[float, Field(ge=18, le=100)] | None = None
    tx: Annotated[float, Field(ge=18, le=100)] | None = None

    def values(self) -> list[float | None]:
        return [self.ichd, self.hhd, self.pd, self.tx]


class _PrevalencePoint(_Strict):
    year: int
    rate_pmp: NonNegative
    modality_mix: _Mix
    median_age: _MedianAge | None = None
    source: Source


class _InitialPrevalence(_Strict):
    points: list[_PrevalencePoint]
    burn_in_years: Annotated[int, Field(ge=1, le=100)]
    burn_in_incidence_growth: Annotated[float, Field(ge=-0.5, le=0.5)]
    source: Source


class _Capacity(_Strict):
    sessions_per_week: Annotated[float, Field(gt=0)]
    shifts_per_day: Annotated[float, Field(gt=0)]
    days_per_week: Annotated[float, Field(gt=0, le=7)]
    source: Source

    def kwargs(self) -> dict[str, float]:
        """Keyword arguments for :func:`stations_needed`."""
        return {
            "sessions_per_week": self.sessions_per_week,
            "shifts_per_day": self.shifts_per_day,
            "days_per_week": self.days_per_week,
        }


class _PopulationTotal(_Strict):
    year: int
    population: Annotated[float, Field(gt=0)]
    source: Source


class _ReferencePopulation(_Strict):
    female: dict[str, NonNegative]
    male: dict[str, NonNegative]
    source: Source

    @model_validator(mode="after")
    def _all_bands(self) -> _ReferencePopulation:
        for sex in SEXES:
            if set(getattr(self, sex)) != set(AGE_BANDS):
                raise ValueError(f"{sex}: needs exactly the 19 ESP2013 bands {AGE_BANDS}")
        return self

    def array(self) -> np.ndarray:
        """Population as a (sex, 19 bands) array."""
        return np.array([[getattr(self, s)[b] for b in AGE_BANDS] for s in SEXES], dtype=float)


class _PrevalenceTarget(_Strict):
    year: int
    rate_pmp: Annotated[float, Field(gt=0)]
    tolerance: Probability
    source: Source


class _ModalityTarget(_Strict):
    year: int
    tx: Probability
    hd: Probability
    pd: Probability
    tolerance_points: Annotated[float, Field(gt=0, le=100)]
    source: Source


class _Calibration(_Strict):
    area_code: str
    start_year: int
    end_year: int
    reference_population: _ReferencePopulation
    population_totals: list[_PopulationTotal] = Field(min_length=2)
    prevalence_targets: list[_PrevalenceTarget]
    modality_targets: list[_ModalityTarget]


class RRTParameters(_Strict):
    """Parameters of the RRT stock-and-flow model (``parameters/models/renal_replacement_therapy.yaml``).

    Unknown keys are rejected; probabilities must lie in [0, 1]; every figure carries a
    :class:`Source`. Load with :func:`load_rrt_parameters`.
    """

    model: Literal["renal_replacement_therapy"]
    version: int
    description: str
    age_groups: _AgeGroups
    adult_share_of_15_19: _Value
    incidence: _Incidence
    incidence_history: list[_CrudeRate] = Field(min_length=1)
    entry: _Entry
    mortality: _Mortality
    transplantation: _Transplantation
    graft_failure: _GraftFailure
    modality_switches: _Switches
    recovery: _Value
    incident_exposure: _Value
    initial_prevalence: _InitialPrevalence
    capacity: _Capacity
    calibration: _Calibration
    _source_file: str = PrivateAttr(default="<parameters>")

    @model_validator(mode="after")
    def _age_group_keys(self) -> RRTParameters:
        groups = list(self.age_groups.bands)
        tables: dict[str, Mapping[str, Any]] = {
            "mortality.dialysis.values": self.mortality.dialysis.values,
            "mortality.transplant.values": self.mortality.transplant.values,
            "transplantation.rate.values": self.transplantation.rate.values,
            "graft_failure.rate.values": self.graft_failure.rate.values,
            "modality_switches.ichd_to_hhd.values": self.modality_switches.ichd_to_hhd.values,
            "entry.age_weights.tx": self.entry.age_weights.tx,
            "entry.age_weights.pd": self.entry.age_weights.pd,
            "entry.age_weights.early_exit": self.entry.age_weights.early_exit,
        }
        for name, table in tables.items():
            if set(table) != set(groups):
                odd = sorted(set(table) ^ set(groups))
                raise ValueError(f"{name}: age groups must be exactly {groups} (check {odd[0]!r})")
        return self

    @property
    def source_file(self) -> str:
        """The file the parameters were read from (for error messages)."""
        return self._source_file

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(self.age_groups.bands)


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


# --------------------------------------------------------------------------------------------
# Parameter arrays
# --------------------------------------------------------------------------------------------


def _band_group_index(params: RRTParameters) -> np.ndarray:
    """Age-group index of each adult band (length 16)."""
    lookup = {b: i for i, bands in enumerate(params.age_groups.bands.values()) for b in bands}
    return np.array([lookup[b] for b in ADULT_BANDS], dtype=np.int64)


def _group_values(params: RRTParameters, table: Mapping[str, float]) -> np.ndarray:
    return np.array([table[g] for g in params.groups], dtype=float)


def transition_matrices(
    params: RRTParameters,
    year: int,
    *,
    mortality_scale: float | None = None,
    transplant_scale: float | None = None,
) -> np.ndarray:
    """Annual transition probability matrices for ``year``, one per age group.

    Returns an array ``(age group, from state, outcome)`` with from states :data:`MODALITIES`
    and outcomes :data:`OUTCOMES` (the four states, ``death``, ``recovered``). The diagonal
    (staying) is one minus the other entries of the row.

    Args:
        params: model parameters.
        year: calendar year (sets the mortality and transplant trend factors).
        mortality_scale, transplant_scale: override the calibrated scales (for fitting).

    Raises:
        ParameterError: an entry outside [0, 1] or a row whose outflows sum to more than 1,
            naming the age group, state, year and value.
    """
    m_scale = params.mortality.scale.value if mortality_scale is None else mortality_scale
    t_scale = params.transplantation.scale.value if transplant_scale is None else transplant_scale
    m_factor = m_scale * params.mortality.trend.factor(year)
    t_factor = t_scale * params.transplantation.trend.factor(year)
    dial = _group_values(params, params.mortality.dialysis.values) * m_factor
    txm = _group_values(params, params.mortality.transplant.values) * m_factor
    tr = _group_values(params, params.transplantation.rate.values) * t_factor
    gf = _group_values(params, params.graft_failure.rate.values)
    to_hhd = _group_values(params, params.modality_switches.ichd_to_hhd.values)
    mratio = params.mortality.dialysis_modality_ratio
    tratio = params.transplantation.modality_ratio
    sw = params.modality_switches
    rec = params.recovery.value
    s_pd = params.graft_failure.to_pd_share.value

    G = len(params.groups)
    T = np.zeros((G, _NM, len(OUTCOMES)))
    T[:, _ICHD, _HHD] = to_hhd
    T[:, _ICHD, _PD] = sw.ichd_to_pd.value
    T[:, _ICHD, _TX] = tr * tratio.ichd
    T[:, _ICHD, _DEATH] = dial * mratio.ichd
    T[:, _ICHD, _RECOVERED] = rec
    T[:, _HHD, _ICHD] = sw.hhd_to_ichd.value
    T[:, _HHD, _TX] = tr * tratio.hhd
    T[:, _HHD, _DEATH] = dial * mratio.hhd
    T[:, _HHD, _RECOVERED] = rec
    T[:, _PD, _ICHD] = sw.pd_to_ichd.value
    T[:, _PD, _TX] = tr * tratio.pd
    T[:, _PD, _DEATH] = dial * mratio.pd
    T[:, _PD, _RECOVERED] = rec
    T[:, _TX, _ICHD] = gf * (1.0 - s_pd)
    T[:, _TX, _PD] = gf * s_pd
    T[:, _TX, _DEATH] = txm

    for g, group in enumerate(params.groups):
        for m, state in enumerate(MODALITIES):
            row = T[g, m].copy()
            row[m] = 0.0
            bad = np.flatnonzero((row < 0) | (row > 1))
            if bad.size:
                raise ParameterError(
                    f"transition probability {state} -> {OUTCOMES[bad[0]]} in {year} is outside [0, 1]",
                    source=params.source_file,
                    field=f"transitions[{group}].{state}.{OUTCOMES[bad[0]]}",
                    value=float(row[bad[0]]),
                    hint="Lower the rate or the calibrated scale",
                )
            out = float(row.sum())
            if out > 1.0 + 1e-12:
                raise ParameterError(
                    f"outflows from {state} in age group {group} in {year} sum to more than 1",
                    source=params.source_file,
                    field=f"transitions[{group}].{state}",
                    value=round(out, 6),
                    hint="Death, transplant, switch and recovery probabilities of a state must sum to <= 1",
                )
            T[g, m, m] = 1.0 - out
    return T


def _interp_year(years: Sequence[int], values: np.ndarray, year: int) -> np.ndarray:
    """Linear interpolation over years (rows of ``values``), constant outside the range."""
    ys = np.asarray(years, dtype=float)
    if year <= ys[0]:
        return values[0]
    if year >= ys[-1]:
        return values[-1]
    i = int(np.searchsorted(ys, year, side="right")) - 1
    w = (year - ys[i]) / (ys[i + 1] - ys[i])
    return (1 - w) * values[i] + w * values[i + 1]


def _reference_incident_group_share(params: RRTParameters) -> np.ndarray:
    """Share of incident patients in each age group on the reference population."""
    pop = params.calibration.reference_population.array()[:, _FIRST_ADULT:]
    pop = pop * _adult_factor(params)[None, :]
    inc = _incidence_per_person(params) * pop
    by_band = inc.sum(axis=0)
    share = np.bincount(_band_group_index(params), weights=by_band, minlength=len(params.groups))
    return share / share.sum()


def _entry_by_group(params: RRTParameters, year: int) -> np.ndarray:
    """90-day outcome shares ``(age group, [ichd, hhd, pd, tx, early_exit])`` for ``year``."""
    entries = params.entry.by_year
    overall = _interp_year([e.year for e in entries], np.array([e.shares() for e in entries]), year)
    _, pd_, tx, ee = overall
    pi = _reference_incident_group_share(params)
    w = params.entry.age_weights
    out = np.zeros((len(params.groups), 5))
    for col, share, weights in ((2, pd_, w.pd), (3, tx, w.tx), (4, ee, w.early_exit)):
        wv = _group_values(params, weights)
        norm = float((pi * wv).sum())
        if norm <= 0 and share > 0:
            raise ParameterError(
                "age weights are all zero for an outcome with a positive share",
                source=params.source_file,
                field="entry.age_weights",
                value=share,
            )
        out[:, col] = share * wv / norm if norm > 0 else 0.0
    hd_g = 1.0 - out[:, 2:].sum(axis=1)
    if np.any(hd_g < -1e-12):
        g = int(np.argmin(hd_g))
        raise ParameterError(
            f"90-day shares for age group {params.groups[g]} in {year} leave a negative HD share",
            source=params.source_file,
            field=f"entry.age_weights[{params.groups[g]}]",
            value=round(float(hd_g[g]), 6),
            hint="Reduce the age weights of that group",
        )
    hd_g = np.clip(hd_g, 0.0, 1.0)
    home = params.entry.home_hd_share_of_hd.value
    out[:, 0] = hd_g * (1.0 - home)
    out[:, 1] = hd_g * home
    return out


def entry_split(params: RRTParameters, year: int) -> pd.DataFrame:
    """90-day outcome shares of patients starting RRT in ``year`` by age group (tidy table)."""
    arr = _entry_by_group(params, year)
    cols = [*MODALITIES, "early_exit"]
    df = pd.DataFrame(arr, columns=cols)
    df.insert(0, "age_group", list(params.groups))
    return df


def _adult_factor(params: RRTParameters) -> np.ndarray:
    f = np.ones(_NB)
    f[0] = params.adult_share_of_15_19.value
    return f


def _ageing_fraction(params: RRTParameters) -> np.ndarray:
    """Share of each adult band moving up a band in a year."""
    up = np.full(_NB, 1.0 / 5.0)
    share = params.adult_share_of_15_19.value
    # the adult part of 15-19 holds share*5 single years (2 when share = 0.4)
    up[0] = min(1.0, 1.0 / max(share * 5.0, 1e-9))
    up[-1] = 0.0
    return up


def _incidence_per_person(params: RRTParameters) -> np.ndarray:
    """Incidence per person-year ``(sex, adult band)``."""
    r = params.incidence.rate_pmp
    return np.array([[r[s][b] for b in ADULT_BANDS] for s in SEXES], dtype=float) / 1e6


@dataclass(frozen=True)
class _YearArrays:
    T: np.ndarray  # (band, from, outcome) full-year transitions
    Th: np.ndarray  # (band, from, outcome) incident-year transitions
    E: np.ndarray  # (band, 5) 90-day split
    plans: list[list[Any]]  # sampling plans for the stock (band, from)
    entry_plans: list[Any]  # sampling plans for starters (band)


def _year_arrays(
    params: RRTParameters,
    year: int,
    mortality_scale: float | None = None,
    transplant_scale: float | None = None,
) -> _YearArrays:
    bg = _band_group_index(params)
    T = transition_matrices(
        params, year, mortality_scale=mortality_scale, transplant_scale=transplant_scale
    )
    Th = T * params.incident_exposure.value
    idx = np.arange(_NM)
    Th[:, idx, idx] = 0.0
    Th[:, idx, idx] = 1.0 - Th.sum(axis=2)
    E = _entry_by_group(params, year)[bg]
    T, Th = T[bg], Th[bg]
    return _YearArrays(T=T, Th=Th, E=E, plans=_transition_plans(T), entry_plans=_entrant_plans(E, Th))


# --------------------------------------------------------------------------------------------
# Input tables
# --------------------------------------------------------------------------------------------


def _require_columns(df: Any, columns: Sequence[str], source: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError("expected a pandas DataFrame", source=source, value=type(df).__name__)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"missing column(s) {missing}",
            source=source,
            field=missing[0],
            hint=f"Expected columns {list(columns)}",
        )


def _coerce_keys(df: pd.DataFrame, source: str) -> tuple[pd.Series, pd.Series]:
    sex = as_sex(df["sex"])
    if sex.isna().any():
        raise DataError(
            "unknown sex label", source=source, field="sex", value=df.loc[sex.isna(), "sex"].iloc[0]
        )
    band = as_band(df["age_band"])
    if band.isna().any():
        raise DataError(
            "unknown age band",
            source=source,
            field="age_band",
            value=df.loc[band.isna(), "age_band"].iloc[0],
            hint=f"Use the ESP2013 bands {AGE_BANDS}",
        )
    return sex, band


def _check_counts(values: pd.Series, source: str, field: str) -> np.ndarray:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(v)
    if bad.any():
        raise DataError(
            "missing or non-numeric count", source=source, field=field, value=values[bad].iloc[0]
        )
    if (v < 0).any():
        raise DataError(
            "negative count", source=source, field=field, value=float(v[v < 0][0]),
            hint="Counts of people cannot be negative",
        )
    return v


def _population_array(
    population: pd.DataFrame,
    years: Sequence[int],
    *,
    source: str = "population_by_year",
    all_bands: bool = False,
) -> tuple[tuple[str, ...], np.ndarray]:
    """Population as ``(year, area, sex, 19 bands)``; adult bands (or all) must be complete."""
    _require_columns(population, ["area_code", "sex", "age_band", "year", "population"], source)
    sex, band = _coerce_keys(population, source)
    pop = _check_counts(population["population"], source, "population")
    year = pd.to_numeric(population["year"], errors="coerce")
    if year.isna().any():
        raise DataError("non-numeric year", source=source, field="year",
                        value=population.loc[year.isna(), "year"].iloc[0])
    year = year.astype(int).to_numpy()
    wanted = np.array(list(years), dtype=int)
    have = set(np.unique(year).tolist())
    missing = [int(y) for y in wanted if int(y) not in have]
    if missing:
        raise DataError(
            f"no population for year {missing[0]}",
            source=source,
            field="year",
            value=missing[0],
            hint=f"The table has years {sorted(have)}",
        )
    keep = np.isin(year, wanted)
    area_codes, area_idx = np.unique(population["area_code"].astype(str).to_numpy()[keep],
                                     return_inverse=True)
    y_idx = np.searchsorted(wanted, year[keep]) if np.all(np.diff(wanted) > 0) else np.array(
        [list(wanted).index(y) for y in year[keep]]
    )
    s_idx = sex.cat.codes.to_numpy()[keep]
    b_idx = band.cat.codes.to_numpy()[keep]
    arr = np.full((len(wanted), len(area_codes), 2, len(AGE_BANDS)), np.nan)
    flat = np.ravel_multi_index((y_idx, area_idx, s_idx, b_idx), arr.shape)
    if len(np.unique(flat)) != len(flat):
        raise DataError(
            "duplicate rows for the same area, year, sex and age band",
            source=source,
            field="area_code",
            hint="Aggregate the table first",
        )
    arr.flat[flat] = pop[keep]
    check = arr if all_bands else arr[..., _FIRST_ADULT:]
    if np.isnan(check).any():
        y, a, s, b = np.argwhere(np.isnan(check))[0]
        b = b if all_bands else b + _FIRST_ADULT
        raise DataError(
            f"no population for {area_codes[a]}, {SEXES[s]}, {AGE_BANDS[b]} in {wanted[y]}",
            source=source,
            field="age_band",
            value=AGE_BANDS[b],
            hint="Every area needs every sex and age band" + ("" if all_bands else " from 15-19 up"),
        )
    return tuple(str(a) for a in area_codes), np.nan_to_num(arr)


def _start_array(
    start: pd.DataFrame, areas: Sequence[str], source: str = "start_prevalent"
) -> np.ndarray:
    """Starting stock as ``(area, sex, adult band, modality)``."""
    _require_columns(start, ["area_code", "sex", "age_band", "modality", "patients"], source)
    sex, band = _coerce_keys(start, source)
    mod = start["modality"].astype(str).str.strip().str.lower()
    unknown = ~mod.isin(MODALITIES)
    if unknown.any():
        raise DataError(
            "unknown modality",
            source=source,
            field="modality",
            value=start.loc[unknown, "modality"].iloc[0],
            hint=f"Use one of {list(MODALITIES)}",
        )
    patients = _check_counts(start["patients"], source, "patients")
    codes = band.cat.codes.to_numpy()
    child = (codes < _FIRST_ADULT) & (patients > 0)
    if child.any():
        raise DataError(
            "patients in a child age band; the model covers adults (18+, in bands 15-19 and up)",
            source=source,
            field="age_band",
            value=str(band[child].iloc[0]),
        )
    area = start["area_code"].astype(str).to_numpy()
    lookup = {a: i for i, a in enumerate(areas)}
    stray = [a for a in np.unique(area) if a not in lookup]
    if stray:
        raise DataError(
            "area not in the population table",
            source=source,
            field="area_code",
            value=stray[0],
        )
    absent = [a for a in areas if a not in set(area)]
    if absent:
        raise DataError(
            "area in the population table has no starting stock",
            source=source,
            field="area_code",
            value=absent[0],
            hint="Give a starting stock (zeros allowed) for every area, e.g. from initial_prevalent()",
        )
    adult = codes >= _FIRST_ADULT
    arr = np.zeros((len(areas), 2, _NB, _NM))
    a_idx = np.array([lookup[a] for a in area[adult]], dtype=np.int64)
    m_idx = np.array([MODALITIES.index(m) for m in mod.to_numpy()[adult]], dtype=np.int64)
    np.add.at(
        arr, (a_idx, sex.cat.codes.to_numpy()[adult], codes[adult] - _FIRST_ADULT, m_idx),
        patients[adult],
    )
    return arr


def _multipliers(incidence_multiplier: float | Mapping[int, float], years: Sequence[int]) -> np.ndarray:
    if isinstance(incidence_multiplier, Mapping):
        missing = [y for y in years if y not in incidence_multiplier]
        if missing:
            raise ParameterError(
                f"incidence_multiplier has no value for {missing[0]}",
                field="incidence_multiplier",
                value=missing[0],
                hint="Give a value for every simulated year, or one number",
            )
        out = np.array([float(incidence_multiplier[y]) for y in years])
    else:
        out = np.full(len(years), float(incidence_multiplier))
    if not np.all(np.isfinite(out)) or (out < 0).any():
        raise ParameterError(
            "incidence_multiplier must be a non-negative number",
            field="incidence_multiplier",
            value=float(out[~np.isfinite(out) | (out < 0)][0]),
        )
    return out


# --------------------------------------------------------------------------------------------
# Simulation core. Internal layout: stock (band, state, cell), cell = (draw, area, sex) flattened.
# --------------------------------------------------------------------------------------------


def _step_expected(
    X: np.ndarray, ya: _YearArrays, lam: np.ndarray, up: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One expected-value year. X (band, state, cell); lam (band, cell). Returns stock, flows."""
    moved = X[:, :, None, :] * ya.T[:, :, :, None]  # (B, from, outcome, N)
    new = moved[:, :, :_NM, :].sum(axis=1)
    flows = np.zeros((len(FLOWS), *lam.shape))
    flows[2] = moved[:, :, _DEATH, :].sum(axis=1)
    flows[3] = moved[:, :, _RECOVERED, :].sum(axis=1)
    flows[4] = moved[:, :_TX, _TX, :].sum(axis=1)
    flows[5] = moved[:, _TX, _ICHD, :] + moved[:, _TX, _PD, :]
    ups = new * up[:, None, None]
    new -= ups
    new[1:] += ups[:-1]
    entrants = lam[:, None, :] * ya.E[:, :, None]  # (B, 5, N)
    flows[0] = lam
    flows[1] = entrants[:, 4]
    flows[6] = entrants[:, _TX]
    moved_e = entrants[:, :_NM, None, :] * ya.Th[:, :, :, None]
    new += moved_e[:, :, :_NM, :].sum(axis=1)
    flows[2] += moved_e[:, :, _DEATH, :].sum(axis=1)
    flows[3] += moved_e[:, :, _RECOVERED, :].sum(axis=1)
    flows[4] += moved_e[:, :_TX, _TX, :].sum(axis=1)
    flows[5] += moved_e[:, _TX, _ICHD, :] + moved_e[:, _TX, _PD, :]
    return new, flows


# Sampling plans: for one multinomial draw, the categories with positive probability (largest
# first, so numpy's sequential binomials stop early), their probabilities, and where each
# category's count goes: a list of (0, state) for the stock and (1, flow index) for flows.
_Plan = tuple[np.ndarray, np.ndarray, list[list[tuple[int, int]]]]
_F = {name: i for i, name in enumerate(FLOWS)}


def _targets(from_state: int, outcome: int) -> list[tuple[int, int]]:
    if outcome == _DEATH:
        return [(1, _F["death"])]
    if outcome == _RECOVERED:
        return [(1, _F["recovered"])]
    out = [(0, outcome)]
    if from_state != _TX and outcome == _TX:
        out.append((1, _F["transplant"]))
    if from_state == _TX and outcome in (_ICHD, _PD):
        out.append((1, _F["graft_failure"]))
    return out


def _make_plan(probs: list[float], targets: list[list[tuple[int, int]]]) -> _Plan:
    p = np.clip(np.asarray(probs, dtype=float), 0.0, None)
    nz = np.flatnonzero(p > 0)
    order = nz[np.argsort(-p[nz], kind="stable")]
    q = p[order] / p[order].sum()
    return order, q, [targets[i] for i in order]


def _transition_plans(T: np.ndarray) -> list[list[_Plan]]:
    """Plans for the stock, per band and from-state."""
    return [
        [_make_plan(list(T[b, m]), [_targets(m, j) for j in range(len(OUTCOMES))]) for m in range(_NM)]
        for b in range(T.shape[0])
    ]


def _entrant_plans(E: np.ndarray, Th: np.ndarray) -> list[_Plan]:
    """Plans for patients starting RRT, per band: the 90-day outcome composed with half a year
    of transitions (categories: early exit, then each (90-day state, outcome) pair).
    """
    plans = []
    for b in range(E.shape[0]):
        probs = [E[b, 4]]
        targets = [[(1, _F["early_exit"])]]
        for e in range(_NM):
            for j in range(len(OUTCOMES)):
                probs.append(E[b, e] * Th[b, e, j])
                t = _targets(e, j)
                if e == _TX:
                    t = [*t, (1, _F["early_transplant"])]
                targets.append(t)
        plans.append(_make_plan(probs, targets))
    return plans


def _scatter(
    rng: np.random.Generator,
    n: np.ndarray,
    plan: _Plan,
    b: int,
    new: np.ndarray,
    flows: np.ndarray,
) -> None:
    """Draw multinomial counts for cells ``n`` (band ``b``) and add them to stock and flows."""
    nz = np.flatnonzero(n)
    if nz.size == 0:
        return
    _, q, targets = plan
    res = rng.multinomial(n[nz], q)
    for col, tlist in enumerate(targets):
        c = res[:, col]
        for kind, idx in tlist:
            view = new[b, idx] if kind == 0 else flows[idx, b]
            view[nz] += c


def _step_random(
    rng: np.random.Generator,
    X: np.ndarray,
    ya: _YearArrays,
    lam: np.ndarray,
    up: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One Monte Carlo year: multinomial transitions, binomial ageing, Poisson incidence."""
    B, M, N = X.shape
    new = np.zeros_like(X)
    flows = np.zeros((len(FLOWS), B, N), dtype=np.int64)
    for b in range(B):
        for m in range(M):
            _scatter(rng, X[b, m], ya.plans[b][m], b, new, flows)
    for b in range(B - 2, -1, -1):  # oldest first, so nobody moves up twice
        if up[b] <= 0:
            continue
        cells = new[b].reshape(-1)
        nz = np.flatnonzero(cells)
        if nz.size:
            moved = rng.binomial(cells[nz], up[b])
            cells[nz] -= moved
            new[b + 1].reshape(-1)[nz] += moved
    inc = rng.poisson(lam)
    flows[_F["incident"]] = inc
    for b in range(B):
        _scatter(rng, inc[b], ya.entry_plans[b], b, new, flows)
    return new, flows


@dataclass(frozen=True)
class RRTSimulation:
    """Result of :func:`simulate_rrt_arrays`.

    Attributes:
        stock: patients on 31 December, dims ``stock_dims``: ([draw,] year, area, [sex,]
            [age_band,] [modality]); the first year is the starting stock.
        flows: patients moving during each simulated year, dims ``flow_dims``: ([draw,] year,
            area, [sex,] [age_band,] flow) with flows :data:`FLOWS`.
        years: years of ``stock`` (start year, then the simulated years); ``flows`` cover
            ``years[1:]``.
        areas: area codes.
        keep: detail dimensions kept (subset of sex, age_band, modality).
        draws: number of Monte Carlo draws (0 = expected values, no draw axis).
        seed_entropy: the root SeedSequence entropy (reuse it to repeat a run), or None.
    """

    stock: np.ndarray
    flows: np.ndarray
    years: tuple[int, ...]
    areas: tuple[str, ...]
    keep: tuple[str, ...]
    draws: int
    seed_entropy: int | None = None

    @property
    def stock_dims(self) -> tuple[str, ...]:
        lead = ("draw",) if self.draws else ()
        return (*lead, "year", "area_code", *[k for k in _KEEPABLE if k in self.keep])

    @property
    def flow_dims(self) -> tuple[str, ...]:
        lead = ("draw",) if self.draws else ()
        detail = [k for k in ("sex", "age_band") if k in self.keep]
        return (*lead, "year", "area_code", *detail, "flow")

    def _labels(self, dim: str, flows: bool) -> tuple[list[Any], Any]:
        if dim == "draw":
            return list(range(self.draws)), None
        if dim == "year":
            return list(self.years[1:] if flows else self.years), None
        if dim == "area_code":
            return list(self.areas), None
        if dim == "sex":
            return list(SEXES), SEX_DTYPE
        if dim == "age_band":
            return list(ADULT_BANDS), AGE_BAND_DTYPE
        if dim == "modality":
            return list(MODALITIES), MODALITY_DTYPE
        return list(FLOWS), FLOW_DTYPE

    def _frame(self, arr: np.ndarray, dims: tuple[str, ...], value: str, flows: bool) -> pd.DataFrame:
        order = ["area_code", "year", "draw", "sex", "age_band", "modality", "flow"]
        order = [d for d in order if d in dims]
        arr = np.transpose(arr, [dims.index(d) for d in order])
        shape = arr.shape
        total = int(np.prod(shape))
        cols: dict[str, Any] = {}
        for axis, dim in enumerate(order):
            labels, dtype = self._labels(dim, flows)
            inner = int(np.prod(shape[axis + 1:]))
            outer = int(np.prod(shape[:axis]))
            codes = np.tile(np.repeat(np.arange(shape[axis]), inner), outer)
            if dim == "age_band":
                cols[dim] = pd.Categorical.from_codes(codes + _FIRST_ADULT, dtype=dtype)
            elif dtype is not None:
                cols[dim] = pd.Categorical.from_codes(codes, dtype=dtype)
            else:
                cols[dim] = np.asarray(labels)[codes] if total else np.asarray(labels)[:0]
        cols[value] = arr.reshape(-1)
        return pd.DataFrame(cols)

    def stock_frame(self) -> pd.DataFrame:
        """Tidy stock: ``area_code, year, [draw,] [sex, age_band, modality,] patients``."""
        return self._frame(self.stock, self.stock_dims, "patients", flows=False)

    def flows_frame(self) -> pd.DataFrame:
        """Tidy flows: ``area_code, year, [draw,] [sex, age_band,] flow, patients``."""
        return self._frame(self.flows, self.flow_dims, "patients", flows=True)


def _reduce(
    arr: np.ndarray, keep: tuple[str, ...], n_areas: int, n_sex: int, with_modality: bool
) -> np.ndarray:
    """(T, B, [M or F], D*A*S) -> (D, T, A, [S], [B], [M or F])."""
    T, B, K, N = arr.shape
    D = N // (n_areas * n_sex)
    a = arr.reshape(T, B, K, D, n_areas, n_sex)
    a = np.transpose(a, (3, 0, 4, 5, 1, 2))  # D, T, A, S, B, K
    axes = []
    if "sex" not in keep:
        axes.append(3)
    if "age_band" not in keep:
        axes.append(4)
    if with_modality and "modality" not in keep:
        axes.append(5)
    return a.sum(axis=tuple(axes)) if axes else a


def _run_chunk(
    start: np.ndarray,  # (B, M, N0) float (N0 = A*S)
    lam: np.ndarray,  # (Y, B, N0)
    arrays: list[_YearArrays],
    up: np.ndarray,
    draws: int,
    seed: np.random.SeedSequence | None,
    keep: tuple[str, ...],
    n_areas: int,
    n_sex: int,
) -> tuple[np.ndarray, np.ndarray]:
    Y = len(arrays)
    if seed is None:
        X = start.copy()
        stock = np.empty((Y + 1, *X.shape))
        flows = np.empty((Y, len(FLOWS), X.shape[0], X.shape[2]))
        stock[0] = X
        for t in range(Y):
            X, f = _step_expected(X, arrays[t], lam[t], up)
            stock[t + 1] = X
            flows[t] = f
    else:
        rng = np.random.default_rng(seed)
        tiled = np.tile(start, (1, 1, draws))
        if np.all(np.abs(tiled - np.round(tiled)) < 1e-9):  # integer stock: use as given
            X = np.round(tiled).astype(np.int64)
        else:
            X = rng.poisson(tiled)
        stock = np.empty((Y + 1, *X.shape), dtype=np.int64)
        flows = np.empty((Y, len(FLOWS), X.shape[0], X.shape[2]), dtype=np.int64)
        stock[0] = X
        for t in range(Y):
            X, f = _step_random(rng, X, arrays[t], np.tile(lam[t], (1, draws)), up)
            stock[t + 1] = X
            flows[t] = f
    s = _reduce(stock, keep, n_areas, n_sex, with_modality=True)
    f = _reduce(np.transpose(flows, (0, 2, 1, 3)), keep, n_areas, n_sex, with_modality=False)
    if seed is not None:  # counts: int32 halves the memory of large runs
        s, f = s.astype(np.int32), f.astype(np.int32)
    return s, f


def simulate_rrt_arrays(
    params: RRTParameters,
    population_by_year: pd.DataFrame,
    start_prevalent: pd.DataFrame,
    years: Iterable[int],
    draws: int = 0,
    seed: int | Sequence[int] | np.random.SeedSequence | None = None,
    *,
    keep: Sequence[str] = _KEEPABLE,
    incidence_multiplier: float | Mapping[int, float] = 1.0,
    workers: int | None = None,
    _mortality_scale: float | None = None,
    _transplant_scale: float | None = None,
) -> RRTSimulation:
    """Run the RRT model and return arrays (see :func:`simulate_rrt` for the arguments).

    ``keep`` chooses the detail kept in the result (any of ``sex``, ``age_band``,
    ``modality``); the others are summed, which keeps large Monte Carlo runs small.
    ``workers`` threads share the draws (default: up to the number of CPUs); results do not
    depend on it, because every block of draws has its own child SeedSequence.
    """
    years = [int(y) for y in years]
    if not years:
        raise ParameterError("no years to simulate", field="years", value=years)
    if any(b - a != 1 for a, b in zip(years, years[1:], strict=False)):
        raise ParameterError(
            "years must be consecutive and increasing", field="years", value=years
        )
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 0:
        raise ParameterError("draws must be a whole number >= 0", field="draws", value=draws)
    keep = tuple(keep)
    odd = [k for k in keep if k not in _KEEPABLE]
    if odd:
        raise ParameterError(
            f"cannot keep {odd[0]!r}", field="keep", value=odd[0], hint=f"Choose from {_KEEPABLE}"
        )
    mult = _multipliers(incidence_multiplier, years)
    areas, pop = _population_array(population_by_year, years)
    start = _start_array(start_prevalent, areas)
    if "year" in start_prevalent.columns:
        start_years = set(pd.to_numeric(start_prevalent["year"], errors="coerce").dropna().astype(int))
        if start_years and start_years != {years[0] - 1}:
            raise DataError(
                f"the starting stock must be for 31 December {years[0] - 1}, the year before the first simulated year",
                source="start_prevalent",
                field="year",
                value=sorted(start_years)[0],
            )
    A = len(areas)
    arrays = [
        _year_arrays(params, y, _mortality_scale, _transplant_scale) for y in years
    ]
    up = _ageing_fraction(params)
    rate = _incidence_per_person(params)  # (S, B)
    adult = pop[..., _FIRST_ADULT:] * _adult_factor(params)  # (Y, A, S, B)
    lam = adult * rate[None, None] * mult[:, None, None, None]
    # Transitions do not depend on sex: when sex is not kept, run men and women together
    # (exact: sums of independent Poisson / multinomial counts with equal probabilities).
    n_sex = 2 if "sex" in keep else 1
    if n_sex == 1:
        lam = lam.sum(axis=2, keepdims=True)
        start = start.sum(axis=1, keepdims=True)
    lam = np.transpose(lam, (0, 3, 1, 2)).reshape(len(years), _NB, A * n_sex)
    start_l = np.transpose(start, (2, 3, 0, 1)).reshape(_NB, _NM, A * n_sex)
    all_years = (years[0] - 1, *years)

    if draws == 0:
        s, f = _run_chunk(start_l, lam, arrays, up, 0, None, keep, A, n_sex)
        return RRTSimulation(s[0], f[0], all_years, areas, keep, 0, None)

    # Fixed blocks of _CHUNK draws, each seeded by (root, block) only (hna.uncertainty), so
    # results do not depend on the number of worker threads. seed=None draws fresh entropy.
    if seed is None or (isinstance(seed, Sequence) and not isinstance(seed, str)):
        root = np.random.SeedSequence(seed)
    else:
        root = seed_sequence(seed)
    blocks = list(draw_blocks(root, draws, block_size=_CHUNK))
    sizes = [b.n_generate for b in blocks]
    children = [b.seed() for b in blocks]
    n_workers = workers if workers is not None else min(len(sizes), os.cpu_count() or 1, 8)
    if n_workers < 1:
        raise ParameterError("workers must be >= 1", field="workers", value=workers)

    def task(i: int) -> tuple[np.ndarray, np.ndarray]:
        return _run_chunk(start_l, lam, arrays, up, sizes[i], children[i], keep, A, n_sex)

    if n_workers == 1 or len(sizes) == 1:
        parts = [task(i) for i in range(len(sizes))]
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            parts = list(pool.map(task, range(len(sizes))))
    stock = np.concatenate([p[0] for p in parts], axis=0)
    flows = np.concatenate([p[1] for p in parts], axis=0)
    entropy = root.entropy if isinstance(root.entropy, int) else None
    return RRTSimulation(stock, flows, all_years, areas, keep, draws, entropy)


def simulate_rrt(
    params: RRTParameters,
    population_by_year: pd.DataFrame,
    start_prevalent: pd.DataFrame,
    years: Iterable[int],
    draws: int = 0,
    seed: int | Sequence[int] | np.random.SeedSequence | None = None,
    *,
    keep: Sequence[str] = _KEEPABLE,
    incidence_multiplier: float | Mapping[int, float] = 1.0,
    return_flows: bool = False,
    workers: int | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Project adults on RRT by area, year, sex, age band and modality.

    Args:
        params: from :func:`load_rrt_parameters`.
        population_by_year: population table ``area_code, sex, age_band, year, population``
            covering every simulated year and every band from ``15-19`` up.
        start_prevalent: stock on 31 December of the year before ``years[0]``:
            ``area_code, sex, age_band, modality, patients`` (optionally ``year``), e.g. from
            :func:`initial_prevalent`. Non-integer stocks are Poisson-sampled when ``draws > 0``.
        years: consecutive years to simulate.
        draws: 0 for the expected-value run; N for N Monte Carlo draws (Poisson incidence,
            multinomial transitions and 90-day outcomes, binomial ageing).
        seed: seed (int, sequence or SeedSequence) for the draws; None draws fresh entropy,
            recorded in ``DataFrame.attrs['seed_entropy']``.
        keep: detail dimensions to keep (default all of sex, age_band, modality).
        incidence_multiplier: multiplies the incidence rates (one number, or one per year).
        return_flows: also return the flows table.
        workers: threads for the draws.

    Returns:
        Tidy table ``area_code, year, [draw,] sex, age_band, modality, patients`` with the
        starting stock as the first year; with ``return_flows`` also the flows table
        ``area_code, year, [draw,] sex, age_band, flow, patients``.

    Raises:
        DataError: bad population or starting stock (negative, unknown modality, gaps).
        ParameterError: bad arguments or parameters.
    """
    sim = simulate_rrt_arrays(
        params,
        population_by_year,
        start_prevalent,
        years,
        draws,
        seed,
        keep=keep,
        incidence_multiplier=incidence_multiplier,
        workers=workers,
    )
    stock = sim.stock_frame()
    stock.attrs["seed_entropy"] = sim.seed_entropy
    if not return_flows:
        return stock
    flows = sim.flows_frame()
    flows.attrs["seed_entropy"] = sim.seed_entropy
    return stock, flows


# --------------------------------------------------------------------------------------------
# Starting stock
# --------------------------------------------------------------------------------------------


def initial_prevalent(
    params: RRTParameters,
    population: pd.DataFrame,
    year: int,
    *,
    rate_pmp: float | None = None,
    modality_mix: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Expected adults on RRT on 31 December of ``year``, to seed :func:`simulate_rrt`.

    Each area's total is ``rate_pmp`` per million of its whole population (all ages, the UKRR
    denominator); the split by modality is ``modality_mix``; within each modality the age-sex
    distribution is that of a burn-in run of the model (``initial_prevalence.burn_in_years``
    years with incidence growing by ``burn_in_incidence_growth`` a year up to ``year``, on the
    area's ``year`` population).

    Args:
        params: model parameters.
        population: population table with ``year`` rows for all 19 bands.
        year: stock date (31 December).
        rate_pmp, modality_mix: override the published point for ``year`` in
            ``initial_prevalence.points`` (required when there is none).

    Returns:
        ``area_code, year, sex, age_band, modality, patients`` (expected values).
    """
    point = next((p for p in params.initial_prevalence.points if p.year == year), None)
    if point is None and (rate_pmp is None or modality_mix is None):
        have = [p.year for p in params.initial_prevalence.points]
        raise ParameterError(
            f"no published prevalence for {year}",
            source=params.source_file,
            field="initial_prevalence.points",
            value=year,
            hint=f"Pass rate_pmp and modality_mix, or use one of the years {have}",
        )
    rate = float(point.rate_pmp if rate_pmp is None else rate_pmp)
    if not math.isfinite(rate) or rate < 0:
        raise ParameterError("rate_pmp must be a number >= 0", field="rate_pmp", value=rate_pmp)
    if modality_mix is None:
        mix = point.modality_mix.shares()
    else:
        unknown = [k for k in modality_mix if k not in MODALITIES]
        if unknown:
            raise ParameterError(
                "unknown modality", field="modality_mix", value=unknown[0],
                hint=f"Use {list(MODALITIES)}",
            )
        mix = np.array([float(modality_mix.get(m, 0.0)) for m in MODALITIES])
        if (mix < 0).any() or (mix > 1).any() or abs(mix.sum() - 1.0) > 0.005:
            raise ParameterError(
                "modality shares must be in [0, 1] and sum to 1",
                field="modality_mix",
                value=dict(modality_mix),
            )
        mix = mix / mix.sum()

    areas, pop = _population_array(population, [year], source="population", all_bands=True)
    pop = pop[0]  # (A, S, 19)
    A = len(areas)
    total = pop.sum(axis=(1, 2))  # all ages
    ya = _year_arrays(params, year)
    up = _ageing_fraction(params)
    lam0 = (pop[..., _FIRST_ADULT:] * _adult_factor(params) * _incidence_per_person(params)[None])
    lam0 = np.transpose(lam0, (2, 0, 1)).reshape(_NB, A * 2)
    K = params.initial_prevalence.burn_in_years
    g = params.initial_prevalence.burn_in_incidence_growth
    X = np.zeros((_NB, _NM, A * 2))
    for k in range(1, K + 1):
        X, _ = _step_expected(X, ya, lam0 * (1.0 + g) ** (k - K), up)
    S = np.transpose(X.reshape(_NB, _NM, A, 2), (2, 3, 0, 1))  # (A, S, B, M)

    target = rate * total / 1e6  # (A,)
    medians = point.median_age.values() if (point is not None and point.median_age) else [None] * _NM
    out = np.zeros_like(S)
    for a in range(A):
        shape = S[a].copy()
        for m, med in enumerate(medians):
            if med is not None and shape[:, :, m].sum() > 0:
                shape[:, :, m] = _tilt_to_median(shape[:, :, m], med)
        by_mod = shape.sum(axis=(0, 1))
        overall = shape.sum(axis=2)
        for m in range(_NM):
            want = target[a] * mix[m]
            if want == 0:
                continue
            if by_mod[m] > 0:
                out[a, :, :, m] = shape[:, :, m] * want / by_mod[m]
            elif overall.sum() > 0:
                out[a, :, :, m] = overall * want / overall.sum()
    sim = RRTSimulation(out[None], np.zeros((0,)), (year,), areas, _KEEPABLE, 0)
    df = sim.stock_frame()
    return df[["area_code", "year", "sex", "age_band", "modality", "patients"]]


_BAND_LO = np.array([18.0] + [float(b) for b in range(20, 95, 5)])
_BAND_HI = np.array([20.0] + [float(b) for b in range(25, 95, 5)] + [100.0])


def _median_age(counts: np.ndarray) -> float:
    """Median age from counts per adult band (uniform within band; 90+ taken as 90-99)."""
    cum = np.cumsum(counts) / counts.sum()
    i = int(np.searchsorted(cum, 0.5))
    prev = cum[i - 1] if i else 0.0
    return float(_BAND_LO[i] + (0.5 - prev) / (cum[i] - prev) * (_BAND_HI[i] - _BAND_LO[i]))


def _tilt_to_median(counts: np.ndarray, median: float) -> np.ndarray:
    """Reweight ``counts`` (sex, band) by exp(theta * band midpoint) to reach ``median``."""
    mid = (_BAND_LO + _BAND_HI) / 2.0
    total = counts.sum()

    def tilted(theta: float) -> np.ndarray:
        w = np.exp(theta * (mid - 60.0))
        c = counts * w[None, :]
        return c * total / c.sum()

    lo, hi = -1.0, 1.0
    if not (_median_age(tilted(lo).sum(0)) <= median <= _median_age(tilted(hi).sum(0))):
        return counts
    for _ in range(60):
        mid_theta = (lo + hi) / 2.0
        if _median_age(tilted(mid_theta).sum(0)) < median:
            lo = mid_theta
        else:
            hi = mid_theta
    return tilted((lo + hi) / 2.0)


# --------------------------------------------------------------------------------------------
# Capacity
# --------------------------------------------------------------------------------------------


def patients_per_station(
    sessions_per_week: float = 3, shifts_per_day: float = 3, days_per_week: float = 6
) -> float:
    """Patients one haemodialysis station can serve: ``shifts_per_day * days_per_week / sessions_per_week``."""
    for name, v in (("sessions_per_week", sessions_per_week), ("shifts_per_day", shifts_per_day),
                    ("days_per_week", days_per_week)):
        if not (isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v) and v > 0):
            raise ParameterError(f"{name} must be a positive number", field=name, value=v)
    if days_per_week > 7:
        raise ParameterError("days_per_week cannot exceed 7", field="days_per_week", value=days_per_week)
    return shifts_per_day * days_per_week / sessions_per_week


def _as_counts(x: Any, name: str) -> tuple[np.ndarray, Any]:
    if isinstance(x, pd.Series):
        v = x.to_numpy(dtype=float)
    else:
        v = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        bad = v[~np.isfinite(v) | (v < 0)].flat[0]
        raise DataError("patient counts must be finite and >= 0", field=name, value=float(bad))
    return v, x


def _like(values: np.ndarray, original: Any) -> Any:
    if isinstance(original, pd.Series):
        return pd.Series(values, index=original.index, name=original.name)
    if np.ndim(original) == 0:
        return values.item()
    return values


def stations_needed(
    ichd_patients: Any,
    sessions_per_week: float = 3,
    shifts_per_day: float = 3,
    days_per_week: float = 6,
    *,
    utilisation: float = 1.0,
) -> Any:
    """Haemodialysis stations needed for in-centre patients (rounded up).

    A station runs ``shifts_per_day`` sessions a day on ``days_per_week`` days; each patient
    needs ``sessions_per_week`` sessions. The defaults (3 sessions a week, 3 shifts a day,
    6 days a week) give 6 patients per station, as in the East Midlands SCG annual report
    2008/09: 16 new stations "meaning that up to 96 additional patients can be treated".
    ``utilisation`` (0-1] allows for slots that cannot be filled.

    Args:
        ichd_patients: number(s) of in-centre HD patients (scalar, array or Series).

    Returns:
        Whole stations, same shape and type as ``ichd_patients``.
    """
    per = patients_per_station(sessions_per_week, shifts_per_day, days_per_week)
    if not (0 < utilisation <= 1):
        raise ParameterError("utilisation must be in (0, 1]", field="utilisation", value=utilisation)
    v, original = _as_counts(ichd_patients, "ichd_patients")
    # tolerance so 96 / 6 is 16, not 17, despite floating point
    stations = np.ceil(v / (per * utilisation) - 1e-9).clip(min=0)
    return _like(stations.astype(np.int64), original)


def sessions_per_week(ichd_patients: Any, sessions_per_patient: float = 3) -> Any:
    """Dialysis sessions a week: in-centre patients x sessions per patient per week."""
    if not (math.isfinite(sessions_per_patient) and sessions_per_patient > 0):
        raise ParameterError(
            "sessions_per_patient must be a positive number",
            field="sessions_per_patient",
            value=sessions_per_patient,
        )
    v, original = _as_counts(ichd_patients, "ichd_patients")
    return _like(v * sessions_per_patient, original)


def capacity_table(
    stock: pd.DataFrame,
    sessions_per_week: float = 3,
    shifts_per_day: float = 3,
    days_per_week: float = 6,
    *,
    utilisation: float = 1.0,
) -> pd.DataFrame:
    """In-centre HD patients, weekly sessions and stations by area and year (and draw).

    Args:
        stock: a :func:`simulate_rrt` table (must keep ``modality``).
    """
    _require_columns(stock, ["area_code", "year", "modality", "patients"], "stock")
    by = ["area_code", "year"] + (["draw"] if "draw" in stock.columns else [])
    ichd = stock[stock["modality"].astype(str) == "ichd"]
    out = ichd.groupby(by, observed=True, sort=True)["patients"].sum().reset_index()
    out = out.rename(columns={"patients": "ichd_patients"})
    per_patient = sessions_per_week
    out["sessions_per_week"] = out["ichd_patients"] * per_patient
    out["stations"] = stations_needed(
        out["ichd_patients"], sessions_per_week, shifts_per_day, days_per_week,
        utilisation=utilisation,
    )
    return out


# --------------------------------------------------------------------------------------------
# Calibration
# --------------------------------------------------------------------------------------------


def _population_total(params: RRTParameters, year: int) -> float:
    pts = sorted(params.calibration.population_totals, key=lambda p: p.year)
    ys = np.array([p.year for p in pts], dtype=float)
    vals = np.log([p.population for p in pts])
    return float(np.exp(_interp_year(ys, vals[:, None], year)[0]))


def calibration_population(params: RRTParameters, years: Iterable[int] | None = None) -> pd.DataFrame:
    """England proxy population for the calibration run.

    The ONS mid-2020 England age-sex structure (``calibration.reference_population``) scaled to
    each year's England total (``calibration.population_totals``, geometric interpolation).
    This is an approximation: the true 2000-2014 structure was younger.
    """
    cal = params.calibration
    if years is None:
        years = range(cal.start_year, cal.end_year + 1)
    ref = cal.reference_population.array()
    rows = []
    for y in years:
        scaled = ref * _population_total(params, y) / ref.sum()
        for s, sex in enumerate(SEXES):
            for b, band in enumerate(AGE_BANDS):
                rows.append((cal.area_code, sex, band, int(y), scaled[s, b]))
    df = pd.DataFrame(rows, columns=["area_code", "sex", "age_band", "year", "population"])
    df["sex"] = df["sex"].astype(SEX_DTYPE)
    df["age_band"] = df["age_band"].astype(AGE_BAND_DTYPE)
    return df


def _crude_series(params: RRTParameters, year: int) -> float:
    h = sorted(params.incidence_history, key=lambda c: c.year)
    return float(_interp_year([c.year for c in h], np.array([[c.rate_pmp] for c in h]), year)[0])


def _calibration_multipliers(params: RRTParameters, pop: pd.DataFrame, years: Sequence[int]) -> dict[int, float]:
    """Year multipliers making the model's crude incidence equal the published crude rate."""
    _, arr = _population_array(pop, years, source="calibration population", all_bands=True)
    rate = _incidence_per_person(params)
    out = {}
    for i, y in enumerate(years):
        p = arr[i].sum(axis=0)  # (S, 19)
        crude = (p[:, _FIRST_ADULT:] * _adult_factor(params) * rate).sum() / p.sum() * 1e6
        out[int(y)] = _crude_series(params, y) / crude
    return out


def calibration_run(
    params: RRTParameters | None = None,
    *,
    end_year: int | None = None,
    mortality_scale: float | None = None,
    transplant_scale: float | None = None,
) -> tuple[RRTSimulation, pd.DataFrame]:
    """Expected-value national run from the 2000 stock (523 pmp) with published incidence.

    The population is :func:`calibration_population`; incidence each year is scaled so the
    crude rate equals the published rate (``incidence_history``, interpolated; held at the
    last published value afterwards). Returns the simulation (all detail kept) and the
    population used.

    Args:
        end_year: last year (default ``calibration.end_year``).
        mortality_scale, transplant_scale: override the calibrated scales (for fitting).
    """
    params = params or load_rrt_parameters()
    cal = params.calibration
    last = cal.end_year if end_year is None else int(end_year)
    if last <= cal.start_year:
        raise ParameterError(
            f"end_year must be after {cal.start_year}", field="end_year", value=end_year
        )
    years = list(range(cal.start_year + 1, last + 1))
    pop = calibration_population(params, range(cal.start_year, last + 1))
    start = initial_prevalent(params, pop, cal.start_year)
    mult = _calibration_multipliers(params, pop, years)
    sim = simulate_rrt_arrays(
        params, pop, start, years, incidence_multiplier=mult,
        _mortality_scale=mortality_scale, _transplant_scale=transplant_scale,
    )
    return sim, pop


def _summaries(sim: RRTSimulation, pop: pd.DataFrame) -> dict[str, Any]:
    """Per-year national summaries of a calibration run."""
    _, parr = _population_array(pop, sim.years, source="calibration population", all_bands=True)
    stock = sim.stock[:, 0]  # (Y, S, B, M)
    total_pop = parr[:, 0].sum(axis=(1, 2))
    prev = stock.sum(axis=(1, 2, 3)) / total_pop * 1e6
    mix = stock.sum(axis=(1, 2)) / stock.sum(axis=(1, 2, 3))[:, None]
    band_pop = parr[:, 0, :, _FIRST_ADULT:]  # whole bands, as the UKRR reports them
    band_rate = stock.sum(axis=3) / band_pop * 1e6  # (Y, S, B)
    return {"years": sim.years, "prevalence_pmp": prev, "mix": mix, "band_rate": band_rate,
            "stock": stock, "flows": sim.flows[:, 0], "total_pop": total_pop}


def calibration_table(params: RRTParameters | None = None) -> pd.DataFrame:
    """Calibration targets against the model (the table in ``docs/calibration_dialysis.md``).

    Rows with ``asserted`` True are the calibration targets (the tests require them within
    ``tolerance``); the others are published figures shown for comparison only.

    Columns: ``measure, year, target, model, difference, tolerance, within_tolerance,
    asserted, source``. Rates are per million population; shares are percentages.
    """
    params = params or load_rrt_parameters()
    sim, pop = calibration_run(params)
    s = _summaries(sim, pop)
    yi = {y: i for i, y in enumerate(s["years"])}
    rows: list[dict[str, Any]] = []

    def add(measure: str, year: int, target: float, model: float, tol: float | None,
            relative: bool, asserted: bool, source: str) -> None:
        diff = (model / target - 1.0) * 100 if relative else model - target
        rows.append({
            "measure": measure, "year": year, "target": target, "model": round(model, 2),
            "difference": round(diff, 2),
            "tolerance": tol, "within_tolerance": None if tol is None else bool(abs(diff) <= tol),
            "asserted": asserted, "source": source,
        })

    ukrr16 = "UKRR 16th Annual Report (2013), ch. 2"
    for t in params.calibration.prevalence_targets:
        add("prevalence_pmp (difference in %)", t.year, t.rate_pmp,
            float(s["prevalence_pmp"][yi[t.year]]), t.tolerance * 100, True, True,
            f"UKRR {t.source.document}")
    for t in params.calibration.modality_targets:
        m = s["mix"][yi[t.year]] * 100
        for name, target, model in (("transplant", t.tx, m[_TX]), ("haemodialysis", t.hd, m[_ICHD] + m[_HHD]),
                                    ("peritoneal dialysis", t.pd, m[_PD])):
            add(f"share_{name}_% (difference in points)", t.year, target * 100, float(model),
                t.tolerance_points, False, True, f"UKRR {t.source.document}")
    # comparisons (not asserted)
    other = {2003: (632, "UKRR 7th Annual Report (2004), ch. 1 (minimum estimate)")}
    for year, (target, src) in other.items():
        if year in yi:
            add("prevalence_pmp (difference in %)", year, target,
                float(s["prevalence_pmp"][yi[year]]), None, True, False, src)
    if 2005 in yi:
        m = s["mix"][yi[2005]] * 100
        src = "UKRR 9th Annual Report (2006), ch. 4"
        add("share_transplant_% (difference in points)", 2005, 45.0, float(m[_TX]), None, False, False, src)
        add("share_peritoneal dialysis_% (difference in points)", 2005, 12.0, float(m[_PD]), None, False, False, src)
        add("share_home_hd_% (difference in points)", 2005, 1.2, float(m[_HHD]), None, False, False, src)
    if 2006 in yi:
        m = s["mix"][yi[2006]] * 100
        add("share_peritoneal dialysis_% (difference in points)", 2006, 11.0, float(m[_PD]), None,
            False, False, "UKRR 10th Annual Report (2007), ch. 4")
    if 2012 in yi:
        i = yi[2012]
        add("share_home_hd_% (difference in points)", 2012, 100 * 1080 / 54824,
            float(s["mix"][i][_HHD] * 100), None, False, False, ukrr16 + " (1,080 home HD patients)")
        br = s["band_rate"][i]
        b8084 = ADULT_BANDS.index("80-84")
        b7579 = ADULT_BANDS.index("75-79")
        add("prevalence_pmp men 80-84 (difference in %)", 2012, 2973, float(br[1, b8084]), None,
            True, False, ukrr16)
        add("prevalence_pmp women 75-79 (difference in %)", 2012, 1528, float(br[0, b7579]), None,
            True, False, ukrr16)
        lower = [18.0] + [float(x) for x in range(20, 95, 5)]
        add("peak prevalence band, men: lower age (difference in years)", 2012, 80.0,
            lower[int(np.argmax(br[1]))], None, False, False, ukrr16 + " (peak 80-84)")
        add("peak prevalence band, women: lower age (difference in years)", 2012, 75.0,
            lower[int(np.argmax(br[0]))], None, False, False, ukrr16 + " (peak 75-79)")
        stock = s["stock"][i].sum(axis=(0, 2))  # by band
        add("median age of prevalent patients (difference in years)", 2012, 58,
            _median_age(stock), None, False, False, ukrr16)
        over70 = stock[ADULT_BANDS.index("70-74"):].sum() / stock.sum() * 100
        add("share aged 70+ % (difference in points)", 2012, 24.9, float(over70), None, False,
            False, ukrr16 + " (aged > 70: 24.9%)")
        fl = s["flows"][i - 1]  # flows of 2012 (flows start at years[1])
        inc = fl[:, :, FLOWS.index("incident")].sum(axis=0)  # by band
        add("median age at start of RRT (difference in years)", 2012, 64.9, _median_age(inc),
            None, False, False, "UKRR 15th Annual Report (2012), ch. 1 (2011: 64.9)")
        tx = fl[:, :, FLOWS.index("transplant")].sum() + fl[:, :, FLOWS.index("early_transplant")].sum()
        add("adult kidney transplants pmp (difference in %)", 2012, 47.0,
            float(tx / s["total_pop"][i] * 1e6), None, True, False,
            "NHSBT Organ Donation and Transplantation Activity Report 2012/13: about 3,000 UK "
            "kidney transplants a year (~47 pmp), including children and re-transplants; approximate")
    return pd.DataFrame(rows)


def _calibration_errors(params: RRTParameters, x: np.ndarray) -> np.ndarray:
    sim, pop = calibration_run(params, mortality_scale=float(x[0]), transplant_scale=float(x[1]))
    s = _summaries(sim, pop)
    yi = {y: i for i, y in enumerate(s["years"])}
    res = [s["prevalence_pmp"][yi[t.year]] / t.rate_pmp - 1.0
           for t in params.calibration.prevalence_targets]
    for t in params.calibration.modality_targets:
        res.append(s["mix"][yi[t.year]][_TX] - t.tx)
    return np.array(res)


def fit_calibration(params: RRTParameters | None = None) -> dict[str, float]:
    """Refit the calibrated scales (``mortality.scale``, ``transplantation.scale``).

    Least squares on the relative prevalence errors (each ``calibration.prevalence_targets``
    year) and the transplant share of the ``modality_targets``. Returns the fitted values and
    the residuals; copy the values into the YAML when parameters change.
    """
    from scipy.optimize import least_squares

    params = params or load_rrt_parameters()
    x0 = np.array([params.mortality.scale.value, params.transplantation.scale.value])
    fit = least_squares(lambda x: _calibration_errors(params, x), x0, bounds=([0.2, 0.2], [5.0, 5.0]),
                        xtol=1e-10, ftol=1e-10)
    return {
        "mortality_scale": float(fit.x[0]),
        "transplant_scale": float(fit.x[1]),
        "max_abs_residual": float(np.abs(fit.fun).max()),
    }


def calibration_trajectory(params: RRTParameters | None = None) -> pd.DataFrame:
    """Year-by-year national calibration run: population, incidence and prevalence.

    Columns: ``year, population, incidence_pmp`` (published, interpolated), ``incident``,
    ``prevalence_pmp`` (model), ``published_pmp`` (UKRR where available), ``ichd_%, hhd_%,
    pd_%, tx_%``, ``deaths`` and ``transplants`` (model, England proxy population).
    """
    params = params or load_rrt_parameters()
    sim, pop = calibration_run(params)
    s = _summaries(sim, pop)
    published = {p.year: p.rate_pmp for p in params.initial_prevalence.points}
    published.update({t.year: t.rate_pmp for t in params.calibration.prevalence_targets})
    published.setdefault(2003, 632.0)
    rows = []
    for i, y in enumerate(s["years"]):
        fl = s["flows"][i - 1] if i else None
        rows.append({
            "year": y,
            "population": s["total_pop"][i],
            "incidence_pmp": _crude_series(params, y),
            "incident": fl[:, :, _F["incident"]].sum() if fl is not None else np.nan,
            "prevalence_pmp": s["prevalence_pmp"][i],
            "published_pmp": published.get(y, np.nan),
            **{f"{m}_%": 100 * s["mix"][i][k] for k, m in enumerate(MODALITIES)},
            "deaths": fl[:, :, _F["death"]].sum() if fl is not None else np.nan,
            "transplants": (fl[:, :, _F["transplant"]].sum() + fl[:, :, _F["early_transplant"]].sum())
            if fl is not None else np.nan,
        })
    return pd.DataFrame(rows)


def calibration_markdown(params: RRTParameters | None = None) -> str:
    """The calibration tables as Markdown (pasted into ``docs/calibration_dialysis.md``).

    Two tables: targets against the model (:func:`calibration_table`) and the year-by-year run
    (:func:`calibration_trajectory`). Regenerate with ``python -m hna.prevalence``.
    """
    params = params or load_rrt_parameters()
    t = calibration_table(params)

    def fmt(v: Any, digits: int = 1) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return ""
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "NO"
        return f"{v:,.{digits}f}"

    lines = [
        "| measure | year | target | model | difference | tolerance | within | asserted | source |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t.itertuples(index=False):
        lines.append(
            f"| {r.measure} | {r.year} | {fmt(r.target)} | {fmt(r.model)} | {fmt(r.difference, 2)} "
            f"| {fmt(r.tolerance)} | {fmt(r.within_tolerance)} | {'yes' if r.asserted else 'no'} "
            f"| {r.source} |"
        )
    lines += [
        "",
        "| year | population (m) | incidence pmp (published) | starters | prevalence pmp (model) "
        "| prevalence pmp (UKRR) | ichd % | hhd % | pd % | tx % | deaths | transplants |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in calibration_trajectory(params).to_dict("records"):
        lines.append(
            f"| {v['year']} | {v['population'] / 1e6:.2f} | {fmt(v['incidence_pmp'])} "
            f"| {fmt(v['incident'], 0)} | {fmt(v['prevalence_pmp'])} | {fmt(v['published_pmp'], 0)} "
            f"| {fmt(v['ichd_%'])} | {fmt(v['hhd_%'])} | {fmt(v['pd_%'])} | {fmt(v['tx_%'])} "
            f"| {fmt(v['deaths'], 0)} | {fmt(v['transplants'], 0)} |"
        )
    return "\n".join(lines) + "\n"


def prevalence_per_person(params: RRTParameters, year: int) -> pd.DataFrame:
    """National adults on RRT per person by sex, band and modality on 31 December ``year``.

    From :func:`calibration_run` to ``year`` (after the last published incidence year the crude
    incidence is held at its last published value, and the mortality and transplant trends at
    their end levels), divided by the calibration population. A model extrapolation, not a
    published figure.

    Returns:
        ``sex, age_band, modality, per_person``.
    """
    sim, pop_nat = calibration_run(params, end_year=year)
    _, nat = _population_array(pop_nat, [year], source="calibration population", all_bands=True)
    rates = sim.stock[-1, 0] / np.maximum(nat[0, 0, :, _FIRST_ADULT:], 1e-12)[..., None]
    one = RRTSimulation(rates[None, None], np.zeros((0,)), (year,), ["national"], _KEEPABLE, 0)
    out = one.stock_frame().rename(columns={"patients": "per_person"})
    return out[["sex", "age_band", "modality", "per_person"]].reset_index(drop=True)


def crude_incidence_multiplier(params: RRTParameters, year: int) -> float:
    """Multiplier of the incidence rates that makes the model's crude adult RRT incidence equal
    the published rate of ``year`` (held at the last published value after it), on the
    calibration population.
    """
    return _calibration_multipliers(params, calibration_population(params, [year]), [year])[year]


def modelled_prevalent(
    params: RRTParameters, population: pd.DataFrame, year: int
) -> pd.DataFrame:
    """Starting stock for ``year`` from the national model run, applied to local populations.

    Multiplies :func:`prevalence_per_person` by each area's population (indirect
    standardisation: areas with older populations get more patients). A model extrapolation,
    not a published figure: prefer :func:`initial_prevalent` with published local or national
    figures when available.

    Returns:
        ``area_code, year, sex, age_band, modality, patients`` (expected values).
    """
    per = prevalence_per_person(params, year)
    pop = population[population["year"] == year][["area_code", "sex", "age_band", "population"]]
    out = pop.merge(per, on=["sex", "age_band"], how="inner")
    out["patients"] = out["population"] * out["per_person"]
    out["year"] = int(year)
    out["modality"] = out["modality"].astype(MODALITY_DTYPE)
    return out[["area_code", "year", "sex", "age_band", "modality", "patients"]].sort_values(
        ["area_code", "sex", "age_band", "modality"]).reset_index(drop=True)


if __name__ == "__main__":  # pragma: no cover - regenerates the docs table
    print(calibration_markdown())

"""Parameters of the renal replacement therapy (RRT) model.

States, flows and the pydantic models of ``parameters/models/renal_replacement_therapy.yaml``
(every figure with a :class:`Source`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from hna.bands import AGE_BANDS, SEXES
from hna.distributions import Distribution
from hna.parameters import PARAMETERS_DIR, Source, StrictModel

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



class _Value(StrictModel):
    value: Probability
    source: Source


class _Scale(StrictModel):
    value: Annotated[float, Field(gt=0.0, le=100.0)]
    source: Source


class _ByAgeGroup(StrictModel):
    values: dict[str, Probability]
    source: Source


class _ByDialysisModality(StrictModel):
    ichd: NonNegative
    hhd: NonNegative
    pd: NonNegative
    source: Source


class _Trend(StrictModel):
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


class _AgeGroups(StrictModel):
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


class _Incidence(StrictModel):
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


class _CrudeRate(StrictModel):
    year: int
    rate_pmp: NonNegative
    geography: str
    source: Source


class _EntryYear(StrictModel):
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


class _AgeWeights(StrictModel):
    tx: dict[str, NonNegative]
    pd: dict[str, NonNegative]
    early_exit: dict[str, NonNegative]
    source: Source


class _Entry(StrictModel):
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


class _Mortality(StrictModel):
    dialysis: _ByAgeGroup
    transplant: _ByAgeGroup
    dialysis_modality_ratio: _ByDialysisModality
    trend: _Trend
    scale: _Scale


class _Improvement(StrictModel):
    """A step change in transplant rates from ``from_year`` on (scenarios)."""

    factor: Annotated[float, Field(gt=0.0, le=5.0)]
    from_year: int
    source: Source

    def at(self, year: int) -> float:
        """The factor in force in ``year``."""
        return self.factor if year >= self.from_year else 1.0


class _Transplantation(StrictModel):
    rate: _ByAgeGroup
    modality_ratio: _ByDialysisModality
    trend: _Trend
    scale: _Scale
    improvement: _Improvement | None = None


class _GraftFailure(StrictModel):
    rate: _ByAgeGroup
    to_pd_share: _Value


class _Switches(StrictModel):
    pd_to_ichd: _Value
    ichd_to_pd: _Value
    ichd_to_hhd: _ByAgeGroup
    hhd_to_ichd: _Value


class _Mix(StrictModel):
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


class _MedianAge(StrictModel):
    ichd: Annotated[float, Field(ge=18, le=100)] | None = None
    hhd: Annotated[float, Field(ge=18, le=100)] | None = None
    pd: Annotated[float, Field(ge=18, le=100)] | None = None
    tx: Annotated[float, Field(ge=18, le=100)] | None = None

    def values(self) -> list[float | None]:
        return [self.ichd, self.hhd, self.pd, self.tx]


class _PrevalencePoint(StrictModel):
    year: int
    rate_pmp: NonNegative
    modality_mix: _Mix
    median_age: _MedianAge | None = None
    source: Source


class _InitialPrevalence(StrictModel):
    points: list[_PrevalencePoint]
    burn_in_years: Annotated[int, Field(ge=1, le=100)]
    burn_in_incidence_growth: Annotated[float, Field(ge=-0.5, le=0.5)]
    source: Source


class _Capacity(StrictModel):
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


class _PopulationTotal(StrictModel):
    year: int
    population: Annotated[float, Field(gt=0)]
    source: Source


class _ReferencePopulation(StrictModel):
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


class _ModalityTarget(StrictModel):
    year: int
    tx: Probability
    hd: Probability
    pd: Probability
    tolerance_points: Annotated[float, Field(gt=0, le=100)]
    role: Literal["calibration", "validation"] = "calibration"
    source: Source


class _Projection(StrictModel):
    """How the projection continues after the last published incidence (central values)."""

    incidence_change_percent: Annotated[float, Field(gt=-50, lt=50)] = 0.0
    base_year: int
    source: Source


class _PrevalenceTarget(StrictModel):
    year: int
    rate_pmp: Annotated[float, Field(gt=0)]
    tolerance: Probability
    role: Literal["calibration", "validation"] = "calibration"
    source: Source


class _Calibration(StrictModel):
    area_code: str
    start_year: int
    end_year: int
    reference_population: _ReferencePopulation
    population_totals: list[_PopulationTotal] = Field(min_length=2)
    prevalence_targets: list[_PrevalenceTarget]
    modality_targets: list[_ModalityTarget]


class _Change(StrictModel):
    """One change of an ``extends:`` model file: a dotted key, its new value and why."""

    set: str = Field(min_length=1)
    value: Any
    source: Source | None = None
    assumption: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> _Change:
        if (self.source is None) == (self.assumption is None):
            raise ValueError("give exactly one of 'source' or 'assumption'")
        return self


class RRTParameters(StrictModel):
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
    projection: _Projection
    uncertainty: dict[str, Distribution] = Field(default_factory=dict)
    sources: list[Source] = Field(default_factory=list)
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
        """Names of the parameter age groups, in order."""
        return tuple(self.age_groups.bands)


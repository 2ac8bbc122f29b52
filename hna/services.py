"""Service catalogue: one YAML file per specialised service, validated by pydantic.

A service file (``parameters/services/<id>.yaml``) states, with a source for every figure:

- what is counted (``kind: incidence`` -> new cases a year; ``kind: prevalence`` -> patients
  under care at a time) and for whom (``scope``: ages and sexes);
- the rates, as one of: a table of age-sex rates per 100,000 person-years (``rates.table``),
  observed counts with person-years (``rates.counts``), a CSV holding either
  (``rates.file``), or, for prevalence, a stock-and-flow model file (``model.path``, e.g. the
  renal replacement therapy parameters read by :mod:`hna.prevalence`);
- how rates change over time (``projection``: ``constant``, ``trend`` or ``nordpred``);
- the critical mass (``critical_mass``: minimum new cases or patients per centre a year);
- cost per case or per patient-year (``cost``, optional), the commissioning tier schemes to
  report (``tiers``), a data-quality grade and ``sources``.

Loading is strict: unknown keys, wrong types and out-of-range values are errors; every error
is a :class:`hna.errors.ParameterError` naming the file and the field, for example::

    parameters/services/x.yaml: field 'critical_mass.minimum_per_centre': Input should be
    greater than 0 (got -5)

Every ``source:`` must name an entry of ``sources`` ("missing source" otherwise), and files
referred to by relative paths are resolved from the folder of the YAML file.

Public API: :func:`load_service`, :func:`list_services`, :func:`catalogue`,
:func:`service_rates`, :func:`service_schema`, :func:`parameter_hash`. This module only reads
and checks parameters; :mod:`hna.demand` turns a service into demand, and
:func:`hna.validation.validate_files` validates parameter files of every kind.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from hna.bands import SEXES
from hna.distributions import Distribution
from hna.errors import ParameterError
from hna.parameters import PARAMETERS_DIR, Source, StrictModel, read_yaml, validation_error
from hna.parameters import display_path as _display
from hna.service_checks import check_files, check_service_uncertainty, check_sources, check_tiers
from hna.service_rates import build_rates, expand_bands, in_scope_weights

__all__ = [
    "SERVICES_DIR",
    "Source",
    "Scope",
    "RateRow",
    "CountRow",
    "Rates",
    "ModelRef",
    "Projection",
    "CriticalMass",
    "Cost",
    "TierSettings",
    "Service",
    "load_service",
    "list_services",
    "catalogue",
    "service_rates",
    "scope_weights",
    "service_schema",
    "parameter_hash",
    "expand_bands",
]

#: ``parameters/services`` at the root of the source tree (hna is installed in editable mode).
SERVICES_DIR = PARAMETERS_DIR / "services"

_ID = r"^[A-Za-z_]\w*$"
Number = Annotated[float, Field(strict=True)]
PositiveNumber = Annotated[float, Field(strict=True, gt=0)]
NonNegativeNumber = Annotated[float, Field(strict=True, ge=0)]
SourceId = Annotated[str, Field(pattern=_ID, description="id of an entry in `sources`")]
#: Largest critical mass a parameter file may set (cases or patients per centre a year).
MAX_MINIMUM_PER_CENTRE = 1e7



# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


class Scope(StrictModel):
    """The population a service serves: ages ``age_min`` to ``age_max`` (inclusive) and sexes.

    Bands partly inside the range count in proportion to the years they share with it
    (people assumed spread evenly over the five years of a band; ``90+`` taken as 90-99).
    """

    age_min: NonNegativeNumber = 0
    age_max: NonNegativeNumber | None = Field(default=None, description="null = no upper age")
    sexes: list[Literal["female", "male"]] = Field(default_factory=lambda: list(SEXES),
                                                    min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _range(self) -> Scope:
        if self.age_max is not None and self.age_max < self.age_min:
            raise ValueError(f"age_max ({self.age_max:g}) is below age_min ({self.age_min:g})")
        if len(set(self.sexes)) != len(self.sexes):
            raise ValueError("sexes repeat")
        return self


class RateRow(StrictModel):
    """A rate per ``rates.per`` person-years for an age band (or span) and sex."""

    age_band: str = Field(description="ESP2013 band ('0-4' ... '90+'), a span on band edges "
                          "('15-44', '85+') or 'all'")
    sex: Literal["female", "male", "persons"]
    rate: NonNegativeNumber


class CountRow(StrictModel):
    """Observed cases (or prevalent patients) and the person-years they arose from."""

    age_band: str = Field(description="ESP2013 band, a span on band edges, or 'all'")
    sex: Literal["female", "male", "persons"]
    cases: NonNegativeNumber
    person_years: PositiveNumber


class Rates(StrictModel):
    """Age-sex rates: exactly one of ``table``, ``counts`` or ``file``."""

    per: Annotated[float, Field(strict=True, ge=1, le=1e9)] = Field(
        default=100000, description="rates are per this many person-years (tables and files "
        "with a `rate` column); between 1 and 1e9")
    table: list[RateRow] | None = Field(default=None, min_length=1)
    counts: list[CountRow] | None = Field(default=None, min_length=1)
    file: str | None = Field(default=None, description="CSV relative to the YAML file: "
                             "age_band, sex and either rate or cases + person_years")
    reference_year: int | None = Field(default=None, strict=True, ge=1900, le=2100,
                                       description="year the rates describe (trend base)")
    equivalent_cases: PositiveNumber | None = Field(
        default=None,
        description="rate uncertainty as if the rates came from this many registry cases "
        "(gamma posterior); omit for fixed rates. Counts carry their own uncertainty.")
    source: SourceId
    derived_from: list[SourceId] = Field(default_factory=list,
                                         description="further sources the rates rest on")
    method: str | None = Field(default=None, description="how the rates were derived")

    @model_validator(mode="after")
    def _one_input(self) -> Rates:
        given = [k for k in ("table", "counts", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'table', 'counts' or 'file' "
                             f"(got {', '.join(given) if given else 'none'})")
        if self.counts is not None and self.equivalent_cases is not None:
            raise ValueError("'equivalent_cases' is for rate tables; counts carry their own "
                             "uncertainty")
        return self


class ModelRef(StrictModel):
    """A prevalence model parameter file (e.g. the renal replacement therapy stock-and-flow)."""

    path: str = Field(description="model YAML, relative to the service file")
    measure: Literal["ichd", "haemodialysis", "dialysis", "pd", "transplant", "rrt"] = Field(
        default="dialysis", description="which stock is the demand: in-centre HD ('ichd'), "
        "in-centre + home HD, all dialysis (HD + PD), PD, transplant, or all RRT")
    source: SourceId


class Projection(StrictModel):
    """How rates change with calendar year.

    - ``constant``: base rates held constant; demand changes with the population only.
    - ``trend``: log-linear change, either an assumed ``annual_change_percent`` (cited) or a
      drift fitted to yearly counts in ``history`` (:func:`hna.incidence.trend_rates`);
      optionally damped (``damping`` in [0, 1]).
    - ``nordpred``: age-period-cohort projection (:mod:`hna.incidence.nordpred`) fitted to five-year
      period counts in ``history``; rates scaled by each age group's projected change.
    """

    method: Literal["constant", "trend", "nordpred"] = "constant"
    annual_change_percent: Number | None = Field(default=None, gt=-50, lt=50)
    damping: Annotated[float, Field(strict=True, ge=0, le=1)] = 1.0
    history: str | None = Field(default=None, description="CSV of historical counts "
                                "(trend: age_band, sex, year, cases, person_years; nordpred: "
                                "sex, age_band, period, cases, person_years)")
    cuttrend: list[Annotated[float, Field(strict=True, ge=0, le=1)]] | None = None
    n_periods: list[Annotated[int, Field(strict=True, ge=3)]] | None = None
    link: Literal["power5", "poisson"] = "power5"
    base_year: int | Literal["last_observed"] | None = Field(
        default=None, description="trend: the year the change compounds from (rates before "
        "it stay at their base level), or 'last_observed' (rates.reference_year for an "
        "assumed change, the last history year for a fitted one)")
    source: SourceId | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _settings(self) -> Projection:
        if self.method == "constant":
            extra = [k for k in ("annual_change_percent", "history", "cuttrend", "n_periods")
                     if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"'{extra[0]}' is not a setting of the constant method")
        if self.method == "trend":
            if (self.annual_change_percent is None) == (self.history is None):
                raise ValueError("the trend method needs exactly one of "
                                 "'annual_change_percent' or 'history'")
            if self.annual_change_percent is not None and self.source is None:
                raise ValueError("an assumed annual_change_percent needs a 'source'")
            if self.base_year is None:
                raise ValueError("a trend must say the year it compounds from: base_year: "
                                 "2025 (e.g. the first planning year) or base_year: "
                                 "last_observed (the rates' reference year)")
        elif self.base_year is not None:
            raise ValueError("'base_year' is a setting of the trend method")
        if self.method == "nordpred" and self.history is None:
            raise ValueError("the nordpred method needs 'history' (counts by five-year period)")
        return self


class CriticalMass(StrictModel):
    """Minimum activity per centre a year for a safe, sustainable service."""

    minimum_per_centre: Annotated[float, Field(strict=True, gt=0, le=MAX_MINIMUM_PER_CENTRE)]
    unit: str = Field(min_length=1, description="what is counted, e.g. 'new soft tissue "
                      "sarcoma patients per MDT per year'")
    centre: str = Field(default="centre", description="what a centre is (MDT, renal unit...)")
    status: Literal["published", "commonly_quoted", "local_assumption"]
    source: SourceId
    note: str | None = None


class Cost(StrictModel):
    """Cost per case or per patient-year, in pounds sterling at ``price_year`` prices."""

    per: Literal["case", "patient_year"]
    gbp: PositiveNumber
    price_year: str = Field(pattern=r"^\d{4}(/\d{2})?$")
    source: SourceId
    note: str | None = None


class TierSettings(StrictModel):
    """Commissioning tier schemes (``parameters/tiers.yaml``) to classify the service under."""

    schemes: list[str] = Field(default_factory=lambda: ["emscg_2009", "dh_2003", "stp_2016"],
                               min_length=1)
    edges: Literal["lower_inclusive", "upper_inclusive"] | None = None


class Service(StrictModel):
    """A specialised service's parameters (one YAML file)."""

    id: str = Field(pattern=_ID)
    name: str = Field(min_length=1)
    kind: Literal["incidence", "prevalence"]
    measure: str = Field(min_length=1, description="what demand counts, e.g. 'new cases'")
    description: str | None = None
    scope: Scope = Field(default_factory=Scope)
    rates: Rates | None = None
    model: ModelRef | None = None
    projection: Projection = Field(default_factory=Projection)
    critical_mass: CriticalMass
    cost: Cost | None = None
    tiers: TierSettings = Field(default_factory=TierSettings)
    quality: Literal["high", "moderate", "low"]
    uncertainty: dict[str, Distribution] = Field(
        default_factory=dict, description="distributions of uncertain inputs (rate_level, "
        "case_definition, annual_change_percent, population_variant): see hna.distributions")
    notes: str | None = None
    sources: list[Source] = Field(min_length=1)

    _path: Path | None = PrivateAttr(default=None)
    _rates: tuple[int | None, pd.DataFrame] | None = PrivateAttr(default=None)
    _scenario: Any = PrivateAttr(default=None)  # the hna.scenarios.Scenario applied, if any

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, v: list[Source]) -> list[Source]:
        unnamed = [i for i, s in enumerate(v) if s.id is None]
        if unnamed:
            raise ValueError(f"sources[{unnamed[0]}] has no id: give each source an id that "
                             "fields refer to (source: <id>)")
        ids = [s.id for s in v]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"source ids repeat: {', '.join(dup)}")
        return v

    @model_validator(mode="after")
    def _inputs(self) -> Service:
        if self.kind == "incidence":
            if self.model is not None:
                raise ValueError("an incidence service takes 'rates', not 'model'")
            if self.rates is None:
                raise ValueError("an incidence service needs 'rates'")
        elif (self.rates is None) == (self.model is None):
            raise ValueError("a prevalence service needs exactly one of 'rates' "
                             "(prevalence per person) or 'model' (stock-and-flow file)")
        if (self.projection.method == "trend" and self.rates is not None
                and self.rates.reference_year is None):
            raise ValueError("a trend needs 'rates.reference_year' (the year the rates describe)")
        if self.model is not None and (self.projection.method == "nordpred" or (
                self.projection.method == "trend" and (self.projection.annual_change_percent
                                                       is None or self.projection.history))):
            raise ValueError("a 'model' service takes only an assumed trend "
                             "(annual_change_percent + base_year): it replaces the model's "
                             "incidence trend")
        return self

    # ---------------------------------------------------------------- conveniences
    @property
    def path(self) -> Path | None:
        """The YAML file the service was read from (``None`` if built in code)."""
        return self._path

    @property
    def value(self) -> str:
        """Name of the demand column: ``cases`` (incidence) or ``patients`` (prevalence)."""
        return "cases" if self.kind == "incidence" else "patients"

    def source(self, source_id: str) -> Source:
        """The :class:`Source` with this id."""
        for s in self.sources:
            if s.id == source_id:
                return s
        raise ParameterError("missing source", source=self._display(), field="sources",
                             value=source_id)

    def cite(self, source_id: str) -> str:
        """A one-line citation of a source."""
        s = self.source(source_id)
        parts = [s.publisher, s.title, s.section, str(s.year)]
        return ", ".join(p for p in parts if p)

    def resolve(self, relative: str) -> Path:
        """A path in the file, resolved from the folder of the YAML file."""
        p = Path(relative)
        if p.is_absolute() or self._path is None:
            return p
        return (self._path.parent / p).resolve()

    def source_references(self) -> list[tuple[str, str]]:
        """Every ``(field, source id)`` the file refers to."""
        refs: list[tuple[str, str]] = []
        if self.rates is not None:
            refs.append(("rates.source", self.rates.source))
            refs.extend((f"rates.derived_from[{i}]", sid)
                        for i, sid in enumerate(self.rates.derived_from))
        if self.model is not None:
            refs.append(("model.source", self.model.source))
        if self.projection.source is not None:
            refs.append(("projection.source", self.projection.source))
        refs.append(("critical_mass.source", self.critical_mass.source))
        if self.cost is not None:
            refs.append(("cost.source", self.cost.source))
        refs.extend((f"uncertainty.{k}.source", d.source) for k, d in self.uncertainty.items()
                    if d.source is not None)
        return refs

    def _display(self) -> str:
        return _display(self._path) if self._path else f"service {self.id}"


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _read_yaml(path: Path) -> Any:
    return read_yaml(path, source=_display(path), mapping=False,
                     missing_hint="Give a service id (see 'hna services list') or a YAML path")


def _parse_service(path: Path, raw: Any) -> Service:
    source = _display(path)
    if not isinstance(raw, dict):
        raise ParameterError("expected a mapping of keys to values at the top level",
                             source=source, value=type(raw).__name__)
    try:
        svc = Service.model_validate(raw)
    except ValidationError as exc:
        raise validation_error(exc, source, Service) from None
    svc._path = path.resolve()
    check_sources(svc, source)
    check_files(svc, source)
    check_service_uncertainty(svc, source)
    check_tiers(svc, source)
    if path.parent.resolve() == SERVICES_DIR.resolve() and svc.id != path.stem:
        raise ParameterError("id must match the file name", source=source, field="id",
                             value=svc.id, hint=f"Use id: {path.stem} or rename the file")
    # Build the rate table now so that band/sex problems surface at load time.
    if svc.rates is not None:
        service_rates(svc)
    return svc


@lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int) -> Service:
    p = Path(path)
    return _parse_service(p, _read_yaml(p))


def _service_path(id_or_path: str | Path) -> Path:
    s = str(id_or_path)
    if s.endswith((".yaml", ".yml")) or "/" in s or "\\" in s:
        return Path(s)
    path = SERVICES_DIR / f"{s}.yaml"
    if not path.is_file():
        ids = [p.stem for p in sorted(SERVICES_DIR.glob("*.yaml"))]
        near = difflib.get_close_matches(s, ids, n=3, cutoff=0.5)
        raise ParameterError(
            "unknown service", field="service", value=s,
            hint=(f"Did you mean {', '.join(near)}?" if near else
                  f"Known services: {', '.join(ids)}"),
        )
    return path


def load_service(id_or_path: str | Path | Service) -> Service:
    """Load and validate a service by id (``parameters/services/<id>.yaml``) or YAML path.

    Raises:
        ParameterError: unknown id, missing file, malformed YAML (with line and column),
            unknown keys, wrong types or values, missing sources or referenced files; the
            message names the file and the field.
    """
    if isinstance(id_or_path, Service):
        return id_or_path
    path = _service_path(id_or_path)
    if not path.is_file():
        _read_yaml(path)  # raises "file not found"
    return _load_cached(str(path.resolve()), path.stat().st_mtime_ns)


def list_services(directory: str | Path | None = None) -> list[str]:
    """Ids of the services in ``parameters/services`` (or ``directory``), sorted."""
    d = Path(directory) if directory else SERVICES_DIR
    return sorted(p.stem for p in d.glob("*.yaml")) if d.is_dir() else []


def catalogue(directory: str | Path | None = None) -> pd.DataFrame:
    """One row per service: id, name, kind, measure, scope, projection, critical mass, quality."""
    d = Path(directory) if directory else SERVICES_DIR
    rows = []
    for sid in list_services(d):
        s = load_service(d / f"{sid}.yaml")
        ages = f"{s.scope.age_min:g}+" if s.scope.age_max is None else (
            f"{s.scope.age_min:g}-{s.scope.age_max:g}")
        rows.append({
            "id": s.id, "name": s.name, "kind": s.kind, "measure": s.measure,
            "ages": ages, "sexes": "/".join(s.scope.sexes),
            "rates": ("model" if s.model else "table" if s.rates.table else
                      "counts" if s.rates.counts else "file"),
            "projection": s.projection.method,
            "critical_mass": s.critical_mass.minimum_per_centre,
            "per": s.critical_mass.centre,
            "status": s.critical_mass.status,
            "quality": s.quality,
        })
    return pd.DataFrame(rows, columns=["id", "name", "kind", "measure", "ages", "sexes", "rates",
                                       "projection", "critical_mass", "per", "status",
                                       "quality"])


# --------------------------------------------------------------------------------------------
# Rates (the expansion itself is in hna.service_rates)
# --------------------------------------------------------------------------------------------


def service_rates(service: Service | str | Path) -> pd.DataFrame:
    """The service's rates per person-year as the canonical table, one row per sex x band.

    Columns ``age_band, sex, rate`` and, when the rates carry uncertainty, ``cases,
    person_years`` with ``rate == cases / person_years``:

    - ``rates.counts`` (or a file of counts): a row covering several cells (a span such as
      ``'15-44'``, or ``persons``) gives every cell the pooled rate ``cases / person_years``,
      and its cases and person-years are split between the cells in proportion to the England
      mid-2020 population of each cell. A sum of independent gamma variates with a common
      scale is gamma with the summed shape, so the pooled rate's uncertainty is kept for
      populations shaped like England's.
    - ``rates.table`` with ``equivalent_cases``: the cases are split between cells in
      proportion to the cases the rates give in the England mid-2020 population, and
      ``person_years = cases / rate`` (cells with a zero rate get no cases).
    - ``rates.table`` without ``equivalent_cases``: fixed rates (no ``cases`` column).

    Bands and sexes outside the service's scope are dropped; every band and sex in scope must
    have a rate.

    Raises:
        ParameterError: unknown bands, overlapping rows, bands in scope without a rate.
    """
    svc = load_service(service)
    if svc.rates is None:
        raise ParameterError("this service has no rates (it uses a model)",
                             source=svc._display(), field="rates")
    stamp = None
    if svc.rates.file:  # rebuild if the CSV changed since the rates were built
        f = svc.resolve(svc.rates.file)
        stamp = f.stat().st_mtime_ns if f.is_file() else None
    if svc._rates is None or svc._rates[0] != stamp:
        svc._rates = (stamp, build_rates(svc))
    return svc._rates[1].copy()


def scope_weights(service: Service | str | Path) -> dict[tuple[str, str], float]:
    """Share of each (sex, band)'s population inside the service's scope, in [0, 1].

    See :func:`hna.service_rates.in_scope_weights`.
    """
    return in_scope_weights(load_service(service))


# --------------------------------------------------------------------------------------------
# Schema, hashing, validation of many files
# --------------------------------------------------------------------------------------------


def service_schema() -> dict:
    """JSON Schema of a service file (published as ``docs/schema/service.schema.json``)."""
    schema = Service.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://hna.invalid/schema/service.schema.json"
    schema["title"] = "hna service parameters"
    return schema


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def parameter_hash(service: Service | str | Path, settings: dict | None = None) -> str:
    """SHA-256 of the canonical service (JSON, sorted keys), its referenced files and settings.

    Formatting, comments and key order in the YAML do not change the hash; any value does.
    """
    svc = load_service(service)
    files = {}
    if svc.rates is not None and svc.rates.file:
        files["rates.file"] = _file_digest(svc.resolve(svc.rates.file))
    if svc.model is not None:
        files["model.path"] = _file_digest(svc.resolve(svc.model.path))
    if svc.projection.history:
        files["projection.history"] = _file_digest(svc.resolve(svc.projection.history))
    payload = {"service": svc.model_dump(mode="json"), "files": files,
               "settings": settings or {}}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()

"""Commissioning tiers: which population footprint a service should be planned for.

Tier schemes are data (``parameters/tiers.yaml``): each scheme is an ordered list of population
bands, each with a ``source:``. Three schemes come from the seeds:

- ``emscg_2009``: East Midlands SCG tier chart, practice < 100k, local 100k-1m, regional 1-5m,
  supra-regional 5-50m, national 50m+ (F004, 'What are specialised services?').
- ``dh_2003``: DH 2003 guidance, LSCG 1-2m ("less rare"), SCG 3-6m ("rarer") (F001 para 12).
  The 2-3m gap is reported as ``between_bands``, never assigned to a neighbour.
- ``stp_2016``: NHS England South levels, STP or multi-STP, sub-regional/collaborative hub,
  national/regional (F003). F003 gives no bounds: the YAML marks them ``inferred`` and says how.

Whether a population exactly on a bound belongs to the band below or above is not stated in
any seed, so it is a setting: ``lower_inclusive`` bands are ``[lower, upper)``,
``upper_inclusive`` bands are ``(lower, upper]``.

The same ``edges`` setting decides the Carter boundaries (F001 para 3 says "more than one
million", F000 and F004 say "at least 1 million"): with ``lower_inclusive`` (the default) a
planning population of exactly 1,000,000 is regional in the tier chart *and* specialised under
:func:`hna.carter.carter_rules`; with ``upper_inclusive`` it is local and not specialised. One setting,
used by both.

This is the only module that computes a tier: population bands (:func:`classify_population`,
:func:`tier_for_service`, :func:`service_tiers` for a catalogue service) and score cut-offs
(:func:`tier_from_score`, used by the segmentation tool in :mod:`hna.frameworks.segmentation`).
The Carter rules (F001 para 3, para 45, App 10 3a) are applied by :func:`hna.carter.carter_rules`.

Tier files are read with :func:`hna.parameters.read_parameter_file`: every problem becomes a
:class:`hna.errors.ParameterError` naming the file and the field.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import Field, field_validator, model_validator

from hna.checks import check_positive
from hna.errors import ParameterError
from hna.parameters import PARAMETERS_DIR, StrictModel, read_parameter_file

__all__ = [
    "EDGE_RULES",
    "Band",
    "TierScheme",
    "CarterRuleSet",
    "TierConfig",
    "TierResult",
    "load_tier_schemes",
    "tier_labels",
    "classify_population",
    "tier_for_service",
    "service_tiers",
    "ScoreCutoff",
    "check_cutoffs",
    "tier_from_score",
    "above_boundary",
]

EdgeRule = Literal["lower_inclusive", "upper_inclusive"]
EDGE_RULES: tuple[str, ...] = ("lower_inclusive", "upper_inclusive")

#: The bundled tier schemes (``parameters/tiers.yaml``).
DEFAULT_TIERS_FILE = PARAMETERS_DIR / "tiers.yaml"


# --------------------------------------------------------------------------------------------
# Models



class Band(StrictModel):
    """One population band of a tier scheme."""

    tier: str = Field(pattern=r"^[A-Za-z_]\w*$")
    label: str
    lower: float = Field(ge=0)
    upper: float | None = None
    examples: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _upper_above_lower(self) -> Band:
        if self.upper is not None and not self.upper > self.lower:
            raise ValueError(f"upper ({self.upper:g}) must be greater than lower ({self.lower:g})")
        return self

    @property
    def upper_or_inf(self) -> float:
        """The upper bound, or infinity for an open-ended band."""
        return math.inf if self.upper is None else self.upper


class TierScheme(StrictModel):
    """A named tier scheme: bands in ascending, non-overlapping population order."""

    title: str
    source: str = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)
    inferred: bool = False
    inference: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> TierScheme:
        tiers = [b.tier for b in self.bands]
        if len(set(tiers)) != len(tiers):
            raise ValueError("tier names must be unique within a scheme")
        for lo, hi in zip(self.bands, self.bands[1:], strict=False):
            if hi.lower < lo.upper_or_inf:
                raise ValueError(
                    f"bands must be in ascending order without overlap: '{lo.tier}' ends at "
                    f"{lo.upper_or_inf:g} but '{hi.tier}' starts at {hi.lower:g}"
                )
        if self.inferred and not self.inference:
            raise ValueError("an inferred scheme must say how in `inference`")
        return self


class CarterRuleSet(StrictModel):
    """Thresholds of the Carter review rules (F001 para 3, para 45, App 10 3a)."""

    specialised_min_population: float = Field(gt=0)
    specialised_source: str
    pan_regional_population: float = Field(gt=0)
    pan_regional_source: str
    national_population: float = Field(gt=0)
    national_population_source: str
    national_caseload_max: float = Field(gt=0)
    national_caseload_ceiling: float = Field(gt=0)
    national_providers_min: int = Field(ge=1)
    national_providers_max: int = Field(ge=1)
    national_source: str

    @model_validator(mode="after")
    def _consistent(self) -> CarterRuleSet:
        if self.national_caseload_ceiling < self.national_caseload_max:
            raise ValueError("national_caseload_ceiling must be >= national_caseload_max")
        if self.national_providers_max < self.national_providers_min:
            raise ValueError("national_providers_max must be >= national_providers_min")
        return self


class TierConfig(StrictModel):
    """Contents of ``parameters/tiers.yaml``."""

    edges: EdgeRule = "lower_inclusive"
    near_edge_tolerance: float = Field(default=0.05, ge=0, lt=1)
    schemes: dict[str, TierScheme] = Field(min_length=1)
    carter_rules: CarterRuleSet

    @field_validator("schemes")
    @classmethod
    def _scheme_names(cls, v: dict[str, TierScheme]) -> dict[str, TierScheme]:
        for name in v:
            if not re.match(r"^[A-Za-z_]\w*$", name):
                raise ValueError(f"scheme name '{name}' must be an identifier")
        return v


# --------------------------------------------------------------------------------------------
# Loading


@lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int) -> TierConfig:
    return read_parameter_file(path, TierConfig)


def load_tier_schemes(path: str | Path | None = None) -> TierConfig:
    """Load and validate the tier schemes (default ``parameters/tiers.yaml``).

    Returns:
        TierConfig with ``.schemes`` (name -> :class:`TierScheme`), ``.carter_rules``,
        ``.edges`` and ``.near_edge_tolerance``.

    Raises:
        ParameterError: unknown keys, wrong types, overlapping bands...; names file and field.
    """
    p = Path(path) if path is not None else DEFAULT_TIERS_FILE
    if not p.is_file():
        return read_parameter_file(p, TierConfig)  # raises the file-not-found error
    return _load_cached(str(p.resolve()), p.stat().st_mtime_ns)


def tier_labels(path: str | Path | None = None) -> dict[str, str]:
    """Tier id -> its label in the tier schemes file (``scg`` -> "Specialised ...")."""
    return {b.tier: b.label for s in load_tier_schemes(path).schemes.values() for b in s.bands}


def _config(config: TierConfig | str | Path | None) -> TierConfig:
    if isinstance(config, TierConfig):
        return config
    return load_tier_schemes(config)


# --------------------------------------------------------------------------------------------
# Classification


@dataclass(frozen=True)
class TierResult:
    """Where a population falls in one tier scheme.

    ``status`` is ``in_band``, ``between_bands`` (a gap such as 2-3m in ``dh_2003``),
    ``below_lowest_band`` or ``above_highest_band``; ``tier`` is ``None`` unless in a band.
    ``near_edge`` is true when the population is within ``near_edge_tolerance`` (relative) of
    a band bound; ``near_bound`` and ``near_tier`` name that bound and the tier across it.
    """

    scheme: str
    population: float
    tier: str | None
    label: str | None
    lower: float | None
    upper: float | None
    status: str
    edges: str
    tier_below: str | None
    tier_above: str | None
    near_edge: bool
    near_bound: float | None
    near_tier: str | None
    inferred: bool
    source: str
    note: str

    def as_dict(self) -> dict[str, Any]:
        """The result as a plain dict."""
        return asdict(self)


def _in_band(p: float, band: Band, edges: str) -> bool:
    if edges == "lower_inclusive":
        return band.lower <= p < band.upper_or_inf
    return band.lower < p <= band.upper_or_inf


def _resolve_scheme(scheme: str | TierScheme, cfg: TierConfig) -> tuple[str, TierScheme]:
    if isinstance(scheme, TierScheme):
        return scheme.title, scheme
    if scheme not in cfg.schemes:
        raise ParameterError(
            "unknown tier scheme", field="scheme", value=scheme,
            hint=f"Use one of: {', '.join(cfg.schemes)}",
        )
    return scheme, cfg.schemes[scheme]


def _check_edges(edges: str) -> str:
    if edges not in EDGE_RULES:
        raise ParameterError(
            "unknown band-edge rule", field="edges", value=edges,
            hint=f"Use one of: {', '.join(EDGE_RULES)}",
        )
    return edges


def _fmt(x: float) -> str:
    return f"{x:,.0f}"


def classify_population(
    population: float,
    scheme: str | TierScheme = "emscg_2009",
    *,
    edges: str | None = None,
    config: TierConfig | str | Path | None = None,
    near_edge_tolerance: float | None = None,
) -> TierResult:
    """Classify a planning population into a tier of ``scheme``.

    Args:
        population: planning population (people), > 0.
        scheme: scheme name in the tier file (``emscg_2009``, ``dh_2003``, ``stp_2016``) or a
            :class:`TierScheme`.
        edges: ``lower_inclusive`` (bands are [lower, upper)) or ``upper_inclusive``
            ((lower, upper]); default from the tier file.
        config: a loaded :class:`TierConfig` or a path to a tier file (default
            ``parameters/tiers.yaml``).
        near_edge_tolerance: relative distance to a bound flagged as ``near_edge`` (default
            from the tier file, 0.05).

    Returns:
        :class:`TierResult`: tier and label (``None`` outside every band), band bounds, status
        (``in_band`` / ``between_bands`` / ``below_lowest_band`` / ``above_highest_band``),
        neighbouring tiers for gaps, and the near-edge flag.
    """
    cfg = _config(config)
    p = check_positive(population, "population")
    name, sch = _resolve_scheme(scheme, cfg)
    rule = _check_edges(edges or cfg.edges)
    tol = cfg.near_edge_tolerance if near_edge_tolerance is None else float(near_edge_tolerance)
    if not 0 <= tol < 1:
        raise ParameterError("must be in [0, 1)", field="near_edge_tolerance", value=tol)

    bands = sch.bands
    hit = next((b for b in bands if _in_band(p, b, rule)), None)
    below = [b for b in bands if b.upper_or_inf < p or (b.upper_or_inf == p and rule == "lower_inclusive")]
    above = [b for b in bands if b.lower > p or (b.lower == p and rule == "upper_inclusive")]
    tier_below = below[-1].tier if below and hit is None else None
    tier_above = above[0].tier if above and hit is None else None

    if hit is not None:
        status = "in_band"
        note = f"{_fmt(p)} is in the band {hit.label} ({_band_text(hit, rule)})"
    elif below and above:
        status = "between_bands"
        note = (
            f"{_fmt(p)} falls between the bands {below[-1].label} and {above[0].label}: the scheme "
            "assigns no tier to this population"
        )
    elif above:
        status = "below_lowest_band"
        note = (f"{_fmt(p)} is below the lowest band ({above[0].label}, "
                f"{_band_text(above[0], rule)})")
    else:
        status = "above_highest_band"
        note = (f"{_fmt(p)} is above the highest band ({below[-1].label}, "
                f"{_band_text(below[-1], rule)})")

    # nearest bound and the tier on its other side
    bounds: list[tuple[float, Band | None, Band | None]] = []
    for b in bands:
        for bound in (b.lower, b.upper):
            if bound is None or bound <= 0:
                continue
            lower_side = next((x for x in bands if x.upper == bound), None)
            upper_side = next((x for x in bands if x.lower == bound), None)
            if all(bound != x[0] for x in bounds):
                bounds.append((bound, lower_side, upper_side))
    near_edge, near_bound, near_tier = False, None, None
    if bounds:
        bound, lo_side, hi_side = min(bounds, key=lambda x: abs(p - x[0]))
        if abs(p - bound) <= tol * bound:
            near_edge, near_bound = True, bound
            if p > bound:
                other = lo_side
            elif p < bound:
                other = hi_side
            else:
                other = hi_side if hit is lo_side else (lo_side if hit is hi_side else None)
            near_tier = other.tier if other is not None else None
            across = f" (the {near_tier} band is on the other side)" if near_tier else ""
            note += f"; within {tol:.0%} of the {_fmt(bound)} bound{across}"

    return TierResult(
        scheme=name, population=p,
        tier=hit.tier if hit else None, label=hit.label if hit else None,
        lower=hit.lower if hit else None, upper=hit.upper if hit else None,
        status=status, edges=rule, tier_below=tier_below, tier_above=tier_above,
        near_edge=near_edge, near_bound=near_bound, near_tier=near_tier,
        inferred=sch.inferred, source=hit.source if hit else sch.source, note=note,
    )


def _band_text(b: Band, rule: str) -> str:
    hi = "no upper bound" if b.upper is None else _fmt(b.upper)
    if rule == "lower_inclusive":
        return f"{_fmt(b.lower)} <= population < {hi}" if b.upper is not None else f">= {_fmt(b.lower)}"
    return f"{_fmt(b.lower)} < population <= {hi}" if b.upper is not None else f"> {_fmt(b.lower)}"


def tier_for_service(
    min_planning_population: float,
    schemes: list[str] | tuple[str, ...] | None = None,
    *,
    edges: str | None = None,
    config: TierConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Tier of a service under each scheme, given its minimum planning population.

    Args:
        min_planning_population: the smallest population the service should be planned for
            (for example minimum caseload / crude incidence rate), people.
        schemes: scheme names (default: every scheme in the tier file, in file order).
        edges: band-edge rule (default from the tier file).
        config: a loaded :class:`TierConfig` or a tier file path.

    Returns:
        DataFrame, one row per scheme: ``scheme, tier, label, lower, upper, status, near_edge,
        near_tier, inferred, note, source``.
    """
    cfg = _config(config)
    names = list(cfg.schemes) if schemes is None else list(schemes)
    rows = []
    for name in names:
        r = classify_population(min_planning_population, name, edges=edges, config=cfg)
        rows.append({
            "scheme": r.scheme, "population": r.population, "tier": r.tier, "label": r.label,
            "lower": r.lower, "upper": r.upper, "status": r.status, "edges": r.edges,
            "near_edge": r.near_edge, "near_tier": r.near_tier, "inferred": r.inferred,
            "note": r.note, "source": r.source,
        })
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------
# Band boundary (shared with the Carter rules in :mod:`hna.carter`)


def above_boundary(population: float, bound: float, edges: str) -> bool:
    """Is ``population`` on the upper side of ``bound`` under the band-edge rule?

    ``lower_inclusive``: population >= bound (a population on the bound belongs to the band
    above); ``upper_inclusive``: population > bound. The tier chart and the Carter rules both
    use this, so 1,000,000 is treated the same way by both.
    """
    rule = _check_edges(edges)
    return population >= bound if rule == "lower_inclusive" else population > bound


# --------------------------------------------------------------------------------------------
# Tier of a catalogue service; tiers from a score (segmentation cut-offs)


def service_tiers(
    service: Any,
    min_planning_population: float,
    schemes: list[str] | tuple[str, ...] | None = None,
    edges: str | None = None,
) -> pd.DataFrame:
    """Commissioning tier of a catalogue service under each scheme.

    Schemes and the band-edge rule default to the service's ``tiers`` settings (edges then to
    ``parameters/tiers.yaml``). ``hna.thresholds.service_tiers`` delegates here.

    Args:
        service: service id, path or loaded :class:`hna.services.Service`.
        min_planning_population: minimum planning population (people), > 0.
        schemes: scheme names (default the service's).
        edges: band-edge rule (default the service's, then the tier file's).

    Returns:
        :func:`tier_for_service` table.
    """
    from hna.services import load_service

    svc = load_service(service)
    names = list(schemes) if schemes is not None else list(svc.tiers.schemes)
    rule = edges if edges is not None else svc.tiers.edges
    p = check_positive(min_planning_population, "min_planning_population")
    return tier_for_service(p, names, edges=rule)


class ScoreCutoff(StrictModel):
    """A tier given to scores ``< below`` (the last cut-off has no ``below``)."""

    tier: str
    below: float | None = None


def check_cutoffs(
    cutoffs: list[ScoreCutoff],
    *,
    scheme: str | None = None,
    config: TierConfig | str | Path | None = None,
    source: str = "cut-offs",
    field: str = "cutoffs",
) -> None:
    """Check score cut-offs: increasing ``below``, last open-ended, tiers of ``scheme``.

    Raises:
        ParameterError: naming ``source`` and ``field[i]``.
    """
    prev = -math.inf
    for i, c in enumerate(cutoffs):
        last = i == len(cutoffs) - 1
        if last and c.below is not None:
            raise ParameterError("the last cut-off must not have `below`", source=source,
                                 field=f"{field}[{i}].below", value=c.below)
        if not last:
            if c.below is None:
                raise ParameterError("every cut-off but the last needs `below`", source=source,
                                     field=f"{field}[{i}].below")
            if c.below <= prev:
                raise ParameterError("cut-offs must increase", source=source,
                                     field=f"{field}[{i}].below", value=c.below)
            prev = c.below
    if scheme is None:
        return
    cfg = _config(config)
    if scheme not in cfg.schemes:
        raise ParameterError("unknown tier scheme", source=source, field="tier_scheme",
                             value=scheme, hint=f"Use one of: {', '.join(cfg.schemes)}")
    known = {b.tier for b in cfg.schemes[scheme].bands}
    for i, c in enumerate(cutoffs):
        if c.tier not in known:
            raise ParameterError(f"not a tier of scheme '{scheme}'", source=source,
                                 field=f"{field}[{i}].tier", value=c.tier,
                                 hint=f"Use one of: {', '.join(sorted(known))}")


def tier_from_score(score: float, cutoffs: list[ScoreCutoff]) -> str:
    """Tier of a weighted score: the first cut-off with ``score < below`` (else the last)."""
    for c in cutoffs:
        if c.below is None or score < c.below:
            return c.tier
    return cutoffs[-1].tier

"""Appraisal frameworks from the seeds: segmentation, prioritisation and scoring.

- :func:`segment`: the NHS England segmentation tool (F003): five factors (patient numbers,
  provision, financial risk, service specifications, strategy) on ordinal scales, weighted,
  cut into commissioning tiers; demand-derived factors are computed from the numbers passed in,
  the others come from ``parameters/appraisal/segmentation.yaml``; overrides are recorded with
  their reason.
- :func:`prioritise`: the nine criteria and four commissioning-focus categories of F001
  Appendix 9 (``parameters/appraisal/prioritisation.yaml``).
- :func:`thames_valley_score`: the Thames Valley LSCG impact assessment, 8 categories x 4 levels,
  totals in [8, 32] (F001 case study 6, ``parameters/appraisal/thames_valley.yaml``).
- :func:`fitness_for_purpose`: the nine-dimension Y/N/P framework of F001 Appendix 10.
- :func:`check_survey_consistency`: arithmetic checks of the F001 Appendix 4 survey table (row 34
  reads 2 / 4 / 2, which cannot be right).

Formulas, defaults and inferences are documented in ``docs/methods/appraisal.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from hna.errors import DataError, ParameterError
from hna.parameters import PARAMETERS_DIR, StrictModel, read_parameter_file
from hna.tiers import TierConfig, load_tier_schemes

__all__ = [
    "SEGMENTATION_FACTORS",
    "PRIORITISATION_CRITERIA",
    "FOCUS_CATEGORIES",
    "THAMES_VALLEY_CATEGORIES",
    "SegmentationConfig",
    "PrioritisationConfig",
    "ThamesValleyConfig",
    "FitnessFramework",
    "load_segmentation",
    "load_prioritisation",
    "load_thames_valley",
    "load_fitness_framework",
    "segment",
    "prioritise",
    "thames_valley_score",
    "fitness_for_purpose",
    "check_survey_consistency",
]

APPRAISAL_DIR = PARAMETERS_DIR / "appraisal"

#: The five factors of the F003 segmentation tool.
SEGMENTATION_FACTORS: tuple[str, ...] = (
    "patient_numbers", "provision", "financial_risk", "service_specifications", "strategy",
)
#: The nine criteria of F001 Appendix 9 (keys used in the YAML).
PRIORITISATION_CRITERIA: tuple[str, ...] = (
    "vulnerability", "increasing_need", "designation_review", "access_risk",
    "governance_outcomes", "inequity", "financial_risk", "nsscg_lead_work", "high_risk_factors",
)
#: The four commissioning-focus categories of F001 Appendix 9.
FOCUS_CATEGORIES: tuple[str, ...] = (
    "service_designation", "service_review", "contestability_benchmarking",
    "routine_contract_management",
)
#: The eight impact categories of the Thames Valley scoring (F001 case study 6).
THAMES_VALLEY_CATEGORIES: tuple[str, ...] = (
    "legal", "media", "political", "health_impact", "government_policy", "evidence_base",
    "financial", "patient_numbers",
)

_IDENT = r"^[A-Za-z_]\w*$"



def _path(path: str | Path | None, default: str) -> Path:
    return Path(path) if path is not None else APPRAISAL_DIR / default


# ============================================================================================
# Segmentation (F003)


class ScoreBin(StrictModel):
    """A value range scored ``score``: ``min <= value < max`` (missing min = 0, max = no bound)."""

    score: int
    min: float = Field(default=0.0, ge=0)
    max: float | None = None
    label: str = ""


class SegmentationFactor(StrictModel):
    """One factor: either derived from demand (``derived_from`` + ``bins``) or scored per service
    from ``levels`` (score -> description).
    """

    label: str
    weight: float = Field(default=1.0, ge=0)
    derived_from: Literal["annual_demand", "annual_cost", "cost_per_case", "cost_sd"] | None = None
    bins: list[ScoreBin] | None = None
    levels: dict[int, str] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SegmentationFactor:
        if self.derived_from is not None:
            if not self.bins:
                raise ValueError("a factor with `derived_from` needs `bins`")
            if self.levels is not None:
                raise ValueError("give either `derived_from` + `bins` or `levels`, not both")
            edges = sorted(self.bins, key=lambda b: b.min)
            if edges[0].min != 0:
                raise ValueError("bins must start at 0")
            for a, b in zip(edges, edges[1:], strict=False):
                if a.max is None or a.max != b.min:
                    raise ValueError(f"bins must be contiguous: a bin ends at {a.max} but the next starts at {b.min:g}")
            if edges[-1].max is not None:
                raise ValueError("the last bin must have no `max` (no upper bound)")
        elif not self.levels:
            raise ValueError("a factor needs `levels` (or `derived_from` with `bins`)")
        elif self.bins is not None:
            raise ValueError("`bins` need `derived_from`")
        return self


class Override(StrictModel):
    tier: str
    reason: str = Field(min_length=3)


class ServiceSegmentation(StrictModel):
    scores: dict[str, int] = Field(default_factory=dict)
    override: Override | None = None


class Cutoff(StrictModel):
    tier: str
    below: float | None = None


class Scale(StrictModel):
    min: int
    max: int

    @model_validator(mode="after")
    def _order(self) -> Scale:
        if self.max <= self.min:
            raise ValueError("max must be greater than min")
        return self


class SegmentationConfig(StrictModel):
    """Contents of ``parameters/appraisal/segmentation.yaml``."""

    source: str
    tier_scheme: str | None = None
    scale: Scale
    factors: dict[str, SegmentationFactor]
    cutoffs: list[Cutoff] = Field(min_length=1)
    services: dict[str, ServiceSegmentation] = Field(default_factory=dict)

    @property
    def manual_factors(self) -> list[str]:
        return [k for k, f in self.factors.items() if f.derived_from is None]


def _err(msg: str, source: Path | str, field: str, value: Any = None, hint: str | None = None) -> ParameterError:
    return ParameterError(msg, source=str(source), field=field, value=value, hint=hint)


def _check_segmentation(cfg: SegmentationConfig, source: Path | str,
                        tiers: TierConfig | str | Path | None) -> None:
    lo, hi = cfg.scale.min, cfg.scale.max
    missing = [f for f in SEGMENTATION_FACTORS if f not in cfg.factors]
    if missing:
        raise _err("the five F003 factors must all be present (weight 0 to switch one off)",
                   source, "factors", missing)
    if sum(f.weight for f in cfg.factors.values()) <= 0:
        raise _err("at least one factor needs a positive weight", source, "factors")
    for name, f in cfg.factors.items():
        for i, b in enumerate(f.bins or []):
            if not lo <= b.score <= hi:
                raise _err(f"score must be in {lo}..{hi}", source, f"factors.{name}.bins[{i}].score", b.score)
        for level in f.levels or {}:
            if not lo <= level <= hi:
                raise _err(f"level must be in {lo}..{hi}", source, f"factors.{name}.levels", level)
    prev = -math.inf
    for i, c in enumerate(cfg.cutoffs):
        last = i == len(cfg.cutoffs) - 1
        if last and c.below is not None:
            raise _err("the last cut-off must not have `below`", source, f"cutoffs[{i}].below", c.below)
        if not last:
            if c.below is None:
                raise _err("every cut-off but the last needs `below`", source, f"cutoffs[{i}].below")
            if c.below <= prev:
                raise _err("cut-offs must increase", source, f"cutoffs[{i}].below", c.below)
            prev = c.below
    tiers_named = [c.tier for c in cfg.cutoffs]
    if cfg.tier_scheme is not None:
        tcfg = tiers if isinstance(tiers, TierConfig) else load_tier_schemes(tiers)
        if cfg.tier_scheme not in tcfg.schemes:
            raise _err("unknown tier scheme", source, "tier_scheme", cfg.tier_scheme,
                       hint=f"Use one of: {', '.join(tcfg.schemes)}")
        known = {b.tier for b in tcfg.schemes[cfg.tier_scheme].bands}
        for i, t in enumerate(tiers_named):
            if t not in known:
                raise _err(f"not a tier of scheme '{cfg.tier_scheme}'", source, f"cutoffs[{i}].tier", t,
                           hint=f"Use one of: {', '.join(sorted(known))}")
    manual = cfg.manual_factors
    for svc, entry in cfg.services.items():
        for k, v in entry.scores.items():
            if k not in cfg.factors:
                raise _err("unknown factor", source, f"services.{svc}.scores.{k}", v,
                           hint=f"Use one of: {', '.join(manual)}")
            if k not in manual:
                raise _err("this factor is derived from demand and cannot be scored by hand",
                           source, f"services.{svc}.scores.{k}", v,
                           hint="Use an `override:` with a reason to change the tier")
            if not lo <= v <= hi:
                raise _err(f"score must be in {lo}..{hi}", source, f"services.{svc}.scores.{k}", v)
        absent = [k for k in manual if k not in entry.scores]
        if absent:
            raise _err("missing scores", source, f"services.{svc}.scores", absent)
        if entry.override is not None and entry.override.tier not in tiers_named:
            raise _err("override tier is not one of the cut-off tiers", source,
                       f"services.{svc}.override.tier", entry.override.tier,
                       hint=f"Use one of: {', '.join(tiers_named)}")


def load_segmentation(path: str | Path | None = None, *,
                      tiers: TierConfig | str | Path | None = None) -> SegmentationConfig:
    """Load and validate the segmentation tool (default ``parameters/appraisal/segmentation.yaml``).

    ``tiers`` is the tier file (or loaded config) the cut-off tiers are checked against.
    """
    p = _path(path, "segmentation.yaml")
    cfg = read_parameter_file(p, SegmentationConfig)
    _check_segmentation(cfg, p, tiers)
    return cfg


def _numeric_column(df: pd.DataFrame, col: str, source: str) -> pd.Series:
    values = pd.to_numeric(df[col], errors="coerce")
    bad = values.isna() | ~np.isfinite(values.to_numpy(dtype=float, na_value=np.nan)) | (values < 0)
    if bad.any():
        raise DataError("must be non-negative numbers", source=source, field=col,
                        value=df.loc[bad, col].iloc[0])
    return values.astype(float)


def _score_bins(values: pd.Series, bins: list[ScoreBin]) -> pd.Series:
    out = pd.Series(np.nan, index=values.index)
    for b in bins:
        upper = math.inf if b.max is None else b.max
        out[(values >= b.min) & (values < upper)] = b.score
    return out.astype(int)


def segment(
    demand: pd.DataFrame,
    config: SegmentationConfig | str | Path | None = None,
    *,
    tiers: TierConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Classify services to commissioning tiers with the F003 five-factor segmentation tool.

    Args:
        demand: one row per service (per ``year`` if that column is present) with columns
            ``service``, ``annual_demand`` (cases or patients a year) and ``annual_cost``
            (annual spend, GBP = demand x unit cost). If ``annual_cost`` is absent a
            ``unit_cost`` column is used: annual_cost = annual_demand x unit_cost.
        config: segmentation config or YAML path (default
            ``parameters/appraisal/segmentation.yaml``), holding scales, weights, cut-offs and
            per-service scores for provision, service specifications and strategy.
        tiers: tier file used to check the cut-off tier names.

    Returns:
        DataFrame, one row per service (and year): inputs, ``<factor>_value`` for derived
        factors, ``<factor>_score`` for all five, ``weighted_score`` (sum of weight x score /
        sum of weights), ``tier_scored`` (from the cut-offs), ``tier`` (after any override),
        ``overridden`` and ``override_reason``.

    Raises:
        DataError: missing columns, negative or non-numeric values, duplicate services.
        ParameterError: a service has no entry in the YAML, or the YAML is invalid.
    """
    if isinstance(config, SegmentationConfig):
        cfg, src = config, "segmentation config"
        _check_segmentation(cfg, src, tiers)
    else:
        src = str(_path(config, "segmentation.yaml"))
        cfg = load_segmentation(config, tiers=tiers)
    if not isinstance(demand, pd.DataFrame):
        raise DataError("expected a DataFrame", source="demand", value=type(demand).__name__)
    df = demand.copy()
    needed = ["service", "annual_demand"]
    if "annual_cost" not in df.columns:
        if "unit_cost" not in df.columns:
            raise DataError("missing column", source="demand", field="annual_cost",
                            hint="Give annual_cost (annual spend) or unit_cost")
        df["annual_cost"] = _numeric_column(df, "annual_demand", "demand") * _numeric_column(
            df, "unit_cost", "demand")
    for col in needed:
        if col not in df.columns:
            raise DataError("missing column", source="demand", field=col,
                            hint="Columns needed: service, annual_demand, annual_cost")
    df["annual_demand"] = _numeric_column(df, "annual_demand", "demand")
    df["annual_cost"] = _numeric_column(df, "annual_cost", "demand")
    key = ["service", "year"] if "year" in df.columns else ["service"]
    dup = df.duplicated(key)
    if dup.any():
        raise DataError("one row per service expected" + (" and year" if len(key) > 1 else ""),
                        source="demand", field="service", value=df.loc[dup, "service"].iloc[0],
                        hint="Aggregate demand to one row per service before segmenting")
    df["service"] = df["service"].astype(str)
    unknown = sorted(set(df["service"]) - set(cfg.services))
    if unknown:
        raise ParameterError(
            "no segmentation entry for this service", source=src, field=f"services.{unknown[0]}",
            value=unknown[0],
            hint=f"Add scores for {', '.join(cfg.manual_factors)} under services:",
        )

    derived: dict[str, pd.Series] = {
        "annual_demand": df["annual_demand"],
        "annual_cost": df["annual_cost"],
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        cpc = (df["annual_cost"] / df["annual_demand"]).where(df["annual_demand"] > 0, 0.0)
    derived["cost_per_case"] = cpc
    derived["cost_sd"] = cpc * np.sqrt(df["annual_demand"])

    out = df[key + ["annual_demand", "annual_cost"]].copy()
    weighted = pd.Series(0.0, index=df.index)
    total_w = sum(f.weight for f in cfg.factors.values())
    for name, f in cfg.factors.items():
        if f.derived_from is not None:
            values = derived[f.derived_from]
            out[f"{name}_value"] = values
            scores = _score_bins(values, f.bins or [])
        else:
            scores = df["service"].map(lambda s, n=name: cfg.services[s].scores[n]).astype(int)
        out[f"{name}_score"] = scores
        weighted = weighted + f.weight * scores
    out["weighted_score"] = weighted / total_w

    def tier_of(score: float) -> str:
        for c in cfg.cutoffs:
            if c.below is None or score < c.below:
                return c.tier
        return cfg.cutoffs[-1].tier  # pragma: no cover - last cut-off has no bound

    out["tier_scored"] = out["weighted_score"].map(tier_of)
    ov = df["service"].map(lambda s: cfg.services[s].override)
    out["overridden"] = ov.map(lambda o: o is not None).astype(bool)
    out["tier"] = [o.tier if o is not None else t for o, t in zip(ov, out["tier_scored"], strict=True)]
    out["override_reason"] = ov.map(lambda o: o.reason if o is not None else "")
    return out.reset_index(drop=True)


# ============================================================================================
# Prioritisation (F001 Appendix 9)


class Criterion(StrictModel):
    text: str
    weight: float = Field(default=1.0, ge=0)


class FocusCategory(StrictModel):
    label: str
    text: str


class ServicePriority(StrictModel):
    criteria: dict[str, int] = Field(default_factory=dict)
    focus: list[str] | None = None


class PrioritisationConfig(StrictModel):
    """Contents of ``parameters/appraisal/prioritisation.yaml``."""

    source: str
    scale_max: int = Field(default=1, ge=1)
    criteria: dict[str, Criterion]
    focus_categories: dict[str, FocusCategory]
    focus_rules: dict[str, str] = Field(default_factory=dict)
    default_focus: str
    services: dict[str, ServicePriority] = Field(default_factory=dict)


def _check_prioritisation(cfg: PrioritisationConfig, source: Path | str) -> None:
    missing = [c for c in PRIORITISATION_CRITERIA if c not in cfg.criteria]
    if missing:
        raise _err("the nine App 9 criteria must all be present (weight 0 to switch one off)",
                   source, "criteria", missing)
    cats = set(cfg.focus_categories)
    if set(FOCUS_CATEGORIES) - cats:
        raise _err("the four App 9 focus categories must all be present", source,
                   "focus_categories", sorted(set(FOCUS_CATEGORIES) - cats))
    for crit, cat in cfg.focus_rules.items():
        if crit not in cfg.criteria:
            raise _err("unknown criterion", source, f"focus_rules.{crit}", crit)
        if cat not in cats:
            raise _err("unknown focus category", source, f"focus_rules.{crit}", cat,
                       hint=f"Use one of: {', '.join(cfg.focus_categories)}")
    if cfg.default_focus not in cats:
        raise _err("unknown focus category", source, "default_focus", cfg.default_focus)
    for svc, entry in cfg.services.items():
        for k, v in entry.criteria.items():
            if k not in cfg.criteria:
                raise _err("unknown criterion", source, f"services.{svc}.criteria.{k}", k,
                           hint=f"Use one of: {', '.join(cfg.criteria)}")
            if not 0 <= v <= cfg.scale_max:
                raise _err(f"score must be in 0..{cfg.scale_max}", source,
                           f"services.{svc}.criteria.{k}", v)
        for i, cat in enumerate(entry.focus or []):
            if cat not in cats:
                raise _err("unknown focus category", source, f"services.{svc}.focus[{i}]", cat,
                           hint=f"Use one of: {', '.join(cfg.focus_categories)}")


def load_prioritisation(path: str | Path | None = None) -> PrioritisationConfig:
    """Load and validate the App 9 criteria (default ``parameters/appraisal/prioritisation.yaml``)."""
    p = _path(path, "prioritisation.yaml")
    cfg = read_parameter_file(p, PrioritisationConfig)
    _check_prioritisation(cfg, p)
    return cfg


def prioritise(
    assessments: pd.DataFrame | None = None,
    *,
    config: PrioritisationConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Rank services for the annual work programme on the nine F001 Appendix 9 criteria.

    Args:
        assessments: optional DataFrame with a ``service`` column and one column per criterion
            (0..scale_max; booleans allowed; absent criteria count 0) and optionally ``focus``
            (a category or list of categories). Default: the ``services:`` of the YAML.
        config: prioritisation config or YAML path.

    Returns:
        DataFrame sorted by ``rank``: ``service``, the nine criteria, ``n_flagged`` (criteria
        scored above 0), ``score`` (sum of weight x criterion score), ``rank`` (1 = highest
        score; ties share the lower rank number), ``focus`` (list of categories),
        ``focus_source`` (``given`` or ``suggested`` from ``focus_rules``), ``focus_labels``.
    """
    if isinstance(config, PrioritisationConfig):
        cfg, src = config, "prioritisation config"
        _check_prioritisation(cfg, src)
    else:
        src = str(_path(config, "prioritisation.yaml"))
        cfg = load_prioritisation(config)
    crits = list(cfg.criteria)
    if assessments is None:
        rows = []
        for svc, e in cfg.services.items():
            rows.append({"service": svc, **{c: e.criteria.get(c, 0) for c in crits}, "focus": e.focus})
        table = pd.DataFrame(rows, columns=["service", *crits, "focus"])
        src_tab = src
    else:
        if not isinstance(assessments, pd.DataFrame) or "service" not in assessments.columns:
            raise DataError("expected a DataFrame with a `service` column", source="assessments",
                            field="service")
        table = assessments.copy()
        src_tab = "assessments"
        extra = [c for c in table.columns if c not in {"service", "focus", *crits}]
        if extra:
            raise ParameterError("unknown criterion", source=src_tab, field=extra[0],
                                 hint=f"Use: {', '.join(crits)}")
        for c in crits:
            if c not in table.columns:
                table[c] = 0
        if "focus" not in table.columns:
            table["focus"] = None
    for c in crits:
        col = table[c]
        if col.dtype == bool:
            col = col.astype(int)
        vals = pd.to_numeric(col, errors="coerce")
        bad = vals.isna() | (vals < 0) | (vals > cfg.scale_max) | (vals != np.floor(vals))
        if bad.any():
            raise ParameterError(f"criterion scores must be whole numbers in 0..{cfg.scale_max}",
                                 source=src_tab, field=c, value=table.loc[bad, c].iloc[0])
        table[c] = vals.astype(int)

    weights = pd.Series({c: cfg.criteria[c].weight for c in crits})
    table["n_flagged"] = (table[crits] > 0).sum(axis=1).astype(int)
    table["score"] = table[crits].mul(weights, axis=1).sum(axis=1).astype(float)

    focus, source = [], []
    for _, row in table.iterrows():
        given = row["focus"]
        if isinstance(given, str):
            given = [given]
        if given is not None and not (isinstance(given, float) and math.isnan(given)) and len(given):
            for cat in given:
                if cat not in cfg.focus_categories:
                    raise ParameterError("unknown focus category", source=src_tab, field="focus",
                                         value=cat, hint=f"Use one of: {', '.join(cfg.focus_categories)}")
            focus.append(list(given))
            source.append("given")
            continue
        cats = [cfg.focus_rules[c] for c in crits if row[c] > 0 and c in cfg.focus_rules]
        ordered = [k for k in cfg.focus_categories if k in cats] or [cfg.default_focus]
        focus.append(ordered)
        source.append("suggested")
    table["focus"] = focus
    table["focus_source"] = source
    table["focus_labels"] = [
        "; ".join(cfg.focus_categories[c].label for c in f) for f in focus
    ]
    table["rank"] = table["score"].rank(method="min", ascending=False).astype(int)
    table = table.sort_values(["rank", "n_flagged", "service"], ascending=[True, False, True])
    cols = ["service", *crits, "n_flagged", "score", "rank", "focus", "focus_source", "focus_labels"]
    return table[cols].reset_index(drop=True)


# ============================================================================================
# Thames Valley impact scoring (F001 case study 6)


class ImpactCategory(StrictModel):
    label: str
    weight: float = Field(default=1.0, ge=0)


class Pressure(StrictModel):
    name: str
    area: str | None = None
    scores: dict[str, int | str]


class ThamesValleyConfig(StrictModel):
    """Contents of ``parameters/appraisal/thames_valley.yaml``."""

    source: str
    categories: dict[str, ImpactCategory]
    levels: dict[str, int]
    areas: dict[str, str] = Field(default_factory=dict)
    pressures: list[Pressure] = Field(default_factory=list)


def _check_thames_valley(cfg: ThamesValleyConfig, source: Path | str) -> None:
    if set(cfg.categories) != set(THAMES_VALLEY_CATEGORIES):
        raise _err("the eight case-study categories are required, and only those", source,
                   "categories", sorted(set(cfg.categories) ^ set(THAMES_VALLEY_CATEGORIES)))
    if sorted(cfg.levels.values()) != [1, 2, 3, 4]:
        raise _err("the four levels must score 1, 2, 3 and 4", source, "levels", cfg.levels)
    if sum(c.weight for c in cfg.categories.values()) <= 0:
        raise _err("at least one category needs a positive weight", source, "categories")
    for i, pr in enumerate(cfg.pressures):
        for cat, lvl in pr.scores.items():
            if cat not in cfg.categories:
                raise _err("unknown category", source, f"pressures[{i}].scores.{cat}", cat,
                           hint=f"Use: {', '.join(cfg.categories)}")
            _level(lvl, cfg, source, f"pressures[{i}].scores.{cat}")
        absent = [c for c in cfg.categories if c not in pr.scores]
        if absent:
            raise _err("every category must be scored", source, f"pressures[{i}].scores", absent)
        if pr.area is not None and cfg.areas and pr.area not in cfg.areas:
            raise _err("unknown area", source, f"pressures[{i}].area", pr.area,
                       hint=f"Use one of: {', '.join(cfg.areas)}")


def _level(value: Any, cfg: ThamesValleyConfig, source: Path | str, field: str) -> int:
    if isinstance(value, str) and value.strip().upper() in cfg.levels:
        return cfg.levels[value.strip().upper()]
    if isinstance(value, bool):
        raise _err("level must be 1-4 or A-D", source, field, value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise _err("level must be 1-4 or A-D", source, field, value) from None
    if f not in (1, 2, 3, 4):
        raise _err("level must be 1-4 or A-D", source, field, value)
    return int(f)


def load_thames_valley(path: str | Path | None = None) -> ThamesValleyConfig:
    """Load and validate the Thames Valley scoring (default ``parameters/appraisal/thames_valley.yaml``)."""
    p = _path(path, "thames_valley.yaml")
    cfg = read_parameter_file(p, ThamesValleyConfig)
    _check_thames_valley(cfg, p)
    return cfg


def thames_valley_score(
    pressures: pd.DataFrame | Sequence[Mapping[str, Any]] | None = None,
    *,
    weights: Mapping[str, float] | None = None,
    config: ThamesValleyConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Score cost pressures on the Thames Valley LSCG 8 x 4 impact assessment.

    Each of the eight categories (legal, media, political, health impact on patients, government
    policy, evidence base, financial, patient numbers) is scored at one of four levels, 1-4 (or
    A-D, mapped by the YAML: A=1 ... D=4). ``raw_score`` is the sum, always in [8, 32].
    ``weighted_score`` = sum of w_c x level_c with weights rescaled to sum to 8, so it is also in
    [8, 32] and equals ``raw_score`` with equal weights.

    Args:
        pressures: DataFrame with a ``pressure`` column (or ``name``), one column per category and
            optionally ``area``; or a list of ``{"name", "scores": {...}, "area"}`` mappings.
            Default: the ``pressures:`` of the YAML.
        weights: category -> relative weight (default from the YAML, all 1).
        config: Thames Valley config or YAML path.

    Returns:
        DataFrame sorted by rank: ``pressure``, ``area``, the eight levels, ``raw_score``,
        ``weighted_score``, ``rank`` (1 = highest weighted score) and ``rank_in_area``.

    Raises:
        ParameterError: a level outside 1-4 / A-D, a missing or unknown category, bad weights.
    """
    if isinstance(config, ThamesValleyConfig):
        cfg, src = config, "thames valley config"
        _check_thames_valley(cfg, src)
    else:
        src = str(_path(config, "thames_valley.yaml"))
        cfg = load_thames_valley(config)
    cats = list(cfg.categories)

    if pressures is None:
        rows = [{"pressure": p.name, "area": p.area, **p.scores} for p in cfg.pressures]
        src_tab = src
    elif isinstance(pressures, pd.DataFrame):
        df = pressures.rename(columns={"name": "pressure"})
        if "pressure" not in df.columns:
            raise ParameterError("missing column", source="pressures", field="pressure")
        rows = df.to_dict("records")
        src_tab = "pressures"
    else:
        rows = []
        for i, p in enumerate(pressures):
            if not isinstance(p, Mapping) or "scores" not in p:
                raise ParameterError("each pressure needs `name` and `scores`",
                                     source="pressures", field=f"[{i}]")
            rows.append({"pressure": p.get("name", f"pressure_{i + 1}"), "area": p.get("area"),
                         **p["scores"]})
        src_tab = "pressures"

    out_rows = []
    for i, r in enumerate(rows):
        unknown = [k for k in r if k not in {"pressure", "area", *cats}]
        if unknown:
            raise ParameterError("unknown category", source=src_tab, field=f"[{i}].{unknown[0]}",
                                 hint=f"Use: {', '.join(cats)}")
        missing = [c for c in cats if c not in r or r[c] is None or
                   (isinstance(r[c], float) and math.isnan(r[c]))]
        if missing:
            raise ParameterError("every category must be scored", source=src_tab,
                                 field=f"[{i}].{missing[0]}", value=r.get("pressure"))
        area = r.get("area")
        if isinstance(area, float) and math.isnan(area):
            area = None
        if area is not None and cfg.areas and area not in cfg.areas:
            raise ParameterError("unknown area", source=src_tab, field=f"[{i}].area", value=area,
                                 hint=f"Use one of: {', '.join(cfg.areas)}")
        levels = {c: _level(r[c], cfg, src_tab, f"[{i}].{c}") for c in cats}
        out_rows.append({"pressure": r["pressure"], "area": area, **levels})

    w = {c: cfg.categories[c].weight for c in cats}
    if weights is not None:
        bad = [k for k in weights if k not in cats]
        if bad:
            raise ParameterError("unknown category", source="weights", field=bad[0],
                                 hint=f"Use: {', '.join(cats)}")
        w.update({k: float(v) for k, v in weights.items()})
        if any(not math.isfinite(v) or v < 0 for v in w.values()) or sum(w.values()) <= 0:
            raise ParameterError("weights must be non-negative with a positive sum",
                                 source="weights", value=dict(weights))
    scale = len(cats) / sum(w.values())
    wn = {c: w[c] * scale for c in cats}

    out = pd.DataFrame(out_rows, columns=["pressure", "area", *cats])
    out["raw_score"] = out[cats].sum(axis=1).astype(int)
    out["weighted_score"] = sum(out[c] * wn[c] for c in cats) if len(out) else pd.Series(dtype=float)
    n = len(cats)
    if len(out) and not out["raw_score"].between(n, 4 * n).all():  # pragma: no cover - guarded above
        raise ParameterError("total outside [8, 32]", source=src_tab, field="raw_score")
    if len(out) and not out["weighted_score"].between(n - 1e-9, 4 * n + 1e-9).all():  # pragma: no cover
        raise ParameterError("weighted total outside [8, 32]", source=src_tab, field="weighted_score")
    out["rank"] = out["weighted_score"].rank(method="min", ascending=False).astype(int)
    out["rank_in_area"] = (
        out.groupby(out["area"].fillna(""), sort=False)["weighted_score"]
        .rank(method="min", ascending=False).astype(int)
    )
    return out.sort_values(["rank", "pressure"]).reset_index(drop=True)


# ============================================================================================
# Fitness for purpose (F001 Appendix 10)


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
    return read_parameter_file(_path(path, "fitness_for_purpose.yaml"), FitnessFramework)


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


# ============================================================================================
# Data quality: F001 Appendix 4 survey table


def check_survey_consistency(
    table: pd.DataFrame,
    *,
    total: str = "total",
    parts: Sequence[str] = ("yes_risk_share", "yes_no_risk_share"),
    n_respondents: int | None = 26,
    key: str = "row",
) -> pd.DataFrame:
    """Flag rows of a count table whose parts and total cannot all be right.

    Written for F001 Appendix 4 ("Survey of collective commissioning arrangements by local
    specialised commissioning groups", March 2006): for each service, the number of LSCGs
    collectively procuring it (``total``) splits into "yes and risk share" and "yes, but no risk
    share" (``parts``), out of 26 LSCGs. Checks, per row:

    - ``missing``: some of the numbers are blank (header rows with all numbers blank are skipped);
    - ``part_exceeds_total``: a part is larger than the total;
    - ``sum_mismatch``: the parts do not add up to the total;
    - ``exceeds_respondents``: a count is larger than ``n_respondents``.

    Row 34 (specialised orthopaedic services) reads 2 / 4 / 2 and fails the second and third.

    Returns:
        DataFrame of the flagged rows: ``key``, the numbers, ``issues`` (list of issue codes)
        and ``detail``. Empty when every row is consistent.
    """
    if not isinstance(table, pd.DataFrame):
        raise DataError("expected a DataFrame", source="survey table", value=type(table).__name__)
    cols = [total, *parts]
    for c in [key, *cols]:
        if c not in table.columns:
            raise DataError("missing column", source="survey table", field=c)
    nums = table[cols].apply(pd.to_numeric, errors="coerce")
    flagged = []
    for idx in table.index:
        vals = nums.loc[idx]
        if vals.isna().all():
            continue
        issues, detail = [], []
        if vals.isna().any():
            issues.append("missing")
            detail.append("blank " + ", ".join(c for c in cols if pd.isna(vals[c])))
        t = vals[total]
        ps = vals[list(parts)]
        if not pd.isna(t):
            over = [p for p in parts if not pd.isna(ps[p]) and ps[p] > t]
            if over:
                issues.append("part_exceeds_total")
                detail.append(", ".join(f"{p} {ps[p]:g} > {total} {t:g}" for p in over))
            if not ps.isna().any() and ps.sum() != t:
                issues.append("sum_mismatch")
                detail.append(f"{' + '.join(f'{ps[p]:g}' for p in parts)} = {ps.sum():g} != {t:g}")
        if n_respondents is not None and (vals.dropna() > n_respondents).any():
            issues.append("exceeds_respondents")
            detail.append(f"count above {n_respondents}")
        if issues:
            flagged.append({key: table.at[idx, key], **{c: vals[c] for c in cols},
                            "issues": issues, "detail": "; ".join(detail)})
    return pd.DataFrame(flagged, columns=[key, *cols, "issues", "detail"])

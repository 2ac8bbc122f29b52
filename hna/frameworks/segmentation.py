"""The NHS England segmentation tool (F003): five factors to a commissioning level.

Seed: F003 (NHS England South, "Specialised Commissioning and STPs", 2016/17, 'Background'): the
149 services were classified "based around five factors (patient numbers, provision, financial
risk, service specifications and strategy)" into national/regional, sub-regional hub or
STP/multi-STP level. F003 gives neither scales, weights nor cut-offs: those in
``parameters/appraisal/segmentation.yaml`` are hna's and marked ``inferred``; the output carries
an ``inferred`` column. The tier for a weighted score comes from :func:`hna.tiers.tier_from_score`.

Demand-derived factors are scored from the numbers passed in; the others per service from the
YAML (or from a catalogue, :func:`hna.frameworks.catalogues.segment_catalogue`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from hna.errors import DataError, ParameterError
from hna.frameworks._common import config_path, param_error, resolve_config
from hna.parameters import StrictModel, read_parameter_file
from hna.tiers import ScoreCutoff, TierConfig, check_cutoffs, tier_from_score

__all__ = [
    "SEGMENTATION_FACTORS",
    "SegmentationConfig",
    "check_segmentation",
    "load_segmentation",
    "segment",
]

#: The five factors of the F003 segmentation tool.
SEGMENTATION_FACTORS: tuple[str, ...] = (
    "patient_numbers", "provision", "financial_risk", "service_specifications", "strategy",
)


class ScoreBin(StrictModel):
    """A value range scored ``score``: ``min <= value < max`` (missing min = 0, max = no bound)."""

    score: int
    min: float = Field(default=0.0, ge=0)
    max: float | None = None
    label: str = ""


class SegmentationFactor(StrictModel):
    """One factor: derived from demand (``derived_from`` + ``bins``) or scored from ``levels``."""

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
    cutoffs: list[ScoreCutoff] = Field(min_length=1)
    inferred: bool = True
    inference: str = Field(min_length=1)
    services: dict[str, ServiceSegmentation] = Field(default_factory=dict)

    @property
    def manual_factors(self) -> list[str]:
        """Factors scored by hand per service (not derived from demand)."""
        return [k for k, f in self.factors.items() if f.derived_from is None]


def check_segmentation(cfg: SegmentationConfig, source: Path | str,
                       tiers: TierConfig | str | Path | None) -> None:
    """Check a segmentation config beyond its schema (factors, scales, cut-offs, services).

    Raises:
        ParameterError: naming the file and field.
    """
    lo, hi = cfg.scale.min, cfg.scale.max
    missing = [f for f in SEGMENTATION_FACTORS if f not in cfg.factors]
    if missing:
        raise param_error("the five F003 factors must all be present (weight 0 to switch one off)",
                   source, "factors", missing)
    if sum(f.weight for f in cfg.factors.values()) <= 0:
        raise param_error("at least one factor needs a positive weight", source, "factors")
    for name, f in cfg.factors.items():
        for i, b in enumerate(f.bins or []):
            if not lo <= b.score <= hi:
                raise param_error(f"score must be in {lo}..{hi}", source, f"factors.{name}.bins[{i}].score", b.score)
        for level in f.levels or {}:
            if not lo <= level <= hi:
                raise param_error(f"level must be in {lo}..{hi}", source, f"factors.{name}.levels", level)
    tiers_named = [c.tier for c in cfg.cutoffs]
    check_cutoffs(cfg.cutoffs, scheme=cfg.tier_scheme, config=tiers, source=str(source))
    manual = cfg.manual_factors
    for svc, entry in cfg.services.items():
        for k, v in entry.scores.items():
            if k not in cfg.factors:
                raise param_error("unknown factor", source, f"services.{svc}.scores.{k}", v,
                           hint=f"Use one of: {', '.join(manual)}")
            if k not in manual:
                raise param_error("this factor is derived from demand and cannot be scored by hand",
                           source, f"services.{svc}.scores.{k}", v,
                           hint="Use an `override:` with a reason to change the tier")
            if not lo <= v <= hi:
                raise param_error(f"score must be in {lo}..{hi}", source, f"services.{svc}.scores.{k}", v)
        absent = [k for k in manual if k not in entry.scores]
        if absent:
            raise param_error("missing scores", source, f"services.{svc}.scores", absent)
        if entry.override is not None and entry.override.tier not in tiers_named:
            raise param_error("override tier is not one of the cut-off tiers", source,
                       f"services.{svc}.override.tier", entry.override.tier,
                       hint=f"Use one of: {', '.join(tiers_named)}")


def load_segmentation(path: str | Path | None = None, *,
                      tiers: TierConfig | str | Path | None = None) -> SegmentationConfig:
    """Load and validate the segmentation tool (default ``parameters/appraisal/segmentation.yaml``).

    ``tiers`` is the tier file (or loaded config) the cut-off tiers are checked against.
    """
    p = config_path(path, "segmentation.yaml")
    cfg = read_parameter_file(p, SegmentationConfig)
    check_segmentation(cfg, p, tiers)
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
            ``unit_cost`` column is used: annual_cost = annual_demand x unit_cost. Columns
            named after the hand-scored factors (``provision``, ``service_specifications``,
            ``strategy``) replace the YAML's per-service scores (for catalogue entries).
        config: segmentation config or YAML path (default
            ``parameters/appraisal/segmentation.yaml``), holding scales, weights, cut-offs and
            per-service scores for provision, service specifications and strategy.
        tiers: tier file used to check the cut-off tier names.

    Returns:
        DataFrame, one row per service (and year): inputs, ``<factor>_value`` for derived
        factors, ``<factor>_score`` for all five, ``weighted_score`` (sum of weight x score /
        sum of weights), ``tier_scored`` (from the cut-offs), ``tier`` (after any override),
        ``overridden``, ``override_reason`` and ``inferred`` (True: the scales, weights and
        cut-offs are hna's inference, not the seed's; show the label wherever the tier is used).

    Raises:
        DataError: missing columns, negative or non-numeric values, duplicate services.
        ParameterError: a service has no entry in the YAML, or the YAML is invalid.
    """
    cfg, src = resolve_config(config, SegmentationConfig,
                              lambda c: load_segmentation(c, tiers=tiers),
                              lambda c, s: check_segmentation(c, s, tiers), "segmentation.yaml",
                              "segmentation config")
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
    manual = cfg.manual_factors
    given = [f for f in manual if f in df.columns]
    if given and len(given) != len(manual):
        raise DataError("give a score column for every hand-scored factor, or none",
                        source="demand", field=sorted(set(manual) - set(given))[0])
    for f in given:
        v = pd.to_numeric(df[f], errors="coerce")
        bad = v.isna() | ~v.between(cfg.scale.min, cfg.scale.max) | (v != np.floor(v))
        if bad.any():
            raise DataError(f"scores must be whole numbers in {cfg.scale.min}..{cfg.scale.max}",
                            source="demand", field=f, value=df.loc[bad, f].iloc[0])
        df[f] = v.astype(int)
    unknown = [] if given else sorted(set(df["service"]) - set(cfg.services))
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
            scores = df[name] if name in given else df["service"].map(
                lambda s, n=name: cfg.services[s].scores[n]).astype(int)
        out[f"{name}_score"] = scores
        weighted = weighted + f.weight * scores
    out["weighted_score"] = weighted / total_w

    out["tier_scored"] = out["weighted_score"].map(lambda x: tier_from_score(x, cfg.cutoffs))
    ov = df["service"].map(lambda s: cfg.services[s].override if s in cfg.services else None)
    out["overridden"] = ov.map(lambda o: o is not None).astype(bool)
    out["tier"] = [o.tier if o is not None else t for o, t in zip(ov, out["tier_scored"], strict=True)]
    out["override_reason"] = ov.map(lambda o: o.reason if o is not None else "")
    out["inferred"] = cfg.inferred
    return out.reset_index(drop=True)

"""Thames Valley LSCG impact assessment of cost pressures (F001 App 5 case study 6).

Eight categories (legal, media, political, health impact on patients, government policy,
evidence base, financial, patient numbers), four levels A-D each; "the maximum score any cost
pressure could attain would be 32. The minimum would be 8." Settings and example pressures:
``parameters/appraisal/thames_valley.yaml``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import Field

from hna.errors import ParameterError
from hna.frameworks._common import config_path, param_error, resolve_config
from hna.parameters import StrictModel, read_parameter_file

__all__ = ["THAMES_VALLEY_CATEGORIES", "ThamesValleyConfig", "load_thames_valley",
           "thames_valley_score"]

#: The eight impact categories of the Thames Valley scoring (F001 case study 6).
THAMES_VALLEY_CATEGORIES: tuple[str, ...] = (
    "legal", "media", "political", "health_impact", "government_policy", "evidence_base",
    "financial", "patient_numbers",
)


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
        raise param_error("the eight case-study categories are required, and only those", source,
                   "categories", sorted(set(cfg.categories) ^ set(THAMES_VALLEY_CATEGORIES)))
    if sorted(cfg.levels.values()) != [1, 2, 3, 4]:
        raise param_error("the four levels must score 1, 2, 3 and 4", source, "levels", cfg.levels)
    if sum(c.weight for c in cfg.categories.values()) <= 0:
        raise param_error("at least one category needs a positive weight", source, "categories")
    for i, pr in enumerate(cfg.pressures):
        for cat, lvl in pr.scores.items():
            if cat not in cfg.categories:
                raise param_error("unknown category", source, f"pressures[{i}].scores.{cat}", cat,
                           hint=f"Use: {', '.join(cfg.categories)}")
            _level(lvl, cfg, source, f"pressures[{i}].scores.{cat}")
        absent = [c for c in cfg.categories if c not in pr.scores]
        if absent:
            raise param_error("every category must be scored", source, f"pressures[{i}].scores", absent)
        if pr.area is not None and cfg.areas and pr.area not in cfg.areas:
            raise param_error("unknown area", source, f"pressures[{i}].area", pr.area,
                       hint=f"Use one of: {', '.join(cfg.areas)}")


def _level(value: Any, cfg: ThamesValleyConfig, source: Path | str, field: str) -> int:
    if isinstance(value, str) and value.strip().upper() in cfg.levels:
        return cfg.levels[value.strip().upper()]
    if isinstance(value, bool):
        raise param_error("level must be 1-4 or A-D", source, field, value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise param_error("level must be 1-4 or A-D", source, field, value) from None
    if f not in (1, 2, 3, 4):
        raise param_error("level must be 1-4 or A-D", source, field, value)
    return int(f)


def load_thames_valley(path: str | Path | None = None) -> ThamesValleyConfig:
    """Load and validate the Thames Valley scoring (default ``parameters/appraisal/thames_valley.yaml``)."""
    p = config_path(path, "thames_valley.yaml")
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
    cfg, src = resolve_config(config, ThamesValleyConfig, load_thames_valley,
                              _check_thames_valley, "thames_valley.yaml", "thames valley config")
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

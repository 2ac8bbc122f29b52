"""Prioritisation frameworks: Carter App 9 and the East Midlands five weighted criteria.

- F001 (Carter review 2006) Appendix 9: nine criteria to "briefly review each service against"
  and four categories describing "the focus of commissioning" (``prioritisation.yaml``).
- F004 (East Midlands SCG annual report 2008/09, 'Developing service development priorities'):
  "a set of weighted assessment criteria" (health needs and demand; capacity; political
  imperatives and statutory requirements, the 'must dos'; financial risk; service standards)
  and a four-stage investment process (expressions of interest, business cases, confirm and
  challenge, Board approval) (``prioritisation_east_midlands.yaml``). F004 gives no weights:
  they are an assumption, and the output says so (``weights_kind``).

Both run through :func:`prioritise`; :func:`investment_stages` follows cases through the four
F004 stages. Criteria are configurable (``framework: custom``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import Field

from hna.errors import DataError, ParameterError
from hna.frameworks._common import APPRAISAL_DIR, config_path, param_error, resolve_config
from hna.parameters import StrictModel, read_parameter_file

__all__ = [
    "PRIORITISATION_CRITERIA",
    "FOCUS_CATEGORIES",
    "EAST_MIDLANDS_CRITERIA",
    "EAST_MIDLANDS_STAGES",
    "EAST_MIDLANDS_FILE",
    "PrioritisationConfig",
    "load_prioritisation",
    "prioritise",
    "investment_stages",
]

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
#: The five weighted assessment criteria of F004 (East Midlands SCG, 2009/10 priorities).
EAST_MIDLANDS_CRITERIA: tuple[str, ...] = (
    "health_needs_demand", "capacity", "must_dos", "financial_risk", "service_standards",
)
#: The four stages of the F004 investment process, in order.
EAST_MIDLANDS_STAGES: tuple[str, ...] = (
    "expression_of_interest", "business_case", "confirm_and_challenge", "board_approval",
)
#: The bundled East Midlands framework file.
EAST_MIDLANDS_FILE = APPRAISAL_DIR / "prioritisation_east_midlands.yaml"

REQUIRED_CRITERIA: dict[str, tuple[str, ...]] = {
    "carter_app9": PRIORITISATION_CRITERIA,
    "east_midlands_2009": EAST_MIDLANDS_CRITERIA,
}
# descriptive columns of an assessment table carried through to the ranking
_PASS_THROUGH: tuple[str, ...] = ("name", "catalogue", "number", "hna_service")


class Criterion(StrictModel):
    """One criterion: its wording and weight."""

    text: str
    weight: float = Field(default=1.0, ge=0)


class FocusCategory(StrictModel):
    """One App 9 commissioning-focus category."""

    label: str
    text: str


class ServicePriority(StrictModel):
    """A service's criterion scores and optional focus."""

    criteria: dict[str, int] = Field(default_factory=dict)
    focus: list[str] | None = None


class PrioritisationConfig(StrictModel):
    """Contents of ``parameters/appraisal/prioritisation.yaml``."""

    source: str
    framework: Literal["carter_app9", "east_midlands_2009", "custom"] = "carter_app9"
    weights_kind: Literal["published", "assumption", "inferred"] = "assumption"
    scale_max: int = Field(default=1, ge=1)
    criteria: dict[str, Criterion] = Field(min_length=1)
    focus_categories: dict[str, FocusCategory] = Field(default_factory=dict)
    focus_rules: dict[str, str] = Field(default_factory=dict)
    default_focus: str | None = None
    stages: dict[str, str] = Field(default_factory=dict)
    services: dict[str, ServicePriority] = Field(default_factory=dict)


def _check_prioritisation(cfg: PrioritisationConfig, source: Path | str) -> None:
    required = REQUIRED_CRITERIA.get(cfg.framework, ())
    missing = [c for c in required if c not in cfg.criteria]
    if missing:
        raise param_error(f"the {len(required)} {cfg.framework} criteria must all be present "
                          "(weight 0 to switch one off)", source, "criteria", missing,
                          hint="Or set framework: custom for your own criteria")
    if sum(c.weight for c in cfg.criteria.values()) <= 0:
        raise param_error("at least one criterion needs a positive weight", source, "criteria")
    cats = set(cfg.focus_categories)
    if cfg.framework == "carter_app9" and set(FOCUS_CATEGORIES) - cats:
        raise param_error("the four App 9 focus categories must all be present", source,
                   "focus_categories", sorted(set(FOCUS_CATEGORIES) - cats))
    if cfg.framework == "east_midlands_2009" and list(cfg.stages) != list(EAST_MIDLANDS_STAGES):
        raise param_error("the four F004 investment stages must be listed in order", source,
                          "stages", list(cfg.stages), hint=", ".join(EAST_MIDLANDS_STAGES))
    for crit, cat in cfg.focus_rules.items():
        if crit not in cfg.criteria:
            raise param_error("unknown criterion", source, f"focus_rules.{crit}", crit)
        if cat not in cats:
            raise param_error("unknown focus category", source, f"focus_rules.{crit}", cat,
                       hint=f"Use one of: {', '.join(cfg.focus_categories)}")
    if cats and cfg.default_focus not in cats:
        raise param_error("unknown focus category", source, "default_focus", cfg.default_focus)
    for svc, entry in cfg.services.items():
        for k, v in entry.criteria.items():
            if k not in cfg.criteria:
                raise param_error("unknown criterion", source, f"services.{svc}.criteria.{k}", k,
                           hint=f"Use one of: {', '.join(cfg.criteria)}")
            if not 0 <= v <= cfg.scale_max:
                raise param_error(f"score must be in 0..{cfg.scale_max}", source,
                           f"services.{svc}.criteria.{k}", v)
        for i, cat in enumerate(entry.focus or []):
            if cat not in cats:
                raise param_error("unknown focus category", source, f"services.{svc}.focus[{i}]", cat,
                           hint=f"Use one of: {', '.join(cfg.focus_categories)}")


def load_prioritisation(path: str | Path | None = None) -> PrioritisationConfig:
    """Load and validate a prioritisation framework file.

    Default ``parameters/appraisal/prioritisation.yaml`` (Carter App 9); the East Midlands
    five weighted criteria are ``prioritisation_east_midlands.yaml`` (:data:`EAST_MIDLANDS_FILE`).
    """
    p = config_path(path, "prioritisation.yaml")
    cfg = read_parameter_file(p, PrioritisationConfig)
    _check_prioritisation(cfg, p)
    return cfg


def prioritise(
    assessments: pd.DataFrame | None = None,
    *,
    config: PrioritisationConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Rank services on a prioritisation framework's weighted criteria.

    The default framework is F001 Appendix 9 (nine criteria, four focus categories); pass
    ``config=EAST_MIDLANDS_FILE`` for the F004 five weighted criteria (no focus categories), or
    any file with ``framework: custom``.

    Args:
        assessments: optional DataFrame with a ``service`` column and one column per criterion
            (0..scale_max; booleans allowed; absent criteria count 0) and optionally ``focus``
            (a category or list of categories). Default: the ``services:`` of the YAML.
            A catalogue table (:func:`hna.frameworks.catalogues.catalogue`) with criterion
            columns works too.
        config: prioritisation config or YAML path.

    Returns:
        DataFrame sorted by ``rank``: ``service``, the nine criteria, ``n_flagged`` (criteria
        scored above 0), ``score`` (sum of weight x criterion score), ``rank`` (1 = highest
        score; ties share the lower rank number), ``focus`` (list of categories),
        ``focus_source`` (``given`` or ``suggested`` from ``focus_rules``), ``focus_labels``.
    """
    cfg, src = resolve_config(config, PrioritisationConfig, load_prioritisation,
                              _check_prioritisation, "prioritisation.yaml",
                              "prioritisation config")
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
        extra = [c for c in table.columns if c not in {"service", "focus", *crits, *_PASS_THROUGH}]
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
        if not cfg.focus_categories:
            focus.append([])
            source.append("none")
            continue
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
    table["framework"] = cfg.framework
    table["weights_kind"] = cfg.weights_kind
    table["rank"] = table["score"].rank(method="min", ascending=False).astype(int)
    table = table.sort_values(["rank", "n_flagged", "service"], ascending=[True, False, True])
    keep = [c for c in _PASS_THROUGH if c in table.columns]
    cols = ["service", *keep, *crits, "n_flagged", "score", "rank", "focus", "focus_source",
            "focus_labels", "framework", "weights_kind"]
    return table[cols].reset_index(drop=True)


def investment_stages(
    cases: pd.DataFrame,
    *,
    config: PrioritisationConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Follow development proposals through the four F004 investment stages.

    F004: "This was undertaken in four key stages: Stage one - assessment and prioritisation of
    expressions of interest from providers; Stage two - ... selected business cases; Stage three
    - critical review of short-listed business cases through a confirm and challenge process;
    Stage four - approval of developments and associated investments by the EMSCG Board."

    Args:
        cases: one row per case: ``case``, one boolean column per stage (passed the stage?) and
            optionally money columns (any other numeric columns are summed per stage).
        config: the East Midlands framework (default :data:`EAST_MIDLANDS_FILE`).

    Returns:
        DataFrame, one row per stage: ``stage, label, cases_entering, cases_passing`` and, per
        money column, the total of the cases passing. ``attrs['reached']`` maps each case to
        the last stage it passed (``None`` if it failed stage one). A case cannot pass a stage
        it did not reach.
    """
    cfg = load_prioritisation(config if config is not None else EAST_MIDLANDS_FILE) if not \
        isinstance(config, PrioritisationConfig) else config
    if not cfg.stages:
        raise ParameterError("this framework has no investment stages", field="stages",
                             hint=f"Use {EAST_MIDLANDS_FILE.name}")
    if not isinstance(cases, pd.DataFrame) or "case" not in cases.columns:
        raise DataError("expected a DataFrame with a `case` column", source="cases", field="case")
    names = list(cfg.stages)
    for s in names:
        if s not in cases.columns:
            raise DataError("missing stage column", source="cases", field=s,
                            hint=f"One True/False column per stage: {', '.join(names)}")
        bad = ~cases[s].map(lambda v: isinstance(v, bool | np.bool_))
        if bad.any():
            raise DataError("stage columns must be True or False", source="cases", field=s,
                            value=cases.loc[bad, s].iloc[0])
    money = [c for c in cases.columns if c not in {"case", *names}
             and pd.api.types.is_numeric_dtype(cases[c])]
    alive = pd.Series(True, index=cases.index)
    rows, reached = [], dict.fromkeys(cases["case"])
    for s in names:
        passing = alive & cases[s].astype(bool)
        skipped = ~alive & cases[s].astype(bool)
        if skipped.any():
            raise DataError("a case passed a stage it did not reach", source="cases", field=s,
                            value=cases.loc[skipped, "case"].iloc[0])
        row = {"stage": s, "label": cfg.stages[s], "cases_entering": int(alive.sum()),
               "cases_passing": int(passing.sum())}
        for m in money:
            row[m] = float(cases.loc[passing, m].sum())
        rows.append(row)
        for c in cases.loc[passing, "case"]:
            reached[c] = s
        alive = passing
    out = pd.DataFrame(rows)
    out.attrs["reached"] = reached
    return out

"""Programme-level sections of the commissioning appraisal.

The seeds' frameworks that do not depend on the footprint's demand except through national
crude rates: App 9 and East Midlands priorities, Thames Valley scores, the East Midlands
2008/09 tables and investment stages, NORCOM tests and the HIV risk share, voting rules,
fitness for purpose, the Appendix 4 survey check, designation criteria, benchmarking and the
service catalogues. Called by :func:`hna.appraisal.appraise_footprint`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from hna import finance, frameworks
from hna.errors import ParameterError
from hna.parameters import StrictModel, read_parameter_file
from hna.services import list_services
from hna.tiers import load_tier_schemes

__all__ = ["BASE_SPEND_FILE", "BaseSpendMap", "load_configs", "programme_tables"]

BASE_SPEND_FILE = frameworks.APPRAISAL_DIR / "base_spend.yaml"


class _SpendLine(StrictModel):
    line: str
    note: str


class _UnitCost(StrictModel):
    gbp: float
    per: str
    price_year: str
    kind: str
    source: str
    note: str


class BaseSpendMap(StrictModel):
    """Contents of ``parameters/appraisal/base_spend.yaml``."""

    source: str
    population: float
    population_source: str
    price_year: str
    lines: dict[str, _SpendLine]
    unit_costs: dict[str, _UnitCost] = {}


# --------------------------------------------------------------------------------------------
# Programme-level sections (the seeds' frameworks; the same for every footprint unless the
# settings differ)

#: Group sizes behind each voting rule's worked example (seed figures).
_VOTING_GROUPS: dict[str, tuple[int, str]] = {
    "six_of_eight": (8, "NWL LSCG, 8 PCTs (F001 case study 1)"),
    "seventy_percent": (15, "Thames Valley, 15 PCTs in 2006/7 (F001 case study 6)"),
    "weighted_75": (19, "Northern SCG, 19 PCOs, equal capitation shares assumed (case study 10)"),
    "simple_majority": (13, "NSSCG: 10 SCG representatives + NSSCG chair, NCG chair, SHA "
                            "representative (F001 para 37; F000: 10 SCGs)"),
}


def _voting_table(rcfg: Any) -> pd.DataFrame:
    rows = []
    for name, rule in rcfg.voting_rules.items():
        n, group = _VOTING_GROUPS.get(name, (rule.voters or 10, "10 members (illustration)"))
        n = rule.voters or n
        if rule.kind == "count":
            k = rule.min_in_favour
        elif rule.comparison == "at_least":
            k = math.ceil(rule.threshold * n - 1e-9)
        else:
            k = math.floor(rule.threshold * n + 1e-9) + 1
        votes = {f"m{i}": i < k for i in range(n)}
        r = finance.binding_decision(votes, rule, weights={m: 1.0 for m in votes},
                                     notice_days=rule.notice_days, config=rcfg)
        below = finance.binding_decision({**votes, f"m{k - 1}": False}, rule,
                                         weights={m: 1.0 for m in votes},
                                         notice_days=rule.notice_days, config=rcfg)
        rows.append({"rule": name, "kind": rule.kind, "threshold": r["threshold"],
                     "comparison": rule.comparison, "notice_days": rule.notice_days,
                     "group": group, "min_in_favour": k,
                     "example": f"{k} of {n} in favour" + (
                         f", {rule.notice_days} days' notice" if rule.notice_days else ""),
                     "binding": r["binding"], "binding_one_fewer": below["binding"],
                     "source": rule.source})
    return pd.DataFrame(rows)


def _designation_table(dcfg: Any) -> pd.DataFrame:
    rows = [{"criterion": k, "text": c.text, "source": c.source} for k, c in dcfg.criteria.items()]
    rows.append({"criterion": "accreditation", "text": dcfg.accreditation.text,
                 "source": dcfg.accreditation.source})
    rows.append({"criterion": "review_cycle",
                 "text": f"designation lasts at most {dcfg.max_years} years; review due at "
                         f"start + {dcfg.max_years} years (hna.frameworks.review_due)",
                 "source": dcfg.max_years_source})
    return pd.DataFrame(rows)


def _east_midlands_tables(bmap: BaseSpendMap) -> tuple[pd.DataFrame, pd.DataFrame]:
    em = finance.east_midlands_spend("service")
    em["share"] = em["spend_gbp_thousands"] / em["spend_gbp_thousands"].sum()
    em["gbp_per_head"] = em["spend_gbp_thousands"] * 1000 / bmap.population
    owners = {ln.line: sid for sid, ln in bmap.lines.items()}
    em["hna_service"] = em["service"].map(owners).fillna("")
    cases = finance.east_midlands_spend("investments")
    for stage in frameworks.EAST_MIDLANDS_STAGES:  # F004: every listed case was agreed
        cases[stage] = True
    return em, frameworks.investment_stages(cases)


def _risk_tables(ids: list[str], crude: dict[str, float], rcfg: Any,
                 tolerance: float | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    parts = []
    for sid in ids:
        t = finance.norcom_tests(crude_rate=crude[sid], config=rcfg)
        t.insert(0, "service", sid)
        parts.append(t)
    tol = rcfg.hiv.tolerance_percent if tolerance is None else tolerance
    hiv = finance.risk_share_overperformance([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0],
                                             tolerance=tol, config=rcfg)
    hiv["tolerance"] = tol
    return pd.concat(parts, ignore_index=True), hiv


def _pool_tables(growth_percent: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Carter's two risk-pool splits on the seed's worked example (East Midlands PCTs 2008/09).

    The appraisal has no per-commissioner budget for a footprint, so the members and their
    baselines are the nine PCTs' 2008/09 income to the East Midlands SCG pooled budget (F004,
    GBP thousands). The overspend split is this footprint's do-nothing spend growth from the
    base year to the horizon (``growth_percent``, per cent of base) applied to that budget: the
    overspend if the pooled budget were held flat while demand grows.
    """
    pct = finance.east_midlands_spend("pct")
    base = dict(zip(pct["pct"], pct["spend_gbp_thousands"].astype(float), strict=True))
    overspend = sum(base.values()) * growth_percent / 100.0
    split = finance.overspend_contributions(base, overspend)
    split["overspend_percent"] = growth_percent
    split["baseline_source"] = _POOL_BASELINE
    pooled = finance.pooled_budget_shares(base)
    pooled["baseline_source"] = _POOL_BASELINE
    return split, pooled


#: What the risk-pool tables' baseline is (shown in their captions and tables).
_POOL_BASELINE = ("worked example: East Midlands SCG 2008/09 income from its 9 PCTs "
                  "(F004), GBP thousands")


def _benchmark_input(values: Any) -> pd.DataFrame:
    if values is None:
        return pd.DataFrame({"measure": pd.Series([], dtype=str), "year": pd.Series([], dtype=int)})
    if isinstance(values, str | Path):
        p = Path(values)
        if not p.is_file():
            raise ParameterError("file not found", field="benchmark_values", value=str(p))
        return pd.read_csv(p, dtype={"measure": str})
    if isinstance(values, pd.DataFrame):
        return values
    raise ParameterError("benchmark values must be a table or a CSV path",
                         field="benchmark_values", value=type(values).__name__)


def programme_tables(ids: list[str], crude: dict[str, float], cfgs: dict[str, Any],
               opts: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The programme-level tables, keyed as in :data:`hna.appraisal.result.TABLES`.

    ``crude`` is each service's England crude rate (cases per person a year, for NORCOM's
    small-number test); ``cfgs`` come from :func:`load_configs`; ``opts`` holds
    ``hiv_tolerance``, ``fitness_ratings``, ``benchmark_values`` and ``spend_growth_percent``
    (do-nothing spend growth base year -> horizon, per cent; sizes the worked overspend).
    """
    pri = frameworks.prioritise(config=cfgs["prioritisation"])
    pri["in_catalogue"] = pri["service"].isin(set(list_services()))
    em_pri = frameworks.prioritise(config=cfgs["east_midlands_prioritisation"])
    em, investments = _east_midlands_tables(cfgs["base_spend"])
    risk, hiv = _risk_tables(ids, crude, cfgs["risk_sharing"], opts["hiv_tolerance"])
    split, pooled = _pool_tables(opts.get("spend_growth_percent", 0.0))
    return {
        "priorities": pri, "east_midlands_priorities": em_pri,
        "thames_valley": frameworks.thames_valley_score(config=cfgs["thames_valley"]),
        "east_midlands": em, "investments": investments, "risk_sharing": risk,
        "hiv_risk_share": hiv, "overspend_split": split, "pooled_budget": pooled,
        "voting": _voting_table(cfgs["risk_sharing"]),
        "fitness": frameworks.fitness_for_purpose(opts["fitness_ratings"] or {},
                                                  framework=cfgs["fitness"]),
        "survey": frameworks.check_survey_consistency(),
        "designation_criteria": _designation_table(cfgs["designation"]),
        "benchmarking": frameworks.benchmark(_benchmark_input(opts["benchmark_values"]),
                                             config=cfgs["benchmarking"]),
        "catalogue": frameworks.catalogue(),
    }


def load_configs(tiers_config: Any, segmentation_config: Any, prioritisation_config: Any,
                  thames_valley_config: Any) -> dict[str, Any]:
    """Load every settings file the appraisal reads (paths or loaded configs accepted)."""
    tcfg = tiers_config if hasattr(tiers_config, "schemes") else load_tier_schemes(tiers_config)
    return {
        "tiers": tcfg,
        "segmentation": (segmentation_config if hasattr(segmentation_config, "factors")
                         else frameworks.load_segmentation(segmentation_config, tiers=tcfg)),
        "prioritisation": (prioritisation_config if hasattr(prioritisation_config, "criteria")
                           else frameworks.load_prioritisation(prioritisation_config)),
        "east_midlands_prioritisation": frameworks.load_prioritisation(
            frameworks.EAST_MIDLANDS_FILE),
        "thames_valley": (thames_valley_config if hasattr(thames_valley_config, "categories")
                          else frameworks.load_thames_valley(thames_valley_config)),
        "fitness": frameworks.load_fitness_framework(),
        "risk_sharing": finance.load_risk_sharing(),
        "designation": frameworks.load_designation_criteria(),
        "benchmarking": frameworks.load_benchmarking(),
        "base_spend": read_parameter_file(BASE_SPEND_FILE, BaseSpendMap),
    }



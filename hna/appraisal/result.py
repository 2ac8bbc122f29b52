"""The result of a commissioning appraisal: its tables, sections, titles and provenance.

:func:`hna.appraisal.appraise_footprint` returns a :class:`CommissioningAppraisal`; the CLI
(``hna appraise --section``) and the report notebook read its tables by name. Every table of
:data:`TABLES` belongs to a section of :data:`SECTIONS`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hna.errors import ParameterError

__all__ = [
    "TABLES",
    "SECTIONS",
    "TITLES",
    "CommissioningAppraisal",
    "flatten_lists",
    "parse_sections",
]

#: Tables of a :class:`CommissioningAppraisal`, in reading order.
TABLES: tuple[str, ...] = (
    "tiers", "demand", "carter", "service_tiers", "segmentation", "priorities",
    "east_midlands_priorities", "thames_valley", "finance", "finance_total", "waterfall",
    "east_midlands", "investments", "risk_sharing", "hiv_risk_share", "overspend_split",
    "pooled_budget", "voting", "fitness",
    "survey", "designation_criteria", "benchmarking", "catalogue",
)

#: Sections of ``hna appraise --section``: each names one or more tables.
SECTIONS: dict[str, tuple[str, ...]] = {
    "tiers": ("tiers",),
    "demand": ("demand",),
    "carter": ("carter", "service_tiers"),
    "segmentation": ("segmentation",),
    "priorities": ("priorities", "east_midlands_priorities"),
    "thames_valley": ("thames_valley",),
    "finance": ("finance", "finance_total", "waterfall"),
    "east_midlands": ("east_midlands", "investments"),
    "risk_sharing": ("risk_sharing", "hiv_risk_share"),
    "pooled_risk": ("overspend_split", "pooled_budget"),
    "binding_decisions": ("voting",),
    "fitness_for_purpose": ("fitness",),
    "survey": ("survey",),
    "designation_criteria": ("designation_criteria",),
    "benchmarking": ("benchmarking",),
    "catalogue": ("catalogue",),
}

#: Headings used by the CLI and the notebook.
TITLES: dict[str, str] = {
    "tiers": "Footprint population under each commissioning tier scheme",
    "demand": "Expected demand for each service: footprint and England",
    "carter": "Carter review rules per service (national caseload, planning population)",
    "service_tiers": "Tier of each service from its minimum planning population",
    "segmentation": "Segmentation tool (F003): five factors to a commissioning level (inferred scales)",
    "priorities": "Work-programme priorities (F001 Appendix 9)",
    "east_midlands_priorities": "East Midlands five weighted criteria (F004; weights assumed)",
    "thames_valley": "Thames Valley impact scores of cost pressures (F001 case study 6)",
    "finance": "Do-nothing spend and spend after QIPP, by service and year",
    "finance_total": "Spend summed over services with a cost",
    "waterfall": "Change in spend from the base year to the horizon (exact decomposition)",
    "east_midlands": "East Midlands SCG 2008/09 spend by service and per head (F004)",
    "investments": "East Midlands 2009/10 investments through the four-stage process (F004)",
    "risk_sharing": "NORCOM's four tests: should each service be risk-shared? (F001 case study 8)",
    "hiv_risk_share": "HIV graduated over-performance sharing at the tolerance (F001 case study 1)",
    "overspend_split": ("Overspend split by share of baseline budget (Carter App 5 case study 1; "
                        "baseline: East Midlands PCTs 2008/09, F004, worked example)"),
    "pooled_budget": ("Pooled budget pro rata to baseline allocation (Carter para 86; baseline: "
                      "East Midlands PCTs 2008/09, F004, worked example)"),
    "voting": "Binding-decision rules (F001 para 40, case studies 1, 6, 10)",
    "fitness": "Fitness for purpose self-assessment (F001 Appendix 10)",
    "survey": "Consistency of the Carter Appendix 4 survey table (F001)",
    "designation_criteria": "Designation criteria and review cycle (F001 paras 122-128; F000)",
    "benchmarking": "Benchmarking milestone measures over three years (F001 Appendix 14)",
    "catalogue": "Specialised service catalogues and which hna models (F001 App 1, 2; F004)",
}

#: Columns shown to people (CLI table format, notebook); csv/json carry every column.
_DISPLAY: dict[str, tuple[str, ...]] = {
    "tiers": ("year", "scheme", "population", "tier", "status", "near_edge", "near_tier",
              "inferred"),
    "demand": ("service", "year", "footprint_demand", "footprint_low", "footprint_high",
               "england_demand", "footprint_share", "minimum_per_centre", "footprint_centres"),
    "carter": ("service", "national_caseload", "planning_population", "rule", "fired",
               "recommendation"),
    "service_tiers": ("service", "planning_population", "scheme", "tier", "status", "inferred",
                      "footprint_population", "footprint_covers"),
    "segmentation": ("service", "annual_demand", "annual_cost", "patient_numbers_score",
                     "provision_score", "financial_risk_score", "service_specifications_score",
                     "strategy_score", "weighted_score", "tier", "overridden", "inferred", "note"),
    "priorities": ("service", "n_flagged", "score", "rank", "focus_labels", "in_catalogue"),
    "east_midlands_priorities": ("service", "health_needs_demand", "capacity", "must_dos",
                                 "financial_risk", "service_standards", "score", "rank",
                                 "weights_kind"),
    "thames_valley": ("pressure", "area", "raw_score", "weighted_score", "rank"),
    "finance": ("service", "year", "demand", "demographic_factor", "do_nothing_spend",
                "qipp_factor", "spend", "qipp_saving", "spend_basis"),
    "finance_total": ("year", "do_nothing_spend", "spend", "qipp_saving", "allocation",
                      "gap_do_nothing", "gap", "services_without_cost"),
    "waterfall": ("step", "label", "kind", "value", "running_total"),
    "east_midlands": ("service", "spend_gbp_thousands", "share", "gbp_per_head", "hna_service"),
    "investments": ("stage", "label", "cases_entering", "cases_passing",
                    "total_2009_10_gbp_thousands", "full_year_effect_gbp_thousands"),
    "risk_sharing": ("service", "test", "met", "basis"),
    "hiv_risk_share": ("over_baseline", "commissioner", "provider", "tolerance"),
    "overspend_split": ("member", "baseline", "share", "overspend_percent", "contribution"),
    "pooled_budget": ("member", "baseline_allocation", "share", "contribution", "basis"),
    "voting": ("rule", "kind", "threshold", "comparison", "notice_days", "group",
               "min_in_favour", "binding", "binding_one_fewer", "source"),
    "fitness": ("dimension", "label", "n_criteria", "Y", "P", "N", "status"),
    "survey": ("row", "total", "yes_risk_share", "yes_no_risk_share", "issues", "detail"),
    "designation_criteria": ("criterion", "text", "source"),
    "benchmarking": ("measure", "text", "shown_1", "shown_2", "shown_3", "change", "target",
                     "status"),
    "catalogue": ("catalogue", "number", "name", "hna_service", "model_part"),
}


@dataclass
class CommissioningAppraisal:
    """Commissioning appraisal of one footprint: tidy tables and provenance.

    Attributes (all DataFrames except ``meta``; ``TITLES`` describes each):
        tiers: ``area_code, name, year, population, scheme, tier, label, lower, upper, status,
            edges, near_edge, near_bound, near_tier, inferred, note, source``; one row per
            scheme for ``year`` and for ``horizon``.
        demand: ``service, service_name, kind, measure, year, footprint_demand,
            england_demand, footprint_share, minimum_per_centre, centre, footprint_centres``
            (+ ``footprint_low``, ``footprint_high``: 95% interval when ``draws`` > 0).
        carter: ``service, service_name, year, national_caseload, minimum_per_centre,
            england_crude_per_100k, planning_population, rule, fired, recommendation, detail,
            source``.
        service_tiers: ``service, planning_population, scheme, tier, label, status,
            near_edge, near_tier, inferred, note, footprint_population, footprint_covers``.
        segmentation: the output of :func:`hna.frameworks.segment` plus ``service_name, year,
            unit_cost_gbp, cost_per, price_year, cost_available, segmented, note``; services
            without a segmentation entry have empty scores.
        priorities: :func:`hna.frameworks.prioritise` plus ``in_catalogue``.
        thames_valley: :func:`hna.frameworks.thames_valley_score`.
        finance: :func:`hna.finance.project_spend` by ``service`` and year for the services with
            a cost (or a base spend), plus ``footprint, unit_cost_gbp, price_year``.
        finance_total: ``year, do_nothing_spend, spend, qipp_saving`` summed over services
            (+ ``allocation, gap_do_nothing, gap`` when an allocation path is given).
        waterfall: :func:`hna.finance.decompose` of ``finance`` to ``horizon``.
        east_midlands_priorities ... catalogue: the programme-level sections (see
            :data:`TITLES`; built by :mod:`hna.appraisal` from :mod:`hna.frameworks` and
            :mod:`hna.finance`).
        meta: provenance and settings (JSON-friendly dict).
    """

    tiers: pd.DataFrame
    demand: pd.DataFrame
    carter: pd.DataFrame
    service_tiers: pd.DataFrame
    segmentation: pd.DataFrame
    priorities: pd.DataFrame
    thames_valley: pd.DataFrame
    finance: pd.DataFrame
    finance_total: pd.DataFrame
    waterfall: pd.DataFrame
    east_midlands_priorities: pd.DataFrame = field(default_factory=pd.DataFrame)
    east_midlands: pd.DataFrame = field(default_factory=pd.DataFrame)
    investments: pd.DataFrame = field(default_factory=pd.DataFrame)
    risk_sharing: pd.DataFrame = field(default_factory=pd.DataFrame)
    hiv_risk_share: pd.DataFrame = field(default_factory=pd.DataFrame)
    overspend_split: pd.DataFrame = field(default_factory=pd.DataFrame)
    pooled_budget: pd.DataFrame = field(default_factory=pd.DataFrame)
    voting: pd.DataFrame = field(default_factory=pd.DataFrame)
    fitness: pd.DataFrame = field(default_factory=pd.DataFrame)
    survey: pd.DataFrame = field(default_factory=pd.DataFrame)
    designation_criteria: pd.DataFrame = field(default_factory=pd.DataFrame)
    benchmarking: pd.DataFrame = field(default_factory=pd.DataFrame)
    catalogue: pd.DataFrame = field(default_factory=pd.DataFrame)
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> pd.DataFrame:
        """One table by name (see :data:`TABLES`)."""
        if name not in TABLES:
            raise ParameterError("unknown table", field="table", value=name,
                                 hint=f"Use one of: {', '.join(TABLES)}")
        return getattr(self, name)

    def tables(self, sections: Sequence[str] | str | None = None) -> dict[str, pd.DataFrame]:
        """Tables of the given sections (default all), keyed by table name, in order."""
        names = parse_sections(sections)
        return {n: self.table(n) for n in names}

    def display(self, name: str) -> pd.DataFrame:
        """A table with the columns a reader needs first (lists joined with '; ')."""
        df = self.table(name)
        cols = [c for c in _DISPLAY[name] if c in df.columns]
        if name == "demand" and "footprint_low" in df.columns and df["footprint_low"].isna().all():
            cols = [c for c in cols if c not in ("footprint_low", "footprint_high")]
        if name == "finance_total" and "allocation" not in df.columns:
            cols = [c for c in cols if c not in ("allocation", "gap_do_nothing", "gap")]
        out = flatten_lists(df[cols])
        for c in out.columns:
            dt = out[c].dtype
            if isinstance(dt, pd.Int64Dtype):
                out[c] = out[c].astype(float)
            elif isinstance(dt, pd.BooleanDtype):
                out[c] = out[c].astype(object).where(out[c].notna(), "")
            elif pd.api.types.is_object_dtype(dt) or pd.api.types.is_string_dtype(dt):
                out[c] = out[c].astype(object).where(out[c].notna(), "")
        return out.reset_index(drop=True)

    def styled(self, name: str, caption: bool = True) -> Any:
        """:meth:`display` as a pandas Styler for notebooks and HTML reports.

        The table's title as caption, thousands separators, whole numbers for large values,
        two decimals for small ones, no index.
        """
        df = self.display(name)
        formats: dict[str, Any] = {}
        for c in df.columns:
            if c in ("year", "step", "rank") or pd.api.types.is_bool_dtype(df[c]):
                continue
            if pd.api.types.is_integer_dtype(df[c]):
                formats[c] = "{:,}"
            elif pd.api.types.is_float_dtype(df[c]):
                big = len(df) > 0 and df[c].abs().max() >= 1000
                formats[c] = "{:,.0f}" if big else "{:,.2f}"
        styler = df.style.hide(axis="index").format(formats, na_rep="")
        return styler.set_caption(TITLES[name]) if caption else styler

    def sources(self) -> pd.DataFrame:
        """The source of every tier scheme, rule, framework, critical mass and cost used."""
        return pd.DataFrame(self.meta["sources"], columns=["topic", "source"])

    def provenance(self) -> pd.DataFrame:
        """``item, value``: hna version, seed, draws, parameter hashes and data vintages."""
        m = self.meta
        rows: list[tuple[str, Any]] = [
            ("hna version", m["hna_version"]), ("seed", m["seed"]), ("draws", m["draws"]),
            ("parameter hash (settings)", m["parameter_hash"]),
        ]
        rows += [(f"service hash: {k}", v) for k, v in m["service_parameter_hashes"].items()]
        rows += [(f"file sha256: {f['path']}", f["sha256"]) for f in m["parameter_files"]]
        for src in m["data_vintages"].get("sources", []):
            rows.append((f"data: {src.get('dataset') or src.get('file')}", src.get("vintage")))
        return pd.DataFrame(rows, columns=["item", "value"])

    def headline(self) -> dict[str, Any]:
        """A few headline numbers for the run index (JSON-friendly; see docs/appraisal.md)."""
        m = self.meta
        y0, y1 = m["year"], m["horizon"]
        pop = self.tiers.drop_duplicates("year").set_index("year")["population"]
        out: dict[str, Any] = {
            "population_start": float(pop.loc[y0]),
            "population_horizon": float(pop.loc[y1]),
        }
        start = self.tiers[self.tiers["year"] == y0]
        for _, r in start.iterrows():
            out[f"tier_{r['scheme']}"] = r["tier"] if isinstance(r["tier"], str) else r["status"]
        out["tier_schemes_inferred"] = sorted(start.loc[start["inferred"].astype(bool), "scheme"])
        ft = self.finance_total
        at = ft[ft["year"] == y1]
        if len(at):
            out["do_nothing_spend_horizon"] = float(at["do_nothing_spend"].iloc[0])
            out["spend_after_qipp_horizon"] = float(at["spend"].iloc[0])
            out["qipp_saving_horizon"] = float(at["qipp_saving"].iloc[0])
        else:
            out["do_nothing_spend_horizon"] = None
            out["spend_after_qipp_horizon"] = None
            out["qipp_saving_horizon"] = None
        out["years"] = [y0, y1]
        out["costed_services"] = list(m["costed_services"])
        out["services_without_cost"] = list(m["services_without_cost"])
        return out


def flatten_lists(df: pd.DataFrame) -> pd.DataFrame:
    """Copy of ``df`` with list cells joined by '; ' (for text and CSV output)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object and out[c].map(lambda v: isinstance(v, list | tuple)).any():
            out[c] = out[c].map(lambda v: "; ".join(map(str, v)) if isinstance(v, list | tuple)
                                else v)
    return out


def parse_sections(sections: Sequence[str] | str | None) -> list[str]:
    """Table names for a comma-separated list (or sequence) of sections or table names."""
    if sections is None:
        return list(TABLES)
    items = sections.split(",") if isinstance(sections, str) else list(sections)
    items = [str(s).strip() for s in items if str(s).strip()]
    if not items:
        raise ParameterError("no section given", field="--section",
                             hint=f"Use any of: {', '.join(SECTIONS)}")
    names: list[str] = []
    for s in items:
        if s in SECTIONS:
            found = SECTIONS[s]
        elif s in TABLES:
            found = (s,)
        else:
            raise ParameterError("unknown section", field="--section", value=s,
                                 hint=f"Use any of: {', '.join(SECTIONS)} (comma-separated)")
        names.extend(n for n in found if n not in names)
    return [n for n in TABLES if n in names]

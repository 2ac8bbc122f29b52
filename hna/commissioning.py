"""Commissioning appraisal of one footprint: tiers, Carter rules, segmentation, priorities, money.

:func:`appraise_footprint` puts the existing building blocks together for one planning
footprint (an NHS region, an ICB, England, a historical SCG...)::

    from hna.commissioning import appraise_footprint
    a = appraise_footprint("E12000004", year=2025, horizon=2030)
    a.tiers          # the footprint's population under each tier scheme (hna.tiers)
    a.demand         # each service's expected demand in the footprint and in England
    a.carter         # Carter rules per service (hna.tiers.carter_rules)
    a.service_tiers  # each service's tier from its minimum planning population
    a.segmentation   # F003 five-factor segmentation (hna.appraisal.segment)
    a.priorities     # F001 App 9 work-programme ranking (hna.appraisal.prioritise)
    a.thames_valley  # Thames Valley impact scores (hna.appraisal.thames_valley_score)
    a.finance        # do-nothing spend and spend after QIPP, by service and year (hna.finance)
    a.finance_total  # the same summed over services (+ gap to an allocation path if given)
    a.waterfall      # exact decomposition of the change in spend, base year to horizon
    a.meta           # hna version, footprint, years, settings, sources, hashes

Nothing here models anything new: demand comes from :func:`hna.demand.service_demand`
(expected values, which are deterministic; Monte Carlo draws, when asked for, only add
intervals to the ``demand`` table), tiers and rules from :mod:`hna.tiers`, the frameworks from
:mod:`hna.appraisal` and the money from :mod:`hna.finance`. This module chooses the inputs,
states what is missing (services without a cost, without a segmentation or App 9 entry) and
records provenance. The user guide is ``docs/appraisal.md``.

Choices made here (documented in ``docs/appraisal.md``):

- National figures (Carter caseload, segmentation patient numbers) are the service's expected
  demand in England in ``year`` from hna's own projections; the minimum planning population is
  critical mass / England crude rate (:func:`hna.thresholds.planning_population`).
- Annual cost = England demand x the service's unit cost (``cost.gbp`` in its YAML). A service
  without a cost is still segmented, but the cost-derived factors (financial risk) get weight 0
  for it, so its score is the weighted mean of the factors that can be scored; the row says so.
- Money is in GBP at each service's ``cost.price_year`` prices, not inflated. Base-year spend
  for the footprint = footprint demand in ``year`` x unit cost, unless ``base_spend`` is given.
- The QIPP plan starts the year after ``year`` (``year`` is the baseline, as 2016/17 was for
  the 2017/18-2020/21 plans of F003) and runs to ``horizon``, with the F003 defaults of
  :func:`hna.finance.qipp_schedule`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna.codes import ENGLAND
from hna.errors import DataError, ParameterError
from hna.parameters import PARAMETERS_DIR

__all__ = [
    "TABLES",
    "SECTIONS",
    "TITLES",
    "CommissioningAppraisal",
    "appraise_footprint",
    "flatten_lists",
    "parse_sections",
]

#: Tables of a :class:`CommissioningAppraisal`, in reading order.
TABLES: tuple[str, ...] = (
    "tiers", "demand", "carter", "service_tiers", "segmentation", "priorities",
    "thames_valley", "finance", "finance_total", "waterfall",
)

#: Sections of ``hna appraise --section``: each names one or more tables.
SECTIONS: dict[str, tuple[str, ...]] = {
    "tiers": ("tiers",),
    "demand": ("demand",),
    "carter": ("carter", "service_tiers"),
    "segmentation": ("segmentation",),
    "priorities": ("priorities",),
    "thames_valley": ("thames_valley",),
    "finance": ("finance", "finance_total", "waterfall"),
}

#: Headings used by the CLI and the notebook.
TITLES: dict[str, str] = {
    "tiers": "Footprint population under each commissioning tier scheme",
    "demand": "Expected demand for each service: footprint and England",
    "carter": "Carter review rules per service (national caseload, planning population)",
    "service_tiers": "Tier of each service from its minimum planning population",
    "segmentation": "Segmentation tool (F003): five factors to a commissioning level",
    "priorities": "Work-programme priorities (F001 Appendix 9)",
    "thames_valley": "Thames Valley impact scores of cost pressures (F001 case study 6)",
    "finance": "Do-nothing spend and spend after QIPP, by service and year",
    "finance_total": "Spend summed over services with a cost",
    "waterfall": "Change in spend from the base year to the horizon (exact decomposition)",
}

#: Columns shown to people (CLI table format, notebook); csv/json carry every column.
_DISPLAY: dict[str, tuple[str, ...]] = {
    "tiers": ("year", "scheme", "population", "tier", "status", "near_edge", "near_tier",
              "inferred"),
    "demand": ("service", "year", "footprint_demand", "footprint_low", "footprint_high",
               "england_demand", "footprint_share", "minimum_per_centre", "footprint_centres"),
    "carter": ("service", "national_caseload", "planning_population", "rule", "fired",
               "recommendation"),
    "service_tiers": ("service", "planning_population", "scheme", "tier", "status",
                      "footprint_population", "footprint_covers"),
    "segmentation": ("service", "annual_demand", "annual_cost", "patient_numbers_score",
                     "provision_score", "financial_risk_score", "service_specifications_score",
                     "strategy_score", "weighted_score", "tier", "overridden", "note"),
    "priorities": ("service", "n_flagged", "score", "rank", "focus_labels", "in_catalogue"),
    "thames_valley": ("pressure", "area", "raw_score", "weighted_score", "rank"),
    "finance": ("service", "year", "demand", "demographic_factor", "do_nothing_spend",
                "qipp_factor", "spend", "qipp_saving"),
    "finance_total": ("year", "do_nothing_spend", "spend", "qipp_saving", "allocation",
                      "gap_do_nothing", "gap"),
    "waterfall": ("step", "label", "kind", "value", "running_total"),
}

_COST_FACTORS = ("annual_cost", "cost_per_case", "cost_sd")
_QIPP_DEFAULT_TEXT = (
    "F003 defaults (hna.finance.qipp_schedule): transactional 1.5% in plan year one, 1% later; "
    "transformational 1.5% part-year in year one (3% full-year), 2% later; c.3% a year, "
    "compounded"
)


# --------------------------------------------------------------------------------------------
# Result


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
        segmentation: the output of :func:`hna.appraisal.segment` plus ``service_name, year,
            unit_cost_gbp, cost_per, price_year, cost_available, segmented, note``; services
            without a segmentation entry have empty scores.
        priorities: :func:`hna.appraisal.prioritise` plus ``in_catalogue``.
        thames_valley: :func:`hna.appraisal.thames_valley_score`.
        finance: :func:`hna.finance.project_spend` by ``service`` and year for the services with
            a cost (or a base spend), plus ``footprint, unit_cost_gbp, price_year``.
        finance_total: ``year, do_nothing_spend, spend, qipp_saving`` summed over services
            (+ ``allocation, gap_do_nothing, gap`` when an allocation path is given).
        waterfall: :func:`hna.finance.decompose` of ``finance`` to ``horizon``.
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
        """:meth:`display` as a pandas Styler for notebooks and HTML reports: the table's
        title as caption, thousands separators, whole numbers for large values, two decimals
        for small ones, no index.
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
        """``item, value``: hna version, seed, draws, parameter hashes (settings, each service,
        each parameter file) and the vintages of the bundled data.
        """
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


# --------------------------------------------------------------------------------------------
# Arguments


def _year(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError("must be a whole year, e.g. 2025", field=name, value=value)
    return int(value)


def _services(services: Any) -> list[str]:
    from hna.services import list_services, load_service

    if services is None or (isinstance(services, Sequence) and not isinstance(services, str)
                            and len(services) == 0):
        ids = list_services()
        if not ids:
            raise ParameterError("no services in the catalogue", field="services",
                                 hint="Add service files to parameters/services/")
        return ids
    items = [services] if isinstance(services, str) else list(services)
    ids = []
    for s in items:
        sid = load_service(s).id
        if sid in ids:
            raise ParameterError("service listed twice", field="services", value=sid)
        ids.append(sid)
    return ids


def _base_spend(base_spend: Any, services: list[str]) -> dict[str, float]:
    if base_spend is None:
        return {}
    if isinstance(base_spend, pd.DataFrame):
        for c in ("service", "spend"):
            if c not in base_spend.columns:
                raise DataError("missing column", source="base_spend", field=c,
                                hint="Give one row per service: service, spend")
        if base_spend["service"].duplicated().any():
            raise DataError("one row per service expected", source="base_spend", field="service",
                            value=base_spend.loc[base_spend["service"].duplicated(), "service"].iloc[0])
        items = dict(zip(base_spend["service"].astype(str), base_spend["spend"], strict=True))
    elif isinstance(base_spend, Mapping):
        items = {str(k): v for k, v in base_spend.items()}
    else:
        raise ParameterError("base spend must map services to spend", field="base_spend",
                             value=type(base_spend).__name__,
                             hint="e.g. {'haemophilia': 13_022_000} or a DataFrame service, spend")
    out = {}
    for sid, v in items.items():
        if sid not in services:
            raise ParameterError("base spend for a service not being appraised",
                                 field=f"base_spend[{sid}]", value=sid,
                                 hint=f"Services appraised: {', '.join(services)}")
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise ParameterError("must be a number (GBP)", field=f"base_spend[{sid}]",
                                 value=v) from None
        if not math.isfinite(f) or f < 0:
            raise ParameterError("must be a non-negative number (GBP)",
                                 field=f"base_spend[{sid}]", value=v)
        out[sid] = f
    return out


def _growth(value: Any) -> float:
    try:
        g = float(value)
    except (TypeError, ValueError):
        raise ParameterError("must be a number (a fraction, e.g. 0.02 for 2%)",
                             field="non_demographic_growth", value=value) from None
    if isinstance(value, bool) or not math.isfinite(g) or not -0.5 <= g <= 1.0:
        raise ParameterError("must be a fraction in [-0.5, 1] (e.g. 0.02 for 2%)",
                             field="non_demographic_growth", value=value)
    return g


def _allocation(allocation: Any) -> pd.DataFrame | None:
    if allocation is None:
        return None
    if isinstance(allocation, pd.DataFrame):
        a = allocation
    elif isinstance(allocation, Mapping):
        a = pd.DataFrame({"year": [int(k) for k in allocation],
                          "allocation": list(allocation.values())})
    else:
        raise ParameterError("allocation must be a table (year, allocation) or a mapping "
                             "year -> allocation", field="allocation",
                             value=type(allocation).__name__)
    for c in ("year", "allocation"):
        if c not in a.columns:
            raise DataError("missing column", source="allocation", field=c,
                            hint="Give year, allocation (total for the footprint, GBP)")
    extra = [c for c in a.columns if c not in ("year", "allocation")]
    if extra:
        raise DataError("allocation is for the footprint as a whole: only year, allocation",
                        source="allocation", field=extra[0])
    return a


def _qipp(qipp: Any, year: int, horizon: int) -> tuple[pd.DataFrame | None, str]:
    from hna.finance import qipp_schedule

    plan_years = list(range(year + 1, horizon + 1))
    if qipp is False or qipp is None:
        return None, "no QIPP"
    if isinstance(qipp, pd.DataFrame):
        return qipp, "QIPP schedule passed in"
    if not plan_years:
        return None, "no QIPP plan years (horizon equals the base year)"
    if qipp is True:
        return qipp_schedule(plan_years), _QIPP_DEFAULT_TEXT
    if isinstance(qipp, Mapping):
        kwargs = dict(qipp)
        return qipp_schedule(plan_years, **kwargs), (
            "hna.finance.qipp_schedule with " + ", ".join(f"{k}={v}" for k, v in kwargs.items()))
    raise ParameterError("qipp must be True, False, a QIPP schedule table or qipp_schedule "
                         "settings", field="qipp", value=qipp)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _config_path(config: Any, default: Path) -> Path | None:
    if config is None:
        return default
    if isinstance(config, str | Path):
        return Path(config)
    return None  # a loaded config object: no file


# --------------------------------------------------------------------------------------------
# Building blocks


def _population_tiers(fp: Any, years: list[int], edges: str | None, tcfg: Any) -> pd.DataFrame:
    from hna.geography import aggregate
    from hna.population import default_population, project
    from hna.tiers import classify_population

    pop = project(aggregate(default_population(), fp), years)
    totals = pop.groupby("year")["population"].sum()
    rows = []
    for y in years:
        for scheme in tcfg.schemes:
            r = classify_population(float(totals.loc[y]), scheme, edges=edges, config=tcfg)
            rows.append({
                "area_code": fp.code, "name": fp.name, "year": y, "population": r.population,
                "scheme": r.scheme, "tier": r.tier, "label": r.label, "lower": r.lower,
                "upper": r.upper, "status": r.status, "edges": r.edges,
                "near_edge": r.near_edge, "near_bound": r.near_bound, "near_tier": r.near_tier,
                "inferred": r.inferred, "note": r.note, "source": r.source,
            })
    out = pd.DataFrame(rows)
    out.attrs["projection"] = pop.attrs.get("projection", "")
    return out


def _svc_demand(sid: str, fp: Any, years: list[int], draws: int, seed: int) -> pd.DataFrame:
    from hna.demand import service_demand

    targets = [fp] if fp.code == ENGLAND else [fp, ENGLAND]
    return service_demand(sid, targets, years=years, draws=draws, seed=seed).summary


# --------------------------------------------------------------------------------------------
# The appraisal


def appraise_footprint(
    footprint: Any,
    year: int = 2025,
    horizon: int = 2030,
    services: Sequence[str] | str | None = None,
    base_spend: Mapping[str, float] | pd.DataFrame | None = None,
    non_demographic_growth: float = 0.0,
    qipp: bool | Mapping[str, Any] | pd.DataFrame = True,
    draws: int = 0,
    seed: int = 1,
    edges: str | None = None,
    *,
    allocation: pd.DataFrame | Mapping[int, float] | None = None,
    tiers_config: Any = None,
    segmentation_config: Any = None,
    prioritisation_config: Any = None,
    thames_valley_config: Any = None,
) -> CommissioningAppraisal:
    """Commissioning appraisal of one footprint, from ``year`` (base) to ``horizon``.

    Args:
        footprint: GSS code or name (E92000001, E40 NHS region, E12 region, E54 ICB, LAD) or
            a custom footprint of ``parameters/footprints/`` (see
            :func:`hna.geography.resolve_footprint`).
        year: base year: tiers, national caseloads, segmentation and base-year spend.
        horizon: last year of the projection (>= ``year``).
        services: service ids (default: every service in ``parameters/services``).
        base_spend: base-year spend of the footprint by service (GBP), a mapping or a
            DataFrame ``service, spend``; replaces demand x unit cost for those services and
            brings services without a cost into the finance tables.
        non_demographic_growth: annual growth of spend beyond demand (prices, technology),
            a fraction (0.02 = 2%).
        qipp: ``True`` (F003 defaults from the year after ``year``), ``False``, a schedule
            from :func:`hna.finance.qipp_schedule`, or a mapping of its settings.
        draws: Monte Carlo draws for demand intervals (0 = expected values only). Every
            figure uses expected values; draws only add ``footprint_low/high`` to ``demand``.
        seed: seed of the draws.
        edges: band-edge rule for the tier schemes (default from ``parameters/tiers.yaml``).
        allocation: allocation path for the footprint, ``year, allocation`` (GBP) or a mapping
            year -> allocation; adds the gap to ``finance_total``.
        tiers_config, segmentation_config, prioritisation_config, thames_valley_config: YAML
            paths (or loaded configs) instead of the files in ``parameters/``.

    Returns:
        :class:`CommissioningAppraisal`.

    Raises:
        ParameterError: unknown footprint or service, bad years, settings or YAML.
        DataError: malformed ``base_spend`` or ``allocation`` tables.
    """
    import hna
    from hna import appraisal, finance
    from hna.geography import resolve_footprint
    from hna.services import SERVICES_DIR, load_service, parameter_hash
    from hna.thresholds import centres_sustainable, planning_population, service_tiers
    from hna.tiers import DEFAULT_TIERS_FILE, carter_rules, load_tier_schemes

    y0, y1 = _year(year, "year"), _year(horizon, "horizon")
    if y1 < y0:
        raise ParameterError("the horizon is before the base year", field="horizon", value=y1,
                             hint=f"Give a horizon of {y0} or later")
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) or draws < 0:
        raise ParameterError("draws must be a whole number >= 0", field="draws", value=draws)
    fp = resolve_footprint(footprint)
    ids = _services(services)
    spend_given = _base_spend(base_spend, ids)
    alloc = _allocation(allocation)
    growth = _growth(non_demographic_growth)
    schedule, qipp_text = _qipp(qipp, y0, y1)
    tcfg = load_tier_schemes(tiers_config) if not hasattr(tiers_config, "schemes") else tiers_config
    years = list(range(y0, y1 + 1))
    ends = [y0] if y1 == y0 else [y0, y1]

    # -- footprint population under each scheme
    tiers = _population_tiers(fp, ends, edges, tcfg)
    fp_pop = tiers.drop_duplicates("year").set_index("year")["population"]

    # -- demand per service (expected values; intervals when draws > 0)
    svcs = {sid: load_service(sid) for sid in ids}
    demand_rows, carter_parts, stier_parts, fin_demand = [], [], [], []
    national: dict[str, float] = {}
    for sid in ids:
        svc = svcs[sid]
        s = _svc_demand(sid, fp, years, int(draws), int(seed))
        eng = s[s["area_code"] == ENGLAND].set_index("year")
        loc = s[s["area_code"] == fp.code].set_index("year")
        m = svc.critical_mass.minimum_per_centre
        for y in ends:
            row = {
                "service": sid, "service_name": svc.name, "kind": svc.kind,
                "measure": svc.measure, "year": y,
                "footprint_demand": float(loc.at[y, "expected"]),
                "footprint_low": float(loc.at[y, "q0.025"]) if draws else np.nan,
                "footprint_high": float(loc.at[y, "q0.975"]) if draws else np.nan,
                "england_demand": float(eng.at[y, "expected"]),
                "minimum_per_centre": m, "centre": svc.critical_mass.centre,
            }
            row["footprint_share"] = (row["footprint_demand"] / row["england_demand"]
                                      if row["england_demand"] > 0 else np.nan)
            row["footprint_centres"] = int(centres_sustainable(row["footprint_demand"], m))
            demand_rows.append(row)
        fin_demand.append(pd.DataFrame({"service": sid, "year": loc.index.astype(int),
                                        "demand": loc["expected"].to_numpy(dtype=float)}))

        # Carter rules: national caseload and planning population from England in `year`
        caseload = float(eng.at[y0, "expected"])
        national[sid] = caseload
        crude = caseload / float(eng.at[y0, "population"])
        plan = planning_population(m, crude)
        c = carter_rules(plan, caseload, config=tcfg)
        c.insert(0, "service", sid)
        c.insert(1, "service_name", svc.name)
        c.insert(2, "year", y0)
        c.insert(3, "national_caseload", caseload)
        c.insert(4, "minimum_per_centre", m)
        c.insert(5, "england_crude_per_100k", crude * 1e5)
        c.insert(6, "planning_population", plan)
        carter_parts.append(c)
        st = service_tiers(svc, plan, edges=edges)
        st.insert(0, "service", sid)
        st.insert(1, "planning_population", plan)
        st["footprint_population"] = float(fp_pop.loc[y0])
        st["footprint_covers"] = st["footprint_population"] >= plan
        stier_parts.append(st[["service", "planning_population", "scheme", "tier", "label",
                               "status", "near_edge", "near_tier", "inferred", "note",
                               "footprint_population", "footprint_covers"]])

    demand = pd.DataFrame(demand_rows)
    carter = pd.concat(carter_parts, ignore_index=True)
    stiers = pd.concat(stier_parts, ignore_index=True)

    # -- segmentation (F003) with national demand and cost
    scfg = (segmentation_config if hasattr(segmentation_config, "factors")
            else appraisal.load_segmentation(segmentation_config, tiers=tcfg))
    costed = [sid for sid in ids if svcs[sid].cost is not None]
    no_cost = [sid for sid in ids if sid not in costed]
    in_seg = [sid for sid in ids if sid in scfg.services]
    not_seg = [sid for sid in ids if sid not in scfg.services]
    cost_factors = [k for k, f in scfg.factors.items() if f.derived_from in _COST_FACTORS]

    def seg_input(sids: list[str]) -> pd.DataFrame:
        return pd.DataFrame({
            "service": sids, "year": y0,
            "annual_demand": [national[s] for s in sids],
            "annual_cost": [national[s] * svcs[s].cost.gbp if svcs[s].cost else 0.0 for s in sids],
        })

    parts = []
    with_cost = [s for s in in_seg if s in costed]
    without_cost = [s for s in in_seg if s not in costed]
    if with_cost:
        parts.append(appraisal.segment(seg_input(with_cost), scfg, tiers=tcfg))
    if without_cost:
        reweighted = scfg.model_copy(update={"factors": {
            k: (f.model_copy(update={"weight": 0.0}) if k in cost_factors else f)
            for k, f in scfg.factors.items()}})
        seg_nc = appraisal.segment(seg_input(without_cost), reweighted, tiers=tcfg)
        seg_nc["annual_cost"] = np.nan
        for k in cost_factors:
            seg_nc[f"{k}_score"] = np.nan
            if f"{k}_value" in seg_nc.columns:
                seg_nc[f"{k}_value"] = np.nan
        parts.append(seg_nc)
    if not_seg:
        parts.append(pd.DataFrame({
            "service": not_seg, "year": y0,
            "annual_demand": [national[s] for s in not_seg],
            "annual_cost": [national[s] * svcs[s].cost.gbp if svcs[s].cost else np.nan
                            for s in not_seg],
        }))
    # the columns segment() gives for this config, whatever was segmented
    template = appraisal.segment(pd.DataFrame({
        "service": pd.Series([], dtype=str), "year": pd.Series([], dtype=int),
        "annual_demand": pd.Series([], dtype=float), "annual_cost": pd.Series([], dtype=float),
    }), scfg, tiers=tcfg).columns
    seg = pd.concat([p for p in parts if len(p)], ignore_index=True).reindex(columns=template)
    seg["service"] = pd.Categorical(seg["service"], categories=ids, ordered=True)
    seg = seg.sort_values("service").reset_index(drop=True)
    seg["service"] = seg["service"].astype(str)
    for c in [c for c in seg.columns if c.endswith("_score") and c != "weighted_score"]:
        seg[c] = seg[c].astype("Int64")
    seg["overridden"] = seg["overridden"].astype("boolean")
    seg.insert(1, "service_name", seg["service"].map(lambda s: svcs[s].name))
    seg["unit_cost_gbp"] = seg["service"].map(lambda s: svcs[s].cost.gbp if svcs[s].cost else np.nan)
    seg["cost_per"] = seg["service"].map(lambda s: svcs[s].cost.per if svcs[s].cost else None)
    seg["price_year"] = seg["service"].map(lambda s: svcs[s].cost.price_year if svcs[s].cost else None)
    seg["cost_available"] = seg["service"].isin(costed)
    seg["segmented"] = seg["service"].isin(in_seg)
    seg_src = _config_path(segmentation_config, appraisal.APPRAISAL_DIR / "segmentation.yaml")
    seg_file = _relative(seg_src) if seg_src else "the segmentation config"

    def seg_note(s: str) -> str:
        if s not in in_seg:
            return (f"not segmented: no entry under services: in {seg_file} (add scores for "
                    f"{', '.join(scfg.manual_factors)})")
        if s not in costed:
            return (f"no cost in parameters/services/{s}.yaml: {', '.join(cost_factors)} not "
                    "scored; weighted score over the other factors")
        return ""

    seg["note"] = seg["service"].map(seg_note)

    # -- App 9 priorities and Thames Valley (programme-level assessments from the YAML)
    pcfg = (prioritisation_config if hasattr(prioritisation_config, "criteria")
            else appraisal.load_prioritisation(prioritisation_config))
    priorities = appraisal.prioritise(config=pcfg)
    from hna.services import list_services

    catalogue_ids = set(list_services())
    priorities["in_catalogue"] = priorities["service"].isin(catalogue_ids)
    tv_cfg = (thames_valley_config if hasattr(thames_valley_config, "categories")
              else appraisal.load_thames_valley(thames_valley_config))
    tv = appraisal.thames_valley_score(config=tv_cfg)

    # -- finance: do nothing, QIPP, gap, waterfall
    fin_ids = [s for s in ids if s in costed or s in spend_given]
    base_rows = []
    for sid in fin_ids:
        d0 = float(demand.loc[(demand["service"] == sid) & (demand["year"] == y0),
                              "footprint_demand"].iloc[0])
        if sid in spend_given:
            spend, basis = spend_given[sid], "base_spend passed in"
        else:
            spend, basis = d0 * svcs[sid].cost.gbp, (
                f"footprint demand {y0} x unit cost GBP {svcs[sid].cost.gbp:,.0f} per "
                f"{svcs[sid].cost.per.replace('_', '-')}")
        base_rows.append({"service": sid, "spend": spend, "basis": basis})
    fin_cols = ["footprint", "service", "year", "base_spend", "demand", "base_demand",
                "demographic_factor", "non_demographic_factor", "do_nothing_spend",
                "qipp_factor", "spend", "qipp_saving", "unit_cost_gbp", "price_year",
                "spend_basis"]
    if fin_ids:
        base = pd.DataFrame(base_rows)
        dem = pd.concat([d for d in fin_demand if d["service"].iloc[0] in fin_ids],
                        ignore_index=True)
        proj = finance.project_spend(base[["service", "spend"]], dem, base_year=y0,
                                     non_demographic_growth=growth, qipp=schedule)
        proj.insert(0, "footprint", fp.code)
        proj["unit_cost_gbp"] = proj["service"].map(
            lambda s: svcs[s].cost.gbp if svcs[s].cost else np.nan)
        proj["price_year"] = proj["service"].map(
            lambda s: svcs[s].cost.price_year if svcs[s].cost else None)
        proj["spend_basis"] = proj["service"].map(dict(zip(base["service"], base["basis"],
                                                           strict=True)))
        fin = proj[fin_cols].reset_index(drop=True)
        total = fin.groupby("year", as_index=False)[
            ["do_nothing_spend", "spend", "qipp_saving"]].sum()
        if alloc is not None:
            gap = finance.gap_to_allocation(fin, alloc)
            total = total.merge(gap[["year", "allocation", "gap_do_nothing", "gap"]],
                                on="year", how="left")
        water = finance.decompose(fin, year=y1)
    else:
        fin = pd.DataFrame(columns=fin_cols)
        total = pd.DataFrame(columns=["year", "do_nothing_spend", "spend", "qipp_saving"])
        water = pd.DataFrame(columns=["step", "component", "label", "kind", "value",
                                      "running_total", "base_year", "year"])

    # -- provenance
    files: list[tuple[str, Path | None]] = [
        ("tier schemes", _config_path(tiers_config, DEFAULT_TIERS_FILE)),
        ("segmentation", seg_src),
        ("prioritisation", _config_path(prioritisation_config,
                                        appraisal.APPRAISAL_DIR / "prioritisation.yaml")),
        ("thames valley", _config_path(thames_valley_config,
                                       appraisal.APPRAISAL_DIR / "thames_valley.yaml")),
    ] + [(f"service {sid}", svcs[sid].path or SERVICES_DIR / f"{sid}.yaml") for sid in ids]
    parameter_files = [
        {"topic": topic, "path": _relative(p), "sha256": _file_sha256(p) if p and p.is_file() else None}
        for topic, p in files
    ]
    sources = [{"topic": f"tier scheme {k}", "source": s.source + (
        f" (inferred: {s.inference})" if s.inferred else "")} for k, s in tcfg.schemes.items()]
    cr = tcfg.carter_rules
    sources += [
        {"topic": "Carter: specialised > 1m", "source": cr.specialised_source},
        {"topic": "Carter: pan-regional > 6m", "source": cr.pan_regional_source},
        {"topic": "Carter: national commissioning", "source": cr.national_source},
        {"topic": "segmentation tool", "source": scfg.source},
        {"topic": "prioritisation criteria", "source": pcfg.source},
        {"topic": "Thames Valley impact scoring", "source": tv_cfg.source},
        {"topic": "QIPP", "source": "F003 'Finance and QIPP Delivery'; " + qipp_text},
    ]
    for sid in ids:
        svc = svcs[sid]
        sources.append({"topic": f"{sid}: critical mass {svc.critical_mass.minimum_per_centre:g} "
                                 f"({svc.critical_mass.status})",
                        "source": svc.cite(svc.critical_mass.source)})
        if svc.cost is not None:
            sources.append({"topic": f"{sid}: cost GBP {svc.cost.gbp:,.0f} per {svc.cost.per} "
                                     f"({svc.cost.price_year} prices)",
                            "source": svc.cite(svc.cost.source)})
    settings = {
        "footprint": fp.code, "year": y0, "horizon": y1, "services": ids,
        "base_spend": spend_given, "non_demographic_growth": growth, "qipp": qipp_text,
        "draws": int(draws), "seed": int(seed), "edges": edges or tcfg.edges,
        "allocation": None if alloc is None else alloc.to_dict("records"),
        "parameter_files": {f["topic"]: f["sha256"] for f in parameter_files},
    }
    meta: dict[str, Any] = {
        "hna_version": hna.__version__,
        "footprint": {"code": fp.code, "name": fp.name, "level": fp.level, "note": fp.note},
        "year": y0, "horizon": y1, "years": years,
        "services": ids,
        "costed_services": [s for s in fin_ids],
        "services_without_cost": [s for s in no_cost if s not in spend_given],
        "services_not_segmented": not_seg,
        "services_without_priorities": [s for s in ids if s not in pcfg.services],
        "draws": int(draws), "seed": int(seed),
        "edges": edges or tcfg.edges,
        "non_demographic_growth": growth,
        "qipp": qipp_text,
        "qipp_schedule": None if schedule is None else schedule.to_dict("records"),
        "money": ("GBP at each service's cost price year (cost.price_year), not inflated; "
                  "spend = footprint demand x unit cost unless base_spend is given"),
        "demand": ("expected values from hna.demand.service_demand (deterministic); "
                   + (f"{int(draws)} Monte Carlo draws give the 95% intervals in `demand`"
                      if draws else "no draws")),
        "population_projection": tiers.attrs.get("projection", ""),
        "population_source": "ONS mid-2020 population estimates (MYE2), 2021 LA geography",
        "data_vintages": hna.data_vintages(),
        "parameter_files": parameter_files,
        "service_parameter_hashes": {sid: parameter_hash(svcs[sid]) for sid in ids},
        "parameter_hash": hashlib.sha256(json.dumps(
            settings, sort_keys=True, default=str).encode("utf-8")).hexdigest(),
        "sources": sources,
    }
    return CommissioningAppraisal(
        tiers=tiers, demand=demand, carter=carter, service_tiers=stiers, segmentation=seg,
        priorities=priorities, thames_valley=tv, finance=fin, finance_total=total,
        waterfall=water, meta=meta,
    )


def _relative(p: Path | None) -> str | None:
    if p is None:
        return None
    try:
        return str(p.resolve().relative_to(PARAMETERS_DIR.parent))
    except ValueError:
        return str(p)

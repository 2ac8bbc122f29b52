"""Money: do-nothing spend, QIPP, gap to allocation, waterfall decomposition, risk sharing.

Seeds: F003 (NHS England South, "Specialised Commissioning and STPs", 2016/17, 'Finance and QIPP
Delivery'); F001 (Carter review 2006, Appendix 5 case studies 1, 6, 8, 10); F004 (East Midlands
SCG annual report 2008/09, 'Income and expenditure'). Formulas in ``docs/methods/finance.md``.

Money is whatever unit the caller passes (the bundled East Midlands tables are GBP thousands).
Years are integers; for NHS financial years use the starting calendar year (2017 = 2017/18).

Pipeline::

    base spend (by service x footprint) --do_nothing(demand ratio, non-demographic growth)-->
    do-nothing spend --apply_qipp(qipp_schedule)--> spend after QIPP --gap_to_allocation-->
    gap;  decompose(projection) -> exact waterfall: population, non-demographic, QIPP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError

__all__ = [
    "HIV_BANDS",
    "BINDING_RULES",
    "DECOMPOSITION_ORDER",
    "do_nothing",
    "qipp_schedule",
    "apply_qipp",
    "project_spend",
    "gap_to_allocation",
    "decompose",
    "commissioner_shares",
    "risk_share_overperformance",
    "binding_decision",
    "east_midlands_spend",
]

#: Graduated over-performance bands of the London HIV consortium (F001 case study 1):
#: (width in percentage points over baseline, commissioner share of that slice).
HIV_BANDS: tuple[tuple[float, float], ...] = ((1.0, 0.25), (1.0, 0.50), (1.0, 0.75), (math.inf, 1.0))

#: Binding-decision rules of F001 case studies 1, 6 and 10.
BINDING_RULES: dict[str, dict[str, Any]] = {
    "six_of_eight": {
        "kind": "count", "min_in_favour": 6, "voters": 8,
        "source": "F001 case study 1 (NWL LSCG): 'if 6 PCTs agree the decision is binding on the other 2 PCTs'",
    },
    "seventy_percent": {
        "kind": "share", "threshold": 0.70,
        "source": "F001 case study 6 (Thames Valley LSCG): 'if 70% of PCTs agree the rest must accept and fund'",
    },
    "weighted_75": {
        "kind": "weighted", "threshold": 0.75,
        "source": "F001 case study 10 (Northern SCG): vote 'based on unified weighted capitation shares ... "
                  "carried if 75% or more of the eligible votes are cast in favour'",
    },
}

#: Default order of the multiplicative waterfall decomposition.
DECOMPOSITION_ORDER: tuple[str, ...] = ("population", "non_demographic", "qipp")
_FACTOR = {"population": "demographic_factor", "non_demographic": "non_demographic_factor",
           "qipp": "qipp_factor"}
_LABEL = {"population": "Population growth", "non_demographic": "Non-demographic growth",
          "qipp": "QIPP"}


# --------------------------------------------------------------------------------------------
# helpers


def _need(df: Any, cols: Sequence[str], source: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise DataError("expected a DataFrame", source=source, value=type(df).__name__)
    for c in cols:
        if c not in df.columns:
            raise DataError("missing column", source=source, field=c,
                            hint=f"Columns needed: {', '.join(cols)}")
    return df


def _numbers(df: pd.DataFrame, col: str, source: str, *, positive: bool = False,
             nonneg: bool = True) -> pd.Series:
    v = pd.to_numeric(df[col], errors="coerce").astype(float)
    bad = v.isna() | ~np.isfinite(v)
    if positive:
        bad |= v <= 0
    elif nonneg:
        bad |= v < 0
    if bad.any():
        what = "positive" if positive else ("non-negative" if nonneg else "finite")
        raise DataError(f"must be {what} numbers", source=source, field=col,
                        value=df.loc[bad, col].iloc[0])
    return v


def _rate(x: Any, field: str, lo: float = -1.0, hi: float = 1.0) -> float:
    try:
        r = float(x)
    except (TypeError, ValueError):
        raise ParameterError("must be a number (a fraction, e.g. 0.015 for 1.5%)", field=field,
                             value=x) from None
    if not math.isfinite(r) or not lo <= r <= hi:
        raise ParameterError(f"must be a fraction in [{lo:g}, {hi:g}] (e.g. 0.015 for 1.5%)",
                             field=field, value=x)
    return r


def _path(values: Any, n: int, field: str, lo: float = 0.0, hi: float = 1.0) -> list[float]:
    """A scalar or a sequence for n years (the last value repeats)."""
    if n <= 0:
        return []
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray | pd.Series):
        return [_rate(values, field, lo, hi)] * n
    seq = [_rate(v, f"{field}[{i}]", lo, hi) for i, v in enumerate(list(values))]
    if not seq:
        raise ParameterError("needs at least one value", field=field)
    return (seq + [seq[-1]] * n)[:n]


# --------------------------------------------------------------------------------------------
# do nothing


def do_nothing(
    base_spend: pd.DataFrame | float,
    demand: pd.DataFrame,
    *,
    base_year: int | None = None,
    non_demographic_growth: float = 0.0,
) -> pd.DataFrame:
    """Do-nothing spend: base spend grown with projected demand and non-demographic growth.

    spend(y) = base_spend x demand(y) / demand(base_year) x (1 + g) ** (y - base_year)

    F003: the do-nothing scenario "sets out the financial impact of assumed growth based on
    national indicators for population growth"; the demand ratio carries population growth
    (and ageing, when demand comes from age-specific rates). ``g`` covers everything else
    (prices, technology, new drugs), default 0.

    Args:
        base_spend: DataFrame with a ``spend`` column and any key columns (e.g. ``service``,
            ``footprint``), one row per key; or a single number.
        demand: DataFrame ``year, demand`` plus optional key columns (a subset of the spend
            keys); the ratio is taken within each key group. Without keys one demand path
            applies to every spend row.
        base_year: the year of ``base_spend`` (default: first year of ``demand``).
        non_demographic_growth: annual rate g (fraction), e.g. 0.02.

    Returns:
        tidy DataFrame: keys, ``year``, ``base_spend``, ``demand``, ``base_demand``,
        ``demographic_factor``, ``non_demographic_factor``, ``do_nothing_spend``.
    """
    if not isinstance(base_spend, pd.DataFrame):
        try:
            v = float(base_spend)
        except (TypeError, ValueError):
            raise DataError("expected a DataFrame with a `spend` column or a number",
                            source="base_spend", value=base_spend) from None
        base_spend = pd.DataFrame({"spend": [v]})
    _need(base_spend, ["spend"], "base_spend")
    _need(demand, ["year", "demand"], "demand")
    g = _rate(non_demographic_growth, "non_demographic_growth", -0.5, 1.0)
    keys = [c for c in base_spend.columns if c != "spend"]
    if "year" in keys:
        raise DataError("base spend is for one year: drop the `year` column", source="base_spend",
                        field="year", hint="Pass base_year= instead")
    dkeys = [c for c in demand.columns if c not in ("year", "demand")]
    extra = [k for k in dkeys if k not in keys]
    if extra:
        raise DataError("demand key column not in base_spend", source="demand", field=extra[0],
                        hint=f"Demand keys must be among the spend keys: {keys or 'none'}")
    spend = base_spend.copy()
    spend["spend"] = _numbers(spend, "spend", "base_spend")
    if keys and spend.duplicated(keys).any():
        raise DataError("one row per key expected", source="base_spend", field=keys[0],
                        value=spend.loc[spend.duplicated(keys), keys[0]].iloc[0])
    d = demand.copy()
    d["demand"] = _numbers(d, "demand", "demand")
    d["year"] = pd.to_numeric(d["year"], errors="coerce")
    if d["year"].isna().any() or (d["year"] != np.floor(d["year"])).any():
        raise DataError("years must be whole numbers", source="demand", field="year")
    d["year"] = d["year"].astype(int)
    if d.duplicated([*dkeys, "year"]).any():
        raise DataError("one row per year (and key) expected", source="demand", field="year")
    y0 = int(d["year"].min()) if base_year is None else int(base_year)
    base = d[d["year"] == y0]
    if base.empty:
        raise DataError("no demand for the base year", source="demand", field="year", value=y0)
    base = base[[*dkeys, "demand"]].rename(columns={"demand": "base_demand"})
    d = d.merge(base, on=dkeys, how="left") if dkeys else d.assign(base_demand=float(base["base_demand"].iloc[0]))
    if d["base_demand"].isna().any():
        first = d.loc[d["base_demand"].isna()].iloc[0]
        raise DataError("a demand group has no base-year row", source="demand",
                        field=dkeys[0] if dkeys else "year", value=first[dkeys[0]] if dkeys else y0)
    if (d["base_demand"] <= 0).any():
        raise DataError("base-year demand must be positive to take ratios", source="demand",
                        field="demand", value=0)
    d = d[d["year"] >= y0]
    d["demographic_factor"] = d["demand"] / d["base_demand"]
    out = spend.rename(columns={"spend": "base_spend"})
    if dkeys:
        out = out.merge(d, on=dkeys, how="left")
        if out["year"].isna().any():
            miss = out.loc[out["year"].isna(), dkeys[0]].iloc[0]
            raise DataError("no demand path for this spend row", source="demand", field=dkeys[0],
                            value=miss)
    else:
        out = out.merge(d, how="cross")
    out["year"] = out["year"].astype(int)
    out["non_demographic_factor"] = (1.0 + g) ** (out["year"] - y0)
    out["do_nothing_spend"] = out["base_spend"] * out["demographic_factor"] * out["non_demographic_factor"]
    cols = [*keys, "year", "base_spend", "demand", "base_demand", "demographic_factor",
            "non_demographic_factor", "do_nothing_spend"]
    return out[cols].sort_values([*keys, "year"]).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# QIPP


def qipp_schedule(
    years: int | Sequence[int],
    *,
    transactional_year1: float = 0.015,
    transactional_later: float | Sequence[float] = 0.01,
    transactional_cap: float = 0.01,
    transformational_year1: float = 0.015,
    transformational_later: float | Sequence[float] | None = None,
    total_target: float = 0.03,
    part_year_fraction: float = 0.5,
    cumulation: str = "compound",
) -> pd.DataFrame:
    """QIPP savings by plan year, split transactional / transformational (F003 defaults).

    F003: QIPP "c3% for all providers ... for the duration of the plan", cumulative;
    transactional 1.5% in year one (c1% high-cost drugs and devices, 0.5% other), "no more than
    1%" later; transformational 1.5% in year one, schemes starting "mid-way through 2017/18
    (part year effect assumed as 1.5%)", "increasing over time".

    Rates are new recurrent savings booked in each year, as a fraction of that year's spend.

    - Part-year effect: the year-one transformational rate is the part-year effect of schemes
      that start part-way through the year. Their full-year effect is
      ``transformational_year1 / part_year_fraction`` (1.5% / 0.5 = 3%); the balance (1.5%)
      lands in year two and is reported as ``transformational_carry_over``. Year two's
      transformational rate includes it, so it must be at least that large.
    - Later transformational path: ``transformational_later`` (a rate or per-year sequence, the
      last repeating). By default it is ``total_target - transactional_later`` (3% - 1% = 2%),
      i.e. the c3% a year holds and transformational rises from 1.5% to 2%.
    - Transactional in later years must not exceed ``transactional_cap`` (F003: "no more than
      1%").
    - Cumulative factor: ``compound`` = prod(1 - r_t) (each year's QIPP applies to spend already
      reduced by earlier QIPP); ``additive`` = 1 - sum(r_t).

    Args:
        years: number of plan years (labelled 1..n) or the year labels (e.g. 2017..2020).

    Returns:
        DataFrame ``year, plan_year, transactional, transformational,
        transformational_carry_over, transformational_new, total, cumulative_factor,
        cumulative_saving``.
    """
    if isinstance(years, int | np.integer):
        if years < 1:
            raise ParameterError("must be at least 1", field="years", value=years)
        labels = list(range(1, int(years) + 1))
    else:
        labels = [int(y) for y in years]
        if not labels:
            raise ParameterError("needs at least one year", field="years")
        if any(b <= a for a, b in zip(labels, labels[1:], strict=False)):
            raise ParameterError("years must increase", field="years", value=labels)
    if cumulation not in ("compound", "additive"):
        raise ParameterError("must be 'compound' or 'additive'", field="cumulation", value=cumulation)
    n = len(labels)
    t1 = _rate(transactional_year1, "transactional_year1", 0, 1)
    cap = _rate(transactional_cap, "transactional_cap", 0, 1)
    tl = _path(transactional_later, n - 1, "transactional_later")
    for i, r in enumerate(tl):
        if r > cap + 1e-15:
            raise ParameterError(
                f"transactional QIPP after year one must not exceed the cap ({cap:.2%})",
                field=f"transactional_later[{i}]" if not np.isscalar(transactional_later) else "transactional_later",
                value=r, hint="F003: 'no more than 1%' in later years; raise transactional_cap to override")
    f1 = _rate(transformational_year1, "transformational_year1", 0, 1)
    frac = _rate(part_year_fraction, "part_year_fraction", 0, 1)
    if frac <= 0:
        raise ParameterError("must be in (0, 1]", field="part_year_fraction", value=part_year_fraction)
    target = _rate(total_target, "total_target", 0, 1)
    if transformational_later is None:
        fl = [target - r for r in tl]
        if any(r < 0 for r in fl):
            raise ParameterError("total_target is below the transactional rate", field="total_target",
                                 value=target)
    else:
        fl = _path(transformational_later, n - 1, "transformational_later")
    carry = f1 / frac - f1
    if n > 1 and fl[0] < carry - 1e-15:
        raise ParameterError(
            f"year-two transformational QIPP ({fl[0]:.2%}) is below the full-year carry-over "
            f"({carry:.2%}) of the year-one schemes", field="transformational_later", value=fl[0],
            hint="Raise the year-two rate, or set part_year_fraction=1 if year-one schemes run all year")
    transactional = [t1, *tl]
    transformational = [f1, *fl]
    carry_col = [0.0] + ([carry] if n > 1 else []) + [0.0] * max(n - 2, 0)
    out = pd.DataFrame({
        "year": labels,
        "plan_year": range(1, n + 1),
        "transactional": transactional,
        "transformational": transformational,
        "transformational_carry_over": carry_col[:n],
    })
    out["transformational_new"] = out["transformational"] - out["transformational_carry_over"]
    out["total"] = out["transactional"] + out["transformational"]
    if (out["total"] >= 1).any():
        raise ParameterError("total QIPP in a year must be below 100%", field="total")
    if cumulation == "compound":
        out["cumulative_factor"] = np.cumprod(1.0 - out["total"].to_numpy())
    else:
        out["cumulative_factor"] = 1.0 - np.cumsum(out["total"].to_numpy())
        if (out["cumulative_factor"] <= 0).any():
            raise ParameterError("additive QIPP removes all spend", field="cumulation")
    out["cumulative_saving"] = 1.0 - out["cumulative_factor"]
    return out


def _qipp_factor_for(years: pd.Series, schedule: pd.DataFrame) -> pd.Series:
    _need(schedule, ["year", "cumulative_factor"], "qipp schedule")
    sched = schedule.sort_values("year")
    ys = sched["year"].to_numpy(dtype=float)
    fs = sched["cumulative_factor"].to_numpy(dtype=float)
    idx = np.searchsorted(ys, years.to_numpy(dtype=float), side="right") - 1
    return pd.Series(np.where(idx >= 0, fs[np.clip(idx, 0, None)], 1.0), index=years.index)


def apply_qipp(projection: pd.DataFrame, schedule: pd.DataFrame) -> pd.DataFrame:
    """Apply a QIPP schedule to a do-nothing projection.

    The factor for year y is the schedule's cumulative factor of the last plan year <= y (1
    before the plan starts; savings are recurrent, so they persist after it ends).

    Returns:
        the projection with ``qipp_factor``, ``spend`` (= do_nothing_spend x qipp_factor) and
        ``qipp_saving`` (= do_nothing_spend - spend).
    """
    _need(projection, ["year", "do_nothing_spend"], "projection")
    out = projection.copy()
    out["qipp_factor"] = _qipp_factor_for(out["year"], schedule)
    out["spend"] = out["do_nothing_spend"] * out["qipp_factor"]
    out["qipp_saving"] = out["do_nothing_spend"] - out["spend"]
    return out


def project_spend(
    base_spend: pd.DataFrame | float,
    demand: pd.DataFrame,
    *,
    base_year: int | None = None,
    non_demographic_growth: float = 0.0,
    qipp: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """:func:`do_nothing` then :func:`apply_qipp` (QIPP factor 1 when ``qipp`` is None)."""
    dn = do_nothing(base_spend, demand, base_year=base_year,
                    non_demographic_growth=non_demographic_growth)
    if qipp is None:
        return dn.assign(qipp_factor=1.0, spend=dn["do_nothing_spend"], qipp_saving=0.0)
    return apply_qipp(dn, qipp)


def gap_to_allocation(projection: pd.DataFrame, allocation: pd.DataFrame) -> pd.DataFrame:
    """Gap between projected spend and an allocation path.

    Args:
        projection: output of :func:`project_spend` (or :func:`do_nothing`).
        allocation: ``year, allocation`` plus optional key columns (a subset of the
            projection's keys, e.g. ``footprint``); spend is summed to those keys first.

    Returns:
        DataFrame: keys, ``year``, ``allocation``, ``do_nothing_spend``, ``spend``,
        ``gap_do_nothing`` (= do-nothing spend - allocation) and ``gap`` (= spend after QIPP -
        allocation); a positive gap is a shortfall to close.
    """
    _need(projection, ["year", "do_nothing_spend"], "projection")
    _need(allocation, ["year", "allocation"], "allocation")
    keys = [c for c in allocation.columns if c not in ("year", "allocation")]
    missing = [k for k in keys if k not in projection.columns]
    if missing:
        raise DataError("allocation key column not in the projection", source="allocation",
                        field=missing[0])
    a = allocation.copy()
    a["allocation"] = _numbers(a, "allocation", "allocation")
    p = projection if "spend" in projection.columns else projection.assign(
        spend=projection["do_nothing_spend"])
    agg = p.groupby([*keys, "year"], as_index=False)[["do_nothing_spend", "spend"]].sum()
    out = agg.merge(a, on=[*keys, "year"], how="inner")
    if out.empty:
        raise DataError("no year (and key) in common with the projection", source="allocation",
                        field="year")
    out["gap_do_nothing"] = out["do_nothing_spend"] - out["allocation"]
    out["gap"] = out["spend"] - out["allocation"]
    return out[[*keys, "year", "allocation", "do_nothing_spend", "spend", "gap_do_nothing", "gap"]]


# --------------------------------------------------------------------------------------------
# waterfall decomposition


def decompose(
    projection: pd.DataFrame,
    year: int | None = None,
    *,
    by: Sequence[str] | str | None = None,
    order: Sequence[str] = DECOMPOSITION_ORDER,
) -> pd.DataFrame:
    """Exact waterfall of the change from base spend to spend in ``year``.

    With base spend S0 and factors P (demographic: demand ratio), N (non-demographic growth)
    and Q (cumulative QIPP), final spend is S0 x P x N x Q. Applying the factors one at a time
    in ``order`` (default population -> non-demographic -> QIPP):

        population      = S0 x (P - 1)
        non-demographic = S0 x P x (N - 1)
        QIPP            = S0 x P x N x (Q - 1)

    The components telescope, so they add up exactly to S0 x P x N x Q - S0. Components are
    computed per projection row and summed (over services and footprints, or within ``by``).

    Args:
        projection: output of :func:`project_spend`, :func:`apply_qipp` or :func:`do_nothing`
            (a missing ``qipp_factor`` means no QIPP).
        year: end year (default: the last year).
        by: key columns to keep separate (default: sum everything).
        order: permutation of ``population``, ``non_demographic``, ``qipp``.

    Returns:
        DataFrame: ``by`` keys, ``step`` (0 start, 1-3 components, 4 end), ``component``
        (``start``, the three components, ``end``), ``label``, ``kind`` (``total`` or
        ``change``), ``value``, ``running_total`` (the level after the step), ``base_year``,
        ``year``.
    """
    _need(projection, ["year", "base_spend", "demographic_factor", "non_demographic_factor"],
          "projection")
    order = tuple(order)
    if sorted(order) != sorted(DECOMPOSITION_ORDER):
        raise ParameterError("must be a permutation of population, non_demographic, qipp",
                             field="order", value=order)
    by = [by] if isinstance(by, str) else list(by or [])
    for b in by:
        if b not in projection.columns:
            raise DataError("missing column", source="projection", field=b)
    p = projection.copy()
    if "qipp_factor" not in p.columns:
        p["qipp_factor"] = 1.0
    y = int(p["year"].max()) if year is None else int(year)
    if y not in set(p["year"]):
        raise ParameterError("year not in the projection", field="year", value=y)
    base_year = int(p["year"].min())
    rows = p[p["year"] == y]
    level = rows["base_spend"].astype(float)
    parts = {}
    for comp in order:
        nxt = level * rows[_FACTOR[comp]].astype(float)
        parts[comp] = nxt - level
        level = nxt
    frame = rows[by].copy() if by else pd.DataFrame(index=rows.index)
    frame["start"] = rows["base_spend"].astype(float)
    for comp in order:
        frame[comp] = parts[comp]
    frame["end"] = level
    summed = frame.groupby(by, sort=True).sum().reset_index() if by else frame.sum().to_frame().T
    out_rows = []
    for _, r in summed.iterrows():
        keyvals = {b: r[b] for b in by}
        running = r["start"]
        out_rows.append({**keyvals, "step": 0, "component": "start", "label": f"Spend {base_year}",
                         "kind": "total", "value": r["start"], "running_total": running})
        for i, comp in enumerate(order, start=1):
            running = running + r[comp]
            out_rows.append({**keyvals, "step": i, "component": comp, "label": _LABEL[comp],
                             "kind": "change", "value": r[comp], "running_total": running})
        out_rows.append({**keyvals, "step": len(order) + 1, "component": "end",
                         "label": f"Spend {y}", "kind": "total", "value": r["end"],
                         "running_total": r["end"]})
    out = pd.DataFrame(out_rows)
    out["base_year"] = base_year
    out["year"] = y
    return out


# --------------------------------------------------------------------------------------------
# risk sharing


def commissioner_shares(
    population: pd.DataFrame,
    usage: pd.DataFrame,
    *,
    window: int = 3,
    year: int | None = None,
    threshold: float = 0.2,
    basis: str = "relative",
    budget: float | None = None,
) -> pd.DataFrame:
    """Commissioner shares by weighted population vs rolling average usage (F001 case studies).

    NORCOM (F001 case study 8): "a 'commissioner shares' analysis ... showing the impact on PCTs
    by weighted population and by historical usage ... highlights where there are significant
    inequities"; London consortia (case study 1): "risk sharing between commissioners is based
    on a 3 year rolling average of activity".

    population share_i = w_i / sum(w); usage share_i = mean activity_i over the ``window`` years
    ending in ``year`` / sum over commissioners. A commissioner is flagged when
    |usage share - population share| > threshold (``basis='absolute'``, share points) or when
    |usage share / population share - 1| > threshold (``basis='relative'``, default 20%). The
    seeds give no threshold: it is a parameter.

    Args:
        population: ``commissioner, weighted_population``.
        usage: ``commissioner, year, activity`` (a commissioner-year with no row counts as 0).
        budget: if given, the amount each commissioner would pay on each basis.

    Returns:
        DataFrame: ``commissioner, weighted_population, population_share, mean_activity,
        usage_share, difference, relative_difference, flagged`` (+ ``by_population``,
        ``by_usage`` with a budget), with attribute ``attrs['years']``.
    """
    _need(population, ["commissioner", "weighted_population"], "population")
    _need(usage, ["commissioner", "year", "activity"], "usage")
    if basis not in ("relative", "absolute"):
        raise ParameterError("must be 'relative' or 'absolute'", field="basis", value=basis)
    thr = _rate(threshold, "threshold", 0, 10)
    if not isinstance(window, int) or window < 1:
        raise ParameterError("must be a whole number of years >= 1", field="window", value=window)
    pop = population.copy()
    pop["weighted_population"] = _numbers(pop, "weighted_population", "population")
    if pop["commissioner"].duplicated().any():
        raise DataError("one row per commissioner expected", source="population",
                        field="commissioner")
    if pop["weighted_population"].sum() <= 0:
        raise DataError("weighted populations sum to zero", source="population",
                        field="weighted_population")
    u = usage.copy()
    u["activity"] = _numbers(u, "activity", "usage")
    unknown = sorted(set(u["commissioner"]) - set(pop["commissioner"]))
    if unknown:
        raise DataError("commissioner not in the population table", source="usage",
                        field="commissioner", value=unknown[0])
    last = int(u["year"].max()) if year is None else int(year)
    years = list(range(last - window + 1, last + 1))
    missing = [y for y in years if y not in set(u["year"])]
    if missing:
        raise DataError(f"the {window}-year window needs activity for every year", source="usage",
                        field="year", value=missing[0])
    win = u[u["year"].isin(years)]
    mean = win.groupby("commissioner")["activity"].sum() / window
    out = pop[["commissioner", "weighted_population"]].copy()
    out["population_share"] = out["weighted_population"] / out["weighted_population"].sum()
    out["mean_activity"] = out["commissioner"].map(mean).fillna(0.0)
    total = out["mean_activity"].sum()
    if total <= 0:
        raise DataError("no activity in the window", source="usage", field="activity")
    out["usage_share"] = out["mean_activity"] / total
    out["difference"] = out["usage_share"] - out["population_share"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative_difference"] = out["usage_share"] / out["population_share"] - 1.0
    measure = out["difference"] if basis == "absolute" else out["relative_difference"]
    out["flagged"] = measure.abs() > thr
    if budget is not None:
        b = float(budget)
        out["by_population"] = b * out["population_share"]
        out["by_usage"] = b * out["usage_share"]
    out.attrs["years"] = years
    return out.reset_index(drop=True)


def risk_share_overperformance(
    over_baseline: float | Sequence[float],
    *,
    bands: Sequence[tuple[float, float]] = HIV_BANDS,
    baseline: float | None = None,
) -> dict[str, float] | pd.DataFrame:
    """Split over-performance above a contract baseline between commissioner and provider.

    London HIV consortium (F001 case study 1): "for the first 1% it is a 25%/75% contribution
    from commissioner/provider; for the second 1% it is 50%/50%; for the third it is 75%/25%
    commissioner/provider; and for over 3% it is all paid by the commissioner".

    commissioner = sum over bands of share_b x (the part of ``over_baseline`` in band b);
    provider = over_baseline - commissioner. At 2.5%: 0.25 + 0.5 + 0.75 x 0.5 = 1.125 and
    1.375; at 4%: 0.25 + 0.5 + 0.75 + 1 = 2.5 and 1.5.

    Args:
        over_baseline: activity cost above baseline, in percent of baseline (2.5 = 2.5%);
            a number or a sequence.
        bands: (width in percentage points, commissioner share) in order; the last width may be
            ``inf``. Default :data:`HIV_BANDS`.
        baseline: contract baseline value; when given, money amounts are added.

    Returns:
        for a number, a dict ``over_baseline, commissioner, provider`` (percentage points,
        + ``commissioner_value``, ``provider_value`` with a baseline); for a sequence, a
        DataFrame with those columns.
    """
    checked = []
    for i, (w, s) in enumerate(bands):
        if not (w > 0) or not 0 <= s <= 1:
            raise ParameterError("each band needs width > 0 and a share in [0, 1]",
                                 field=f"bands[{i}]", value=(w, s))
        checked.append((float(w), float(s)))
    if not math.isinf(checked[-1][0]):
        checked.append((math.inf, checked[-1][1]))
    scalar = np.isscalar(over_baseline)
    xs = np.atleast_1d(np.asarray(over_baseline, dtype=float))
    if (~np.isfinite(xs)).any() or (xs < 0).any():
        raise ParameterError(
            "over-performance must be a non-negative percentage of baseline",
            field="over_baseline", value=over_baseline,
            hint="Under-performance is not covered by the graduated arrangement")
    comm = np.zeros_like(xs)
    lower = 0.0
    for w, s in checked:
        upper = lower + w
        comm += s * np.clip(xs - lower, 0.0, upper - lower if math.isfinite(upper) else np.inf)
        lower = upper
    out = pd.DataFrame({"over_baseline": xs, "commissioner": comm, "provider": xs - comm})
    if baseline is not None:
        out["commissioner_value"] = out["commissioner"] / 100.0 * float(baseline)
        out["provider_value"] = out["provider"] / 100.0 * float(baseline)
    if scalar:
        return {k: float(v) for k, v in out.iloc[0].items()}
    return out


def binding_decision(
    votes: Mapping[str, bool | None] | Sequence[bool | None],
    rule: str = "six_of_eight",
    *,
    weights: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Is a collective commissioning decision binding on all members?

    Rules (:data:`BINDING_RULES`):

    - ``six_of_eight``: at least 6 of exactly 8 PCTs in favour (NWL LSCG, F001 case study 1);
    - ``seventy_percent``: at least 70% of PCTs in favour (Thames Valley, case study 6);
    - ``weighted_75``: at least 75% of capitation-weighted votes in favour (Northern SCG,
      case study 10); needs ``weights``.

    A vote of ``None`` (abstention) counts as a voter not in favour.

    Returns:
        dict ``binding, rule, in_favour, voters, share, threshold, source``.
    """
    if rule not in BINDING_RULES:
        raise ParameterError("unknown binding rule", field="rule", value=rule,
                             hint=f"Use one of: {', '.join(BINDING_RULES)}")
    spec = BINDING_RULES[rule]
    if isinstance(votes, Mapping):
        names, vals = list(votes), list(votes.values())
    else:
        vals = list(votes)
        names = [str(i) for i in range(len(vals))]
    for n, v in zip(names, vals, strict=True):
        if v is not None and not isinstance(v, bool | np.bool_):
            raise ParameterError("votes must be True, False or None", field=f"votes[{n}]", value=v)
    if not vals:
        raise ParameterError("no votes", field="votes")
    yes = [bool(v) for v in vals]
    n_yes, n = sum(yes), len(yes)
    if spec["kind"] == "count":
        if n != spec["voters"]:
            raise ParameterError(f"the rule is for {spec['voters']} PCTs", field="votes", value=n,
                                 hint="Use seventy_percent or weighted_75 for other group sizes")
        share = n_yes / n
        binding = n_yes >= spec["min_in_favour"]
        threshold = spec["min_in_favour"] / spec["voters"]
    elif spec["kind"] == "share":
        share = n_yes / n
        threshold = spec["threshold"]
        binding = share >= threshold - 1e-12
    else:
        if weights is None or not isinstance(votes, Mapping):
            raise ParameterError("the weighted rule needs votes by name and weights by name",
                                 field="weights")
        missing = [k for k in names if k not in weights]
        if missing:
            raise ParameterError("no weight for this voter", field=f"weights[{missing[0]}]")
        w = np.array([float(weights[k]) for k in names])
        if (~np.isfinite(w)).any() or (w < 0).any() or w.sum() <= 0:
            raise ParameterError("weights must be non-negative with a positive sum", field="weights")
        share = float(w[np.array(yes)].sum() / w.sum())
        threshold = spec["threshold"]
        binding = share >= threshold - 1e-12
    return {"binding": bool(binding), "rule": rule, "in_favour": n_yes, "voters": n,
            "share": share, "threshold": threshold, "source": spec["source"]}


# --------------------------------------------------------------------------------------------
# bundled example: East Midlands SCG 2008/09


_EM_TABLES = {"pct": "pct", "provider": "provider", "service": "service", "investments": "case"}


def east_midlands_spend(table: str = "pct") -> pd.DataFrame:
    """East Midlands SCG 2008/09 income and expenditure (F004), GBP thousands.

    Args:
        table: ``pct`` (income by the 9 PCTs), ``provider`` (expenditure by provider),
            ``service`` (expenditure by service; services over GBP 5m, the rest as 'Other'), each
            totalling 500,838; or ``investments`` (2009/10 priority investments: in-year
            ``total_2009_10_gbp_thousands`` 4,402 and ``full_year_effect_gbp_thousands`` 6,613).

    Returns:
        DataFrame ``<table>, spend_gbp_thousands`` (for ``investments``: ``case`` and the two
        columns). Provenance: ``hna/data/PROVENANCE_east_midlands.md``.
    """
    if table not in _EM_TABLES:
        raise ParameterError("unknown table", field="table", value=table,
                             hint=f"Use one of: {', '.join(_EM_TABLES)}")
    name = f"east_midlands_2008_09_{table}.csv"
    with resources.files("hna").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)

"""Spend projections: do-nothing spend, QIPP, gap to allocation, waterfall decomposition.

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

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.finance._common import need as _need
from hna.finance._common import numbers as _numbers
from hna.finance._common import rate as _rate
from hna.finance._common import year_path as _path

__all__ = [
    "DECOMPOSITION_ORDER",
    "do_nothing",
    "qipp_schedule",
    "apply_qipp",
    "project_spend",
    "gap_to_allocation",
    "decompose",
]

#: Default order of the multiplicative waterfall decomposition.
DECOMPOSITION_ORDER: tuple[str, ...] = ("population", "non_demographic", "qipp")
_FACTOR = {"population": "demographic_factor", "non_demographic": "non_demographic_factor",
           "qipp": "qipp_factor"}
_LABEL = {"population": "Population growth", "non_demographic": "Non-demographic growth",
          "qipp": "QIPP"}


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


def qipp_schedule(  # noqa: PLR0913 - the eight keyword-only settings are F003's own figures
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
        transactional_year1: transactional QIPP in plan year one (F003: 1.5%).
        transactional_later: transactional QIPP in later years, a rate or per-year sequence
            (F003: "no more than 1%").
        transactional_cap: the most transactional QIPP allowed after year one (1%).
        transformational_year1: part-year transformational QIPP in year one (F003: 1.5%).
        transformational_later: later transformational rates (default total_target -
            transactional_later).
        total_target: QIPP a year across both kinds (F003: "c3%").
        part_year_fraction: share of the year the year-one schemes run (0.5: mid-year).
        cumulation: ``compound`` or ``additive``.

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

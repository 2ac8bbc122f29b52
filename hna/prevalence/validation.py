"""Calibration and validation tables against UK Renal Registry figures.

The tables of ``docs/calibration_dialysis.md``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from hna.prevalence.calibration import (
    _crude_series,
    _summaries,
    calibration_run,
)
from hna.prevalence.load import load_rrt_parameters
from hna.prevalence.parameters import (
    _HHD,
    _ICHD,
    _PD,
    _TX,
    ADULT_BANDS,
    FLOWS,
    MODALITIES,
    RRTParameters,
)
from hna.prevalence.stock import _median_age
from hna.prevalence.transitions import (
    _F,
)

#: Published age peaks of prevalence: year -> (men's band, pmp, women's band, pmp, source).
_AGE_PEAKS = {
    2007: ("75-79", 2506, "70-74", 1314, "UKRR 11th Annual Report (2008), ch. 1 summary"),
    2008: ("75-79", 2582, "70-74", 1408, "UKRR 12th Annual Report (2009), ch. 1 summary"),
}


def _role(role: str) -> str:
    return "in-sample" if role == "calibration" else "held out"


def calibration_table(params: RRTParameters | None = None) -> pd.DataFrame:
    """Calibration targets against the model (the table in ``docs/calibration_dialysis.md``).

    Rows with ``asserted`` True carry a tolerance the tests require; ``role`` says whether the
    figure was used to fit the calibrated scales (``in-sample``) or held out (``held out``:
    validation targets and every comparison row). The others are shown for comparison only.

    Columns: ``measure, year, target, model, difference, tolerance, within_tolerance,
    asserted, role, source``. Rates are per million population; shares are percentages.
    """
    params = params or load_rrt_parameters()
    sim, pop = calibration_run(params)
    s = _summaries(sim, pop)
    yi = {y: i for i, y in enumerate(s["years"])}
    rows: list[dict[str, Any]] = []

    def add(measure: str, year: int, target: float, model: float,  # noqa: PLR0913 - a row
            tol: float | None, relative: bool, asserted: bool, source: str, role: str = "held out") -> None:
        diff = (model / target - 1.0) * 100 if relative else model - target
        rows.append({
            "measure": measure, "year": year, "target": target, "model": round(model, 2),
            "difference": round(diff, 2),
            "tolerance": tol, "within_tolerance": None if tol is None else bool(abs(diff) <= tol),
            "asserted": asserted, "role": role, "source": source,
        })

    for t in params.calibration.prevalence_targets:
        add("prevalence_pmp (difference in %)", t.year, t.rate_pmp,
            float(s["prevalence_pmp"][yi[t.year]]), t.tolerance * 100, True, True,
            f"UKRR {t.source.document}", _role(t.role))
    for t in params.calibration.modality_targets:
        m = s["mix"][yi[t.year]] * 100
        for name, target, model in (("transplant", t.tx, m[_TX]), ("haemodialysis", t.hd, m[_ICHD] + m[_HHD]),
                                    ("peritoneal dialysis", t.pd, m[_PD])):
            add(f"share_{name}_% (difference in points)", t.year, target * 100, float(model),
                t.tolerance_points, False, True, f"UKRR {t.source.document}", _role(t.role))
    _comparisons(add, s, yi)  # published figures, not asserted
    return pd.DataFrame(rows)


def _comparisons(add: Callable[..., None], s: dict[str, Any], yi: dict[int, int]) -> None:
    """Rows of published figures shown for comparison only (held out, not asserted)."""
    ukrr16 = "UKRR 16th Annual Report (2013), ch. 2"
    other = {2003: (632, "UKRR 7th Annual Report (2004), ch. 1 (minimum estimate)")}
    for year, (target, src) in other.items():
        if year in yi:
            add("prevalence_pmp (difference in %)", year, target,
                float(s["prevalence_pmp"][yi[year]]), None, True, False, src)
    if 2005 in yi:
        m = s["mix"][yi[2005]] * 100
        src = "UKRR 9th Annual Report (2006), ch. 4"
        add("share_transplant_% (difference in points)", 2005, 45.0, float(m[_TX]), None, False, False, src)
        add("share_peritoneal dialysis_% (difference in points)", 2005, 12.0, float(m[_PD]), None, False, False, src)
        add("share_home_hd_% (difference in points)", 2005, 1.2, float(m[_HHD]), None, False, False, src)
    for year, (mb, men, wb, women, src) in _AGE_PEAKS.items():
        if year in yi:
            br = s["band_rate"][yi[year]]
            add(f"prevalence_pmp men {mb} (published peak; difference in %)", year, men,
                float(br[1, ADULT_BANDS.index(mb)]), None, True, False, src)
            add(f"prevalence_pmp women {wb} (published peak; difference in %)", year, women,
                float(br[0, ADULT_BANDS.index(wb)]), None, True, False, src)
    if 2006 in yi:
        m = s["mix"][yi[2006]] * 100
        add("share_peritoneal dialysis_% (difference in points)", 2006, 11.0, float(m[_PD]), None,
            False, False, "UKRR 10th Annual Report (2007), ch. 4")
    if 2012 in yi:
        i = yi[2012]
        add("share_home_hd_% (difference in points)", 2012, 100 * 1080 / 54824,
            float(s["mix"][i][_HHD] * 100), None, False, False, ukrr16 + " (1,080 home HD patients)")
        br = s["band_rate"][i]
        b8084 = ADULT_BANDS.index("80-84")
        b7579 = ADULT_BANDS.index("75-79")
        add("prevalence_pmp men 80-84 (difference in %)", 2012, 2973, float(br[1, b8084]), None,
            True, False, ukrr16)
        add("prevalence_pmp women 75-79 (difference in %)", 2012, 1528, float(br[0, b7579]), None,
            True, False, ukrr16)
        lower = [18.0] + [float(x) for x in range(20, 95, 5)]
        add("peak prevalence band, men: lower age (difference in years)", 2012, 80.0,
            lower[int(np.argmax(br[1]))], None, False, False, ukrr16 + " (peak 80-84)")
        add("peak prevalence band, women: lower age (difference in years)", 2012, 75.0,
            lower[int(np.argmax(br[0]))], None, False, False, ukrr16 + " (peak 75-79)")
        stock = s["stock"][i].sum(axis=(0, 2))  # by band
        add("median age of prevalent patients (difference in years)", 2012, 58,
            _median_age(stock), None, False, False, ukrr16)
        over70 = stock[ADULT_BANDS.index("70-74"):].sum() / stock.sum() * 100
        add("share aged 70+ % (difference in points)", 2012, 24.9, float(over70), None, False,
            False, ukrr16 + " (aged > 70: 24.9%)")
        fl = s["flows"][i - 1]  # flows of 2012 (flows start at years[1])
        inc = fl[:, :, FLOWS.index("incident")].sum(axis=0)  # by band
        add("median age at start of RRT (difference in years)", 2012, 64.9, _median_age(inc),
            None, False, False, "UKRR 15th Annual Report (2012), ch. 1 (2011: 64.9)")
        tx = fl[:, :, FLOWS.index("transplant")].sum() + fl[:, :, FLOWS.index("early_transplant")].sum()
        add("adult kidney transplants pmp (difference in %)", 2012, 47.0,
            float(tx / s["total_pop"][i] * 1e6), None, True, False,
            "NHSBT Organ Donation and Transplantation Activity Report 2012/13: about 3,000 UK "
            "kidney transplants a year (~47 pmp), including children and re-transplants; approximate")


def calibration_trajectory(params: RRTParameters | None = None) -> pd.DataFrame:
    """Year-by-year national calibration run: population, incidence and prevalence.

    Columns: ``year, population, incidence_pmp`` (published, interpolated), ``incident``,
    ``prevalence_pmp`` (model), ``published_pmp`` (UKRR where available), ``ichd_%, hhd_%,
    pd_%, tx_%``, ``deaths`` and ``transplants`` (model, England proxy population).
    """
    params = params or load_rrt_parameters()
    sim, pop = calibration_run(params)
    s = _summaries(sim, pop)
    published = {p.year: p.rate_pmp for p in params.initial_prevalence.points}
    published.update({t.year: t.rate_pmp for t in params.calibration.prevalence_targets})
    published.setdefault(2003, 632.0)
    rows = []
    for i, y in enumerate(s["years"]):
        fl = s["flows"][i - 1] if i else None
        rows.append({
            "year": y,
            "population": s["total_pop"][i],
            "incidence_pmp": _crude_series(params, y),
            "incident": fl[:, :, _F["incident"]].sum() if fl is not None else np.nan,
            "prevalence_pmp": s["prevalence_pmp"][i],
            "published_pmp": published.get(y, np.nan),
            **{f"{m}_%": 100 * s["mix"][i][k] for k, m in enumerate(MODALITIES)},
            "deaths": fl[:, :, _F["death"]].sum() if fl is not None else np.nan,
            "transplants": (fl[:, :, _F["transplant"]].sum() + fl[:, :, _F["early_transplant"]].sum())
            if fl is not None else np.nan,
        })
    return pd.DataFrame(rows)


def calibration_markdown(params: RRTParameters | None = None) -> str:
    """The calibration tables as Markdown (pasted into ``docs/calibration_dialysis.md``).

    Two tables: targets against the model (:func:`calibration_table`) and the year-by-year run
    (:func:`calibration_trajectory`). Regenerate with ``python -m hna.prevalence``.
    """
    params = params or load_rrt_parameters()
    t = calibration_table(params)

    def fmt(v: Any, digits: int = 1) -> str:
        if v is None or (isinstance(v, float) and not math.isfinite(v)):
            return ""
        if isinstance(v, (bool, np.bool_)):
            return "yes" if v else "NO"
        return f"{v:,.{digits}f}"

    lines = [
        "| measure | year | target | model | difference | tolerance | within | asserted | role | source |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in t.itertuples(index=False):
        lines.append(
            f"| {r.measure} | {r.year} | {fmt(r.target)} | {fmt(r.model)} | {fmt(r.difference, 2)} "
            f"| {fmt(r.tolerance)} | {fmt(r.within_tolerance)} | {'yes' if r.asserted else 'no'} | {r.role} "
            f"| {r.source} |"
        )
    lines += [
        "",
        "| year | population (m) | incidence pmp (published) | starters | prevalence pmp (model) "
        "| prevalence pmp (UKRR) | ichd % | hhd % | pd % | tx % | deaths | transplants |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v in calibration_trajectory(params).to_dict("records"):
        lines.append(
            f"| {v['year']} | {v['population'] / 1e6:.2f} | {fmt(v['incidence_pmp'])} "
            f"| {fmt(v['incident'], 0)} | {fmt(v['prevalence_pmp'])} | {fmt(v['published_pmp'], 0)} "
            f"| {fmt(v['ichd_%'])} | {fmt(v['hhd_%'])} | {fmt(v['pd_%'])} | {fmt(v['tx_%'])} "
            f"| {fmt(v['deaths'], 0)} | {fmt(v['transplants'], 0)} |"
        )
    return "\n".join(lines) + "\n"



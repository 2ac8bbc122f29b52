"""Which assumption drives the horizon-year result: one-at-a-time sensitivity and variance shares.

For a rate service's demand in one footprint and year, each source of uncertainty ``i`` of the
:class:`hna.incidence.rate_draws.RateModel` (Poisson noise, the age-sex rates, ``rate_level``,
``case_definition``, ``annual_change_percent``, ``population_variant``) is sampled **alone**,
every other input held at its central value, with the same seed (common random numbers):

- ``low``, ``high``: the 2.5% and 97.5% quantiles of demand with only ``i`` varying (the bar of
  a tornado chart);
- ``variance``: the variance ``V_i`` of demand with only ``i`` varying (first-order, one at a
  time; Saltelli et al. 2008, *Global Sensitivity Analysis: The Primer*, ch. 1);
- ``share``: ``V_i / sum_j V_j``; with inputs acting multiplicatively and independently this
  approximates the first-order Sobol index ``V_i / V``. ``V`` (all inputs together) is reported
  in ``attrs['total_variance']``; ``1 - sum V_i / V`` is the interaction part.

Only the requested year is simulated (the streams are keyed by year, so its numbers equal those
of a full run).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import ParameterError
from hna.incidence.rate_draws import RateModel, simulate_rate_model

__all__ = ["LABELS", "sensitivity", "dominant_text", "table_from_headline"]

#: Plain names of the sources of uncertainty.
LABELS: dict[str, str] = {
    "poisson": "Chance variation in cases (Poisson)",
    "rates": "Age-sex rates (registry counts)",
    "rate_level": "Level of the rates",
    "case_definition": "Case definition",
    "annual_change_percent": "Trend in the rates",
    "population_variant": "Population projection variant",
}


def _one_year(model: RateModel, year: int, area: str | None) -> RateModel:
    if year not in model.years:
        raise ParameterError("year not in the demand result", field="year", value=year,
                             hint=f"Choose from {model.years[0]}-{model.years[-1]}")
    yi = model.years.index(year)
    ai = slice(None)
    areas = model.areas
    if area is not None:
        if area not in model.areas:
            raise ParameterError("footprint not in the demand result", field="area_code",
                                 value=area)
        k = model.areas.index(area)
        ai, areas = slice(k, k + 1), [area]
    exposure = {v: a[yi:yi + 1][:, :, ai] for v, a in model.exposure.items()}
    return replace(model, years=[year], exposure=exposure, areas=areas)


def sensitivity(
    result: Any,
    year: int | None = None,
    *,
    area_code: str | None = None,
    draws: int | None = None,
    seed: int | None = None,
) -> pd.DataFrame:
    """One-at-a-time sensitivity of demand in ``year`` (default: the result's last year).

    Args:
        result: a :class:`hna.demand.DemandResult` of a rate service (or a RateModel).
        year: the year analysed (the horizon by default).
        area_code: the footprint (the only one by default).
        draws: draws per input (default the result's, at least 500).
        seed: default the result's seed.

    Returns:
        One row per source of uncertainty, largest swing first: ``input, label, low, high,
        swing, variance, share``; ``attrs``: ``year, area_code, central, total_variance,
        draws, seed``.
    """
    model = result if isinstance(result, RateModel) else getattr(result, "rate_model", None)
    if model is None:
        raise ParameterError("sensitivity needs a rate service's demand result",
                             field="result", hint="Model services (dialysis) report theirs "
                             "from their own model file")
    meta = getattr(result, "meta", {})
    year = int(year if year is not None else model.years[-1])
    if area_code is None and len(model.areas) > 1:
        area_code = result._area(None) if hasattr(result, "_area") else model.areas[0]
    m1 = _one_year(model, year, area_code)
    n = int(draws if draws is not None else max(500, int(meta.get("draws") or 0)))
    seed = int(seed if seed is not None else meta.get("seed", 1))
    rows = []
    for comp in m1.components():
        x = simulate_rate_model(m1, n, seed, vary=[comp])["counts"][0, 0].astype(float)
        lo, hi = np.quantile(x, [0.025, 0.975])
        rows.append({"input": comp, "label": LABELS[comp], "low": float(lo), "high": float(hi),
                     "swing": float(hi - lo), "variance": float(x.var())})
    out = pd.DataFrame(rows)
    total = float(simulate_rate_model(m1, n, seed)["counts"][0, 0].astype(float).var())
    out["share"] = out["variance"] / out["variance"].sum() if len(out) else []
    out = out.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs = {"year": year, "area_code": m1.areas[0], "central": float(m1.expected()[0, 0]),
                 "total_variance": total, "draws": n, "seed": seed}
    return out


def dominant_text(table: pd.DataFrame, top: int = 2) -> str:
    """One sentence: which inputs dominate the interval in the table's year."""
    if table.empty:
        return "No sources of uncertainty."
    parts = [f"{r.label[0].lower() + r.label[1:]} ({r.share:.0%} of the variance)"
             for r in table.sort_values("share", ascending=False).head(top).itertuples()]
    return (f"In {table.attrs.get('year')} the interval is driven mostly by "
            + " and ".join(parts) + ".")


def table_from_headline(sens: dict[str, Any], central: float | None = None) -> pd.DataFrame:
    """The sensitivity table back from an assessment headline's ``sensitivity`` entry.

    Works for rate services and model services (dialysis) alike; ``central`` (e.g. the
    horizon year's expected value) draws the tornado's central line.
    """
    t = pd.DataFrame(sens.get("table", []))
    t.attrs = {"year": sens.get("year"), "central": central}
    return t

"""Projection of a service's rates over calendar years: a multiplier per year, sex and band.

:func:`rate_multipliers` gives the projected rate relative to the service's base rates for its
``projection`` (constant, trend anchored at ``projection.base_year``, Nordpred); it is used by
:mod:`hna.demand` and :mod:`hna.service_uncertainty`. Formulas: ``docs/services.md`` and
``docs/methods/uncertainty.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, AGE_BANDS, SEX_DTYPE, SEXES
from hna.errors import DataError, ParameterError
from hna.services import Service, load_service

__all__ = ["rate_multipliers", "read_history", "trend_settings"]




def _damped(t: np.ndarray, damping: float) -> np.ndarray:
    from hna.incidence import damped_drift

    return damped_drift(np.asarray(t, dtype=float), damping)


def rate_multipliers(service: Service | str, years: Sequence[int],
                     variant: str = "npp2020") -> pd.DataFrame:
    """Projected rate relative to the service's base rates: ``year, sex, age_band, multiplier``.

    - ``constant``: 1.
    - ``trend`` with ``annual_change_percent`` p: ``(1 + p/100) ** D(max(0, year - anchor))``
      with ``D`` the damped drift of :func:`hna.incidence.damped_drift` and ``anchor`` the
      stated ``projection.base_year`` (:func:`hna.service_uncertainty.trend_settings`).
    - ``trend`` with ``history``: ``exp(beta x D(max(0, year - anchor)))``, ``beta`` the drift
      fitted by :func:`hna.incidence.trend_rates` to the yearly counts.
    - ``nordpred``: the Nordpred projected rate of the year's five-year period divided by the
      last observed period's rate, per sex and age group (``85+`` applies to 85-89 and 90+);
      1 for years up to the end of the last observed period.
    """
    svc = load_service(service)
    ys = [int(y) for y in years]
    grid = pd.DataFrame([(y, s, b) for y in ys for s in SEXES for b in AGE_BANDS],
                        columns=["year", "sex", "age_band"])
    proj = svc.projection
    if proj.method == "constant":
        grid["multiplier"] = 1.0
    elif proj.method == "trend":
        pct, anchor, damping, _ = trend_settings(svc)
        beta = float(np.log1p(pct / 100.0))
        t = np.maximum(0, grid["year"].to_numpy() - anchor)
        grid["multiplier"] = np.exp(beta * _damped(t, damping))
    else:
        grid["multiplier"] = _nordpred_multipliers(svc, grid, variant)
    grid["sex"] = grid["sex"].astype(SEX_DTYPE)
    grid["age_band"] = grid["age_band"].astype(AGE_BAND_DTYPE)
    return grid


def read_history(svc: Service, need: list[str]) -> pd.DataFrame:
    """The service's ``projection.history`` CSV, checked for the columns ``need``."""
    path = svc.resolve(svc.projection.history)
    src = str(path)
    try:
        df = pd.read_csv(path, dtype={"age_band": str, "sex": str, "period": str}, comment="#")
    except Exception as exc:  # noqa: BLE001 - any parser failure is a format problem
        raise DataError(f"cannot read CSV ({exc})", source=src) from None
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise DataError("missing column", source=src, field=missing[0],
                        hint=f"The history file needs the columns {', '.join(need)}")
    return df


_NORDPRED_GROUPS = [f"{lo}-{lo + 4}" for lo in range(0, 85, 5)] + ["85+"]


def _nordpred_multipliers(svc: Service, grid: pd.DataFrame, variant: str) -> np.ndarray:
    from hna.incidence.nordpred import nordpred
    from hna.population import growth_factors

    proj = svc.projection
    hist = read_history(svc, ["sex", "age_band", "period", "cases", "person_years"])
    src = str(svc.resolve(proj.history))
    starts = sorted({int(str(p)[:4]) for p in hist["period"]})
    if any(b - a != 5 for a, b in zip(starts, starts[1:], strict=False)):
        raise DataError("periods must be consecutive five-year periods ('2000-2004')",
                        source=src, field="period", value=starts)
    last_end = starts[-1] + 4
    top = int(grid["year"].max())
    n_future = max(1, -(-(top - last_end) // 5))
    future = [last_end + 1 + 5 * k for k in range(n_future)]
    if n_future > 5:
        raise ParameterError("Nordpred projects at most 5 periods (25 years) beyond the data",
                             source=src, field="projection.history", value=top)
    g = growth_factors(variant)
    if future[0] < int(g["year"].min()):
        raise ParameterError("future periods start before the national projection",
                             source=src, field="projection.history", value=future[0],
                             hint="Give history up to at least 2019")
    g = g.assign(group=np.where(g["age_band"].astype(str).isin(["85-89", "90+"]), "85+",
                                g["age_band"].astype(str)))
    out = np.ones(len(grid))
    for sex in SEXES:
        h = hist[hist["sex"].str.lower() == sex]
        if h.empty:
            raise DataError("no history rows for this sex", source=src, field="sex", value=sex)
        cases = h.pivot_table(index="age_band", columns="period", values="cases",
                              aggfunc="sum").reindex(_NORDPRED_GROUPS)
        pyr = h.pivot_table(index="age_band", columns="period", values="person_years",
                            aggfunc="sum").reindex(_NORDPRED_GROUPS)
        if cases.isna().any().any():
            raise DataError("history needs the 18 Nordpred age groups (0-4 ... 80-84, 85+) in "
                            "every period", source=src, field="age_band")
        gs = g[g["sex"].astype(str) == sex]
        for start in future:
            yrs = range(start, start + 5)
            py = gs[gs["year"].isin(list(yrs))].groupby("group")["population"].sum()
            if len(gs[gs["year"].isin(list(yrs))]["year"].unique()) < 5:
                raise ParameterError("the national projection does not cover the period",
                                     field="years", value=f"{start}-{start + 4}")
            pyr[f"{start}-{start + 4}"] = py.reindex(_NORDPRED_GROUPS).to_numpy()
        kwargs: dict[str, Any] = {"link": proj.link}
        if proj.cuttrend is not None:
            kwargs["cuttrend"] = tuple(proj.cuttrend)
        if proj.n_periods is not None:
            kwargs["n_periods"] = tuple(proj.n_periods)
        else:  # Nordpred's candidates 4-6, limited to the periods observed
            n_obs = cases.shape[1]
            kwargs["n_periods"] = tuple(v for v in (4, 5, 6) if v <= n_obs) or (n_obs,)
        res = nordpred(cases, pyr, **kwargs)
        rates = res.rates
        last = rates.iloc[:, cases.shape[1] - 1].to_numpy()
        ratios = {}
        for j, start in enumerate(future):
            fut = rates.iloc[:, cases.shape[1] + j].to_numpy()
            ratios[start] = np.where(last > 0, fut / np.where(last > 0, last, 1.0), 1.0)
        sel = (grid["sex"] == sex).to_numpy()
        bands = grid.loc[sel, "age_band"].astype(str).to_numpy()
        gidx = np.array([_NORDPRED_GROUPS.index("85+" if b in ("85-89", "90+") else b)
                         for b in bands])
        years = grid.loc[sel, "year"].to_numpy()
        vals = np.ones(sel.sum())
        for start, r in ratios.items():
            inside = (years >= start) & (years < start + 5)
            vals[inside] = r[gidx[inside]]
        out[sel] = vals
    return out


def trend_settings(svc: Any) -> tuple[float, int, float, float | None] | None:
    """``(central annual change %, anchor year, damping, fitted SE in %)``, or ``None``.

    The anchor is ``projection.base_year``; ``last_observed`` means ``rates.reference_year``
    (assumed change) or the last year of ``projection.history`` (fitted drift).
    """
    p = svc.projection
    if p.method != "trend":
        return None
    if p.annual_change_percent is not None:
        if p.base_year == "last_observed":
            if svc.rates is None or svc.rates.reference_year is None:
                raise ParameterError("base_year last_observed needs rates.reference_year",
                                     source=svc._display(), field="projection.base_year")
            anchor = int(svc.rates.reference_year)
        else:
            anchor = int(p.base_year)
        return float(p.annual_change_percent), anchor, float(p.damping), None
    from hna.incidence import trend_rates

    hist = read_history(svc, ["age_band", "sex", "year", "cases", "person_years"])
    last = int(hist["year"].max())
    fit = trend_rates(hist, [last])
    beta = float(fit.attrs["beta"])
    se = float(fit.attrs.get("beta_se", np.nan))
    anchor = last if p.base_year == "last_observed" else int(p.base_year)
    pct = float(np.expm1(beta) * 100)
    se_pct = float(np.exp(beta) * se * 100) if np.isfinite(se) else None
    return pct, anchor, float(p.damping), se_pct

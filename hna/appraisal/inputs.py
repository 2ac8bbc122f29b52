"""Argument checks of :func:`hna.appraisal.appraise_footprint` (years, services, money)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna import finance
from hna.codes import ENGLAND
from hna.errors import DataError, ParameterError
from hna.parameters import PARAMETERS_DIR
from hna.services import list_services, load_service

_QIPP_DEFAULT_TEXT = (
    "F003 defaults (hna.finance.qipp_schedule): transactional 1.5% in plan year one, 1% later; "
    "transformational 1.5% part-year in year one (3% full-year), 2% later; c.3% a year, "
    "compounded"
)


def _year(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ParameterError("must be a whole year, e.g. 2025", field=name, value=value)
    return int(value)


def _services(services: Any) -> list[str]:
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
    plan_years = list(range(year + 1, horizon + 1))
    if qipp is False or qipp is None:
        return None, "no QIPP"
    if isinstance(qipp, pd.DataFrame):
        return qipp, "QIPP schedule passed in"
    if not plan_years:
        return None, "no QIPP plan years (horizon equals the base year)"
    if qipp is True:
        return finance.qipp_schedule(plan_years), _QIPP_DEFAULT_TEXT
    if isinstance(qipp, Mapping):
        kwargs = dict(qipp)
        return finance.qipp_schedule(plan_years, **kwargs), (
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


def _relative(p: Path | None) -> str | None:
    if p is None:
        return None
    try:
        return str(p.resolve().relative_to(PARAMETERS_DIR.parent))
    except ValueError:
        return str(p)


# --------------------------------------------------------------------------------------------
# Demand in (computed by the caller)


def appraisal_demand(
    footprint: Any,
    services: Sequence[str] | str | None = None,
    years: Sequence[int] = range(2025, 2031),
    draws: int = 0,
    seed: int = 1,
) -> dict[str, pd.DataFrame]:
    """Demand an appraisal needs: each service in the footprint and in England, by year.

    Runs :func:`hna.demand.service_demand` once per service for ``[footprint, England]``; pass
    the result to :func:`appraise_footprint`. Expected values are deterministic; draws add the
    2.5% and 97.5% quantiles (a 95% interval of the Monte Carlo demand).

    Returns:
        service id -> ``service_demand(...).summary`` (``area_code, year, expected, q0.025,
        q0.975, population, ...``).
    """
    from hna.demand import service_demand
    from hna.geography import resolve_footprint

    fp = resolve_footprint(footprint)
    targets = [fp] if fp.code == ENGLAND else [fp, ENGLAND]
    ys = [int(y) for y in years]
    out = {}
    for sid in _services(services):
        summary = service_demand(sid, targets, years=ys, draws=draws, seed=seed).summary
        summary.attrs.update(draws=int(draws), seed=int(seed))  # for the provenance
        out[sid] = summary
    return out


def _draws_seed(demand: Mapping[str, Any], ids: list[str]) -> tuple[int | None, int | None]:
    """Monte Carlo draws and seed behind the demand given (from ``meta`` or ``attrs``)."""
    for sid in ids:
        d = demand[sid]
        info = getattr(d, "meta", None) or getattr(d, "attrs", {}) or {}
        if "draws" in info:
            seed = info.get("seed")
            return int(info["draws"]), (int(seed) if seed is not None else None)
    return None, None


def _demand_input(demand: Any, ids: list[str], fp: Any, years: list[int]) -> dict[str, pd.DataFrame]:
    if not isinstance(demand, Mapping):
        raise ParameterError(
            "demand must map each service to its demand summary", field="demand",
            value=type(demand).__name__,
            hint="demand = hna.appraisal.appraisal_demand(footprint, services, years)")
    out = {}
    for sid in ids:
        if sid not in demand:
            raise ParameterError("no demand for this service", field=f"demand[{sid}]",
                                 hint="Compute it with hna.appraisal.appraisal_demand")
        d = demand[sid]
        d = getattr(d, "summary", d)
        if not isinstance(d, pd.DataFrame):
            raise DataError("expected a demand summary table", source=f"demand[{sid}]",
                            value=type(d).__name__)
        for c in ("area_code", "year", "expected", "population"):
            if c not in d.columns:
                raise DataError("missing column", source=f"demand[{sid}]", field=c)
        for code in {fp.code, ENGLAND}:
            have = set(d.loc[d["area_code"] == code, "year"].astype(int))
            missing = [y for y in years if y not in have]
            if missing:
                raise DataError(f"no demand for {code} in {missing[0]}", source=f"demand[{sid}]",
                                field="year", value=missing[0],
                                hint="Demand must cover the footprint and England for every year")
        out[sid] = d
    return out

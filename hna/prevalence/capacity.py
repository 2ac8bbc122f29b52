"""Dialysis capacity arithmetic: patients per station, stations and sessions needed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.prevalence.inputs import (
    _require_columns,
)

# --------------------------------------------------------------------------------------------
# Capacity
# --------------------------------------------------------------------------------------------


def patients_per_station(
    sessions_per_week: float = 3, shifts_per_day: float = 3, days_per_week: float = 6
) -> float:
    """Patients one haemodialysis station can serve: ``shifts_per_day * days_per_week / sessions_per_week``."""
    for name, v in (("sessions_per_week", sessions_per_week), ("shifts_per_day", shifts_per_day),
                    ("days_per_week", days_per_week)):
        if not (isinstance(v, (int, float, np.integer, np.floating)) and math.isfinite(v) and v > 0):
            raise ParameterError(f"{name} must be a positive number", field=name, value=v)
    if days_per_week > 7:
        raise ParameterError("days_per_week cannot exceed 7", field="days_per_week", value=days_per_week)
    return shifts_per_day * days_per_week / sessions_per_week


def _as_counts(x: Any, name: str) -> tuple[np.ndarray, Any]:
    if isinstance(x, pd.Series):
        v = x.to_numpy(dtype=float)
    else:
        v = np.asarray(x, dtype=float)
    if np.any(~np.isfinite(v)) or np.any(v < 0):
        bad = v[~np.isfinite(v) | (v < 0)].flat[0]
        raise DataError("patient counts must be finite and >= 0", field=name, value=float(bad))
    return v, x


def _like(values: np.ndarray, original: Any) -> Any:
    if isinstance(original, pd.Series):
        return pd.Series(values, index=original.index, name=original.name)
    if np.ndim(original) == 0:
        return values.item()
    return values


def stations_needed(
    ichd_patients: Any,
    sessions_per_week: float = 3,
    shifts_per_day: float = 3,
    days_per_week: float = 6,
    *,
    utilisation: float = 1.0,
) -> Any:
    """Haemodialysis stations needed for in-centre patients (rounded up).

    A station runs ``shifts_per_day`` sessions a day on ``days_per_week`` days; each patient
    needs ``sessions_per_week`` sessions. The defaults (3 sessions a week, 3 shifts a day,
    6 days a week) give 6 patients per station, as in the East Midlands SCG annual report
    2008/09: 16 new stations "meaning that up to 96 additional patients can be treated".
    ``utilisation`` (0-1] allows for slots that cannot be filled.

    Args:
        ichd_patients: number(s) of in-centre HD patients (scalar, array or Series).
        sessions_per_week: sessions each patient needs a week.
        shifts_per_day: sessions a station runs a day.
        days_per_week: days a week the unit runs.
        utilisation: share (0-1] of slots that can be filled.

    Returns:
        Whole stations, same shape and type as ``ichd_patients``.
    """
    per = patients_per_station(sessions_per_week, shifts_per_day, days_per_week)
    if not (0 < utilisation <= 1):
        raise ParameterError("utilisation must be in (0, 1]", field="utilisation", value=utilisation)
    v, original = _as_counts(ichd_patients, "ichd_patients")
    # tolerance so 96 / 6 is 16, not 17, despite floating point
    stations = np.ceil(v / (per * utilisation) - 1e-9).clip(min=0)
    return _like(stations.astype(np.int64), original)


def sessions_per_week(ichd_patients: Any, sessions_per_patient: float = 3) -> Any:
    """Dialysis sessions a week: in-centre patients x sessions per patient per week."""
    if not (math.isfinite(sessions_per_patient) and sessions_per_patient > 0):
        raise ParameterError(
            "sessions_per_patient must be a positive number",
            field="sessions_per_patient",
            value=sessions_per_patient,
        )
    v, original = _as_counts(ichd_patients, "ichd_patients")
    return _like(v * sessions_per_patient, original)


def capacity_table(
    stock: pd.DataFrame,
    sessions_per_week: float = 3,
    shifts_per_day: float = 3,
    days_per_week: float = 6,
    *,
    utilisation: float = 1.0,
) -> pd.DataFrame:
    """In-centre HD patients, weekly sessions and stations by area and year (and draw).

    Args:
        stock: a :func:`simulate_rrt` table (must keep ``modality``).
        sessions_per_week: sessions each patient needs a week.
        shifts_per_day: sessions a station runs a day.
        days_per_week: days a week the unit runs.
        utilisation: share (0-1] of slots that can be filled.
    """
    _require_columns(stock, ["area_code", "year", "modality", "patients"], "stock")
    by = ["area_code", "year"] + (["draw"] if "draw" in stock.columns else [])
    ichd = stock[stock["modality"].astype(str) == "ichd"]
    out = ichd.groupby(by, observed=True, sort=True)["patients"].sum().reset_index()
    out = out.rename(columns={"patients": "ichd_patients"})
    per_patient = sessions_per_week
    out["sessions_per_week"] = out["ichd_patients"] * per_patient
    out["stations"] = stations_needed(
        out["ichd_patients"], sessions_per_week, shifts_per_day, days_per_week,
        utilisation=utilisation,
    )
    return out



#: Planning occupancy of haemodialysis stations (share of slots filled). Assumption: slots are
#: lost to isolation, maintenance, holiday and acute dialysis, and units plan below 100%.
DEFAULT_OCCUPANCY = 0.85


def stations_columns(
    summary: pd.DataFrame,
    *,
    patients_per_station: float = 6.0,
    occupancy: float = DEFAULT_OCCUPANCY,
    mean: str = "mean",
    upper: str = "q0.975",
) -> pd.DataFrame:
    """Haemodialysis stations for in-centre patients, on the mean and on the upper interval.

    ``stations = ceil(patients / (patients_per_station x occupancy))``. Planning for the upper
    end of the 95% interval (``upper``), not the mean, leaves capacity for the projection's
    uncertainty; ``occupancy`` is the planned share of station slots in use.

    Args:
        summary: table with the ``mean`` (and ``upper``, when draws were run) columns of
            in-centre HD patients.
        patients_per_station: patients one station serves at full use (6: 3 sessions a week,
            3 shifts a day, 6 days; East Midlands SCG 2008/09: 16 stations, up to 96 patients).
        occupancy: planned occupancy in (0, 1] (default 0.85, an assumption).
        mean: name of the mean column.
        upper: name of the upper-quantile column (ignored when absent or all missing).

    Returns:
        A copy of ``summary`` with ``stations_on_mean``, ``stations_on_upper`` (when the upper
        column exists) and ``station_occupancy``.
    """
    if not (0 < occupancy <= 1):
        raise ParameterError("occupancy must be in (0, 1]", field="occupancy", value=occupancy)
    if not (math.isfinite(patients_per_station) and patients_per_station > 0):
        raise ParameterError("patients_per_station must be a positive number",
                             field="patients_per_station", value=patients_per_station)
    out = summary.copy()
    per = patients_per_station * occupancy
    for col, name in ((mean, "stations_on_mean"), (upper, "stations_on_upper")):
        if col in out.columns and out[col].notna().any():
            v, _ = _as_counts(out[col].fillna(0.0), col)
            out[name] = np.ceil(v / per - 1e-9).astype(np.int64)
    out["station_occupancy"] = occupancy
    return out

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


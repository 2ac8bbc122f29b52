"""Access and equity of a configuration: who travels how far, by deprivation.

For one allocation of areas to centres (travel minutes per area) and the areas' populations:

- population-weighted mean travel time ``sum(p_i t_i) / sum(p_i)``;
- population-weighted 90th percentile: the smallest ``t`` with at least 90% of the population
  at or below it (:func:`hna.catchments.weighted_quantile`, inverse weighted ECDF);
- share of the population with travel time strictly above 60 and 90 minutes;
- the same by IMD 2019 quintile of the area (1 = most deprived).

Population (not cases) is the weight because access is a property of where people live;
case-weighted figures are in the options table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from hna.catchments import weighted_quantile

__all__ = ["EQUITY_THRESHOLDS", "access_summary", "equity_rows"]

EQUITY_THRESHOLDS: tuple[float, ...] = (60.0, 90.0)


def access_summary(minutes: np.ndarray, population: np.ndarray,
                   thresholds: Sequence[float] = EQUITY_THRESHOLDS) -> dict[str, float]:
    """Population-weighted mean, 90th percentile and shares beyond each threshold.

    Args:
        minutes: travel minutes per area.
        population: population per area (weights).
        thresholds: minutes; ``share_over_<t>_min`` is the population share with time > t.

    Returns:
        ``population, mean_minutes, p90_minutes`` and ``share_over_<t>_min``; NaN when the
        population is zero.
    """
    t = np.asarray(minutes, float)
    w = np.asarray(population, float)
    total = float(w.sum())
    out = {"population": total,
           "mean_minutes": float((t * w).sum() / total) if total > 0 else float("nan"),
           "p90_minutes": weighted_quantile(t, w, 0.9)}
    for th in thresholds:
        out[f"share_over_{th:g}_min"] = (float(w[t > th].sum() / total) if total > 0
                                         else float("nan"))
    return out


def equity_rows(option: str, minutes: np.ndarray, population: np.ndarray,
                quintile: np.ndarray, thresholds: Sequence[float] = EQUITY_THRESHOLDS
                ) -> list[dict[str, object]]:
    """Access for everyone and for each IMD quintile: one row each (``group`` = "all", 1..5).

    Args:
        option: label of the configuration (e.g. "2 centres", "current").
        minutes: travel minutes per area.
        population: population per area.
        quintile: IMD 2019 quintile per area (1 = most deprived).
        thresholds: minutes for the "share beyond" columns.
    """
    q = np.asarray(quintile, int)
    rows = [{"option": option, "group": "all", **access_summary(minutes, population, thresholds)}]
    for g in range(1, 6):
        sel = q == g
        rows.append({"option": option, "group": str(g),
                     **access_summary(np.asarray(minutes)[sel], np.asarray(population)[sel],
                                      thresholds)})
    return rows


def equity_table(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows from :func:`equity_rows` as a table.

    Columns ``option, group, population, mean_minutes, p90_minutes, share_over_<t>_min``.
    """
    return pd.DataFrame(rows)

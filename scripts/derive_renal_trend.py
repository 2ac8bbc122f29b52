"""Derive the RRT incidence trend of parameters/models/renal_replacement_therapy.yaml.

Ordinary least squares of log(crude adult incidence, pmp) on calendar year over the UK Renal
Registry years 2009-2016 of the model file's ``incidence_history`` (107, 107, 108, 108, 109,
115, 120, 118 pmp). Prints the annual change ``exp(slope) - 1`` in per cent and the slope's
standard error (in log points per year, x100), the figures behind ``projection.
incidence_change_percent`` (1.75) and the note of ``uncertainty.incidence_change_percent``.

Run: ``python scripts/derive_renal_trend.py``.
"""

from __future__ import annotations

import numpy as np

from hna.prevalence import load_rrt_parameters

FIRST, LAST = 2009, 2016


def fit(first: int = FIRST, last: int = LAST) -> tuple[float, float]:
    """(annual change in per cent, standard error of the log slope x 100) over the years."""
    h = [c for c in load_rrt_parameters().incidence_history if first <= c.year <= last]
    y = np.array([c.year for c in h], dtype=float)
    v = np.log([c.rate_pmp for c in h])
    X = np.column_stack([np.ones_like(y), y - y.mean()])
    beta, *_ = np.linalg.lstsq(X, v, rcond=None)
    resid = v - X @ beta
    s2 = resid @ resid / (len(v) - 2)
    se = float(np.sqrt(s2 * np.linalg.inv(X.T @ X)[1, 1]))
    return float(np.expm1(beta[1]) * 100), se * 100


if __name__ == "__main__":
    change, se = fit()
    print(f"UKRR adult incidence {FIRST}-{LAST}: {change:.2f}% a year (SE of log slope {se:.2f})")

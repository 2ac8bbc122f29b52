"""Results of a designation: the chosen configuration, the change against today, infeasibility.

:class:`DesignationInfeasible` is raised by :func:`hna.designation.solve.designate` when no
configuration satisfies the constraints; the options layer records it as a result ("no
configuration of k centres meets the minimum"), never as a failure of the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hna.errors import ParameterError

__all__ = ["DesignationInfeasible", "ConfigurationChange", "DesignationResult", "KComparison"]


class DesignationInfeasible(ParameterError):
    """No configuration satisfies the constraints; ``reasons`` names the binding ones.

    ``reasons`` is a list of ``(constraint, explanation)`` pairs, where ``constraint`` is one of
    ``"critical_mass"``, ``"max_travel"``, ``"force_include"``, ``"candidates"``, ``"k"``,
    ``"capacity"`` or ``"combination"``.
    """

    def __init__(self, message: str, *, reasons: list[tuple[str, str]], k: int,
                 hint: str | None = None) -> None:
        """Record the binding ``reasons`` for ``k`` and the message for people."""
        self.reasons = reasons
        self.k = k
        super().__init__(message, field="designation", hint=hint)

    @property
    def binding(self) -> list[str]:
        """Names of the binding constraints."""
        return [name for name, _ in self.reasons]


@dataclass
class ConfigurationChange:
    """The chosen configuration against the current one.

    Attributes:
        current_sites / chosen_sites: site codes.
        retained, opened, closed: site codes kept, added and no longer designated.
        current: nearest-site catchments of the current sites (:class:`CatchmentResult`).
        areas: per area ``area_code, cases, current_site, new_site, current_minutes,
            new_minutes, change_minutes``.
        areas_reassigned / cases_reassigned: areas (and their cases) whose centre changes.
        travel: ``current_*``, ``new_*`` and ``change_*`` for mean and 90th percentile minutes
            and the share of demand beyond each threshold.
    """

    current_sites: list[str]
    chosen_sites: list[str]
    retained: list[str]
    opened: list[str]
    closed: list[str]
    current: object
    areas: pd.DataFrame
    areas_reassigned: int
    cases_reassigned: float
    travel: dict[str, float]


@dataclass
class DesignationResult:
    """A designated configuration of ``k`` centres.

    Attributes:
        k, min_cases_per_centre, max_travel, forced: the request.
        centres: one row per chosen site: ``site_code, site_name, forced, n_areas, cases,
            share_of_cases, meets_minimum, mean_minutes, p90_minutes, max_minutes`` (+
            ``population``; with draws ``prob_meets_minimum, cases_p05, cases_p50, cases_p95``).
        allocation: one row per area: ``area_code, site_code, minutes, km, cases,
            nearest_open_site, is_nearest`` (min volumes can send an area past a nearer centre).
        travel: demand-weighted statistics (see :func:`hna.catchments.travel_summary`).
        objective: total case-weighted minutes of the solution.
        mip_gap: relative optimality gap reported by HiGHS (0 = proven optimal).
        status: ``"optimal"`` or ``"time limit (feasible, gap ...)"``.
        solve_seconds: wall time of the MILP solve.
        prob_all_meet_minimum: with draws, the share of draws in which every centre meets the
            minimum.
        change: :class:`ConfigurationChange` when current sites were given.
        assumptions: the travel model (or "matrix") and thresholds.
    """

    k: int
    min_cases_per_centre: float
    max_travel: float | None
    forced: list[str]
    centres: pd.DataFrame
    allocation: pd.DataFrame
    travel: dict[str, float]
    objective: float
    mip_gap: float
    status: str
    solve_seconds: float
    prob_all_meet_minimum: float | None = None
    change: ConfigurationChange | None = None
    assumptions: dict[str, object] = field(default_factory=dict)

    @property
    def chosen_sites(self) -> list[str]:
        """Site codes of the designated centres."""
        return self.centres["site_code"].tolist()

    def headline(self) -> dict[str, object]:
        """JSON-friendly headline figures."""
        out: dict[str, object] = {
            "k": self.k,
            "min_cases_per_centre": self.min_cases_per_centre,
            "max_travel_minutes": self.max_travel,
            "sites": self.chosen_sites,
            "site_names": self.centres["site_name"].tolist(),
            "cases": [round(float(c), 2) for c in self.centres["cases"]],
            "mean_minutes": round(self.travel["mean_minutes"], 2),
            "p90_minutes": round(self.travel["p90_minutes"], 2),
            "mip_gap": self.mip_gap,
            "status": self.status,
        }
        for key, val in self.travel.items():
            if key.startswith("share_over_"):
                out[key] = round(val, 4)
        if self.prob_all_meet_minimum is not None:
            out["prob_all_meet_minimum"] = round(self.prob_all_meet_minimum, 4)
        if self.change is not None:
            out["opened"] = self.change.opened
            out["closed"] = self.change.closed
            out["change_mean_minutes"] = round(self.change.travel["change_mean_minutes"], 2)
        return out

    def summary(self) -> str:
        """A few lines of plain text."""
        lines = [
            f"{self.k} centre(s), minimum {self.min_cases_per_centre:g} cases each"
            + (f", max travel {self.max_travel:g} min" if self.max_travel is not None else "")
            + f": {self.status}, gap {self.mip_gap:.2g}",
        ]
        for row in self.centres.itertuples(index=False):
            extra = ""
            if "prob_meets_minimum" in self.centres.columns:
                extra = f", P(>= minimum) = {row.prob_meets_minimum:.2f}"
            lines.append(f"  {row.site_code} {row.site_name}: {row.cases:.1f} cases, "
                         f"{row.n_areas} areas, mean {row.mean_minutes:.0f} min{extra}")
        t = self.travel
        lines.append(f"  travel: mean {t['mean_minutes']:.0f} min, 90th percentile "
                     f"{t['p90_minutes']:.0f} min, max {t['max_minutes']:.0f} min")
        if self.change is not None:
            c = self.change
            lines.append(f"  vs current ({', '.join(c.current_sites)}): opened {c.opened or '-'}, "
                         f"closed {c.closed or '-'}, {c.areas_reassigned} areas "
                         f"({c.cases_reassigned:.1f} cases) change centre, mean travel "
                         f"{c.travel['change_mean_minutes']:+.1f} min")
        return "\n".join(lines)


@dataclass
class KComparison:
    """Designations for several ``k``.

    ``table`` has one row per k; ``results`` maps k to the result or the
    :class:`DesignationInfeasible` raised.
    """

    table: pd.DataFrame
    results: dict[int, DesignationResult | DesignationInfeasible]


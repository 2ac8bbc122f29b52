"""Scenarios side by side: the same service, footprint, years and seed under each scenario.

:func:`compare_scenarios` runs :func:`hna.demand.service_demand` once per scenario (``None`` is
the base case), assesses each (:func:`hna.thresholds.assess`, with England's demand under the
same scenario) and returns the summaries (for one fan per scenario) and a table of headline
differences against the first scenario listed. The draws of every scenario use the same seed
and the service's own random streams (common random numbers), so differences reflect the
scenarios, not resampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from hna.codes import ENGLAND
from hna.errors import ParameterError

__all__ = ["ScenarioComparison", "compare_scenarios"]



@dataclass
class ScenarioComparison:
    """Results of one service and footprint under several scenarios.

    Attributes:
        labels: scenario id (``"base"`` for ``None``) -> display name.
        results: scenario id -> :class:`hna.demand.DemandResult`.
        assessments: scenario id -> :class:`hna.thresholds.Assessment`.
        table: one row per scenario: means and 95% intervals now and at the horizon, the
            horizon difference from the first scenario (count and per cent), P(every centre
            viable) by allocation, centres sustainable at the level, the dominant input.
    """

    labels: dict[str, str]
    results: dict[str, Any]
    assessments: dict[str, Any]
    table: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    def differences(self) -> pd.DataFrame:
        """The headline differences with plain column names (one row per scenario)."""
        t = self.table

        def iv(lo: str, hi: str) -> pd.Series:
            return t[lo].map("{:,.0f}".format) + "-" + t[hi].map("{:,.0f}".format)

        y0, y1 = int(t["now_year"].iloc[0]), int(t["horizon_year"].iloc[0])
        levels = sorted(set(t["level"])) if "level" in t.columns else [0.8]
        level = (f"{levels[0]:.0%}" if len(levels) == 1 else
                 "scenario's (" + "/".join(f"{v:.0%}" for v in levels) + ")")
        planned = ("Centres planned" if bool(t["n_centres_given"].all()) else
                   f"Centres planned (sustainable at the {level} level in {y0})")
        return pd.DataFrame({
            "Scenario": t["name"],
            # the expected value, as the service reports show it; whole cases
            f"Expected {y0}": t["now_expected"].round(0).astype("Int64"),
            f"95% interval {y0}": iv("now_q0.025", "now_q0.975"),
            f"Expected {y1}": t["horizon_expected"].round(0).astype("Int64"),
            f"95% interval {y1}": iv("horizon_q0.025", "horizon_q0.975"),
            f"Difference {y1} (%)": t["horizon_difference_percent"].round(1),
            planned: t["n_centres"],
            f"P(every planned centre viable) {y1}": t["p_viable_horizon"].round(2),
            f"Centres sustainable at the {level} level, {y1}": t["centres_sustainable_horizon"],
            f"Main driver of the {y1} interval": t["dominant_input"],
        })

    def headline(self) -> dict[str, Any]:
        """JSON-ready record: the table, and per scenario what its intervals include."""
        rows = self.table.to_dict("records")
        for r in rows:
            a = self.assessments[r["scenario"]]
            r["interval_includes"] = a.headline.get("interval_includes", [])
            r["dominant"] = (a.headline.get("sensitivity") or {}).get("dominant")
        return {"scenarios": rows, **self.meta}

    def summaries(self) -> dict[str, pd.DataFrame]:
        """Display name -> the footprint's summary by year (for ``plots.scenario_fans``)."""
        return {self.labels[k]: r.headline() for k, r in self.results.items()}


def _row(key: str, label: str, a: Any, level_col: str) -> dict[str, Any]:
    h = a.headline
    now, hor = h["now"], h["horizon"]
    sens = h.get("sensitivity") or {}
    return {
        "scenario": key, "name": label,
        "now_year": now["year"], "now_mean": now["mean"],
        "now_expected": now["expected"],
        "now_q0.025": now.get("q0.025"), "now_q0.975": now.get("q0.975"),
        "horizon_year": hor["year"], "horizon_mean": hor["mean"],
        "horizon_expected": hor["expected"],
        "horizon_q0.025": hor.get("q0.025"), "horizon_q0.975": hor.get("q0.975"),
        "n_centres": h["n_centres"], "n_centres_given": bool(h.get("n_centres_given")),
        "p_viable_now": now.get("p_viable"), "p_viable_horizon": hor.get("p_viable"),
        "centres_sustainable_horizon": hor.get(level_col),
        "dominant_input": (sens.get("table") or [{}])[0].get("label"),
    }


def compare_scenarios(  # noqa: PLR0913 - notebook API; settings are keyword-only
    service: Any,
    footprint: Any,
    scenarios: Sequence[Any],
    *,
    years: Any = "2025:2040",
    draws: int = 1000,
    seed: int = 1,
    n_centres: int | None = None,
    level: float = 0.8,
    population: Any = None,
) -> ScenarioComparison:
    """Run and assess ``service`` in ``footprint`` under each scenario.

    Args:
        service: service id, path or Service.
        footprint: one footprint (code, name or Footprint).
        scenarios: scenario ids, paths or Scenario objects; ``None`` = the base case. The first
            is the reference for differences.
        years: years to project.
        draws: Monte Carlo draws per scenario.
        seed: the same seed for every scenario.
        n_centres: centres planned (default: a scenario's ``n_centres``, else the largest
            number sustainable at ``level`` in the first year).
        level: probability for "centres sustainable".
        population: district population table or file (default bundled).
    """
    from hna.demand import service_demand
    from hna.scenarios import load_scenario
    from hna.thresholds import assess, level_column

    if not scenarios:
        raise ParameterError("give at least one scenario (None = base case)", field="scenarios")
    labels, results, assessments, rows = {}, {}, {}, []
    for sc in scenarios:
        obj = None if sc is None else load_scenario(sc)
        key = "base" if obj is None else obj.id
        if key in results:
            raise ParameterError("scenario listed twice", field="scenarios", value=key)
        labels[key] = "Base case" if obj is None else obj.name
        r = service_demand(service, footprint, years=years, draws=draws, seed=seed,
                           scenario=obj, population=population)
        national = r if ENGLAND in r.areas else service_demand(
            r.service, ENGLAND, years=r.years, draws=0, population=population,
            variant=r.meta["variant"])
        k = n_centres if n_centres is not None else (obj.n_centres if obj else None)
        lev = obj.level if obj is not None and obj.level is not None else level
        a = assess(r, n_centres=k, national=national, level=lev)
        results[key], assessments[key] = r, a
        rows.append({**_row(key, labels[key], a, level_column(lev)), "level": lev})
    table = pd.DataFrame(rows)
    ref = table["horizon_expected"].iloc[0]
    table["horizon_difference"] = table["horizon_expected"] - ref
    table["horizon_difference_percent"] = 100 * table["horizon_difference"] / ref
    return ScenarioComparison(labels=labels, results=results, assessments=assessments,
                              table=table, meta={"seed": seed, "draws": draws,
                                                 "reference": table["scenario"].iloc[0]})

"""Population figures: pyramid and projected growth by age."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hna.bands import AGE_BANDS
from hna.plots.style import PALETTE, add_source, new_figure, wrap

__all__ = ["population_pyramid", "growth_by_age"]


def population_pyramid(
    population: pd.DataFrame,
    year: int | None = None,
    compare_year: int | None = None,
    title: str = "Population by age and sex",
    source: str = "ONS mid-year estimates; national-trend projection",
):
    """Horizontal pyramid of a footprint's population (thousands) by ESP2013 band and sex.

    Args:
        population: canonical table (one footprint; summed over areas if several).
        year: year to draw (default: first year in the table).
        compare_year: optional second year drawn as an outline (e.g. the planning horizon).
        title: figure title (wrapped at 60 characters).
        source: source note written under the chart.
    """
    years = sorted(population["year"].unique())
    year = years[0] if year is None else year
    fig, ax = new_figure(height=4.8)
    y = np.arange(len(AGE_BANDS))

    def _by(yr):
        t = population[population["year"] == yr].groupby(["sex", "age_band"], observed=False)[
            "population"].sum() / 1000
        return t.get("female", pd.Series(0, index=AGE_BANDS)).reindex(AGE_BANDS).to_numpy(), \
            t.get("male", pd.Series(0, index=AGE_BANDS)).reindex(AGE_BANDS).to_numpy()

    f, m = _by(year)
    ax.barh(y, -m, color=PALETTE["male"], label=f"Males {year}", height=0.85)
    ax.barh(y, f, color=PALETTE["female"], label=f"Females {year}", height=0.85)
    if compare_year is not None and compare_year in years:
        f2, m2 = _by(compare_year)
        ax.step(np.r_[-m2, -m2[-1]], np.r_[y - 0.5, y[-1] + 0.5], where="post", color="black",
                lw=1, label=f"{compare_year}")
        ax.step(np.r_[f2, f2[-1]], np.r_[y - 0.5, y[-1] + 0.5], where="post", color="black", lw=1)
    ax.set_yticks(y, AGE_BANDS)
    lim = max(np.max(f), np.max(m)) * 1.1
    ax.set_xlim(-lim, lim)
    ticks = ax.get_xticks()
    ax.set_xticks(ticks, [f"{abs(t):,.0f}" for t in ticks])
    ax.set_xlabel("Population (thousands)")
    ax.set_ylabel("Age band")
    ax.set_title(wrap(title, 60))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    add_source(fig, source)
    return fig


def growth_by_age(
    population: pd.DataFrame,
    base_year: int,
    horizon_year: int,
    title: str = "Projected population change by age",
    source: str = ("ONS national population projections: England's age-sex ratios applied to the "
                   "local base (the same shape for every footprint)"),
):
    """Bar chart of the percentage change in population by age band between two years."""
    t = population.groupby(["year", "age_band"], observed=False)["population"].sum().unstack(0)
    change = (t[horizon_year] / t[base_year] - 1) * 100
    fig, ax = new_figure()
    colors = [PALETTE["threshold"] if v > 0 else PALETTE["fan"] for v in change]
    ax.bar(range(len(change)), change.to_numpy(), color=colors)
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(change)), [str(b) for b in change.index], rotation=90)
    ax.set_ylabel(f"Change {base_year} to {horizon_year} (%)")
    ax.set_xlabel("Age band")
    ax.set_title(wrap(title, 60))
    add_source(fig, source)
    return fig

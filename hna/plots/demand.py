"""Demand figures: fan chart of projected cases or patients against critical mass."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from matplotlib.ticker import MaxNLocator

from hna.plots.style import PALETTE, add_source, count_axis, new_figure, wrap

__all__ = ["fan_chart", "band_rates"]


def fan_chart(
    summary: pd.DataFrame,
    title: str = "Projected annual demand",
    ylabel: str = "New cases per year",
    thresholds: Sequence[tuple[float, str]] = (),
    source: str = "hna projection (Monte Carlo)",
    mean: str = "mean",
    bands: Sequence[tuple[str, str]] = (("q0.025", "q0.975"), ("q0.1", "q0.9")),
):
    """Fan chart: the mean line with shaded 95% and 80% intervals by year.

    Args:
        summary: one row per ``year`` with ``mean`` and quantile columns (``q0.025`` ...).
        title: figure title (wrapped at 60 characters).
        ylabel: y-axis label (wrapped at 45 characters).
        source: source note written under the chart.
        mean: column of the central line (``"expected"`` for the central estimate).
        thresholds: horizontal reference lines as (value, label), e.g. critical mass x k
            centres; labelled in the legend (outside the plot), never on the band.
        bands: pairs of (lower, upper) quantile columns, widest first.
    """
    s = summary.sort_values("year")
    fig, ax = new_figure()
    alphas = (0.18, 0.32)
    labels = ("95% interval", "80% interval")
    for (lo, hi), a, lab in zip(bands, alphas, labels, strict=False):
        if lo in s and hi in s:
            ax.fill_between(s["year"], s[lo], s[hi], color=PALETTE["fan"], alpha=a, lw=0, label=lab)
    ax.plot(s["year"], s[mean], color=PALETTE["fan"], lw=2,
            label="Expected (central estimate)" if mean == "expected" else "Mean")
    for value, lab in thresholds:
        ax.axhline(value, color=PALETTE["threshold"], ls="--", lw=1, label=wrap(lab, 28))
    # The y-axis spans the intervals and the thresholds (not from 0), so the band stays visible.
    ax.margins(y=0.08)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    count_axis(ax.yaxis)
    ax.set_xlabel("Year")
    ax.set_ylabel(wrap(ylabel, 45))
    ax.set_title(wrap(title, 60))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    add_source(fig, source)
    return fig


def band_rates(
    rates: pd.DataFrame,
    title: str = "Incidence by age and sex",
    ylabel: str = "Rate per 100,000 person-years",
    source: str = "service parameter file",
    multiplier: float = 100_000,
):
    """Line chart of age-specific rates (``age_band, sex, rate`` per person-year) by sex."""
    fig, ax = new_figure()
    for sex, part in rates.groupby("sex", observed=True):
        part = part.sort_values("age_band")
        ax.plot(range(len(part)), part["rate"] * multiplier, marker="o", ms=3,
                color=PALETTE.get(str(sex), "black"), label=str(sex).capitalize())
        ax.set_xticks(range(len(part)), [str(b) for b in part["age_band"]], rotation=90)
    ax.set_xlabel("Age band")
    ax.set_ylabel(wrap(ylabel, 45))
    ax.set_title(wrap(title, 60))
    ax.legend(loc="upper left", frameon=False)
    add_source(fig, source)
    return fig

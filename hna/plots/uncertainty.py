"""Uncertainty figures: tornado chart of one-at-a-time sensitivity, fans of several scenarios."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hna.plots.style import PALETTE, add_source, new_figure

__all__ = ["tornado", "scenario_fans"]

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf")


def tornado(
    table: pd.DataFrame,
    title: str = "What drives the uncertainty",
    xlabel: str = "Demand in the horizon year",
    source: str = "hna one-at-a-time sensitivity analysis (each input varied alone)",
):
    """Tornado chart: for each input, the 95% range of demand with only that input varying.

    Args:
        table: :func:`hna.sensitivity.sensitivity` output (``label, low, high, share``);
            ``attrs['central']`` draws the central line.
        title: figure title.
        xlabel: x-axis label (what is counted, and the year).
        source: source note.
    """
    t = table.sort_values("swing", ascending=True)
    fig, ax = new_figure(height=max(2.4, 0.55 * len(t) + 1.2))
    y = range(len(t))
    ax.barh(list(y), (t["high"] - t["low"]).to_numpy(), left=t["low"].to_numpy(),
            color=PALETTE["fan"], alpha=0.6, height=0.6)
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"{lab} ({sh:.0%})" for lab, sh in zip(t["label"], t["share"],
                                                              strict=True)])
    central = table.attrs.get("central")
    if central is not None:
        ax.axvline(central, color=PALETTE["threshold"], lw=1, ls="--")
        ax.annotate("central", (central, len(t) - 0.5), xytext=(3, 0),
                    textcoords="offset points", fontsize=8, color=PALETTE["threshold"])
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    add_source(fig, source + " (share = share of the one-at-a-time variance)")
    return fig


def scenario_fans(
    summaries: Mapping[str, pd.DataFrame],
    title: str = "Projected demand by scenario",
    ylabel: str = "New cases per year",
    minimum: float | None = None,
    source: str = "hna Monte Carlo projection under each named scenario",
):
    """One fan (mean and 95% interval) per scenario on shared axes.

    Args:
        summaries: scenario label -> summary with ``year, mean, q0.025, q0.975``.
        title: figure title.
        ylabel: y-axis label.
        minimum: a reference line (e.g. critical mass x centres), if given.
        source: source note.
    """
    fig, ax = new_figure()
    for (name, s), colour in zip(summaries.items(), _COLOURS * 3, strict=False):
        s = s.sort_values("year")
        if {"q0.025", "q0.975"} <= set(s.columns):
            ax.fill_between(s["year"], s["q0.025"], s["q0.975"], color=colour, alpha=0.15,
                            lw=0)
        ax.plot(s["year"], s["mean"], color=colour, lw=2, label=name)
    if minimum is not None:
        ax.axhline(minimum, color=PALETTE["threshold"], ls="--", lw=1)
    ax.set_xlabel("Year")
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(title)
    ax.legend(loc="upper left", frameon=False, fontsize=8)
    add_source(fig, source + "; shaded: 95% intervals")
    return fig

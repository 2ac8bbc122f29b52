"""Uncertainty figures: tornado chart of one-at-a-time sensitivity, fans of several scenarios."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from matplotlib.ticker import MaxNLocator

from hna import formatting as fmt
from hna.plots.style import PALETTE, add_source, count_axis, new_figure, wrap

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
    ax.set_yticklabels([wrap(f"{lab} ({fmt.fmt_probability(sh)})", 40)
                        for lab, sh in zip(t["label"], t["share"], strict=True)])
    central = table.attrs.get("central")
    if central is not None:
        ax.axvline(central, color=PALETTE["threshold"], lw=1, ls="--")
        ax.set_ylim(-0.6, len(t) - 0.1)
        ax.annotate(f"all inputs central ({fmt.fmt_count(central)})", (central, len(t) - 0.62),
                    xytext=(3, 0),
                    textcoords="offset points", fontsize=8, color=PALETTE["threshold"],
                    va="bottom")
    count_axis(ax.xaxis, nbins=5)
    ax.set_xlabel(wrap(xlabel, 60))
    # over the whole figure: the long input labels push the axes right of the centre
    fig.suptitle(wrap(title, 60), fontsize=11)
    note = " (share = share of the one-at-a-time variance"
    if central is not None:
        note += ("; dashed line: every input at its central value, which differs from the Monte "
                 "Carlo mean when an input enters non-linearly, e.g. a trend")
    add_source(fig, source + note + ")")
    return fig


def _reference_in_range(value: float, low: float, high: float, widen: float) -> bool:
    """Whether a reference line at ``value`` fits an axis spanning ``low``-``high``.

    It fits when showing it widens the data's span by at most ``widen`` times (so the
    intervals keep at least ``1 / (1 + widen)`` of the axis height).
    """
    span = max(high - low, abs(high) * 0.05, 1e-9)
    return low - widen * span <= value <= high + widen * span


def scenario_fans(  # noqa: PLR0913 - figure options are keyword arguments with defaults
    summaries: Mapping[str, pd.DataFrame],
    title: str = "Projected demand by scenario",
    ylabel: str = "New cases per year",
    minimum: float | None = None,
    source: str = "hna Monte Carlo projection under each named scenario",
    minimum_label: str = "Critical mass",
    widen: float = 1.0,
):
    """One fan (mean and 95% interval) per scenario on shared axes.

    The y-axis spans the intervals (not from 0), so their widths stay legible. A reference
    line (``minimum``) is drawn when it lies within ``widen`` times the intervals' span of
    them; otherwise it is not drawn and the source note says where it lies, instead of
    stretching the axis until the fans are flat.

    Args:
        summaries: scenario label -> summary with ``year, mean, q0.025, q0.975``.
        title: figure title (wrapped at 60 characters).
        ylabel: y-axis label (wrapped at 45 characters).
        minimum: a reference line (e.g. critical mass x planned centres), if given.
        source: source note.
        minimum_label: what the reference line is, for the legend or the note.
        widen: how far (in spans of the intervals) the axis may stretch to show ``minimum``.
    """
    fig, ax = new_figure()
    lows, highs = [], []
    for (name, s), colour in zip(summaries.items(), _COLOURS * 3, strict=False):
        s = s.sort_values("year")
        if {"q0.025", "q0.975"} <= set(s.columns):
            ax.fill_between(s["year"], s["q0.025"], s["q0.975"], color=colour, alpha=0.15,
                            lw=0)
            lows.append(float(s["q0.025"].min()))
            highs.append(float(s["q0.975"].max()))
        lows.append(float(s["mean"].min()))
        highs.append(float(s["mean"].max()))
        ax.plot(s["year"], s["mean"], color=colour, lw=2, label=wrap(str(name), 28))
    note = source + "; shaded: 95% intervals"
    if minimum is not None:
        shown = fmt.fmt_count(minimum)
        if lows and not _reference_in_range(minimum, min(lows), max(highs), widen):
            where = "below" if minimum < min(lows) else "above"
            note += (f"; {minimum_label.lower()} ({shown} a year) lies far {where} the range "
                     "shown and is not drawn")
        else:
            ax.axhline(minimum, color=PALETTE["threshold"], ls="--", lw=1,
                       label=wrap(f"{minimum_label} ({shown})", 28))
    ax.margins(y=0.08)
    low, high = ax.get_ylim()
    if low < 0 <= min(lows, default=0.0):  # counts: never a negative axis
        ax.set_ylim(0, high)
    count_axis(ax.yaxis)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Year")
    ax.set_ylabel(wrap(ylabel, 45))
    ax.set_title(wrap(title, 60))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    add_source(fig, note)
    return fig

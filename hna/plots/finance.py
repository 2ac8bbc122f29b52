"""Finance figures: waterfall of the change in spend (population, non-demographic, QIPP)."""

from __future__ import annotations

import pandas as pd

from hna.errors import DataError
from hna.plots.style import PALETTE, add_source, new_figure

__all__ = ["waterfall"]

_COLOURS = {"total": PALETTE["persons"], "increase": PALETTE["threshold"],
            "decrease": PALETTE["accent"]}


def waterfall(
    decomposition: pd.DataFrame,
    title: str = "Change in spend: do nothing to plan",
    source: str = "hna.finance.decompose; QIPP assumptions F003 (NHS England South, 2016/17)",
    ylabel: str = "Spend",
    value_format: str = "{:,.0f}",
):
    """Waterfall chart of :func:`hna.finance.decompose` output.

    Bars: the start total, one floating bar per component (increases and decreases coloured
    differently, labelled with their signed value), and the end total.

    Args:
        decomposition: one decomposition (a single group): columns ``step, label, kind,
            value, running_total``.
        title: figure title.
        source: source note written under the chart.
        ylabel: y-axis label, e.g. ``"GBP thousands"``.
        value_format: format of the bar labels.

    Returns:
        matplotlib Figure.
    """
    need = ["step", "label", "kind", "value", "running_total"]
    if not isinstance(decomposition, pd.DataFrame) or any(c not in decomposition for c in need):
        raise DataError("expected the output of hna.finance.decompose", source="decomposition",
                        hint=f"Columns needed: {', '.join(need)}")
    d = decomposition.sort_values("step")
    if d["step"].duplicated().any():
        raise DataError("one decomposition at a time: filter to a single group first",
                        source="decomposition", field="step")
    fig, ax = new_figure()
    xs = range(len(d))
    for x, (_, r) in zip(xs, d.iterrows(), strict=True):
        if r["kind"] == "total":
            bottom, height, colour = 0.0, r["value"], _COLOURS["total"]
            text = value_format.format(r["value"])
        else:
            bottom = r["running_total"] - r["value"]
            height = r["value"]
            colour = _COLOURS["increase"] if r["value"] >= 0 else _COLOURS["decrease"]
            text = ("+" if r["value"] >= 0 else "") + value_format.format(r["value"])
        ax.bar(x, height, bottom=bottom, color=colour, width=0.6)
        ax.annotate(text, (x, max(bottom, bottom + height)), xytext=(0, 2),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8)
    # connectors between consecutive bar tops
    levels = d["running_total"].tolist()
    for x in range(len(levels) - 1):
        ax.plot([x + 0.3, x + 0.7], [levels[x], levels[x]], color=PALETTE["grey"], lw=0.8)
    import textwrap

    ax.set_xticks(list(xs))
    ax.set_xticklabels([textwrap.fill(str(lab), 16) for lab in d["label"]], rotation=0,
                       fontsize=8)
    tops = [max(r["running_total"], r["running_total"] - r["value"], 0) for _, r in d.iterrows()]
    lows = [min(r["running_total"], r["running_total"] - r["value"], 0) for _, r in d.iterrows()]
    span = (max(tops) - min(lows)) or 1.0
    ax.set_ylim(min(lows) - 0.02 * span, max(tops) + 0.12 * span)
    ax.set_ylabel(ylabel)
    ax.set_title(textwrap.fill(title, 70))
    ax.axhline(0, color=PALETTE["grey"], lw=0.6)
    add_source(fig, source)
    return fig

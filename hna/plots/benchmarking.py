"""Benchmarking figure: the F001 Appendix 14 measures over the three years."""

from __future__ import annotations

import numpy as np
import pandas as pd

from hna.errors import DataError
from hna.plots.style import PALETTE, add_source, new_figure

__all__ = ["benchmark_chart"]


def benchmark_chart(
    table: pd.DataFrame,
    title: str = "Milestone trends over three years (percent of services)",
    source: str = "Carter review 2006, Appendix 14 (model benchmarking tool); SCG returns",
):
    """Grouped bars of the percent-of-services measures for Year 1-3, with any target.

    Args:
        table: the output of :func:`hna.frameworks.benchmark`.
        title: figure title.
        source: source note under the chart.

    Returns:
        matplotlib Figure (measures with no value in any year are left out; if none has a
        value the axes say so).
    """
    need = ["measure", "unit", "year_1", "year_2", "year_3", "target"]
    if not isinstance(table, pd.DataFrame) or any(c not in table.columns for c in need):
        raise DataError("expected the output of hna.frameworks.benchmark", source="table",
                        hint=f"Columns needed: {', '.join(need)}")
    pct = table[table["unit"] == "percent_of_services"]
    years = ["year_1", "year_2", "year_3"]
    pct = pct[pct[years].notna().any(axis=1)]
    fig, ax = new_figure()
    if pct.empty:
        ax.text(0.5, 0.5, "No percent-of-services measure reported", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    else:
        x = np.arange(len(pct))
        shades = [PALETTE["grey"], PALETTE["fan"], PALETTE["persons"]]
        for i, (col, colour) in enumerate(zip(years, shades, strict=True)):
            ax.bar(x + (i - 1) * 0.27, pct[col].fillna(0), width=0.27, color=colour,
                   label=f"Year {i + 1}")
        for xi, t in zip(x, pct["target"], strict=True):
            if pd.notna(t):
                ax.hlines(t, xi - 0.45, xi + 0.45, colors=PALETTE["threshold"], linestyles="--")
        ax.set_xticks(x, [f"Measure {m}" for m in pct["measure"]])
        ax.set_ylim(0, 105)
        ax.set_ylabel("Percent of services")
        ax.legend(frameon=False, ncol=3)
    ax.set_title(title)
    add_source(fig, source)
    return fig

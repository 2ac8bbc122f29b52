"""Figures for the renal replacement therapy model (:mod:`hna.prevalence`)."""

from __future__ import annotations

import pandas as pd
from matplotlib.ticker import MaxNLocator

from hna.errors import DataError
from hna.plots.style import add_source, new_figure

__all__ = ["plot_rrt_modalities", "plot_dialysis_stations"]

_MODALITY_LABELS = {
    "ichd": "In-centre haemodialysis",
    "hhd": "Home haemodialysis",
    "pd": "Peritoneal dialysis",
    "tx": "Functioning transplant",
}
# Okabe-Ito colours, one per modality
_MODALITY_COLOURS = {"ichd": "#0072B2", "hhd": "#56B4E9", "pd": "#009E73", "tx": "#E69F00"}
_SOURCE = "hna renal replacement therapy model; parameters from UK Renal Registry reports"


def _check(stock: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in stock.columns]
    if missing:
        raise DataError(f"missing column(s) {missing}", source=name, field=missing[0])


def plot_rrt_modalities(
    stock: pd.DataFrame,
    *,
    area_code: str | None = None,
    title: str | None = None,
    source: str = _SOURCE,
):
    """Stacked area of adults on RRT by modality and year.

    Args:
        stock: a :func:`hna.prevalence.simulate_rrt` table (with ``modality``). With draws,
            the median of each modality across draws is stacked.
        area_code: one area; default all areas summed.
        title: figure title (default one naming the area).
        source: source line printed under the figure.

    Returns:
        The matplotlib figure.
    """
    _check(stock, ["area_code", "year", "modality", "patients"], "stock")
    df = stock if area_code is None else stock[stock["area_code"] == area_code]
    if df.empty:
        raise DataError("no rows to plot", source="stock", field="area_code", value=area_code)
    by = ["year", "modality"] + (["draw"] if "draw" in df.columns else [])
    totals = df.groupby(by, observed=True)["patients"].sum()
    if "draw" in df.columns:
        totals = totals.groupby(["year", "modality"], observed=True).median()
    wide = totals.unstack("modality").fillna(0.0)
    order = [m for m in _MODALITY_LABELS if m in wide.columns]
    fig, ax = new_figure()
    ax.stackplot(
        wide.index.to_numpy(),
        *[wide[m].to_numpy() for m in order],
        labels=[_MODALITY_LABELS[m] for m in order],
        colors=[_MODALITY_COLOURS[m] for m in order],
        alpha=0.9,
    )
    ax.set_xlabel("Year (31 December)")
    ax.set_ylabel("Adults on RRT" + (" (median of draws)" if "draw" in df.columns else ""))
    where = area_code or "all areas"
    ax.set_title(title or f"Adults on renal replacement therapy by modality, {where}")
    ax.legend(loc="upper left", frameon=True, framealpha=0.9, edgecolor="none")
    ax.set_xlim(wide.index.min(), wide.index.max())
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    add_source(fig, source)
    return fig


def plot_dialysis_stations(
    capacity: pd.DataFrame,
    *,
    area_code: str | None = None,
    title: str | None = None,
    source: str = _SOURCE + "; 6 patients per station (East Midlands SCG 2008/09)",
):
    """Haemodialysis stations needed by year, with a 90% interval when there are draws.

    Args:
        capacity: a :func:`hna.prevalence.capacity_table` table.
        area_code: one area; default all areas summed.
        title: figure title (default one naming the area).
        source: source line printed under the figure.
    """
    _check(capacity, ["area_code", "year", "stations"], "capacity")
    df = capacity if area_code is None else capacity[capacity["area_code"] == area_code]
    if df.empty:
        raise DataError("no rows to plot", source="capacity", field="area_code", value=area_code)
    fig, ax = new_figure()
    if "draw" in df.columns:
        per = df.groupby(["year", "draw"])["stations"].sum().groupby("year")
        q = per.quantile([0.05, 0.5, 0.95]).unstack()
        years = q.index.to_numpy()
        ax.fill_between(years, q[0.05], q[0.95], color="#0072B2", alpha=0.25,
                        label="90% interval")
        ax.plot(years, q[0.5], color="#0072B2", marker="o", label="median")
        ax.legend(frameon=False)
    else:
        s = df.groupby("year")["stations"].sum()
        ax.plot(s.index.to_numpy(), s.to_numpy(), color="#0072B2", marker="o")
    ax.set_xlabel("Year (31 December)")
    ax.set_ylabel("Haemodialysis stations")
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    where = area_code or "all areas"
    ax.set_title(title or f"Haemodialysis stations needed, {where}")
    add_source(fig, source)
    return fig

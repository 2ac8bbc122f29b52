"""Maps: choropleths on the bundled hexagon cartogram or on real boundaries, and catchments.

Every map is sized for an A4 page (7.5 x 9 inches by default), has a title, a legend (colour
bar, or classes when ``bins`` is given), a source note, and shows areas without data in grey
with a "No data" legend entry. The default colour map is viridis (perceptually uniform and
readable with the common colour-vision deficiencies); cividis is a good alternative.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import geopandas as gpd
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import colors as mcolors
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from hna.errors import DataError, ParameterError
from hna.geography.boundaries import hex_geodataframe

__all__ = ["choropleth", "catchment_map", "lsoa_catchment_map", "travel_time_map", "scale_bar"]

A4_MAP_SIZE = (7.5, 9.0)
NA_COLOUR = "#c8c8c8"
#: Okabe and Ito (2008) colour-blind-safe qualitative palette (black omitted).
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
             "#999999")
#: 2023+ ICB codes drawn on the July 2022 hexes (Surrey Heartlands, Sussex; boundaries differ
#: by a few LSOAs).
_ICB_ALIASES = {"E54000063": "E54000052", "E54000064": "E54000053"}


def _values_series(values, value_col: str | None, code_col: str | None) -> pd.Series:
    if isinstance(values, Mapping) and not isinstance(values, pd.Series | pd.DataFrame):
        values = pd.Series(dict(values))
    if isinstance(values, pd.Series):
        s = values.copy()
        s.index = s.index.astype(str)
        return pd.to_numeric(s, errors="coerce")
    if not isinstance(values, pd.DataFrame):
        raise ParameterError("values must be a Series, a dict or a DataFrame keyed by area code",
                             field="values", value=type(values).__name__)
    cols = list(values.columns)
    if code_col is None:
        code_col = next((c for c in ("code", "area_code", "site_code") if c in cols), None)
        if code_col is None:
            raise DataError("no code column in values", source="values", value=cols,
                            hint="name it 'code' or 'area_code', or pass code_col=")
    if value_col is None:
        numeric = [c for c in cols if c != code_col and pd.api.types.is_numeric_dtype(values[c])]
        if len(numeric) != 1:
            raise ParameterError("choose the column to map", field="value_col", value=numeric)
        value_col = numeric[0]
    for c in (code_col, value_col):
        if c not in cols:
            raise DataError("column not found", source="values", field=c, value=cols)
    s = pd.Series(pd.to_numeric(values[value_col], errors="coerce").to_numpy(),
                  index=values[code_col].astype(str).to_numpy(), name=value_col)
    if s.index.duplicated().any():
        raise DataError("repeated codes in values", source="values", field=code_col,
                        value=s.index[s.index.duplicated()].tolist()[:5])
    return s


def _geometry(level, boundaries: gpd.GeoDataFrame | None, code_col: str | None
              ) -> tuple[gpd.GeoDataFrame, bool]:
    if isinstance(level, gpd.GeoDataFrame) and boundaries is None:
        boundaries = level
    if boundaries is None:
        return hex_geodataframe(str(level)), True
    gdf = boundaries.copy()
    col = code_col or next((c for c in ("code", "area_code") if c in gdf.columns), None)
    if col is None:
        raise DataError("no code column in boundaries", source="boundaries",
                        value=list(gdf.columns), hint="use hna.geography.boundaries.load_boundaries()")
    gdf["code"] = gdf[col].astype(str)
    if "name" not in gdf.columns:
        gdf["name"] = gdf["code"]
    return gdf, False


def _text_colour(rgba) -> str:
    r, g, b = rgba[:3]
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return "black" if luminance > 0.45 else "white"


def _note(fig, source: str | None, extra: str | None = None) -> None:
    parts = [p for p in (f"Source: {source}" if source else None, extra) if p]
    if parts:
        fig.text(0.02, 0.012, "\n".join(parts), ha="left", va="bottom", fontsize=7.5,
                 color="#333333", wrap=True)


def choropleth(  # noqa: PLR0913 - plotting options, all keyword-only; kept from the API
    values,
    level: str | gpd.GeoDataFrame = "icb",
    *,
    boundaries: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    source: str | None = None,
    legend_label: str | None = None,
    cmap: str = "viridis",
    labels: str | None = "auto",
    value_col: str | None = None,
    code_col: str | None = None,
    bins: int | Sequence[float] | None = None,
    fmt: str = "{:,.0f}",
    vmin: float | None = None,
    vmax: float | None = None,
    figsize: tuple[float, float] = A4_MAP_SIZE,
    ax: plt.Axes | None = None,
    show_values: bool = False,
):
    """Draw a per-footprint value as a choropleth and return the figure.

    Args:
        values: a Series or dict keyed by area code, or a DataFrame with a code column
            (``code``/``area_code`` or ``code_col``) and a value column (``value_col``, or its
            only numeric column).
        level: ``"icb"`` or ``"nhs_region"`` for the bundled hexagon cartogram, or a
            GeoDataFrame of real boundaries (as from
            :func:`hna.geography.boundaries.load_boundaries`).
        boundaries: real boundaries (alternative to passing them as ``level``).
        title: the figure title.
        source: the source note (``"Source: ..."``).
        legend_label: the colour-bar label.
        value_col: the value column of a DataFrame ``values``.
        code_col: the code column of ``values`` and of the boundaries.
        vmin: lower end of a continuous colour scale.
        vmax: upper end of a continuous colour scale.
        figsize: figure size in inches.
        ax: draw into this axes instead of a new figure.
        cmap: a matplotlib colour map (sequential, colour-blind safe: viridis, cividis...).
        labels: ``"label"`` (NHS abbreviations), ``"short_name"``, ``"name"``, ``"code"`` or
            None; ``"auto"`` means abbreviations on hexes and none on real boundaries.
        bins: number of equal-count classes, or class edges; None for a continuous scale.
        fmt: format of numbers in class labels and with ``show_values``.
        show_values: print the value under each hexagon label.
    """
    s = _values_series(values, value_col, code_col)
    gdf, is_hex = _geometry(level, boundaries, code_col)
    if is_hex:
        s = s.rename(index=lambda c: _ICB_ALIASES.get(c, c))
    matched = s.index.isin(gdf["code"])
    if not matched.any():
        raise DataError("none of the value codes are on the map", source="values",
                        value=s.index[:5].tolist(),
                        hint="check the level (ICB E54, NHS region E40) or the boundaries")
    if not matched.all():
        warnings.warn(f"{int((~matched).sum())} code(s) not on the map were ignored: "
                      f"{s.index[~matched][:5].tolist()}", stacklevel=2)
    gdf["value"] = gdf["code"].map(s)
    has = gdf["value"].notna()

    own_fig = ax is None
    if own_fig:
        fig, ax = plt.subplots(figsize=figsize)
        fig.subplots_adjust(left=0.03, right=0.97, top=0.92, bottom=0.14)
    else:
        fig = ax.figure
    cm = plt.get_cmap(cmap)
    vals = gdf.loc[has, "value"].to_numpy(float)
    legend_handles = []
    if bins is not None:
        if np.isscalar(bins):
            edges = np.unique(np.quantile(vals, np.linspace(0, 1, int(bins) + 1)))
        else:
            edges = np.asarray(sorted(bins), float)
        if len(edges) < 2:
            edges = np.array([vals.min(), vals.max() + 1e-9])
        norm = mcolors.BoundaryNorm(edges, cm.N, extend="neither")
        nclass = len(edges) - 1
        for i in range(nclass):
            colour = cm((i + 0.5) / nclass)
            legend_handles.append(Patch(facecolor=colour, edgecolor="white",
                                        label=f"{fmt.format(edges[i])} to {fmt.format(edges[i + 1])}"))
        idx = np.clip(np.searchsorted(edges, vals, side="right") - 1, 0, nclass - 1)
        face = [cm((i + 0.5) / nclass) for i in idx]
    else:
        lo = np.nanmin(vals) if vmin is None else vmin
        hi = np.nanmax(vals) if vmax is None else vmax
        if hi <= lo:
            hi = lo + 1.0
        norm = mcolors.Normalize(lo, hi)
        face = [cm(norm(v)) for v in vals]
    face_by_row = pd.Series([mcolors.to_rgba(NA_COLOUR)] * len(gdf), index=gdf.index,
                            dtype=object)
    face_by_row[has] = pd.Series(face, index=gdf.index[has], dtype=object)
    edge = "white" if is_hex else "#ffffff"
    width = 1.2 if is_hex else 0.3
    if (~has).any():
        gdf.loc[~has].plot(ax=ax, facecolor=NA_COLOUR, edgecolor=edge, linewidth=width,
                           hatch=None if is_hex else "///")
        legend_handles.append(Patch(facecolor=NA_COLOUR, edgecolor="#999999",
                                    hatch=None if is_hex else "///", label="No data"))
    gdf.loc[has].plot(ax=ax, color=face, edgecolor=edge, linewidth=width)

    if labels == "auto":
        labels = "label" if is_hex else None
    if labels is not None:
        if labels not in gdf.columns:
            raise ParameterError("no such label column", field="labels", value=labels,
                                 hint=f"use one of {[c for c in gdf.columns if c != 'geometry']}")
        points = gdf.geometry.centroid if is_hex else gdf.geometry.representative_point()
        fontsize = 7 if is_hex and len(gdf) > 10 else 9
        for idx, pt, text in zip(gdf.index, points, gdf[labels].astype(str), strict=True):
            colour = _text_colour(face_by_row[idx])
            body = text
            if show_values and has[idx]:
                body = f"{text}\n{fmt.format(gdf.at[idx, 'value'])}"
            ax.annotate(body, (pt.x, pt.y), ha="center", va="center", fontsize=fontsize,
                        color=colour)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=13, loc="left", pad=12)
    if bins is None:
        sm = plt.cm.ScalarMappable(norm=norm, cmap=cm)
        cbar = fig.colorbar(sm, ax=ax, orientation="horizontal", fraction=0.035, pad=0.02,
                            aspect=40, shrink=0.8)
        if legend_label:
            cbar.set_label(legend_label, fontsize=9)
        cbar.ax.tick_params(labelsize=8)
        vals = gdf.loc[has, "value"].to_numpy(float) if has.any() else np.array([])
        if len(vals) and np.all(np.mod(vals, 1) == 0):  # whole numbers: whole-number ticks
            cbar.ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if legend_handles:
            ax.legend(handles=legend_handles, loc="lower left", frameon=False, fontsize=8)
    else:
        ax.legend(handles=legend_handles, title=legend_label, loc="upper center",
                  bbox_to_anchor=(0.5, 0.0), ncol=min(len(legend_handles), 4), frameon=False,
                  fontsize=8, title_fontsize=9)
    if own_fig:
        note = "Hexagon cartogram: one equal-sized hexagon per area, not to scale." if is_hex \
            else None
        _note(fig, source, note)
    return fig


def catchment_map(
    allocation: pd.DataFrame,
    sites: pd.DataFrame,
    boundaries: gpd.GeoDataFrame | None = None,
    demand: pd.DataFrame | None = None,
    *,
    title: str | None = None,
    source: str | None = None,
    figsize: tuple[float, float] = A4_MAP_SIZE,
    ax: plt.Axes | None = None,
):
    """Map catchments: areas coloured by their centre, centres marked and named.

    ``allocation`` has ``area_code, site_code`` (e.g. ``DesignationResult.allocation`` or
    ``CatchmentResult.allocation``); ``sites`` has ``site_code, site_name, x, y`` (BNG).
    Areas are drawn from ``boundaries`` (``code`` column, EPSG:27700) when given, otherwise
    as points from ``demand`` (``area_code, x, y, cases``) sized by cases, joined to their
    centre by a line. Colours are the Okabe-Ito palette (repeated beyond 8 centres).
    """
    centres = [c for c in sites["site_code"].astype(str) if c in set(allocation["site_code"])]
    colour = {c: OKABE_ITO[i % len(OKABE_ITO)] for i, c in enumerate(centres)}
    names = dict(zip(sites["site_code"].astype(str), sites.get("site_name", sites["site_code"]),
                     strict=True))
    own_fig = ax is None
    if own_fig:
        fig, ax = plt.subplots(figsize=figsize)
        fig.subplots_adjust(left=0.03, right=0.97, top=0.92, bottom=0.12)
    else:
        fig = ax.figure
    alloc = allocation.assign(area_code=allocation["area_code"].astype(str),
                              site_code=allocation["site_code"].astype(str))
    site_xy = sites.assign(site_code=sites["site_code"].astype(str)).set_index("site_code")
    if boundaries is not None:
        gdf = boundaries.merge(alloc[["area_code", "site_code"]], left_on="code",
                               right_on="area_code", how="left")
        gdf["colour"] = gdf["site_code"].map(colour).fillna(NA_COLOUR)
        gdf.plot(ax=ax, color=gdf["colour"], edgecolor="white", linewidth=0.4)
    elif demand is not None:
        pts = demand.assign(area_code=demand["area_code"].astype(str)).merge(
            alloc[["area_code", "site_code"]], on="area_code")
        for row in pts.itertuples(index=False):
            sx, sy = site_xy.loc[row.site_code, ["x", "y"]]
            ax.plot([row.x, sx], [row.y, sy], color=colour[row.site_code], lw=0.6, alpha=0.6)
        size = 10 + 190 * pts["cases"] / max(pts["cases"].max(), 1e-9)
        ax.scatter(pts["x"], pts["y"], s=size, c=[colour[c] for c in pts["site_code"]],
                   edgecolor="white", linewidth=0.5, zorder=3)
    else:
        raise ParameterError("give boundaries or demand points to draw the areas",
                             field="boundaries")
    for code in centres:
        x, y = site_xy.loc[code, ["x", "y"]]
        ax.scatter([x], [y], marker="*", s=260, color=colour[code], edgecolor="black",
                   linewidth=0.8, zorder=5)
        ax.annotate(str(names.get(code, code)), (x, y), xytext=(6, 6), textcoords="offset points",
                    fontsize=8, zorder=6,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.8})
    handles = [Line2D([], [], marker="*", linestyle="none", markersize=12,
                      markerfacecolor=colour[c], markeredgecolor="black",
                      label=str(names.get(c, c))) for c in centres]
    ax.legend(handles=handles, title="Centre", loc="upper left", frameon=False, fontsize=8,
              title_fontsize=9)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=13, loc="left", pad=12)
    if own_fig:
        _note(fig, source, "Areas coloured by designated centre; stars mark centres.")
    return fig


# --------------------------------------------------------------------------------------------
# Designation maps at small-area resolution
# --------------------------------------------------------------------------------------------


def scale_bar(ax: plt.Axes, length_km: float | None = None) -> None:
    """Draw a scale bar (km) in the lower right of a map on the British National Grid."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    if length_km is None:
        span = (x1 - x0) / 1000.0 / 4
        length_km = next(v for v in (200, 100, 50, 20, 10, 5, 2, 1) if v <= max(span, 1))
    xe = x1 - 0.05 * (x1 - x0)
    xs = xe - length_km * 1000.0
    y = y0 + 0.05 * (y1 - y0)
    ax.plot([xs, xe], [y, y], color="black", linewidth=3, solid_capstyle="butt", zorder=6)
    ax.text((xs + xe) / 2, y + 0.012 * (y1 - y0), f"{length_km:g} km", ha="center",
            va="bottom", fontsize=8, zorder=6)


def _label_sites(ax: plt.Axes, sites: pd.DataFrame, chosen: set[str]) -> None:
    """Stars and names for chosen sites, open circles for the other candidates."""
    other = sites[~sites["site_code"].isin(chosen)]
    if len(other):
        ax.scatter(other["x"], other["y"], marker="o", s=18, facecolor="white",
                   edgecolor="#444444", linewidth=0.8, zorder=4, label="Other candidate site")
    mid = np.mean(ax.get_xlim())
    for r in sites[sites["site_code"].isin(chosen)].itertuples(index=False):
        ax.scatter([r.x], [r.y], marker="*", s=190, color="black", edgecolor="white",
                   linewidth=0.8, zorder=5)
        right = r.x > mid
        ax.annotate(str(r.site_name), (r.x, r.y), xytext=(-7 if right else 7, 6),
                    textcoords="offset points", ha="right" if right else "left", fontsize=8,
                    zorder=6, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none",
                                    "alpha": 0.8})


#: Axes box of the small-area maps (figure fractions): its shape sets the figure height.
_MAP_BOX = {"left": 0.03, "right": 0.97, "top": 0.92, "bottom": 0.1}


def _map_size(g: gpd.GeoDataFrame) -> tuple[float, float]:
    """A4-width figure whose height fits the map's shape (no empty band under the map).

    The axes span :data:`_MAP_BOX` (94% of the width, 82% of the height), so the height is
    ``0.94 x width x (north-south / east-west extent) / 0.82``, within 4.5-9 inches.
    """
    width = A4_MAP_SIZE[0]
    across = _MAP_BOX["right"] - _MAP_BOX["left"]
    down = _MAP_BOX["top"] - _MAP_BOX["bottom"]
    x0, y0, x1, y1 = g.total_bounds if len(g) else (0.0, 0.0, 1.0, 1.0)
    aspect = (y1 - y0) / (x1 - x0) if x1 > x0 else 1.0
    return width, float(np.clip(across * width * aspect / down, 4.5, A4_MAP_SIZE[1]))


def _site_map(g: gpd.GeoDataFrame):
    """Figure and axes of a small-area map of ``g``, sized to its shape."""
    fig, ax = plt.subplots(figsize=_map_size(g))
    fig.subplots_adjust(**_MAP_BOX)
    return fig, ax


def _finish_site_map(fig, ax, sites: pd.DataFrame, chosen: Sequence[str], title: str,
                     source: str, handles: list, legend_title: str | None = None) -> None:
    """Named sites, the legend (``handles``, ``legend_title``), scale bar, title and source."""
    _label_sites(ax, sites, set(chosen))
    ax.legend(handles=handles, title=legend_title, loc="upper left", frameon=True,
              framealpha=0.85, edgecolor="none", fontsize=8, title_fontsize=9)
    ax.set_axis_off()
    ax.set(xlabel="", ylabel="", xticks=[], yticks=[])  # hidden with the axes anyway
    ax.set_aspect("equal")
    scale_bar(ax)
    ax.set_title(title, fontsize=11, loc="left")
    _note(fig, source)


def lsoa_catchment_map(polygons: gpd.GeoDataFrame, allocation: pd.DataFrame,
                       sites: pd.DataFrame, *, chosen: Sequence[str], title: str,
                       source: str, legend_values: Mapping[str, str] | None = None):
    """Catchments at LSOA resolution dissolved into one polygon per centre.

    Args:
        polygons: LSOA polygons ``code, geometry`` (EPSG:27700).
        allocation: ``area_code, site_code`` per LSOA.
        sites: candidate sites ``site_code, site_name, x, y``.
        chosen: the designated site codes (stars, named).
        title: figure title.
        source: source note.
        legend_values: text after each centre's name in the legend (e.g. its caseload).
    """
    g = polygons.merge(allocation[["area_code", "site_code"]], left_on="code",
                       right_on="area_code", how="inner")
    dissolved = g.dissolve(by="site_code", as_index=False)
    fig, ax = _site_map(g)
    names = sites.set_index("site_code")["site_name"]
    handles = []
    for i, code in enumerate(chosen):
        part = dissolved[dissolved["site_code"] == code]
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        part.plot(ax=ax, color=colour, edgecolor="white", linewidth=0.6, alpha=0.85)
        extra = f" ({legend_values[code]})" if legend_values and code in legend_values else ""
        handles.append(Patch(facecolor=colour, edgecolor="none",
                             label=f"{names.get(code, code)}{extra}"))
    handles.append(Line2D([], [], marker="*", linestyle="none", color="black", markersize=11,
                          label="Designated centre"))
    handles.append(Line2D([], [], marker="o", linestyle="none", markerfacecolor="white",
                          markeredgecolor="#444444", label="Other candidate site"))
    _finish_site_map(fig, ax, sites, chosen, title, source, handles)
    return fig


def travel_time_map(polygons: gpd.GeoDataFrame, minutes: pd.Series, sites: pd.DataFrame, *,
                    chosen: Sequence[str], title: str, source: str,
                    bins: Sequence[float] = (0, 30, 45, 60, 90, 120)):
    """Choropleth of travel minutes to the allocated centre, per LSOA, binned.

    Args:
        polygons: LSOA polygons ``code, geometry`` (EPSG:27700).
        minutes: travel minutes indexed by LSOA code.
        sites: candidate sites ``site_code, site_name, x, y``.
        chosen: designated site codes (stars, named).
        title: figure title.
        source: source note.
        bins: class breaks in minutes (the last class is "over the last break").
    """
    g = polygons.assign(minutes=polygons["code"].map(minutes)).dropna(subset=["minutes"])
    edges = [*bins, np.inf]
    labels = [f"{int(a)}-{int(b)} min" for a, b in zip(edges[:-2], edges[1:-1], strict=True)]
    labels.append(f"over {int(edges[-2])} min")
    g["band"] = pd.cut(g["minutes"], edges, labels=labels, right=True, include_lowest=True)
    cmap = plt.get_cmap("YlOrRd", len(labels))
    fig, ax = _site_map(g)
    handles = []
    for i, lab in enumerate(labels):
        part = g[g["band"] == lab]
        if len(part):
            part.plot(ax=ax, color=cmap(i), edgecolor="none")
        handles.append(Patch(facecolor=cmap(i), label=lab))
    _finish_site_map(fig, ax, sites, chosen, title, source, handles, "Travel time")
    return fig

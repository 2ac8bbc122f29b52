"""Area boundaries: ONS boundary files, geometry repair, dissolving, and the hexagon cartogram.

Two kinds of map geometry are supported:

* **Real boundaries** read from ONS files with :func:`load_boundaries` (GeoJSON, GeoPackage,
  shapefile, in any CRS). They are reprojected to the British National Grid (EPSG:27700, metres),
  repaired (:func:`repair_geometry`) and reduced to the columns ``code, name, geometry``.
  :func:`dissolve_to` merges them into any footprint (e.g. LADs into ICBs).
* **The hexagon cartogram** bundled with hna (no download needed): one hexagon per ICB (42) or
  per NHS England region (7), laid out by ``scripts/build_geo_data.py`` so that geographic
  neighbours stay adjacent (see ``hna/data/PROVENANCE_geo.md``). :func:`hex_layout` returns the
  layout table and :func:`hex_geodataframe` the hexagon polygons.

Hex coordinates are "odd-r" offset coordinates (as in ODI Leeds HexJSON): pointy-topped
hexagons, ``row`` increasing northwards, odd rows shifted half a hexagon east. With unit
circumradius the centre of ``(col, row)`` is ``x = sqrt(3) * (col + (row mod 2) / 2)``,
``y = 1.5 * row``; adjacent hexagons have centres ``sqrt(3)`` apart.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from hna.errors import DataError, ParameterError

__all__ = [
    "BNG",
    "BOUNDARY_LEVELS",
    "load_boundaries",
    "repair_geometry",
    "dissolve_to",
    "hex_layout",
    "hex_geodataframe",
    "hex_centres",
    "hex_neighbours",
    "hex_adjacent_pairs",
    "neighbour_pairs",
    "icb_centroids",
]

#: British National Grid, the CRS of every geometry hna returns.
BNG = "EPSG:27700"

#: Known levels: GSS code prefixes and the column-name patterns ONS and geographr use.
BOUNDARY_LEVELS: dict[str, dict[str, object]] = {
    "lad": {
        "prefixes": ("E06", "E07", "E08", "E09", "W06", "S12", "N09"),
        "patterns": (r"^lad\d{2}cd$", r"^ltla\d{2}_code$", r"^lad\d{2}_code$", r"^lad_code$"),
    },
    "icb": {
        "prefixes": ("E54",),
        "patterns": (r"^icb\d{2}cd$", r"^icb\d{2}_code$", r"^icb_code$"),
    },
    "stp": {
        "prefixes": ("E54",),
        "patterns": (r"^stp\d{2}cd$", r"^stp\d{2}_code$", r"^stp_code$"),
    },
    "nhs_region": {
        "prefixes": ("E40",),
        "patterns": (
            r"^nhser\d{2}cd$", r"^nhser\d{2}_code$", r"^nhser_code$",
            r"^nhs_region\d{2}_code$", r"^nhs_region_code$",
        ),
    },
    "region": {
        "prefixes": ("E12",),
        "patterns": (r"^rgn\d{2}cd$", r"^region\d{2}_code$", r"^region_code$", r"^rgn_code$"),
    },
    "country": {
        "prefixes": ("E92", "W92", "S92", "N92"),
        "patterns": (r"^ctry\d{2}cd$", r"^country\d{2}_code$", r"^country_code$"),
    },
}

_HEX_FILES = {"icb": "icb_hex_layout.csv", "nhs_region": "nhser_hex_layout.csv"}
_SQRT3 = float(np.sqrt(3.0))
_GSS = re.compile(r"^[EWSNK]\d{8}$")


# --------------------------------------------------------------------------------------------
# Real boundaries
# --------------------------------------------------------------------------------------------


def _check_level(level: str | None) -> None:
    if level is not None and level not in BOUNDARY_LEVELS:
        raise ParameterError(
            "unknown boundary level", field="level", value=level,
            hint=f"use one of {sorted(BOUNDARY_LEVELS)} or None",
        )


def _detect_code_field(gdf: gpd.GeoDataFrame, level: str | None, source: str) -> str:
    """Find the column holding area codes: by known name patterns, then by GSS-looking values."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    levels = [level] if level else list(BOUNDARY_LEVELS)
    for lev in levels:
        for pat in BOUNDARY_LEVELS[lev]["patterns"]:  # type: ignore[union-attr]
            hits = [c for c in cols if re.match(pat, str(c).lower())]
            if hits:
                return hits[0]
    prefixes = tuple(BOUNDARY_LEVELS[level]["prefixes"]) if level else None  # type: ignore[arg-type]
    for c in cols:
        if str(c).lower() == "code" or str(c).lower().endswith(("cd", "_code")):
            vals = gdf[c].dropna().astype(str)
            if len(vals) and vals.str.match(_GSS).all():
                if prefixes is None or vals.str[:3].isin(prefixes).any():
                    return c
    raise DataError(
        "no area-code column found", source=source, value=cols,
        hint="pass code_field= naming the column with the GSS codes (e.g. LAD21CD)",
    )


def _detect_name_field(gdf: gpd.GeoDataFrame, code_field: str) -> str | None:
    stem = re.sub(r"(cd|_code|code)$", "", code_field.lower())
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    for c in cols:
        low = str(c).lower()
        if low in (stem + "nm", stem + "_name", stem + "name"):
            return c
    for c in cols:
        low = str(c).lower()
        if low == "name" or (low.endswith(("nm", "_name")) and not low.endswith("nmw")):
            return c
    return None


def _guess_crs(gdf: gpd.GeoDataFrame, source: str) -> str:
    minx, miny, maxx, maxy = gdf.total_bounds
    if -12 <= minx and maxx <= 4 and 48 <= miny and maxy <= 62:
        return "EPSG:4326"
    if -1e5 <= minx and maxx <= 8e5 and -1e5 <= miny and maxy <= 1.3e6:
        return BNG
    raise DataError(
        "the file declares no CRS and its coordinates look neither like longitude/latitude "
        "nor like British National Grid metres", source=source,
        value=[float(minx), float(miny), float(maxx), float(maxy)],
        hint="add a .prj file or set the CRS before calling (gdf.set_crs(...))",
    )


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """Keep only the polygonal parts of a geometry (a make_valid result can mix in lines)."""
    if geom is None or geom.is_empty:
        return geom
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts: list[Polygon] = []
    for g in getattr(geom, "geoms", []):
        sub = _polygonal(g)
        if sub is None or sub.is_empty:
            continue
        parts.extend(sub.geoms if isinstance(sub, MultiPolygon) else [sub])
    if not parts:
        return Polygon()
    return parts[0] if len(parts) == 1 else MultiPolygon(parts)


def repair_geometry(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """Make geometries valid (``shapely.make_valid``) and keep their polygonal parts.

    A self-intersecting "bow-tie" ring becomes a MultiPolygon of its two triangles; slivers that
    collapse to lines or points are dropped. Valid geometries are returned unchanged.
    """
    invalid = ~geoms.is_valid
    if not invalid.any():
        return geoms
    out = geoms.copy()
    fixed = shapely.make_valid(np.asarray(geoms[invalid].values, dtype=object))
    out[invalid] = [_polygonal(g) for g in fixed]
    return out


def load_boundaries(
    path: str | Path | gpd.GeoDataFrame,
    level: str | None = None,
    code_field: str | None = None,
    name_field: str | None = None,
    *,
    layer: str | None = None,
) -> gpd.GeoDataFrame:
    """Read an ONS boundary file into a GeoDataFrame ``code, name, geometry`` on EPSG:27700.

    Args:
        path: a GeoJSON, GeoPackage or shapefile (anything geopandas reads), or a GeoDataFrame.
        level: ``"lad"``, ``"icb"``, ``"stp"``, ``"nhs_region"``, ``"region"``, ``"country"`` or
            None. Used to find the code column (``LAD21CD``, ``ICB22CD``, ``NHSER22CD``,
            ``ltla21_code``...) and to check the codes carry the right GSS prefix.
        code_field: the code column, if detection is not wanted.
        name_field: the name column (detected from the code column's stem otherwise).
        layer: layer of a multi-layer GeoPackage.

    Files without a CRS are assumed to be longitude/latitude or BNG from their coordinate ranges
    (with a warning). Invalid polygons are repaired (:func:`repair_geometry`); features whose
    geometry is empty after repair raise :class:`~hna.errors.DataError`.
    """
    _check_level(level)
    if isinstance(path, gpd.GeoDataFrame):
        gdf, source = path.copy(), "GeoDataFrame"
    else:
        source = str(path)
        if not Path(path).exists():
            raise DataError("boundary file not found", source=source,
                            hint="check the path (ONS boundary files: GeoJSON, GeoPackage, .shp)")
        try:
            gdf = gpd.read_file(path, layer=layer) if layer else gpd.read_file(path)
        except Exception as exc:
            raise DataError(f"cannot read boundary file ({exc})", source=source) from exc
    if len(gdf) == 0:
        raise DataError("boundary file has no features", source=source)
    if code_field is None:
        code_field = _detect_code_field(gdf, level, source)
    elif code_field not in gdf.columns:
        raise DataError("code column not found", source=source, field=code_field,
                        value=[c for c in gdf.columns if c != gdf.geometry.name])
    if name_field is None:
        name_field = _detect_name_field(gdf, code_field)
    elif name_field not in gdf.columns:
        raise DataError("name column not found", source=source, field=name_field)
    codes = gdf[code_field].astype(str).str.strip()
    if level is not None:
        prefixes = tuple(BOUNDARY_LEVELS[level]["prefixes"])  # type: ignore[arg-type]
        bad = codes[~codes.str[:3].isin(prefixes)]
        if len(bad) == len(codes):
            raise DataError(
                f"codes do not look like {level} codes (expected prefixes {', '.join(prefixes)})",
                source=source, field=code_field, value=bad.head(3).tolist(),
                hint="check level= or pass code_field=",
            )
    if codes.duplicated().any():
        # ONS BUC files hold one (multi)polygon per area; repeated codes are parts: merge them.
        gdf = gdf.assign(_code=codes).dissolve(by="_code", as_index=False, aggfunc="first")
        codes = gdf["_code"]
    if gdf.crs is None:
        guessed = _guess_crs(gdf, source)
        warnings.warn(f"{source}: no CRS declared; assuming {guessed} from the coordinates",
                      stacklevel=2)
        gdf = gdf.set_crs(guessed)
    gdf = gdf.to_crs(BNG)
    out = gpd.GeoDataFrame(
        {
            "code": codes.to_numpy(),
            "name": (gdf[name_field].astype(str).to_numpy() if name_field else codes.to_numpy()),
        },
        geometry=repair_geometry(gdf.geometry).to_numpy(),
        crs=BNG,
    )
    empty = out.geometry.is_empty | out.geometry.isna()
    if empty.any():
        raise DataError("features with no polygonal geometry after repair", source=source,
                        field=code_field, value=out.loc[empty, "code"].tolist())
    out.attrs["level"] = level
    out.attrs["source"] = source
    return out.sort_values("code", ignore_index=True)


def _footprints_table(mapping) -> pd.DataFrame | None:
    """Footprint object(s) (``code`` + ``members`` with ``lad_code, share``) as a lookup."""
    items = mapping if isinstance(mapping, list | tuple) else [mapping]
    if not items or not all(hasattr(f, "members") and hasattr(f, "code") for f in items):
        return None
    frames = [pd.DataFrame({"lad_code": f.members["lad_code"].astype(str).to_numpy(),
                            "code": str(f.code),
                            "share": (f.members["share"].to_numpy(float)
                                      if "share" in f.members.columns else 1.0)})
              for f in items]
    return pd.concat(frames, ignore_index=True)


def _as_mapping(mapping, from_col: str | None, to_col: str | None) -> pd.Series:
    table = _footprints_table(mapping)
    if table is not None:
        mapping = table
    if isinstance(mapping, pd.DataFrame):
        cols = list(mapping.columns)
        if from_col is None and to_col is None and {"lad_code", "code"} <= set(cols):
            from_col, to_col = "lad_code", "code"  # hna.geography.lad_membership() layout
        if from_col is None or to_col is None:
            if len(cols) < 2:
                raise ParameterError("a lookup table needs two columns (area code, footprint code)",
                                     field="mapping", value=cols)
            from_col = from_col or cols[0]
            to_col = to_col or cols[1]
        for c in (from_col, to_col):
            if c not in mapping.columns:
                raise ParameterError("lookup column not found", field=c, value=cols)
        keep = [from_col, to_col] + (["share"] if "share" in cols else [])
        table = mapping[keep].drop_duplicates([from_col, to_col])
        if "share" in table.columns:
            # an area split between footprints goes, whole, to the one with the largest share
            table = table.sort_values([from_col, "share"], ascending=[True, False],
                                      kind="stable").drop_duplicates(from_col)
        dup = table[from_col].duplicated(keep=False)
        if dup.any():
            raise DataError(
                "lookup maps an area to more than one footprint", source="mapping",
                field=from_col, value=sorted(table.loc[dup, from_col].unique())[:5],
                hint="use a best-fit (one-to-one) lookup, or add a 'share' column",
            )
        return pd.Series(table[to_col].astype(str).to_numpy(),
                         index=table[from_col].astype(str).to_numpy())
    if isinstance(mapping, pd.Series):
        return mapping.set_axis(mapping.index.astype(str))
    return pd.Series(dict(mapping))


def dissolve_to(
    gdf: gpd.GeoDataFrame,
    mapping,
    *,
    from_col: str | None = None,
    to_col: str | None = None,
    names: Mapping[str, str] | pd.Series | None = None,
    code_col: str = "code",
    drop_unmapped: bool = False,
) -> gpd.GeoDataFrame:
    """Dissolve areas into footprints: ``mapping`` sends each area code to a footprint code.

    ``mapping`` is a dict, a Series (area code -> footprint code), a lookup DataFrame (the
    first two columns, or ``from_col``/``to_col``; ``hna.geography.lad_membership()`` tables
    ``code, lad_code, share`` are recognised), or one or more footprint objects with ``code``
    and ``members`` (``lad_code, share``). When a ``share`` column splits an area between
    footprints, the whole area goes to the footprint with the largest share (best fit).
    Unmapped areas raise :class:`~hna.errors.DataError` unless ``drop_unmapped``. Returns
    ``code, name, n_areas, geometry`` with geometries repaired after the union.
    """
    if code_col not in gdf.columns:
        raise ParameterError("boundaries have no code column", field=code_col,
                             value=list(gdf.columns), hint="use load_boundaries() first")
    lookup = _as_mapping(mapping, from_col, to_col)
    target = gdf[code_col].astype(str).map(lookup)
    missing = gdf.loc[target.isna(), code_col].tolist()
    if missing and not drop_unmapped:
        raise DataError(
            f"{len(missing)} area(s) have no footprint in the lookup", source="mapping",
            field=code_col, value=missing[:8],
            hint="use a lookup of the same vintage as the boundaries, or drop_unmapped=True",
        )
    mapped = target.notna().to_numpy()
    if not mapped.any():
        raise DataError("no area is in the lookup", source="mapping", field=code_col,
                        value=gdf[code_col].head(3).tolist())
    work = gpd.GeoDataFrame({"code": target[mapped].astype(str).to_numpy()},
                            geometry=repair_geometry(gdf.geometry[mapped]).to_numpy(),
                            crs=gdf.crs)
    work["n_areas"] = 1
    out = work.dissolve(by="code", aggfunc={"n_areas": "sum"}, as_index=False)
    out["geometry"] = repair_geometry(out.geometry)
    name_map = pd.Series(dict(names)) if names is not None and not isinstance(names, pd.Series) \
        else names
    out.insert(1, "name", out["code"].map(name_map) if name_map is not None else out["code"])
    out["name"] = out["name"].fillna(out["code"])
    out.attrs["source"] = gdf.attrs.get("source")
    return out[["code", "name", "n_areas", "geometry"]]


def neighbour_pairs(gdf: gpd.GeoDataFrame, *, min_shared_km: float = 1.0,
                    tolerance_m: float = 500.0, code_col: str = "code") -> set[tuple[str, str]]:
    """Pairs of areas sharing a boundary of at least ``min_shared_km`` (in a metric CRS).

    Generalised boundaries leave small gaps and overlaps, so each polygon is buffered by
    ``tolerance_m`` and the shared length is estimated as the overlap area divided by
    ``2 * tolerance_m``. Pairs that meet only at a point are excluded by ``min_shared_km``.
    """
    if gdf.crs is None or not gdf.crs.is_projected:
        raise ParameterError("neighbour_pairs needs a projected CRS in metres",
                             value=str(gdf.crs), hint="call load_boundaries() (EPSG:27700)")
    codes = gdf[code_col].astype(str).to_numpy()
    buffered = gdf.geometry.buffer(tolerance_m).reset_index(drop=True)
    sindex = buffered.sindex
    left, right = sindex.query(buffered, predicate="intersects")
    pairs: set[tuple[str, str]] = set()
    for i, j in zip(left, right, strict=True):
        if i >= j:
            continue
        shared = buffered.iloc[i].intersection(buffered.iloc[j]).area / (2 * tolerance_m)
        if shared >= min_shared_km * 1000:
            a, b = sorted((codes[i], codes[j]))
            pairs.add((a, b))
    return pairs


# --------------------------------------------------------------------------------------------
# Hexagon cartogram
# --------------------------------------------------------------------------------------------


def hex_centres(col: Iterable[int] | np.ndarray, row: Iterable[int] | np.ndarray,
                size: float = 1.0) -> np.ndarray:
    """Centres (n x 2) of odd-r pointy-top hexagons with circumradius ``size``."""
    c = np.asarray(col, dtype=float)
    r = np.asarray(row, dtype=int)
    x = _SQRT3 * size * (c + 0.5 * (r % 2))
    y = 1.5 * size * r
    return np.column_stack([x, y])


def hex_neighbours(col: int, row: int) -> list[tuple[int, int]]:
    """The six odd-r neighbours of hexagon ``(col, row)``."""
    shift = row % 2  # odd rows are shifted east, so their diagonal neighbours are one col east
    return [
        (col - 1, row), (col + 1, row),
        (col - 1 + shift, row - 1), (col + shift, row - 1),
        (col - 1 + shift, row + 1), (col + shift, row + 1),
    ]


def hex_adjacent_pairs(layout: pd.DataFrame) -> set[tuple[str, str]]:
    """Pairs of codes whose hexagons touch in a layout table (``code, col, row``)."""
    where = {(int(c), int(r)): str(code)
             for code, c, r in zip(layout["code"], layout["col"], layout["row"], strict=True)}
    pairs: set[tuple[str, str]] = set()
    for (c, r), code in where.items():
        for nb in hex_neighbours(c, r):
            other = where.get(nb)
            if other is not None and other != code:
                a, b = sorted((code, other))
                pairs.add((a, b))
    return pairs


def _check_hex_level(level: str) -> str:
    if level not in _HEX_FILES:
        raise ParameterError("no hex layout for this level", field="level", value=level,
                             hint=f"use one of {sorted(_HEX_FILES)}")
    return _HEX_FILES[level]


def hex_layout(level: str = "icb") -> pd.DataFrame:
    """The bundled hexagon layout: ``code, name, short_name, label, col, row`` (+ parent codes).

    ``level`` is ``"icb"`` (42 ICBs, 2022 E54 codes) or ``"nhs_region"`` (7 NHS England
    regions, E40). ``label`` is a conventional abbreviation (BNSSG, C&M...) for map labels.
    """
    fname = _check_hex_level(level)
    with (resources.files("hna") / "data" / fname).open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype={"code": str})
    table.attrs["level"] = level
    return table


def _hexagon(cx: float, cy: float, size: float) -> Polygon:
    angles = np.deg2rad(np.arange(6) * 60.0 + 30.0)  # pointy-top: vertices at 30, 90, ... deg
    return Polygon(np.column_stack([cx + size * np.cos(angles), cy + size * np.sin(angles)]))


def hex_geodataframe(level: str = "icb", *, size: float = 1.0) -> gpd.GeoDataFrame:
    """Hexagon polygons of the bundled layout (abstract plane units, no CRS).

    Columns are those of :func:`hex_layout` plus ``geometry``; ``size`` is the circumradius.
    """
    table = hex_layout(level)
    centres = hex_centres(table["col"], table["row"], size)
    geoms = [_hexagon(x, y, size) for x, y in centres]
    gdf = gpd.GeoDataFrame(table, geometry=geoms, crs=None)
    gdf.attrs["level"] = level
    gdf.attrs["kind"] = "hex"
    return gdf


def icb_centroids() -> pd.DataFrame:
    """Bundled ICB (2022) centroids on EPSG:27700: ``code, name, nhser_code, x, y, area_km2``.

    Geometric centroids of the generalised ONS ICB boundaries, computed by
    ``scripts/build_geo_data.py``; a fallback demand point per ICB when no population-weighted
    centroids are available.
    """
    with (resources.files("hna") / "data" / "icb_centroids.csv").open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"code": str, "nhser_code": str})

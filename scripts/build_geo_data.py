"""Derive hna's bundled geography tables from the shared ONS data.

Writes (see ``hna/data/PROVENANCE_geo.md``):

* ``hna/data/icb_centroids.csv``: ICB (July 2022) centroids on EPSG:27700 with areas;
* ``hna/data/icb_hex_layout.csv``: the 42-ICB hexagon cartogram;
* ``hna/data/nhser_hex_layout.csv``: the 7-region hexagon cartogram.

The hex layout is designed here:

1. compute each area's centroid on the British National Grid, and the pairs of areas that
   share a boundary of at least 1 km (:func:`hna.geography.boundaries.neighbour_pairs`);
2. for a range of grid spacings, vertical stretches and grid offsets, place the centroids on an
   odd-r hexagon grid and assign areas to hexagons by an optimal assignment minimising the sum
   of squared displacements (``scipy.optimize.linear_sum_assignment``; one area per hexagon);
3. keep the placement preserving most true-neighbour pairs as adjacent hexagons (fewest
   displacement on ties), then improve it by a deterministic local search of moves to empty
   hexagons and swaps of two areas, accepting a change only when it increases
   ``preserved pairs - penalty * displacement``.

Run from the repository root: ``python scripts/build_geo_data.py [--data-dir DIR]``. The output
is deterministic. It prints the adjacency achieved.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment

from hna.geography.boundaries import (
    hex_adjacent_pairs,
    hex_centres,
    hex_neighbours,
    load_boundaries,
    neighbour_pairs,
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"
OUT = REPO / "hna" / "data"

ICB_FILE = "boundaries/icb_2022-07_en_buc_simplified.geojson"
ICB_NHSER_FILE = "lookups/icb_to_nhser_en.csv"

#: Conventional abbreviations used by the NHS for ICBs (for map labels).
ICB_LABELS = {
    "E54000008": "C&M", "E54000010": "SSoT", "E54000011": "STW", "E54000013": "Lincs",
    "E54000015": "LLR", "E54000018": "C&W", "E54000019": "H&W", "E54000022": "N&W",
    "E54000023": "SNEE", "E54000024": "BLMK", "E54000025": "HWE", "E54000026": "MSE",
    "E54000027": "NWL", "E54000028": "NCL", "E54000029": "NEL", "E54000030": "SEL",
    "E54000031": "SWL", "E54000032": "K&M", "E54000034": "Frim", "E54000036": "CIoS",
    "E54000037": "Devon", "E54000038": "Som", "E54000039": "BNSSG", "E54000040": "BSW",
    "E54000041": "Dorset", "E54000042": "HIOW", "E54000043": "Glos", "E54000044": "BOB",
    "E54000048": "L&SC", "E54000050": "NENC", "E54000051": "HNY", "E54000052": "SyH",
    "E54000053": "Sussex", "E54000054": "WY", "E54000055": "BSol", "E54000056": "C&P",
    "E54000057": "GM", "E54000058": "Derbys", "E54000059": "N'hants", "E54000060": "Notts",
    "E54000061": "SY", "E54000062": "BC",
}
NHSER_LABELS = {
    "E40000003": "LDN", "E40000005": "SE", "E40000006": "SW", "E40000007": "EoE",
    "E40000010": "NW", "E40000011": "MID", "E40000012": "NEY",
}


def _short_icb_name(name: str) -> str:
    return name.removeprefix("NHS ").removesuffix(" Integrated Care Board").strip()


# --------------------------------------------------------------------------------------------
# Layout search
# --------------------------------------------------------------------------------------------


def _grid(xy: np.ndarray, margin: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Odd-r hex cells (col,row) covering points given in units where hex spacing is 1."""
    size = 1 / np.sqrt(3)  # circumradius giving centre spacing 1
    rmin = int(np.floor(xy[:, 1].min() / (1.5 * size))) - margin
    rmax = int(np.ceil(xy[:, 1].max() / (1.5 * size))) + margin
    cmin = int(np.floor(xy[:, 0].min())) - margin
    cmax = int(np.ceil(xy[:, 0].max())) + margin
    cells = np.array([(c, r) for r in range(rmin, rmax + 1) for c in range(cmin, cmax + 1)])
    return cells, hex_centres(cells[:, 0], cells[:, 1], size)


def _score(cells: np.ndarray, codes: list[str], pairs: set[tuple[str, str]]) -> int:
    layout = pd.DataFrame({"code": codes, "col": cells[:, 0], "row": cells[:, 1]})
    return len(pairs & hex_adjacent_pairs(layout))


def _place(xy: np.ndarray, spacing: float, stretch: float, offset: tuple[float, float]):
    """Scale points to grid units and assign them optimally to hexagons."""
    pts = (xy - xy.mean(axis=0)) / spacing
    pts = pts * np.array([1.0, stretch]) + np.asarray(offset)
    cells, centres = _grid(pts)
    cost = ((pts[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    rows, cols = linear_sum_assignment(cost)
    order = np.argsort(rows)
    chosen = cols[order]
    return cells[chosen], float(cost[rows, cols].sum()), pts


def _local_search(cells: np.ndarray, pts: np.ndarray, codes: list[str],
                  pairs: set[tuple[str, str]], penalty: float, max_rounds: int = 50):
    """Moves to empty neighbouring hexagons and pairwise swaps improving the objective."""
    idx = {c: i for i, c in enumerate(codes)}
    nbrs_of = {i: [] for i in range(len(codes))}
    for a, b in pairs:
        nbrs_of[idx[a]].append(idx[b])
        nbrs_of[idx[b]].append(idx[a])
    cells = cells.copy()
    size = 1 / np.sqrt(3)

    def disp(i: int, cell) -> float:
        centre = hex_centres([cell[0]], [cell[1]], size)[0]
        return float(((pts[i] - centre) ** 2).sum())

    def local_adj(i: int, cell, where) -> int:
        nb = set(hex_neighbours(int(cell[0]), int(cell[1])))
        return sum(1 for j in nbrs_of[i] if where[j] in nb)

    for _ in range(max_rounds):
        improved = False
        where = {i: (int(c), int(r)) for i, (c, r) in enumerate(cells)}
        occupied = {v: k for k, v in where.items()}
        # 1. move one area to an empty hexagon next to the current shape
        for i in range(len(codes)):
            empties = {nb for cell in occupied for nb in hex_neighbours(*cell)} - set(occupied)
            here = where[i]
            base = local_adj(i, here, where) - penalty * disp(i, here)
            best, best_val = None, base + 1e-9
            for e in sorted(empties):
                val = local_adj(i, e, where) - penalty * disp(i, e)
                if val > best_val:
                    best, best_val = e, val
            if best is not None:
                del occupied[here]
                occupied[best] = i
                where[i] = best
                cells[i] = best
                improved = True
        # 2. swap two areas
        for i, j in itertools.combinations(range(len(codes)), 2):
            ci, cj = where[i], where[j]
            before = (local_adj(i, ci, where) + local_adj(j, cj, where)
                      - penalty * (disp(i, ci) + disp(j, cj)))
            where[i], where[j] = cj, ci
            after = (local_adj(i, cj, where) + local_adj(j, ci, where)
                     - penalty * (disp(i, cj) + disp(j, ci)))
            if after > before + 1e-9:
                cells[i], cells[j] = cj, ci
                improved = True
            else:
                where[i], where[j] = ci, cj
        if not improved:
            break
    return cells


def design_layout(xy: np.ndarray, codes: list[str], pairs: set[tuple[str, str]],
                  spacings: np.ndarray, penalty: float = 0.02) -> tuple[np.ndarray, dict]:
    """Search placements and return (cells, report)."""
    best = None
    for spacing in spacings:
        for stretch in (0.85, 0.9, 1.0, 1.1, 1.2):
            for ox, oy in itertools.product((0.0, 0.25, 0.5, 0.75), (0.0, 0.3, 0.6)):
                cells, cost, pts = _place(xy, spacing, stretch, (ox, oy))
                key = (_score(cells, codes, pairs), -cost)
                if best is None or key > best[0]:
                    best = (key, cells, pts, spacing, stretch, (ox, oy))
    (score0, negcost), cells, pts, spacing, stretch, offset = best
    cells = _local_search(cells, pts, codes, pairs, penalty)
    # normalise so the minimum row is 0 and is even (keeps odd-r parity), minimum col 0
    rshift = int(cells[:, 1].min())
    rshift -= rshift % 2
    cells = cells - np.array([0, rshift])
    cells = cells - np.array([int(cells[:, 0].min()), 0])
    layout = pd.DataFrame({"code": codes, "col": cells[:, 0], "row": cells[:, 1]})
    adjacent = hex_adjacent_pairs(layout)
    report = {
        "true_pairs": len(pairs),
        "preserved_after_assignment": score0,
        "preserved": len(pairs & adjacent),
        "share_preserved": len(pairs & adjacent) / len(pairs) if pairs else 1.0,
        "false_adjacent": len(adjacent - pairs),
        "spacing_km": spacing / 1000,
        "stretch": stretch,
        "offset": offset,
    }
    return cells, report


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def build(data_dir: Path, out_dir: Path) -> dict[str, dict]:
    """Build the bundled geo tables from the shared data; return their vintages."""
    icb = load_boundaries(data_dir / ICB_FILE, level="icb")
    lookup = pd.read_csv(data_dir / ICB_NHSER_FILE, dtype=str)
    nhser_of = dict(zip(lookup["icb22_code"], lookup["nhser_code"], strict=True))
    nhser_name = dict(zip(lookup["nhser_code"], lookup["nhser_name"], strict=False))
    missing = sorted(set(icb["code"]) - set(nhser_of))
    if missing:
        raise SystemExit(f"ICBs without an NHS region in {ICB_NHSER_FILE}: {missing}")

    cent = icb.geometry.centroid
    centroids = pd.DataFrame({
        "code": icb["code"],
        "name": icb["name"],
        "nhser_code": icb["code"].map(nhser_of),
        "x": cent.x.round(0).astype(int),
        "y": cent.y.round(0).astype(int),
        "area_km2": (icb.geometry.area / 1e6).round(1),
    })
    centroids.to_csv(out_dir / "icb_centroids.csv", index=False)

    reports = {}
    # ICB hexes
    pairs = neighbour_pairs(icb)
    codes = icb["code"].tolist()
    xy = centroids[["x", "y"]].to_numpy(float)
    cells, rep = design_layout(xy, codes, pairs, spacings=np.arange(45_000, 80_001, 2_500))
    layout = pd.DataFrame({
        "code": codes,
        "name": icb["name"],
        "short_name": icb["name"].map(_short_icb_name),
        "label": [ICB_LABELS.get(c, c) for c in codes],
        "nhser_code": icb["code"].map(nhser_of),
        "col": cells[:, 0],
        "row": cells[:, 1],
    }).sort_values("code")
    layout.to_csv(out_dir / "icb_hex_layout.csv", index=False)
    reports["icb"] = rep

    # NHS region hexes
    from hna.geography.boundaries import dissolve_to

    regions = dissolve_to(icb, nhser_of, names=nhser_name)
    rpairs = neighbour_pairs(regions)
    rc = regions.geometry.centroid
    rxy = np.column_stack([rc.x, rc.y])
    rcodes = regions["code"].tolist()
    rcells, rrep = design_layout(rxy, rcodes, rpairs, spacings=np.arange(120_000, 260_001, 10_000))
    rlayout = pd.DataFrame({
        "code": rcodes,
        "name": regions["name"],
        "short_name": regions["name"],
        "label": [NHSER_LABELS.get(c, c) for c in rcodes],
        "col": rcells[:, 0],
        "row": rcells[:, 1],
    }).sort_values("code")
    rlayout.to_csv(out_dir / "nhser_hex_layout.csv", index=False)
    reports["nhs_region"] = rrep
    return reports


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out-dir", type=Path, default=OUT)
    args = parser.parse_args()
    reports = build(args.data_dir, args.out_dir)
    for level, rep in reports.items():
        print(
            f"{level}: {rep['preserved']}/{rep['true_pairs']} true neighbour pairs adjacent "
            f"({rep['share_preserved']:.0%}; {rep['preserved_after_assignment']} after the "
            f"assignment step), {rep['false_adjacent']} adjacent hexes that are not neighbours; "
            f"grid spacing {rep['spacing_km']:.1f} km, stretch {rep['stretch']}, "
            f"offset {rep['offset']}"
        )


if __name__ == "__main__":
    main()

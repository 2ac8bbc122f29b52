"""Side by side: hna's dialysis projection and the Strategy Unit Renal Capacity Model's inputs.

Reads the peer model's national configuration (``../shared/data/renal/``, MIT licence) by
parsing the Python literal (no import of the peer package), and prints its start stock by
modality, arrivals a year and their growth, and annual costs by modality; then hna's central
England projection (all adults on RRT by modality) for 2025, 2030, 2035 and 2040 with the
1,000-draw 95% interval for in-centre HD. Used for the table in docs/calibration_dialysis.md.

Run: ``python scripts/compare_renal_peer.py``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from hna.demand import service_demand
from hna.prevalence import load_rrt_parameters
from hna.prevalence.projection import project_rrt

PEER = Path(__file__).resolve().parents[2] / "shared" / "data" / "renal" / \
    "renal_capacity_model_config_values.py"


def peer_config() -> dict:
    """The peer's ``national_config_dict`` as a Python dict (literal parsing only)."""
    tree = ast.parse(PEER.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == \
                "national_config_dict":
            src = ast.get_source_segment(PEER.read_text(encoding="utf-8"), node.value)
            return eval(src, {"range": range})  # noqa: S307 - a dict literal with comprehensions
    raise SystemExit("national_config_dict not found")


def main() -> None:
    """Print the comparison."""
    cfg = peer_config()
    prev = {m: sum(v.values()) for m, v in cfg["prevalent_counts"].items()}
    arr = cfg["arrival_rate"]
    growth = (arr[13] / arr[1]) ** (1 / 12) - 1
    print("peer start stock by modality:", prev)
    print(f"peer arrivals: year 1 {arr[1] * 365:,.0f}/yr, year 13 {arr[13] * 365:,.0f}/yr, "
          f"growth {growth:.2%}/yr")
    print("peer annual cost per patient (GBP):",
          {k: round(v * 365) for k, v in cfg["daily_costs"].items()})
    params = load_rrt_parameters()
    r = service_demand("dialysis", "E92000001", years="2025:2040", draws=0, seed=1)
    pop = r.population
    from hna.demand import _aggregated, _base_population, _project  # noqa: PLC0415
    base = _base_population(None)
    agg, _ = _aggregated(base, "E92000001", None)
    pop, _ = _project(agg, list(range(int(base["year"].min()), 2041)), "npp2020")
    res = project_rrt(params, pop, [2025, 2030, 2035, 2040], 1000, 1, modalities=("ichd",))
    for j, y in enumerate(res.years):
        m = res.by_modality[0, j]
        q = np.quantile(res.counts[0, j], [0.025, 0.975])
        print(f"hna {y}: ichd {m[0]:,.0f} (95% {q[0]:,.0f}-{q[1]:,.0f}), hhd {m[1]:,.0f}, "
              f"pd {m[2]:,.0f}, tx {m[3]:,.0f}, dialysis {m[:3].sum():,.0f}, rrt {m.sum():,.0f}")


if __name__ == "__main__":
    main()

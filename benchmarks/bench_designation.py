"""Benchmark: designation MILP for 300 demand areas x 40 candidate sites, k = 1..6.

Synthetic but realistic, seeded: 300 areas spread over an England-sized rectangle (about
450 x 550 km) in population clusters (a few cities and many towns), demand per area drawn
from a lognormal with a total around 2,700 cases a year (about the size of a national soft
tissue sarcoma caseload); 40 candidate sites placed at the largest clusters. Each k is solved
twice: without a minimum volume (p-median) and with a minimum of 100 cases per centre
(capacitated p-median; it binds from k = 4). Target: under 10 s for k = 1..6. Prints the wall
time of each ``designate`` call (LP bound, heuristic, reduced-cost fixing and the HiGHS MILP)
and HiGHS's reported optimality gap (``mip_gap``).

Run: ``python benchmarks/bench_designation.py``
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from hna.designation import designate

N_AREAS = 300
N_SITES = 40
KS = range(1, 7)
MIN_CASES = 100.0
TARGET_SECONDS = 10.0


def synthetic(seed: int = 20240601) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n_clusters = 60
    centres = np.column_stack([rng.uniform(100_000, 550_000, n_clusters),
                               rng.uniform(50_000, 600_000, n_clusters)])
    size = rng.pareto(1.2, n_clusters) + 1.0
    which = rng.choice(n_clusters, size=N_AREAS, p=size / size.sum())
    spread = 8_000 + 25_000 * rng.random(N_AREAS)
    xy = centres[which] + rng.normal(0, 1, (N_AREAS, 2)) * spread[:, None]
    cases = rng.lognormal(mean=np.log(2.4), sigma=0.6, size=N_AREAS)
    demand = pd.DataFrame({"area_code": [f"A{i:03d}" for i in range(N_AREAS)],
                           "x": xy[:, 0], "y": xy[:, 1], "cases": cases})
    biggest = np.argsort(-size)[:N_SITES]
    jitter = rng.normal(0, 2_000, (N_SITES, 2))
    sites = pd.DataFrame({"site_code": [f"S{j:02d}" for j in range(N_SITES)],
                          "site_name": [f"Site {j}" for j in range(N_SITES)],
                          "x": centres[biggest, 0] + jitter[:, 0],
                          "y": centres[biggest, 1] + jitter[:, 1]})
    return demand, sites


def main() -> None:
    demand, sites = synthetic()
    print(f"{N_AREAS} areas x {N_SITES} sites; total demand {demand['cases'].sum():,.0f} "
          "cases/yr")
    print(f"{'k':>2} {'minimum':>8} {'seconds':>8} {'mip_gap':>9} {'mean min':>9} "
          f"{'smallest centre':>16}  status")
    totals = {}
    for minimum in (0.0, MIN_CASES):
        totals[minimum] = 0.0
        for k in KS:
            start = time.perf_counter()
            res = designate(demand, sites, k, minimum, time_limit=60)
            elapsed = time.perf_counter() - start
            totals[minimum] += elapsed
            print(f"{k:>2} {minimum:>8g} {elapsed:>8.2f} {res.mip_gap:>9.2e} "
                  f"{res.travel['mean_minutes']:>9.1f} {res.centres['cases'].min():>16.1f}  "
                  f"{res.status}", flush=True)
    for minimum, total in totals.items():
        verdict = "OK" if total < TARGET_SECONDS else "SLOWER THAN TARGET"
        print(f"k = 1..{max(KS)}, minimum {minimum:g}: {total:.2f} s "
              f"(target < {TARGET_SECONDS:g} s): {verdict}")
    print(f"all {2 * len(KS)} solves: {sum(totals.values()):.2f} s")


if __name__ == "__main__":
    main()

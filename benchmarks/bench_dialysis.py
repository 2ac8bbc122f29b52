"""Benchmark dialysis with parameter uncertainty: 1,000 draws, all 42 ICBs, 2025-2040.

Target (issue 11): under 5 s. Each draw samples the RRT model's uncertain parameters
(mortality and transplant factors, incidence level and annual change) and runs the
stock-and-flow vectorised over draws (:mod:`hna.prevalence.ensemble`), then Poisson events.
The cold run includes reading the bundled data; warm is the median of the repeats. That the
vectorised engine equals the per-draw loop is a test (tests/unit/test_prevalence_ensemble.py).

Run from the repository root: ``python benchmarks/bench_dialysis.py [--draws 1000] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from hna.demand import level_demand

YEARS = "2025:2040"
TARGET_S = 5.0


def main() -> None:
    """Print cold and warm timings of dialysis at ICB level with parameter uncertainty."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    times = []
    for i in range(args.repeats + 1):
        t0 = time.perf_counter()
        res = level_demand("dialysis", "icb", years=YEARS, draws=args.draws, seed=1)
        dt = time.perf_counter() - t0
        if i == 0:
            n = res.summary["area_code"].nunique()
            print(f"cold: {dt:.2f} s ({n} ICBs, {res.summary['year'].nunique()} years, "
                  f"{args.draws} draws; intervals include: {res.meta.get('interval_includes')})")
        else:
            times.append(dt)
    warm = statistics.median(times)
    verdict = "OK" if warm < TARGET_S else "OVER TARGET"
    load = os.getloadavg()[0]
    print(f"warm (median of {args.repeats}): {warm:.2f} s  target < {TARGET_S:.0f} s: {verdict}"
          f"  (1-minute load average {load:.1f} on {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()

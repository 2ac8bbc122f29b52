"""Benchmark the service model core: all services x all 42 ICBs x 25 years x 1,000 draws.

Target: under 5 s for the whole catalogue (warm). Run from the repository root:
``python benchmarks/bench_services.py [--repeats 3] [--draws 1000]``.

Each service is computed for every ICB at once (:func:`hna.demand.level_demand`, which sums the
district population into ICBs with :func:`hna.geography.aggregate_level` and simulates all
footprint-years in one vectorised call), followed by the critical-mass table on the draws
(:func:`hna.thresholds.centres_table` with two centres). The first ("cold") run includes reading
the bundled data and parameter files; the warm figures are the median of the repeats.
Dialysis uses the default ``model_draws="poisson"`` (exact year-by-year distribution from the
model's expected-value run); the model's own trajectory simulation is timed separately for
one ICB because it is much slower.
"""

from __future__ import annotations

import argparse
import statistics
import time

from hna.demand import level_demand
from hna.services import list_services
from hna.thresholds import centres_table

YEARS = "2026:2050"  # 25 years
TARGET_S = 5.0


def run_all(draws: int) -> dict[str, float]:
    """Seconds per service for all 42 ICBs x 25 years with ``draws`` draws and two centres."""
    times = {}
    for sid in list_services():
        t0 = time.perf_counter()
        res = level_demand(sid, "icb", years=YEARS, draws=draws, seed=1)
        table = centres_table(res, n_centres=2)
        times[sid] = time.perf_counter() - t0
        assert res.summary["area_code"].nunique() == 42 and len(table) == 42 * 25
        assert len(res.draws) == 42 * 25 * draws
    return times


def main() -> None:
    """Time every service cold and warm, and print the table and the target."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--draws", type=int, default=1000)
    args = ap.parse_args()

    cold = run_all(args.draws)
    warm = [run_all(args.draws) for _ in range(args.repeats)]
    services = list(cold)
    print(f"services x 42 ICBs x 25 years ({YEARS}) x {args.draws:,} draws")
    print(f"{'service':22s} {'cold s':>8s} {'warm s (median)':>16s}")
    for sid in services:
        med = statistics.median(w[sid] for w in warm)
        print(f"{sid:22s} {cold[sid]:8.2f} {med:16.2f}")
    totals = [sum(w.values()) for w in warm]
    total_cold = sum(cold.values())
    med_total = statistics.median(totals)
    print(f"{'all services':22s} {total_cold:8.2f} {med_total:16.2f}  "
          f"(warm range {min(totals):.2f}-{max(totals):.2f}; target < {TARGET_S:.0f} s: "
          f"{'met' if med_total < TARGET_S else 'NOT met'})")



if __name__ == "__main__":
    main()

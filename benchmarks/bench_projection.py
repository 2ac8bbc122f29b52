"""Benchmark: demand for every English LAD x 2 sexes x 19 bands x 25 years with parameter uncertainty.

Prints wall time and peak memory of :func:`hna.demand.level_demand` at LAD level (309 areas,
2021-2045) for soft tissue sarcoma under the scenario ``sts_uncertain_inputs`` (each draw samples
the trend, the case-definition factor, the population variant and the 38 age-sex rates, then the
Poisson counts) at 250, 1,000 and 4,000 draws, in two forms:

- ``quantiles``: ``keep_draws=False``: summaries are made year by year, so at most one year's
  draws (309 x draws) are held at once;
- ``draws``: every draw kept as the long table (7,725 x draws rows).

Each configuration runs in a fresh process (peak RSS is the process's high-water mark, set-up
included). Targets (issue 11): linear in draws within 1.3x, 1,000 draws < 2 s and < 1 GB.

Run: ``.venv/bin/python benchmarks/bench_projection.py``
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time

YEARS = "2021:2045"  # 25 projection years
SEED = 20240601
SERVICE, SCENARIO = "soft_tissue_sarcoma", "sts_uncertain_inputs"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_one(kind: str, draws: int, repeat: int) -> dict:
    """One configuration in this (fresh) process: best time and peak RSS."""
    from hna.demand import level_demand

    level_demand(SERVICE, "lad", years=YEARS, draws=0, scenario=SCENARIO)  # warm caches
    rss_setup = _rss_mib()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        r = level_demand(SERVICE, "lad", years=YEARS, draws=draws, seed=SEED,
                         scenario=SCENARIO, keep_draws=(kind == "draws"))
        best = min(best, time.perf_counter() - t0)
        rows = len(r.draws) if kind == "draws" else len(r.summary)
        cells = len(r.by_band)
        del r
    return {"kind": kind, "draws": draws, "time": best, "rows": rows, "cells": cells,
            "rss_setup_mib": rss_setup, "rss_peak_mib": _rss_mib()}


def main() -> None:
    """Run every configuration in a fresh process and print the table and targets."""
    print(f"{SERVICE} under scenario {SCENARIO}, level_demand at LAD level, years {YEARS}; "
          "parameters (trend, case definition, population variant, 38 rates) then Poisson")
    print(f"{'draws':>6} {'output':>9} {'rows':>11} {'time s':>7} {'x250':>5} "
          f"{'RSS setup':>9} {'RSS peak':>9}")
    results = {}
    for kind in ("quantiles", "draws"):
        for draws in (250, 1000, 4000):
            proc = subprocess.run(
                [sys.executable, __file__, "--one", kind, str(draws),
                 "1" if draws == 4000 else "3"],
                capture_output=True, text=True, check=True,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            results[(kind, draws)] = r
            print(f"{draws:>6} {kind:>9} {r['rows']:>11,} {r['time']:7.3f} "
                  f"{r['time'] / results[(kind, 250)]['time']:5.2f} "
                  f"{r['rss_setup_mib']:9.0f} {r['rss_peak_mib']:9.0f}")
    print(f"cells: {results[('quantiles', 250)]['cells']:,} (309 LADs x 2 sexes x 19 bands x 25 "
          "years)")
    for kind in ("quantiles", "draws"):
        t = {d: results[(kind, d)]["time"] for d in (250, 1000, 4000)}
        ratio = t[4000] / t[1000]
        print(f"{kind}: time ratio 1000/250 = {t[1000] / t[250]:.2f}, 4000/1000 = {ratio:.2f} "
              f"(4.00 = linear; target <= 5.2, {'met' if ratio <= 5.2 else 'NOT met'})")
    for kind in ("quantiles", "draws"):
        r = results[(kind, 1000)]
        ok_t, ok_m = r["time"] < 2, r["rss_peak_mib"] < 1024
        print(f"target, 1,000 draws, {kind}: {r['time']:.2f} s < 2 s "
              f"{'met' if ok_t else 'NOT met'}; peak RSS {r['rss_peak_mib']:.0f} MiB < 1 GB "
              f"{'met' if ok_m else 'NOT met'}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()

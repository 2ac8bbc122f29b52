"""Benchmark: Nordpred fit + projection on the Norwegian colon cancer example.

Times ``hna.incidence.nordpred.nordpred`` with the automatic choice of the number of periods and of the
recent trend (power5 link, start ages 20-24 / 25-29, cuttrend 0, .25, .5, .75, .75), which is
one power5 fit plus the two log-link fits of the trend test. Reference: the nordpred R package
takes about 0.05 s for four such calls (about 0.0125 s each).

Reads the example tables in place from ../shared/data/nordpred (sibling of the repository);
prints a note and exits 0 if they are absent. Run: ``python benchmarks/bench_nordpred.py``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from hna.incidence.nordpred import nordpred

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "nordpred"
R_SECONDS_FOR_FOUR = 0.05
REPEATS = 50


def load() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load the Norwegian colon cancer counts and populations (the R package's example data)."""
    cases = pd.read_csv(DATA / "colon-men-Norway.csv", index_col=0)
    pyr = pd.concat(
        [pd.read_csv(DATA / "men-Norway.csv", index_col=0),
         pd.read_csv(DATA / "men-Norway-pred.csv", index_col=0)],
        axis=1,
    )
    return cases, pyr


def median_seconds(fn, repeats: int = REPEATS) -> float:
    """Median wall time of ``repeats`` calls of ``fn``, in seconds."""
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    """Time the four automatic Nordpred fits and print them; returns the exit status."""
    if not (DATA / "colon-men-Norway.csv").is_file():
        print(f"bench_nordpred: skipped, example data not found at {DATA}")
        return 0
    cases, pyr = load()
    cut = (0, 0.25, 0.5, 0.75, 0.75)
    cases_ = {
        "auto (power5, n_periods 4-6, recent chosen)":
            lambda: nordpred(cases, pyr, "20-24", "25-29", n_periods=(4, 5, 6), cuttrend=cut),
        "fixed (power5, 4 periods, recent=True)":
            lambda: nordpred(cases, pyr, "20-24", "25-29", n_periods=4, cuttrend=cut,
                             recent=True),
        "fixed (poisson, 4 periods, recent=True)":
            lambda: nordpred(cases, pyr, "20-24", "25-29", n_periods=4, cuttrend=cut,
                             recent=True, link="poisson"),
    }
    print(f"nordpred fit + predict, Norway colon cancer example, median of {REPEATS} runs")
    for label, fn in cases_.items():
        t = median_seconds(fn)
        print(f"  {label:<46} {t * 1e3:7.2f} ms per call, {4 * t:.4f} s for four")
    res = cases_["auto (power5, n_periods 4-6, recent chosen)"]()
    print(f"  chosen: n_periods={res.n_periods}, recent={res.recent}")
    print(f"  reference (nordpred R package): about {R_SECONDS_FOR_FOUR:.2f} s for four "
          "automatic calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())

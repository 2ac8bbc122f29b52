"""Benchmark hna.rates: DSRs for 10,000 areas x 19 ESP2013 bands (target: median < 100 ms).

Run from the repository root: ``python benchmarks/bench_rates.py``. Prints the median and range
of several timed runs (after one warm-up) for the canonical table (``age_band`` as the ordered
categorical, ``area_code`` as text), for plain-text band labels, and for the other statistics.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from hna import rates
from hna.bands import AGE_BAND_DTYPE, AGE_BANDS

N_AREAS = 10_000
REPEATS = 15
TARGET_MS = 100.0


def make_table(n_areas: int, seed: int = 20240601) -> pd.DataFrame:
    """Synthetic area x band table: Poisson counts on populations of 500-20,000 per band."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    n = n_areas * len(AGE_BANDS)
    population = rng.integers(500, 20_000, size=n).astype(float)
    band_rate = np.geomspace(2e-5, 2e-2, len(AGE_BANDS))  # events per person-year, rising with age
    counts = rng.poisson(population * np.tile(band_rate, n_areas)).astype(float)
    return pd.DataFrame({
        "area_code": np.repeat([f"E{i:08d}" for i in range(n_areas)], len(AGE_BANDS)),
        "age_band": pd.Categorical(np.tile(AGE_BANDS, n_areas), dtype=AGE_BAND_DTYPE),
        "count": counts,
        "population": population,
        "ref_count": np.tile(band_rate * 1e6, n_areas),
        "ref_pop": 1e6,
    })


def time_ms(fn: Callable[[], object], repeats: int = REPEATS) -> list[float]:
    """Wall times of ``repeats`` calls of ``fn``, in milliseconds."""
    fn()  # warm-up (imports, caches)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def report(name: str, runs: list[float]) -> float:
    """Print one benchmark line (median and range) and return the median in ms."""
    med = statistics.median(runs)
    print(f"{name:<58} median {med:7.1f} ms  (min {min(runs):6.1f}, max {max(runs):6.1f}, "
          f"n={len(runs)})")
    return med


def main() -> int:
    """Run the rate benchmarks and print them; returns the exit status."""
    table = make_table(N_AREAS)
    text_bands = table.assign(age_band=table["age_band"].astype(str))
    rows = len(table)
    print(f"hna.rates benchmark: {N_AREAS:,} areas x {len(AGE_BANDS)} bands = {rows:,} rows")

    dsr_med = report(
        "dsr, esp2013, by=area_code (categorical bands)",
        time_ms(lambda: rates.dsr(table, "count", "population", by="area_code")),
    )
    report(
        "dsr, esp2013, by=area_code (text bands)",
        time_ms(lambda: rates.dsr(text_bands, "count", "population", by="area_code")),
    )
    report(
        "dsr, esp2013, by=area_code, confidence=(0.95, 0.998)",
        time_ms(lambda: rates.dsr(table, "count", "population", by="area_code",
                                  confidence=(0.95, 0.998))),
    )
    two_keys = table.assign(
        area_code=np.repeat([f"E{i // 2:08d}" for i in range(N_AREAS)], len(AGE_BANDS)),
        sex=np.repeat(np.tile(["female", "male"], N_AREAS // 2), len(AGE_BANDS)),
    )
    report(
        "dsr, esp2013, by=[area_code, sex] (5,000 x 2 groups)",
        time_ms(lambda: rates.dsr(two_keys, "count", "population", by=["area_code", "sex"])),
    )
    report("crude_rate, by=area_code",
           time_ms(lambda: rates.crude_rate(table, "count", "population", by="area_code")))
    report("isr, reference columns, by=area_code",
           time_ms(lambda: rates.isr(table, "count", "population", "ref_count", "ref_pop",
                                     by="area_code")))
    report("proportion, by=area_code",
           time_ms(lambda: rates.proportion(table, "count", "population", by="area_code")))

    ok = dsr_med < TARGET_MS
    print(f"DSR target < {TARGET_MS:.0f} ms: {'met' if ok else 'NOT met'} ({dsr_med:.1f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

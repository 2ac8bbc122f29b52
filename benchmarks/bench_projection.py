"""Benchmark: project cases for every English LAD x 2 sexes x 19 bands x 25 years with draws.

Prints wall time and peak memory of ``hna.incidence.simulate`` (constant rates with gamma rate
uncertainty and Poisson variation) for 250, 1,000 and 4,000 draws, in summary (quantiles) and
long-draws form, and the time ratios (cost should be linear in draws).

Targets (docs/methods/incidence.md): 1,000 draws in under 2 s and 2 GB on a 2-core machine.

Run: ``.venv/bin/python benchmarks/bench_projection.py``
"""

from __future__ import annotations

import gc
import json
import resource
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd

from hna.bands import AGE_BANDS, SEXES
from hna.incidence import constant_rates, expected_cases, rates_from_counts, simulate

YEARS = list(range(2021, 2046))  # 25 projection years
QUANTILES = (0.025, 0.1, 0.5, 0.9, 0.975)
SEED = 20240601


def population_table() -> tuple[pd.DataFrame, str]:
    """309 LADs x 2 sexes x 19 bands x 25 years, from hna.population if it is available."""
    try:
        from hna.population import default_population, project

        base = default_population()
        pop = project(base, YEARS)
        n_areas = pop["area_code"].nunique()
        label = (f"hna.population.default_population() projected with "
                 f"hna.population.project ({n_areas} LADs, ONS mid-2020, NPP 2020 growth)")
        return pop, label
    except Exception as exc:  # noqa: BLE001 - any failure means: use the synthetic table
        reason = f"{type(exc).__name__}: {exc}"
    rng = np.random.default_rng(1)
    areas = [f"E0{6 + i % 4}{i:06d}" for i in range(309)]
    cells = pd.MultiIndex.from_product([areas, SEXES, AGE_BANDS],
                                       names=["area_code", "sex", "age_band"]).to_frame(index=False)
    cells["base"] = rng.uniform(2_000, 12_000, len(cells))
    frames = [cells.assign(year=y, population=cells["base"] * 1.004 ** (y - 2020)) for y in YEARS]
    pop = pd.concat(frames, ignore_index=True).drop(columns="base")
    return pop, f"SYNTHETIC 309-area table (hna.population unavailable: {reason})"


def base_rates(pop: pd.DataFrame) -> pd.DataFrame:
    """Soft-tissue-sarcoma-like rates with counts: about 5 per 100,000 overall, rising with age.

    Counts are the expected counts over three base years, rounded (synthetic, for timing).
    """
    first = pop[pop["year"] == pop["year"].min()]
    nat = first.groupby(["age_band", "sex"], observed=True)["population"].sum().reset_index()
    lower = np.arange(0, 91, 5)
    rate = dict(zip(AGE_BANDS, 1.2e-5 * np.exp(0.028 * lower), strict=True))
    nat["person_years"] = 3 * nat["population"]
    nat["cases"] = np.round(nat["person_years"] * nat["age_band"].astype(str).map(rate))
    return rates_from_counts(nat[["age_band", "sex", "cases"]], nat[["age_band", "sex",
                                                                      "person_years"]])


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_one(kind: str, draws: int, repeat: int) -> dict:
    """One configuration in this (fresh) process: best time, traced peak, peak RSS."""
    pop, label = population_table()
    rates = base_rates(pop)
    quantiles = QUANTILES if kind == "quantiles" else None

    def project():
        return simulate(constant_rates(rates, YEARS), pop, draws, seed=SEED,
                        quantiles=quantiles, by=("area_code", "year"))

    rss_before = _rss_mib()
    best = np.inf
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        out = project()
        best = min(best, time.perf_counter() - t0)
        rows = len(out)
        del out
    rss_after = _rss_mib()
    gc.collect()
    tracemalloc.start()
    project()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return {"kind": kind, "draws": draws, "time": best, "rows": rows, "traced_mib": traced,
            "rss_setup_mib": rss_before, "rss_peak_mib": rss_after, "population": label}


def main() -> None:
    pop, label = population_table()
    rates = base_rates(pop)
    print(f"population: {label}")
    print(f"cells: {len(pop):,} (areas {pop['area_code'].nunique()} x sexes "
          f"{pop['sex'].nunique()} x bands {pop['age_band'].nunique()} x years "
          f"{pop['year'].nunique()}); synthetic STS-like rates, {rates['cases'].sum():,.0f} "
          "base cases over 3 years")
    t0 = time.perf_counter()
    cases = expected_cases(constant_rates(rates, YEARS), pop)
    t_exp = time.perf_counter() - t0
    first, last = (cases[cases["year"] == y]["cases"].sum() for y in (YEARS[0], YEARS[-1]))
    print(f"expected_cases, all cells: {t_exp:.3f} s; England {YEARS[0]} = {first:,.0f}, "
          f"{YEARS[-1]} = {last:,.0f} cases")
    del pop, cases

    print("\nconstant rates + simulate(by=area x year: 7,725 groups); each configuration in a "
          "fresh process; time = best of 3 (1 for 4,000 draws)")
    print(f"{'draws':>6} {'output':>9} {'rows':>11} {'time s':>7} {'x250':>5} "
          f"{'traced MiB':>10} {'RSS setup':>9} {'RSS peak':>9}")
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
                  f"{r['time'] / results[(kind, 250)]['time']:5.2f} {r['traced_mib']:10.0f} "
                  f"{r['rss_setup_mib']:9.0f} {r['rss_peak_mib']:9.0f}")
    for kind in ("quantiles", "draws"):
        t = {d: results[(kind, d)]["time"] for d in (250, 1000, 4000)}
        print(f"{kind}: time ratio 1000/250 = {t[1000] / t[250]:.2f}, 4000/1000 = "
              f"{t[4000] / t[1000]:.2f} (4.00 = linear)")
    for kind in ("quantiles", "draws"):
        r = results[(kind, 1000)]
        ok_t, ok_m = r["time"] < 2, r["rss_peak_mib"] < 2048
        print(f"target, 1,000 draws, {kind}: {r['time']:.2f} s < 2 s "
              f"{'met' if ok_t else 'NOT met'}; peak RSS {r['rss_peak_mib']:.0f} MiB < 2 GB "
              f"{'met' if ok_m else 'NOT met'}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--one":
        print(json.dumps(run_one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()

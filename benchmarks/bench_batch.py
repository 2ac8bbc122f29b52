"""Batch runner throughput and per-job cost against the floor of a job.

Prints, in one run, for N = 16 jobs of the light test notebook (tests/data/notebooks/ok.ipynb:
imports hna, a little arithmetic, records a headline):

1. wall time of ``hna run --jobs 2`` (CLI start to exit: validation, pool, pre-started
   kernels, execution, HTML reports, manifest, index) and the per-job wall time (/ N);
2. wall time of a plain sequential loop of ``papermill`` CLI calls on the same notebook with
   the same parameters (no HTML, no manifest), and the speed-up (target >= 5x);
3. the floor of one job: start a kernel, ``import hna``, shut it down (median of 5), and the
   per-job wall time of ``hna run --jobs 2`` as a multiple of it (target <= 0.8x);
4. the mean worker-side time of a job (from the manifest) for reference.

Run: ``.venv/bin/python benchmarks/bench_batch.py`` (or ``make bench``). Times depend on the
machine's load; the ratios are what the targets are about.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "tests" / "data" / "notebooks" / "ok.ipynb"
BIN = Path(sys.executable).parent
N = 16
# England, the 7 NHS England regions and 8 of the 9 ONS regions: 16 footprints.
FOOTPRINTS = [
    "E92000001", "E40000003", "E40000005", "E40000006", "E40000007", "E40000010", "E40000011",
    "E40000012", "E12000001", "E12000002", "E12000003", "E12000004", "E12000005", "E12000006",
    "E12000007", "E12000008",
]


def _write_spec(work: Path) -> Path:
    (work / "notebooks").mkdir()
    shutil.copy(NOTEBOOK, work / "notebooks" / NOTEBOOK.name)
    spec = {
        "name": "bench",
        "notebooks": [{"path": f"notebooks/{NOTEBOOK.name}", "over": ["footprint"]}],
        "footprints": FOOTPRINTS[:N],
        "years": {"start": 2025, "end": 2040},
        "draws": 1000,
        "seed": 20261124,
    }
    path = work / "bench.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _hna_run(spec: Path, out: Path, jobs: int) -> float:
    cmd = [str(BIN / "hna"), "run", str(spec), "--jobs", str(jobs), "--output", str(out),
           "--force"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"hna run failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def _papermill_loop(spec: Path, work: Path) -> float:
    from hna.batch import expand_jobs, load_runspec, project_root

    jobs = expand_jobs(load_runspec(spec), root=project_root(spec))
    param_files = []
    for i, job in enumerate(jobs):
        path = work / f"params_{i}.yaml"
        path.write_text(yaml.safe_dump(job.parameters))
        param_files.append((job, path))
    out_dir = work / "papermill"
    out_dir.mkdir()
    start = time.perf_counter()
    for i, (job, params) in enumerate(param_files):
        cmd = [str(BIN / "papermill"), str(job.notebook), str(out_dir / f"{i}.ipynb"),
               "-f", str(params), "--cwd", str(job.notebook.parent), "--no-progress-bar",
               "--log-level", "ERROR"]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"papermill failed:\n{done.stderr}")
    return time.perf_counter() - start


def _floor(repeats: int = 5) -> float:
    """Start a kernel, run ``import hna``, shut it down: the unavoidable cost of a job."""
    from jupyter_client.manager import start_new_kernel

    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        km, kc = start_new_kernel(kernel_name="python3", stderr=subprocess.DEVNULL)
        try:
            reply = kc.execute_interactive("import hna", timeout=60)
            assert reply["content"]["status"] == "ok", reply
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Run the benchmark and print the timings and the two target ratios."""
    print(f"batch benchmark: {N} jobs of {NOTEBOOK.relative_to(REPO)} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="hna-bench-") as tmp:
        work = Path(tmp)
        spec = _write_spec(work)
        floor = _floor()
        print(f"floor: kernel start + import hna + shutdown: {floor:5.2f} s per job (median of 5)")
        t_hna2 = _hna_run(spec, work / "out2", jobs=2)
        manifest = json.loads((work / "out2" / "bench" / "manifest.json").read_text())
        in_worker = statistics.mean(j["duration_s"] for j in manifest["jobs"])
        print(f"hna run --jobs 2:               {t_hna2:7.1f} s ({t_hna2 / N:.2f} s per job; "
              f"{in_worker:.2f} s per job in the worker)")
        t_seq = _papermill_loop(spec, work)
        print(f"sequential papermill CLI loop:  {t_seq:7.1f} s ({t_seq / N:.2f} s per job)")
        print(f"speed-up over papermill loop (target >= 5):  {t_seq / t_hna2:6.2f} x")
        print(f"per-job wall / floor (target <= 0.8):        {t_hna2 / N / floor:6.2f} x")


if __name__ == "__main__":
    main()

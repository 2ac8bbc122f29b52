"""``hna run``: execute a run spec's notebooks as a batch and write the reviewers' reports."""

from __future__ import annotations

import enum
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from hna.cli.app import app, fail
from hna.errors import HnaError


class Executor(enum.StrEnum):
    process = "process"
    dask = "dask"


def _progress_printer(console: Any) -> tuple[Any, Any]:
    """A rich progress bar (done / failed / remaining, elapsed) and the callback feeding it."""
    from rich.markup import escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "[green]{task.fields[ok]} done[/] [red]{task.fields[failed]} failed[/] "
            "{task.fields[remaining]} remaining"
        ),
        TimeElapsedColumn(),
        console=console,
    )
    state: dict[str, Any] = {}

    def callback(event: str, job: Any, counts: Any) -> None:
        done = counts["ok"] + counts["failed"]
        fields = {"ok": counts["ok"], "failed": counts["failed"],
                  "remaining": counts["remaining"]}
        if event == "start":
            if counts["reused"]:
                progress.console.print(
                    f"{counts['reused']} of {counts['total']} jobs finished earlier with the "
                    "same inputs; reusing them (--force re-runs all)"
                )
            state["task"] = progress.add_task("jobs", total=counts["total"], completed=done,
                                              **fields)
            return
        task = state.get("task")
        if task is None:
            return
        progress.update(task, completed=done, **fields)
        if event == "job" and job is not None and job.get("status") != "ok":
            summary = (job.get("error") or {}).get("summary", "failed")
            progress.console.print(f"[red]failed[/] {escape(job['id'])}: {escape(summary)}")

    return progress, callback


def _summary_table(result: Any, console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    jobs = result.jobs
    shown = jobs if len(jobs) <= 40 else [j for j in jobs if j.get("status") != "ok"]
    table = Table(title=f"Run {result.manifest.get('run')}", title_justify="left")
    table.add_column("Job")
    table.add_column("Status")
    table.add_column("Time (s)", justify="right")
    table.add_column("Note", overflow="fold")
    for job in shown:
        status = job.get("status", "")
        colour = {"ok": "green", "failed": "red"}.get(status, "yellow")
        note = ""
        if job.get("error"):
            note = job["error"].get("summary", "")
        elif job.get("reused"):
            note = "reused from an earlier run"
        duration = job.get("duration_s")
        table.add_row(
            escape(job["id"]), f"[{colour}]{status}[/]",
            "" if duration is None else f"{duration:.1f}", escape(note),
        )
    if shown:
        console.print(table)
    if len(shown) < len(jobs):
        console.print(f"({len(jobs) - len(shown)} successful jobs not listed)")
    ok, failed = result.count("ok"), result.count("failed")
    console.print(
        f"{len(jobs)} jobs: {ok} ok ({result.reused} reused), {failed} failed, "
        f"in {result.elapsed_s:.1f} s"
    )
    console.print(f"Index: {result.run_dir / 'index.html'}")


@app.command()
def run(
    runspec: Annotated[Path, typer.Argument(help="Run spec YAML, e.g. parameters/runs/default.yaml.")],
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, help="Jobs at a time (default: min(2, CPUs))."),
    ] = None,
    executor: Annotated[
        Executor, typer.Option(help="Run jobs on a local process pool or a Dask cluster.")
    ] = Executor.process,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (tcp://host:8786) or 'local'; implies "
                     "--executor dask."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-run jobs that finished earlier with the same inputs.")
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(help="Folder for run folders (default: outputs/ in the project root)."),
    ] = None,
    timeout: Annotated[
        float, typer.Option(min=0, help="Wall-clock limit per job in seconds; 0 for none.")
    ] = 3600,
    show_code: Annotated[
        bool, typer.Option("--show-code", help="Include code cells in the HTML reports.")
    ] = False,
    kernel: Annotated[
        str | None, typer.Option(help="Jupyter kernel name (default: each notebook's own).")
    ] = None,
) -> None:
    """Execute every notebook x service x footprint job of RUNSPEC with papermill.

    Writes outputs/<run>/<service>/<footprint>.ipynb|.html|.json, index.html, summary.csv and
    manifest.json. Jobs that finished earlier with the same inputs are reused. Exit status
    is 1 if any job failed, 2 for invalid input, 130 if interrupted.
    """
    from rich.console import Console

    from hna.batch import run_batch

    if scheduler and executor is Executor.process:
        executor = Executor.dask
    err = Console(stderr=True)
    out = Console()
    progress, callback = _progress_printer(err)
    try:
        with progress:
            result = run_batch(
                runspec, output_dir=output, jobs=jobs, executor=executor.value,
                scheduler=scheduler, force=force, timeout=timeout or None,
                show_code=show_code, kernel=kernel, progress=callback,
            )
    except HnaError as exc:
        fail(exc)
    except KeyboardInterrupt:
        err.print(
            "interrupted: finished jobs are recorded in the run's manifest.json; run the same "
            "command again to resume"
        )
        sys.stderr.flush()
        raise typer.Exit(code=130) from None
    _summary_table(result, out)
    if not result.ok:
        raise typer.Exit(code=1)

"""``hna run``: execute a run spec's notebooks as a batch and write the reviewers' reports.

Exit status: 0 every job succeeded; 1 some job failed (the others are kept); 2 bad input
(the spec, a notebook, a parameter; nothing was created); 3 the environment stopped the run
(output folder not writable, read-only, a file in the way, disk full, another run holds the
folder); 130 interrupted (finished jobs are kept; run again to resume).
"""

from __future__ import annotations

import enum
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from hna.cli.app import EXIT_ENVIRONMENT, EXIT_INTERRUPTED, EXIT_JOB_FAILED, app, fail

_LIST_LIMIT = 60


class Executor(enum.StrEnum):
    """Where jobs run."""

    process = "process"
    dask = "dask"


def _eta(started: float, done_now: int, remaining: int) -> str:
    """Estimated time left from the pace of the jobs finished in this run."""
    if done_now <= 0 or remaining <= 0:
        return "estimating..." if remaining else ""
    seconds = (time.monotonic() - started) / done_now * remaining
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"about {minutes} min {secs:02d} s left" if minutes else f"about {secs} s left"


def _progress_printer(console: Any) -> tuple[Any, Any]:
    """A rich progress bar (done, failed, remaining, estimated time left, running jobs)."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]jobs"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("[green]{task.fields[ok]} done[/] [red]{task.fields[failed]} failed[/] "
                   "{task.fields[remaining]} remaining  {task.fields[eta]}"),
        TextColumn("{task.fields[running]}"),
        console=console,
    )
    state: dict[str, Any] = {"started": time.monotonic(), "reused": 0}

    def callback(event: str, job: Any, counts: Any) -> None:
        done = counts["ok"] + counts["failed"]
        fields = {"ok": counts["ok"], "failed": counts["failed"],
                  "remaining": counts["remaining"],
                  "eta": _eta(state["started"], done - state["reused"], counts["remaining"])}
        if event == "start":
            state["reused"] = done
            if counts["reused"]:
                progress.console.print(
                    f"{counts['reused']} of {counts['total']} jobs finished earlier with the "
                    "same inputs; reusing them (--force re-runs all)")
            state["task"] = progress.add_task("jobs", total=counts["total"], completed=done,
                                              running="", **fields)
            return
        task = state.get("task")
        if task is None:
            return
        if event == "running":
            names = job.get("running") or []
            text = ("running: " + "; ".join(names)) if names else ""
            progress.update(task, running=escape(text), **fields)
            return
        progress.update(task, completed=done, **fields)
        if event == "job" and job is not None and job.get("status") != "ok":
            error = job.get("error") or {}
            summary = error.get("reason") or error.get("summary", "failed")
            progress.console.print(
                f"[red]failed[/] {escape(job.get('title') or job['id'])}: {escape(summary)}")

    return progress, callback


def _summary_table(result: Any, console: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    jobs = result.jobs
    shown = jobs if len(jobs) <= 40 else [j for j in jobs if j.get("status") != "ok"]
    table = Table(title=f"Run {result.manifest.get('run')}", title_justify="left")
    table.add_column("Job", overflow="fold")
    table.add_column("Status")
    table.add_column("Time (s)", justify="right")
    table.add_column("Note", overflow="fold")
    for job in shown:
        status = job.get("status", "")
        colour = {"ok": "green", "failed": "red"}.get(status, "yellow")
        note = ""
        if job.get("error"):
            note = job["error"].get("reason") or job["error"].get("summary", "")
        elif job.get("reused"):
            note = "reused from an earlier run"
        duration = job.get("duration_s")
        table.add_row(
            escape(job.get("title") or job["id"]), f"[{colour}]{status}[/]",
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
    if failed:
        console.print("Details of each failure: the run's manifest.json and the job's .ipynb")


def _dry_run(runspec: Path, parameters: dict[str, Any]) -> None:
    from hna.batch import plan_run

    plan = plan_run(runspec, parameters)
    spec = plan.spec
    typer.echo(f"Run {spec.name}: {len(plan.jobs)} jobs (dry run: nothing executed or written)")
    for job in plan.jobs[:_LIST_LIMIT]:
        typer.echo(f"  {job.title}  [{Path(job.notebook_label).name} -> {job.id}.html]")
    if len(plan.jobs) > _LIST_LIMIT:
        typer.echo(f"  ... and {len(plan.jobs) - _LIST_LIMIT} more")
    typer.echo(f"Years {spec.years_label}, {spec.draws} draws, seed {spec.seed}. The spec, its "
               "notebooks, services, footprints, years and parameters are valid.")


def _cli_parameters(args: list[str]) -> dict[str, Any]:
    """``-p NAME VALUE`` pairs (papermill's spelling; also ``--parameter``) from ``args``."""
    from hna.batch.safety import parse_cli_parameter
    from hna.errors import ParameterError

    values: dict[str, Any] = {}
    rest = list(args)
    while rest:
        flag = rest.pop(0)
        if flag not in ("-p", "--parameter"):
            raise ParameterError("is not an option of 'hna run'", field="arguments", value=flag,
                                 hint="See 'hna run --help'; parameters are -p NAME VALUE")
        if len(rest) < 2:
            raise ParameterError("needs a name and a value", field="-p", value=" ".join(rest),
                                 hint="Write -p NAME VALUE, e.g. -p ks '[6, 8, 10]'")
        name, value = parse_cli_parameter(rest.pop(0), rest.pop(0))
        values[name] = value
    return values


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def run(  # noqa: PLR0913 - typer maps each command-line option to one argument
    ctx: typer.Context,
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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate the spec and list its jobs; run nothing.")
    ] = False,
) -> None:
    """Execute every notebook x service x footprint job of RUNSPEC with papermill.

    Set a notebook parameter for every job with -p NAME VALUE (papermill-style; the value is
    read as YAML, e.g. -p ks '[6, 8, 10]' -p year 2030).

    Writes outputs/<run>/<service>/<footprint>.ipynb|.html|.json, index.html, summary.csv and
    manifest.json. Jobs that finished earlier with the same inputs are reused. Exit status:
    0 ok, 1 some job failed, 2 invalid input, 3 environment (permissions, disk, a busy
    folder), 130 interrupted.
    """
    from hna.errors import HnaError

    if scheduler and executor is Executor.process:
        executor = Executor.dask
    if not dry_run:
        from hna.batch.executors import prepare

        prepare(executor.value)  # the workers' fork server imports while the spec is checked
    from rich.console import Console

    from hna.batch import RunEnvironmentError, run_batch

    try:
        parameters = _cli_parameters(ctx.args)
        if dry_run:
            _dry_run(runspec, parameters)
            return
        err = Console(stderr=True)
        progress, callback = _progress_printer(err)
        with progress:
            result = run_batch(
                runspec, output_dir=output, jobs=jobs, executor=executor.value,
                scheduler=scheduler, force=force, timeout=timeout or None,
                show_code=show_code, kernel=kernel, progress=callback, parameters=parameters,
            )
    except RunEnvironmentError as exc:
        fail(exc, code=EXIT_ENVIRONMENT)
    except HnaError as exc:
        fail(exc)
    except OSError as exc:
        from hna.batch.outputs import environment_error

        fail(environment_error(exc, "write the run's outputs"), code=EXIT_ENVIRONMENT)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished jobs are recorded in the run's manifest.json; run "
                   "the same command again to resume", err=True)
        sys.stderr.flush()
        raise typer.Exit(code=EXIT_INTERRUPTED) from None
    _summary_table(result, Console())
    if not result.ok:
        raise typer.Exit(code=EXIT_JOB_FAILED)

"""``hna project``, ``hna services`` and ``hna validate``: demand, the catalogue, parameter checks.

- ``hna project <service> --footprint <code|name>``: demand by year (mean and Monte Carlo
  intervals), centres sustainable at the service's critical mass, probability that ``--centres``
  centres each reach it, and the service's commissioning tier.
- ``hna services list`` / ``hna services show <id>``: the catalogue and one service's
  parameters with their sources.
- ``hna validate <yaml>...``: services, footprint files, tier schemes, run specs and model files.

Errors are one line on stderr with exit status 2; output files are written atomically (nothing
is left half-written).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from hna.cli.app import app, fail
from hna.codes import ENGLAND
from hna.errors import HnaError, ParameterError

services_app = typer.Typer(help="The service catalogue (parameters/services/*.yaml).",
                           no_args_is_help=True)
app.add_typer(services_app, name="services")



def _shares(text: str) -> list[float] | None:
    if not text.strip():
        return None
    try:
        return [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ParameterError("catchment shares must be numbers separated by commas",
                             field="--shares", value=text, hint="e.g. --shares 0.6,0.4") from None


@app.command("project")
def project_cmd(  # noqa: PLR0913 - one parameter per command-line option
    service: Annotated[str, typer.Argument(help="Service id (see 'hna services list') or YAML path.")],
    footprint: Annotated[str, typer.Option("--footprint", "-f", help="GSS code (E12.., E54.., E40.., LAD, E92000001), custom footprint code, or name.")],
    years: Annotated[str, typer.Option("--years", "-y", help="Year or range, e.g. 2025:2040.")] = "2025:2040",
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws (0 = expected values only).")] = 1000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same numbers).")] = 1,
    centres: Annotated[int | None, typer.Option("--centres", "-k", help="Centres planned: adds the probability that each reaches the critical mass.")] = None,
    shares: Annotated[str, typer.Option("--shares", help="Catchment shares of the centres, e.g. 0.6,0.4 (default equal).")] = "",
    variant: Annotated[str | None, typer.Option("--variant", help="Central national projection: npp2020 or npp2018 (default: the service's, else npp2020).")] = None,
    scenario: Annotated[str | None, typer.Option("--scenario", "-s", help="Named scenario (parameters/scenarios/<id>.yaml) or scenario YAML path, applied to the service.")] = None,
    level: Annotated[float, typer.Option("--level", help="Probability for 'centres sustainable with this probability' when --centres is not given.")] = 0.8,
    max_memory_gb: Annotated[float | None, typer.Option("--max-memory-gb", help="Refuse runs estimated to need more memory (default $HNA_MAX_MEMORY_GB or 4).")] = None,
    population_file: Annotated[Path | None, typer.Option("--population", help="District population file instead of the bundled ONS mid-2020.")] = None,
    allow_missing: Annotated[bool, typer.Option("--allow-missing-districts", help="Proceed, with a warning, when some of the footprint's districts are not in --population (totals are then too small).")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) instead of standard output.")] = None,
) -> None:
    """Project demand for a service in a footprint, with intervals, viability and tiers.

    Cases or patients by year with Monte Carlo intervals (parameters, then events), centres
    sustainable at the critical mass by allocation, and the commissioning tier.
    """
    try:
        from hna.demand import service_demand
        from hna.report_io import check_format, emit
        from hna.thresholds import assess

        check_format(fmt)
        if draws < 0:
            raise ParameterError("draws must be >= 0", field="--draws", value=draws)
        share_list = _shares(shares)
        if share_list is not None and centres is None:
            centres = len(share_list)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            result = service_demand(service, footprint, years=years, draws=draws, seed=seed,
                                    population=population_file, variant=variant,
                                    scenario=scenario, memory_limit_gb=max_memory_gb,
                                    allow_missing_districts=allow_missing)
            national = result if ENGLAND in result.areas else service_demand(
                result.service, ENGLAND, years=result.years, draws=0,
                population=population_file, variant=result.meta["variant"],
                allow_missing_districts=allow_missing)
        for w in caught:
            if str(w.message).startswith("WARNING:"):
                typer.echo(str(w.message), err=True)
        a = assess(result, n_centres=centres, shares=share_list, national=national,
                   level=level)
        t = a.by_year
        cols = ["area_code", "name", "year", "population", "expected", "mean",
                "q0.025", "q0.1", "q0.5", "q0.9", "q0.975", "centres_on_mean"]
        if centres is not None:
            cols += ["caseload_per_centre", "n_centres", "p_viable", "expected_smallest_caseload",
                     "split"]
        elif draws:
            cols += [f"centres_sustainable_p{level * 100:g}", "n_centres", "p_viable",
                     "expected_smallest_caseload", "split"]
        table = t[[c for c in cols if c in t.columns]].copy()
        if result.service.model is not None and result.service.model.measure == "ichd":
            from hna.prevalence.capacity import stations_columns

            table = stations_columns(table)  # dialysis: stations on the mean and upper 95%
        table = table.rename(columns={"mean": f"mean_{result.value}",
                                      "expected": f"expected_{result.value}"})
        text = _project_text(table, result, a, fmt, draws)
        emit(text, output)
    except HnaError as exc:
        fail(exc)


def _project_text(table, result, a, fmt: str, draws: int) -> str:
    """The ``hna project`` output: a table with the verdict, or csv/json records."""
    from hna.report_io import render_table

    meta = result.meta
    if fmt == "table":
        table = table.drop(columns=["area_code", "name", "split"], errors="ignore")  # in verdict
        if draws == 0:
            table = table.drop(columns=[c for c in table.columns if c.startswith("q")])
        head = (f"{result.service.name}: {result.service.measure} in "
                f"{a.headline['footprint_name']} ({a.headline['footprint']})\n\n")
        scen = (f"Scenario: {meta['scenario_name']} ({meta['scenario']}).\n"
                if meta.get("scenario") else "")
        foot = (f"\n{a.verdict}\n\n{scen}Seed {meta['seed']}, {meta['draws']} draws; "
                f"parameter hash {meta['parameter_hash'][:12]}; {meta['projection']}.\n")
        return head + render_table(table, "table") + foot
    for scheme, tier in a.headline["tiers"].items():
        table[f"tier_{scheme}"] = tier
    table["planning_population"] = round(a.headline["planning_population"])
    table["minimum_per_centre"] = a.headline["minimum_per_centre"]
    table["quality"] = result.service.quality  # 'low' stays visible in every output
    table["scenario"] = meta.get("scenario")
    table["interval_includes"] = "; ".join(
        x.split(":")[0] for x in meta.get("interval_includes", []))
    table["seed"] = meta["seed"]
    table["draws"] = meta["draws"]
    table["parameter_hash"] = meta["parameter_hash"]
    return render_table(table, fmt)


@services_app.command("list")
def services_list(
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
) -> None:
    """List the services in parameters/services with their kind, critical mass and quality."""
    try:
        from hna.report_io import write_table
        from hna.services import catalogue

        write_table(catalogue(), fmt)
    except HnaError as exc:
        fail(exc)


@services_app.command("show")
def services_show(
    service: Annotated[str, typer.Argument(help="Service id or YAML path.")],
) -> None:
    """Show a service's parameters and sources."""
    try:
        from hna.services import load_service

        s = load_service(service)
        cm = s.critical_mass
        lines = [f"{s.id}: {s.name} ({s.kind}; quality {s.quality})",
                 f"  measure: {s.measure}",
                 f"  file: {s.path}",
                 f"  critical mass: {cm.minimum_per_centre:g} {cm.unit} [{cm.status}; "
                 f"{cm.source}]",
                 f"  projection: {s.projection.method}"]
        if s.rates is not None:
            lines.append(f"  rates: {'table' if s.rates.table else 'counts' if s.rates.counts else 'file'}"
                         f" [{s.rates.source}]")
        if s.model is not None:
            lines.append(f"  model: {s.model.path} (measure {s.model.measure}) [{s.model.source}]")
        if s.cost is not None:
            lines.append(f"  cost: GBP {s.cost.gbp:,.0f} per {s.cost.per.replace('_', '-')} "
                         f"({s.cost.price_year} prices) [{s.cost.source}]")
        lines.append("  sources:")
        for src in s.sources:
            lines.append(f"    {src.id}: {s.cite(src.id)}")
        typer.echo("\n".join(lines))
    except HnaError as exc:
        fail(exc)


@app.command("validate")
def validate_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Parameter files of any kind (service, footprints, run spec, scenario, tiers, appraisal, model, sites), recognised from their content.")],
) -> None:
    """Validate parameter files; one line per file, exit status 2 if any is invalid."""
    from hna.validation import validate_files

    results = validate_files(paths)
    bad = 0
    for r in results:
        if r["ok"]:
            typer.echo(f"ok: {r['path']}: {r['message']}")
        else:
            bad += 1
            typer.echo(f"error: {r['message']}", err=True)
    if bad:
        raise typer.Exit(code=2)

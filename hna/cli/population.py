"""``hna population`` and ``hna footprints``: population of any footprint, and the footprints."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer

from hna.cli.app import app, fail
from hna.errors import HnaError

footprints_app = typer.Typer(help="Planning footprints: levels, codes and custom unions.",
                             no_args_is_help=True)
app.add_typer(footprints_app, name="footprints")

_BY_CHOICES = {"sex", "age_band"}


def _emit(df, fmt: str, output: Path | None) -> None:
    from hna.report_io import write_table

    write_table(df, fmt, output)


@app.command("population")
def population_cmd(
    footprint: Annotated[str, typer.Option("--footprint", "-f", help="GSS code (E06.., E12.., E54.., E40.., E92000001), custom footprint code, or name.")],
    year: Annotated[str, typer.Option("--year", "-y", help="Year or range (2030, 2025:2040). Default: the base year.")] = "",
    by: Annotated[str, typer.Option("--by", help="Breakdown: comma-separated from sex, age_band (empty = totals).")] = "",
    fmt: Annotated[str, typer.Option("--format", help="csv, table or json.")] = "table",
    variant: Annotated[str, typer.Option("--variant", help="National projection for future years: npp2020 or npp2018.")] = "npp2020",
    population_file: Annotated[Path | None, typer.Option("--population", help="Population file (tidy CSV/parquet, MYE2 workbook or SNPP CSV) instead of the bundled mid-2020 LADs.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file instead of standard output.")] = None,
    allow_missing: Annotated[bool, typer.Option("--allow-missing-districts", help="Proceed, with a warning, when some of the footprint's districts are not in --population (totals are then too small).")] = False,
) -> None:
    """Print the population of a footprint by year (and optionally sex and age band)."""
    try:
        from hna import geography, population

        breakdown = [b.strip() for b in by.split(",") if b.strip()]
        bad = [b for b in breakdown if b not in _BY_CHOICES]
        if bad:
            raise population.ParameterError("unknown breakdown", field="--by", value=bad[0],
                                            hint="Use sex and/or age_band")
        base = (population.load_population(population_file) if population_file
                else population.default_population())
        fp = geography.resolve_footprint(footprint)
        if year:
            pop = population.project(base, year, variant=variant)
        else:
            pop = base
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            agg = geography.aggregate(pop, fp, allow_missing=allow_missing,
                                      source=str(population_file) if population_file else None)
        for w in caught:
            typer.echo(str(w.message), err=True)
        table = population.summarise(agg, by=["area_code", *breakdown, "year"])
        table.insert(1, "name", fp.name)
        table["population"] = table["population"].round(1)
        _emit(table, fmt, output)
        if fmt == "table" and output is None:
            typer.echo(f"\nSource: {base.attrs.get('source', population_file)}; "
                       f"{population.projection_label(pop)}.")
            if fp.note:
                typer.echo(f"Note: {fp.note}.")
    except HnaError as exc:
        fail(exc)


@footprints_app.command("list")
def footprints_list(
    level: Annotated[str | None, typer.Option("--level", "-l", help="lad, region, icb, nhs_region, england or custom.")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, table or json.")] = "table",
) -> None:
    """List the footprints hna knows, with their level and number of districts."""
    try:
        from hna import geography

        _emit(geography.list_footprints(level), fmt, None)
    except HnaError as exc:
        fail(exc)


@footprints_app.command("show")
def footprints_show(
    footprint: Annotated[str, typer.Argument(help="Code or name of the footprint.")],
) -> None:
    """Show a footprint's member districts and shares."""
    try:
        from hna import geography

        fp = geography.resolve_footprint(footprint)
        m = fp.members.copy()
        m["name"] = [geography.area_name(c) for c in m["lad_code"]]
        typer.echo(f"{fp.code}  {fp.name}  ({fp.level}, {fp.n_districts} districts)")
        if fp.note:
            typer.echo(f"Note: {fp.note}")
        _emit(m[["lad_code", "name", "share"]], "table", None)
    except HnaError as exc:
        fail(exc)

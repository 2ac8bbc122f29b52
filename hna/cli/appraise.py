"""``hna appraise``: commissioning appraisal of one footprint, section by section.

Sections (``--section``, comma-separated; default all): tiers, demand, carter, segmentation,
priorities (App 9 and East Midlands), thames_valley, finance, east_midlands, risk_sharing,
pooled_risk (overspend split and pooled budget pro rata to baseline), binding_decisions, fitness_for_purpose, survey, designation_criteria, benchmarking, catalogue.
Demand comes from :func:`hna.appraisal.appraisal_demand` and every number from
:func:`hna.appraisal.appraise_footprint`; this module only prints.
Output formats:

- ``table`` (default): one heading per table, then the columns a reader needs first;
- ``csv``: one file; the tables are stacked with a first column ``section`` (the table name)
  and the union of their columns (select a table with ``df[df.section == "carter"]``);
- ``json``: one object keyed by table name (``tiers``, ``carter``, ``finance``...), each a list
  of records with every column, plus ``meta`` (provenance).

Errors are one line on stderr with exit status 2; ``--output`` files are written atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from hna.cli.app import app, fail
from hna.errors import HnaError, ParameterError


def render(appraisal, names: list[str], fmt: str) -> str:
    """The appraisal's tables ``names`` as text in ``fmt`` (table, csv or json)."""
    import pandas as pd

    from hna.appraisal import TITLES, flatten_lists
    from hna.report_io import format_table, json_records, plain

    if fmt == "json":
        obj: dict[str, Any] = {n: json_records(appraisal.table(n)) for n in names}
        obj["meta"] = plain(appraisal.meta)
        return json.dumps(obj, indent=2, default=str) + "\n"
    if fmt == "csv":
        frames = []
        for n in names:
            df = flatten_lists(appraisal.table(n))
            frames.append(df.astype(object).assign(section=n))
        stacked = pd.concat(frames, ignore_index=True, sort=False) if frames else pd.DataFrame()
        cols = ["section"] + [c for c in stacked.columns if c != "section"]
        return stacked[cols].to_csv(index=False, lineterminator="\n")
    m = appraisal.meta
    fp = m["footprint"]
    out = [f"Commissioning appraisal: {fp['name']} ({fp['code']}), {m['year']} to "
           f"{m['horizon']}", ""]
    for n in names:
        title = TITLES[n]
        out += [f"== {title} ==", ""]
        df = appraisal.display(n)
        out.append(format_table(df) if len(df) else _empty_note(n, m))
        out.append("")
    notes = []
    if m["services_without_cost"]:
        notes.append("Services without a cost (marked 'no cost' in the finance tables): "
                     + ", ".join(m["services_without_cost"]) + ".")
    if m["services_not_segmented"]:
        notes.append("Services without a segmentation entry: "
                     + ", ".join(m["services_not_segmented"]) + ".")
    notes.append(f"Money: {m['money']}. QIPP: {m['qipp']}.")
    notes.append(f"Demand: {m['demand']}. hna {m['hna_version']}; parameter hash "
                 f"{m['parameter_hash'][:12]}.")
    out += notes
    return "\n".join(out) + "\n"


def _empty_note(name: str, meta: dict[str, Any]) -> str:
    if name in ("finance", "finance_total", "waterfall"):
        return "(no service with a cost: give costs in parameters/services/<id>.yaml)"
    return "(empty)"


@app.command("appraise")
def appraise_cmd(  # noqa: PLR0913 - typer maps each command-line option to one argument
    footprint: Annotated[str, typer.Option("--footprint", "-f", help="GSS code (E92000001, E40.., E12.., E54.., LAD), custom footprint code, or name.")],
    year: Annotated[int, typer.Option("--year", help="Base year.")] = 2025,
    horizon: Annotated[int, typer.Option("--horizon", help="Last year of the projection.")] = 2030,
    services: Annotated[str, typer.Option("--services", help="Comma-separated service ids (default: the whole catalogue).")] = "",
    section: Annotated[str, typer.Option("--section", help="Comma-separated: tiers, demand, carter, segmentation, priorities, thames_valley, finance, east_midlands, risk_sharing, pooled_risk, binding_decisions, fitness_for_purpose, survey, designation_criteria, benchmarking, catalogue (default all).")] = "",
    growth: Annotated[float, typer.Option("--non-demographic-growth", help="Annual growth of spend beyond demand, a fraction (0.02 = 2%).")] = 0.0,
    no_qipp: Annotated[bool, typer.Option("--no-qipp", help="Leave QIPP out (spend after QIPP = do nothing).")] = False,
    draws: Annotated[int, typer.Option("--draws", help="Monte Carlo draws for demand intervals (0 = expected values only).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the draws.")] = 1,
    edges: Annotated[str, typer.Option("--edges", help="Band-edge rule for tiers and the Carter 1m/6m boundaries: lower_inclusive or upper_inclusive (default from parameters/tiers.yaml).")] = "",
    hiv_tolerance: Annotated[float | None, typer.Option("--hiv-tolerance", help="HIV risk-share tolerance in percent (the seed's 2 or 3; default 3).")] = None,
    benchmark_values: Annotated[Path | None, typer.Option("--benchmark-values", help="CSV of Appendix 14 measures: measure, year, services_meeting, services, value, text.")] = None,
    fitness: Annotated[Path | None, typer.Option("--fitness-ratings", help="YAML of the Appendix 10 self-assessment: dimension: [Y, N, P, ...] (one rating per criterion).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically) instead of standard output.")] = None,
) -> None:
    """Commissioning appraisal of a footprint: tiers, Carter rules, frameworks and money."""
    try:
        from hna.appraisal import appraisal_demand, appraise_footprint, parse_sections
        from hna.report_io import check_format, emit

        check_format(fmt)
        names = parse_sections(section or None)
        svc_list = [s.strip() for s in services.split(",") if s.strip()] or None
        if horizon < year:
            raise ParameterError("the horizon is before the base year", field="--horizon",
                                 value=horizon, hint=f"Give a horizon of {year} or later")
        ratings = None
        if fitness is not None:
            from hna.parameters import read_yaml

            ratings = read_yaml(fitness)
        demand = appraisal_demand(footprint, svc_list, range(year, horizon + 1), draws, seed)
        result = appraise_footprint(footprint, demand, year, horizon, svc_list,
                                    non_demographic_growth=growth, qipp=not no_qipp,
                                    edges=edges or None, hiv_tolerance=hiv_tolerance,
                                    benchmark_values=benchmark_values, fitness_ratings=ratings)
        emit(render(result, names, fmt), output)
    except HnaError as exc:
        fail(exc)

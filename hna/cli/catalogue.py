"""``hna services catalogue``: the seeds' catalogues of specialised services and hna's models.

Lists the 2002 National Definitions Set (35 services, Carter App 1), the nationally
commissioned services of 2006 (App 2) and the third edition as listed by the East Midlands SCG
(F004), saying which entries an hna service models. Data: :func:`hna.frameworks.catalogue`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hna.cli.app import fail
from hna.cli.services import services_app
from hna.errors import HnaError


@services_app.command("catalogue")
def catalogue_cmd(
    name: Annotated[str, typer.Argument(help="ndset_2002, nscag_2006 or ndset_3rd_edition (default all).")] = "",
    modelled: Annotated[bool, typer.Option("--modelled", help="Only entries with an hna model.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="table, csv or json.")] = "table",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")] = None,
) -> None:
    """List a catalogue of specialised services and which entries have an hna model."""
    try:
        from hna.frameworks import catalogue, load_catalogues
        from hna.report_io import check_format, emit, format_table, json_records

        check_format(fmt)
        df = catalogue(name or None)
        if modelled:
            df = df[df["has_model"]]
        cols = ["catalogue", "number", "name", "hna_service", "model_part"]
        if fmt == "json":
            import json

            text = json.dumps(json_records(df), indent=2, default=str) + "\n"
        elif fmt == "csv":
            text = df.to_csv(index=False, lineterminator="\n")
        else:
            cfg = load_catalogues()
            lines = []
            for cat, part in df.groupby("catalogue", sort=False):
                c = cfg.catalogues[cat]
                n_model = int(part["has_model"].sum())
                lines += [f"== {c.title} ==", f"Source: {c.source}",
                          f"{len(part)} entries, {n_model} with an hna model", "",
                          format_table(part[cols[1:]].reset_index(drop=True)), ""]
            text = "\n".join(lines) + "\n"
        emit(text, output)
    except HnaError as exc:
        fail(exc)

"""The typer application, its global options and its error handling.

Errors derived from :class:`hna.errors.HnaError` are printed as one line on stderr with exit
status 2, never as a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hna import __version__
from hna.errors import HnaError

_app = typer.Typer(
    name="hna",
    help="Health needs assessment for NHS specialised services.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hna {__version__}")
        raise typer.Exit()


@_app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = False,
) -> None:
    """Health needs assessment for NHS specialised services."""


class _App:
    """Wraps the typer app so that hna errors become one-line messages with exit status 2."""

    def __init__(self, typer_app: typer.Typer) -> None:
        self.typer_app = typer_app
        self.command = typer_app.command
        self.add_typer = typer_app.add_typer

    def __call__(self, *args, **kwargs):
        try:
            return self.typer_app(*args, standalone_mode=True, **kwargs)
        except HnaError as exc:  # pragma: no cover - exercised through main()
            typer.echo(f"error: {exc}", err=True)
            sys.exit(2)


app = _App(_app)


def fail(exc: Exception) -> None:
    """Print an hna error on one line and exit with status 2."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def main() -> None:
    """Console entry point."""
    app()

"""The typer application, its global options and its error handling.

Errors derived from :class:`hna.errors.HnaError` are printed as one line on stderr with exit
status 2 (:data:`EXIT_BAD_INPUT`), never as a traceback. The exit statuses of every command:
0 ok, 1 some job failed (``hna run``), 2 bad input, 3 environment (permissions, read-only
or full disk), 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from hna import __version__
from hna.errors import HnaError

EXIT_OK = 0
EXIT_JOB_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ENVIRONMENT = 3
EXIT_INTERRUPTED = 130

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
    """Wraps the typer app: errors become one-line messages with their exit status.

    hna errors exit 2, an ``OSError`` that reaches here (a file that cannot be written, a full
    disk) exits 3 and Ctrl-C exits 130, none with a traceback.
    """

    def __init__(self, typer_app: typer.Typer) -> None:
        self.typer_app = typer_app
        self.command = typer_app.command
        self.add_typer = typer_app.add_typer

    def __call__(self, *args: object, **kwargs: object) -> object:
        """Run the app (as typer does), turning errors into one-line messages."""
        try:
            return self.typer_app(*args, standalone_mode=True, **kwargs)
        except HnaError as exc:  # pragma: no cover - exercised through main()
            typer.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)
        except OSError as exc:  # pragma: no cover - exercised through main()
            from hna.batch.outputs import environment_error

            typer.echo(f"error: {environment_error(exc, 'write')}", err=True)
            sys.exit(EXIT_ENVIRONMENT)
        except KeyboardInterrupt:  # pragma: no cover - exercised through main()
            typer.echo("interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)


app = _App(_app)


def fail(exc: Exception, code: int = EXIT_BAD_INPUT) -> None:
    """Print an error on one line and exit with ``code`` (default 2, bad input)."""
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=code)


def main() -> None:
    """Console entry point."""
    app()

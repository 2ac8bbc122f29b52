"""The ``hna`` command line.

Each module in this package registers its commands on :data:`hna.cli.app.app` when it is
imported; the imports below list them explicitly (no discovery by name), so a new command
module is one more line here.
"""

from __future__ import annotations

from hna.cli import appraise, catalogue, population, run, services  # noqa: F401 - registers
from hna.cli.app import app, main

__all__ = ["app", "main"]

"""The ``hna`` command line.

Each module in this package registers its commands on :data:`hna.cli.app.app`; they are
discovered automatically, so a new command is a new module here.
"""

from __future__ import annotations

import importlib
import pkgutil

from hna.cli.app import app, main

for _mod in pkgutil.iter_modules(__path__):
    if _mod.name not in {"app"}:
        importlib.import_module(f"{__name__}.{_mod.name}")

__all__ = ["app", "main"]

"""Shared pieces of the appraisal frameworks: the parameter folder and error helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hna.errors import ParameterError
from hna.parameters import PARAMETERS_DIR

#: Folder of the framework settings (``parameters/appraisal/``).
APPRAISAL_DIR = PARAMETERS_DIR / "appraisal"

#: Pattern of identifiers used as keys in the framework files.
IDENT = r"^[A-Za-z_]\w*$"


def config_path(path: str | Path | None, default: str) -> Path:
    """``path`` as a Path, or the bundled file ``default`` in :data:`APPRAISAL_DIR`."""
    return Path(path) if path is not None else APPRAISAL_DIR / default


def resolve_config(config: Any, model: type, load: Callable[[Any], Any],
                   check: Callable[[Any, str], None], default: str, label: str
                   ) -> tuple[Any, str]:
    """A framework's settings and the text naming their source.

    A ``model`` instance given in Python is checked with ``check(config, label)``; anything
    else is a path (None: the bundled ``default``) read with ``load``.
    """
    if isinstance(config, model):
        check(config, label)
        return config, label
    return load(config), str(config_path(config, default))


def param_error(msg: str, source: Path | str, field: str, value: Any = None,
                hint: str | None = None) -> ParameterError:
    """A :class:`ParameterError` naming the file, field and value."""
    return ParameterError(msg, source=str(source), field=field, value=value, hint=hint)

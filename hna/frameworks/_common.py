"""Shared pieces of the appraisal frameworks: the parameter folder and error helper."""

from __future__ import annotations

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


def param_error(msg: str, source: Path | str, field: str, value: Any = None,
                hint: str | None = None) -> ParameterError:
    """A :class:`ParameterError` naming the file, field and value."""
    return ParameterError(msg, source=str(source), field=field, value=value, hint=hint)

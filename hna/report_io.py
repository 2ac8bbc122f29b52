"""Writing tables for people and programs: aligned text, CSV or JSON, atomically to files."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from hna.errors import ParameterError

__all__ = ["write_table", "atomic_write_text", "format_table"]

FORMATS = ("table", "csv", "json")


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write text to ``path`` via a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def format_table(df: pd.DataFrame) -> str:
    """Aligned plain-text table with thousands separators for large numbers."""
    shown = df.copy()
    for c in shown.columns:
        if pd.api.types.is_float_dtype(shown[c]):
            big = shown[c].abs().max() >= 1000 if len(shown) else False
            shown[c] = shown[c].map(
                (lambda v: "" if pd.isna(v) else f"{v:,.0f}") if big
                else (lambda v: "" if pd.isna(v) else f"{v:,.3g}" if abs(v) < 10 else f"{v:,.1f}")
            )
        elif pd.api.types.is_integer_dtype(shown[c]) and c != "year":
            shown[c] = shown[c].map(lambda v: f"{v:,}")
    return shown.to_string(index=False)


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, float) and np.isnan(v):
        return None
    return v


def write_table(df: pd.DataFrame, fmt: str = "table", output: str | Path | None = None) -> None:
    """Print or save ``df`` as ``table`` (aligned text), ``csv`` or ``json`` (records)."""
    if fmt not in FORMATS:
        raise ParameterError("unknown output format", field="--format", value=fmt,
                             hint=f"Use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        text = df.to_csv(index=False, lineterminator="\n")
    elif fmt == "json":
        records = [{k: _jsonable(v) for k, v in r.items()} for r in df.astype(object).to_dict("records")]
        text = json.dumps(records, indent=2, default=str) + "\n"
    else:
        text = format_table(df) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)

"""Writing tables for people and programs: aligned text, CSV or JSON, atomically to files."""

from __future__ import annotations

import json
import math
import os
import secrets
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import ParameterError

__all__ = [
    "write_table", "render_table", "format_table", "emit", "check_format", "json_records", "plain",
    "atomic_write_bytes", "atomic_write_text", "atomic_write_json",
]

FORMATS = ("table", "csv", "json")


TMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, then rename.

    The temporary file is named ``.<name>.<8 hex digits>.tmp`` and is removed if anything
    (including KeyboardInterrupt) interrupts the write. Parent directories are created.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically; ``data`` must be JSON-typed."""
    text = json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    return atomic_write_text(path, text)


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


def plain(value: Any) -> Any:
    """``value`` as a plain JSON-friendly Python object (numpy scalars unwrapped, NaN/NA ->
    None, containers converted recursively).
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, list | tuple):
        return [plain(x) for x in value]
    if isinstance(value, dict):
        return {str(k): plain(x) for k, x in value.items()}
    return value


def json_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``df`` as a list of plain dicts (for JSON output)."""
    return [{k: plain(v) for k, v in r.items()} for r in df.astype(object).to_dict("records")]


def check_format(fmt: str) -> str:
    """``fmt`` if it is one of :data:`FORMATS`, else a ParameterError naming ``--format``."""
    if fmt not in FORMATS:
        raise ParameterError("unknown output format", field="--format", value=fmt,
                             hint=f"Use one of {', '.join(FORMATS)}")
    return fmt


def render_table(df: pd.DataFrame, fmt: str = "table") -> str:
    """``df`` as ``table`` (aligned text), ``csv`` or ``json`` (records) text."""
    check_format(fmt)
    if fmt == "csv":
        return df.to_csv(index=False, lineterminator="\n")
    if fmt == "json":
        return json.dumps(json_records(df), indent=2, default=str) + "\n"
    return format_table(df) + "\n"


def emit(text: str, output: str | Path | None = None) -> None:
    """Print ``text`` to standard output, or write it to ``output`` atomically."""
    if output is None:
        sys.stdout.write(text)
    else:
        atomic_write_text(output, text)


def write_table(df: pd.DataFrame, fmt: str = "table", output: str | Path | None = None) -> None:
    """Print or save ``df`` as ``table`` (aligned text), ``csv`` or ``json`` (records)."""
    emit(render_table(df, fmt), output)

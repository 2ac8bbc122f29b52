"""Writing outputs safely: tables for people and programs, atomic files, run manifests.

Tables as aligned text, CSV or JSON; atomic writes (a temporary file renamed into place);
JSON-typed values; the hash and vintages of the bundled data; reading and writing a run's
``manifest.json``. :mod:`hna.report` re-exports the run-level names.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hna.errors import ParameterError

if TYPE_CHECKING:  # pandas and NumPy are imported by the functions that use them, so that
    import pandas as pd  # importing hna.report in a notebook kernel stays cheap

__all__ = [
    "write_table", "render_table", "format_table", "emit", "check_format", "json_records", "plain",
    "atomic_write_bytes", "atomic_write_text", "atomic_write_json",
    "remove_stale_tmp", "to_json_value", "data_hash", "data_vintages", "read_manifest",
    "write_manifest", "MANIFEST_NAME",
]

FORMATS = ("table", "csv", "json")


TMP_SUFFIX = ".tmp"

#: Names of temporary files of atomic writes (``.<name>.<8 hex>.tmp``).
_TMP_RE = re.compile(r"^\..+\.[0-9a-f]{8}\.tmp$")

#: The file name of a run's manifest.
MANIFEST_NAME = "manifest.json"


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: a temporary file in the same directory, then rename.

    The temporary file is named ``.<name>.<8 hex digits>.tmp`` and is removed if anything
    (including KeyboardInterrupt) interrupts the write. Parent directories are created.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:  # name the file the user asked for, not the temporary one
        raise OSError(exc.errno, exc.strerror, str(target)) from None
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
    import pandas as pd

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
    """``value`` as a plain JSON-friendly Python object.

    NumPy scalars are unwrapped, NaN/NA become None, containers are converted recursively.
    """
    import numpy as np
    import pandas as pd

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


# --------------------------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------------------------


def remove_stale_tmp(directory: str | os.PathLike[str]) -> list[Path]:
    """Delete temporary files left under ``directory`` by an interrupted atomic write.

    Only files named like those :func:`atomic_write_bytes` creates are touched. Returns them.
    """
    removed = []
    root = Path(directory)
    if not root.is_dir():
        return removed
    for path in root.rglob(f"*{TMP_SUFFIX}"):
        if path.is_file() and _TMP_RE.match(path.name):
            try:
                path.unlink()
                removed.append(path)
            except FileNotFoundError:
                pass
    return removed


# --------------------------------------------------------------------------------------------
# JSON-typed values
# --------------------------------------------------------------------------------------------


def to_json_value(
    value: Any,
    *,
    field: str = "value",
    source: str | None = None,
    nonfinite: str = "error",
) -> Any:
    """Return ``value`` as plain JSON types (None, bool, int, float, str, list, dict).

    NumPy scalars become Python scalars and NumPy arrays become (nested) lists; ``str``,
    ``int`` and ``float`` subclasses become the plain type. Dict keys must be strings.
    Anything else (tuples, sets, dates, objects) is rejected with a
    :class:`~hna.errors.ParameterError` naming ``field``.

    Args:
        value: the value to convert.
        field: the name used in error messages (nested items get ``field[0]``, ``field.key``).
        source: the file or table named in error messages.
        nonfinite: ``"error"`` rejects NaN and infinities (they are not JSON); ``"null"``
            turns them into ``None``.
    """
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):  # pragma: no cover - True/False handled above
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        if nonfinite == "null":
            return None
        raise ParameterError(
            "is not a finite number", source=source, field=field, value=value,
            hint="JSON has no NaN or infinity; use null for a missing value",
        )
    if isinstance(value, list):
        return [
            to_json_value(item, field=f"{field}[{i}]", source=source, nonfinite=nonfinite)
            for i, item in enumerate(value)
        ]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ParameterError(
                    "has a key that is not a string", source=source, field=field, value=key,
                    hint="Use text keys",
                )
            out[str(key)] = to_json_value(
                item, field=f"{field}.{key}", source=source, nonfinite=nonfinite
            )
        return out
    module = type(value).__module__
    if module == "numpy" or module.startswith("numpy."):
        import numpy as np

        if isinstance(value, np.ndarray):
            return to_json_value(value.tolist(), field=field, source=source, nonfinite=nonfinite)
        if isinstance(value, np.generic):
            item = value.item()
            if isinstance(item, bool | int | float | str) or item is None:
                return to_json_value(item, field=field, source=source, nonfinite=nonfinite)
    raise ParameterError(
        f"has type {type(value).__name__}, which is not a JSON type", source=source,
        field=field, value=value,
        hint="Use null, true/false, numbers, text, lists or mappings with text keys",
    )


# --------------------------------------------------------------------------------------------
# Provenance
# --------------------------------------------------------------------------------------------


#: Documentation files next to the data; they do not change results, so they are not hashed.
_DOC_SUFFIXES = (".md", ".rst", ".txt")


def _hna_data_files() -> list[tuple[str, bytes]]:
    from importlib.resources import files

    try:
        root = files("hna").joinpath("data")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - always present
        return []
    found: list[tuple[str, bytes]] = []

    def walk(node: Any, prefix: str) -> None:
        if not node.is_dir():
            return
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            name = f"{prefix}{child.name}"
            if child.name.startswith(".") or child.name == "__pycache__":
                continue
            if child.name.endswith(_DOC_SUFFIXES):
                continue
            if child.is_dir():
                walk(child, name + "/")
            elif child.is_file():
                found.append((name, child.read_bytes()))

    walk(root, "hna/data/")
    return found


def data_hash(extra_dirs: Iterable[str | os.PathLike[str]] = ()) -> str:
    """SHA-256 over the bundled data files (``hna/data``) and any ``extra_dirs``.

    Used to decide whether a finished job's inputs changed; ``extra_dirs`` are typically the
    project's ``parameters/services`` and ``parameters/footprints`` folders. Documentation
    (``.md``, ``.rst``, ``.txt``) and hidden files are left out.
    """
    digest = hashlib.sha256()
    entries = _hna_data_files()
    for extra in extra_dirs:
        base = Path(extra)
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            if any(part.startswith(".") for part in path.relative_to(base).parts):
                continue
            if path.name.endswith(_DOC_SUFFIXES):
                continue
            entries.append((f"{base.name}/{path.relative_to(base).as_posix()}", path.read_bytes()))
    for name, content in entries:
        digest.update(name.encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def data_vintages() -> dict[str, Any]:
    """The vintages of the bundled data for the manifest (:func:`hna.data_vintages`), as JSON."""
    import hna

    try:
        return to_json_value(dict(hna.data_vintages()), field="data_vintages", nonfinite="null")
    except Exception as exc:  # noqa: BLE001 - provenance must not stop a run
        return {"_error": f"hna.data_vintages() failed: {exc}"}


# --------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------


def read_manifest(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The manifest of a previous run in ``run_dir``, or None if absent or unreadable."""
    path = Path(run_dir) / MANIFEST_NAME
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("jobs"), list):
        return None
    return data


def write_manifest(run_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write ``manifest.json`` in ``run_dir`` atomically."""
    return atomic_write_json(Path(run_dir) / MANIFEST_NAME, dict(manifest))

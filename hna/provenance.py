"""Provenance: one ``meta`` schema for every output and one table that shows it.

Demand results, commissioning appraisals, designation options and batch jobs all describe
where their numbers came from with :func:`build_meta`, so every report, JSON file and manifest
entry carries the same keys:

``hna_version, code_hash, parameter_hash, data_vintages, seed, draws, service, service_name,
footprint {code, name}, scenario, travel_source`` plus any result-specific keys (``years``,
``quantiles``...). :func:`provenance_table` turns any such dict into the ``Item, Value`` table
reports show.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["META_KEYS", "build_meta", "code_hash", "footprint_ref", "provenance_table"]

#: The keys every meta dict has (values may be None), in display order.
META_KEYS = ("hna_version", "code_hash", "parameter_hash", "data_vintages", "seed", "draws",
             "service", "service_name", "footprint", "scenario", "travel_source")

_LABELS = {
    "hna_version": "hna version", "code_hash": "Code hash (sha256 of hna/*.py)",
    "parameter_hash": "Parameter hash (sha256)", "seed": "Seed", "draws": "Monte Carlo draws",
    "service": "Service", "footprint": "Footprint", "scenario": "Scenario",
    "travel_source": "Travel times", "projection": "Population projection",
}


@lru_cache(maxsize=1)
def code_hash() -> str:
    """The sha256 of hna's own source files (path and content of every ``hna/**/*.py``)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def footprint_ref(footprint: Any) -> dict[str, str] | None:
    """A footprint as ``{code, name}`` from a Footprint-like object, a dict or a code string."""
    if footprint is None:
        return None
    if isinstance(footprint, Mapping):
        code = footprint.get("code", footprint.get("area_code"))
        return {"code": str(code), "name": str(footprint.get("name", code))}
    if isinstance(footprint, str):
        return {"code": footprint, "name": footprint}
    code = footprint.code
    return {"code": str(code), "name": str(getattr(footprint, "name", code))}


def build_meta(*, service: Any = None, footprint: Any = None, seed: int | None = None,
               draws: int | None = None, parameter_hash: str | None = None,
               scenario: str | None = None, travel_source: str | None = None,
               **extra: Any) -> dict[str, Any]:
    """The provenance of one output, in the one schema (see the module docstring).

    Args:
        service: a Service (its ``id`` and ``name`` are used) or a service id.
        footprint: a Footprint, ``{code, name}`` dict or GSS code; stored as ``{code, name}``.
        seed: the root seed of the random streams.
        draws: Monte Carlo draws (0 = central estimate only).
        parameter_hash: sha256 of the parameters and settings used.
        scenario: the scenario id, if any.
        travel_source: where travel times came from, if used.
        **extra: result-specific keys, added after the common ones (they may not replace them).

    Returns:
        A JSON-friendly dict whose first keys are :data:`META_KEYS`.

    Raises:
        ValueError: an extra key repeats a common one.
    """
    import hna

    clash = sorted(set(extra) & set(META_KEYS))
    if clash:
        raise ValueError(f"build_meta: {clash} are common keys; pass them by name")
    sid = getattr(service, "id", service)
    meta: dict[str, Any] = {
        "hna_version": hna.__version__,
        "code_hash": code_hash(),
        "parameter_hash": parameter_hash,
        "data_vintages": hna.data_vintages(),
        "seed": None if seed is None else int(seed),
        "draws": None if draws is None else int(draws),
        "service": sid,
        "service_name": getattr(service, "name", extra.pop("service_name", None)),
        "footprint": footprint_ref(footprint),
        "scenario": scenario,
        "travel_source": travel_source,
    }
    meta.update(extra)
    return meta


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping) and "code" in value:
        name = value.get("name")
        return f"{name} ({value['code']})" if name and name != value["code"] else str(value["code"])
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    return str(value)


def provenance_table(meta: Mapping[str, Any], **extra: Any) -> pd.DataFrame:
    """The ``Item, Value`` provenance table of a report.

    Rows: versions, hashes, seed, draws, service, footprint, scenario, travel source,
    projection, any ``extra`` rows, then one row per bundled dataset.

    Args:
        meta: a dict from :func:`build_meta` (older dicts with a subset of the keys work too).
        **extra: additional ``label=value`` rows.
    """
    rows: list[tuple[str, str]] = []
    for key, label in _LABELS.items():
        if key in meta and meta[key] is not None:
            value = meta[key]
            if key == "service" and meta.get("service_name"):
                value = f"{meta['service_name']} ({value})"
            rows.append((label, _shown(value)))
    rows += [(k, _shown(v)) for k, v in extra.items()]
    vintages = meta.get("data_vintages")
    if vintages is None:
        import hna

        vintages = hna.data_vintages()
    for s in vintages.get("sources", []) if isinstance(vintages, Mapping) else []:
        name = s.get("dataset") or s.get("file")
        sha = f" (sha256 {s['sha256'][:12]})" if s.get("sha256") else ""
        rows.append((f"Data: {name}", f"{s.get('vintage', '')}{sha}"))
    return pd.DataFrame(rows, columns=["Item", "Value"]).astype({"Value": str})

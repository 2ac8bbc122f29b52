"""Compare the headline results of two batch runs (issue: behaviour-preserving refactors).

Usage::

    python scripts/compare_headlines.py BASELINE_DIR NEW_DIR [--rtol 1e-9]

Walks every ``*.json`` job result under ``BASELINE_DIR`` (e.g. a copy of ``outputs/default``
kept from before a change), finds the same relative path under ``NEW_DIR`` and compares the
``headline`` objects key by key: numbers within ``rtol``, everything else equal. Prints one line
per difference and exits 1 if any job's headline differs or is missing, 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path


def _differences(path: str, old: object, new: object, rtol: float) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            if key not in new:
                out.append(f"{path}.{key}: missing in new run")
            elif key not in old:
                continue  # new headline fields are allowed
            else:
                out.extend(_differences(f"{path}.{key}", old[key], new[key], rtol))
        return out
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return [f"{path}: length {len(old)} -> {len(new)}"]
        return [d for i, (a, b) in enumerate(zip(old, new, strict=True))
                for d in _differences(f"{path}[{i}]", a, b, rtol)]
    if isinstance(old, int | float) and isinstance(new, int | float) and not isinstance(old, bool):
        if math.isclose(float(old), float(new), rel_tol=rtol, abs_tol=0.0):
            return []
        return [f"{path}: {old} -> {new}"]
    return [] if old == new else [f"{path}: {old!r} -> {new!r}"]


def compare(baseline: Path, new: Path, rtol: float = 1e-9) -> list[str]:
    """Every difference between the headline results of two run folders, as text lines."""
    problems: list[str] = []
    files = sorted(p for p in baseline.rglob("*.json") if p.name != "manifest.json")
    for old_file in files:
        rel = old_file.relative_to(baseline)
        new_file = new / rel
        old_doc = json.loads(old_file.read_text())
        if "headline" not in old_doc:
            continue
        if not new_file.is_file():
            problems.append(f"{rel}: missing in {new}")
            continue
        new_doc = json.loads(new_file.read_text())
        problems.extend(f"{rel}: {d}" for d in
                        _differences("headline", old_doc["headline"], new_doc.get("headline"), rtol))
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--rtol", type=float, default=1e-9)
    args = parser.parse_args(argv)
    problems = compare(args.baseline, args.new, args.rtol)
    for line in problems:
        print(line)
    n = len([p for p in args.baseline.rglob("*.json") if p.name != "manifest.json"])
    print(f"{n} job results compared: {len(problems)} difference(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

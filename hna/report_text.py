"""Small text helpers shared by :mod:`hna.report` and :mod:`hna.report_index`."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["humanise"]

_ACRONYMS = {"nhs": "NHS", "icb": "ICB", "lad": "LAD", "dsr": "DSR", "ci": "CI", "rrt": "RRT",
             "qipp": "QIPP", "p": "P", "esp": "ESP"}


def humanise(name: str) -> str:
    """A snake_case key as a heading: ``cases_2040_median -> "Cases 2040 median"``.

    Common acronyms are capitalised (NHS, ICB, DSR, CI, ...); ``p_`` becomes "P".
    """
    words = [w for w in re.split(r"[_\s]+", str(name)) if w]
    out = [_ACRONYMS.get(w.lower(), w) for w in words]
    if out and out[0] == out[0].lower():
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)



def _label(code: Any, name: Any) -> str:
    if name and code and name != code:
        return f"{name} ({code})"
    return str(name or code or "")

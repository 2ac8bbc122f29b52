"""Figures for notebooks and reports (matplotlib / geopandas).

Every figure carries a title, labelled axes or legend, and a source note, and is sized to be
readable on an A4 page. Submodules are grouped by topic and re-exported here.
"""

from __future__ import annotations

import importlib
import pkgutil

__all__: list[str] = []
for _mod in pkgutil.iter_modules(__path__):
    _m = importlib.import_module(f"{__name__}.{_mod.name}")
    for _name in getattr(_m, "__all__", []):
        globals()[_name] = getattr(_m, _name)
        __all__.append(_name)

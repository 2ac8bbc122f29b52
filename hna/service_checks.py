"""Checks of a service file that look beyond one field: sources, files, tiers, uncertainty.

:func:`hna.services.load_service` runs them on every service it reads, so ``hna validate``
and every use of a service apply the same rules. They sit below :mod:`hna.services` in the
import graph (they import nothing of the catalogue, demand or tiers), so loading a service does
not loop back through the modules that use it.
"""

from __future__ import annotations

import difflib
from typing import Any

from hna.distributions import check_range
from hna.errors import ParameterError
from hna.parameters import PARAMETERS_DIR, display_path, read_yaml

__all__ = ["SERVICE_PARAMETERS", "TIERS_FILE", "check_files", "check_service_uncertainty",
           "check_sources", "check_tiers"]

#: The tier schemes file whose scheme names services may use.
TIERS_FILE = PARAMETERS_DIR / "tiers.yaml"

#: Names a service's ``uncertainty:`` may use, with what each means.
SERVICE_PARAMETERS: dict[str, str] = {
    "rate_level": "factor on every rate (level of the rates)",
    "case_definition": "factor on every rate (case definition)",
    "annual_change_percent": "annual change of the rates, per cent (trend)",
    "population_variant": "national population projection variant",
}


def check_service_uncertainty(svc: Any, source: str) -> None:
    """Check a service's ``uncertainty:`` entries against what the service can use.

    Raises:
        ParameterError: unknown input name, a factor that can be zero or negative, a trend
            uncertainty without a trend, an annual change that can reach -100% (a negative
            rate), or an unknown population variant; naming the file, field and value.
    """
    from hna.population import PROJECTION_VARIANTS

    for name, d in svc.uncertainty.items():
        field = f"uncertainty.{name}"
        if name not in SERVICE_PARAMETERS:
            raise ParameterError("this service has no such uncertain input", source=source,
                                 field=field, value=name,
                                 hint=f"Use one of {', '.join(SERVICE_PARAMETERS)}")
        if svc.model is not None:
            raise ParameterError("a model service states its uncertainty in its model file",
                                 source=source, field=field, value=name)
        if name == "population_variant":
            if d.distribution != "choice":
                raise ParameterError("the population variant is a choice", source=source,
                                     field=f"{field}.distribution", value=d.distribution)
            bad = [v for v in d.values if v not in PROJECTION_VARIANTS]
            if bad:
                raise ParameterError("unknown population projection variant", source=source,
                                     field=f"{field}.values", value=bad[0],
                                     hint=f"Use {', '.join(PROJECTION_VARIANTS)}")
            continue
        if d.distribution == "choice":
            raise ParameterError("a numeric input needs a continuous distribution",
                                 source=source, field=f"{field}.distribution", value="choice")
        if name in ("rate_level", "case_definition"):
            check_range(d, 0.0, None, default=1.0, field=field, source=source,
                        what="factor on the rates")
        else:
            if svc.projection.method != "trend":
                raise ParameterError("annual_change_percent uncertainty needs projection "
                                     "method trend", source=source, field=field,
                                     value=svc.projection.method,
                                     hint="Set projection: {method: trend, ...}")
            check_range(d, -100.0, None, default=svc.projection.annual_change_percent,
                        field=field, source=source,
                        what="annual change (a change of -100% or less makes a rate negative)")


def check_sources(svc: Any, source: str) -> None:
    """Every ``source:`` id the service uses names an entry of its ``sources`` list."""
    known = {s.id for s in svc.sources}
    for field, sid in svc.source_references():
        if sid not in known:
            near = difflib.get_close_matches(sid, sorted(known), n=1, cutoff=0.6)
            raise ParameterError(
                "missing source: no entry in 'sources' has this id", source=source,
                field=field, value=sid,
                hint=(f"Did you mean '{near[0]}'?" if near else
                      f"Add it to 'sources' (known ids: {', '.join(sorted(known))})"),
            )


def check_files(svc: Any, source: str) -> None:
    """Every file the service refers to (rates, model, history) exists."""
    refs = []
    if svc.rates is not None and svc.rates.file:
        refs.append(("rates.file", svc.rates.file))
    if svc.model is not None:
        refs.append(("model.path", svc.model.path))
    if svc.projection.history:
        refs.append(("projection.history", svc.projection.history))
    for field, rel in refs:
        if not svc.resolve(rel).is_file():
            raise ParameterError("referenced file not found", source=source, field=field,
                                 value=rel, hint="Paths are relative to the service file")


def check_tiers(svc: Any, source: str) -> None:
    """Every tier scheme the service names is a scheme of ``parameters/tiers.yaml``.

    Reads only the scheme names (the file itself is checked by :func:`hna.tiers.load_tier_schemes`),
    so that the service catalogue does not depend on the tier module above it.
    """
    raw = read_yaml(TIERS_FILE, source=display_path(TIERS_FILE))
    known = list((raw.get("schemes") or {}) if isinstance(raw.get("schemes"), dict) else [])
    for i, name in enumerate(svc.tiers.schemes):
        if name not in known:
            raise ParameterError("unknown tier scheme", source=source,
                                 field=f"tiers.schemes[{i}]", value=name,
                                 hint=f"Use one of: {', '.join(known)}")

"""Carter review rules (F001 para 3, para 45, App 10 3a) applied to a service.

Thresholds come from ``carter_rules:`` in ``parameters/tiers.yaml`` (loaded by
:func:`hna.tiers.load_tier_schemes`). Whether a population exactly on a boundary fires is the
tier file's ``edges`` setting, the same rule the tier chart uses (:func:`hna.tiers.above_boundary`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from hna.checks import check_positive
from hna.errors import ParameterError
from hna.tiers import TierConfig, _check_edges, _config, _fmt, above_boundary

__all__ = ["carter_rules"]


def carter_rules(
    planning_population: float | None = None,
    national_caseload: float | None = None,
    *,
    n_providers: int | None = None,
    edges: str | None = None,
    config: TierConfig | str | Path | None = None,
) -> pd.DataFrame:
    """Apply the Carter review rules to a service.

    Rules (thresholds from ``carter_rules`` in the tier file):

    - ``specialised`` (F001 para 3, SI 2002/2375): fires when the planning population is more
      than 1 million: plan collaboratively as a specialised service.
    - ``pan_regional_collaboration`` (F001 App 10, 3a): fires when the planning population is
      more than 6 million: SCGs collaborate across regions; the implied number of centres
      nationally is national population / planning population ("fewer than 9/10").
    - ``national_commissioning`` (F001 para 45): fires when the national caseload is below 400
      a year: candidate for national commissioning from 2-4 providers.
    - ``national_ceiling`` (F001 para 45): fires when the national caseload is 1,000 a year or
      more: not a candidate for national commissioning. Between 400 and 1,000 neither fires
      and the recommendation says the case is borderline.
    - ``national_providers`` (F001 para 45): with ``n_providers``, fires when the provider
      count is outside the usual 2-4.

    Rules whose inputs are not given are left out. Whether a population exactly on the 1m or
    6m boundary fires is the tier file's ``edges`` setting (see :func:`above_boundary`), the
    same rule the tier chart uses.

    Args:
        planning_population: minimum planning population of the service (people).
        national_caseload: expected cases a year in England.
        n_providers: number of providers (optional).
        edges: band-edge rule (default from the tier file).
        config: a loaded :class:`TierConfig` or a tier file path.

    Returns:
        DataFrame ``rule, fired, recommendation, detail, source``.
    """
    tcfg = _config(config)
    cfg = tcfg.carter_rules
    rule_edges = _check_edges(edges or tcfg.edges)
    rows: list[dict[str, Any]] = []
    if planning_population is not None:
        p = check_positive(planning_population, "planning_population")
        fired = above_boundary(p, cfg.specialised_min_population, rule_edges)
        at_least = "at least" if rule_edges == "lower_inclusive" else "more than"
        rows.append({
            "rule": "specialised", "fired": fired,
            "recommendation": (
                f"specialised: plan collaboratively for a population of {at_least} "
                f"{_fmt(cfg.specialised_min_population)}" if fired else
                f"not specialised by the {_fmt(cfg.specialised_min_population)} test: "
                "can be commissioned locally"
            ),
            "detail": f"planning population {_fmt(p)} ({rule_edges}: {at_least} the bound)",
            "source": cfg.specialised_source,
        })
        fired = above_boundary(p, cfg.pan_regional_population, rule_edges)
        centres = cfg.national_population / p
        rows.append({
            "rule": "pan_regional_collaboration", "fired": fired,
            "recommendation": (
                "collaborate across SCG/regional footprints (pan-regional commissioning)" if fired
                else "a single regional/SCG footprint can plan this service"
            ),
            "detail": (
                f"planning population {_fmt(p)} vs {_fmt(cfg.pan_regional_population)}; implies "
                f"about {centres:.1f} centres for a national population of "
                f"{_fmt(cfg.national_population)}"
            ),
            "source": cfg.pan_regional_source,
        })
    if national_caseload is not None:
        try:
            c = float(national_caseload)
        except (TypeError, ValueError):
            raise ParameterError("must be a number of cases a year", field="national_caseload",
                                 value=national_caseload) from None
        if not math.isfinite(c) or c < 0:
            raise ParameterError("must be a non-negative number of cases a year",
                                 field="national_caseload", value=national_caseload)
        lo, hi = cfg.national_caseload_max, cfg.national_caseload_ceiling
        fired = c < lo
        if fired:
            rec = (f"candidate for national commissioning, from {cfg.national_providers_min}-"
                   f"{cfg.national_providers_max} designated providers")
        elif c < hi:
            rec = (f"borderline: above the usual {_fmt(lo)} a year but below the {_fmt(hi)} "
                   "ceiling; national commissioning only by exception")
        else:
            rec = "not a candidate for national commissioning"
        rows.append({
            "rule": "national_commissioning", "fired": fired, "recommendation": rec,
            "detail": f"national caseload {c:,.0f} a year vs {_fmt(lo)}",
            "source": cfg.national_source,
        })
        rows.append({
            "rule": "national_ceiling", "fired": c >= hi,
            "recommendation": (
                f"national caseload at or above {_fmt(hi)} a year: commission regionally or "
                "locally, not nationally" if c >= hi else f"below the {_fmt(hi)} ceiling"
            ),
            "detail": f"national caseload {c:,.0f} a year vs {_fmt(hi)}",
            "source": cfg.national_source,
        })
    if n_providers is not None:
        if isinstance(n_providers, bool) or not isinstance(n_providers, int) or n_providers < 1:
            raise ParameterError("must be a positive whole number", field="n_providers",
                                 value=n_providers)
        lo_n, hi_n = cfg.national_providers_min, cfg.national_providers_max
        outside = not lo_n <= n_providers <= hi_n
        rows.append({
            "rule": "national_providers", "fired": outside,
            "recommendation": (
                f"{n_providers} providers is outside the usual {lo_n}-{hi_n} for a nationally "
                "commissioned service" if outside else
                f"{n_providers} providers is within the usual {lo_n}-{hi_n}"
            ),
            "detail": f"{n_providers} providers",
            "source": cfg.national_source,
        })
    return pd.DataFrame(rows, columns=["rule", "fired", "recommendation", "detail", "source"])

"""A service's uncertain inputs: which ones, their checks, central values and the rate model.

A rate service (``kind: incidence``, or prevalence by rate) may give distributions under
``uncertainty:`` for these inputs (:data:`SERVICE_PARAMETERS`):

- ``rate_level``: a factor on every rate (mean 1), e.g. ``{distribution: gamma, cases: 12885}``
  for rates whose level rests on 12,885 registrations;
- ``case_definition``: a factor on every rate for the case definition (which morphology codes,
  which patients count), e.g. lognormal or triangular around 1;
- ``annual_change_percent``: the trend's annual change in per cent (needs
  ``projection.method: trend``), e.g. normal with the fitted or published standard error;
- ``population_variant``: the national projection (``npp2020`` or ``npp2018``), a choice.

Rates with counts (or ``rates.equivalent_cases``) also carry the gamma uncertainty of each
age-sex rate. A trend fitted to ``projection.history`` gets ``annual_change_percent ~
normal(fit, its standard error)`` unless the file states another distribution.

:func:`rate_model` builds the :class:`hna.incidence.rate_draws.RateModel` that
:func:`hna.incidence.rate_draws.simulate_rate_model` samples.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hna.distributions import Distribution
from hna.errors import ParameterError
from hna.formatting import fmt_list
from hna.incidence.rate_draws import RateModel
from hna.incidence.rate_projection import rate_multipliers, trend_settings

# The checks of a service's ``uncertainty:`` entries live with the other service-file checks
# (hna.service_checks, below hna.services in the import graph); re-exported here.
from hna.service_checks import SERVICE_PARAMETERS, check_service_uncertainty

__all__ = [
    "SERVICE_PARAMETERS",
    "check_service_uncertainty",
    "trend_settings",
    "service_distributions",
    "rate_model",
    "describe_uncertainty",
    "needed_variants",
]

def service_distributions(svc: Any, variant: str | None = None
                          ) -> tuple[dict[str, Distribution], dict[str, Any]]:
    """The distributions to sample and the central values, for a rate service.

    ``variant`` (if given) is the central population variant; it must be among the
    distribution's values when the service has ``population_variant`` uncertainty.
    """
    dists = dict(svc.uncertainty)
    central: dict[str, Any] = {"rate_level": 1.0, "case_definition": 1.0,
                               "annual_change_percent": 0.0}
    trend = trend_settings(svc)
    if trend is not None:
        central["annual_change_percent"] = trend[0]
        if "annual_change_percent" not in dists and trend[3] is not None:
            dists["annual_change_percent"] = Distribution(
                distribution="normal", mean=trend[0], sd=trend[3],
                source=svc.projection.source or "fitted",
                note=f"standard error of the drift fitted to {svc.projection.history}")
    for k in ("rate_level", "case_definition", "annual_change_percent"):
        if k in dists:
            central[k] = float(dists[k].central_value(central[k]))
    pv = dists.get("population_variant")
    if variant is None:
        variant = str(pv.central_value()) if pv is not None else "npp2020"
    elif pv is not None and variant not in pv.values:
        raise ParameterError("the central population variant is not one of the service's "
                             "variants", source=svc._display(),
                             field="uncertainty.population_variant", value=variant)
    central["population_variant"] = variant
    return dists, central


def _cite(svc: Any, source_id: str | None) -> str:
    """A source id as a reader's citation: ``publisher, title (year)`` from the service file."""
    for src in getattr(svc, "sources", None) or []:
        if src.id == source_id:
            return f"{src.publisher}, {src.title} ({src.year})"
    return str(source_id).replace("_", " ")  # e.g. "fitted" (a drift fitted by hna)


def describe_uncertainty(svc: Any, model: RateModel, vary: set[str] | None = None
                         ) -> list[str]:
    """One line per source of uncertainty in the intervals (for reports and ``meta``).

    Each line is ``<input>: <what is sampled>; source: <citation>``: the input's name as in
    the service file (``rate_level``, ``annual_change_percent``, ... or ``Poisson``), so the
    text before the first colon is machine-readable, then the distribution and the source
    cited as publisher, title and year from the file's ``sources:`` (never a bare source id).
    Reports replace the name with its label (:data:`hna.sensitivity.LABELS`).
    """
    vary = set(model.components()) if vary is None else vary
    out = []
    if "poisson" in vary:
        out.append("Poisson: year-to-year chance variation in the number of cases, given the "
                   "rates")
    if "rates" in vary:
        basis = (f"as if from {svc.rates.equivalent_cases:,.0f} cases"
                 if svc.rates.equivalent_cases else "the counts in the service file")
        line = ("rates: each age-sex rate from its gamma posterior given the registry "
                f"counts behind it ({basis}); source: {_cite(svc, svc.rates.source)}")
        derived = [s for s in svc.sources if s.id in set(svc.rates.derived_from or [])]
        if derived:
            line += "; derived with " + fmt_list(f"{s.publisher} ({s.year})" for s in derived)
        out.append(line)
    for k, d in model.dists.items():
        if k in vary:
            c = model.central.get(k)
            text = d.describe(c if isinstance(c, float) else None)
            why = f"source {d.source}" if d.source else f"assumption: {d.assumption}"
            if text.endswith(why):  # Distribution.describe: "<family> (<body>); <why>"
                text = text[: -len(why)].rstrip("; ")
            cited = f"source: {_cite(svc, d.source)}" if d.source else why
            what = SERVICE_PARAMETERS[k].split(" (")[0]
            out.append(f"{k}: {what}, {text}; {cited}")
    return out


def _exposure(svc: Any, pop: pd.DataFrame, years: list[int], variant: str,
              trend: bool, areas: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Array ``(years, cells, areas)`` of population x scope x rate x fixed multiplier."""
    from hna.services import scope_weights, service_rates

    rates = service_rates(svc)
    w = scope_weights(svc)
    rt = rates[["sex", "age_band", "rate"]].copy()
    rt["scope"] = [w[(s, b)] for s, b in zip(rt["sex"].astype(str), rt["age_band"].astype(str),
                                              strict=True)]
    rt["ci"] = np.arange(len(rt))
    cells = pop[pop["year"].isin(years)].merge(rt, on=["sex", "age_band"], how="inner")
    if trend or svc.projection.method == "constant":
        cells["multiplier"] = 1.0
    else:
        mult = rate_multipliers(svc, years, variant)
        cells = cells.merge(mult, on=["year", "sex", "age_band"], how="left")
    cells["value"] = (cells["population"] * cells["scope"] * cells["rate"]
                      * cells["multiplier"])
    ci = cells["ci"].to_numpy()
    yi = pd.Index(years).get_indexer(cells["year"])
    ai = pd.Index(areas).get_indexer(cells["area_code"])
    arr = np.zeros((len(years), len(rates), len(areas)))
    np.add.at(arr, (yi, ci, ai), cells["value"].to_numpy())
    return arr, rates


def rate_model(svc: Any, pops: dict[str, pd.DataFrame], years: list[int], areas: list[str],
               variant: str | None = None) -> RateModel:
    """Build the :class:`RateModel` of a rate service for the footprints' populations.

    Args:
        svc: the :class:`hna.services.Service`.
        pops: projected population of the footprints for each variant needed.
        years: the years (output order).
        areas: the footprint codes (output order).
        variant: the central population variant (default from the service, else npp2020).
    """
    dists, central = service_distributions(svc, variant)
    trend = trend_settings(svc)
    exposure, shapes = {}, None
    for v, pop in pops.items():
        exposure[v], rates = _exposure(svc, pop, years, v, trend is not None, areas)
        if "cases" in rates.columns:
            shapes = rates["cases"].to_numpy(dtype=float)
    missing = {central["population_variant"]} | set(
        dists["population_variant"].values if "population_variant" in dists else [])
    missing -= set(exposure)
    if missing:
        raise ParameterError("population for this variant was not projected",
                             field="variant", value=sorted(missing)[0])
    return RateModel(areas=list(areas), years=list(years), exposure=exposure, shapes=shapes,
                     dists=dists, central=central,
                     anchor=None if trend is None else trend[1],
                     damping=1.0 if trend is None else trend[2], namespace=svc.id)


def needed_variants(svc: Any, variant: str | None) -> list[str]:
    """The population variants a run of ``svc`` must project (central first)."""
    _, central = service_distributions(svc, variant)
    out = [central["population_variant"]]
    pv = svc.uncertainty.get("population_variant")
    if pv is not None:
        out += [str(v) for v in pv.values if v not in out]
    return out


"""Fingertips-style comparison: each footprint's standardised rate against England.

For services with observed counts by footprint (``area_code, age_band, cases, person_years``),
each footprint's directly standardised rate (DSR, ESP2013, Dobson 95% limits:
:func:`hna.rates.dsr`) is set against England's DSR with the marker Fingertips uses for
"compared with England" (PHE Technical Guide, "Assessing the statistical significance"): a
footprint is *higher* when its lower 95% limit is above England's value, *lower* when its upper
limit is below it, and *similar* otherwise. A DSR from fewer than 10 events is not reliable and is
not compared.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hna import formatting as fmt
from hna.codes import ENGLAND
from hna.errors import DataError

__all__ = ["observed_by_area", "dsr_comparison", "significance"]


def observed_by_area(service) -> pd.DataFrame | None:
    """The service's observed counts by footprint, or None when it has none by area.

    Rates published for one population (e.g. England only) are not footprint observations:
    the comparison needs counts for each footprint and for England.
    """
    from hna.services import service_rates

    if service.rates is None or not service.rates.counts:
        return None
    observed = service_rates(service)
    if "area_code" not in observed or observed["area_code"].nunique() < 2:
        return None
    return observed


def significance(value: float, lower: float, upper: float, england: float) -> str:
    """Fingertips' marker of a footprint's rate against England's value (95% limits)."""
    if any(fmt.is_missing(v) for v in (value, lower, upper, england)):
        return "Not compared (fewer than 10 events)"
    if lower > england:
        return "Higher than England"
    if upper < england:
        return "Lower than England"
    return "Similar to England"


def dsr_comparison(observed: pd.DataFrame, names: Mapping[str, str] | None = None, *,
                   count: str = "cases", population: str = "person_years") -> pd.DataFrame:
    """Each footprint's DSR per 100,000 with 95% limits and its marker against England.

    Args:
        observed: one row per ``area_code`` x ``age_band`` (x ``sex``, summed here) with observed
            ``count`` and ``population`` columns; England (E92000001) must be among the areas
            (it is not built by adding footprints, which may overlap).
        names: area code -> name for the table.
        count: column of observed events.
        population: column of person-years.

    Returns:
        ``Footprint, Code, Observed cases, DSR per 100,000, 95% interval, Compared with
        England``; England first.

    Raises:
        DataError: England is not in ``observed``.
    """
    from hna.rates import dsr

    if ENGLAND not in set(observed["area_code"]):
        raise DataError("the comparison needs England's observed counts", field="area_code",
                        hint=f"add rows for {ENGLAND} (England) to the observed counts")
    by_band = (observed.groupby(["area_code", "age_band"], observed=True, as_index=False)
               [[count, population]].sum())
    rates = dsr(by_band, count, population, by="area_code", missing="zero")
    eng = rates.loc[rates["area_code"] == ENGLAND, "value"].iloc[0]
    names = dict(names or {})
    names.setdefault(ENGLAND, "England")
    rates = pd.concat([rates[rates["area_code"] == ENGLAND], rates[rates["area_code"] != ENGLAND]])
    return pd.DataFrame({
        "Footprint": [names.get(c, c) for c in rates["area_code"]],
        "Code": list(rates["area_code"]),
        "Observed cases": rates["total_count"].round(0).astype(int).to_numpy(),
        "DSR per 100,000 (1 d.p.)": [fmt.fmt_rate(v) for v in rates["value"]],
        "95% interval": [fmt.fmt_interval(lo, hi, "rate") for lo, hi in
                         zip(rates["lowercl"], rates["uppercl"], strict=True)],
        "Compared with England": [
            "England (reference)" if c == ENGLAND else significance(v, lo, hi, eng)
            for c, v, lo, hi in zip(rates["area_code"], rates["value"], rates["lowercl"],
                                    rates["uppercl"], strict=True)],
    })

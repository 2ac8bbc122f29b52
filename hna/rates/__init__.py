"""Crude and standardised rates, ratios and proportions with confidence intervals (PHE methods).

The statistics and confidence-interval methods are those used by OHID Fingertips and the R
package PHEindicatormethods (``phe_rate``, ``calculate_dsr``, ``calculate_ISRatio``,
``calculate_ISRate``, ``phe_proportion``), described in the PHE/OHID *Public Health Technical
Guidance*: "Confidence intervals" and "Common public health statistics and their confidence
intervals" (APHO Technical Briefing 3, Eayres 2008). Formulas, with their sources, are set out
in ``docs/methods/rates.md``.

Every function takes a tidy DataFrame and returns a DataFrame with one row per group of the
``by`` columns (``by=None``: one row for the whole table). The output holds the ``by`` columns,
the summed inputs, ``value``, the confidence limits, ``confidence`` (e.g. ``"95%"``),
``statistic`` (e.g. ``"rate per 100000"``) and ``method``. With ``confidence=0.95`` (default) or
any single level in [0.9, 1] the limits are ``lowercl``/``uppercl``; with the pair
``(0.95, 0.998)`` they are ``lower95_0cl, upper95_0cl, lower99_8cl, upper99_8cl``.

Units: ``count`` columns are numbers of events; ``population`` columns are person-years at risk
(a mid-year population for one year). Rates are events per person-year times ``multiplier``
(per 100,000 by default). All computation is vectorised over groups (numpy ``bincount`` on
group codes); there are no Python loops over rows or groups.

Confidence-interval methods:

* counts below 10: exact Poisson limits from the chi-square distribution (Garwood 1936;
  Armitage & Berry 2002), ``chi2.ppf((1-c)/2, 2x)/2`` and ``chi2.ppf((1+c)/2, 2x+2)/2``;
* counts of 10 or more: Byar's approximation (Breslow & Day 1987, vol. II, p. 69),
  ``x(1 - 1/(9x) - z/(3 sqrt x))^3`` and ``(x+1)(1 - 1/(9(x+1)) + z/(3 sqrt(x+1)))^3``;
* directly standardised rates: Dobson et al. (1991) *Stat Med* 10:457-62, with Byar's limits on
  the total count; not published (NA) when the total count is below 10;
* proportions: Wilson (1927) *J Am Stat Assoc* 22:209-12 score interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.rates.dsr import DSR_MIN_COUNT, dsr
from hna.rates.inputs import (
    _band_codes,
    _band_vector,
    _check_complete,
    _describe_group,
    _finish,
    _fmt_number,
    _groups,
    _not_above,
    _numeric,
    _parse_multiplier,
    _sum,
    validate_call,
)
from hna.rates.limits import (
    EXACT_BELOW,
    _poisson_limits,
    byars_lower,
    byars_upper,
    esp2013_weights,
    exact_lower,
    exact_upper,
    wilson_lower,
    wilson_upper,
)

__all__ = [
    "crude_rate",
    "dsr",
    "isr",
    "israte",
    "proportion",
    "esp2013_weights",
    "byars_lower",
    "byars_upper",
    "exact_lower",
    "exact_upper",
    "wilson_lower",
    "wilson_upper",
    "EXACT_BELOW",
    "DSR_MIN_COUNT",
]



# --------------------------------------------------------------------------------------------
# Public statistics
# --------------------------------------------------------------------------------------------


def crude_rate(
    data: pd.DataFrame,
    count: str,
    population: str,
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 100_000,
    *,
    missing: str = "error",
) -> pd.DataFrame:
    """Crude rate per ``multiplier`` person-years with exact or Byar's confidence limits.

    Counts and populations are summed within each ``by`` group, then
    ``value = O / N * multiplier``. Limits are ``O_L / N * multiplier`` and
    ``O_U / N * multiplier`` where ``O_L, O_U`` are exact Poisson (chi-square) limits for the
    count when ``O < 10`` and Byar's approximation when ``O >= 10`` (PHEindicatormethods
    ``phe_rate``; PHE Technical Guide "Confidence intervals", appendices 1-2; Byar 1977 in
    Breslow & Day 1987; Armitage & Berry 2002). A count may exceed its population: the rate is
    then events per person-year above 1 (e.g. repeat admissions), as ``phe_rate`` allows.

    Args:
        data: one row per observation unit (e.g. area x sex x age band).
        count: column of event counts (events, >= 0, finite).
        population: column of populations at risk (person-years, > 0).
        by: grouping column(s); None = one rate for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the rate is expressed per this many person-years (default 100,000).
        missing: ``"error"`` (default) refuses NA counts or populations; ``"na"`` gives a
            group holding any NA an NA value and limits (``phe_rate``'s behaviour).

    Returns:
        One row per group: the ``by`` columns, the summed ``count`` and ``population`` columns
        (same names), ``value``, the limits, ``confidence``, ``statistic`` ("rate per 100000")
        and ``method`` ("Exact" or "Byars", per row; None where the count is NA).

    Raises:
        DataError: missing/non-numeric columns, NA counts or populations (unless
            ``missing="na"``), negative counts, zero/negative populations, an empty table.
        ParameterError: confidence, multiplier or ``missing`` out of range, bad ``by``.
    """
    fname = "crude_rate"
    call = validate_call(fname, data, confidence=confidence, multiplier=multiplier, by=by,
                         reserved=[count, population], missing=missing)
    allow_na = call.missing == "na"
    x = _numeric(data, count, "count", fname, allow_na=allow_na)
    n = _numeric(data, population, "population", fname, positive=True, allow_na=allow_na)
    codes, keys = _groups(data, call.by)
    obs = _sum(codes, x, len(keys))
    pop = _sum(codes, n, len(keys))
    limits = []
    for c in call.conf.levels:
        lo, hi = _poisson_limits(obs, c)
        limits.append((lo / pop * call.mult, hi / pop * call.mult))
    return _finish(
        keys, {count: obs, population: pop, "value": obs / pop * call.mult}, call.conf, limits,
        f"rate per {_fmt_number(call.mult)}", _count_method(obs),
    )


def _count_method(obs: np.ndarray) -> np.ndarray:
    """``Exact`` below :data:`EXACT_BELOW` events, ``Byars`` at or above, None for NA."""
    method = np.where(obs < EXACT_BELOW, "Exact", "Byars").astype(object)
    method[np.isnan(obs)] = None
    return method


def _isr_call(fname: str, data: Any, count: str, population: str, reference_count: Any,
              reference_population: Any, by: Any, settings: tuple[Any, ...]) -> Any:
    """The common prologue for :func:`isr` and :func:`israte`."""
    confidence, multiplier, band, missing = settings
    ref_cols = [r for r in (reference_count, reference_population) if isinstance(r, str)]
    return validate_call(fname, data, confidence=confidence, multiplier=multiplier, by=by,
                         reserved=[count, population, band, *ref_cols], missing=missing,
                         accepts=frozenset({"zero"}))


def _isr_core(
    fname: str,
    data: pd.DataFrame,
    count: str,
    population: str,
    reference_count: Any,
    reference_population: Any,
    call: Any,
    band: str,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate ISR inputs; return keys, observed, expected, row codes, ref counts, ref pops.

    As PHEindicatormethods ``calculate_ISRatio``: a band with a local population of zero adds
    nothing to the expected count; with ``missing="zero"``, NA local counts and populations
    count as zero.
    """
    allow_na = call.missing == "zero"
    x = np.nan_to_num(_numeric(data, count, "count", fname, allow_na=allow_na), nan=0.0)
    n = np.nan_to_num(_numeric(data, population, "population", fname, allow_na=allow_na),
                      nan=0.0)

    vectors = {}
    for arg, ref, positive in (
        ("reference_count", reference_count, False),
        ("reference_population", reference_population, True),
    ):
        if not isinstance(ref, str):
            vectors[arg] = _band_vector(ref, arg, positive=positive)
    if len(vectors) == 2:
        a, b = vectors["reference_count"], vectors["reference_population"]
        if set(a.index) != set(b.index):
            raise ParameterError(
                "reference_count and reference_population must be keyed by the same bands",
                field="reference_population",
                value=sorted(set(a.index) ^ set(b.index)),
            )
    if vectors:
        labels = next(iter(vectors.values())).index
        bcodes, labels = _band_codes(data, band, labels, fname, "reference bands")
    else:
        bcodes, labels = _band_codes(data, band, None, fname, "data")

    def ref_values(arg: str, ref: Any, positive: bool) -> np.ndarray:
        if isinstance(ref, str):
            return _numeric(data, ref, arg, fname, positive=positive)
        return vectors[arg].reindex(labels).to_numpy()[bcodes]

    xr = ref_values("reference_count", reference_count, False)
    nr = ref_values("reference_population", reference_population, True)

    codes, keys = _groups(data, call.by)
    _check_complete(codes, bcodes, keys, labels, band, fname)
    observed = _sum(codes, x, len(keys))
    expected = _sum(codes, xr / nr * n, len(keys))
    if (expected <= 0).any():
        g = int(np.flatnonzero(expected <= 0)[0])
        raise DataError(
            f"expected count is zero in {_describe_group(keys, g)}",
            source=f"{fname}() data", field=str(reference_count),
            hint="the reference population has no events in this group's bands",
        )
    return keys, observed, expected, codes, xr, nr


def isr(  # noqa: PLR0913 - the arguments of PHEindicatormethods calculate_ISRatio
    data: pd.DataFrame,
    count: str,
    population: str,
    reference_count: str | pd.Series | Mapping[str, float],
    reference_population: str | pd.Series | Mapping[str, float],
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 1,
    *,
    band: str = "age_band",
    missing: str = "error",
) -> pd.DataFrame:
    """Indirectly standardised ratio (observed / expected, e.g. an SMR) with confidence limits.

    ``E = sum(n_i * X_i / N_i)`` over the bands of a group, where ``n_i`` is the local
    population and ``X_i / N_i`` the reference rate; ``value = O / E * multiplier`` with
    ``O = sum(O_i)``; limits ``O_L / E * multiplier`` and ``O_U / E * multiplier`` with exact
    Poisson limits for ``O < 10`` and Byar's otherwise (PHEindicatormethods
    ``calculate_ISRatio``; PHE Technical Guide "Common public health statistics and their
    confidence intervals"; Breslow & Day 1987).

    Args:
        data: one row per group and band (zero-count bands as explicit rows).
        count: column of observed events per band (events, >= 0).
        population: column of local populations per band (person-years, >= 0).
        reference_count: reference events per band: a column name in ``data`` or a pandas
            Series (or mapping) keyed by band.
        reference_population: reference populations per band (person-years, > 0): a column
            name or a Series keyed by band.
        by: grouping column(s); None = one ratio for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the reference value of the ratio (1 by default; 100 for SMRs as
            percentages), as PHEindicatormethods ``refvalue``.
        band: the column of band labels (default ``age_band``).
        missing: ``"error"`` (default) refuses NA local counts and populations; ``"zero"``
            counts them as zero (``calculate_ISRatio``'s rule). A local population of zero is
            always accepted and adds nothing to the expected count.

    Returns:
        One row per group: the ``by`` columns, ``observed``, ``expected`` (events), ``value``,
        the limits, ``confidence``, ``statistic`` ("indirectly standardised ratio x 1") and
        ``method`` ("Exact" or "Byars", per row).

    Raises:
        DataError: as :func:`dsr`, plus reference counts above reference populations and
            groups whose expected count is zero.
        ParameterError: bad reference vectors, confidence, multiplier or ``by``.
    """
    fname = "isr"
    call = _isr_call(fname, data, count, population, reference_count, reference_population,
                     by, (confidence, multiplier, band, missing))
    conf, mult = call.conf, call.mult
    keys, obs, exp, *_ = _isr_core(fname, data, count, population, reference_count,
                                   reference_population, call, band)
    limits = []
    for c in conf.levels:
        lo, hi = _poisson_limits(obs, c)
        limits.append((lo / exp * mult, hi / exp * mult))
    return _finish(
        keys, {"observed": obs, "expected": exp, "value": obs / exp * mult}, conf, limits,
        f"indirectly standardised ratio x {_fmt_number(mult)}",
        np.where(obs < EXACT_BELOW, "Exact", "Byars"),
    )


def israte(  # noqa: PLR0913 - the arguments of PHEindicatormethods calculate_ISRate
    data: pd.DataFrame,
    count: str,
    population: str,
    reference_count: str | pd.Series | Mapping[str, float],
    reference_population: str | pd.Series | Mapping[str, float],
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 100_000,
    *,
    reference_rate: float | None = None,
    band: str = "age_band",
    missing: str = "error",
) -> pd.DataFrame:
    """Indirectly standardised rate: the ISR times the reference crude rate.

    ``value = O / E * R`` where ``R`` is the reference crude rate per ``multiplier``
    person-years, by default ``R = sum(X_i) / sum(N_i) * multiplier`` over the group's bands
    (PHEindicatormethods ``calculate_ISRate``); limits ``O_L / E * R`` and ``O_U / E * R``
    (exact below 10 observed, Byar's otherwise). See :func:`isr` for ``E``.

    Args:
        data: one row per group and band (zero-count bands as explicit rows).
        count: column of observed events per band (events, >= 0).
        population: column of local populations per band (person-years, > 0).
        reference_count: reference events per band: column name or Series keyed by band.
        reference_population: reference person-years per band: column name or Series.
        by: grouping column(s); None = one rate for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the rate is expressed per this many person-years (default 100,000).
        reference_rate: the reference crude rate in events per person-year (NOT scaled by
            ``multiplier``), overriding the rate computed from the reference columns, e.g. the
            national rate over all ages when the reference bands do not cover it.
        band: the column of band labels (default ``age_band``).
        missing: as :func:`isr`.

    Returns:
        One row per group: the ``by`` columns, ``observed``, ``expected``, ``ref_rate`` (per
        ``multiplier``), ``value``, the limits, ``confidence``, ``statistic``
        ("indirectly standardised rate per 100000") and ``method`` ("Exact"/"Byars").

    Raises:
        DataError: as :func:`isr`.
        ParameterError: as :func:`isr`, and a non-positive ``reference_rate``.
    """
    fname = "israte"
    call = _isr_call(fname, data, count, population, reference_count, reference_population,
                     by, (confidence, multiplier, band, missing))
    conf, mult = call.conf, call.mult
    if reference_rate is not None:
        rate = _parse_multiplier(reference_rate, "reference_rate")
    keys, obs, exp, codes, xr, nr = _isr_core(fname, data, count, population, reference_count,
                                              reference_population, call, band)
    if reference_rate is None:
        ref = _sum(codes, xr, len(keys)) / _sum(codes, nr, len(keys)) * mult
    else:
        ref = np.full(len(keys), rate * mult)
    limits = []
    for c in conf.levels:
        lo, hi = _poisson_limits(obs, c)
        limits.append((lo / exp * ref, hi / exp * ref))
    return _finish(
        keys,
        {"observed": obs, "expected": exp, "ref_rate": ref, "value": obs / exp * ref},
        conf, limits, f"indirectly standardised rate per {_fmt_number(mult)}",
        np.where(obs < EXACT_BELOW, "Exact", "Byars"),
    )


def proportion(
    data: pd.DataFrame,
    numerator: str,
    denominator: str,
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] | None = 0.95,
    multiplier: float = 1,
    *,
    missing: str = "error",
) -> pd.DataFrame:
    """Proportion with Wilson score confidence limits (as PHEindicatormethods ``phe_proportion``).

    Numerators ``x`` and denominators ``n`` are summed within each group;
    ``value = x / n * multiplier``; limits are the Wilson (1927) score interval
    ``(2x + z^2 -/+ z sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2))`` times ``multiplier`` (PHE
    Technical Guide "Confidence intervals", appendix 3; Newcombe & Altman 2000). The interval
    stays within [0, 1]: 0 successes give a lower limit of 0 and ``x = n`` an upper limit of 1.

    Args:
        data: one row per observation unit.
        numerator: column of cases meeting the condition (>= 0).
        denominator: column of cases in the sample (> 0, >= numerator).
        by: grouping column(s); None = one proportion for the whole table.
        confidence: a level in [0.9, 1] (default 0.95), the pair (0.95, 0.998), or None for
            the value only (no limit columns; ``phe_proportion(confidence = NA)``).
        multiplier: 1 (default) for a proportion, 100 for a percentage.
        missing: ``"error"`` (default) or ``"na"``: a group holding an NA numerator or
            denominator gets NA value and limits, as ``phe_proportion``.

    Returns:
        One row per group: the ``by`` columns, the summed ``numerator`` and ``denominator``
        columns, ``value``, the limits (unless ``confidence=None``), ``confidence`` (None
        without limits), ``statistic`` ("proportion of 1" or "percentage") and ``method``
        ("Wilson"; None without limits).

    Raises:
        DataError: missing or non-numeric columns, NA values (unless ``missing="na"``),
            negative numerators, zero/negative denominators, numerators above denominators.
        ParameterError: confidence, multiplier or ``missing`` out of range, bad ``by``.
    """
    fname = "proportion"
    call = validate_call(fname, data, confidence=confidence, multiplier=multiplier, by=by,
                         reserved=[numerator, denominator], missing=missing,
                         accepts=frozenset({"na", "no_confidence"}))
    allow_na = call.missing == "na"
    x = _numeric(data, numerator, "numerator", fname, allow_na=allow_na)
    n = _numeric(data, denominator, "denominator", fname, positive=True, allow_na=allow_na)
    _not_above(data, x, n, numerator, denominator, fname)
    codes, keys = _groups(data, call.by)
    num = _sum(codes, x, len(keys))
    den = _sum(codes, n, len(keys))
    mult = call.mult
    limits = [] if call.conf is None else [
        (wilson_lower(num, den, c) * mult, wilson_upper(num, den, c) * mult)
        for c in call.conf.levels
    ]
    stat = "percentage" if mult == 100 else f"proportion of {_fmt_number(mult)}"
    return _finish(
        keys, {numerator: num, denominator: den, "value": num / den * mult}, call.conf, limits,
        stat, "Wilson" if call.conf is not None else None,
    )

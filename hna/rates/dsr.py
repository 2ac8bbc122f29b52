"""Directly standardised rates with Dobson confidence limits (PHEindicatormethods ``calculate_dsr``).

Two cases, as in PHEindicatormethods 2.1 (``independent_events = TRUE`` or ``FALSE``):

* independent events (default): each row holds a group's count of events and population in one
  band;
* non-independent events (``event_frequency=`` a column): each row holds, for one group, band
  and event frequency ``f``, the number of people who had ``f`` events. The rate counts
  ``f x`` events, and the Dobson variance is the frequency-weighted sum
  ``var = sum_f f^2 var_f`` of the variances of the per-frequency rates, which widens the
  interval when the same people have several events (PHEindicatormethods ``calculate_dsr``
  with ``independent_events = FALSE``, ``eventfreq``, ``ageband``; PHE Fingertips technical
  guidance, "DSRs for non-independent events").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BANDS
from hna.errors import DataError, ParameterError
from hna.rates.inputs import (
    Call,
    _band_codes,
    _band_vector,
    _check_column_name,
    _check_complete,
    _describe_group,
    _finish,
    _fmt_number,
    _groups,
    _norm_labels,
    _numeric,
    _sum,
    validate_call,
)
from hna.rates.limits import _esp2013_cached, byars_lower, byars_upper

__all__ = ["DSR_MIN_COUNT", "dsr"]

#: Directly standardised rates with a total count below this are not published (NA).
DSR_MIN_COUNT = 10

_ESP2013 = "esp2013"


def dsr(  # noqa: PLR0913 - the arguments of PHEindicatormethods' calculate_dsr
    data: pd.DataFrame,
    count: str,
    population: str,
    standard: str | pd.Series | Mapping[str, float] = _ESP2013,
    by: str | Sequence[str] | None = None,
    confidence: float | tuple[float, float] = 0.95,
    multiplier: float = 100_000,
    *,
    band: str = "age_band",
    missing: str = "error",
    event_frequency: str | None = None,
) -> pd.DataFrame:
    """Directly standardised rate with Dobson confidence limits (as PHEindicatormethods).

    Within each group, with band counts ``O_i``, populations ``n_i`` and standard weights
    ``w_i``: ``DSR = sum(w_i O_i / n_i) / sum(w_i) * multiplier``,
    ``var(DSR) = sum(w_i^2 O_i / n_i^2) / sum(w_i)^2`` (per person-year squared) and, with
    ``O = sum(O_i)`` and Byar's limits ``O_L, O_U`` for ``O``,
    ``limit = DSR + sqrt(var(DSR) / O) * (O_L|U - O) * multiplier`` (Dobson A, Kuulasmaa K,
    Eberle E, Scherer J 1991, *Stat Med* 10:457-62; PHE Technical Guide "Confidence intervals",
    appendix 4; PHEindicatormethods ``calculate_dsr``). When ``O < 10`` the DSR is not reliable:
    value and limits are NA and ``statistic`` says why. With ``event_frequency`` the events are
    not independent: see the module docstring for the variance.

    Args:
        data: one row per group and band (and event frequency); bands with no events must be
            rows with count 0.
        count: column of event counts per band (events, >= 0); with ``event_frequency``, the
            number of people with that many events.
        population: column of populations per band (person-years, > 0).
        standard: ``"esp2013"`` (default; the bundled 19-band 2013 European Standard
            Population, see :func:`hna.rates.esp2013_weights`), a column name in ``data``
            holding each row's standard population, or a pandas Series (or mapping) of weights
            keyed by band.
        by: grouping column(s); None = one DSR for the whole table.
        confidence: a level in [0.9, 1] (default 0.95) or the pair (0.95, 0.998).
        multiplier: the rate is expressed per this many person-years (default 100,000).
        band: the column of band labels (default ``age_band``). With ``"esp2013"`` it must
            hold the 19 ESP2013 labels (``0-4`` ... ``90+``).
        missing: ``"error"`` (default) refuses NA counts; ``"zero"`` counts them as zero, as
            ``calculate_dsr`` does. NA populations are always refused.
        event_frequency: column of event frequencies (events per person, > 0) for
            non-independent events; None (default) = independent events.

    Returns:
        One row per group: the ``by`` columns, ``total_count`` (events), ``total_pop``,
        ``value`` (per ``multiplier`` person-years), the limits, ``confidence``, ``statistic``
        ("dsr per 100000", or the suppression reason) and ``method`` ("Dobson", or "Dobson,
        with confidence adjusted for non-independent events").

    Raises:
        DataError: missing/non-numeric columns, NA counts (unless ``missing="zero"``), negative
            counts, NA/zero populations, unknown bands, groups with a missing or duplicated
            band, and (non-independent) rows of one band with different populations or
            standard weights.
        ParameterError: bad standard, confidence, multiplier, ``missing`` or ``by``.
    """
    fname = "dsr"
    std_is_column = isinstance(standard, str) and standard != _ESP2013
    reserved = [count, population, band] + ([standard] if std_is_column else [])
    if event_frequency is not None:
        _check_column_name(data, event_frequency, "event_frequency", fname)
        reserved.append(event_frequency)
    call = validate_call(fname, data, confidence=confidence, multiplier=multiplier, by=by,
                         reserved=reserved, missing=missing, accepts=frozenset({"zero"}))
    x = _numeric(data, count, "count", fname, allow_na=call.missing == "zero")
    cols = {"x": np.nan_to_num(x, nan=0.0),
            "n": _numeric(data, population, "population", fname, positive=True)}
    cols["w"], bcodes, labels = _standard(data, standard, std_is_column, band, fname)
    codes, keys = _groups(data, call.by)
    if event_frequency is None:
        _check_complete(codes, bcodes, keys, labels, band, fname)
        sums = _independent(codes, cols["x"], cols["n"], cols["w"], len(keys))
        method = "Dobson"
    else:
        cols["f"] = _numeric(data, event_frequency, "event_frequency", fname, positive=True)
        sums = _non_independent(codes, bcodes, keys, labels, cols, band, fname)
        method = "Dobson, with confidence adjusted for non-independent events"
    return _dobson(keys, sums, call, method, str(standard))


def _standard(data: pd.DataFrame, standard: Any, std_is_column: bool, band: str,
              fname: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Each row's standard weight, band code and the band labels."""
    if std_is_column:
        w = _numeric(data, standard, "standard", fname)
        bcodes, labels = _band_codes(data, band, None, fname, "data")
        return w, bcodes, labels
    if isinstance(standard, str):  # "esp2013"
        vec = pd.Series(_esp2013_cached().to_numpy(), index=_norm_labels(AGE_BANDS))
        what = "2013 European Standard Population (19 bands)"
    elif isinstance(standard, pd.Series | Mapping):
        vec = _band_vector(standard, "standard", positive=False)
        what = "standard population"
    else:
        raise ParameterError(
            "standard must be 'esp2013', a column name in data or a pandas Series keyed by "
            "band", field="standard", value=type(standard).__name__,
        )
    bcodes, labels = _band_codes(data, band, vec.index, fname, what)
    return vec.to_numpy()[bcodes], bcodes, labels


def _independent(codes: np.ndarray, x: np.ndarray, n: np.ndarray, w: np.ndarray,
                 n_groups: int) -> dict[str, np.ndarray]:
    ratio = w / n
    sum_w = _sum(codes, w, n_groups)
    return {
        "sum_w": sum_w, "obs": _sum(codes, x, n_groups), "pop": _sum(codes, n, n_groups),
        "weighted": _sum(codes, x * ratio, n_groups),
        "var": _sum(codes, x * ratio * ratio, n_groups) / (sum_w * sum_w),
    }


def _non_independent(codes: np.ndarray, bcodes: np.ndarray, keys: pd.DataFrame,
                     labels: pd.Index, cols: dict[str, np.ndarray], band: str,
                     fname: str) -> dict[str, np.ndarray]:
    """Sums for non-independent events (PHEindicatormethods ``calculate_dsr``, FALSE branch).

    ``var = sum_f f^2 * sum_i(x_if w_i^2 / n_i^2) / (sum_i w_i)^2`` where the inner sums run
    over the bands present for frequency ``f``; events ``O_i = sum_f f x_if``.
    """
    x, n, w, f = cols["x"], cols["n"], cols["w"], cols["f"]
    n_groups, n_bands = len(keys), len(labels)
    gb = codes * n_bands + bcodes
    frame = pd.DataFrame({"gb": gb, "n": n, "w": w})
    spread = frame.groupby("gb").agg(n=("n", "nunique"), w=("w", "nunique"))
    if (spread.to_numpy() > 1).any():
        bad = int(spread.index[(spread.to_numpy() > 1).any(axis=1)][0])
        raise DataError(
            f"{_describe_group(keys, bad // n_bands)} has rows for band {labels[bad % n_bands]!r} "
            "with different populations or standard weights", source=f"{fname}() data",
            field=str(band), hint="every event frequency of a band shares its population")
    fcodes, funiq = pd.factorize(f, sort=True)
    gbf = gb * len(funiq) + fcodes
    if len(np.unique(gbf)) != len(gbf):
        raise DataError("a group has more than one row for the same band and event frequency",
                        source=f"{fname}() data", field=str(band),
                        hint="aggregate to one row per group, band and event frequency")
    first = np.unique(gb, return_index=True)[1]
    _check_complete(codes[first], bcodes[first], keys, labels, band, fname)
    ratio = w / n
    events = f * x
    sum_w = _sum(codes[first], w[first], n_groups)
    gf = codes * len(funiq) + fcodes
    size = n_groups * len(funiq)
    wsum_f = np.bincount(gf, w, size)
    present = wsum_f > 0
    var_f = np.bincount(gf, x * ratio * ratio, size) / np.where(present, wsum_f, 1.0) ** 2
    var_f = np.where(present, var_f, 0.0) * np.tile(np.asarray(funiq, dtype=float) ** 2, n_groups)
    return {
        "sum_w": sum_w, "obs": _sum(codes, events, n_groups),
        "pop": _sum(codes[first], n[first], n_groups),
        "weighted": _sum(codes, events * ratio, n_groups),
        "var": var_f.reshape(n_groups, len(funiq)).sum(axis=1),
    }


def _dobson(keys: pd.DataFrame, sums: dict[str, np.ndarray], call: Call, method: str,
            standard: str) -> pd.DataFrame:
    """Value and Dobson limits from the group sums; NA when the total count is below 10."""
    if (sums["sum_w"] <= 0).any():
        g = int(np.flatnonzero(sums["sum_w"] <= 0)[0])
        raise DataError(f"standard population sums to zero in {_describe_group(keys, g)}",
                        source="dsr() data", field=standard,
                        hint="standard weights must not all be zero")
    mult, obs = call.mult, sums["obs"]
    value = sums["weighted"] / sums["sum_w"] * mult
    publish = obs >= DSR_MIN_COUNT
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.sqrt(sums["var"] / obs) * mult
    limits = []
    for c in call.conf.levels:
        lo = value + scale * (byars_lower(obs, c) - obs)
        hi = value + scale * (byars_upper(obs, c) - obs)
        limits.append((np.where(publish, lo, np.nan), np.where(publish, hi, np.nan)))
    stat = f"dsr per {_fmt_number(mult)}"
    reason = f"{stat} ({call.conf.label}, {method}): total count < {DSR_MIN_COUNT}, not published"
    return _finish(
        keys,
        {"total_count": obs, "total_pop": sums["pop"],
         "value": np.where(publish, value, np.nan)},
        call.conf, limits, np.where(publish, stat, reason), method,
    )

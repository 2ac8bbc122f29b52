"""Nordpred: age-period-cohort projection of cancer incidence (Moller et al. 2003).

The model, as in the Nordpred R package (Fekjaer & Moller, Cancer Registry of Norway), is fitted
to an age-group x five-year-period table of case counts with matching person-years::

    rate(age a, period p) = (A_a + D * p + P_p + C_c) ** 5,   cohort c = groups - a + p

as a Poisson GLM whose link maps the mean count mu to ``(mu / person_years) ** 0.2`` (the
"power5" link; person-years enter through the link, not as an offset). Period effects of the
first and last period used are zero, so ``D`` is the drift; cohort effects of the oldest and the
youngest cohort are zero. ``link="poisson"`` fits ``log(rate)`` with the same terms.

Projection to future period ``N + j`` (``N`` observed periods) adds ``D`` times the cumulative
sum of ``1 - cuttrend`` (the drift is damped), keeps the period effect at the last period's
value (zero), and uses each cohort's estimated effect; cohorts not seen at or above
``start_use_age`` take the effect of the youngest cohort that was. Age groups younger than
``start_use_age`` get the mean crude rate of the last two observed periods.

See ``docs/methods/nordpred.md`` for the formulas in full and the sources.

References:
    Moller B, Fekjaer H, Hakulinen T, Sigvaldason H, Storm HH, Talback M, Haldorsen T.
    Prediction of cancer incidence in the Nordic countries: empirical comparison of different
    approaches. Statistics in Medicine 2003; 22:2751-2766.

    Fekjaer H, Moller B. nordpred R package, version 1.1 (functions ``nordpred``,
    ``nordpred.estimate``, ``nordpred.prediction``, ``nordpred.getpred``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from hna.errors import DataError, ParameterError
from hna.incidence.nordpred_fit import AGE_GROUPS, N_AGE_GROUPS, Power5RateLink, _Fitter

__all__ = [
    "AGE_GROUPS",
    "WORLD_STANDARD",
    "NordpredResult",
    "Power5RateLink",
    "nordpred",
]

#: World standard population (Segi 1960 as modified by Doll et al. 1966) in the 18 Nordpred
#: age groups, as weights summing to 1 (the ``wstand`` of the nordpred R package examples).
WORLD_STANDARD: tuple[float, ...] = (
    0.12, 0.10, 0.09, 0.09, 0.08, 0.08, 0.06, 0.06, 0.06,
    0.06, 0.05, 0.04, 0.04, 0.03, 0.02, 0.01, 0.005, 0.005,
)

MAX_FUTURE_PERIODS = 5
GOF_ALPHA = 0.01  # drop the oldest period while the goodness-of-fit p-value is below this
RECENT_ALPHA = 0.05  # use the recent slope when the squared period term is significant

Link_ = Literal["power5", "poisson"]


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NordpredResult:
    """Observed and projected cases and rates from :func:`nordpred`.

    Attributes:
        predictions: cases by age group (rows) and period (columns): the observed counts in the
            observed periods, then the predicted counts in the future periods (as
            ``nordpred.getpred(incidence = FALSE)``).
        rates: the same as rates per 100,000 person-years (``getpred(incidence = TRUE)``).
        person_years: the person-years used, observed then future periods.
        n_periods: number of most recent observed periods the model was fitted to.
        recent: True if the projected trend is the slope between the last two periods, False
            if it is the drift over all periods used.
        recent_pvalue: p-value of the test for a squared period term (basis of ``recent``).
        gof_pvalue: goodness-of-fit p-value of the fitted model (deviance vs chi-square).
        deviance, df_resid: deviance and residual degrees of freedom of the fitted model.
        link: ``"power5"`` or ``"poisson"``.
        start_est_age, start_use_age: youngest age group in the regression / using it.
        cuttrend: the proportions of drift cut in each future period (one per period).
        n_future: number of projected periods.
        coefficients: fitted effects: ``age[<group>]``, ``drift``, ``period[<label>]`` and
            ``cohort[<k>]`` (k = 1 for the oldest cohort), constrained effects included as 0.
        period_selection: goodness-of-fit p-value of the power5 model for each number of
            periods tried while choosing ``n_periods`` (empty if it was fixed).
    """

    predictions: pd.DataFrame
    rates: pd.DataFrame
    person_years: pd.DataFrame
    n_periods: int
    recent: bool
    recent_pvalue: float
    gof_pvalue: float
    deviance: float
    df_resid: int
    link: str
    start_est_age: str
    start_use_age: str
    cuttrend: tuple[float, ...]
    n_future: int
    coefficients: pd.Series
    period_selection: dict[int, float] = field(default_factory=dict)

    @property
    def future_periods(self) -> list[Any]:
        """Labels of the projected periods."""
        return list(self.predictions.columns[-self.n_future:])

    def asr(self, standard: Sequence[float] = WORLD_STANDARD) -> pd.Series:
        """Age-standardised rate per 100,000 by period (direct standardisation).

        Args:
            standard: 18 non-negative weights, one per age group (``0-4`` ... ``85+``), e.g.
                :data:`WORLD_STANDARD`. Standard population counts are accepted too: the
                weights are divided by their sum.

        Returns:
            Series indexed by period: ``sum_a w_a * rate_a / sum_a w_a``.
        """
        w = np.asarray(standard, dtype=float) if _is_sequence(standard) else None
        if w is None or w.ndim != 1 or w.size != N_AGE_GROUPS:
            raise ParameterError(
                f"the standard needs one weight for each of the {N_AGE_GROUPS} age groups",
                field="standard", value=standard,
                hint="Pass 18 weights for 0-4 ... 80-84, 85+ (e.g. hna.incidence.nordpred.WORLD_STANDARD)",
            )
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ParameterError(
                "standard weights must be finite, non-negative and not all zero",
                field="standard", value=list(w),
            )
        values = (self.rates.to_numpy() * (w / w.sum())[:, None]).sum(axis=0)
        return pd.Series(values, index=self.rates.columns, name="asr_per_100k")


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _is_sequence(x: Any) -> bool:
    return isinstance(x, (Sequence, np.ndarray, pd.Series)) and not isinstance(x, (str, bytes))


def _as_table(table: Any, name: str) -> pd.DataFrame:
    if isinstance(table, pd.DataFrame):
        frame = table
    else:
        try:
            arr = np.asarray(table, dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataError(
                "must be a table of numbers (age groups x periods)", source=name,
                hint="Pass a pandas DataFrame with 18 rows and one column per period",
            ) from exc
        if arr.ndim != 2:
            raise DataError(
                "must be a two-dimensional table (age groups x periods)", source=name,
                value=arr.shape,
            )
        frame = pd.DataFrame(arr)
    if frame.shape[0] != N_AGE_GROUPS:
        raise DataError(
            f"must have {N_AGE_GROUPS} rows, one per age group 0-4 ... 80-84, 85+",
            source=name, value=f"{frame.shape[0]} rows",
            hint="Aggregate ages 85 and over into one group and put age groups in rows",
        )
    return frame


def _numeric(frame: pd.DataFrame, name: str, *, positive: bool) -> np.ndarray:
    try:
        arr = frame.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise DataError(
            "contains non-numeric values", source=name,
            hint="Every cell must be a number",
        ) from exc
    bad = ~np.isfinite(arr)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DataError(
            "contains missing or infinite values", source=name, field=str(frame.columns[c]),
            value=f"row {frame.index[r]!r}", hint="Fill every age group x period cell",
        )
    if positive and (arr <= 0).any():
        r, c = np.argwhere(arr <= 0)[0]
        raise DataError(
            "person-years must be positive", source=name, field=str(frame.columns[c]),
            value=float(arr[r, c]), hint=f"Check row {frame.index[r]!r}",
        )
    if (arr < 0).any():
        r, c = np.argwhere(arr < 0)[0]
        raise DataError(
            "counts must not be negative", source=name, field=str(frame.columns[c]),
            value=float(arr[r, c]), hint=f"Check row {frame.index[r]!r}",
        )
    return arr


def _age_position(value: Any, name: str) -> int:
    """1-based age-group number (R's ``startestage=5`` is ``"20-24"``)."""
    if isinstance(value, (bool, np.bool_)):
        pass
    elif isinstance(value, (int, np.integer)):
        if 1 <= int(value) <= N_AGE_GROUPS:
            return int(value)
    elif isinstance(value, str):
        label = value.replace("\u2013", "-").replace(" ", "")
        if label in AGE_GROUPS:
            return AGE_GROUPS.index(label) + 1
    raise ParameterError(
        "is not a Nordpred age group", field=name, value=value,
        hint=f"Use a label from {AGE_GROUPS[0]!r} ... {AGE_GROUPS[-1]!r} or a group number "
        f"1-{N_AGE_GROUPS} (5 means '20-24')",
    )


def _candidates(n_periods: Any, n_observed: int) -> list[int]:
    values = list(n_periods) if _is_sequence(n_periods) else [n_periods]
    if not values:
        raise ParameterError("needs at least one number of periods", field="n_periods",
                             value=n_periods)
    out = []
    for v in values:
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
            raise ParameterError("must be whole numbers", field="n_periods", value=n_periods)
        if v < 3:
            raise ParameterError(
                "must be 3 or more to leave degrees of freedom for the model",
                field="n_periods", value=n_periods,
            )
        if v > n_observed:
            raise ParameterError(
                f"asks for {int(v)} periods but cases has only {n_observed} observed periods",
                field="n_periods", value=n_periods,
                hint=f"Pass candidates between 3 and {n_observed}",
            )
        out.append(int(v))
    return sorted(set(out))


def _cuttrend(cuttrend: Any, n_future: int) -> np.ndarray:
    if not _is_sequence(cuttrend):
        raise ParameterError("must be a sequence of proportions", field="cuttrend",
                             value=cuttrend)
    try:
        cut = np.asarray(cuttrend, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ParameterError("must contain numbers", field="cuttrend", value=cuttrend) from exc
    if cut.ndim != 1 or cut.size < n_future:
        raise ParameterError(
            f"needs one proportion for each of the {n_future} future periods",
            field="cuttrend", value=cuttrend,
            hint="Give at least as many values as there are future periods of person-years",
        )
    cut = cut[:n_future]
    if not np.all(np.isfinite(cut)) or np.any(cut < 0) or np.any(cut > 1):
        raise ParameterError("proportions must lie between 0 and 1", field="cuttrend",
                             value=cuttrend)
    return cut


# --------------------------------------------------------------------------------------------
# Public entry point
# --------------------------------------------------------------------------------------------


def nordpred(
    cases: pd.DataFrame,
    person_years: pd.DataFrame,
    start_est_age: str | int = "20-24",
    start_use_age: str | int = "25-29",
    n_periods: int | Sequence[int] = (4, 5, 6),
    cuttrend: Sequence[float] = (0, 0.25, 0.5, 0.75, 0.75),
    link: Link_ = "power5",
    recent: bool | None = None,
) -> NordpredResult:
    """Fit the Nordpred age-period-cohort model and project cases and rates.

    Args:
        cases: case counts, 18 rows (age groups ``0-4`` ... ``80-84``, ``85+``, in that order)
            by observed five-year periods (columns, oldest first).
        person_years: person-years with the same rows, covering the observed periods (same
            column labels, same order) followed by 1-5 future periods.
        start_est_age: youngest age group in the regression, as a label (``"20-24"``) or a
            1-based group number (5, as R's ``startestage``).
        start_use_age: youngest age group whose projection uses the regression; younger groups
            get the mean crude rate of the last two observed periods. Not below
            ``start_est_age``.
        n_periods: number of most recent periods to fit, or candidates: starting from the
            largest, the oldest period is dropped while the power5 model's goodness-of-fit
            p-value is below 0.01 (the smallest candidate is then used untested).
        cuttrend: proportion of the drift cut in each future period (at least one value per
            future period, each between 0 and 1; extra values are ignored).
        link: ``"power5"`` (Nordpred default) or ``"poisson"`` (log link).
        recent: True projects the slope between the last two periods, False the drift over
            all periods used; None decides by a test for a squared period term (p < 0.05 ->
            True) in a log-link age-drift-cohort model.

    Returns:
        A :class:`NordpredResult`.

    Raises:
        DataError: tables of the wrong shape, non-numeric, missing, negative counts,
            non-positive person-years, or person-years without 1-5 future periods.
        ParameterError: invalid start ages, numbers of periods, cuttrend, link or recent.
    """
    cases_df = _as_table(cases, "cases")
    pyr_df = _as_table(person_years, "person_years")
    n_obs, n_total = cases_df.shape[1], pyr_df.shape[1]
    if n_obs < 3:
        raise DataError("needs at least 3 observed periods", source="cases",
                        value=f"{n_obs} columns")
    if n_total <= n_obs:
        raise DataError(
            "must cover the observed periods and 1-5 future periods", source="person_years",
            value=f"{n_total} columns for {n_obs} observed periods",
            hint="Append columns of projected person-years for the periods to predict",
        )
    n_future = n_total - n_obs
    if n_future > MAX_FUTURE_PERIODS:
        raise DataError(
            f"covers {n_future} future periods; Nordpred projects at most "
            f"{MAX_FUTURE_PERIODS}", source="person_years",
            hint="Drop the later future periods",
        )
    obs_labels = [str(c) for c in cases_df.columns]
    if obs_labels != [str(c) for c in pyr_df.columns[:n_obs]]:
        raise DataError(
            "the first columns must be the observed periods of cases, in the same order",
            source="person_years", value=[str(c) for c in pyr_df.columns[:n_obs]],
            hint=f"cases has periods {obs_labels}",
        )
    if [str(r) for r in cases_df.index] != [str(r) for r in pyr_df.index]:
        raise DataError(
            "rows (age groups) differ from those of cases", source="person_years",
            value=[str(r) for r in pyr_df.index],
        )
    labels = [str(r).replace("\u2013", "-").replace(" ", "") for r in cases_df.index]
    if set(labels) == set(AGE_GROUPS) and labels != list(AGE_GROUPS):
        raise DataError(
            "age groups are out of order", source="cases", value=labels,
            hint="Order the rows 0-4, 5-9 ... 80-84, 85+ (e.g. df.loc[list(AGE_GROUPS)])",
        )
    case_arr = _numeric(cases_df, "cases", positive=False)
    pyr_arr = _numeric(pyr_df, "person_years", positive=True)

    s = _age_position(start_est_age, "start_est_age")
    u = _age_position(start_use_age, "start_use_age")
    if s > N_AGE_GROUPS - 2:
        raise ParameterError(
            "leaves fewer than 3 age groups for the regression", field="start_est_age",
            value=start_est_age, hint=f"Use {AGE_GROUPS[N_AGE_GROUPS - 3]!r} or younger",
        )
    if u < s:
        raise ParameterError(
            "must not be younger than start_est_age", field="start_use_age",
            value=start_use_age, hint=f"start_est_age is {AGE_GROUPS[s - 1]!r}",
        )
    if link not in ("power5", "poisson"):
        raise ParameterError("unknown link", field="link", value=link,
                             hint="Use 'power5' or 'poisson'")
    if recent is not None and not isinstance(recent, (bool, np.bool_)):
        raise ParameterError("must be True, False or None", field="recent", value=recent)
    candidates = _candidates(n_periods, n_obs)
    cut = _cuttrend(cuttrend, n_future)

    fitter = _Fitter(case_arr, pyr_arr, s)

    # Number of periods: drop the oldest while the power5 model fits badly (as the R package,
    # the test always uses the power5 link).
    selection: dict[int, float] = {}
    while len(candidates) > 1:
        _, fit = fitter.apc(candidates[-1], "power5")
        selection[candidates[-1]] = fit.pvalue
        if fit.pvalue < GOF_ALPHA:
            candidates.pop()
        else:
            candidates = candidates[-1:]
    n_use = candidates[0]

    recent_p = fitter.recent_pvalue(n_use)
    use_recent = bool(recent_p < RECENT_ALPHA) if recent is None else bool(recent)

    win, fit = fitter.apc(n_use, link)
    ages, drift, period, cohort = win.unpack(fit.params)

    # Projection.
    pred = np.empty((N_AGE_GROUPS, n_total))
    pred[:, :n_obs] = case_arr
    future_pyr = pyr_arr[:, n_obs:]
    last_two = case_arr[:, n_obs - 2:n_obs] / pyr_arr[:, n_obs - 2:n_obs]
    pred[:u - 1, n_obs:] = last_two[:u - 1].mean(axis=1)[:, None] * future_pyr[:u - 1]

    steps = np.cumsum(1.0 - cut)  # damped number of drift steps beyond the last period
    j = np.arange(1, n_future + 1)
    max_cohort = N_AGE_GROUPS - u + n_use  # youngest cohort seen at start_use_age
    slope = drift - period[n_use - 2] if use_recent else drift
    for age in range(u, N_AGE_GROUPS + 1):
        level = np.minimum(win.cohort_level(age, n_obs + j), max_cohort)
        eta = ages[age - s] + drift * n_obs + slope * steps + cohort[level - 1]
        rate = eta**5 if link == "power5" else np.exp(eta)
        pred[age - 1, n_obs:] = rate * future_pyr[age - 1]
    if (pred[:, n_obs:] < 0).any():
        warnings.warn("nordpred: the power5 projection gives negative rates (the linear "
                      "predictor fell below zero); consider more cuttrend or link='poisson'",
                      RuntimeWarning, stacklevel=2)

    predictions = pd.DataFrame(pred, index=cases_df.index, columns=pyr_df.columns)
    rates = pd.DataFrame(pred / pyr_arr * 1e5, index=cases_df.index, columns=pyr_df.columns)

    period_labels = list(cases_df.columns[n_obs - n_use:])
    names = ([f"age[{g}]" for g in AGE_GROUPS[s - 1:]] + ["drift"]
             + [f"period[{p}]" for p in period_labels]
             + [f"cohort[{k}]" for k in range(1, win.n_cohorts + 1)])
    coefficients = pd.Series(np.concatenate([ages, [drift], period, cohort]), index=names,
                             name="coefficient")

    return NordpredResult(
        predictions=predictions,
        rates=rates,
        person_years=pyr_df.copy(),
        n_periods=n_use,
        recent=use_recent,
        recent_pvalue=recent_p,
        gof_pvalue=fit.pvalue,
        deviance=fit.deviance,
        df_resid=fit.df_resid,
        link=link,
        start_est_age=AGE_GROUPS[s - 1],
        start_use_age=AGE_GROUPS[u - 1],
        cuttrend=tuple(float(c) for c in cut),
        n_future=n_future,
        coefficients=coefficients,
        period_selection=selection,
    )

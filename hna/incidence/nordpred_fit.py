"""Nordpred model estimation: the power-5 link, design matrices, GLM fits and period tests.

Split from :mod:`hna.incidence.nordpred`, which holds the public entry point, the projection
and the result object and re-exports :data:`AGE_GROUPS` and :class:`Power5RateLink`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from statsmodels.genmod.families import Poisson
from statsmodels.genmod.families.links import Link
from statsmodels.genmod.generalized_linear_model import GLM
from statsmodels.tools.sm_exceptions import PerfectSeparationWarning

from hna.errors import DataError

#: The 18 age groups Nordpred uses: ``0-4``, ``5-9`` ... ``80-84``, ``85+``.
AGE_GROUPS: tuple[str, ...] = tuple([f"{lo}-{lo + 4}" for lo in range(0, 85, 5)] + ["85+"])
N_AGE_GROUPS = len(AGE_GROUPS)
_EPS = float(np.finfo(float).eps)

# --------------------------------------------------------------------------------------------
# The power-5 link on the rate
# --------------------------------------------------------------------------------------------


class Power5RateLink(Link):
    """Link ``eta = (mu / person_years) ** 0.2``, so that ``mu = person_years * eta ** 5``.

    The person-years of each observation are held by the link, so the linear predictor models
    the fifth root of the *rate* while the Poisson mean is the expected count. As in the
    nordpred R package, the inverse link and its derivative are floored at machine epsilon so
    the mean stays positive during iteration.

    Args:
        person_years: person-years of each observation, in the order of the model's rows.
    """

    def __init__(self, person_years: np.ndarray) -> None:
        """Store the person-years of each observation (the link's offset)."""
        self.person_years = np.asarray(person_years, dtype=float)

    def _rate(self, mu: np.ndarray) -> np.ndarray:
        return np.maximum(np.asarray(mu, dtype=float), _EPS) / self.person_years

    def __call__(self, p: np.ndarray) -> np.ndarray:
        """Linear predictor ``(mu / person_years) ** (1/5)``."""
        return self._rate(p) ** 0.2

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Mean ``person_years x z ** 5`` (kept positive)."""
        return np.maximum(_EPS, self.person_years * np.asarray(z, dtype=float) ** 5)

    def deriv(self, p: np.ndarray) -> np.ndarray:
        """First derivative of the link with respect to the mean."""
        return 0.2 * self._rate(p) ** -0.8 / self.person_years

    def deriv2(self, p: np.ndarray) -> np.ndarray:
        """Second derivative of the link with respect to the mean."""
        return -0.16 * self._rate(p) ** -1.8 / self.person_years**2

    def inverse_deriv(self, z: np.ndarray) -> np.ndarray:
        """Derivative of the inverse link with respect to the linear predictor."""
        return np.maximum(_EPS, 5.0 * self.person_years * np.asarray(z, dtype=float) ** 4)

    def inverse_deriv2(self, z: np.ndarray) -> np.ndarray:
        """Second derivative of the inverse link."""
        return 20.0 * self.person_years * np.asarray(z, dtype=float) ** 3


class _Power5Poisson(Poisson):
    """Poisson family that accepts (and trusts) :class:`Power5RateLink`."""

    links = [Power5RateLink]
    safe_links = [Power5RateLink]


# --------------------------------------------------------------------------------------------
# Model fitting
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """The cells used in the regression: ages ``s..18``, the last ``n`` of ``N`` periods."""

    n_observed: int  # N
    n_use: int  # n
    start_est: int  # s (1-based)

    @property
    def n_ages(self) -> int:
        return N_AGE_GROUPS - self.start_est + 1

    @property
    def n_cohorts(self) -> int:
        return self.n_ages + self.n_use - 1

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """Absolute (1-based) age group and period of each row, period-major."""
        ages = np.arange(self.start_est, N_AGE_GROUPS + 1)
        periods = np.arange(self.n_observed - self.n_use + 1, self.n_observed + 1)
        a, p = np.meshgrid(ages, periods)
        return a.ravel(), p.ravel()

    def cohort_level(self, age: np.ndarray, period: np.ndarray) -> np.ndarray:
        """Cohort number, 1 = oldest cohort in the window (cohort = groups - age + period)."""
        return N_AGE_GROUPS - age + period - self.n_observed + self.n_use

    def design(self, *, period_factor: bool, squared: bool = False) -> np.ndarray:
        """Design matrix of the age-drift-period-cohort model.

        Columns: age dummies, drift (period number), [period^2], period dummies for the 2nd
        to the second-last period, cohort dummies for the 2nd to the second-last cohort.
        Dropping the first and last period and cohort dummies sets those effects to zero:
        the identification of the R package, where they are aliased in this column order.
        """
        a, p = self.cells()
        n, k = self.n_use, self.n_cohorts
        cols = [a[:, None] == np.arange(self.start_est, N_AGE_GROUPS + 1)[None, :],
                p[:, None].astype(float)]
        if squared:
            cols.append((p.astype(float) ** 2)[:, None])
        if period_factor:
            rel = p - (self.n_observed - n)
            cols.append(rel[:, None] == np.arange(2, n)[None, :])
        coh = self.cohort_level(a, p)
        cols.append(coh[:, None] == np.arange(2, k)[None, :])
        return np.hstack([np.asarray(c, dtype=float) for c in cols])

    def response(self, table: np.ndarray) -> np.ndarray:
        a, p = self.cells()
        return table[a - 1, p - 1]

    def unpack(self, params: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
        """Age effects, drift, period effects (n, zero ends), cohort effects (K, zero ends)."""
        na, n, k = self.n_ages, self.n_use, self.n_cohorts
        ages = params[:na]
        drift = float(params[na])
        period = np.zeros(n)
        period[1:n - 1] = params[na + 1:na + n - 1]
        cohort = np.zeros(k)
        cohort[1:k - 1] = params[na + n - 1:]
        return ages, drift, period, cohort


@dataclass(frozen=True)
class _Fit:
    params: np.ndarray
    deviance: float
    df_resid: int

    @property
    def pvalue(self) -> float:
        return float(stats.chi2.sf(self.deviance, self.df_resid))


def _fit_glm(y: np.ndarray, x: np.ndarray, pyr: np.ndarray, link: str,
             start: np.ndarray) -> _Fit:
    """Fit by IRLS (statsmodels) until the deviance changes by less than 1e-10.

    R's glm stops at a relative change of 1e-8, so R's power5 estimates sit slightly short of
    the maximum (about 1e-6 relative in the predictions for the Norway example).
    """
    if link == "power5":
        model = GLM(y, x, family=_Power5Poisson(Power5RateLink(pyr)), hasconst=True)
    else:
        model = GLM(y, x, family=Poisson(), offset=np.log(pyr), hasconst=True)
    with warnings.catch_warnings():
        # Overflow/invalid-power warnings from trial steps, and statsmodels' "perfect
        # separation" check, which only means the table is fitted exactly (not an error here).
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", PerfectSeparationWarning)
        res = model.fit(start_params=start, maxiter=100, tol=1e-10)
    if not res.converged:
        warnings.warn(f"nordpred: the {link} model did not converge in 100 iterations; "
                      "predictions may be unreliable", RuntimeWarning, stacklevel=3)
    return _Fit(np.asarray(res.params), float(res.deviance), int(round(res.df_resid)))


def _start(y: np.ndarray, x: np.ndarray, pyr: np.ndarray, link: str) -> np.ndarray:
    """Starting values: one weighted least-squares step of the linear predictor.

    Fitted to smoothed crude rates ``(y + 0.5) / pyr`` (fifth root or log), weighted as in the
    first IRLS step.
    """
    mu = y + 0.5
    if link == "power5":
        eta = (mu / pyr) ** 0.2
        w = 5.0 * pyr ** 0.2 * mu ** 0.4  # sqrt((d mu / d eta)^2 / mu)
    else:
        eta = np.log(mu / pyr)
        w = np.sqrt(mu)
    params, *_ = np.linalg.lstsq(x * w[:, None], eta * w, rcond=None)
    return params


class _Fitter:
    """Fits models on one table, caching by (number of periods, link)."""

    def __init__(self, cases: np.ndarray, pyr: np.ndarray, start_est: int) -> None:
        self.cases, self.pyr, self.start_est = cases, pyr, start_est
        self.n_observed = cases.shape[1]
        self._fits: dict[tuple[int, str], tuple[_Window, _Fit]] = {}

    def apc(self, n_use: int, link: str) -> tuple[_Window, _Fit]:
        key = (n_use, link)
        if key not in self._fits:
            win = _Window(self.n_observed, n_use, self.start_est)
            y, pyr = win.response(self.cases), win.response(self.pyr[:, :self.n_observed])
            if y.sum() <= 0:
                raise DataError(
                    f"has no cases in the age groups and {n_use} periods used for the model",
                    source="cases", hint="Use more periods or a younger start_est_age",
                )
            x = win.design(period_factor=True)
            self._fits[key] = (win, _fit_glm(y, x, pyr, link, _start(y, x, pyr, link)))
        return self._fits[key]

    def recent_pvalue(self, n_use: int) -> float:
        """Likelihood-ratio p-value of a squared period term (1 degree of freedom).

        Tested in the log-link age-drift-cohort model (no period factor).
        """
        win = _Window(self.n_observed, n_use, self.start_est)
        y, pyr = win.response(self.cases), win.response(self.pyr[:, :self.n_observed])
        x1 = win.design(period_factor=False)
        linear = _fit_glm(y, x1, pyr, "poisson", _start(y, x1, pyr, "poisson"))
        x2 = win.design(period_factor=False, squared=True)
        start2 = np.insert(linear.params, win.n_ages + 1, 0.0)  # squared term after the drift
        squared = _fit_glm(y, x2, pyr, "poisson", start2)
        change = max(linear.deviance - squared.deviance, 0.0)
        return float(stats.chi2.sf(change, linear.df_resid - squared.df_resid))

"""Risk sharing between commissioners: shares, overspends, pooled budgets, HIV, NORCOM tests.

Seeds: F001 (Carter review, DH 2006) para 86 and Appendix 5 case studies 1 (London SCG) and 8
(NORCOM LSCG); the settings (HIV tolerance and bands, the NORCOM tests, voting rules) live in
``parameters/appraisal/risk_sharing.yaml`` with their quotations. Formulas:
``docs/methods/finance.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from hna.errors import DataError, ParameterError
from hna.finance._common import need, numbers, rate
from hna.parameters import PARAMETERS_DIR, StrictModel, read_parameter_file

__all__ = [
    "RISK_SHARING_FILE",
    "RiskSharingConfig",
    "VotingRule",
    "load_risk_sharing",
    "commissioner_shares",
    "risk_share_overperformance",
    "overspend_contributions",
    "pooled_budget_shares",
    "norcom_tests",
]

#: The bundled settings file.
RISK_SHARING_FILE = PARAMETERS_DIR / "appraisal" / "risk_sharing.yaml"


class HivBand(StrictModel):
    """One graduated band: ``width`` percentage points, the commissioner's share of it."""

    width: float = Field(gt=0)
    commissioner_share: float = Field(ge=0, le=1)


class HivSettings(StrictModel):
    """The London HIV consortium arrangement (F001 case study 1)."""

    source: str
    tolerance_percent: float = Field(gt=0)
    tolerance_options: list[float] = Field(default_factory=list)
    bands: list[HivBand] = Field(min_length=1)


class NorcomSettings(StrictModel):
    """NORCOM's four tests for setting up a risk share (F001 case study 8)."""

    source: str
    tests: dict[str, str]
    commissioner_population: float = Field(gt=0)
    commissioner_population_source: str
    cv_threshold: float = Field(gt=0)
    cv_threshold_kind: Literal["assumption", "published", "derived", "inferred"] = "assumption"

    @model_validator(mode="after")
    def _four(self) -> NorcomSettings:
        if len(self.tests) != 4:
            raise ValueError(f"NORCOM has four tests, got {len(self.tests)}")
        return self


class VotingRule(StrictModel):
    """A binding-decision rule: ``count`` (k of n), ``share`` or capitation-``weighted`` share.

    ``comparison`` says whether the share must be ``at_least`` or ``more_than`` the threshold;
    ``notice_days`` is the notice members must have had before a binding vote.
    """

    kind: Literal["count", "share", "weighted"]
    threshold: float | None = Field(default=None, gt=0, le=1)
    comparison: Literal["at_least", "more_than"] = "at_least"
    min_in_favour: int | None = Field(default=None, ge=1)
    voters: int | None = Field(default=None, ge=1)
    notice_days: int | None = Field(default=None, ge=0)
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _complete(self) -> VotingRule:
        if self.kind == "count":
            if self.min_in_favour is None or self.voters is None:
                raise ValueError("a count rule needs min_in_favour and voters")
            if self.min_in_favour > self.voters:
                raise ValueError("min_in_favour cannot exceed voters")
        elif self.threshold is None:
            raise ValueError(f"a {self.kind} rule needs a threshold (a fraction, e.g. 0.75)")
        return self


class _Quoted(StrictModel):
    source: str


class RiskSharingConfig(StrictModel):
    """Contents of ``parameters/appraisal/risk_sharing.yaml``."""

    hiv: HivSettings
    norcom_tests: NorcomSettings
    voting_rules: dict[str, VotingRule] = Field(min_length=1)
    pooled_budget: _Quoted
    overspend: _Quoted


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int) -> RiskSharingConfig:
    return read_parameter_file(path, RiskSharingConfig)


def load_risk_sharing(path: str | Path | RiskSharingConfig | None = None) -> RiskSharingConfig:
    """Load the risk-sharing settings (default ``parameters/appraisal/risk_sharing.yaml``).

    Raises:
        ParameterError: unknown keys, a count rule without voters, a share rule without a
            threshold...; names the file and field.
    """
    if isinstance(path, RiskSharingConfig):
        return path
    p = Path(path) if path is not None else RISK_SHARING_FILE
    if not p.is_file():
        return read_parameter_file(p, RiskSharingConfig)  # raises the file-not-found error
    return _cached(str(p.resolve()), p.stat().st_mtime_ns)


def commissioner_shares(
    population: pd.DataFrame,
    usage: pd.DataFrame,
    *,
    window: int = 3,
    year: int | None = None,
    threshold: float = 0.2,
    basis: str = "relative",
    budget: float | None = None,
) -> pd.DataFrame:
    """Commissioner shares by weighted population vs rolling average usage (F001 case studies).

    NORCOM (F001 case study 8): "a 'commissioner shares' analysis ... showing the impact on PCTs
    by weighted population and by historical usage ... highlights where there are significant
    inequities"; London consortia (case study 1): "risk sharing between commissioners is based
    on a 3 year rolling average of activity".

    population share_i = w_i / sum(w); usage share_i = mean activity_i over the ``window`` years
    ending in ``year`` / sum over commissioners. A commissioner is flagged when
    |usage share - population share| > threshold (``basis='absolute'``, share points) or when
    |usage share / population share - 1| > threshold (``basis='relative'``, default 20%). The
    seeds give no threshold: it is a parameter.

    Args:
        population: ``commissioner, weighted_population``.
        usage: ``commissioner, year, activity`` (a commissioner-year with no row counts as 0).
        window: years in the rolling average (London consortia: 3).
        year: last year of the window (default the latest year in ``usage``).
        threshold: difference that flags an inequity (no seed figure: a parameter).
        basis: ``relative`` (ratio - 1) or ``absolute`` (share points).
        budget: if given, the amount each commissioner would pay on each basis.

    Returns:
        DataFrame: ``commissioner, weighted_population, population_share, mean_activity,
        usage_share, difference, relative_difference, flagged`` (+ ``by_population``,
        ``by_usage`` with a budget), with attribute ``attrs['years']``.
    """
    need(population, ["commissioner", "weighted_population"], "population")
    need(usage, ["commissioner", "year", "activity"], "usage")
    if basis not in ("relative", "absolute"):
        raise ParameterError("must be 'relative' or 'absolute'", field="basis", value=basis)
    thr = rate(threshold, "threshold", 0, 10)
    if not isinstance(window, int) or window < 1:
        raise ParameterError("must be a whole number of years >= 1", field="window", value=window)
    pop = population.copy()
    pop["weighted_population"] = numbers(pop, "weighted_population", "population")
    if pop["commissioner"].duplicated().any():
        raise DataError("one row per commissioner expected", source="population",
                        field="commissioner")
    if pop["weighted_population"].sum() <= 0:
        raise DataError("weighted populations sum to zero", source="population",
                        field="weighted_population")
    u = usage.copy()
    u["activity"] = numbers(u, "activity", "usage")
    unknown = sorted(set(u["commissioner"]) - set(pop["commissioner"]))
    if unknown:
        raise DataError("commissioner not in the population table", source="usage",
                        field="commissioner", value=unknown[0])
    last = int(u["year"].max()) if year is None else int(year)
    years = list(range(last - window + 1, last + 1))
    missing = [y for y in years if y not in set(u["year"])]
    if missing:
        raise DataError(f"the {window}-year window needs activity for every year", source="usage",
                        field="year", value=missing[0])
    win = u[u["year"].isin(years)]
    mean = win.groupby("commissioner")["activity"].sum() / window
    out = pop[["commissioner", "weighted_population"]].copy()
    out["population_share"] = out["weighted_population"] / out["weighted_population"].sum()
    out["mean_activity"] = out["commissioner"].map(mean).fillna(0.0)
    total = out["mean_activity"].sum()
    if total <= 0:
        raise DataError("no activity in the window", source="usage", field="activity")
    out["usage_share"] = out["mean_activity"] / total
    out["difference"] = out["usage_share"] - out["population_share"]
    with np.errstate(divide="ignore", invalid="ignore"):
        out["relative_difference"] = out["usage_share"] / out["population_share"] - 1.0
    measure = out["difference"] if basis == "absolute" else out["relative_difference"]
    out["flagged"] = measure.abs() > thr
    if budget is not None:
        b = float(budget)
        out["by_population"] = b * out["population_share"]
        out["by_usage"] = b * out["usage_share"]
    out.attrs["years"] = years
    return out.reset_index(drop=True)


def risk_share_overperformance(
    over_baseline: float | Sequence[float],
    *,
    bands: Sequence[tuple[float, float]] | None = None,
    tolerance: float | None = None,
    baseline: float | None = None,
    config: RiskSharingConfig | str | Path | None = None,
) -> dict[str, float] | pd.DataFrame:
    """Split over-performance above a contract baseline between commissioner and provider.

    London HIV consortium (F001 case study 1): "for the first 1% it is a 25%/75% contribution
    from commissioner/provider; for the second 1% it is 50%/50%; for the third it is 75%/25%
    commissioner/provider; and for over 3% it is all paid by the commissioner".

    The case study speaks of "a 2% or 3% tolerance": the graduated bands apply up to the
    tolerance and the commissioner pays everything above it. ``tolerance`` is that setting
    (percent of baseline; default from ``parameters/appraisal/risk_sharing.yaml``: 3, the
    case study's worked bands); bands beyond the tolerance are cut at it.

    commissioner = sum over bands of share_b x (the part of ``over_baseline`` in band b) +
    (over_baseline - tolerance)+; provider = over_baseline - commissioner. Tolerance 3: at 2.5%
    0.25 + 0.5 + 0.75 x 0.5 = 1.125 (provider 1.375); at 4% 0.25 + 0.5 + 0.75 + 1 = 2.5 (1.5).
    Tolerance 2: at 2.5% 0.25 + 0.5 + 0.5 = 1.25; at 4% 0.25 + 0.5 + 2 = 2.75.

    Args:
        over_baseline: activity cost above baseline, in percent of baseline (2.5 = 2.5%);
            a number or a sequence.
        bands: (width in percentage points, commissioner share) in order (default from the
            risk-sharing file: 1/25%, 1/50%, 1/75%).
        tolerance: percent of baseline up to which the bands apply (the seed's "2% or 3%").
        config: risk-sharing file or loaded config (default
            ``parameters/appraisal/risk_sharing.yaml``).
        baseline: contract baseline value; when given, money amounts are added.

    Returns:
        for a number, a dict ``over_baseline, commissioner, provider`` (percentage points,
        + ``commissioner_value``, ``provider_value`` with a baseline); for a sequence, a
        DataFrame with those columns.
    """
    cfg = load_risk_sharing(config) if not isinstance(config, RiskSharingConfig) else config
    bands = [(b.width, b.commissioner_share) for b in cfg.hiv.bands] if bands is None else bands
    tol = cfg.hiv.tolerance_percent if tolerance is None else tolerance
    if isinstance(tol, bool) or not isinstance(tol, int | float) or not 0 < float(tol) < math.inf:
        raise ParameterError("must be a positive percentage of baseline (e.g. 2 or 3)",
                             field="tolerance", value=tol)
    checked = []
    for i, (w, s) in enumerate(bands):
        if not (w > 0) or not 0 <= s <= 1:
            raise ParameterError("each band needs width > 0 and a share in [0, 1]",
                                 field=f"bands[{i}]", value=(w, s))
        checked.append((float(w), float(s)))
    cut, start = [], 0.0
    for w, s in checked:
        if start >= tol:
            break
        cut.append((min(w, float(tol) - start), s))
        start += w
    if start < tol:  # bands narrower than the tolerance: the last share runs to it
        cut.append((float(tol) - start, checked[-1][1]))
    checked = [*cut, (math.inf, 1.0)]
    scalar = np.isscalar(over_baseline)
    xs = np.atleast_1d(np.asarray(over_baseline, dtype=float))
    if (~np.isfinite(xs)).any() or (xs < 0).any():
        raise ParameterError(
            "over-performance must be a non-negative percentage of baseline",
            field="over_baseline", value=over_baseline,
            hint="Under-performance is not covered by the graduated arrangement")
    comm = np.zeros_like(xs)
    lower = 0.0
    for w, s in checked:
        upper = lower + w
        comm += s * np.clip(xs - lower, 0.0, upper - lower if math.isfinite(upper) else np.inf)
        lower = upper
    out = pd.DataFrame({"over_baseline": xs, "commissioner": comm, "provider": xs - comm})
    if baseline is not None:
        out["commissioner_value"] = out["commissioner"] / 100.0 * float(baseline)
        out["provider_value"] = out["provider"] / 100.0 * float(baseline)
    if scalar:
        return {k: float(v) for k, v in out.iloc[0].items()}
    return out


def _members(values: Mapping[str, float], field: str) -> pd.Series:
    if not isinstance(values, Mapping) or not values:
        raise ParameterError("must map each member to a non-negative amount", field=field,
                             value=type(values).__name__,
                             hint="e.g. {'NHS Derby City': 33069, 'NHS Lincolnshire': 73411}")
    s = pd.Series({str(k): v for k, v in values.items()}, dtype=object)
    out = pd.to_numeric(s, errors="coerce").astype(float)
    bad = out.isna() | ~np.isfinite(out) | (out < 0)
    if bad.any():
        k = out.index[bad][0]
        raise ParameterError("must be a non-negative amount", field=f"{field}[{k}]",
                             value=values[k])
    if out.sum() <= 0:
        raise ParameterError("amounts sum to zero", field=field)
    return out


def overspend_contributions(
    baseline: Mapping[str, float],
    overspend: float,
) -> pd.DataFrame:
    """Split a consortium overspend by each member's share of the baseline budget.

    London SCG consortia (F001 App 5 case study 1): "If a consortium overspends then all
    members contribute on the basis of their percentage contribution to the baseline budget":
    contribution_i = overspend x baseline_i / sum(baseline). An underspend (negative overspend)
    is returned the same way.

    Args:
        baseline: member -> contribution to the baseline budget (any money unit).
        overspend: outturn minus budget, same unit.

    Returns:
        DataFrame ``member, baseline, share, contribution`` (contributions sum to ``overspend``).
    """
    b = _members(baseline, "baseline")
    try:
        o = float(overspend)
    except (TypeError, ValueError):
        o = math.nan
    if isinstance(overspend, bool) or not math.isfinite(o):
        raise ParameterError("must be an amount of money", field="overspend", value=overspend)
    share = b / b.sum()
    return pd.DataFrame({"member": b.index, "baseline": b.to_numpy(), "share": share.to_numpy(),
                         "contribution": (o * share).to_numpy()})


def pooled_budget_shares(
    baseline_allocation: Mapping[str, float],
    pooled_budget: float | None = None,
    *,
    agreed: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Each member's share of a pooled budget: agreed shares, else pro rata to baseline.

    F001 para 86: "Each PCT's share of the pooled budget should be agreed at the outset (in
    the absence of agreement it should be on a pro rata to baseline allocation basis)":
    share_i = allocation_i / sum(allocation) unless ``agreed`` shares are given.

    Args:
        baseline_allocation: member -> baseline allocation (any money unit).
        pooled_budget: total to pool (default: the sum of the baseline allocations).
        agreed: member -> agreed share (fractions summing to 1) replacing pro rata.

    Returns:
        DataFrame ``member, baseline_allocation, share, contribution, basis``.
    """
    b = _members(baseline_allocation, "baseline_allocation")
    total = float(b.sum()) if pooled_budget is None else float(
        rate(pooled_budget, "pooled_budget", 0, math.inf))
    if agreed is None:
        share, basis = b / b.sum(), "pro rata to baseline allocation (F001 para 86)"
    else:
        a = _members(agreed, "agreed")
        if set(a.index) != set(b.index):
            diff = sorted(set(a.index) ^ set(b.index))
            raise ParameterError("agreed shares must name the same members", field="agreed",
                                 value=diff[0])
        if abs(a.sum() - 1.0) > 1e-9:
            raise ParameterError("agreed shares must sum to 1", field="agreed", value=a.sum())
        share, basis = a.reindex(b.index), "agreed at the outset"
    return pd.DataFrame({"member": b.index, "baseline_allocation": b.to_numpy(),
                         "share": share.to_numpy(), "contribution": (total * share).to_numpy(),
                         "basis": basis})


def norcom_tests(
    answers: Mapping[str, bool] | None = None,
    *,
    crude_rate: float | None = None,
    config: RiskSharingConfig | str | Path | None = None,
) -> pd.DataFrame:
    """NORCOM's four tests for whether to risk-share a service (F001 App 5 case study 8).

    "One or more of the following 4 criteria should be met": low incidence / high cost with
    small-number variation per PCT; a new service; critical-mass infrastructure; a pathway the
    commissioner cannot influence. Each answer is given (``answers``), or for the first test
    computed from ``crude_rate``: expected cases a year for one commissioner = crude rate x
    ``commissioner_population`` (F004: a PCT is "around a third of a million"); the test is met
    when the Poisson coefficient of variation 1/sqrt(cases) exceeds ``cv_threshold`` (0.2, an
    assumption: the seed gives no number).

    Args:
        answers: test -> True/False for the tests you have assessed (others: not assessed).
        crude_rate: cases per person a year (e.g. England demand / population).
        config: risk-sharing settings.

    Returns:
        DataFrame, one row per test plus ``overall``: ``test, text, met, basis``; ``overall`` is
        met when any test is met, not met when all four are assessed and none is, else
        ``None`` (not enough answers).
    """
    cfg = load_risk_sharing(config).norcom_tests
    answers = dict(answers or {})
    unknown = [k for k in answers if k not in cfg.tests]
    if unknown:
        raise ParameterError("unknown NORCOM test", field=f"answers[{unknown[0]}]",
                             hint=f"Use: {', '.join(cfg.tests)}")
    rows: list[dict[str, Any]] = []
    for key, text in cfg.tests.items():
        met: bool | None = None
        basis = "not assessed"
        if key in answers:
            if not isinstance(answers[key], bool | np.bool_):
                raise ParameterError("must be True or False", field=f"answers[{key}]",
                                     value=answers[key])
            met, basis = bool(answers[key]), "given"
        elif key == "low_incidence_high_cost" and crude_rate is not None:
            r = rate(crude_rate, "crude_rate", 0, 1)
            cases = r * cfg.commissioner_population
            cv = math.inf if cases <= 0 else 1 / math.sqrt(cases)
            met = cv > cfg.cv_threshold
            basis = (f"{cases:.1f} expected cases a year per commissioner of "
                     f"{cfg.commissioner_population:,.0f}; Poisson CV {cv:.2f} vs "
                     f"{cfg.cv_threshold:g} ({cfg.cv_threshold_kind})")
        rows.append({"test": key, "text": text, "met": met, "basis": basis})
    vals = [r["met"] for r in rows]
    overall = True if any(v is True for v in vals) else (False if all(v is False for v in vals)
                                                          else None)
    rows.append({"test": "overall", "text": "one or more of the four tests is met",
                 "met": overall, "basis": cfg.source})
    return pd.DataFrame(rows, columns=["test", "text", "met", "basis"])

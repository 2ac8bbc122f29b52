"""Parameter distributions with sources, and their seeded sampling (nhp_model style).

Any uncertain input of a service, model or scenario file can carry a distribution under an
``uncertainty:`` mapping, keyed by the name of the input::

    uncertainty:
      rate_level:            {distribution: gamma, cases: 12885, source: gdo_sts_2017_19}
      annual_change_percent: {distribution: normal, mean: 1.0, sd: 0.5, source: ncin_trend}
      case_definition:       {distribution: lognormal, median: 1.0, sd_log: 0.1,
                              assumption: "definitions differ by about 10%"}
      population_variant:    {distribution: choice, values: [npp2020, npp2018],
                              weights: [0.5, 0.5], assumption: "no basis to prefer either"}

Each Monte Carlo draw first samples every parameter, then the events (the Strategy Unit's
nhp_model does the same: a model run samples its parameters, then its activity). Draw 0 holds
every parameter at its central value. Samples are made by inverse transform of uniform
variates, ``x = F^-1(u)``, with one seeded stream per parameter name and block of draws
(:func:`hna.uncertainty.draw_blocks`), so a parameter's draws do not depend on the worker
count, on chunking, on the years requested or on which other parameters exist; changing a
distribution's spread keeps the same ``u`` (common random numbers: scenario and sensitivity
comparisons are not blurred by resampling).

Formulas and references: ``docs/methods/uncertainty.md``.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from hna.errors import ParameterError

__all__ = [
    "FAMILIES",
    "Distribution",
    "parse_uncertainty",
    "sample_parameters",
    "stream_id",
]

#: Families and the keys each accepts (besides the common ones).
FAMILIES: dict[str, tuple[tuple[str, ...], ...]] = {
    # alternatives: each tuple is one complete way of giving the family's parameters
    "normal": (("mean", "sd"), ("sd",), ("interval",)),
    "lognormal": (("median", "sd_log"), ("sd_log",), ("interval",)),
    "gamma": (("cases",), ("shape", "scale")),
    "beta": (("alpha", "beta"), ("mean", "n")),
    "triangular": (("low", "mode", "high"),),
    "uniform": (("low", "high"),),
    "choice": (("values",), ("values", "weights")),
}
_COMMON = {"distribution", "source", "assumption", "note", "lower", "upper", "level",
           "central", "unit"}
_NUMERIC = {"mean", "sd", "median", "sd_log", "cases", "shape", "scale", "alpha", "beta",
            "n", "low", "mode", "high"}

#: Offset of parameter streams inside a block (event streams use small numbers).
_PARAM_STREAM_OFFSET = 1_000


def stream_id(key: str) -> int:
    """The stream number of a named parameter: ``1000 + CRC-32(key)`` (stable across runs)."""
    return _PARAM_STREAM_OFFSET + zlib.crc32(key.encode("utf-8"))


class Distribution(BaseModel):
    """One uncertain input: a distribution family, its parameters and its source.

    Give exactly one of ``source`` (an id in the file's ``sources``) or ``assumption`` (the
    rationale, in words). ``lower``/``upper`` state the input's admissible range; the
    distribution must (practically) stay inside it and draws are checked against it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    distribution: Literal["normal", "lognormal", "gamma", "beta", "triangular", "uniform",
                          "choice"]
    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    sd_log: float | None = None
    interval: list[float] | None = Field(default=None, min_length=2, max_length=2,
                                         description="[low, high]: central `level` interval")
    level: float = Field(default=0.95, description="coverage of `interval`")
    cases: float | None = Field(default=None, description="gamma: factor ~ Gamma(cases, cases)")
    shape: float | None = None
    scale: float | None = None
    alpha: float | None = None
    beta: float | None = None
    n: float | None = Field(default=None, description="beta: effective sample size")
    low: float | None = None
    mode: float | None = None
    high: float | None = None
    values: list[str | float] | None = Field(default=None, min_length=1)
    weights: list[float] | None = None
    central: str | float | None = Field(default=None, description="choice: the central value")
    lower: float | None = None
    upper: float | None = None
    unit: str | None = None
    source: str | None = None
    assumption: str | None = Field(default=None, min_length=1)
    note: str | None = None

    @model_validator(mode="after")
    def _valid(self) -> Distribution:
        _check_family(self)
        _check_values(self)
        return self

    # ---------------------------------------------------------------- derived parameters
    def _z(self) -> float:
        return float(stats.norm.ppf(0.5 + self.level / 2))

    def _normal(self, default_mean: float | None = None) -> tuple[float, float]:
        if self.interval is not None:
            lo, hi = self.interval
            return (lo + hi) / 2, (hi - lo) / (2 * self._z())
        mean = self.mean if self.mean is not None else default_mean
        if mean is None:
            raise ParameterError("a normal distribution needs a mean (none given and no "
                                 "central value in the file)", field="mean")
        return float(mean), float(self.sd)

    def _lognormal(self, default_median: float | None = None) -> tuple[float, float]:
        if self.interval is not None:
            lo, hi = self.interval
            return math.sqrt(lo * hi), math.log(hi / lo) / (2 * self._z())
        med = self.median if self.median is not None else default_median
        if med is None:
            raise ParameterError("a lognormal distribution needs a median", field="median")
        return float(med), float(self.sd_log)

    def _gamma(self) -> tuple[float, float]:
        if self.cases is not None:
            return float(self.cases), 1.0 / float(self.cases)
        return float(self.shape), float(self.scale)

    def _beta(self) -> tuple[float, float]:
        if self.alpha is not None:
            return float(self.alpha), float(self.beta)
        return float(self.mean) * float(self.n), (1 - float(self.mean)) * float(self.n)

    def frozen(self, default: float | None = None) -> Any:
        """The scipy frozen distribution (numeric families); ``default`` fills a missing centre."""
        d = self.distribution
        if d == "normal":
            m, s = self._normal(default)
            return stats.norm(m, s)
        if d == "lognormal":
            med, s = self._lognormal(default)
            return stats.lognorm(s, scale=med)
        if d == "gamma":
            a, sc = self._gamma()
            return stats.gamma(a, scale=sc)
        if d == "beta":
            a, b = self._beta()
            return stats.beta(a, b)
        if d == "triangular":
            lo, mo, hi = float(self.low), float(self.mode), float(self.high)
            return stats.triang((mo - lo) / (hi - lo) if hi > lo else 0.5, loc=lo,
                                scale=hi - lo)
        if d == "uniform":
            return stats.uniform(float(self.low), float(self.high) - float(self.low))
        raise ParameterError("a choice has no continuous distribution", field="distribution")

    def central_value(self, default: float | None = None) -> float | str:
        """The value used by draw 0 and by ``draws=0``.

        Mean (normal, gamma, beta), median (lognormal), mode (triangular), midpoint (uniform),
        ``central`` or the first value (choice). ``default`` is the file's own value, used
        when a normal or lognormal gives no centre.
        """
        d = self.distribution
        if d == "choice":
            return self.central if self.central is not None else self.values[0]
        if d == "normal":
            return self._normal(default)[0]
        if d == "lognormal":
            return self._lognormal(default)[0]
        if d == "triangular":
            return float(self.mode)
        if d == "uniform":
            return (float(self.low) + float(self.high)) / 2
        return float(self.frozen().mean())

    def from_uniform(self, u: np.ndarray, default: float | None = None) -> np.ndarray:
        """Inverse-transform ``u`` in (0, 1) to values of this distribution."""
        if self.distribution == "choice":
            w = np.asarray(self.weights if self.weights is not None
                           else [1.0] * len(self.values), dtype=float)
            cum = np.cumsum(w / w.sum())
            idx = np.minimum(np.searchsorted(cum, u, side="right"), len(self.values) - 1)
            return np.asarray(self.values, dtype=object)[idx]
        x = self.frozen(default).ppf(u)
        if self.lower is not None or self.upper is not None:
            x = np.clip(x, self.lower if self.lower is not None else -np.inf,
                        self.upper if self.upper is not None else np.inf)
        return x

    def describe(self, default: float | None = None) -> str:
        """One line for reports: family, parameters and source."""
        d = self.distribution
        if d == "choice":
            w = self.weights or [1.0 / len(self.values)] * len(self.values)
            body = ", ".join(f"{v} {p / sum(w):.0%}" for v, p in zip(self.values, w, strict=True))
        elif d == "normal":
            m, s = self._normal(default)
            body = f"mean {m:g}, sd {s:g}"
        elif d == "lognormal":
            m, s = self._lognormal(default)
            body = f"median {m:g}, sd of log {s:g}"
        elif d == "gamma":
            body = (f"as from {self.cases:,.0f} cases (CV {1 / math.sqrt(self.cases):.1%})"
                    if self.cases is not None else f"shape {self.shape:g}, scale {self.scale:g}")
        elif d == "beta":
            a, b = self._beta()
            body = f"alpha {a:g}, beta {b:g}"
        elif d == "triangular":
            body = f"{self.low:g} / {self.mode:g} / {self.high:g}"
        else:
            body = f"{self.low:g} to {self.high:g}"
        why = f"source {self.source}" if self.source else f"assumption: {self.assumption}"
        return f"{d} ({body}); {why}"


def _check_family(d: Distribution) -> None:
    given = {k for k in Distribution.model_fields if getattr(d, k) is not None
             and k not in _COMMON}
    ways = FAMILIES[d.distribution]
    if not any(given == set(w) for w in ways):
        allowed = " or ".join("{" + ", ".join(w) + "}" for w in ways)
        raise ValueError(f"a {d.distribution} distribution takes {allowed} (got "
                         f"{{{', '.join(sorted(given))}}})")
    if (d.source is None) == (d.assumption is None):
        raise ValueError("give exactly one of 'source' (an id in sources) or 'assumption' "
                         "(the rationale in words)")
    if d.central is not None and d.distribution != "choice":
        raise ValueError("'central' is for choice distributions")


class _KeyError(ValueError):
    """A value error that knows the key it is about (for the message's field path)."""

    def __init__(self, key: str, value: Any, why: str) -> None:
        super().__init__(f"{key} {why} (got {value!r})")
        self.key, self.value, self.plain = key, value, f"{key} {why}"


def _bad(key: str, value: Any, why: str) -> ValueError:
    return _KeyError(key, value, why)


def _check_values(d: Distribution) -> None:
    for k in _NUMERIC | {"lower", "upper"}:
        v = getattr(d, k)
        if v is not None and not math.isfinite(v):
            raise _bad(k, v, "must be a finite number")
    for k in ("sd", "sd_log"):
        v = getattr(d, k)
        if v is not None and v < 0:
            raise _bad(k, v, "must be >= 0 (a standard deviation)")
    for k in ("cases", "shape", "scale", "alpha", "beta", "n", "median"):
        v = getattr(d, k)
        if v is not None and v <= 0:
            raise _bad(k, v, "must be > 0")
    if not 0 < d.level < 1:
        raise _bad("level", d.level, "must be between 0 and 1")
    if d.interval is not None:
        lo, hi = d.interval
        if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
            raise _bad("interval", d.interval, "must be [low, high] with low < high")
        if d.distribution == "lognormal" and lo <= 0:
            raise _bad("interval", d.interval, "must be positive for a lognormal")
    if d.distribution == "beta" and d.mean is not None and not 0 < d.mean < 1:
        raise _bad("mean", d.mean, "must be a probability strictly between 0 and 1")
    if d.distribution == "triangular" and not d.low <= d.mode <= d.high or (
            d.distribution in ("triangular", "uniform") and d.high <= d.low):
        raise ValueError(f"need low <= mode <= high and low < high (got {d.low!r}, "
                         f"{d.mode!r}, {d.high!r})")
    if d.weights is not None:
        if len(d.weights) != len(d.values):
            raise _bad("weights", d.weights, "need one weight per value")
        if any((not math.isfinite(w)) or w < 0 or w > 1 for w in d.weights) or abs(
                sum(d.weights) - 1) > 1e-6:
            raise _bad("weights", d.weights, "must be probabilities in [0, 1] summing to 1")
    if d.central is not None and d.central not in d.values:
        raise _bad("central", d.central, "must be one of the values")
    if d.distribution == "beta":
        if (d.lower is not None and d.lower > 0) or (d.upper is not None and d.upper < 1):
            raise ValueError("a beta distribution spans [0, 1]; do not narrow it")
    _check_support(d)


def _check_support(d: Distribution, default: float | None = None) -> None:
    """The distribution must stay in [lower, upper] except with probability < 1e-6."""
    if d.distribution == "choice" or (d.lower is None and d.upper is None):
        return
    if d.distribution in ("normal", "lognormal") and d.interval is None and (
            d.mean is None and d.median is None):
        return  # centre comes from the file: checked when the file is read (check_range)
    f = d.frozen(default)
    lo_q, hi_q = float(f.ppf(1e-6)), float(f.ppf(1 - 1e-6))
    if d.lower is not None and lo_q < d.lower:
        raise _bad("lower", d.lower, f"is not respected: the distribution's 1-in-a-million low "
                   f"value is {lo_q:.4g}; narrow the spread or move the centre")
    if d.upper is not None and hi_q > d.upper:
        raise _bad("upper", d.upper, f"is not respected: the distribution's 1-in-a-million "
                   f"high value is {hi_q:.4g}; narrow the spread or move the centre")


def check_range(d: Distribution, lower: float | None, upper: float | None, *,
                default: float | None = None, field: str = "distribution",
                source: str | None = None, what: str = "value") -> None:
    """Raise unless ``d`` lies in ``[lower, upper]`` with probability at least 1 - 1e-6.

    Used for bounds a distribution states itself and for those its use implies (an annual
    change of -100% or less would make a rate negative; a probability must lie in [0, 1]).
    """
    if d.distribution == "choice":
        return
    f = d.frozen(default)
    lo_q, hi_q = float(f.ppf(1e-6)), float(f.ppf(1 - 1e-6))
    if lower is not None and lo_q < lower:
        raise ParameterError(f"the distribution goes below {lower:g}, where the {what} is "
                             f"impossible (its 1-in-a-million low value is {lo_q:.4g})",
                             source=source, field=field, value=d.describe(default),
                             hint="Narrow the spread or move the centre")
    if upper is not None and hi_q > upper:
        raise ParameterError(f"the distribution goes above {upper:g}, where the {what} is "
                             f"impossible (its 1-in-a-million high value is {hi_q:.4g})",
                             source=source, field=field, value=d.describe(default),
                             hint="Narrow the spread or move the centre")


def parse_uncertainty(raw: Any, *, source: str | None = None, field: str = "uncertainty",
                      sources: set[str] | None = None) -> dict[str, Distribution]:
    """Validate an ``uncertainty:`` mapping into ``{name: Distribution}``.

    Args:
        raw: the mapping read from YAML (or built in Python).
        source: the file, for messages.
        field: the mapping's key path, for messages.
        sources: ids of the file's ``sources``; each ``source:`` must be one of them.

    Raises:
        ParameterError: naming the file, ``<field>.<name>[.<key>]`` and the value.
    """
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ParameterError("expected a mapping of input name -> distribution", source=source,
                             field=field, value=type(raw).__name__)
    out: dict[str, Distribution] = {}
    for name, spec in raw.items():
        where = f"{field}.{name}"
        if isinstance(spec, Distribution):
            out[str(name)] = spec
        else:
            try:
                out[str(name)] = Distribution.model_validate(spec)
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(x) for x in err["loc"])
                msg = err["msg"].removeprefix("Value error, ")
                inner = (err.get("ctx") or {}).get("error")
                value = err.get("input") if loc else None
                if isinstance(inner, _KeyError):
                    loc, value, msg = inner.key, inner.value, inner.plain
                raise ParameterError(msg, source=source,
                                     field=f"{where}.{loc}" if loc else where,
                                     value=value) from None
        d = out[str(name)]
        if sources is not None and d.source is not None and d.source not in sources:
            raise ParameterError("missing source: no entry in 'sources' has this id",
                                 source=source, field=f"{where}.source", value=d.source,
                                 hint=f"Known ids: {', '.join(sorted(sources))}")
    return out


def sample_parameters(
    dists: Mapping[str, Distribution],
    draws: int,
    seed: int | np.random.SeedSequence,
    *,
    namespace: str,
    start: int = 0,
    defaults: Mapping[str, float] | None = None,
) -> dict[str, np.ndarray]:
    """Draws of every parameter: ``{name: array(draws)}``, row ``i`` = global draw ``start + i``.

    Global draw 0 holds every parameter at its central value (:meth:`Distribution.central_value`).
    Parameter ``name`` uses the stream ``stream_id(namespace + '.' + name)`` of each seeding
    block, so its draws depend only on (seed, namespace, name, draw index).

    Args:
        dists: the distributions, e.g. from :func:`parse_uncertainty`.
        draws: number of draws (>= 1).
        seed: non-negative integer or ``SeedSequence``.
        namespace: what the parameters belong to (service id, model file stem, ...).
        start: first global draw index (for chunked runs).
        defaults: the file's own central values for normal/lognormal without a centre.
    """
    from hna.uncertainty import draw_blocks

    defaults = dict(defaults or {})
    out: dict[str, np.ndarray] = {}
    blocks = list(draw_blocks(seed, draws, start=start))
    for name, d in dists.items():
        sid = stream_id(f"{namespace}.{name}")
        parts = []
        for b in blocks:
            u = b.rng(sid).random(b.n_generate)[b.skip:]
            parts.append(d.from_uniform(u, defaults.get(name)))
        vals = np.concatenate(parts)
        if start == 0:
            vals[0] = d.central_value(defaults.get(name))
        out[name] = vals
    return out

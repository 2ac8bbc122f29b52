"""Monte Carlo demand for a rate-based service: each draw samples the parameters, then the events.

For draw ``d``, footprint ``a`` and year ``y`` the expected count is

    mu[d, a, y] = L[d] x C[d] x m[d, y] x sum_c A[v_d][y, c, a] x G[d, c]

with ``A[v][y, c, a] = population_v x scope share x base rate x fixed multiplier`` for cell
``c`` (sex x age band) under population projection variant ``v``, and the sampled parameters:

- ``G[d, c] ~ Gamma(cases_c, cases_c)`` (mean 1): the rate of each cell from its gamma
  posterior given the registry counts (or ``rates.equivalent_cases``), shared by every area and
  year (stream 0 of the seeding block);
- ``L[d]`` (``uncertainty.rate_level``) and ``C[d]`` (``uncertainty.case_definition``):
  factors that move every rate together;
- ``m[d, y] = exp(beta_d x D(max(0, y - anchor)))``, ``beta_d = log(1 + p_d / 100)`` with the
  annual change ``p_d`` (``uncertainty.annual_change_percent``, or the fitted drift and its
  standard error), compounding from the stated anchor year: its uncertainty grows with the
  horizon and makes draws correlated across years;
- ``v_d`` (``uncertainty.population_variant``): which national projection the draw uses.

Then ``Y[d, a, y] ~ Poisson(mu[d, a, y])`` from the stream ``10_000 + y`` of the draw's
block, so a year's counts do not depend on which other years are requested. Draw 0 has every
parameter at its central value (its events are still Poisson).

Formulas and references: ``docs/methods/uncertainty.md``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hna.distributions import Distribution, sample_parameters
from hna.errors import ParameterError
from hna.uncertainty import draw_blocks, quantile_columns, summarise_array

__all__ = [
    "COMPONENTS",
    "RateModel",
    "simulate_rate_model",
    "estimate_bytes",
    "check_memory",
    "memory_limit_bytes",
]

#: The sources of uncertainty of a rate model, in reporting order.
COMPONENTS: tuple[str, ...] = ("poisson", "rates", "rate_level", "case_definition",
                               "annual_change_percent", "population_variant")

_STREAM_RATES = 0
_STREAM_YEAR = 10_000

#: Default ceiling for the memory a run may need (GiB); env ``HNA_MAX_MEMORY_GB`` overrides.
DEFAULT_MEMORY_GB = 4.0


def memory_limit_bytes(limit_gb: float | None = None) -> float:
    """The memory ceiling in bytes: ``limit_gb``, else ``$HNA_MAX_MEMORY_GB``, else 4 GiB."""
    if limit_gb is None:
        env = os.environ.get("HNA_MAX_MEMORY_GB")
        try:
            limit_gb = float(env) if env else DEFAULT_MEMORY_GB
        except ValueError:
            raise ParameterError("must be a number of GiB", field="HNA_MAX_MEMORY_GB",
                                 value=env) from None
    if not np.isfinite(limit_gb) or limit_gb <= 0:
        raise ParameterError("must be a positive number of GiB", field="memory_limit_gb",
                             value=limit_gb)
    return float(limit_gb) * 2**30


def estimate_bytes(n_outputs: int, draws: int, n_cells: int = 38, keep_draws: bool = True,
                   ) -> float:
    """Peak bytes for ``draws`` draws of ``n_outputs`` (area x year) totals.

    Counts held as int64 (8 bytes) plus the long draws table (area, year, draw, value and the
    summaries' working copies: about 64 bytes a row, measured by benchmarks/bench_projection.py)
    when draws are kept; per-draw parameters and cell rate factors
    (``8 x (n_cells + 8)`` bytes a draw).
    """
    per_draw = 8.0 * (n_cells + 8)
    kept = (8.0 + 64.0) * n_outputs if keep_draws else 0.0
    return float(draws) * (per_draw + kept)


def check_memory(n_outputs: int, draws: int, *, n_cells: int = 38, keep_draws: bool = True,
                 limit_gb: float | None = None, field: str = "draws") -> None:
    """Refuse, before allocating anything, a run that would need more memory than the limit.

    Raises:
        ParameterError: naming ``field`` and the draws, with the estimate and the limit.
    """
    need = estimate_bytes(n_outputs, draws, n_cells, keep_draws)
    limit = memory_limit_bytes(limit_gb)
    if need > limit:
        raise ParameterError(
            f"{draws:,} draws of {n_outputs:,} footprint-years would need about "
            f"{need / 2**30:,.1f} GiB of memory (limit {limit / 2**30:g} GiB)",
            field=field, value=draws,
            hint="Use fewer draws (1,000 give stable 95% intervals), or raise the limit with "
            "HNA_MAX_MEMORY_GB", )


@dataclass
class RateModel:
    """What a rate service's demand needs that does not change between draws.

    Attributes:
        areas: footprint codes (output order).
        years: calendar years (output order).
        exposure: ``{variant: array (years, cells, areas)}`` of expected counts per unit of
            every factor (population x scope share x base rate x fixed multiplier).
        shapes: gamma shape per cell (registry cases), or ``None`` for fixed rates.
        dists: the sampled parameters (``rate_level``, ``case_definition``,
            ``annual_change_percent``, ``population_variant``).
        central: the central values (``annual_change_percent`` for a trend; the variant).
        anchor: the year the trend compounds from (``None`` without a trend).
        damping: trend damping (``hna.incidence.damped_drift``).
        namespace: seeds parameter streams (the service id).
    """

    areas: list[str]
    years: list[int]
    exposure: dict[str, np.ndarray]
    shapes: np.ndarray | None
    dists: dict[str, Distribution]
    central: dict[str, Any]
    anchor: int | None = None
    damping: float = 1.0
    namespace: str = "service"
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def central_variant(self) -> str:
        """The population variant of draw 0 and of the expected values."""
        return str(self.central["population_variant"])

    def drift(self) -> np.ndarray:
        """``D(max(0, y - anchor))`` for each year (zeros without a trend)."""
        if self.anchor is None:
            return np.zeros(len(self.years))
        from hna.incidence import damped_drift

        t = np.maximum(0, np.asarray(self.years) - self.anchor)
        return np.asarray(damped_drift(t, self.damping), dtype=float)

    def expected(self, values: Mapping[str, Any] | None = None) -> np.ndarray:
        """Expected counts ``(areas, years)`` with parameters at ``values`` (default central)."""
        v = {**self.central, **(values or {})}
        base = self.exposure[str(v["population_variant"])].sum(axis=1)  # (years, areas)
        scale = float(v.get("rate_level", 1.0)) * float(v.get("case_definition", 1.0))
        beta = np.log1p(float(v.get("annual_change_percent", 0.0)) / 100.0)
        return (base * (scale * np.exp(beta * self.drift()))[:, None]).T

    def components(self) -> list[str]:
        """The sources of uncertainty this model has, in :data:`COMPONENTS` order."""
        have = {"poisson"} | ({"rates"} if self.shapes is not None else set()) | set(self.dists)
        return [c for c in COMPONENTS if c in have]


def _parameters(model: RateModel, n: int, lo: int, seed: Any, vary: set[str]
                ) -> dict[str, np.ndarray]:
    """Per-draw parameters for global draws ``lo .. lo + n - 1`` (central where not varied)."""
    use = {k: d for k, d in model.dists.items() if k in vary}
    defaults = {k: v for k, v in model.central.items() if isinstance(v, int | float)}
    out = sample_parameters(use, n, seed, namespace=model.namespace, start=lo,
                            defaults=defaults) if use else {}
    for k in ("rate_level", "case_definition", "annual_change_percent", "population_variant"):
        if k not in out:
            out[k] = np.full(n, model.central.get(k, 1.0 if k != "annual_change_percent"
                                                  else 0.0), dtype=object if
                             k == "population_variant" else float)
    if (out["annual_change_percent"].astype(float) <= -100).any():
        raise ParameterError("a sampled annual change is -100% or less (a negative rate)",
                             field="uncertainty.annual_change_percent",
                             value=float(out["annual_change_percent"].astype(float).min()))
    return out


def simulate_rate_model(
    model: RateModel,
    draws: int,
    seed: Any,
    *,
    vary: Sequence[str] | None = None,
    quantiles: Sequence[float] | None = None,
    keep_draws: bool = True,
) -> dict[str, Any]:
    """Draws of demand, or their summaries, for every footprint and year of ``model``.

    Args:
        model: the :class:`RateModel`.
        draws: number of draws (>= 1).
        seed: non-negative integer or ``SeedSequence``.
        vary: the sources of uncertainty to sample (default all of :meth:`RateModel.components`);
            the others stay at their central values (``'poisson'`` off gives the expected
            counts of each draw, rounded to no integer).
        quantiles: with ``keep_draws=False``, summaries are computed year by year and the
            draws are never all held at once.
        keep_draws: return ``counts`` ``(areas, years, draws)``.

    Returns:
        ``{"counts": array or None, "summary": array (areas, years, 1 + len(quantiles)) or
        None, "columns": [...]}``; counts are int64 when Poisson noise is on, float otherwise.
    """
    vary_set = set(model.components() if vary is None else vary)
    unknown = vary_set - set(COMPONENTS)
    if unknown:
        raise ParameterError("unknown source of uncertainty", field="vary",
                             value=sorted(unknown), hint=f"Use any of {', '.join(COMPONENTS)}")
    blocks = list(draw_blocks(seed, draws))
    n_a, n_y = len(model.areas), len(model.years)
    poisson = "poisson" in vary_set
    dtype = np.int64 if poisson else float
    counts = np.empty((n_a, n_y, draws), dtype=dtype) if keep_draws else None
    qs = list(quantiles) if quantiles is not None else None
    summary = np.empty((n_a, n_y, 1 + len(qs))) if qs is not None else None
    drift = model.drift()
    # Parameters and cell rate factors per block, for every generated draw (skipped ones too,
    # so that the Poisson streams are consumed as in an unchunked run).
    plan = []
    for b in blocks:
        lo, n = b.start - b.skip, b.n_generate
        p = _parameters(model, n, lo, seed, vary_set)
        g = None
        if model.shapes is not None:
            if "rates" in vary_set:
                sh = np.where(model.shapes > 0, model.shapes, 1.0)
                g = b.rng(_STREAM_RATES).gamma(sh, 1.0, size=(n, sh.size)) / sh
                if lo == 0:
                    g[0] = 1.0
            else:
                g = np.ones((n, model.shapes.size))
        scale = p["rate_level"].astype(float) * p["case_definition"].astype(float)
        beta = np.log1p(p["annual_change_percent"].astype(float) / 100.0)
        variants = p["population_variant"].astype(str)
        plan.append((b, g, scale, beta, variants))
    for yi, year in enumerate(model.years):
        year_out = np.empty((n_a, draws), dtype=dtype) if not keep_draws else None
        for b, g, scale, beta, variants in plan:
            mu = np.empty((b.n_generate, n_a))
            for v in np.unique(variants):
                rows = variants == v
                ex = model.exposure[v][yi]  # (cells, areas)
                mu[rows] = g[rows] @ ex if g is not None else ex.sum(axis=0)[None, :]
            mu *= (scale * np.exp(beta * drift[yi]))[:, None]
            vals = b.rng(_STREAM_YEAR + int(year)).poisson(mu) if poisson else mu
            kept = vals[b.skip:].T
            lo, hi = b.start, b.stop
            if keep_draws:
                counts[:, yi, lo:hi] = kept
            else:
                year_out[:, lo:hi] = kept
        if qs is not None:
            src = counts[:, yi, :] if keep_draws else year_out
            summary[:, yi, :] = summarise_array(src, qs, overwrite=not keep_draws)
    cols = ["mean", *quantile_columns(qs)] if qs is not None else []
    return {"counts": counts, "summary": summary, "columns": cols}

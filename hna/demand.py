"""Demand for a service in a footprint by year: expected cases or patients, with intervals.

:func:`service_demand` is the one call a notebook needs::

    from hna.demand import service_demand
    r = service_demand("soft_tissue_sarcoma", "E12000009", years="2025:2040", draws=1000, seed=1)
    r.summary      # area_code, name, year, population, expected, mean, q0.025 ... q0.975
    r.draws        # area_code, year, draw, cases (or patients)
    r.by_band      # expected by year x sex x age band, with the rate used
    r.population   # the footprint's population by year x sex x band
    r.meta         # hna version, parameter hash, data vintages, seed, projection label ...

:func:`level_demand` does the same for every footprint of a level (all 42 ICBs at once).

The pipeline, for each footprint and year:

1. population: the bundled ONS mid-2020 district population (or one passed in) is summed into
   the footprint(s) (:func:`hna.geography.aggregate` / :func:`~hna.geography.aggregate_level`)
   and projected (:func:`hna.population.project`, national-trend method). Summing before
   projecting gives the same numbers as the reverse, because the growth ratios are national;
2. incidence (and prevalence-by-rate) services: expected demand ``E = sum over sex and band of
   rate x multiplier(year) x population x scope share``, where the scope share is the part of
   the band inside the service's ages (:func:`hna.services.scope_weights`) and the multiplier
   is the projection of the rates (constant: 1; trend: ``(1 + APC)^D(t)`` or a fitted drift;
   nordpred: projected / last observed rate per age group). Draws come from
   :func:`hna.incidence.simulate`: a gamma draw of each rate (when the rates carry counts or
   ``equivalent_cases``) shared by every area and year, then Poisson counts. The multiplier is
   folded into the population passed to ``simulate`` (``rate x (m x population)`` is the same
   mean), so the rate draws stay shared across years;
3. model services (``kind: prevalence`` with ``model:``, e.g. dialysis): the renal replacement
   therapy stock-and-flow model (:func:`hna.prevalence.simulate_rrt`), started from the
   national stock per person at the end of the year before the population's base year (see
   :func:`_rrt_start`) and run on the footprint's projected population.

Everything random is seeded: the same seed gives the same numbers. ``meta`` records the hna
version, a SHA-256 of the canonical service parameters and run settings, data vintages, the
seed and the population projection used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, SEX_DTYPE
from hna.checks import check_draws
from hna.errors import DataError, ParameterError
from hna.incidence.rate_projection import rate_multipliers
from hna.population import parse_years  # noqa: F401  (re-exported: hna.demand.parse_years)
from hna.provenance import META_KEYS, build_meta
from hna.services import Service, load_service, parameter_hash, scope_weights, service_rates

__all__ = [
    "DEFAULT_QUANTILES",
    "DemandResult",
    "draw_matrix",
    "service_demand",
    "level_demand",
    "rate_multipliers",
    "parse_years",
]

#: Quantiles reported by default: 95% and 80% intervals and the median.
DEFAULT_QUANTILES: tuple[float, ...] = (0.025, 0.1, 0.5, 0.9, 0.975)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


@dataclass
class DemandResult:
    """Demand for one service in one or more footprints, by year.

    Attributes:
        service: the :class:`hna.services.Service`.
        summary: ``area_code, name, year, population, scope_population, expected, mean,
            q0.025, q0.1, q0.5, q0.9, q0.975, crude_per_100k``: expected is rate x population
            (or the model's expected-value run), mean and quantiles are of the draws;
            ``crude_per_100k`` = expected / population x 100,000 (whole population).
        draws: ``area_code, year, draw, <value>`` (value ``cases`` or ``patients``); empty
            when ``draws=0``.
        by_band: ``area_code, year, sex, age_band, population, scope_population,
            rate_per_100k, expected`` (expected-value detail).
        population: the footprints' population, ``area_code, sex, age_band, year,
            population``.
        meta: provenance: hna version, service id, scenario, parameter hash, data vintages,
            seed, draws, years, projection label, rate projection, what the intervals include
            (``interval_includes``), footprints.
        rate_model: for rate services, the :class:`hna.incidence.rate_draws.RateModel` (reused by
            :func:`hna.sensitivity.sensitivity` and the explorer).
    """

    service: Service
    summary: pd.DataFrame
    draws: pd.DataFrame
    by_band: pd.DataFrame
    population: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    rate_model: Any = field(default=None, repr=False)
    _matrix: tuple[pd.DataFrame, np.ndarray] | None = field(default=None, repr=False)

    @property
    def value(self) -> str:
        """Demand column name: ``cases`` (incidence) or ``patients`` (prevalence)."""
        return self.service.value

    @property
    def years(self) -> list[int]:
        """The years of the result, ascending."""
        return sorted(int(y) for y in self.summary["year"].unique())

    @property
    def areas(self) -> list[str]:
        """The footprint codes of the result, in order."""
        return list(dict.fromkeys(self.summary["area_code"]))

    def draws_matrix(self, area_code: str | None = None) -> np.ndarray:
        """Draws as an array ``(years, draws)`` for one footprint (the only one by default)."""
        area = self._area(area_code)
        if self.draws.empty:
            raise ParameterError("no draws in this result (draws=0)", field="draws",
                                 hint="Run with draws=1000 for intervals and probabilities")
        keys, mat = self.matrix()
        sel = (keys["area_code"] == area).to_numpy()
        order = np.argsort(keys.loc[sel, "year"].to_numpy(), kind="stable")
        return mat[sel][order]

    def matrix(self) -> tuple[pd.DataFrame, np.ndarray]:
        """All draws as ``(keys, matrix)``: keys ``area_code, year``, array ``(keys, draws)``.

        Computed once and cached.
        """
        if self._matrix is None:
            self._matrix = draw_matrix(self.draws, self.value)
        return self._matrix

    def _area(self, area_code: str | None) -> str:
        areas = self.areas
        if area_code is None:
            if len(areas) != 1:
                raise ParameterError("this result holds several footprints: name one",
                                     field="area_code", value=None,
                                     hint=f"One of {', '.join(areas[:5])} ...")
            return areas[0]
        if area_code not in areas:
            raise ParameterError("footprint not in this result", field="area_code",
                                 value=area_code)
        return area_code

    def headline(self, area_code: str | None = None) -> pd.DataFrame:
        """The summary rows of one footprint."""
        area = self._area(area_code)
        return self.summary[self.summary["area_code"] == area].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def _base_population(population: pd.DataFrame | str | Path | None) -> pd.DataFrame:
    from hna import population as pop_mod

    if population is None:
        return pop_mod.default_population()
    if isinstance(population, str | Path):
        return pop_mod.load_population(population)
    if isinstance(population, pd.DataFrame):
        return pop_mod.validate_population(population, source="population")
    raise ParameterError("population must be a table or a file path", field="population",
                         value=type(population).__name__)


def _footprints(footprint: Any) -> list:
    from hna.geography import Footprint, resolve_footprint

    items = [footprint] if isinstance(footprint, str | Footprint) else list(footprint)
    if not items:
        raise ParameterError("no footprint given", field="footprint")
    return [f if isinstance(f, Footprint) else resolve_footprint(f) for f in items]


# --------------------------------------------------------------------------------------------
# Core
# --------------------------------------------------------------------------------------------


def _projected(base: pd.DataFrame, footprint: Any, level: str | None, years: list[int],
               variant: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Population of the footprints for ``years``, their names, and the projection label."""
    agg, names = _aggregated(base, footprint, level)
    pop, label = _project(agg, years, variant)
    return pop, names, label


def _project(agg: pd.DataFrame, years: list[int], variant: str) -> tuple[pd.DataFrame, str]:
    from hna.population import project, projection_label

    pop = project(agg, years, variant=variant)
    label = projection_label(pop)
    pop = pop[["area_code", "sex", "age_band", "year", "population"]].reset_index(drop=True)
    return pop, label


def _aggregated(base: pd.DataFrame, footprint: Any, level: str | None,
                allow_missing: bool = False, source: str | None = None,
                ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Base-year population summed into the footprints, and their names.

    A footprint district missing from ``base`` is a DataError naming ``source`` (the
    population file), or a warning when ``allow_missing``.
    """
    from hna import geography

    if level is not None:
        agg = geography.aggregate_level(base, level, value="population")
        codes = sorted(agg["area_code"].unique())
        names = pd.DataFrame({"area_code": codes,
                              "name": [geography.area_name(c) for c in codes]})
    else:
        fps = _footprints(footprint)
        parts = [geography.aggregate(base, fp, value="population", allow_missing=allow_missing,
                                     source=source) for fp in fps]
        agg = pd.concat(parts, ignore_index=True)
        agg.attrs = dict(base.attrs)
        names = pd.DataFrame({"area_code": [f.code for f in fps], "name": [f.name for f in fps],
                              "level": [f.level for f in fps], "note": [f.note for f in fps]})
    agg["sex"] = agg["sex"].astype(SEX_DTYPE)
    agg["age_band"] = agg["age_band"].astype(AGE_BAND_DTYPE)
    return agg, names


def _rate_demand(svc: Service, pops: dict[str, pd.DataFrame], years: list[int], draws: int,
                 seed: int, variant: str, keep_draws: bool = True,
                 quantiles: Sequence[float] | None = None,
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    from hna.incidence.rate_draws import simulate_rate_model
    from hna.service_uncertainty import describe_uncertainty, rate_model

    pop = pops[variant]
    areas = list(dict.fromkeys(pop["area_code"]))
    model = rate_model(svc, pops, years, areas, variant)
    by_band = _by_band(svc, pop, years, variant, model)
    keys = ["area_code", "year"]
    totals = by_band.groupby(keys, as_index=False).agg(
        population=("population", "sum"), scope_population=("scope_population", "sum"),
        expected=("expected", "sum"))
    info: dict[str, Any] = {
        "rate_projection": _projection_text(svc, model),
        "rate_uncertainty": "none (expected values only)",
        "interval_includes": [],
        "uncertain_inputs": {k: d.describe(model.central.get(k) if isinstance(
            model.central.get(k), float) else None) for k, d in model.dists.items()},
        "_model": model,
    }
    empty = pd.DataFrame(columns=[*keys, "draw", svc.value])
    if draws == 0:
        return totals, empty, by_band, info
    sim = simulate_rate_model(model, draws, seed, keep_draws=keep_draws,
                              quantiles=None if keep_draws else quantiles)
    info["interval_includes"] = describe_uncertainty(svc, model)
    info["rate_uncertainty"] = "; ".join(info["interval_includes"])
    if not keep_draws:
        info["_summary"] = (sim["summary"], sim["columns"])
        return totals, empty, by_band, info
    counts = sim["counts"]  # (areas, years, draws)
    n_a, n_y, n_d = counts.shape
    d = pd.DataFrame({
        "area_code": np.repeat(np.asarray(areas, dtype=object), n_y * n_d),
        "year": np.tile(np.repeat(np.asarray(years, dtype=np.int64), n_d), n_a),
        "draw": np.tile(np.arange(n_d, dtype=np.int64), n_a * n_y),
        svc.value: counts.ravel(),
    }, copy=False)
    return totals, d, by_band, info


def _by_band(svc: Service, pop: pd.DataFrame, years: list[int], variant: str,
             model: Any) -> pd.DataFrame:
    """Expected values by area, year, sex and band, every parameter at its central value."""
    rates = service_rates(svc)
    w = scope_weights(svc)
    mult = rate_multipliers(svc, years, variant)
    cells = pop[pop["year"].isin(years)].merge(mult, on=["year", "sex", "age_band"],
                                               how="left")
    wt = pd.DataFrame([(s, b, v) for (s, b), v in w.items()],
                      columns=["sex", "age_band", "scope"])
    wt["sex"] = wt["sex"].astype(SEX_DTYPE)
    wt["age_band"] = wt["age_band"].astype(AGE_BAND_DTYPE)
    cells = cells.merge(wt, on=["sex", "age_band"], how="left")
    cells = cells.merge(rates[["age_band", "sex", "rate"]], on=["sex", "age_band"], how="left")
    cells["rate"] = cells["rate"].fillna(0.0)
    scale = float(model.central["rate_level"]) * float(model.central["case_definition"])
    cells["multiplier"] = cells["multiplier"] * scale
    cells["scope_population"] = cells["population"] * cells["scope"]
    cells["expected"] = cells["scope_population"] * cells["multiplier"] * cells["rate"]
    cells["rate_per_100k"] = cells["rate"] * cells["multiplier"] * 1e5
    return cells[["area_code", "year", "sex", "age_band", "population", "scope_population",
                  "rate_per_100k", "expected"]].sort_values(
        ["area_code", "year", "sex", "age_band"]).reset_index(drop=True)


def _projection_text(svc: Service, model: Any = None) -> str:
    p = svc.projection
    if p.method == "constant":
        return "constant: base rates held at their reference level (demographic change only)"
    if p.method == "trend":
        how = (f"assumed {p.annual_change_percent:+g}% a year" if p.annual_change_percent
               is not None else f"drift fitted to {p.history}")
        damp = "" if p.damping == 1 else f", damped by {p.damping:g} a year"
        anchor = model.anchor if model is not None else p.base_year
        return (f"trend: {how}, compounding from {anchor} (rates up to {anchor} at their "
                f"base level){damp}")
    return f"nordpred: age-period-cohort projection fitted to {p.history} (link {p.link})"


# --------------------------------------------------------------------------------------------
# Prevalence model (renal replacement therapy)
# --------------------------------------------------------------------------------------------

def _model_demand(svc: Service, pop: pd.DataFrame, years: list[int], draws: int, seed: int,
                  model_draws: str = "poisson"
                  ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict]:
    """Model service (dialysis): tables from :func:`hna.prevalence.projection.demand_tables`."""
    from hna import prevalence as prev
    from hna.prevalence.projection import demand_tables, measure_modalities

    params = prev.load_rrt_parameters(svc.resolve(svc.model.path))
    mods = measure_modalities(svc.model.measure, svc._display())
    if model_draws != "poisson":
        raise ParameterError("must be 'poisson' (parameter draws, then Poisson events)",
                             field="model_draws", value=model_draws)
    p = svc.projection
    trend = (None, None)
    if p.method == "trend":
        trend = (p.annual_change_percent,
                 None if p.base_year in (None, "last_observed") else int(p.base_year))
    return demand_tables(params, pop, years, draws, seed, modalities=mods,
                         scope=scope_weights(svc), trend=trend)


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def draw_matrix(draws: pd.DataFrame, value: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Long draws ``area_code, year, draw, <value>`` -> (keys, matrix ``(keys, draws)``).

    Draws made by this module are sorted by area, year and draw with the same number of draws
    in every group, so this is a reshape; other tables are sorted first.
    """
    if draws.empty:
        return pd.DataFrame(columns=["area_code", "year"]), np.zeros((0, 0))
    n_draws = int(draws["draw"].max()) + 1 - int(draws["draw"].min())
    d = draws
    firsts = d["draw"].to_numpy()[::n_draws] if len(d) % n_draws == 0 else None
    if firsts is None or not (firsts == firsts[0]).all() or not (
            np.diff(d["draw"].to_numpy().reshape(-1, n_draws), axis=1) == 1).all():
        d = draws.sort_values(["area_code", "year", "draw"])
        size = d.groupby(["area_code", "year"]).size()
        if size.min() != size.max():
            raise DataError("every footprint and year needs the same number of draws",
                            source="draws", field="draw")
        n_draws = int(size.iloc[0])
    keys = d[["area_code", "year"]].iloc[::n_draws].reset_index(drop=True)
    mat = d[value].to_numpy(dtype=float).reshape(len(keys), n_draws)
    return keys, mat


def _summarise(totals: pd.DataFrame, draws: pd.DataFrame, value: str,
               quantiles: Sequence[float], streamed: tuple | None = None,
               model: Any = None) -> pd.DataFrame:
    from hna.uncertainty import quantile_columns, summarise_array

    out = totals.copy()
    qcols = quantile_columns(quantiles)
    out.attrs = {}
    if streamed is not None:
        arr, cols = streamed  # (areas, years, stats) in the model's order
        keys = pd.DataFrame({"area_code": np.repeat(model.areas, len(model.years)),
                             "year": np.tile(model.years, len(model.areas))})
        flat = arr.reshape(-1, arr.shape[-1])
        for j, c in enumerate(cols):
            keys[c] = flat[:, j]
        out = out.merge(keys, on=["area_code", "year"], how="left")
    elif draws.empty:
        out["mean"] = out["expected"]
        for c in qcols:
            out[c] = np.nan
    else:
        keys, mat = draw_matrix(draws, value)
        stats = summarise_array(mat, list(quantiles))
        keys["mean"] = stats[:, 0]
        for j, c in enumerate(qcols):
            keys[c] = stats[:, j + 1]
        out = out.merge(keys, on=["area_code", "year"], how="left")
    out["crude_per_100k"] = np.where(out["population"] > 0,
                                     out["expected"] / out["population"] * 1e5, np.nan)
    return out


@dataclass(frozen=True)
class _Options:
    """Run settings shared by :func:`service_demand` and :func:`level_demand`."""

    years: Any
    draws: int
    seed: int
    population: Any = None
    variant: str | None = None
    quantiles: Sequence[float] = DEFAULT_QUANTILES
    model_draws: str = "poisson"
    scenario: Any = None
    keep_draws: bool = True
    memory_limit_gb: float | None = None
    allow_missing_districts: bool = False


def _prepare(service: Any, opts: _Options) -> tuple[Service, list[int], int, tuple, str]:
    """Service (scenario applied), years, draws, quantiles and the central variant, checked."""
    from hna.population import PROJECTION_VARIANTS
    from hna.uncertainty import check_quantiles, seed_sequence

    svc = load_service(service)
    if opts.scenario is not None:
        from hna.scenarios import apply_scenario

        svc = apply_scenario(svc, opts.scenario)
    ys = parse_years(opts.years)
    draws = check_draws(opts.draws)
    qs = check_quantiles(opts.quantiles)
    seed_sequence(opts.seed)  # validates the seed
    variant = opts.variant
    if variant is not None and variant not in PROJECTION_VARIANTS:
        raise ParameterError("unknown projection variant", field="variant", value=variant,
                             hint=f"Choose one of {', '.join(PROJECTION_VARIANTS)}")
    if svc.model is None:
        from hna.service_uncertainty import service_distributions

        variant = service_distributions(svc, variant)[1]["population_variant"]
    return svc, ys, draws, qs, variant or "npp2020"


def _run(service: Service | str, footprint: Any, level: str | None, opts: _Options
         ) -> DemandResult:
    from hna.incidence.rate_draws import check_memory

    svc, ys, draws, qs, variant = _prepare(service, opts)
    base = _base_population(opts.population)
    base_year = int(base["year"].min())
    first = base_year if svc.model is not None else min(ys)
    pop_years = list(range(first, max(ys) + 1)) if svc.model is not None else ys
    if min(ys) < base_year and base["year"].nunique() == 1:
        raise ParameterError("year before the population's base year", field="years",
                             value=min(ys), hint=f"Choose years from {base_year}")
    src = str(opts.population) if isinstance(opts.population, str | Path) else None
    agg, names = _aggregated(base, footprint, level, opts.allow_missing_districts, src)
    pop, label = _project(agg, pop_years, variant)
    check_memory(len(names) * len(ys), draws, keep_draws=opts.keep_draws,
                 limit_gb=opts.memory_limit_gb)
    if svc.model is not None:
        totals, d, by_band, info = _model_demand(svc, pop, ys, draws, opts.seed,
                                                 opts.model_draws)
    else:
        from hna.service_uncertainty import needed_variants

        pops = {variant: pop}
        for v in needed_variants(svc, variant)[1:]:
            pops[v] = _project(agg, pop_years, v)[0]
        totals, d, by_band, info = _rate_demand(svc, pops, ys, draws, opts.seed, variant,
                                                opts.keep_draws, qs)
    model = info.pop("_model", None)
    summary = _summarise(totals, d, svc.value, qs, info.pop("_summary", None), model)
    summary = names[["area_code", "name"]].merge(summary, on="area_code", how="right")
    summary = summary.sort_values(["area_code", "year"]).reset_index(drop=True)
    settings = {
        "footprints": list(names["area_code"]), "level": level, "years": ys, "draws": draws,
        "seed": int(opts.seed), "variant": variant, "quantiles": list(qs),
        "population": base.attrs.get("source", "population passed in"),
    }
    if svc.model is not None:
        settings["model_draws"] = opts.model_draws
    scen = getattr(svc, "_scenario", None)
    one = names.iloc[0] if len(names) == 1 else None  # footprint {code, name} when there is one
    meta = build_meta(
        service=svc, seed=int(opts.seed), draws=draws,
        footprint=None if one is None else {"code": one["area_code"], "name": one["name"]},
        parameter_hash=parameter_hash(svc, settings),
        scenario=None if scen is None else scen.id,
        service_file=str(svc.path) if svc.path else None,
        scenario_name=None if scen is None else scen.name,
        measure=svc.measure, value=svc.value, years=ys, quantiles=list(qs), projection=label,
        population_source=settings["population"], variant=variant,
        footprints=names.to_dict("records"), quality=svc.quality,
        **{k: v for k, v in info.items() if k not in META_KEYS},
    )
    pop_out = pop[pop["year"].isin(ys)].reset_index(drop=True)
    summary.attrs = {"meta": meta}
    result = DemandResult(service=svc, summary=summary, draws=d.reset_index(drop=True),
                          by_band=by_band, population=pop_out, meta=meta, rate_model=model)
    return result


def service_demand(  # noqa: PLR0913 - the documented notebook API; options are keyword-only
    service: Service | str,
    footprint: Any,
    years: Any = "2025:2040",
    draws: int = 1000,
    seed: int = 1,
    *,
    population: pd.DataFrame | str | Path | None = None,
    variant: str | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model_draws: str = "poisson",
    scenario: Any = None,
    keep_draws: bool = True,
    memory_limit_gb: float | None = None,
    allow_missing_districts: bool = False,
) -> DemandResult:
    """Expected annual demand for a service in a footprint, with Monte Carlo intervals.

    Each draw samples the service's uncertain inputs (its ``uncertainty:`` block, rate
    counts, a fitted trend's standard error), then the cases (Poisson); ``meta
    ['interval_includes']`` lists what the intervals include. Draw 0 has every parameter at
    its central value; ``draws=0`` gives expected values only.

    Args:
        service: service id (``parameters/services/<id>.yaml``), YAML path or Service.
        footprint: GSS code (E12 region, E54 ICB, E40 NHS region, LAD, E92000001), a custom
            footprint code or name, a :class:`hna.geography.Footprint`, or a list of them.
        years: a year, a range ``"2025:2040"`` or a list.
        draws: Monte Carlo draws (0 = expected values only).
        seed: non-negative integer; the same seed gives the same draws, whichever years or
            worker count.
        population: district population table or file (default: bundled ONS mid-2020).
        variant: central national projection (``npp2020`` or ``npp2018``; default the
            service's central variant, else ``npp2020``).
        quantiles: probabilities reported as ``q<p>`` columns.
        model_draws: for model services (dialysis): ``"poisson"`` (default; exact
            year-by-year distribution from the expected-value run, fast) or ``"simulate"``
            (the model's own Monte Carlo trajectories, slower).
        scenario: a scenario id (``parameters/scenarios/<id>.yaml``), YAML path or
            :class:`hna.scenarios.Scenario` applied to the service first.
        keep_draws: keep every draw in ``.draws`` (needed for viability); ``False`` computes
            the quantiles year by year without holding all draws.
        memory_limit_gb: refuse runs estimated to need more (default ``$HNA_MAX_MEMORY_GB``
            or 4 GiB).
        allow_missing_districts: a footprint district missing from ``population`` is a
            ``UserWarning`` (totals too small) instead of a DataError naming the file.

    Returns:
        :class:`DemandResult` (``.summary``, ``.draws``, ``.by_band``, ``.population``,
        ``.meta``).

    Raises:
        ParameterError: unknown service, scenario or footprint, bad years, draws or seed, a
            run too large for memory.
    """
    opts = _Options(years, draws, seed, population, variant, quantiles, model_draws,
                    scenario, keep_draws, memory_limit_gb, allow_missing_districts)
    return _run(service, footprint, None, opts)


def level_demand(  # noqa: PLR0913 - same keyword-only options as service_demand
    service: Service | str,
    level: str = "icb",
    years: Any = "2025:2040",
    draws: int = 1000,
    seed: int = 1,
    *,
    population: pd.DataFrame | str | Path | None = None,
    variant: str | None = None,
    quantiles: Sequence[float] = DEFAULT_QUANTILES,
    model_draws: str = "poisson",
    scenario: Any = None,
    keep_draws: bool = True,
    memory_limit_gb: float | None = None,
) -> DemandResult:
    """Demand in every footprint of a level at once (``icb``, ``region``, ``nhs_region``...).

    Same arguments and result as :func:`service_demand`; all footprints are computed in one
    vectorised pass (:func:`hna.geography.aggregate_level`).
    """
    opts = _Options(years, draws, seed, population, variant, quantiles, model_draws,
                    scenario, keep_draws, memory_limit_gb)
    return _run(service, None, level, opts)

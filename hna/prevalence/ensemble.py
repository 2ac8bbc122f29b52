"""Parameter uncertainty of the RRT model: the expected stock-and-flow, vectorised over draws.

Each Monte Carlo draw ``d`` first samples the model's uncertain parameters
(:data:`UNCERTAIN_PARAMETERS`, distributions in the model file's ``uncertainty:`` block, sampled
by :func:`hna.distributions.sample_parameters`; draw 0 holds every one at its central value),
then runs the expected-value stock-and-flow with them. The events are added afterwards by
the caller (:mod:`hna.prevalence.projection`): with a Poisson starting stock, Poisson incidence
and patients moving independently, the number in a state at a date is Poisson with the
expected-value run as its mean, so ``Poisson(expected_d)`` is the draw's count.

The engine keeps the stock as ``(draw, band, state, cell)`` with ``cell = (area, sex)`` and
applies one year as batched 4 x 4 matrix products, so 1,000 draws cost about as much as one
run of 1,000 areas. :func:`simulate_rrt_ensemble` equals a loop of
:func:`hna.prevalence.simulate_rrt_arrays` (``draws=0``) over the draws' parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from hna.distributions import Distribution, check_range, sample_parameters
from hna.errors import ParameterError
from hna.prevalence.inputs import _population_array, _start_array
from hna.prevalence.parameters import _DEATH, _FIRST_ADULT, _NB, _NM, _TX, RRTParameters
from hna.prevalence.transitions import (
    _adult_factor,
    _ageing_fraction,
    _band_group_index,
    _entry_by_group,
    _incidence_per_person,
    _interp_year,
    transition_matrices,
)

__all__ = [
    "UNCERTAIN_PARAMETERS",
    "check_model_uncertainty",
    "sample_rrt_parameters",
    "incidence_path",
    "simulate_rrt_ensemble",
    "run_ensemble",
]

#: Names a model file's ``uncertainty:`` may use, with what each means.
UNCERTAIN_PARAMETERS: dict[str, str] = {
    "mortality_factor": "factor on the death probabilities (times the calibrated scale)",
    "transplant_factor": "factor on the transplantation probabilities (times the calibrated scale)",
    "incidence_level": "factor on incidence after the last published year",
    "incidence_change_percent": "annual change of incidence after projection.base_year, per cent",
}
_BOUNDS = {
    "mortality_factor": (0.0, None),
    "transplant_factor": (0.0, None),
    "incidence_level": (0.0, None),
    "incidence_change_percent": (-50.0, 50.0),
}


def check_model_uncertainty(params: RRTParameters) -> None:
    """Check the model file's ``uncertainty:`` names, sources and supports.

    Raises:
        ParameterError: unknown name, a ``source`` id missing from ``sources``, or a
            distribution that can give an impossible value (a factor <= 0), naming the file,
            ``uncertainty.<name>`` and the value.
    """
    ids = {s.id for s in params.sources if s.id}
    for name, d in params.uncertainty.items():
        field = f"uncertainty.{name}"
        if name not in UNCERTAIN_PARAMETERS:
            raise ParameterError("the RRT model has no such uncertain parameter",
                                 source=params.source_file, field=field, value=name,
                                 hint=f"Use one of {', '.join(UNCERTAIN_PARAMETERS)}")
        if d.source is not None and d.source not in ids:
            raise ParameterError("missing source: no entry in 'sources' has this id",
                                 source=params.source_file, field=f"{field}.source",
                                 value=d.source, hint=f"Known ids: {', '.join(sorted(ids))}")
        lo, hi = _BOUNDS[name]
        default = params.projection.incidence_change_percent if name.endswith("percent") else 1.0
        check_range(d, lo, hi, default=default, field=field, source=params.source_file,
                    what=UNCERTAIN_PARAMETERS[name])


def _central(params: RRTParameters, change_percent: float | None) -> dict[str, float]:
    change = params.projection.incidence_change_percent if change_percent is None else change_percent
    return {"mortality_factor": 1.0, "transplant_factor": 1.0, "incidence_level": 1.0,
            "incidence_change_percent": float(change)}


def sample_rrt_parameters(
    params: RRTParameters,
    draws: int,
    seed: int | np.random.SeedSequence,
    *,
    change_percent: float | None = None,
    vary: Iterable[str] | None = None,
    start: int = 0,
    namespace: str = "renal_replacement_therapy",
) -> dict[str, np.ndarray]:
    """Per-draw values of the uncertain parameters (row ``i`` = global draw ``start + i``).

    Global draw 0 holds every parameter at its central value. ``incidence_change_percent`` is
    centred on ``change_percent`` (a service's or scenario's annual change) when given, else
    on ``projection.incidence_change_percent``; a normal distribution without ``mean`` keeps
    its spread around that centre. Streams are keyed by (seed, ``namespace.name``, block), so
    a parameter's draws do not depend on the years requested or on the other parameters.

    Args:
        params: model parameters.
        draws: number of draws (>= 1).
        seed: non-negative integer or SeedSequence.
        change_percent: central annual change of incidence after ``projection.base_year``.
        vary: the parameters to sample (default all in the file); others stay central.
        start: first global draw index.
        namespace: stream namespace (the model file stem).

    Returns:
        ``{name: array(draws)}`` for every name in :data:`UNCERTAIN_PARAMETERS`.
    """
    central = _central(params, change_percent)
    names = set(params.uncertainty) if vary is None else set(vary)
    odd = names - set(UNCERTAIN_PARAMETERS)
    if odd:
        raise ParameterError("unknown uncertain parameter", field="vary", value=sorted(odd)[0],
                             hint=f"Use any of {', '.join(UNCERTAIN_PARAMETERS)}")
    dists: dict[str, Distribution] = {k: d for k, d in params.uncertainty.items() if k in names}
    out = sample_parameters(dists, draws, seed, namespace=namespace, start=start,
                            defaults=central) if dists else {}
    for k, v in central.items():
        if k not in out:
            out[k] = np.full(draws, v)
        out[k] = np.asarray(out[k], dtype=float)
    return out


def incidence_path(
    params: RRTParameters,
    years: Sequence[int],
    level: np.ndarray,
    change_percent: np.ndarray,
    base_year: int | None = None,
) -> np.ndarray:
    """Crude adult incidence (pmp) by draw and year ``(draws, years)``.

    Up to the last published year the published crude rate (``incidence_history``,
    interpolated); after it ``last x level x (1 + p / 100) ^ (year - base_year)`` with
    ``base_year = projection.base_year`` unless given (the change compounds from the base
    year only; between the last published year and a later base year incidence is flat).
    """
    hist = sorted(params.incidence_history, key=lambda c: c.year)
    last_year = hist[-1].year
    hy = [c.year for c in hist]
    hv = np.array([[c.rate_pmp] for c in hist])
    base = max(params.projection.base_year if base_year is None else int(base_year), last_year)
    level = np.asarray(level, dtype=float)
    beta = np.log1p(np.asarray(change_percent, dtype=float) / 100.0)
    out = np.empty((level.size, len(years)))
    for j, y in enumerate(years):
        pub = float(_interp_year(hy, hv, int(y))[0])
        if y <= last_year:
            out[:, j] = pub
        else:
            out[:, j] = pub * level * np.exp(beta * max(0, int(y) - base))
    return out


def _model_crude_pmp(params: RRTParameters) -> float:
    """Model crude adult incidence (pmp of all ages) on the reference population, multiplier 1."""
    ref = params.calibration.reference_population.array()
    adult = ref[:, _FIRST_ADULT:] * _adult_factor(params)[None, :]
    return float((adult * _incidence_per_person(params)).sum() / ref.sum() * 1e6)


def _draw_matrices(
    params: RRTParameters, year: int, m: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Full-year and incident-year transition matrices by draw and band ``(D, B, 4, 6)``."""
    base = transition_matrices(params, year)  # (G, from, outcome) at the calibrated scales
    idx = np.arange(_NM)
    off = np.broadcast_to(base, (len(m), *base.shape)).copy()
    off[:, :, idx, idx] = 0.0
    off[..., _DEATH] *= m[:, None, None]
    off[:, :, :_TX, _TX] *= t[:, None, None]
    stay = 1.0 - off.sum(axis=3)
    if (stay < -1e-12).any():
        d = int(np.argwhere(stay < -1e-12)[0][0])
        raise ParameterError(
            f"sampled factors make the outflows of a state exceed 1 in {year}",
            source=params.source_file, field="uncertainty",
            value={"mortality_factor": float(m[d]), "transplant_factor": float(t[d])},
            hint="Narrow the distribution or give it an upper bound")
    full = off.copy()
    full[:, :, idx, idx] = stay
    half = off * params.incident_exposure.value
    half[:, :, idx, idx] = 1.0 - half.sum(axis=3)
    bg = _band_group_index(params)
    return full[:, bg], half[:, bg]


def run_ensemble(
    params: RRTParameters,
    lam: np.ndarray,
    start: np.ndarray,
    years: Sequence[int],
    factors: Mapping[str, np.ndarray],
    multiplier: np.ndarray,
    collect: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Expected stock by draw ``(D, years + 1, band, state, cell)`` (first year = start).

    With ``collect``, each year's stock ``(D, band, state, cell)`` is reduced by it and only
    the reductions are kept (``(D, years + 1, ...)``): large runs never hold every detail.

    Args:
        params: model parameters.
        lam: incidence at multiplier 1 ``(years, band, cell)``.
        start: starting stock ``(D or 1, band, state, cell)``.
        years: the simulated years.
        factors: ``mortality_factor`` and ``transplant_factor`` per draw.
        multiplier: incidence multiplier ``(D, years)``.
        collect: optional reduction of one year's stock.
    """
    m = np.asarray(factors["mortality_factor"], dtype=float)
    t = np.asarray(factors["transplant_factor"], dtype=float)
    D = len(m)
    up = _ageing_fraction(params)[None, :, None, None]
    X = np.broadcast_to(start, (D, *start.shape[1:])).astype(float)
    keep = collect or (lambda x: x)
    first = keep(X)
    out = np.empty((D, len(years) + 1, *first.shape[1:]))
    out[:, 0] = first
    bg = _band_group_index(params)
    for j, y in enumerate(years):
        T, Th = _draw_matrices(params, int(y), m, t)
        E = _entry_by_group(params, int(y))[bg]  # (B, 5)
        new = np.matmul(np.swapaxes(T[..., :_NM], 2, 3), X)  # (D, B, to, N)
        ups = new * up
        new -= ups
        new[:, 1:] += ups[:, :-1]
        entrants = lam[j][None, :, None, :] * multiplier[:, j, None, None, None] \
            * E[None, :, :_NM, None]  # (D, B, 4, N)
        new += np.matmul(np.swapaxes(Th[..., :_NM], 2, 3), entrants)
        out[:, j + 1] = keep(new)
        X = new
    return out


def simulate_rrt_ensemble(
    params: RRTParameters,
    population_by_year: pd.DataFrame,
    start_prevalent: pd.DataFrame,
    years: Iterable[int],
    factors: Mapping[str, np.ndarray],
    incidence_multiplier: np.ndarray,
) -> tuple[tuple[str, ...], np.ndarray]:
    """Expected-value runs for many parameter draws at once.

    Args:
        params: model parameters.
        population_by_year: ``area_code, sex, age_band, year, population`` for the years.
        start_prevalent: stock on 31 December before ``years[0]`` (as :func:`simulate_rrt`).
        years: consecutive years.
        factors: ``mortality_factor``, ``transplant_factor`` arrays ``(D,)``.
        incidence_multiplier: ``(D, years)`` multiplier of the incidence rates.

    Returns:
        ``(areas, stock)`` with stock ``(D, year, area, sex, band, modality)``, the first year
        being the start (same layout as :class:`RRTSimulation` with all detail kept).
    """
    years = [int(y) for y in years]
    areas, pop = _population_array(population_by_year, years)
    start = _start_array(start_prevalent, areas)  # (A, S, B, M)
    A = len(areas)
    lam = pop[..., _FIRST_ADULT:] * _adult_factor(params) * _incidence_per_person(params)
    lam = np.transpose(lam, (0, 3, 1, 2)).reshape(len(years), _NB, A * 2)
    X0 = np.transpose(start, (2, 3, 0, 1)).reshape(1, _NB, _NM, A * 2)
    mult = np.asarray(incidence_multiplier, dtype=float)
    out = run_ensemble(params, lam, X0, years, factors, mult)
    D, Y = out.shape[:2]
    stock = out.reshape(D, Y, _NB, _NM, A, 2).transpose(0, 1, 4, 5, 2, 3)
    return areas, stock

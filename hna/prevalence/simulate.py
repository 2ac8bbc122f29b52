"""The RRT stock-and-flow simulation engine.

Expected-value and Monte Carlo years, the result container :class:`RRTSimulation` and
:func:`simulate_rrt`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, SEX_DTYPE, SEXES
from hna.errors import DataError, ParameterError
from hna.prevalence.inputs import (
    _multipliers,
    _population_array,
    _start_array,
)
from hna.prevalence.parameters import (
    _CHUNK,
    _DEATH,
    _FIRST_ADULT,
    _ICHD,
    _KEEPABLE,
    _NB,
    _NM,
    _PD,
    _RECOVERED,
    _TX,
    ADULT_BANDS,
    FLOW_DTYPE,
    FLOWS,
    MODALITIES,
    MODALITY_DTYPE,
    RRTParameters,
)
from hna.prevalence.transitions import (
    _F,
    _adult_factor,
    _ageing_fraction,
    _incidence_per_person,
    _Plan,
    _year_arrays,
    _YearArrays,
)
from hna.uncertainty import draw_blocks, seed_sequence

# --------------------------------------------------------------------------------------------
# Simulation core. Internal layout: stock (band, state, cell), cell = (draw, area, sex) flattened.
# --------------------------------------------------------------------------------------------


def _step_expected(
    X: np.ndarray, ya: _YearArrays, lam: np.ndarray, up: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """One expected-value year. X (band, state, cell); lam (band, cell). Returns stock, flows."""
    moved = X[:, :, None, :] * ya.T[:, :, :, None]  # (B, from, outcome, N)
    new = moved[:, :, :_NM, :].sum(axis=1)
    flows = np.zeros((len(FLOWS), *lam.shape))
    flows[2] = moved[:, :, _DEATH, :].sum(axis=1)
    flows[3] = moved[:, :, _RECOVERED, :].sum(axis=1)
    flows[4] = moved[:, :_TX, _TX, :].sum(axis=1)
    flows[5] = moved[:, _TX, _ICHD, :] + moved[:, _TX, _PD, :]
    ups = new * up[:, None, None]
    new -= ups
    new[1:] += ups[:-1]
    entrants = lam[:, None, :] * ya.E[:, :, None]  # (B, 5, N)
    flows[0] = lam
    flows[1] = entrants[:, 4]
    flows[6] = entrants[:, _TX]
    moved_e = entrants[:, :_NM, None, :] * ya.Th[:, :, :, None]
    new += moved_e[:, :, :_NM, :].sum(axis=1)
    flows[2] += moved_e[:, :, _DEATH, :].sum(axis=1)
    flows[3] += moved_e[:, :, _RECOVERED, :].sum(axis=1)
    flows[4] += moved_e[:, :_TX, _TX, :].sum(axis=1)
    flows[5] += moved_e[:, _TX, _ICHD, :] + moved_e[:, _TX, _PD, :]
    return new, flows



def _scatter(
    rng: np.random.Generator,
    n: np.ndarray,
    plan: _Plan,
    b: int,
    new: np.ndarray,
    flows: np.ndarray,
) -> None:
    """Draw multinomial counts for cells ``n`` (band ``b``) and add them to stock and flows."""
    nz = np.flatnonzero(n)
    if nz.size == 0:
        return
    _, q, targets = plan
    res = rng.multinomial(n[nz], q)
    for col, tlist in enumerate(targets):
        c = res[:, col]
        for kind, idx in tlist:
            view = new[b, idx] if kind == 0 else flows[idx, b]
            view[nz] += c


def _step_random(
    rng: np.random.Generator,
    X: np.ndarray,
    ya: _YearArrays,
    lam: np.ndarray,
    up: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One Monte Carlo year: multinomial transitions, binomial ageing, Poisson incidence."""
    B, M, N = X.shape
    new = np.zeros_like(X)
    flows = np.zeros((len(FLOWS), B, N), dtype=np.int64)
    for b in range(B):
        for m in range(M):
            _scatter(rng, X[b, m], ya.plans[b][m], b, new, flows)
    for b in range(B - 2, -1, -1):  # oldest first, so nobody moves up twice
        if up[b] <= 0:
            continue
        cells = new[b].reshape(-1)
        nz = np.flatnonzero(cells)
        if nz.size:
            moved = rng.binomial(cells[nz], up[b])
            cells[nz] -= moved
            new[b + 1].reshape(-1)[nz] += moved
    inc = rng.poisson(lam)
    flows[_F["incident"]] = inc
    for b in range(B):
        _scatter(rng, inc[b], ya.entry_plans[b], b, new, flows)
    return new, flows


@dataclass(frozen=True)
class RRTSimulation:
    """Result of :func:`simulate_rrt_arrays`.

    Attributes:
        stock: patients on 31 December, dims ``stock_dims``: ([draw,] year, area, [sex,]
            [age_band,] [modality]); the first year is the starting stock.
        flows: patients moving during each simulated year, dims ``flow_dims``: ([draw,] year,
            area, [sex,] [age_band,] flow) with flows :data:`FLOWS`.
        years: years of ``stock`` (start year, then the simulated years); ``flows`` cover
            ``years[1:]``.
        areas: area codes.
        keep: detail dimensions kept (subset of sex, age_band, modality).
        draws: number of Monte Carlo draws (0 = expected values, no draw axis).
        seed_entropy: the root SeedSequence entropy (reuse it to repeat a run), or None.
    """

    stock: np.ndarray
    flows: np.ndarray
    years: tuple[int, ...]
    areas: tuple[str, ...]
    keep: tuple[str, ...]
    draws: int
    seed_entropy: int | None = None

    @property
    def stock_dims(self) -> tuple[str, ...]:
        """Dimension names of :attr:`stock`."""
        lead = ("draw",) if self.draws else ()
        return (*lead, "year", "area_code", *[k for k in _KEEPABLE if k in self.keep])

    @property
    def flow_dims(self) -> tuple[str, ...]:
        """Dimension names of :attr:`flows`."""
        lead = ("draw",) if self.draws else ()
        detail = [k for k in ("sex", "age_band") if k in self.keep]
        return (*lead, "year", "area_code", *detail, "flow")

    def _labels(self, dim: str, flows: bool) -> tuple[list[Any], Any]:
        if dim == "draw":
            return list(range(self.draws)), None
        if dim == "year":
            return list(self.years[1:] if flows else self.years), None
        if dim == "area_code":
            return list(self.areas), None
        if dim == "sex":
            return list(SEXES), SEX_DTYPE
        if dim == "age_band":
            return list(ADULT_BANDS), AGE_BAND_DTYPE
        if dim == "modality":
            return list(MODALITIES), MODALITY_DTYPE
        return list(FLOWS), FLOW_DTYPE

    def _frame(self, arr: np.ndarray, dims: tuple[str, ...], value: str, flows: bool) -> pd.DataFrame:
        order = ["area_code", "year", "draw", "sex", "age_band", "modality", "flow"]
        order = [d for d in order if d in dims]
        arr = np.transpose(arr, [dims.index(d) for d in order])
        shape = arr.shape
        total = int(np.prod(shape))
        cols: dict[str, Any] = {}
        for axis, dim in enumerate(order):
            labels, dtype = self._labels(dim, flows)
            inner = int(np.prod(shape[axis + 1:]))
            outer = int(np.prod(shape[:axis]))
            codes = np.tile(np.repeat(np.arange(shape[axis]), inner), outer)
            if dim == "age_band":
                cols[dim] = pd.Categorical.from_codes(codes + _FIRST_ADULT, dtype=dtype)
            elif dtype is not None:
                cols[dim] = pd.Categorical.from_codes(codes, dtype=dtype)
            else:
                cols[dim] = np.asarray(labels)[codes] if total else np.asarray(labels)[:0]
        cols[value] = arr.reshape(-1)
        return pd.DataFrame(cols)

    def stock_frame(self) -> pd.DataFrame:
        """Tidy stock: ``area_code, year, [draw,] [sex, age_band, modality,] patients``."""
        return self._frame(self.stock, self.stock_dims, "patients", flows=False)

    def flows_frame(self) -> pd.DataFrame:
        """Tidy flows: ``area_code, year, [draw,] [sex, age_band,] flow, patients``."""
        return self._frame(self.flows, self.flow_dims, "patients", flows=True)


def _reduce(
    arr: np.ndarray, keep: tuple[str, ...], n_areas: int, n_sex: int, with_modality: bool
) -> np.ndarray:
    """(T, B, [M or F], D*A*S) -> (D, T, A, [S], [B], [M or F])."""
    T, B, K, N = arr.shape
    D = N // (n_areas * n_sex)
    a = arr.reshape(T, B, K, D, n_areas, n_sex)
    a = np.transpose(a, (3, 0, 4, 5, 1, 2))  # D, T, A, S, B, K
    axes = []
    if "sex" not in keep:
        axes.append(3)
    if "age_band" not in keep:
        axes.append(4)
    if with_modality and "modality" not in keep:
        axes.append(5)
    return a.sum(axis=tuple(axes)) if axes else a


def _run_chunk(  # noqa: PLR0913 - internal worker task; arrays passed explicitly
    start: np.ndarray,  # (B, M, N0) float (N0 = A*S)
    lam: np.ndarray,  # (Y, B, N0)
    arrays: list[_YearArrays],
    up: np.ndarray,
    draws: int,
    seed: np.random.SeedSequence | None,
    keep: tuple[str, ...],
    n_areas: int,
    n_sex: int,
) -> tuple[np.ndarray, np.ndarray]:
    Y = len(arrays)
    if seed is None:
        X = start.copy()
        stock = np.empty((Y + 1, *X.shape))
        flows = np.empty((Y, len(FLOWS), X.shape[0], X.shape[2]))
        stock[0] = X
        for t in range(Y):
            X, f = _step_expected(X, arrays[t], lam[t], up)
            stock[t + 1] = X
            flows[t] = f
    else:
        rng = np.random.default_rng(seed)
        tiled = np.tile(start, (1, 1, draws))
        if np.all(np.abs(tiled - np.round(tiled)) < 1e-9):  # integer stock: use as given
            X = np.round(tiled).astype(np.int64)
        else:
            X = rng.poisson(tiled)
        stock = np.empty((Y + 1, *X.shape), dtype=np.int64)
        flows = np.empty((Y, len(FLOWS), X.shape[0], X.shape[2]), dtype=np.int64)
        stock[0] = X
        for t in range(Y):
            X, f = _step_random(rng, X, arrays[t], np.tile(lam[t], (1, draws)), up)
            stock[t + 1] = X
            flows[t] = f
    s = _reduce(stock, keep, n_areas, n_sex, with_modality=True)
    f = _reduce(np.transpose(flows, (0, 2, 1, 3)), keep, n_areas, n_sex, with_modality=False)
    if seed is not None:  # counts: int32 halves the memory of large runs
        s, f = s.astype(np.int32), f.astype(np.int32)
    return s, f


def _check_run(years: Iterable[int], draws: Any, keep: Sequence[str]
               ) -> tuple[list[int], tuple[str, ...]]:
    """Check the years (consecutive), draws (whole >= 0) and detail kept of a run."""
    years = [int(y) for y in years]
    if not years:
        raise ParameterError("no years to simulate", field="years", value=years)
    if any(b - a != 1 for a, b in zip(years, years[1:], strict=False)):
        raise ParameterError(
            "years must be consecutive and increasing", field="years", value=years
        )
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 0:
        raise ParameterError("draws must be a whole number >= 0", field="draws", value=draws)
    keep = tuple(keep)
    odd = [k for k in keep if k not in _KEEPABLE]
    if odd:
        raise ParameterError(
            f"cannot keep {odd[0]!r}", field="keep", value=odd[0], hint=f"Choose from {_KEEPABLE}"
        )
    return years, keep


def _check_start_year(start_prevalent: pd.DataFrame, first: int) -> None:
    """A starting stock with a ``year`` column must be for 31 December of ``first - 1``."""
    if "year" not in start_prevalent.columns:
        return
    start_years = set(pd.to_numeric(start_prevalent["year"], errors="coerce").dropna().astype(int))
    if start_years and start_years != {first - 1}:
        raise DataError(
            f"the starting stock must be for 31 December {first - 1}, the year before the first simulated year",
            source="start_prevalent",
            field="year",
            value=sorted(start_years)[0],
        )


def simulate_rrt_arrays(  # noqa: PLR0913 - public API kept for callers; options keyword-only
    params: RRTParameters,
    population_by_year: pd.DataFrame,
    start_prevalent: pd.DataFrame,
    years: Iterable[int],
    draws: int = 0,
    seed: int | Sequence[int] | np.random.SeedSequence | None = None,
    *,
    keep: Sequence[str] = _KEEPABLE,
    incidence_multiplier: float | Mapping[int, float] = 1.0,
    workers: int | None = None,
    _mortality_scale: float | None = None,
    _transplant_scale: float | None = None,
) -> RRTSimulation:
    """Run the RRT model and return arrays (see :func:`simulate_rrt` for the arguments).

    ``keep`` chooses the detail kept in the result (any of ``sex``, ``age_band``,
    ``modality``); the others are summed, which keeps large Monte Carlo runs small.
    ``workers`` threads share the draws (default: up to the number of CPUs); results do not
    depend on it, because every block of draws has its own child SeedSequence.
    """
    years, keep = _check_run(years, draws, keep)
    mult = _multipliers(incidence_multiplier, years)
    areas, pop = _population_array(population_by_year, years)
    start = _start_array(start_prevalent, areas)
    _check_start_year(start_prevalent, years[0])
    A = len(areas)
    arrays = [
        _year_arrays(params, y, _mortality_scale, _transplant_scale) for y in years
    ]
    up = _ageing_fraction(params)
    rate = _incidence_per_person(params)  # (S, B)
    adult = pop[..., _FIRST_ADULT:] * _adult_factor(params)  # (Y, A, S, B)
    lam = adult * rate[None, None] * mult[:, None, None, None]
    # Transitions do not depend on sex: when sex is not kept, run men and women together
    # (exact: sums of independent Poisson / multinomial counts with equal probabilities).
    n_sex = 2 if "sex" in keep else 1
    if n_sex == 1:
        lam = lam.sum(axis=2, keepdims=True)
        start = start.sum(axis=1, keepdims=True)
    lam = np.transpose(lam, (0, 3, 1, 2)).reshape(len(years), _NB, A * n_sex)
    start_l = np.transpose(start, (2, 3, 0, 1)).reshape(_NB, _NM, A * n_sex)
    all_years = (years[0] - 1, *years)

    if draws == 0:
        s, f = _run_chunk(start_l, lam, arrays, up, 0, None, keep, A, n_sex)
        return RRTSimulation(s[0], f[0], all_years, areas, keep, 0, None)

    # Fixed blocks of _CHUNK draws, each seeded by (root, block) only (hna.uncertainty), so
    # results do not depend on the number of worker threads. seed=None draws fresh entropy.
    if seed is None or (isinstance(seed, Sequence) and not isinstance(seed, str)):
        root = np.random.SeedSequence(seed)
    else:
        root = seed_sequence(seed)
    blocks = list(draw_blocks(root, draws, block_size=_CHUNK))
    sizes = [b.n_generate for b in blocks]
    children = [b.seed() for b in blocks]
    n_workers = workers if workers is not None else min(len(sizes), os.cpu_count() or 1, 8)
    if n_workers < 1:
        raise ParameterError("workers must be >= 1", field="workers", value=workers)

    def task(i: int) -> tuple[np.ndarray, np.ndarray]:
        return _run_chunk(start_l, lam, arrays, up, sizes[i], children[i], keep, A, n_sex)

    if n_workers == 1 or len(sizes) == 1:
        parts = [task(i) for i in range(len(sizes))]
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            parts = list(pool.map(task, range(len(sizes))))
    stock = np.concatenate([p[0] for p in parts], axis=0)
    flows = np.concatenate([p[1] for p in parts], axis=0)
    entropy = root.entropy if isinstance(root.entropy, int) else None
    return RRTSimulation(stock, flows, all_years, areas, keep, draws, entropy)


def simulate_rrt(  # noqa: PLR0913 - public API kept for callers; options keyword-only
    params: RRTParameters,
    population_by_year: pd.DataFrame,
    start_prevalent: pd.DataFrame,
    years: Iterable[int],
    draws: int = 0,
    seed: int | Sequence[int] | np.random.SeedSequence | None = None,
    *,
    keep: Sequence[str] = _KEEPABLE,
    incidence_multiplier: float | Mapping[int, float] = 1.0,
    return_flows: bool = False,
    workers: int | None = None,
) -> pd.DataFrame | tuple[pd.DataFrame, pd.DataFrame]:
    """Project adults on RRT by area, year, sex, age band and modality.

    Args:
        params: from :func:`load_rrt_parameters`.
        population_by_year: population table ``area_code, sex, age_band, year, population``
            covering every simulated year and every band from ``15-19`` up.
        start_prevalent: stock on 31 December of the year before ``years[0]``:
            ``area_code, sex, age_band, modality, patients`` (optionally ``year``), e.g. from
            :func:`initial_prevalent`. Non-integer stocks are Poisson-sampled when ``draws > 0``.
        years: consecutive years to simulate.
        draws: 0 for the expected-value run; N for N Monte Carlo draws (Poisson incidence,
            multinomial transitions and 90-day outcomes, binomial ageing).
        seed: seed (int, sequence or SeedSequence) for the draws; None draws fresh entropy,
            recorded in ``DataFrame.attrs['seed_entropy']``.
        keep: detail dimensions to keep (default all of sex, age_band, modality).
        incidence_multiplier: multiplies the incidence rates (one number, or one per year).
        return_flows: also return the flows table.
        workers: threads for the draws.

    Returns:
        Tidy table ``area_code, year, [draw,] sex, age_band, modality, patients`` with the
        starting stock as the first year; with ``return_flows`` also the flows table
        ``area_code, year, [draw,] sex, age_band, flow, patients``.

    Raises:
        DataError: bad population or starting stock (negative, unknown modality, gaps).
        ParameterError: bad arguments or parameters.
    """
    sim = simulate_rrt_arrays(
        params,
        population_by_year,
        start_prevalent,
        years,
        draws,
        seed,
        keep=keep,
        incidence_multiplier=incidence_multiplier,
        workers=workers,
    )
    stock = sim.stock_frame()
    stock.attrs["seed_entropy"] = sim.seed_entropy
    if not return_flows:
        return stock
    flows = sim.flows_frame()
    flows.attrs["seed_entropy"] = sim.seed_entropy
    return stock, flows


"""Designation options for a service in a footprint: how many centres, where, at what travel cost.

One call composes the pieces a commissioner needs to compare configurations of ``k`` centres::

    from hna.designation import designation_options
    opts = designation_options("soft_tissue_sarcoma", "E40000006", ks=(1, 2, 3))
    opts.table          # one row per k: feasible?, centres, caseloads, probability, travel
    print(opts.statement())
    figs = opts.maps()  # a catchment map per feasible k

The steps, each done by an existing hna module:

1. **district demand** (:func:`district_demand`): expected cases (or patients) in ``year`` for
   every district (LAD) of the footprint, with Monte Carlo draws, from
   :func:`hna.demand.level_demand` at district level. Districts split between footprints (ICB
   apportionment) contribute their share of cases and of every draw;
2. **demand points**: the geometric centroid of each district's ONS boundary (shared data,
   ``boundaries/lad_2021-12_uk_buc.geojson``), or, without boundaries, the district demand
   summed into ICBs at the bundled ICB centroids (:func:`hna.geography.boundaries.icb_centroids`);
3. **candidate sites** (:func:`candidate_sites`): by default the main site of each acute trust
   in the footprint's NHS England region (:func:`hna.geography.sites.major_acute_sites`), or a list
   of site codes, a CSV file or a sites table;
4. **critical mass**: the service's ``critical_mass.minimum_per_centre``;
5. **designation** (:func:`hna.designation.compare_k`): for each ``k`` the configuration with the
   least case-weighted travel time in which every centre reaches the minimum, the probability
   (over the draws) that every centre does, and the change against a current configuration.

:class:`DesignationOptions` holds the result: the comparison table, allocations for maps,
per-centre caseloads, a plain-English :meth:`~DesignationOptions.statement`, assumptions,
sources and provenance. Formulation and travel assumptions: ``docs/methods/designation.md``;
user guide: ``docs/designation.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hna.catchments import DEFAULT_THRESHOLDS, catchments, weighted_quantile
from hna.codes import ISLES_OF_SCILLY
from hna.designation.result import DesignationInfeasible, DesignationResult, KComparison
from hna.designation.solve import compare_k
from hna.errors import DataError, ParameterError
from hna.geography import Footprint, area_name, lad_membership, resolve_footprint
from hna.geography.sites import hospital_sites, load_sites, major_acute_sites
from hna.geography.tables import shared_data_dir
from hna.geography.travel import TravelModel
from hna.services import Service, load_service

__all__ = [
    "DEFAULT_KS",
    "LAD_BOUNDARY_FILE",
    "DistrictDemand",
    "DesignationOptions",
    "district_demand",
    "candidate_sites",
    "designation_options",
]

DEFAULT_KS: tuple[int, ...] = (1, 2, 3)
#: District boundaries matching the LAD codes of the bundled population (relative to shared data).
LAD_BOUNDARY_FILE = "boundaries/lad_2021-12_uk_buc.geojson"
_LAD_BOUNDARY_SOURCE = ("ONS Local Authority Districts (December 2021) Boundaries UK BUC, "
                        "OGL v3.0, contains OS data (c) Crown copyright and database right")
_SITES_SOURCE = ("NHS hospital sites (RCPCH 2024 and NHS Choices 2018 site lists); acute trusts "
                 "from OHID NHS Acute (Hospital) Trust Catchment Populations (2022); trust "
                 "headquarters from ODS etr with ONS NSPL")
_ISLES_OF_SCILLY = ISLES_OF_SCILLY


# --------------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------------


def _footprint(footprint: str | Footprint) -> Footprint:
    return footprint if isinstance(footprint, Footprint) else resolve_footprint(footprint)


def _check_ks(ks: int | Iterable[int]) -> list[int]:
    items = [ks] if isinstance(ks, int | np.integer) else list(ks)
    if not items:
        raise ParameterError("no numbers of centres given", field="ks", value=ks,
                             hint="Give e.g. ks=[1, 2, 3]")
    out = []
    for k in items:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or int(k) < 1:
            raise ParameterError("numbers of centres must be whole numbers >= 1", field="ks",
                                 value=k, hint="Give e.g. ks=[1, 2, 3]")
        out.append(int(k))
    return sorted(set(out))


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise ParameterError(f"must be a whole number >= {minimum}", field=name, value=value)
    return int(value)


def _place(fp: Footprint) -> str:
    """The footprint's name as it reads in a sentence ("in ...")."""
    if fp.level == "nhs_region":
        return f"the NHS England {fp.name} region"
    if fp.level == "region":
        return f"the {fp.name} region"
    return fp.name


# --------------------------------------------------------------------------------------------
# District demand
# --------------------------------------------------------------------------------------------


@dataclass
class DistrictDemand:
    """Demand for a service in each district of a footprint in one year.

    Attributes:
        cases: ``area_code, name, share, population, cases``: ``cases`` is the expected number
            a year (incidence: new cases; prevalence: patients) from the district's share
            ``share`` of its population in the footprint.
        draws: ``area_code, draw, cases`` Monte Carlo draws of the same (scaled by ``share``);
            empty when ``draws=0``.
        meta: provenance of the demand (``hna.demand`` meta: population, projection, rates,
            rate uncertainty, seed, draws).
    """

    cases: pd.DataFrame
    draws: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def total(self) -> float:
        return float(self.cases["cases"].sum())


def district_demand(
    service: str | Service,
    footprint: str | Footprint,
    year: int = 2025,
    draws: int = 200,
    seed: int = 1,
    *,
    population: pd.DataFrame | str | Path | None = None,
) -> DistrictDemand:
    """Expected demand and Monte Carlo draws per district (LAD) of a footprint for ``year``.

    Computed for every English district at once with :func:`hna.demand.level_demand` (so a
    district's draws do not depend on the footprint asked for), then restricted to the
    footprint's member districts and scaled by each member's share. Draws keep the structure of
    ``hna.demand``: one rate draw shared by all districts, then Poisson counts, so the caseloads
    of different centres are correlated as they would be in reality.
    """
    from hna.demand import level_demand

    svc = load_service(service)
    fp = _footprint(footprint)
    year = _check_int(year, "year", 1900)
    draws = _check_int(draws, "draws", 0)
    res = level_demand(svc, "lad", years=[year], draws=draws, seed=seed, population=population)
    members = fp.members[fp.members["share"] > 0][["lad_code", "share"]]
    summary = res.summary[res.summary["year"] == year].set_index("area_code")
    missing = sorted(set(members["lad_code"]) - set(summary.index))
    if missing:
        raise DataError(f"{len(missing)} district(s) of the footprint have no demand",
                        source="population", field="area_code", value=missing[:8],
                        hint="the population must cover every district of the footprint")
    share = members.set_index("lad_code")["share"].astype(float)
    codes = members["lad_code"].tolist()
    cases = pd.DataFrame({
        "area_code": codes,
        "name": [area_name(c) for c in codes],
        "share": share.loc[codes].to_numpy(),
        "population": summary.loc[codes, "population"].to_numpy(float) * share.loc[codes].to_numpy(),
        "cases": summary.loc[codes, "expected"].to_numpy(float) * share.loc[codes].to_numpy(),
    })
    value = svc.value
    if res.draws.empty:
        long = pd.DataFrame({"area_code": pd.Series(dtype=str), "draw": pd.Series(dtype=int),
                             "cases": pd.Series(dtype=float)})
    else:
        d = res.draws[(res.draws["year"] == year) & res.draws["area_code"].isin(codes)]
        long = pd.DataFrame({
            "area_code": d["area_code"].astype(str).to_numpy(),
            "draw": d["draw"].to_numpy(),
            "cases": d[value].to_numpy(float) * d["area_code"].map(share).to_numpy(float),
        })
    meta = {k: v for k, v in res.meta.items() if k not in ("footprints", "data_vintages")}
    meta.update(footprint=fp.code, footprint_name=fp.name, footprint_note=fp.note,
                geography="lad", year=year)
    return DistrictDemand(cases=cases, draws=long, meta=meta)


# --------------------------------------------------------------------------------------------
# Demand points (district centroids, or ICB centroids without boundaries)
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _read_lads(path: str, mtime_ns: int):
    from hna.geography.boundaries import load_boundaries

    return load_boundaries(path, level="lad")


def _lad_boundaries(boundaries) -> tuple[Any, str | None]:
    """District polygons (``code, name, geometry``) and their source, or ``(None, None)``."""
    from hna.geography.boundaries import load_boundaries

    if boundaries is False:
        return None, None
    if boundaries is None:
        try:
            path = shared_data_dir() / LAD_BOUNDARY_FILE
        except DataError:
            return None, None
        if not path.is_file():
            return None, None
        return _read_lads(str(path), path.stat().st_mtime_ns).copy(), _LAD_BOUNDARY_SOURCE
    if isinstance(boundaries, str | Path):
        path = Path(boundaries)
        if not path.is_file():
            raise DataError("boundary file not found", source=str(path),
                            hint="pass the ONS LAD (2021) boundary file, None or False")
        return _read_lads(str(path), path.stat().st_mtime_ns).copy(), str(path)
    return load_boundaries(boundaries, level="lad"), "boundaries passed in"


def _district_points(demand: DistrictDemand, lads) -> tuple[pd.DataFrame, Any]:
    from hna.geography.tables import area_points

    codes = demand.cases["area_code"]
    areas = lads[lads["code"].isin(codes)]
    missing = sorted(set(codes) - set(areas["code"]))
    if missing:
        raise DataError(f"{len(missing)} district(s) are not in the boundary file",
                        source="boundaries", field="code", value=missing[:8],
                        hint="use district boundaries on 2021 codes (lad_2021-12_uk_buc)")
    pts = area_points(areas).set_index("area_code")
    table = demand.cases.assign(
        x=pts.loc[codes, "x"].to_numpy(), y=pts.loc[codes, "y"].to_numpy(),
        point=pts.loc[codes, "method"].to_numpy())
    return table, areas.reset_index(drop=True)


def _icb_points(demand: DistrictDemand, fp: Footprint) -> tuple[pd.DataFrame, pd.DataFrame]:
    """District demand summed into ICBs (bundled centroids): the no-boundaries fallback."""
    from hna.geography.boundaries import icb_centroids

    cent = icb_centroids()
    mem = lad_membership("icb").rename(columns={"code": "icb_code", "share": "icb_share"})
    mem = mem[mem["lad_code"].isin(demand.cases["area_code"])]
    if fp.level == "nhs_region":
        keep = set(cent.loc[cent["nhser_code"] == fp.code, "code"])
    elif fp.level == "icb":
        overlap = mem.groupby("icb_code")["lad_code"].nunique()
        keep = {str(overlap.idxmax())} if len(overlap) else set()
    else:
        keep = set(mem["icb_code"])
    sub = mem[mem["icb_code"].isin(keep)]
    if sub.empty:
        sub = mem
    sub = sub.assign(weight=sub["icb_share"] / sub.groupby("lad_code")["icb_share"].transform("sum"))
    w = sub[["lad_code", "icb_code", "weight"]]
    lad = demand.cases.rename(columns={"area_code": "lad_code"})
    parts = lad.merge(w, on="lad_code")
    parts = parts.assign(cases=parts["cases"] * parts["weight"],
                         population=parts["population"] * parts["weight"])
    icb = parts.groupby("icb_code", as_index=False)[["cases", "population"]].sum()
    c = cent.set_index("code")
    table = pd.DataFrame({
        "area_code": icb["icb_code"].to_numpy(),
        "name": c.loc[icb["icb_code"], "name"].to_numpy(),
        "share": 1.0,
        "population": icb["population"].to_numpy(),
        "cases": icb["cases"].to_numpy(),
        "x": c.loc[icb["icb_code"], "x"].to_numpy(float),
        "y": c.loc[icb["icb_code"], "y"].to_numpy(float),
        "point": "geometric (ICB)",
    })
    draws = demand.draws
    if not draws.empty:
        d = draws.rename(columns={"area_code": "lad_code"}).merge(w, on="lad_code")
        d = d.assign(cases=d["cases"] * d["weight"])
        draws = (d.groupby(["icb_code", "draw"], as_index=False)["cases"].sum()
                 .rename(columns={"icb_code": "area_code"}))
    return table, draws


# --------------------------------------------------------------------------------------------
# Candidate sites
# --------------------------------------------------------------------------------------------


def _regions(fp: Footprint) -> list[str]:
    """Regions whose major acute sites are the default candidates for a footprint."""
    if fp.level in ("nhs_region", "region"):
        return [fp.code]
    if fp.level == "icb":
        from hna.geography.boundaries import icb_centroids

        cent = icb_centroids().set_index("code")
        if fp.code in cent.index:
            return [str(cent.loc[fp.code, "nhser_code"])]
    # districts (mostly) in the footprint -> the NHS England region holding most of each
    mem = lad_membership("nhs_region")
    major = mem.sort_values("share", ascending=False).drop_duplicates("lad_code")
    region_of = major.set_index("lad_code")["code"]
    members = fp.members
    whole = members[members["share"] >= 0.5]
    if whole.empty:
        whole = members.sort_values("share", ascending=False).head(1)
    return sorted({str(region_of[c]) for c in whole["lad_code"] if c in region_of.index})


def _site_pool(fp: Footprint, data_dir) -> pd.DataFrame:
    frames = [major_acute_sites(r, data_dir=data_dir) for r in _regions(fp)]
    try:
        frames.append(hospital_sites(data_dir))
    except DataError:
        pass
    pool = pd.concat(frames, ignore_index=True)
    return pool.drop_duplicates("site_code", keep="first").reset_index(drop=True)


def _sites_by_code(codes: Sequence[str], fp: Footprint, data_dir, field_name: str,
                   first: pd.DataFrame | None = None) -> pd.DataFrame:
    codes = [str(c).strip() for c in codes]
    if not codes:
        raise ParameterError("no site codes given", field=field_name)
    if len(set(codes)) != len(codes):
        raise ParameterError("a site code is repeated", field=field_name, value=codes)
    frames = [first] if first is not None else []
    if first is None or not set(codes) <= set(first["site_code"]):
        frames.append(_site_pool(fp, data_dir))
    pool = pd.concat(frames, ignore_index=True).drop_duplicates("site_code", keep="first")
    pool = pool.set_index("site_code", drop=False)
    unknown = [c for c in codes if c not in pool.index]
    if unknown:
        raise ParameterError(
            "unknown hospital site code(s)", field=field_name, value=unknown,
            hint="use ODS site codes of NHS hospital sites (e.g. RK950 Derriford), or pass a "
                 "CSV or table of sites (site_code, site_name, x, y)")
    out = pool.loc[codes].reset_index(drop=True)
    return out[[c for c in out.columns if c in ("site_code", "site_name", "x", "y", "trust_code",
                                                "trust_name", "location")]]


def candidate_sites(
    footprint: str | Footprint,
    candidates: str | Path | Sequence[str] | pd.DataFrame | None = "major_acute",
    *,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Candidate sites ``site_code, site_name, x, y`` (EPSG:27700) for a footprint.

    ``candidates`` is:

    - ``None`` or ``"major_acute"``: the main site of each acute trust in the footprint's NHS
      England region (an E12 footprint uses its ONS region; an ICB its NHS England region;
      other footprints the regions holding their districts), from
      :func:`hna.geography.sites.major_acute_sites` (shared data needed);
    - a list of site codes: looked up among those sites, then among all NHS hospital sites;
    - a path to a CSV (or GeoJSON...) of sites, read with :func:`hna.geography.sites.load_sites`;
    - a table with ``site_code, site_name`` and coordinates.
    """
    fp = _footprint(footprint)
    if candidates is None or (isinstance(candidates, str) and candidates == "major_acute"):
        regions = _regions(fp)
        frames = [major_acute_sites(r, data_dir=data_dir) for r in regions]
        sites = pd.concat(frames, ignore_index=True).drop_duplicates("site_code")
        sites = sites.reset_index(drop=True)
        sites.attrs["source"] = (f"major acute sites of {', '.join(regions)} "
                                 "(hna.geography.sites.major_acute_sites): " + _SITES_SOURCE)
        return sites
    if isinstance(candidates, pd.DataFrame):
        sites = load_sites(candidates)
        sites.attrs["source"] = "candidate sites passed in"
        return sites
    if isinstance(candidates, str | Path):
        path = Path(candidates)
        if not path.is_file():
            raise ParameterError(
                "candidates must be 'major_acute', a list of site codes, or an existing file",
                field="candidates", value=str(candidates),
                hint="for one site code write a list: ['RK950']")
        sites = load_sites(path)
        sites.attrs["source"] = str(path)
        return sites
    if isinstance(candidates, Iterable):
        sites = _sites_by_code(list(candidates), fp, data_dir, "candidates")
        sites.attrs["source"] = "listed site codes: " + _SITES_SOURCE
        return sites
    raise ParameterError("candidates must be 'major_acute', a list of site codes, a file path "
                         "or a sites table", field="candidates",
                         value=type(candidates).__name__)


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------


def _join(items: Sequence[Any], word: str = "and") -> str:
    items = [str(i) for i in items]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


def _pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.0f}%"


def _round(x: Any, nd: int = 2) -> Any:
    if x is None:
        return None
    x = float(x)
    return round(x, nd) if np.isfinite(x) else None


@dataclass
class DesignationOptions:
    """Configurations of ``k`` centres for a service in a footprint, compared.

    Attributes:
        service: the :class:`hna.services.Service`.
        footprint: the :class:`hna.geography.Footprint`.
        year: the year whose demand the design uses.
        ks: the numbers of centres compared.
        minimum: the critical mass: minimum cases (or patients) per centre a year.
        demand: one row per demand area: ``area_code, name, share, population, cases, x, y,
            point`` (``point``: how the area's point was placed).
        draws: Monte Carlo draws ``area_code, draw, cases`` (empty without draws).
        candidates: candidate sites ``site_code, site_name, x, y`` (+ trust columns).
        comparison: the :class:`hna.designation.KComparison` (``results[k]`` is a
            :class:`~hna.designation.DesignationResult` or the
            :class:`~hna.designation.DesignationInfeasible` raised).
        table: one row per ``k``: ``k, feasible, reason, binding, sites, site_names,
            min_centre_cases, mean_centre_cases, prob_all_meet_minimum, mean_minutes,
            p90_minutes, max_minutes, mean_km, p90_km, share_over_60_min, share_over_90_min,
            share_over_120_min, areas_past_nearer_centre`` (+ with a current configuration
            ``change_mean_minutes, change_p90_minutes, change_share_over_<t>_min, opened,
            closed, areas_reassigned, cases_reassigned``; + ``status, mip_gap``). Kilometres
            are straight-line, case-weighted.
        geography: ``"lad"`` (district centroids) or ``"icb"`` (ICB centroids, when no
            district boundaries were available).
        areas: district polygons for maps (``code, name, geometry``), or None.
        current: the current configuration's sites, or None.
        current_travel: travel statistics of the current configuration (nearest-centre
            catchments), or None.
        assumptions: the travel model and other assumptions, as data.
        meta: provenance: sources, hna version, data vintages, seed, draws, demand meta.
    """

    service: Service
    footprint: Footprint
    year: int
    ks: list[int]
    minimum: float
    demand: pd.DataFrame
    draws: pd.DataFrame
    candidates: pd.DataFrame
    comparison: KComparison
    table: pd.DataFrame
    geography: str
    areas: Any = None
    current: pd.DataFrame | None = None
    current_travel: dict[str, float] | None = None
    assumptions: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    # ---------------------------------------------------------------- access
    @property
    def results(self) -> dict[int, DesignationResult]:
        """Feasible designations by ``k``."""
        return {k: r for k, r in self.comparison.results.items()
                if isinstance(r, DesignationResult)}

    @property
    def feasible_ks(self) -> list[int]:
        return [k for k in self.ks if k in self.results]

    @property
    def infeasible_ks(self) -> list[int]:
        return [k for k in self.ks if k not in self.results]

    @property
    def total_cases(self) -> float:
        return float(self.demand["cases"].sum())

    @property
    def allocations(self) -> dict[int, pd.DataFrame]:
        """For each feasible ``k``: one row per area ``area_code, name, site_code, site_name,
        minutes, km, cases, is_nearest, nearest_open_site`` (for maps and tables).
        """
        names = self.demand.set_index("area_code")["name"]
        out = {}
        for k, res in self.results.items():
            site_names = res.centres.set_index("site_code")["site_name"]
            a = res.allocation.copy()
            a.insert(1, "name", a["area_code"].map(names).to_numpy())
            a.insert(3, "site_name", a["site_code"].map(site_names).to_numpy())
            out[k] = a
        return out

    def centres(self) -> pd.DataFrame:
        """Every centre of every feasible ``k``: ``k, site_code, site_name, n_areas, cases,
        share_of_cases, cases_p05, cases_p95, prob_meets_minimum, mean_minutes, p90_minutes``.
        """
        frames = []
        for k, res in self.results.items():
            c = res.centres.copy()
            c.insert(0, "k", k)
            frames.append(c)
        if not frames:
            return pd.DataFrame(columns=["k", "site_code", "site_name", "cases"])
        out = pd.concat(frames, ignore_index=True)
        keep = ["k", "site_code", "site_name", "n_areas", "cases", "share_of_cases", "cases_p05",
                "cases_p95", "prob_meets_minimum", "mean_minutes", "p90_minutes"]
        return out[[c for c in keep if c in out.columns]]

    # ---------------------------------------------------------------- text
    def _unit(self) -> str:
        """The critical mass's unit, with " a year" for incidence services."""
        unit = self.service.critical_mass.unit.strip()
        unit = unit.removesuffix(" per year").removesuffix(" a year")
        return unit + self._per_year

    @property
    def _per_year(self) -> str:
        return " a year" if self.service.kind == "incidence" else ""

    @property
    def _counted(self) -> str:
        """What caseloads count, e.g. "cases a year" or "patients"."""
        return self.service.value + self._per_year

    def _short_cite(self, source_id: str) -> str:
        s = self.service.source(source_id)
        return f"{s.publisher}, {s.title}, {s.year}"

    def statement(self) -> str:
        """Plain English: which ``k`` are feasible under the critical mass, and their travel."""
        cm = self.service.critical_mass
        place = _place(self.footprint)
        feas, infeas = self.feasible_ks, self.infeasible_ks
        total = self.total_cases
        at_most = int(np.floor(total / self.minimum + 1e-9)) if self.minimum > 0 else None
        def centres(ks: list[int], joiner: str = "and") -> str:
            return f"{_join(ks, joiner)} centre{'' if ks == [1] else 's'}"

        if not feas:
            verdict = f"no configuration of {centres(infeas, 'or')} is feasible in {place}"
        elif not infeas:
            verb = "are all" if len(feas) > 2 else "are both" if len(feas) == 2 else (
                "is" if feas == [1] else "are")
            verdict = f"{centres(feas)} {verb} feasible in {place}"
        else:
            verb = "is" if feas == [1] else "are"
            verdict = (f"{centres(feas)} {verb} feasible in {place} but "
                       f"{centres(infeas)} {'is' if infeas == [1] else 'are'} not")
        parts = [
            f"With a minimum of {self.minimum:g} {self._unit()} "
            f"({cm.status.replace('_', ' ')}: {self._short_cite(cm.source)}), "
            f"{verdict}. The footprint expects about {total:,.0f} "
            f"{self.service.measure} in {self.year}"
            + (f", enough for at most {at_most} centre{'s' if at_most != 1 else ''} at the "
               "minimum." if at_most is not None else ".")
        ]
        for k in self.ks:
            res = self.comparison.results[k]
            if isinstance(res, DesignationInfeasible):
                why = res.reasons[0][1] if res.reasons else res.message
                parts.append(f"{k} centre{'s' if k > 1 else ''}: not feasible ({why}).")
                continue
            row = self.table.set_index("k").loc[k]
            names = _join(res.centres["site_name"].tolist())
            t = res.travel
            cases = (f"{row['min_centre_cases']:,.0f} {self._counted}" if k == 1 else
                     f"smallest centre {row['min_centre_cases']:,.0f} {self._counted}")
            text = (f"{k} centre{'s' if k > 1 else ''} ({names}): {cases}; mean travel "
                    f"{t['mean_minutes']:.0f} minutes (90th percentile {t['p90_minutes']:.0f})")
            if np.isfinite(row["mean_km"]):
                text += f", {row['mean_km']:.0f} km in a straight line on average"
            text += (f"; {_pct(t.get('share_over_90_min', np.nan))} of patients travel more "
                     f"than 90 minutes")
            p = res.prob_all_meet_minimum
            if p is not None:
                text += (f"; the chance that every centre reaches the minimum in a year is "
                         f"{_pct(p)}")
                if p < 0.8:
                    text += (", so random variation alone would often take a centre below "
                             "it")
            if res.change is not None:
                ch = res.change.travel["change_mean_minutes"]
                text += (f"; against the current configuration mean travel changes by "
                         f"{ch:+.0f} minutes")
            parts.append(text + ".")
        if self.current is not None and self.current_travel is not None:
            ct = self.current_travel
            parts.append(
                f"For comparison, the current configuration ("
                f"{_join(self.current['site_name'].astype(str).tolist())}, patients going to the "
                f"nearest) has mean travel {ct['mean_minutes']:.0f} minutes (90th percentile "
                f"{ct['p90_minutes']:.0f}); {_pct(ct.get('share_over_90_min', np.nan))} of "
                "patients travel more than 90 minutes.")
        a = self.assumptions
        if a.get("travel") == "matrix":
            parts.append("Travel times come from the travel matrix supplied.")
        else:
            parts.append(
                f"Travel times are estimates: straight-line distance x {a['circuity']:g} "
                f"(circuity) at {a['speed_kmh']:g} km/h, from {a['points']}.")
        return "\n\n".join(parts)

    def assumption_notes(self) -> list[str]:
        """The assumptions behind the figures, one sentence each (for a report)."""
        a = self.assumptions
        cm = self.service.critical_mass
        notes = [
            f"Critical mass: at least {self.minimum:g} {self._unit()} "
            f"({cm.status.replace('_', ' ')}; {self.service.cite(cm.source)}). "
            f"It is an editable parameter (parameters/services/{self.service.id}.yaml).",
        ]
        if a.get("travel") == "matrix":
            notes.append("Travel time: the travel matrix supplied (pairs missing from it are "
                         "treated as having no route).")
        else:
            km = ", ".join(f"{t:g} min = {TravelModel(a['circuity'], a['speed_kmh']).km_for(t):.0f}"
                           " km" for t in a["thresholds_minutes"])
            notes.append(
                f"Travel time = straight-line km x circuity {a['circuity']:g} / "
                f"{a['speed_kmh']:g} km/h. Both are round planning assumptions, not measurements "
                "for England (docs/methods/designation.md); thresholds in straight-line km: "
                f"{km}. Check any decision against a routing engine (pass a travel matrix).")
        notes.append(f"Demand points: {a['points']}; geometric centroids are not "
                     "population-weighted, which misstates travel for large rural districts.")
        notes.append(
            "Each area is served, whole, by one centre; to bring a centre up to the minimum the "
            "optimum may send an area past a nearer designated centre (column "
            "areas_past_nearer_centre).")
        notes.append(f"Demand: {self.meta['demand'].get('projection', '')}; rates: "
                     f"{self.meta['demand'].get('rate_projection', '')}.")
        if self.meta.get("draws"):
            notes.append(
                f"Uncertainty: {self.meta['draws']} Monte Carlo draws (seed {self.meta['seed']}): "
                f"{self.meta['demand'].get('rate_uncertainty', '')}; then Poisson counts per "
                "district. Centres' caseloads are recomputed in every draw for the chosen "
                "allocation.")
        partial = self.meta.get("partial_districts") or []
        if partial:
            notes.append(
                "Districts partly in the footprint count their share of demand at the whole "
                "district's centroid (and are drawn whole on maps): "
                + "; ".join(f"{p['name']} {100 * p['share']:.0f}%" for p in partial) + ".")
        if _ISLES_OF_SCILLY in set(self.demand["area_code"]):
            notes.append("The Isles of Scilly are reached by sea or air: their road estimate is "
                         "meaningless and sets the maximum travel time; supply a travel matrix "
                         "for them.")
        notes.append(f"Candidate sites: {self.meta['candidates_source']}. Review the list: it is "
                     "a heuristic (docs/methods/designation.md).")
        return notes

    def source_notes(self) -> list[str]:
        """Sources of the data used, one line each."""
        svc = self.service
        out = [
            f"Population: {self.meta['demand'].get('population_source', '')}; "
            f"{self.meta['demand'].get('projection', '')}.",
        ]
        if svc.rates is not None:
            out.append(f"Rates: {svc.cite(svc.rates.source)}.")
        elif svc.model is not None:
            out.append(f"Model: {svc.cite(svc.model.source)}.")
        out.append(f"Critical mass: {svc.cite(svc.critical_mass.source)}.")
        out.append(f"Candidate sites: {self.meta['candidates_source']}.")
        if self.meta.get("boundaries_source"):
            out.append(f"Boundaries: {self.meta['boundaries_source']}.")
        else:
            out.append("ICB centroids: hna bundled data (geometric centroids of the ONS ICB "
                       "July 2022 boundaries; hna/data/PROVENANCE_geo.md).")
        out.append("Method: capacitated p-median with minimum volumes solved with HiGHS "
                   "(scipy.optimize.milp); docs/methods/designation.md.")
        return out

    # ---------------------------------------------------------------- tables for reports
    def report_table(self) -> pd.DataFrame:
        """:attr:`table` for a report: one column per ``k`` ("2 centres"), one row per measure,
        figures rounded and formatted as text.
        """
        m = f"{self.minimum:g}"
        columns: dict[str, dict[str, str]] = {}
        for r in self.table.to_dict("records"):
            ok = bool(r["feasible"])

            def num(key: str, fmt: str = "{:,.0f}", r=r, ok=ok) -> str:
                v = r.get(key)
                return fmt.format(v) if ok and v is not None and np.isfinite(v) else ""

            col = {
                "Feasible": "yes" if ok else "no",
                "Centres chosen": ("; ".join(self.results[int(r["k"])].centres["site_name"])
                                   if ok else ""),
                f"Smallest centre ({self._counted})": num("min_centre_cases"),
                f"Mean {self.service.value} per centre": num("mean_centre_cases"),
                f"P(every centre reaches {m})": (_pct(r.get("prob_all_meet_minimum", np.nan))
                                                 if ok else ""),
                "Mean travel (minutes)": num("mean_minutes"),
                "90th percentile travel (minutes)": num("p90_minutes"),
                "Mean distance (km, straight line)": num("mean_km"),
                "90th percentile distance (km)": num("p90_km"),
            }
            for t in self.assumptions["thresholds_minutes"]:
                col[f"Patients over {t:g} minutes"] = (
                    _pct(r[f"share_over_{t:g}_min"]) if ok else "")
            col["Areas sent past a nearer centre"] = (
                str(r["areas_past_nearer_centre"]) if ok else "")
            if self.current is not None:
                col["Change in mean travel vs current (minutes)"] = num(
                    "change_mean_minutes", "{:+.0f}")
                col["Centres opened / closed vs current"] = (
                    f"{r.get('opened') or '-'} / {r.get('closed') or '-'}" if ok else "")
            col["Why not feasible"] = "" if ok else str(r.get("reason", ""))
            k = int(r["k"])
            columns[f"{k} centre{'s' if k > 1 else ''}"] = col
        out = pd.DataFrame(columns)
        out.index.name = "Measure"
        return out

    def report_centres(self) -> pd.DataFrame:
        """:meth:`centres` with readable headings and rounded figures (text)."""
        c = self.centres()
        rows = []
        for r in c.to_dict("records"):
            row = {
                "Centres": r["k"],
                "Centre": r["site_name"],
                "Site code": r["site_code"],
                "Areas": r["n_areas"],
                self._counted.capitalize(): f"{r['cases']:,.0f}",
            }
            if "cases_p05" in r:
                row["90% interval"] = f"{r['cases_p05']:,.0f} to {r['cases_p95']:,.0f}"
                row[f"P(>= {self.minimum:g})"] = _pct(r["prob_meets_minimum"])
            row["Mean travel (min)"] = f"{r['mean_minutes']:.0f}"
            rows.append(row)
        return pd.DataFrame(rows)

    # ---------------------------------------------------------------- headline
    def headline(self) -> dict[str, Any]:
        """JSON-friendly headline for :func:`hna.report.record_headline`.

        Scalars first (they become columns of the run index, at most 10 shown): the feasible
        ``k`` as text, expected cases, the minimum, then mean travel and the probability that
        every centre meets the minimum for each ``k``; then lists and a dict per ``k``.
        """
        out: dict[str, Any] = {
            "feasible": ", ".join(map(str, self.feasible_ks)) or "none",
            "expected_cases": _round(self.total_cases, 1),
            "minimum_per_centre": self.minimum,
        }
        for k in self.ks:
            res = self.results.get(k)
            out[f"mean_minutes_k{k}"] = _round(res.travel["mean_minutes"], 1) if res else None
            out[f"prob_all_k{k}"] = (_round(res.prob_all_meet_minimum, 3)
                                     if res and res.prob_all_meet_minimum is not None else None)
        out["feasible_ks"] = self.feasible_ks
        out["infeasible_ks"] = self.infeasible_ks
        options: dict[str, Any] = {}
        for r in self.table.to_dict("records"):
            k = int(r["k"])
            if not r["feasible"]:
                options[str(k)] = {"feasible": False, "reason": r.get("reason")}
                continue
            res = self.results[k]
            item = {
                "feasible": True,
                "sites": res.chosen_sites,
                "site_names": res.centres["site_name"].tolist(),
                "cases": [_round(c, 1) for c in res.centres["cases"]],
                "mean_minutes": _round(r["mean_minutes"], 1),
                "p90_minutes": _round(r["p90_minutes"], 1),
                "mean_km": _round(r["mean_km"], 1),
                "p90_km": _round(r["p90_km"], 1),
                "prob_all_meet_minimum": _round(r.get("prob_all_meet_minimum"), 3),
            }
            for t in self.assumptions["thresholds_minutes"]:
                key = f"share_over_{t:g}_min"
                item[key] = _round(r[key], 4)
            if res.change is not None:
                item["change_mean_minutes"] = _round(r["change_mean_minutes"], 1)
            options[str(k)] = item
        out["options"] = options
        out["year"] = self.year
        return out

    # ---------------------------------------------------------------- maps
    def maps(self, ks: Iterable[int] | None = None, **kwargs) -> dict[int, Any]:
        """A catchment map per feasible ``k`` (A4, title, legend, source note).

        On district boundaries when available, otherwise on demand points (sized by cases and
        joined to their centre). Candidate sites that were not chosen are marked in grey.
        Extra keyword arguments go to :func:`hna.plots.maps.catchment_map`.
        """
        from hna.plots.maps import catchment_map

        chosen = self.feasible_ks if ks is None else [k for k in ks if k in self.results]
        if not {"x", "y"} <= set(self.candidates.columns) or not {"x", "y"} <= set(
                self.demand.columns):
            return {}
        figs: dict[int, Any] = {}
        allocs = self.allocations
        src = ("; ".join(p for p in (self.meta.get("boundaries_source"),
                                      "sites: " + _SITES_SOURCE) if p)
               + f"; demand: hna {self.meta['hna_version']}, {self.year}")
        for k in chosen:
            res = self.results[k]
            cen = res.centres.set_index("site_code")
            sites = self.candidates[["site_code", "site_name", "x", "y"]].copy()
            chosen_rows = sites["site_code"].isin(cen.index)
            t = res.travel
            title = (f"{self.service.name}: {k} centre{'s' if k > 1 else ''}, "
                     f"{self.footprint.name}, {self.year}\n"
                     f"mean travel {t['mean_minutes']:.0f} min; "
                     f"{_pct(t.get('share_over_90_min', np.nan))} of patients over 90 min")
            alloc = allocs[k]
            if self.areas is not None:
                fig = catchment_map(alloc, sites, boundaries=self.areas, title=title,
                                    source=src, **kwargs)
            else:
                fig = catchment_map(alloc, sites, demand=self.demand, title=title,
                                    source=src, **kwargs)
            _finish_map(fig.axes[0], sites[~chosen_rows], cen, points=self.areas is None,
                        counted=self._counted)
            figs[k] = fig
        return figs


def _finish_map(ax, others: pd.DataFrame, centres: pd.DataFrame, *, points: bool,
                counted: str) -> None:
    """Mark the candidate sites not chosen, put caseloads in the legend, keep labels inside."""
    from matplotlib.lines import Line2D

    legend = ax.get_legend()
    handles = list(getattr(legend, "legend_handles", None) or [])
    by_name = {str(n): c for n, c in zip(centres["site_name"], centres["cases"], strict=True)}
    for h in handles:
        label = h.get_label()
        if label in by_name:
            h.set_label(f"{label} ({by_name[label]:,.0f})")
    if len(others):
        handles.append(ax.scatter(others["x"], others["y"], marker="o", s=22, color="white",
                                  edgecolor="#555555", linewidth=0.8, zorder=4,
                                  label="Other candidate site"))
    if points:
        handles.append(Line2D([], [], marker="o", linestyle="none", color="#777777",
                              markersize=7, label=f"Area (size = {counted})"))
    ax.legend(handles=handles, title=f"Centre ({counted})", loc="upper left", frameon=False,
              fontsize=8, title_fontsize=9)
    # labels of centres in the eastern third are written to the left of their star
    x0, x1 = ax.get_xlim()
    for text in ax.texts:
        xy = getattr(text, "xy", None)
        if xy is not None and xy[0] > x0 + 0.65 * (x1 - x0):
            text.set_horizontalalignment("right")
            text.xyann = (-8, 6)


# --------------------------------------------------------------------------------------------
# Composition
# --------------------------------------------------------------------------------------------


def _weighted_km(alloc: pd.DataFrame) -> tuple[float, float]:
    km = alloc["km"].to_numpy(float)
    w = alloc["cases"].to_numpy(float)
    if not np.isfinite(km).all() or w.sum() <= 0:
        return float("nan"), float("nan")
    return float((km * w).sum() / w.sum()), weighted_quantile(km, w, 0.9)


def _table(cmp: KComparison, ks: list[int], thresholds: Sequence[float],
           has_current: bool) -> pd.DataFrame:
    rows = []
    for k in ks:
        res = cmp.results[k]
        if isinstance(res, DesignationInfeasible):
            row: dict[str, Any] = {"k": k, "feasible": False,
                                   "reason": res.reasons[0][1] if res.reasons else res.message,
                                   "binding": ", ".join(res.binding), "sites": "",
                                   "site_names": ""}
            rows.append(row)
            continue
        mean_km, p90_km = _weighted_km(res.allocation)
        row = {
            "k": k, "feasible": True, "reason": "", "binding": "",
            "sites": ", ".join(res.chosen_sites),
            "site_names": ", ".join(res.centres["site_name"].astype(str)),
            "min_centre_cases": float(res.centres["cases"].min()),
            "mean_centre_cases": float(res.centres["cases"].mean()),
            "prob_all_meet_minimum": (float(res.prob_all_meet_minimum)
                                      if res.prob_all_meet_minimum is not None else np.nan),
            "mean_minutes": res.travel["mean_minutes"],
            "p90_minutes": res.travel["p90_minutes"],
            "max_minutes": res.travel["max_minutes"],
            "mean_km": mean_km,
            "p90_km": p90_km,
        }
        for t in thresholds:
            key = f"share_over_{t:g}_min"
            row[key] = res.travel[key]
        row["areas_past_nearer_centre"] = int((~res.allocation["is_nearest"]).sum())
        if res.change is not None:
            c = res.change
            row["change_mean_minutes"] = c.travel["change_mean_minutes"]
            row["change_p90_minutes"] = c.travel["change_p90_minutes"]
            for t in thresholds:
                key = f"share_over_{t:g}_min"
                row[f"change_{key}"] = c.travel[f"change_{key}"]
            row["opened"] = ", ".join(c.opened)
            row["closed"] = ", ".join(c.closed)
            row["areas_reassigned"] = c.areas_reassigned
            row["cases_reassigned"] = c.cases_reassigned
        row["status"] = res.status
        row["mip_gap"] = res.mip_gap
        rows.append(row)
    cols = ["k", "feasible", "reason", "binding", "sites", "site_names", "min_centre_cases",
            "mean_centre_cases", "prob_all_meet_minimum", "mean_minutes", "p90_minutes",
            "max_minutes", "mean_km", "p90_km"]
    cols += [f"share_over_{t:g}_min" for t in thresholds] + ["areas_past_nearer_centre"]
    if has_current:
        cols += ["change_mean_minutes", "change_p90_minutes"]
        cols += [f"change_share_over_{t:g}_min" for t in thresholds]
        cols += ["opened", "closed", "areas_reassigned", "cases_reassigned"]
    cols += ["status", "mip_gap"]
    table = pd.DataFrame(rows)
    for c in cols:
        if c not in table.columns:
            table[c] = np.nan
    table = table[cols]
    table["feasible"] = table["feasible"].astype(bool)
    for c in ("areas_past_nearer_centre", "areas_reassigned"):
        if c in table.columns:
            table[c] = table[c].astype("Int64")
    return table


def _current_sites(current, cand: pd.DataFrame, fp: Footprint, data_dir) -> pd.DataFrame | None:
    if current is None:
        return None
    if isinstance(current, pd.DataFrame):
        return load_sites(current)
    if isinstance(current, str | Path) and Path(current).is_file():
        return load_sites(Path(current))
    if isinstance(current, str):
        current = [current]
    return _sites_by_code(list(current), fp, data_dir, "current", first=cand)


def designation_options(
    service: str | Service,
    footprint: str | Footprint,
    ks: int | Iterable[int] = DEFAULT_KS,
    candidates: str | Path | Sequence[str] | pd.DataFrame | None = None,
    year: int = 2025,
    draws: int = 200,
    seed: int = 1,
    current: str | Path | Sequence[str] | pd.DataFrame | None = None,
    max_travel: float | None = None,
    force_include: Iterable[str] = (),
    travel_matrix: str | Path | pd.DataFrame | None = None,
    boundaries: str | Path | Any | bool | None = None,
    *,
    minimum: float | None = None,
    circuity: float | None = None,
    speed_kmh: float | None = None,
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    population: pd.DataFrame | str | Path | None = None,
    data_dir: str | Path | None = None,
) -> DesignationOptions:
    """Compare configurations of ``k`` centres for a service in a footprint.

    Args:
        service: service id (``parameters/services/<id>.yaml``), YAML path or Service.
        footprint: GSS code or name of the footprint (e.g. ``"E40000006"``, NHS South West).
        ks: the numbers of centres to compare.
        candidates: ``None``/``"major_acute"`` (the region's major acute hospitals), a list of
            site codes, a CSV path or a sites table (see :func:`candidate_sites`).
        year: the year whose expected demand the design uses.
        draws: Monte Carlo draws of demand (0: no probability of meeting the minimum).
        seed: seed of the draws.
        current: today's centres (site codes, CSV or table) to report the change against.
        max_travel: maximum travel time in minutes for every area (None: no limit).
        force_include: site codes that must be designated (e.g. existing centres).
        travel_matrix: CSV or table ``origin, destination, minutes`` (origin: district code)
            replacing the straight-line estimate.
        boundaries: district boundaries for demand points and maps: ``None`` = the shared ONS
            LAD (2021) file when present, else ICB centroids; a path or GeoDataFrame; ``False``
            = ICB centroids without maps of areas.
        minimum: override the service's critical mass (minimum per centre), for sensitivity.
        circuity, speed_kmh: travel assumptions (defaults 1.3 and 60 km/h).
        thresholds: minutes for the "share beyond" statistics.
        population: district population (default: bundled ONS mid-2020).
        data_dir: the shared data folder (default ``../shared/data`` or ``$HNA_SHARED_DATA``).

    Raises:
        ParameterError: bad arguments, unknown sites, footprint or service.
        DataError: missing data (e.g. no shared data for the default candidate sites).
    """
    import hna

    svc = load_service(service)
    fp = _footprint(footprint)
    ks = _check_ks(ks)
    seed = _check_int(seed, "seed", 0)
    m = float(svc.critical_mass.minimum_per_centre) if minimum is None else float(minimum)
    if not np.isfinite(m) or m < 0:
        raise ParameterError("the minimum per centre must be a number >= 0", field="minimum",
                             value=minimum)

    demand = district_demand(svc, fp, year, draws, seed, population=population)
    lads, boundary_source = _lad_boundaries(boundaries)
    if lads is not None:
        points, areas = _district_points(demand, lads)
        area_draws = demand.draws
        geography = "lad"
        where = "geometric centroids of the districts (ONS LAD December 2021 boundaries)"
    else:
        points, area_draws = _icb_points(demand, fp)
        areas = None
        geography = "icb"
        where = ("geometric centroids of the ICBs (hna bundled data): district demand summed "
                 "into ICBs because district boundaries were not available")

    cand = candidate_sites(fp, candidates, data_dir=data_dir)
    cand_source = cand.attrs.get("source", "candidate sites")
    current_sites = _current_sites(current, cand, fp, data_dir)
    model = TravelModel(circuity=TravelModel().circuity if circuity is None else circuity,
                        speed_kmh=TravelModel().speed_kmh if speed_kmh is None else speed_kmh)
    demand_table = points[["area_code", "x", "y", "cases", "population"]]
    cmp = compare_k(
        demand_table, cand, ks=ks, min_cases_per_centre=m,
        force_include=force_include, max_travel=max_travel,
        draws=area_draws if not area_draws.empty else None,
        travel=travel_matrix, current_sites=current_sites, model=model,
        thresholds=tuple(thresholds),
    )
    table = _table(cmp, ks, tuple(thresholds), current_sites is not None)

    current_travel = None
    if current_sites is not None:
        current_travel = catchments(demand_table, current_sites, travel_matrix,
                                    thresholds=tuple(thresholds), model=model).travel

    assumptions: dict[str, Any] = {"thresholds_minutes": tuple(float(t) for t in thresholds),
                                   "points": where, "geography": geography}
    if travel_matrix is None:
        assumptions.update(travel="straight-line x circuity / speed", circuity=model.circuity,
                           speed_kmh=model.speed_kmh,
                           km_equivalent={f"{t:g}_min": model.km_for(t) for t in thresholds})
    else:
        assumptions.update(travel="matrix", travel_matrix=(
            str(travel_matrix) if not isinstance(travel_matrix, pd.DataFrame) else "table"))
    if max_travel is not None:
        assumptions["max_travel_minutes"] = float(max_travel)
    if force_include:
        assumptions["force_include"] = [str(s) for s in (
            [force_include] if isinstance(force_include, str) else force_include)]

    partial = demand.cases[demand.cases["share"] < 1 - 1e-9]
    cm = svc.critical_mass
    meta: dict[str, Any] = {
        "hna_version": hna.__version__,
        "data_vintages": hna.data_vintages(),
        "service": svc.id,
        "service_name": svc.name,
        "footprint": fp.code,
        "footprint_name": fp.name,
        "footprint_note": fp.note,
        "year": demand.meta["year"],
        "ks": ks,
        "seed": seed,
        "draws": int(draws),
        "critical_mass": {"minimum_per_centre": m, "service_value":
                          float(cm.minimum_per_centre), "unit": cm.unit, "centre": cm.centre,
                          "status": cm.status, "source": cm.source,
                          "citation": svc.cite(cm.source)},
        "demand": demand.meta,
        "geography": geography,
        "boundaries_source": boundary_source,
        "candidates_source": cand_source,
        "n_candidates": len(cand),
        "partial_districts": [{"area_code": r.area_code, "name": r.name,
                               "share": float(r.share)} for r in partial.itertuples()],
        "travel": assumptions,
    }
    opts = DesignationOptions(
        service=svc, footprint=fp, year=demand.meta["year"], ks=ks, minimum=m,
        demand=points.reset_index(drop=True), draws=area_draws, candidates=cand,
        comparison=cmp, table=table, geography=geography, areas=areas,
        current=current_sites, current_travel=current_travel, assumptions=assumptions,
        meta=meta,
    )
    opts.meta["sources"] = opts.source_notes()
    return opts

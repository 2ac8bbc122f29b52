"""Candidate sites and the current configuration for a designation.

Default candidates are acute hospital *sites* (never trust headquarters): the units of the
road travel-time matrix in the footprint's NHS England region(s)
(:func:`hna.geography.sites.acute_hospital_sites`), minus children's-only sites for an adult
service and minus the service's ``exclude`` list; a service may restrict them with
``candidates:`` in ``parameters/sites/<service>.yaml``. The current configuration (today's
centres, cited) comes from the same file. ``"major_acute"`` keeps the older trust-based
heuristic (:func:`hna.geography.sites.major_acute_sites`) for comparison only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pandas as pd

from hna.errors import ParameterError
from hna.geography import Footprint, lad_membership
from hna.geography.sites import (
    CHILDRENS_ONLY,
    SITES_DIR,
    SiteConfiguration,
    acute_hospital_sites,
    load_sites,
    major_acute_sites,
    service_sites,
    sites_by_code,
)

__all__ = ["candidate_sites", "current_configuration", "footprint_regions"]

_KEEP = ("site_code", "ods_code", "site_name", "postcode", "x", "y", "trust_code", "trust_name",
         "nhser_code")


def footprint_regions(fp: Footprint) -> list[str]:
    """NHS England regions (E40) holding most of each district of the footprint."""
    if fp.level == "nhs_region":
        return [fp.code]
    mem = lad_membership("nhs_region")
    major = mem.sort_values("share", ascending=False).drop_duplicates("lad_code")
    region_of = major.set_index("lad_code")["code"]
    members = fp.members[fp.members["share"] > 0]
    whole = members[members["share"] >= 0.5]
    if whole.empty:
        whole = members.sort_values("share", ascending=False).head(1)
    return sorted({str(region_of[c]) for c in whole["lad_code"] if c in region_of.index})


def _service_file(service_id: str | None):
    return service_sites(service_id) if service_id else None


def candidate_sites(
    footprint: Footprint,
    candidates: str | Path | Sequence[str] | pd.DataFrame | None = None,
    *,
    service_id: str | None = None,
    adult_service: bool | None = None,
    road_only: bool = False,
) -> pd.DataFrame:
    """Candidate sites ``site_code, site_name, x, y`` (+ ``ods_code, postcode, trust_*``).

    Args:
        footprint: the footprint.
        candidates: ``None``/``"acute"`` (acute hospital sites of the footprint's NHS England
            regions, restricted by the service's site file if it lists ``candidates``);
            ``"major_acute"`` (older trust heuristic); a list of site codes among the acute
            sites; a CSV/GeoJSON path or a table of sites (``site_code, site_name`` and
            coordinates).
        service_id: the service whose ``parameters/sites/<id>.yaml`` applies.
        adult_service: drop children's-only sites (default: the site file's
            ``adult_service``, else True).
        road_only: default candidates only among the sites with road travel times.

    Raises:
        ParameterError: unknown site codes, sites without coordinates, a missing file.
    """
    spec = _service_file(service_id)
    adult = adult_service if adult_service is not None else (spec.adult_service if spec else True)
    src = f"{SITES_DIR / (service_id or '')}.yaml" if spec else "candidates"
    if candidates is None or (isinstance(candidates, str) and candidates == "acute"):
        pool = acute_hospital_sites(adult_only=adult, nhs_regions=footprint_regions(footprint),
                                    road_only=road_only)
        if spec is not None and spec.candidates:
            pool = sites_by_code(spec.candidates, acute_hospital_sites(adult_only=False),
                                 field="candidates", source=src)
        if spec is not None and spec.exclude:
            pool = pool[~pool["site_code"].isin(spec.exclude)]
        sites = pool[[c for c in _KEEP if c in pool.columns]].reset_index(drop=True)
        if road_only and not (spec is not None and spec.candidates):
            every = acute_hospital_sites(adult_only=adult,
                                         nhs_regions=footprint_regions(footprint))
            if spec is not None and spec.exclude:
                every = every[~every["site_code"].isin(spec.exclude)]
            missing = every[~every["in_road_matrix"]]
            sites.attrs["without_road_times"] = [
                f"{n} ({c})" for n, c in zip(missing["site_name"], missing["site_code"],
                                             strict=True)]
        sites.attrs["source"] = (f"acute hospital sites of {', '.join(footprint_regions(footprint))}"
                                 + (" (children's-only sites excluded)" if adult else "")
                                 + (" with road travel times" if road_only else "")
                                 + "; " + acute_hospital_sites().attrs["source"])
    elif isinstance(candidates, str) and candidates == "major_acute":
        frames = [major_acute_sites(r) for r in footprint_regions(footprint)]
        sites = pd.concat(frames, ignore_index=True).drop_duplicates("site_code")
        sites = sites.reset_index(drop=True)
        sites.attrs["source"] = ("main site of each acute trust (heuristic, "
                                 "hna.geography.sites.major_acute_sites; not a default)")
    elif isinstance(candidates, pd.DataFrame | str | Path):
        sites = _from_file(candidates)
    elif isinstance(candidates, Iterable):
        sites = sites_by_code(list(candidates), acute_hospital_sites(adult_only=False),
                              field="candidates", source="candidates")
        sites = sites[[c for c in _KEEP if c in sites.columns]]
        sites.attrs["source"] = "listed site codes; " + acute_hospital_sites().attrs["source"]
    else:
        raise ParameterError("candidates must be 'acute', 'major_acute', a list of site codes,"
                             " a file path or a sites table", field="candidates",
                             value=type(candidates).__name__)
    if adult and "site_name" in sites.columns:
        child = sites["site_name"].astype(str).str.contains(CHILDRENS_ONLY)
        if child.any():
            raise ParameterError("children's-only site(s) listed as candidates for an adult "
                                 "service", field="candidates",
                                 value=sites.loc[child, "site_name"].tolist(),
                                 hint="remove them, or set adult_service: false")
    return sites


def _from_file(candidates: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(candidates, pd.DataFrame):
        sites = load_sites(candidates)
        sites.attrs["source"] = "candidate sites passed in"
        return sites
    path = Path(candidates)
    if not path.is_file():
        raise ParameterError("candidates must be 'acute', 'major_acute', a list of site codes,"
                             " or an existing file", field="candidates", value=str(candidates),
                             hint="for one site code write a list: ['RK950']")
    sites = load_sites(path)
    if sites.attrs.get("dropped"):
        raise ParameterError("candidate site(s) without coordinates", source=str(path),
                             field="x/y", value=sites.attrs["dropped"],
                             hint="give every site x/y (BNG) or longitude/latitude")
    sites.attrs["source"] = str(path)
    return sites


def current_configuration(
    service_id: str,
    footprint: Footprint,
    current: str | Sequence[str] | pd.DataFrame | None = "service",
) -> tuple[pd.DataFrame | None, SiteConfiguration | None]:
    """Today's centres: ``(sites, configuration)`` or ``(None, None)``.

    ``current`` is ``"service"`` (the configuration in ``parameters/sites/<service>.yaml``
    whose footprint is this footprint, if any), None (no comparator), a list of site codes or a
    sites table.

    Raises:
        ParameterError: unknown site codes.
    """
    if current is None:
        return None, None
    if isinstance(current, pd.DataFrame):
        return load_sites(current), None
    if isinstance(current, str) and current == "service":
        spec = service_sites(service_id)
        confs = [c for c in (spec.configurations if spec else []) if c.footprint == footprint.code]
        if not confs:
            return None, None
        src = str(SITES_DIR / f"{service_id}.yaml")
        sites = sites_by_code(confs[0].sites, acute_hospital_sites(adult_only=False),
                              field=f"configurations.{confs[0].id}.sites", source=src)
        return sites[[c for c in _KEEP if c in sites.columns]], confs[0]
    codes = [current] if isinstance(current, str) else list(current)
    sites = sites_by_code(codes, acute_hospital_sites(adult_only=False), field="current",
                          source="current")
    return sites[[c for c in _KEEP if c in sites.columns]], None

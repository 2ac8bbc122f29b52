"""Catalogues of specialised services, as data with their source, and which hna models.

Three catalogues from the seeds (``parameters/appraisal/catalogues.yaml``; tables in
``hna/data/catalogues/`` built by ``scripts/build_seed_tables.py``):

- ``ndset_2002``: the 35 services of the Specialised Services National Definitions Set (2002),
  F001 Appendix 1;
- ``nscag_2006``: the nationally commissioned services (NSCAG, 1 April 2006), F001 Appendix 2;
- ``ndset_3rd_edition``: the third edition as listed by the East Midlands SCG, F004.

:func:`catalogue` lists entries with ``hna_service`` (the hna service modelling it, if any).
:func:`segment_catalogue` and :func:`prioritise_catalogue` run the segmentation tool and a
prioritisation framework over a catalogue, given assessments of its entries.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd
from pydantic import Field

from hna.errors import DataError, ParameterError
from hna.frameworks._common import config_path
from hna.parameters import StrictModel, read_parameter_file

__all__ = ["CatalogueSettings", "load_catalogues", "catalogue", "segment_catalogue",
           "prioritise_catalogue"]


class _Catalogue(StrictModel):
    title: str
    file: str
    source: str


class _Model(StrictModel):
    entries: dict[str, list[int]] = Field(min_length=1)
    part: str


class CatalogueSettings(StrictModel):
    """Contents of ``parameters/appraisal/catalogues.yaml``."""

    catalogues: dict[str, _Catalogue] = Field(min_length=1)
    models: dict[str, _Model] = Field(default_factory=dict)


def load_catalogues(path: str | Path | None = None) -> CatalogueSettings:
    """Load the catalogue settings and check every model entry exists in its catalogue."""
    p = config_path(path, "catalogues.yaml")
    cfg = read_parameter_file(p, CatalogueSettings)
    for sid, m in cfg.models.items():
        for name, numbers in m.entries.items():
            if name not in cfg.catalogues:
                raise ParameterError("unknown catalogue", source=str(p),
                                     field=f"models.{sid}.entries.{name}", value=name,
                                     hint=f"Use one of: {', '.join(cfg.catalogues)}")
            known = set(_table(cfg.catalogues[name].file)["number"])
            bad = [n for n in numbers if n not in known]
            if bad:
                raise ParameterError("no such entry number in the catalogue", source=str(p),
                                     field=f"models.{sid}.entries.{name}", value=bad[0])
    return cfg


def _table(file: str) -> pd.DataFrame:
    with resources.files("hna").joinpath("data", "catalogues", file).open(
            "r", encoding="utf-8") as fh:
        return pd.read_csv(fh, keep_default_na=False)


def catalogue(name: str | None = None, *, settings: CatalogueSettings | str | Path | None = None,
              services: list[str] | None = None) -> pd.DataFrame:
    """Entries of one catalogue (or all), with the hna service that models each.

    Args:
        name: ``ndset_2002``, ``nscag_2006``, ``ndset_3rd_edition`` or ``None`` for all.
        settings: catalogue settings (default ``parameters/appraisal/catalogues.yaml``).
        services: service ids available (default :func:`hna.services.list_services`); a model
            listed in the settings whose service file is absent is not reported as a model.

    Returns:
        DataFrame ``catalogue, number, name, ...catalogue columns..., hna_service, has_model,
        model_part, source``; ``hna_service`` is "" where hna has no model.
    """
    cfg = settings if isinstance(settings, CatalogueSettings) else load_catalogues(settings)
    names = list(cfg.catalogues) if name is None else [name]
    for n in names:
        if n not in cfg.catalogues:
            raise ParameterError("unknown catalogue", field="catalogue", value=n,
                                 hint=f"Use one of: {', '.join(cfg.catalogues)}")
    if services is None:
        from hna.services import list_services

        services = list_services()
    parts = []
    for n in names:
        c = cfg.catalogues[n]
        t = _table(c.file)
        t.insert(0, "catalogue", n)
        models = {num: [] for num in t["number"]}
        part = {num: [] for num in t["number"]}
        for sid, m in cfg.models.items():
            if sid not in services:
                continue
            for num in m.entries.get(n, []):
                models[num].append(sid)
                part[num].append(f"{sid}: {m.part}")
        t["hna_service"] = t["number"].map(lambda k, mm=models: ", ".join(mm[k]))
        t["has_model"] = t["hna_service"] != ""
        t["model_part"] = t["number"].map(lambda k, pp=part: "; ".join(pp[k]))
        t["source"] = c.source
        parts.append(t)
    return pd.concat(parts, ignore_index=True)


def _join(name: str, assessments: pd.DataFrame, settings: object) -> pd.DataFrame:
    if not isinstance(assessments, pd.DataFrame) or "number" not in assessments.columns:
        raise DataError("expected a DataFrame with a `number` column (catalogue entry)",
                        source="assessments", field="number")
    cat = catalogue(name, settings=settings)
    unknown = sorted(set(assessments["number"]) - set(cat["number"]))
    if unknown:
        raise DataError(f"no such entry in {name}", source="assessments", field="number",
                        value=unknown[0])
    merged = assessments.merge(cat[["number", "name", "hna_service"]], on="number", how="left")
    merged.insert(0, "service", [f"{name}_{k}" for k in merged["number"]])
    merged.insert(1, "catalogue", name)
    return merged


def segment_catalogue(name: str, assessments: pd.DataFrame, *, config: object = None,
                      settings: object = None) -> pd.DataFrame:
    """Run the F003 segmentation tool over catalogue entries.

    Args:
        name: catalogue name.
        assessments: one row per entry: ``number``, ``annual_demand``, ``annual_cost`` and a
            score column for each hand-scored factor (provision, service_specifications,
            strategy).
        config: segmentation config (default ``parameters/appraisal/segmentation.yaml``).
        settings: catalogue settings.

    Returns:
        :func:`hna.frameworks.segmentation.segment` output with ``catalogue, number, name,
        hna_service`` first.
    """
    from hna.frameworks.segmentation import segment

    merged = _join(name, assessments, settings)
    out = segment(merged.drop(columns=["catalogue", "number", "name", "hna_service"]), config)
    keys = merged[["service", "catalogue", "number", "name", "hna_service"]]
    return keys.merge(out, on="service", how="right")


def prioritise_catalogue(name: str, assessments: pd.DataFrame, *, config: object = None,
                         settings: object = None) -> pd.DataFrame:
    """Rank catalogue entries on a prioritisation framework (App 9 by default).

    Args:
        name: catalogue name.
        assessments: ``number`` and one column per criterion of the framework.
        config: prioritisation config or path (e.g. ``hna.frameworks.EAST_MIDLANDS_FILE``).
        settings: catalogue settings.

    Returns:
        :func:`hna.frameworks.prioritisation.prioritise` output with ``catalogue, number,
        name, hna_service``.
    """
    from hna.frameworks.prioritisation import prioritise

    merged = _join(name, assessments, settings)
    return prioritise(merged, config=config)

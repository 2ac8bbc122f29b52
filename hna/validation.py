"""Validate any parameter file: its kind is recognised from its content, wherever it lives.

``hna validate FILE...`` and :func:`validate_files` read each file with
:func:`hna.parameters.read_yaml` (duplicate keys, alias bombs and oversized files refused) and
then hand it to the same loader that uses it (services, footprints, run specs, scenarios, tier
schemes, appraisal frameworks, model files, candidate-site lists), so a file that validates is a
file that loads, and the other way round.

Kinds are held in a registry: each :class:`FileKind` names the top-level keys that identify it
(its *signature*) and the loader that checks it. A file is of the kind whose whole signature is
present (the longest signature wins; keys in ``excludes`` rule a kind out). Further kinds can be
added with :func:`register_kind`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hna.errors import HnaError, ParameterError
from hna.parameters import display_path, read_parameter_file, read_yaml

__all__ = ["FileKind", "detect_kind", "kinds", "register_kind", "validate_file",
           "validate_files"]


@dataclass(frozen=True)
class FileKind:
    """One kind of parameter file.

    Attributes:
        name: short name shown to users (``service``, ``run``...).
        signature: top-level keys that together identify the kind.
        validate: loads and checks a file of this kind; returns a one-line description.
        description: what the kind is, for messages.
        excludes: top-level keys that rule the kind out (e.g. a run spec also has
            ``footprints``).
    """

    name: str
    signature: frozenset[str]
    validate: Callable[[Path], str]
    description: str
    excludes: frozenset[str] = field(default_factory=frozenset)


_KINDS: dict[str, FileKind] = {}


def register_kind(name: str, signature: Iterable[str], validate: Callable[[Path], str], *,
                  description: str, excludes: Iterable[str] = ()) -> None:
    """Add (or replace) a kind of parameter file.

    Args:
        name: the kind's name.
        signature: top-level keys that identify it (all must be present).
        validate: ``validate(path) -> description``; raises an :class:`hna.errors.InputError`.
        description: what the kind is.
        excludes: top-level keys whose presence rules the kind out.
    """
    _KINDS[name] = FileKind(name, frozenset(signature), validate, description,
                            frozenset(excludes))


def kinds() -> list[FileKind]:
    """The registered kinds, in registration order."""
    return list(_KINDS.values())


def detect_kind(raw: Any, source: str) -> FileKind:
    """The kind of a parsed file, from its top-level keys.

    Raises:
        ParameterError: not a mapping, or no kind (or more than one equally good kind) matches.
    """
    if not isinstance(raw, dict):
        raise ParameterError("expected a mapping of keys to values at the top level",
                             source=source, value=type(raw).__name__)
    keys = set(map(str, raw))
    fits = [k for k in _KINDS.values() if k.signature <= keys and not k.excludes & keys]
    if not fits:
        shown = "; ".join(f"{k.name} ({', '.join(sorted(k.signature))})"
                          for k in _KINDS.values())
        raise ParameterError(
            "cannot tell what kind of parameter file this is from its top-level keys",
            source=source, value=sorted(keys)[:12],
            hint=f"Each kind has these keys: {shown}")
    best = max(len(k.signature) for k in fits)
    top = [k for k in fits if len(k.signature) == best]
    if len(top) > 1:
        raise ParameterError(
            f"the top-level keys fit several kinds ({', '.join(k.name for k in top)})",
            source=source, hint="Remove the keys that do not belong to the file's kind")
    return top[0]


def validate_file(path: str | Path) -> dict[str, Any]:
    """Validate one parameter file.

    Returns:
        ``{path, kind, ok, message}``: ``message`` is the one-line error, or what was validated.
    """
    p = Path(path)
    kind = "unknown"
    try:
        raw = read_yaml(p, source=display_path(p), mapping=False)
        found = detect_kind(raw, display_path(p))
        kind = found.name
        message = found.validate(p)
    except HnaError as exc:
        return {"path": str(path), "kind": kind, "ok": False, "message": str(exc)}
    return {"path": str(path), "kind": kind, "ok": True, "message": message}


def validate_files(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Validate parameter files of any kind (see :func:`validate_file`), one dict per file."""
    return [validate_file(p) for p in paths]


# --------------------------------------------------------------------------------------------
# The kinds hna knows. Each loader is the one the rest of hna uses for that file.
# --------------------------------------------------------------------------------------------


def _service(path: Path) -> str:
    from hna.services import load_service

    svc = load_service(path)
    return f"service {svc.id} ({svc.kind}, {svc.quality} quality)"


def _footprints(path: Path) -> str:
    from hna.geography import read_footprint_file

    fps = read_footprint_file(path)
    return f"footprints ({len(fps)}: {', '.join(f.code for f in fps)})"


def _run(path: Path) -> str:
    """A run spec passes only if ``hna run`` would accept it: notebooks, services, years..."""
    from hna.batch.jobs import expand_jobs
    from hna.batch.runspec import load_runspec, project_root

    spec = load_runspec(path)
    jobs = expand_jobs(spec, root=project_root(path), source=str(path))
    return f"run spec {spec.name} ({len(spec.notebooks)} notebook(s), {len(jobs)} job(s))"


def _tiers(path: Path) -> str:
    from hna.tiers import load_tier_schemes

    cfg = load_tier_schemes(path)
    return f"tier schemes ({', '.join(cfg.schemes)})"


def _model(path: Path) -> str:
    from hna.prevalence import load_rrt_parameters

    load_rrt_parameters(path)
    return "renal replacement therapy model parameters"


def _scenario(path: Path) -> str:
    from hna.scenarios import load_scenario

    sc = load_scenario(path)
    return f"scenario {sc.id} ({', '.join(sc.services)})"


def _segmentation(path: Path) -> str:
    from hna.frameworks.segmentation import load_segmentation

    load_segmentation(path)
    return "appraisal framework: segmentation"


def _prioritisation(path: Path) -> str:
    from hna.frameworks.prioritisation import load_prioritisation

    load_prioritisation(path)
    return "appraisal framework: prioritisation"


def _thames_valley(path: Path) -> str:
    from hna.frameworks.thames_valley import load_thames_valley

    load_thames_valley(path)
    return "appraisal framework: Thames Valley"


def _fitness(path: Path) -> str:
    from hna.frameworks.fitness_for_purpose import load_fitness_framework

    load_fitness_framework(path)
    return "appraisal framework: fitness for purpose"


def _risk_sharing(path: Path) -> str:
    from hna.finance.risk_sharing import load_risk_sharing

    load_risk_sharing(path)
    return "risk-sharing settings"


def _benchmarking(path: Path) -> str:
    from hna.frameworks import load_benchmarking

    load_benchmarking(path)
    return "appraisal framework: benchmarking measures"


def _catalogues(path: Path) -> str:
    from hna.frameworks import load_catalogues

    load_catalogues(path)
    return "appraisal framework: service catalogues"


def _designation_criteria(path: Path) -> str:
    from hna.frameworks import load_designation_criteria

    load_designation_criteria(path)
    return "appraisal framework: designation criteria"


def _base_spend(path: Path) -> str:
    from hna.appraisal.programme import BaseSpendMap

    read_parameter_file(path, BaseSpendMap, source=display_path(path))
    return "appraisal base spend (F004 lines, unit costs)"


def _sites(path: Path) -> str:
    from hna.geography.sites import ServiceSites

    spec = read_parameter_file(path, ServiceSites, source=display_path(path))
    return f"candidate sites for {spec.service}"


register_kind("service", {"kind"}, _service,
              description="a service file (parameters/services/)")
register_kind("run", {"notebooks"}, _run, description="a run spec (parameters/runs/)")
register_kind("footprints", {"footprints"}, _footprints, excludes={"notebooks"},
              description="custom footprints (parameters/footprints/)")
register_kind("tiers", {"schemes", "carter_rules"}, _tiers,
              description="tier schemes (parameters/tiers.yaml)")
register_kind("model", {"initial_prevalence", "mortality", "transplantation"}, _model,
              description="the renal replacement therapy model (parameters/models/)")
register_kind("model_variant", {"extends", "changes"}, _model,
              description="a scenario variant of the RRT model (extends: + changes:)")
register_kind("scenario", {"id", "services"}, _scenario, excludes={"kind"},
              description="a scenario (parameters/scenarios/)")
register_kind("segmentation", {"factors", "cutoffs"}, _segmentation,
              description="the segmentation framework (parameters/appraisal/)")
register_kind("prioritisation", {"criteria", "framework", "services"}, _prioritisation,
              description="a prioritisation framework (parameters/appraisal/)")
register_kind("thames_valley", {"pressures", "areas"}, _thames_valley,
              description="the Thames Valley framework (parameters/appraisal/)")
register_kind("fitness_for_purpose", {"dimensions", "ratings"}, _fitness,
              description="the fitness-for-purpose framework (parameters/appraisal/)")
register_kind("risk_sharing", {"voting_rules", "pooled_budget"}, _risk_sharing,
              description="risk-sharing settings (parameters/appraisal/)")
register_kind("benchmarking", {"measures", "years"}, _benchmarking,
              description="the Appendix 14 benchmarking measures (parameters/appraisal/)")
register_kind("catalogues", {"catalogues", "models"}, _catalogues,
              description="service catalogues and hna models (parameters/appraisal/)")
register_kind("designation_criteria", {"criteria", "accreditation"}, _designation_criteria,
              description="designation criteria (parameters/appraisal/)")
register_kind("base_spend", {"lines", "population"}, _base_spend,
              description="base spend lines and unit costs (parameters/appraisal/)")
register_kind("sites", {"service"}, _sites, excludes={"kind", "notebooks"},
              description="candidate sites of a service (parameters/sites/)")

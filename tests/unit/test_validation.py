"""hna.validation: a parameter file's kind comes from its content, wherever the file lives."""

from __future__ import annotations

import shutil

import pytest

from hna.errors import ParameterError
from hna.validation import detect_kind, kinds, validate_file
from tests.conftest import REPO

PARAMS = REPO / "parameters"


@pytest.mark.parametrize(("rel", "kind"), [
    ("services/soft_tissue_sarcoma.yaml", "service"),
    ("runs/default.yaml", "run"),
    ("footprints/historical.yaml", "footprints"),
    ("tiers.yaml", "tiers"),
    ("models/renal_replacement_therapy.yaml", "model"),
    ("scenarios/sts_rising_2pc.yaml", "scenario"),
    ("appraisal/segmentation.yaml", "segmentation"),
    ("appraisal/prioritisation.yaml", "prioritisation"),
    ("appraisal/thames_valley.yaml", "thames_valley"),
    ("appraisal/fitness_for_purpose.yaml", "fitness_for_purpose"),
    ("appraisal/risk_sharing.yaml", "risk_sharing"),
    ("sites/soft_tissue_sarcoma.yaml", "sites"),
])
def test_each_kind_is_recognised_from_content_outside_its_folder(tmp_path, rel, kind):
    src = PARAMS / rel
    dst = tmp_path / src.name  # not in a folder named for its kind
    shutil.copy(src, dst)
    if kind == "service":  # relative file references resolve from the service's folder
        dst = src
    if kind == "run":  # notebook paths resolve from the spec's folder: make them absolute
        _absolute_notebooks(dst)
    res = validate_file(dst)
    assert res["kind"] == kind
    assert res["ok"], res["message"]


def _absolute_notebooks(spec):
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("path: notebooks/", f"path: {REPO}/notebooks/"), encoding="utf-8")


def test_a_run_spec_outside_parameters_runs_is_a_run_spec_not_footprints(tmp_path):
    dst = tmp_path / "my_run.yaml"
    shutil.copy(PARAMS / "runs" / "default.yaml", dst)
    _absolute_notebooks(dst)
    res = validate_file(dst)
    assert (res["kind"], res["ok"]) == ("run", True), res["message"]
    assert "job(s)" in res["message"]


def test_validate_refuses_a_run_spec_that_hna_run_would_refuse(tmp_path):
    # copied outside parameters/runs, its relative notebook paths point at tmp_path/notebooks
    dst = tmp_path / "my_run.yaml"
    shutil.copy(PARAMS / "runs" / "default.yaml", dst)
    res = validate_file(dst)
    assert (res["kind"], res["ok"]) == ("run", False)
    assert "notebooks[0].path" in res["message"] and "notebook not found" in res["message"]
    assert str(tmp_path) in res["message"]


def test_unknown_content_names_the_kinds_and_their_keys(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("colour: blue\n", encoding="utf-8")
    res = validate_file(path)
    assert not res["ok"] and "cannot tell what kind" in res["message"]
    assert "service (kind)" in res["message"] and "run (notebooks)" in res["message"]


def test_detect_kind_refuses_a_list():
    with pytest.raises(ParameterError, match="mapping"):
        detect_kind([1, 2], "x.yaml")


def test_every_registered_kind_has_a_signature():
    assert all(k.signature for k in kinds())


def test_duplicate_draws_in_a_run_spec_is_refused_by_validate(tmp_path):
    text = (PARAMS / "runs" / "default.yaml").read_text(encoding="utf-8")
    path = tmp_path / "run.yaml"
    path.write_text(text + "\ndraws: 5\n", encoding="utf-8")
    res = validate_file(path)
    assert not res["ok"] and "duplicate key 'draws'" in res["message"]


SERVICE = """\
id: test_service
name: Test service
kind: incidence
measure: cases
rates:
  counts:
    - {age_band: all, sex: persons, cases: 329, person_years: 4400000}
  source: s
critical_mass:
  minimum_per_centre: 300
  unit: cases per centre per year
  status: local_assumption
  source: s
quality: low
sources:
  - {id: s, publisher: P, title: T, year: 2009}
"""


def _service_with(tmp_path, old: str, new: str):
    assert old in SERVICE
    path = tmp_path / "test_service.yaml"
    path.write_text(SERVICE.replace(old, new, 1), encoding="utf-8")
    return path


def test_the_test_service_is_valid(tmp_path):
    res = validate_file(_service_with(tmp_path, "quality: low", "quality: low"))
    assert res["ok"], res["message"]


@pytest.mark.parametrize(("old", "new", "field"), [
    ("cases: 329,", "cases: .inf,", "rates.counts[0].cases"),
    ("minimum_per_centre: 300", "minimum_per_centre: .inf", "critical_mass.minimum_per_centre"),
    ("minimum_per_centre: 300", "minimum_per_centre: 1.0e+308",
     "critical_mass.minimum_per_centre"),
    ("cases: 329,", "cases: 1.0e+308,", "rates.counts"),
    ("rates:\n", "rates:\n  per: 1.0e-320\n", "rates.per"),
])
def test_validate_and_load_refuse_the_same_impossible_numbers(tmp_path, old, new, field):
    from hna.services import load_service

    path = _service_with(tmp_path, old, new)
    res = validate_file(path)
    assert not res["ok"] and f"field '{field}'" in res["message"]
    with pytest.raises(ParameterError) as info:
        load_service(path)
    assert str(info.value) == res["message"]


def test_duplicate_per_in_a_service_is_refused_by_validate_and_load(tmp_path):
    from hna.services import load_service

    path = _service_with(tmp_path, "rates:\n", "rates:\n  per: 1\n  per: 1\n")
    res = validate_file(path)
    assert not res["ok"] and "duplicate key 'per'" in res["message"]
    with pytest.raises(ParameterError, match="duplicate key 'per'"):
        load_service(path)

"""Service catalogue: loading, validation messages, rates inputs, schema and hashing."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pandas as pd
import pytest

from hna.bands import AGE_BANDS
from hna.errors import ParameterError
from hna.services import (
    expand_bands,
    list_services,
    load_service,
    parameter_hash,
    scope_weights,
    service_rates,
)
from hna.validation import validate_files
from tests.conftest import REPO, TEST_DATA

BAD = TEST_DATA / "services"

HEADER = """\
id: {id}
name: Test service
kind: {kind}
measure: new cases
"""
FOOTER = """\
critical_mass:
  minimum_per_centre: 20
  unit: new cases per centre per year
  status: local_assumption
  source: made_up
quality: low
sources:
  - {id: made_up, publisher: hna tests, title: fixture, year: 2025}
"""


def write_service(tmp_path, body: str, sid: str = "test_service", kind: str = "incidence"):
    path = tmp_path / f"{sid}.yaml"
    path.write_text(HEADER.format(id=sid, kind=kind) + textwrap.dedent(body) + FOOTER)
    return path


# ------------------------------------------------------------------ the shipped catalogue
def test_catalogue_ships_the_required_services():
    ids = set(list_services())
    assert {"soft_tissue_sarcoma", "bone_sarcoma", "dialysis"} <= ids
    assert len(ids) >= 5


@pytest.mark.parametrize("sid", list_services())
def test_every_shipped_service_loads_and_cites_known_sources(sid):
    svc = load_service(sid)
    known = {s.id for s in svc.sources}
    assert svc.id == sid
    assert all(ref in known for _, ref in svc.source_references())


def test_dialysis_refers_to_the_rrt_model_file():
    svc = load_service("dialysis")
    assert svc.kind == "prevalence" and svc.model is not None
    assert svc.resolve(svc.model.path) == REPO / "parameters" / "models" / (
        "renal_replacement_therapy.yaml")


def test_low_quality_services_say_why():
    for sid in list_services():
        svc = load_service(sid)
        if svc.quality == "low":
            assert svc.notes and "low" in svc.notes.lower()


def test_unknown_service_suggests_the_nearest_id():
    with pytest.raises(ParameterError, match="Did you mean soft_tissue_sarcoma"):
        load_service("soft_tissue_sarcom")


# ------------------------------------------------------------------ bad parameter files
def _message(name: str) -> str:
    with pytest.raises(ParameterError) as info:
        load_service(BAD / name)
    msg = str(info.value)
    assert "\n" not in msg and f"{name}" in msg
    return msg


def test_typo_in_a_key_names_the_key_and_the_fix():
    msg = _message("typo_key.yaml")
    assert "field 'critical_mass.minimum_per_centr'" in msg
    assert "unknown key" in msg and "Did you mean 'minimum_per_centre'?" in msg
    assert "more problem" not in msg


def test_rate_as_string_is_rejected_not_coerced():
    msg = _message("rates_as_strings.yaml")
    assert "field 'rates.table[1].rate'" in msg
    assert "Input should be a valid number (got '12.5')" in msg


def test_negative_threshold():
    msg = _message("negative_threshold.yaml")
    assert ("field 'critical_mass.minimum_per_centre': Input should be greater than 0 "
            "(got -5)") in msg


def test_unknown_projection_method():
    msg = _message("unknown_method.yaml")
    assert "field 'projection.method'" in msg
    assert "'constant', 'trend' or 'nordpred'" in msg and "(got 'linear')" in msg


def test_missing_source():
    msg = _message("missing_source.yaml")
    assert "field 'critical_mass.source': missing source" in msg and "'nice_2006'" in msg


def test_malformed_yaml_names_the_line():
    msg = _message("malformed.yaml")
    assert "malformed YAML at line 8" in msg and "started at line 7" in msg


def test_validate_files_reports_each_file(tmp_path):
    res = validate_files([REPO / "parameters" / "services" / "bone_sarcoma.yaml",
                          REPO / "parameters" / "footprints" / "historical.yaml",
                          REPO / "parameters" / "tiers.yaml",
                          BAD / "negative_threshold.yaml"])
    assert [r["ok"] for r in res] == [True, True, True, False]
    assert [r["kind"] for r in res] == ["service", "footprints", "tiers", "service"]
    assert "greater than 0" in res[3]["message"]


def test_prevalence_needs_rates_or_model_not_both(tmp_path):
    path = write_service(tmp_path, """\
        rates:
          table: [{age_band: all, sex: persons, rate: 1.0}]
          source: made_up
        model: {path: x.yaml, source: made_up}
        """, kind="prevalence")
    with pytest.raises(ParameterError, match="exactly one of 'rates'"):
        load_service(path)


# ------------------------------------------------------------------ rates
def test_expand_bands():
    assert expand_bands("15-44") == ["15-19", "20-24", "25-29", "30-34", "35-39", "40-44"]
    assert expand_bands("85+") == ["85-89", "90+"]
    assert expand_bands("all") == list(AGE_BANDS)
    with pytest.raises(ValueError, match="band edges"):
        expand_bands("16-20")


def test_rate_table_is_per_100000_and_spans_cover_their_bands(tmp_path):
    path = write_service(tmp_path, """\
        rates:
          table:
            - {age_band: "0-44", sex: persons, rate: 5}
            - {age_band: "45+", sex: female, rate: 20}
            - {age_band: "45+", sex: male, rate: 30}
          source: made_up
        """)
    r = service_rates(path).set_index(["sex", "age_band"])["rate"]
    assert len(r) == 38
    assert r[("female", "0-4")] == pytest.approx(5e-5)
    assert r[("female", "90+")] == pytest.approx(20e-5)
    assert r[("male", "45-49")] == pytest.approx(30e-5)


def test_overlapping_rows_are_an_error(tmp_path):
    path = write_service(tmp_path, """\
        rates:
          table:
            - {age_band: "0-44", sex: persons, rate: 5}
            - {age_band: "40+", sex: persons, rate: 20}
          source: made_up
        """)
    with pytest.raises(ParameterError, match="rows overlap"):
        load_service(path)


def test_a_band_in_scope_without_a_rate_is_an_error(tmp_path):
    path = write_service(tmp_path, """\
        rates:
          table:
            - {age_band: "0-44", sex: persons, rate: 5}
          source: made_up
        """)
    with pytest.raises(ParameterError, match="no rate for 20 band"):
        load_service(path)


def _registry_counts() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [{"age_band": b, "sex": s, "cases": int(rng.integers(0, 60)),
             "person_years": float(rng.integers(500_000, 2_000_000))}
            for s in ("female", "male") for b in AGE_BANDS]
    return pd.DataFrame(rows)


def test_registry_counts_give_crude_rates_with_their_counts(tmp_path):
    counts = _registry_counts()
    body = "rates:\n  counts:\n" + "".join(
        f"    - {{age_band: \"{r.age_band}\", sex: {r.sex}, cases: {r.cases}, "
        f"person_years: {r.person_years}}}\n" for r in counts.itertuples()) + "  source: made_up\n"
    r = service_rates(write_service(tmp_path, body)).set_index(["sex", "age_band"])
    c = counts.set_index(["sex", "age_band"])
    assert np.allclose(r.loc[c.index, "rate"], c["cases"] / c["person_years"])
    assert np.array_equal(r.loc[c.index, "cases"], c["cases"])
    assert np.array_equal(r.loc[c.index, "person_years"], c["person_years"])


def test_rates_file_gives_the_same_rates_as_inline_counts(tmp_path):
    counts = _registry_counts()
    counts.to_csv(tmp_path / "registry.csv", index=False)
    by_file = service_rates(write_service(tmp_path, """\
        rates:
          file: registry.csv
          source: made_up
        """, sid="by_file"))
    body = "rates:\n  counts:\n" + "".join(
        f"    - {{age_band: \"{r.age_band}\", sex: {r.sex}, cases: {r.cases}, "
        f"person_years: {r.person_years}}}\n" for r in counts.itertuples()) + "  source: made_up\n"
    inline = service_rates(write_service(tmp_path, body, sid="inline"))
    pd.testing.assert_frame_equal(by_file, inline)


def test_pooled_count_is_split_without_changing_rate_or_total(tmp_path):
    path = write_service(tmp_path, """\
        rates:
          counts: [{age_band: all, sex: persons, cases: 329, person_years: 4400000}]
          source: made_up
        """)
    r = service_rates(path)
    assert np.allclose(r["rate"], 329 / 4_400_000)
    assert r["cases"].sum() == pytest.approx(329)
    assert r["person_years"].sum() == pytest.approx(4_400_000)


def test_equivalent_cases_set_rate_uncertainty_for_the_sts_table():
    r = service_rates("soft_tissue_sarcoma")
    assert r["cases"].sum() == pytest.approx(2090)  # Scottish C47+C49 registrations 2004-18
    assert np.allclose(r["cases"] / r["person_years"], r["rate"])


def test_wide_sts_rates_give_england_4295_cases_in_2018(england_2018):
    p = england_2018
    r = service_rates("soft_tissue_sarcoma_wide").set_index(["sex", "age_band"])["rate"]
    cases = (r * p.reindex(r.index)).sum()
    assert cases == pytest.approx(4295, rel=1e-5)  # Get Data Out 2017-19 (rates to 4 d.p.)


def test_scope_weights_share_partial_bands():
    w = scope_weights("dialysis")  # adults 18+
    assert w[("female", "10-14")] == 0
    assert w[("female", "15-19")] == pytest.approx(0.4)  # ages 18, 19 of 15-19
    assert w[("male", "20-24")] == 1


# ------------------------------------------------------------------ schema and hash
def test_committed_json_schema_matches_the_models():
    import importlib.util

    spec = importlib.util.spec_from_file_location("build_schema",
                                                  REPO / "scripts" / "build_schema.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    committed = (REPO / "docs" / "schema" / "service.schema.json").read_text()
    assert committed == mod.render()
    schema = json.loads(committed)
    assert schema["additionalProperties"] is False
    assert {"id", "kind", "critical_mass", "sources"} <= set(schema["required"])


def test_parameter_hash_ignores_formatting_but_not_values(tmp_path):
    a = write_service(tmp_path, """\
        rates: {table: [{age_band: all, sex: persons, rate: 5}], source: made_up}
        """, sid="a")
    b = tmp_path / "b.yaml"
    b.write_text("# a comment\n" + a.read_text().replace("rate: 5}", "rate: 5.0}"))
    c = tmp_path / "c.yaml"
    c.write_text(a.read_text().replace("rate: 5}", "rate: 6}"))
    assert parameter_hash(a) == parameter_hash(b)
    assert parameter_hash(a) != parameter_hash(c)
    assert parameter_hash(a, {"seed": 1}) != parameter_hash(a, {"seed": 2})

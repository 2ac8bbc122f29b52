"""Tests for hna.scenarios: loading, validation, applying to a service, building in Python."""

from __future__ import annotations

import textwrap

import pytest

from hna.errors import ParameterError
from hna.scenarios import (
    apply_scenario,
    is_scenario,
    list_scenarios,
    load_scenario,
    scenario,
    validate_scenario_file,
)
from hna.services import load_service


def _write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_every_shipped_scenario_validates_against_its_services():
    ids = list_scenarios()
    assert {"sts_rising_2pc", "sts_uncertain_inputs", "population_npp2018"} <= set(ids)
    for sid in ids:
        assert validate_scenario_file(f"parameters/scenarios/{sid}.yaml").startswith("scenario")


def test_applying_a_scenario_changes_only_what_it_says():
    base = load_service("soft_tissue_sarcoma")
    new = apply_scenario(base, "sts_rising_2pc")
    assert new.projection.method == "trend" and new.projection.annual_change_percent == 2.0
    assert new.projection.base_year == 2025
    assert new.id == base.id and new.rates == base.rates and new.path == base.path
    assert new._scenario.id == "sts_rising_2pc"
    # the assumption became a cited source
    assert new.source(new.projection.source).publisher == "hna scenario (assumption)"
    assert "annual_change_percent" in new.uncertainty


def test_unknown_scenario_suggests_the_nearest():
    with pytest.raises(ParameterError) as err:
        load_scenario("sts_rising_2p")
    assert "unknown scenario" in str(err.value) and "sts_rising_2pc" in str(err.value)


def test_a_key_the_service_lacks_names_file_field_and_value(tmp_path):
    p = _write(tmp_path, """\
        id: bad
        name: Bad
        services: [soft_tissue_sarcoma]
        year: 2026
        changes:
          - {set: critical_mass.minimum_per_centr, value: 80, assumption: typo}
        """)
    with pytest.raises(ParameterError) as err:
        apply_scenario("soft_tissue_sarcoma", p)
    msg = str(err.value)
    assert "s.yaml" in msg and "changes[0].set" in msg and "minimum_per_centr" in msg
    assert "Did you mean 'critical_mass.minimum_per_centre'" in msg


def test_a_block_the_service_does_not_have(tmp_path):
    p = _write(tmp_path, """\
        id: bad
        name: Bad
        services: [soft_tissue_sarcoma]
        year: 2026
        changes:
          - {set: cost.gbp, value: 1000, assumption: no cost block}
        """)
    with pytest.raises(ParameterError, match="no 'cost' block"):
        apply_scenario("soft_tissue_sarcoma", p)


def test_a_change_needs_a_source_or_an_assumption(tmp_path):
    p = _write(tmp_path, """\
        id: bad
        name: Bad
        services: [soft_tissue_sarcoma]
        year: 2026
        changes:
          - {set: critical_mass.minimum_per_centre, value: 80}
        """)
    with pytest.raises(ParameterError, match="exactly one of 'source'"):
        load_scenario(p)


@pytest.mark.parametrize(("change", "words"), [
    ("{set: critical_mass.minimum_per_centre, value: -5, assumption: x}", "greater than 0"),
    ("{set: projection, value: {method: trend, annual_change_percent: 2, base_year: null}, "
     "assumption: x}", "base_year"),
])
def test_impossible_values_are_refused_after_applying(tmp_path, change, words):
    p = _write(tmp_path, f"""\
        id: bad
        name: Bad
        services: [soft_tissue_sarcoma]
        year: 2026
        changes:
          - {change}
        """)
    with pytest.raises(ParameterError, match=words):
        apply_scenario("soft_tissue_sarcoma", p)


def test_a_trend_that_makes_rates_negative_is_refused(tmp_path):
    p = _write(tmp_path, """\
        id: bad
        name: Bad
        services: [soft_tissue_sarcoma]
        year: 2026
        changes:
          - {set: projection, value: {method: trend, annual_change_percent: -40, base_year: 2025},
             assumption: x}
        uncertainty:
          annual_change_percent: {distribution: normal, sd: 20, assumption: x}
        """)
    with pytest.raises(ParameterError) as err:
        apply_scenario("soft_tissue_sarcoma", p)
    assert "uncertainty.annual_change_percent" in str(err.value) and "-100" in str(err.value)


def test_scenario_for_another_service_is_refused():
    with pytest.raises(ParameterError, match="not written for this service"):
        apply_scenario("dialysis", "sts_rising_2pc")


def test_scenario_built_in_python_round_trips_through_yaml(tmp_path):
    sc = scenario("mine", "Minimum 80", "soft_tissue_sarcoma",
                  {"critical_mass.minimum_per_centre": 80.0}, assumption="local view")
    assert apply_scenario("soft_tissue_sarcoma", sc).critical_mass.minimum_per_centre == 80
    path = tmp_path / "mine.yaml"
    sc.to_yaml(path)
    assert load_scenario(path) == sc
    import yaml

    assert is_scenario(yaml.safe_load(path.read_text()))


def test_scenario_differences_show_expected_values_as_whole_cases():
    from hna.scenario_compare import compare_scenarios

    c = compare_scenarios("soft_tissue_sarcoma", "E40000006", [None, "sts_registry_trend"],
                          years="2025:2030", draws=20, seed=1)
    d = c.differences()
    for col in ("Expected 2025", "Expected 2030"):
        assert str(d[col].dtype) == "Int64"
        assert (d[col].astype(float) - c.table[col.replace("Expected 2025", "now_expected")
                                              .replace("Expected 2030", "horizon_expected")]
                ).abs().max() <= 0.5

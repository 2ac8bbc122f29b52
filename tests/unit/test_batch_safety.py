"""Unit tests of hna.batch.safety and hna.batch.runspec: limits, CLI parameters, light import."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
import yaml

from hna.batch.runspec import load_runspec
from hna.batch.safety import (
    MAX_PARAMETER_DEPTH,
    MAX_PARAMETER_ITEMS,
    parse_cli_parameter,
    validate_parameters,
)
from hna.errors import ParameterError


def test_runspec_imports_without_the_rest_of_the_batch_runner():
    code = ("import sys, hna.batch.runspec; "
            "print(sorted(m for m in sys.modules if m.startswith(('hna.batch.', 'papermill', "
            "'hna.services', 'hna.geography'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['hna.batch.runspec', 'hna.batch.safety']"


def _nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def test_parameter_values_nested_too_deep_are_refused():
    validate_parameters({"x": _nested(MAX_PARAMETER_DEPTH)})
    with pytest.raises(ParameterError, match="nested more than"):
        validate_parameters({"x": _nested(MAX_PARAMETER_DEPTH + 1)})


def test_parameter_values_with_too_many_items_are_refused():
    validate_parameters({"x": list(range(MAX_PARAMETER_ITEMS))})
    with pytest.raises(ParameterError, match="more than 10,000"):
        validate_parameters({"x": list(range(MAX_PARAMETER_ITEMS + 1))})


def test_parameters_larger_than_the_byte_limit_are_refused():
    with pytest.raises(ParameterError, match="bytes as JSON"):
        validate_parameters({"x": "a" * 1_000_001})


def test_alias_bomb_in_run_spec_parameters_fails_fast(tmp_path):
    lines = ["name: bomb", "notebooks: [{path: a.ipynb, over: []}]", "years: [2025]",
             "draws: 1", "seed: 1", "parameters:", '  a0: &a0 ["lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"  a{i}: &a{i} [{refs}]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    start = time.monotonic()
    with pytest.raises(ParameterError) as info:
        load_runspec(path)
    assert time.monotonic() - start < 10
    assert "bomb.yaml" in str(info.value)


@pytest.mark.parametrize(("text", "value"), [
    ("[6, 8, 10]", [6, 8, 10]), ("3", 3), ("0.5", 0.5), ("true", True), ("null", None),
    ("major_acute", "major_acute"), ("{a: 1}", {"a": 1}), ("'2030'", "2030"),
])
def test_cli_parameters_are_read_as_yaml_values_like_papermill(text, value):
    assert parse_cli_parameter("ks", text) == ("ks", value)


def test_cli_parameters_refuse_runner_names_bad_names_and_bad_yaml():
    with pytest.raises(ParameterError, match="set by the runner"):
        parse_cli_parameter("draws", "5")
    with pytest.raises(ParameterError, match="not a valid parameter name"):
        parse_cli_parameter("1x", "5")
    with pytest.raises(ParameterError, match="-p ks"):
        parse_cli_parameter("ks", "[6, 8")
    with pytest.raises(ParameterError, match=r"-p.ks.*not a finite number"):
        parse_cli_parameter("ks", ".nan")


def test_duplicate_draws_in_a_run_spec_is_an_error(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(yaml.safe_dump({"name": "d", "notebooks": [{"path": "a.ipynb", "over": []}],
                                    "years": [2025], "draws": 1, "seed": 1}) + "draws: 2\n")
    with pytest.raises(ParameterError, match="draws"):
        load_runspec(path)

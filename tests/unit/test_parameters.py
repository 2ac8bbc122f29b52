"""Shared YAML -> pydantic reading (hna.parameters): one error wording for every file type."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from hna.errors import ParameterError
from hna.parameters import field_path, read_parameter_file, read_yaml, validation_error


class _Inner(BaseModel):
    model_config = ConfigDict(extra="forbid")
    minimum: float


class _Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    inner: _Inner | list[int]


def test_field_path_uses_brackets_and_drops_union_tags():
    assert field_path(("notebooks", 0, "over", 1)) == "notebooks[0].over[1]"
    assert field_path(("inner", "_Inner", "minimum"), _Outer) == "inner.minimum"
    assert field_path(("inner", "list[int]", 0)) == "inner[0]"


def test_misspelt_key_suggests_the_nearest_and_is_counted_once():
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate({"name": "x", "inner": {"minimun": 1}})
    err = validation_error(info.value, "f.yaml", _Outer)
    assert err.field == "inner.minimun"
    assert "unknown key 'minimun'" in str(err) and "Did you mean 'minimum'?" in str(err)


def test_missing_key_is_named():
    with pytest.raises(ValidationError) as info:
        _Outer.model_validate({"inner": {"minimum": 1}})
    err = validation_error(info.value, "f.yaml", _Outer)
    assert (err.field, err.message) == ("name", "required key is missing")


def test_malformed_yaml_gives_line_and_column(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(ParameterError, match=r"bad.yaml: malformed YAML at line 3"):
        read_yaml(f)


def test_top_level_must_be_a_mapping(tmp_path):
    f = tmp_path / "list.yaml"
    f.write_text("- 1\n- 2\n")
    with pytest.raises(ParameterError, match="expected a mapping"):
        read_parameter_file(f, _Outer)


def test_missing_file(tmp_path):
    with pytest.raises(ParameterError, match="not found"):
        read_parameter_file(tmp_path / "nope.yaml", _Outer)

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


# ------------------------------------------------------------------ YAML rules (issue 14)
def _yaml(tmp_path, text: str, name: str = "f.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_duplicate_key_is_an_error_naming_both_lines(tmp_path):
    path = _yaml(tmp_path, "rates:\n  per: 100000\n  source: x\n  per: 1\n")
    with pytest.raises(ParameterError, match="duplicate key 'per' at lines 2 and 4") as info:
        read_yaml(path)
    assert info.value.field == "per"


def test_duplicate_top_level_key_is_an_error(tmp_path):
    path = _yaml(tmp_path, "name: a\ndraws: 100\nseed: 1\ndraws: 5\n")
    with pytest.raises(ParameterError, match="lines 2 and 4"):
        read_yaml(path)


def test_same_key_in_different_mappings_is_allowed(tmp_path):
    path = _yaml(tmp_path, "a: {per: 1}\nb: {per: 2}\nlist: [{x: 1}, {x: 2}]\n")
    assert read_yaml(path) == {"a": {"per": 1}, "b": {"per": 2}, "list": [{"x": 1}, {"x": 2}]}


def test_merge_keys_still_work(tmp_path):
    path = _yaml(tmp_path, "base: &b {x: 1, y: 2}\nuse: {<<: *b, y: 3}\n")
    assert read_yaml(path)["use"] == {"x": 1, "y": 3}


def test_alias_bomb_fails_fast_with_a_clear_message(tmp_path):
    import time

    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    path = _yaml(tmp_path, "parameters:\n" + "\n".join("  " + ln for ln in lines) + "\n")
    start = time.perf_counter()
    with pytest.raises(ParameterError, match="expands to more than 200,000 values"):
        read_yaml(path)
    assert time.perf_counter() - start < 2.0  # 9**9 = 387 million values if expanded


def test_modest_aliases_are_allowed(tmp_path):
    path = _yaml(tmp_path, "a: &a [1, 2, 3]\nb: *a\nc: *a\n")
    assert read_yaml(path)["c"] == [1, 2, 3]


def test_deep_nesting_is_refused(tmp_path):
    path = _yaml(tmp_path, "a: " + "[" * 60 + "]" * 60 + "\n")
    with pytest.raises(ParameterError, match="nests deeper than 40 levels"):
        read_yaml(path)


def test_oversized_file_is_refused(tmp_path, monkeypatch):
    import hna.parameters as params

    monkeypatch.setattr(params, "MAX_YAML_BYTES", 100)
    path = _yaml(tmp_path, "a: " + "x" * 200 + "\n")
    with pytest.raises(ParameterError, match="larger than 100 bytes"):
        read_yaml(path)


# ------------------------------------------------------------------ foundation models
def test_strict_model_refuses_unknown_keys_infinity_and_mutation():
    from hna.parameters import StrictModel

    class M(StrictModel):
        x: float

    with pytest.raises(ValidationError):
        M.model_validate({"x": 1, "y": 2})
    with pytest.raises(ValidationError, match="finite"):
        M.model_validate({"x": float("inf")})
    with pytest.raises(ValidationError):
        M.model_validate({"x": float("nan")})
    m = M(x=1)
    with pytest.raises(ValidationError):
        m.x = 2


def test_source_accepts_both_spellings():
    from hna.parameters import Source

    a = Source.model_validate({"id": "a", "publisher": "P", "title": "T", "section": "S",
                               "year": 2020})
    b = Source.model_validate({"publisher": "P", "document": "T", "table": "S", "year": 2020,
                               "kind": "inferred"})
    assert (a.title, a.section) == (b.title, b.section) == ("T", "S")
    assert b.document == "T" and b.table == "S" and b.kind == "inferred"
    assert a.cite() == "P, T, S (2020)"


def test_source_calibrated_needs_fit_target():
    from hna.parameters import Source

    with pytest.raises(ValidationError, match="fit_target"):
        Source.model_validate({"publisher": "P", "document": "T", "year": 2020,
                               "kind": "calibrated"})


def test_source_unknown_kind_is_refused():
    from hna.parameters import Source

    with pytest.raises(ValidationError):
        Source.model_validate({"publisher": "P", "title": "T", "year": 2020, "kind": "guess"})

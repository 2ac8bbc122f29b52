"""hna.provenance: one meta schema and one provenance table for every output."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import hna
from hna.provenance import META_KEYS, build_meta, code_hash, footprint_ref, provenance_table


def test_build_meta_has_every_common_key_first_and_is_json():
    meta = build_meta(service=SimpleNamespace(id="bone_sarcoma", name="Bone sarcoma"),
                      footprint=SimpleNamespace(code="E12000009", name="South West"),
                      seed=1, draws=0, parameter_hash="abc", years=[2025])
    assert tuple(meta)[: len(META_KEYS)] == META_KEYS
    assert meta["footprint"] == {"code": "E12000009", "name": "South West"}
    assert meta["service"] == "bone_sarcoma" and meta["service_name"] == "Bone sarcoma"
    assert meta["hna_version"] == hna.__version__ and meta["years"] == [2025]
    json.dumps(meta)


@pytest.mark.parametrize("fp", ["E92000001", {"code": "E92000001", "name": "England"},
                                {"area_code": "E92000001", "name": "England"}])
def test_footprint_is_always_code_and_name(fp):
    ref = footprint_ref(fp)
    assert set(ref) == {"code", "name"} and ref["code"] == "E92000001"


def test_extra_keys_may_not_replace_common_ones():
    with pytest.raises(ValueError, match="common keys"):
        build_meta(seed=1, **{"draws_x": 1, "code_hash": "x"})


def test_code_hash_is_sha256_hex_and_stable():
    h = code_hash()
    assert len(h) == 64 and int(h, 16) >= 0 and code_hash() == h


def test_provenance_table_rows():
    meta = build_meta(service="dialysis", footprint={"code": "E12000004", "name": "East Midlands"},
                      seed=7, draws=100, scenario="flat")
    table = provenance_table(meta, **{"Level": "80%"})
    items = dict(zip(table["Item"], table["Value"], strict=True))
    assert items["Seed"] == "7" and items["Monte Carlo draws"] == "100"
    assert items["Footprint"] == "East Midlands (E12000004)" and items["Scenario"] == "flat"
    assert items["Level"] == "80%"
    assert any(k.startswith("Data: ") for k in items)

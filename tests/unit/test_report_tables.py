"""Naming and writing of the tables' CSV files beside a batch report (hna.report, hna.batch.outputs)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import hna.report as report
from hna import narrative
from hna.batch.jobs import Job
from hna.batch.outputs import table_paths, tables_folder, write_job_outputs
from hna.errors import ParameterError


@pytest.fixture
def job_folder(tmp_path, monkeypatch):
    """A kernel configured as the worker configures it: CSVs into tmp/tables, linked as X_tables."""
    config = tmp_path / "tables.json"
    config.write_text(json.dumps({"folder": str(tmp_path / "tables"), "href": "E40000006_tables"}))
    monkeypatch.setenv(report.TABLES_ENV, str(config))
    monkeypatch.setattr(report, "_TABLE_NUMBERS", {})
    return tmp_path / "tables"


@pytest.mark.parametrize(("number", "caption", "name"), [
    (1, "Populations", "01-populations.csv"),
    (7, "Projected demand, South West (E40000006), 2025\u20132040",
     "07-projected-demand-south-west-e40000006-2025-2040.csv"),
    (3, "Notes \u2014 S\u00e3o Paulo & co.", "03-notes-sao-paulo-co.csv"),
    (12, None, "12-table.csv"),
    (2, "  \u2014 !! ", "02-table.csv"),
    (100, "P(viable)", "100-p-viable.csv"),
])
def test_table_file_name_is_number_and_caption_slug(number, caption, name):
    assert report.table_file_name(number, caption) == name


def test_long_captions_are_cut_at_a_word_to_48_characters():
    caption = "Centres sustainable at the 80% probability level by footprint and year of the horizon"
    name = report.table_file_name(4, caption)
    slug = name.removeprefix("04-").removesuffix(".csv")
    assert len(slug) <= 48 and caption.lower().replace("%", "").replace(" ", "-").startswith(slug)
    assert not slug.endswith("-")


@pytest.mark.parametrize("number", [0, -1, 1.0, True, "1"])
def test_table_file_name_refuses_a_bad_number(number):
    with pytest.raises(ParameterError, match="number"):
        report.table_file_name(number, "x")


def test_outside_a_batch_job_nothing_is_written(monkeypatch, tmp_path):
    monkeypatch.delenv(report.TABLES_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert report.write_table_csv("a\n1\n", "Populations") is None
    assert list(tmp_path.iterdir()) == []


def test_an_unconfigured_kernel_falls_back_to_no_file(monkeypatch, tmp_path):
    monkeypatch.setenv(report.TABLES_ENV, str(tmp_path / "missing.json"))
    assert report.write_table_csv("a\n1\n", "Populations") is None


def test_batch_tables_are_numbered_in_order_and_same_captions_do_not_collide(job_folder):
    first = report.write_table_csv("a\n1\n", "Populations")
    second = report.write_table_csv("a\n2\n", "Populations")
    assert first == ("E40000006_tables/01-populations.csv", "01-populations.csv")
    assert second == ("E40000006_tables/02-populations.csv", "02-populations.csv")
    assert (job_folder / "01-populations.csv").read_text() == "a\n1\n"
    assert (job_folder / "02-populations.csv").read_text() == "a\n2\n"


def test_a_batch_table_links_its_file_relatively_and_holds_the_shown_cells(job_folder):
    t = narrative.table(pd.DataFrame({"Footprint": ["South West"], "Population": [5806546.03]}),
                        caption="Populations")
    body = t._repr_html_()
    assert "href='E40000006_tables/01-populations.csv'" in body
    assert "download='01-populations.csv'" in body and "data:" not in body
    assert (job_folder / "01-populations.csv").read_text() == (
        "Footprint,Population\nSouth West,\"5,806,546\"\n")


def test_a_table_shown_twice_writes_one_file(job_folder):
    t = narrative.table(pd.DataFrame({"A": [1]}), caption="Twice")
    assert t._repr_html_() == t._repr_html_()
    assert sorted(p.name for p in job_folder.iterdir()) == ["01-twice.csv"]


def test_a_table_without_csv_takes_no_number(job_folder):
    narrative.table(pd.DataFrame({"A": [1]}), caption="Hidden", csv=False)._repr_html_()
    narrative.table(pd.DataFrame({"A": [1]}), caption="Shown")._repr_html_()
    assert sorted(p.name for p in job_folder.iterdir()) == ["01-shown.csv"]


# --------------------------------------------------------------------------- committing them


def _job() -> Job:
    return Job(id="soft_tissue_sarcoma/E40000006", notebook=Path("nb.ipynb"),
               notebook_label="nb.ipynb", service="soft_tissue_sarcoma", footprint="E40000006",
               parameters={})


def _result(tables: dict[str, str]) -> dict:
    return {"job_id": "soft_tissue_sarcoma/E40000006", "status": "ok", "ipynb": "{}",
            "html": "<html></html>", "headline": {}, "inputs": {}, "tables": tables}


def test_tables_folder_sits_beside_the_report(tmp_path):
    assert tables_folder(tmp_path, "soft_tissue_sarcoma/E92000001__sts_registry_trend") == (
        tmp_path / "soft_tissue_sarcoma" / "E92000001__sts_registry_trend_tables")


def test_job_outputs_write_the_tables_and_list_them(tmp_path):
    entry: dict = {}
    write_job_outputs(tmp_path, "r", _job(), entry, _result({"02-b.csv": "b\n", "01-a.csv": "a\n"}))
    folder = tmp_path / "soft_tissue_sarcoma" / "E40000006_tables"
    assert entry["outputs"]["tables"] == ["soft_tissue_sarcoma/E40000006_tables/01-a.csv",
                                          "soft_tissue_sarcoma/E40000006_tables/02-b.csv"]
    assert table_paths(tmp_path, entry) == [folder / "01-a.csv", folder / "02-b.csv"]
    assert (folder / "02-b.csv").read_text() == "b\n"


def test_a_rerun_removes_the_tables_it_no_longer_writes(tmp_path):
    folder = tmp_path / "soft_tissue_sarcoma" / "E40000006_tables"
    write_job_outputs(tmp_path, "r", _job(), {}, _result({"01-a.csv": "a\n", "02-b.csv": "b\n"}))
    (folder / "notes.txt").write_text("the user's own file\n")
    write_job_outputs(tmp_path, "r", _job(), {}, _result({"01-a.csv": "new\n"}))
    assert sorted(p.name for p in folder.iterdir()) == ["01-a.csv", "notes.txt"]
    assert (folder / "01-a.csv").read_text() == "new\n"
    (folder / "notes.txt").unlink()
    write_job_outputs(tmp_path, "r", _job(), {}, _result({}))
    assert not folder.exists()


def test_a_table_name_that_is_a_path_is_not_written(tmp_path):
    entry: dict = {}
    write_job_outputs(tmp_path, "r", _job(), entry,
                      _result({"../../escape.csv": "x\n", "01-a.csv": "a\n"}))
    assert entry["outputs"]["tables"] == ["soft_tissue_sarcoma/E40000006_tables/01-a.csv"]
    assert not (tmp_path / "escape.csv").exists()

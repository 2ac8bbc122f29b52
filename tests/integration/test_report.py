"""Tests for hna.report: headlines, suppression, atomic writes, HTML reports, index, summary."""

from __future__ import annotations

import csv
import json
import math
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from hna.batch.outputs import round_number, write_summary_csv
from hna.errors import DataError, ParameterError
from hna.report import (
    HEADLINE_ENV,
    atomic_write_text,
    data_hash,
    data_vintages,
    read_headline,
    record_headline,
    remove_stale_tmp,
    render_html,
    suppress_small,
    to_json_value,
    write_headline,
    write_index,
)

# A 1x1 transparent PNG, base64-encoded (the smallest valid figure output).
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


# --------------------------------------------------------------------------- suppress_small


def test_suppress_small_hides_counts_one_to_four_by_default():
    df = pd.DataFrame({"area": list("abcdef"), "cases": [0, 1, 4, 5, 12, np.nan]})
    out = suppress_small(df, "cases")
    # Reference: counts 1..4 -> "*"; 0, 5, 12 shown; missing stays missing.
    assert out["cases"].tolist()[:5] == [0, "*", "*", 5, 12]
    assert math.isnan(out["cases"].iloc[5])


def test_suppress_small_threshold_and_marker_are_configurable():
    df = pd.DataFrame({"cases": [3, 7, 8, 20]})
    out = suppress_small(df, ["cases"], threshold=8, marker="<8")
    assert out["cases"].tolist() == ["<8", "<8", 8, 20]


def test_suppress_small_can_hide_zeros():
    df = pd.DataFrame({"cases": [0, 2, 9]})
    assert suppress_small(df, "cases", suppress_zero=True)["cases"].tolist() == ["*", "*", 9]


def test_suppress_small_leaves_input_and_other_columns_alone():
    df = pd.DataFrame({"cases": [1, 10], "population": [3, 4]})
    out = suppress_small(df, "cases")
    assert df["cases"].tolist() == [1, 10]
    assert out["population"].tolist() == [3, 4]


def test_suppress_small_rejects_missing_or_non_numeric_columns():
    df = pd.DataFrame({"cases": [1, 2], "name": ["a", "b"]})
    with pytest.raises(DataError, match="column not found"):
        suppress_small(df, "patients")
    with pytest.raises(DataError, match="numeric"):
        suppress_small(df, "name")
    with pytest.raises(DataError, match="negative"):
        suppress_small(pd.DataFrame({"cases": [-1]}), "cases")
    with pytest.raises(ParameterError, match="threshold"):
        suppress_small(df, "cases", threshold=0)


# --------------------------------------------------------------------------- JSON values


def test_to_json_value_converts_numpy_and_rejects_other_types():
    value = {"a": np.int64(3), "b": np.float32(0.5), "c": np.array([[1, 2], [3, 4]]),
             "d": np.bool_(True), "e": [np.str_("x"), None]}
    out = to_json_value(value)
    assert out == {"a": 3, "b": 0.5, "c": [[1, 2], [3, 4]], "d": True, "e": ["x", None]}
    assert type(out["a"]) is int and type(out["b"]) is float and type(out["d"]) is bool
    for bad in [(1, 2), {1, 2}, object(), pd.Timestamp("2025-01-01"), {1: "x"}]:
        with pytest.raises(ParameterError):
            to_json_value(bad)
    with pytest.raises(ParameterError, match="finite"):
        to_json_value(float("nan"))
    assert to_json_value([float("inf")], nonfinite="null") == [None]


# --------------------------------------------------------------------------- headlines


def test_record_headline_writes_to_the_path_in_the_environment(tmp_path, monkeypatch):
    target = tmp_path / "headline.json"
    monkeypatch.setenv(HEADLINE_ENV, str(target))
    assert record_headline({"cases_2040": np.float64(12.5), "centres": np.int64(3)}) == target
    record_headline({"ratio": float("nan"), "centres": 4})  # merges; later keys win
    assert read_headline(target) == {"cases_2040": 12.5, "centres": 4, "ratio": None}
    assert list(tmp_path.iterdir()) == [target]  # no temporary files left


def test_record_headline_outside_a_batch_checks_but_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(HEADLINE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert record_headline({"cases": 1}) is None
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ParameterError, match="headline.when"):
        record_headline({"when": pd.Timestamp("2025-01-01")})


def test_write_headline_replaces_the_record_and_requires_a_mapping(tmp_path):
    target = tmp_path / "h.json"
    write_headline({"a": 1, "b": 2}, target)
    assert write_headline({"c": np.int8(3)}, target) == target
    assert read_headline(target) == {"c": 3}
    with pytest.raises(ParameterError, match="mapping"):
        write_headline([1, 2], target)


# --------------------------------------------------------------------------- atomic writes


def test_atomic_write_replaces_whole_file_and_cleans_up_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "first")
    assert target.read_text() == "first"

    def boom(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "second")
    assert target.read_text() == "first"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.txt"]


def test_remove_stale_tmp_only_removes_atomic_write_leftovers(tmp_path):
    (tmp_path / "d").mkdir()
    stale = tmp_path / "d" / ".x.html.0123abcd.tmp"
    stale.write_text("half")
    keep = [tmp_path / "notes.tmp", tmp_path / "d" / "x.html"]
    for path in keep:
        path.write_text("keep")
    assert remove_stale_tmp(tmp_path) == [stale]
    assert all(p.exists() for p in keep)


# --------------------------------------------------------------------------- provenance


def test_data_vintages_are_json_and_data_hash_tracks_extra_dirs(tmp_path):
    json.dumps(data_vintages(), allow_nan=False)
    (tmp_path / "services").mkdir()
    (tmp_path / "services" / "a.yaml").write_text("x: 1\n")
    before = data_hash([tmp_path / "services"])
    assert data_hash([tmp_path / "services"]) == before
    (tmp_path / "services" / "a.yaml").write_text("x: 2\n")
    assert data_hash([tmp_path / "services"]) != before


# --------------------------------------------------------------------------- HTML reports


def _executed_notebook(path: Path) -> Path:
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Needs assessment"),
            new_code_cell(
                "secret_code_marker = 1\ndisplay(table)",
                execution_count=1,
                outputs=[
                    new_output(
                        "display_data",
                        data={
                            "text/html": "<table><tr><th>year</th><th>cases</th></tr>"
                            "<tr><td>2025</td><td>12</td></tr></table>",
                            "text/plain": "table",
                        },
                    ),
                    new_output("display_data", data={"image/png": PNG_1X1, "text/plain": "fig"}),
                ],
            ),
        ]
    )
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


META = {"service": "dialysis", "service_name": "Dialysis", "footprint": "E40000003",
        "footprint_name": "London", "run": "default", "date": "2026-11-24 10:00",
        "status": "ok"}


def test_render_html_has_header_tables_and_embedded_figures_but_no_code(tmp_path):
    page = render_html(_executed_notebook(tmp_path / "x.ipynb"), META)
    header = page[page.index('<header class="hna-header'):page.index("</header>")]
    for text in ("Dialysis", "London (E40000003)", "default"):
        assert text in header
    assert "(dialysis)" not in header  # the service id is snake_case: reviewers see the name
    assert "2026-11-24" not in page  # no dates: the same notebook gives the same bytes
    assert "<td>2025</td>" in page
    assert f"data:image/png;base64,{PNG_1X1}" in page
    assert "secret_code_marker" not in page
    assert "In&nbsp;[1]" not in page and "In [1]" not in page


def test_render_html_shows_code_on_request(tmp_path):
    page = render_html(_executed_notebook(tmp_path / "x.ipynb"), META, show_code=True)
    assert "secret_code_marker" in page


# --------------------------------------------------------------------------- index and summary


def _manifest() -> dict:
    return {
        "run": "demo", "hna_version": "0.1.0", "seed": 1, "draws": 10,
        "years_label": "2025-2030", "data_vintages": {"sources": [
            {"dataset": "ONS mid-year estimates", "vintage": "mid-2020"}]},
        "jobs": [
            {"id": "dialysis/E92000001", "notebook": "notebooks/service_needs.ipynb",
             "service": "dialysis", "footprint": "E92000001", "footprint_name": "England",
             "status": "ok", "duration_s": 2.5,
             "headline": {"cases_2040": 12345.678, "centres": 4, "series": [1, 2]},
             "outputs": {"html": "dialysis/E92000001.html", "ipynb": "dialysis/E92000001.ipynb",
                         "json": "dialysis/E92000001.json"}},
            {"id": "dialysis/E40000003", "notebook": "notebooks/service_needs.ipynb",
             "service": "dialysis", "footprint": "E40000003", "status": "failed",
             "duration_s": 1.0, "headline": None,
             "error": {"summary": "ValueError: <bad> & worse (cell 3, In [2])",
                       "source": "raise ValueError('<bad> & worse')"},
             "outputs": {"json": "dialysis/E40000003.json"}},
        ],
    }


def test_index_lists_jobs_with_status_headlines_links_and_reasons(tmp_path):
    manifest = _manifest()
    manifest["jobs"][1]["error"]["reason"] = "The analysis stopped: <bad> & worse"
    page = write_index(tmp_path, manifest).read_text()
    rows = re.findall(r"<tr class=\"([a-z]+)\">", page)
    assert rows == ["ok", "failed"]  # no traceback rows
    assert "12,346" in page and ">4<" in page  # headline numbers, formatted
    assert "series" not in page  # non-scalar headline values stay in the JSON
    assert "The analysis stopped: &lt;bad&gt; &amp; worse" in page  # escaped
    assert "raise ValueError" not in page and "cell 3" not in page  # detail only in manifest
    hrefs = re.findall(r'href="([^"]+)"', page)
    assert "dialysis/E92000001.html" in hrefs and "dialysis/E40000003.json" in hrefs
    assert "dialysis/E40000003.html" not in hrefs
    assert "ONS mid-year estimates: mid-2020" in page


def test_index_has_a_run_summary_first_and_readable_headings(tmp_path):
    page = write_index(tmp_path, _manifest()).read_text()
    main = page[page.index("<main>"):]
    assert main.index('class="summary"') < main.index("<table")
    assert "2 reports, 1 complete, 1 failed" in page
    assert "<h2>Service needs</h2>" in page and "notebooks/service_needs.ipynb" not in page
    headers = re.findall(r"<th>([^<]*)</th>", page)
    assert "Cases 2040" in headers and not [h for h in headers if "_" in h]
    assert "England (E92000001)" in page


def test_index_fits_1280_px_and_wraps_long_cells(tmp_path):
    page = write_index(tmp_path, _manifest()).read_text()
    assert "max-width: 1280px" in page and "overflow-wrap: anywhere" in page


def test_index_is_self_contained(tmp_path):
    page = write_index(tmp_path, _manifest()).read_text()
    assert "<script" not in page.lower()
    assert "<link" not in page.lower()
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "<style>" in page


def test_summary_csv_has_one_row_per_job_with_rounded_headline_columns(tmp_path):
    manifest = _manifest()
    manifest["jobs"][0]["headline"].update(footprint="E92000001", path="/tmp/hna-job-x/a.json")
    manifest["jobs"][1]["error"]["reason"] = "The analysis stopped"
    path = write_summary_csv(tmp_path, manifest)
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        rows = list(reader)
        columns = reader.fieldnames
    assert [r["job"] for r in rows] == ["dialysis/E92000001", "dialysis/E40000003"]
    assert rows[0]["headline.cases_2040"] == "12345.7"
    assert rows[0]["headline.series"] == "[1, 2]"
    assert rows[1]["status"] == "failed" and rows[1]["reason"] == "The analysis stopped"
    assert "headline.footprint" not in columns and "headline.path" not in columns
    assert len(columns) == len(set(columns))
    assert not any("/tmp/" in value for row in rows for value in row.values())


@pytest.mark.parametrize(("value", "rounded"), [
    (502.8349, 502.8), (0.998765, 0.9988), (24470.64, 24470.6), (7, 7), (0.0, 0.0),
    (1234567.891, 1234567.9),
])
def test_summary_numbers_keep_four_significant_figures_and_at_least_one_decimal(value, rounded):
    assert round_number(value) == rounded


def _notebook_with_outputs(path: Path, outputs: list) -> Path:
    nb = new_notebook(cells=[new_code_cell("x", execution_count=1, outputs=outputs)])
    nb.cells[0]["id"] = "random-id-123"
    nbformat.write(nb, str(path))
    return path


def test_reports_drop_path_reprs_tracebacks_and_warnings(tmp_path):
    outputs = [
        new_output("execute_result", data={"text/plain": "PosixPath('/tmp/hna-job-1/h.json')"},
                   execution_count=1),
        new_output("stream", name="stderr", text="/usr/lib/x.py:3: UserWarning: careful\n"),
        new_output("error", ename="ValueError", evalue="bad",
                   traceback=["Traceback (most recent call last)", "ValueError: bad"]),
        new_output("execute_result", data={"text/plain": "42"}, execution_count=1),
    ]
    page = render_html(_notebook_with_outputs(tmp_path / "x.ipynb", outputs),
                       {"status": "failed", "error": {"reason": "The analysis stopped: bad"}})
    assert "PosixPath" not in page and "hna-job-" not in page
    assert "Traceback" not in page and "UserWarning" not in page
    assert "42" in page and "The analysis stopped: bad" in page
    assert "random-id-123" not in page


def test_reports_are_byte_identical_despite_random_styler_ids(tmp_path):
    pages = []
    for name, uuid in (("a", "1a2b3"), ("b", "9f8e7")):
        table = (f'<style type="text/css">#T_{uuid}_row0_col0 {{ color: red; }}</style>'
                 f'<table id="T_{uuid}"><tr><td id="T_{uuid}_row0_col0">1</td></tr></table>')
        outputs = [new_output("display_data", data={"text/html": table, "text/plain": "t"})]
        pages.append(render_html(_notebook_with_outputs(tmp_path / f"{name}.ipynb", outputs),
                                 {"title": "Report"}))
    assert pages[0] == pages[1]
    assert "T_00000_row0_col0" in pages[0]


def test_rendered_report_loads_nothing_from_the_internet(tmp_path):
    """Reports open offline: no <script> pulls code from a CDN (require.js, MathJax, mermaid)."""
    import re

    import nbformat

    from hna.report import render_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("1 + 1")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    html = render_html(path, {"service": "x", "footprint": "E92000001", "run": "t"})
    scripts = re.findall(r"<script\b[^>]*>.*?</script>", html, flags=re.DOTALL)
    assert not [s for s in scripts if re.search(r"https?://", s)]
    assert "Title" in html


def test_index_shows_service_names_and_category_words_not_snake_case(tmp_path):
    manifest = _manifest()
    job = manifest["jobs"][0]
    job["service"], job["service_name"] = "soft_tissue_sarcoma", "Soft tissue sarcoma"
    job["headline"] = {"tier": "supra_regional", "cases_2040": 3540}
    page = write_index(tmp_path, manifest).read_text()
    assert "Soft tissue sarcoma" in page and "soft_tissue_sarcoma" not in page
    assert ">supra regional<" in page and "supra_regional" not in page

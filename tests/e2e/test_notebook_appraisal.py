"""notebooks/commissioning_appraisal.ipynb: hygiene, parameters, papermill run, run spec.

The headline is recorded through HNA_HEADLINE_PATH; every section title must be in the report.
"""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from hna.batch import expand_jobs, load_runspec, project_root
from hna.report import HEADLINE_ENV
from tests.conftest import REPO

NOTEBOOK = REPO / "notebooks" / "commissioning_appraisal.ipynb"
RUNSPEC = REPO / "parameters" / "runs" / "appraisal.yaml"
PARAMETERS = {"footprint": "E92000001", "years_start": 2025, "years_end": 2030,
              "horizon": None, "run_name": "interactive", "draws": 0, "seed": 1}


def _nb():
    return nbformat.read(NOTEBOOK, as_version=4)


def test_notebook_is_committed_without_outputs_or_execution_counts():
    nb = _nb()
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_one_parameters_cell_assigning_json_literals():
    cells = [c for c in _nb().cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    values = {}
    for stmt in ast.parse(cells[0].source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
        values[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    assert values == PARAMETERS
    json.dumps(values)


def test_notebook_calls_into_hna_and_records_a_headline():
    source = "\n".join(c.source for c in _nb().cells if c.cell_type == "code")
    assert "appraise_footprint(" in source and "record_headline(" in source
    assert "waterfall(" in source and "narrative.provenance(" in source


def test_run_spec_runs_the_notebook_over_england_and_the_nhs_regions():
    spec = load_runspec(RUNSPEC)
    jobs = expand_jobs(spec, root=project_root(RUNSPEC), source=str(RUNSPEC))
    assert [j.notebook for j in jobs] == [NOTEBOOK.resolve()] * 8
    codes = [j.footprint for j in jobs]
    assert codes[0] == "E92000001"
    assert sorted(codes[1:]) == ["E40000003", "E40000005", "E40000006", "E40000007",
                                 "E40000010", "E40000011", "E40000012"]


@pytest.mark.slow
def test_notebook_executes_with_papermill_and_records_its_headline(tmp_path, monkeypatch):
    papermill = pytest.importorskip("papermill")
    headline = tmp_path / "headline.json"
    monkeypatch.setenv(HEADLINE_ENV, str(headline))  # as hna run does; the kernel inherits it
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"footprint": "E12000004", "draws": 50, "seed": 7},
        kernel_name="python3", cwd=str(NOTEBOOK.parent), progress_bar=False,
    )
    executed = nbformat.read(out, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors == []
    images = [o for c in executed.cells for o in c.get("outputs", [])
              if "image/png" in o.get("data", {})]
    assert len(images) == 1  # the waterfall
    import html as html_lib

    from hna.appraisal import TABLES, TITLES

    html = html_lib.unescape("\n".join(o.get("data", {}).get("text/html", "")
                                       for c in executed.cells for o in c.get("outputs", [])))
    missing = [t for t in TABLES if TITLES[t] not in html]
    assert missing == []  # every section of the appraisal is in the report
    record = json.loads(headline.read_text())
    assert record["tier_emscg_2009"] == "regional"  # East Midlands, 2025 (F004: 1-5m)
    assert record["years"] == [2025, 2030]
    assert record["qipp_saving_horizon"] > 0

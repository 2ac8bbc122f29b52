"""notebooks/designation_options.ipynb: the notebook contract, its run spec, and a papermill run.

The notebook must have one ``parameters`` cell of plain literal assignments (JSON types), be
committed without outputs or execution counts, and only call into hna. The run spec
``parameters/runs/designation.yaml`` must validate with the batch loader. Executed with
papermill from ``notebooks/`` (as ``hna run`` does), it must finish without error and record a
headline naming the feasible numbers of centres and their travel (needs ``../shared/data``).
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import nbformat
import pytest

from hna.batch import expand_jobs, load_runspec, project_root

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "designation_options.ipynb"
RUNSPEC = REPO / "parameters" / "runs" / "designation.yaml"
SHARED = REPO.parent / "shared" / "data"

EXPECTED_PARAMETERS = {
    "service": "soft_tissue_sarcoma",
    "footprint": "E40000006",
    "ks": [1, 2, 3],
    "candidates": "acute",
    "current": "service",
    "travel": "road",
    "year": 2025,
    "horizon_end": 2030,
    "provider_ratings": None,
    "designation_start": None,
    "minimum_in": "target_year",
    "draws": 200,
    "seed": 1,
    "run_name": "interactive",
}


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(NOTEBOOK, as_version=4)


def _parameters(nb) -> dict:
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, "exactly one cell tagged 'parameters'"
    out = {}
    for stmt in ast.parse(cells[0].source).body:
        assert isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
        assert isinstance(stmt.targets[0], ast.Name)
        out[stmt.targets[0].id] = ast.literal_eval(stmt.value)
    return out


def test_parameters_cell_is_plain_json_literals(notebook):
    params = _parameters(notebook)
    assert params == EXPECTED_PARAMETERS
    assert json.loads(json.dumps(params)) == params


def test_committed_without_outputs_or_execution_counts(notebook):
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert notebook.metadata["kernelspec"]["name"] == "python3"


def test_code_only_calls_into_hna(notebook):
    """No modelling in the notebook: imports are hna and IPython display, no numpy/scipy."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [node.module] if isinstance(node, ast.ImportFrom) else [
                    a.name for a in node.names]
                for name in names:
                    assert name.split(".")[0] in {"hna", "IPython"}, name
    text = "\n".join(c.source for c in notebook.cells)
    assert "record_headline(" in text
    assert "designation_options(" in text


def test_narrative_cites_f000_and_f001(notebook):
    text = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    assert "designate two centres in the South West" in text
    assert "too many centres, each treating too few" in text
    assert "located to maximise geographical" in text
    for heading in ("## Assumptions", "## Sources", "## Provenance"):
        assert heading in text


def test_run_spec_validates_and_expands_to_one_job():
    spec = load_runspec(RUNSPEC)
    jobs = expand_jobs(spec, root=project_root(RUNSPEC), source=str(RUNSPEC))
    assert len(jobs) == 1
    job = jobs[0]
    assert job.id == "soft_tissue_sarcoma/E40000006"
    assert job.notebook == NOTEBOOK
    assert job.parameters["ks"] == [1, 2, 3]
    assert job.parameters["service"] == "soft_tissue_sarcoma"
    assert job.parameters["footprint"] == "E40000006"
    # every parameter the job passes that the notebook declares has the declared type
    declared = _parameters(nbformat.read(NOTEBOOK, as_version=4))
    for name, value in job.parameters.items():
        if name in declared:
            assert type(value) is type(declared[name]), name


def test_default_run_includes_one_south_west_sarcoma_designation_job():
    """The default run restricts the notebook to sarcoma in NHS South West, k = 1, 2, 3."""
    path = REPO / "parameters" / "runs" / "default.yaml"
    spec = load_runspec(path)
    jobs = [j for j in expand_jobs(spec, root=REPO, source=str(path)) if j.notebook == NOTEBOOK]
    assert [j.id for j in jobs] == ["soft_tissue_sarcoma/E40000006_designation"]
    params = jobs[0].parameters
    assert (params["service"], params["footprint"], params["ks"]) == (
        "soft_tissue_sarcoma", "E40000006", [1, 2, 3])


@pytest.mark.slow
def test_notebook_executes_with_papermill_and_records_a_headline(tmp_path, monkeypatch):
    import papermill as pm

    headline = tmp_path / "headline.json"
    monkeypatch.setenv("HNA_HEADLINE_PATH", str(headline))
    out = tmp_path / "designation_options.ipynb"
    pm.execute_notebook(
        str(NOTEBOOK), str(out), parameters={"run_name": "test"}, kernel_name="python3",
        cwd=str(NOTEBOOK.parent), progress_bar=False, execution_timeout=120,
    )
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 6  # a catchment map and a travel-time map per feasible k
    markdown = "\n".join(o["data"]["text/markdown"] for o in outputs
                         if "text/markdown" in o.get("data", {}))
    assert "1, 2 and 3 centre(s) can be designated" in markdown
    assert "Today's configuration" in markdown
    # designation criteria beside the options: not assessed without ratings; review due
    # five years after the default start (1 April of the target year 2025)
    assert "every criterion reads *not assessed*" in markdown
    assert "is due for review by 2030-04-01" in markdown
    html = "\n".join(o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {}))
    assert "Designation criteria of the candidate hospitals" in html
    assert "Not assessed" in html and "Review due if designated" in html
    head = json.loads(headline.read_text())
    assert head["feasible"] == "1, 2, 3" and head["minimum_per_centre"] == 100
    for k in (1, 2, 3):
        assert head[f"mean_minutes_k{k}"] > 0
        assert 0 <= head[f"prob_all_k{k}"] <= 1
        assert head["options"][str(k)]["feasible"] is True
    assert head["mean_minutes_k1"] > head["mean_minutes_k2"] > head["mean_minutes_k3"]

"""Report notebooks: committed without outputs, one parameters cell, and they run.

One JSON-typed parameters cell, no modelling logic, and they execute end to end.
"""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from tests.conftest import REPO

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
JSON_TYPES = (str, int, float, bool, type(None), list, dict)


def _code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for cell in _code_cells(path):
        assert cell.get("outputs", []) == [], f"{path.name} has outputs: clear them before committing"
        assert cell.get("execution_count") is None, f"{path.name} has execution counts"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_one_parameters_cell_with_json_values(path):
    cells = [c for c in _code_cells(path) if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"{path.name} needs exactly one cell tagged 'parameters'"
    tree = ast.parse(cells[0].source)
    names = []
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"{path.name}: the parameters cell only assigns values"
        value = ast.literal_eval(node.value)
        assert isinstance(value, JSON_TYPES)
        json.dumps(value)
        names.append(node.targets[0].id)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_modelling_logic_in_notebooks(path):
    """Notebooks call hna: no function or class definitions, no loops doing arithmetic."""
    for cell in _code_cells(path):
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), \
                f"{path.name}: define functions in hna, not in notebooks"
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.split(".")[0] in {"hna", "IPython", "pandas"}, node.module


def _run(name: str, tmp_path, **params):
    import papermill as pm

    headline = tmp_path / "headline.json"
    out = tmp_path / f"out_{name}"
    import os

    os.environ["HNA_HEADLINE_PATH"] = str(headline)
    try:
        pm.execute_notebook(str(REPO / "notebooks" / name), str(out), parameters=params,
                            kernel_name="python3", cwd=str(REPO / "notebooks"), progress_bar=False)
    finally:
        os.environ.pop("HNA_HEADLINE_PATH", None)
    return json.loads(headline.read_text()) if headline.exists() else {}


@pytest.mark.slow
def test_service_needs_runs_for_sarcoma(tmp_path):
    h = _run("service_needs.ipynb", tmp_path, service="soft_tissue_sarcoma", footprint="E40000006",
             years_start=2025, years_end=2030, draws=100, seed=1)
    assert h["service"] == "soft_tissue_sarcoma" and h["footprint"] == "E40000006"
    assert h["demand_2030"] > h["demand_2025"] > 0


@pytest.mark.slow
def test_service_needs_runs_for_dialysis(tmp_path):
    h = _run("service_needs.ipynb", tmp_path, service="dialysis", footprint="E92000001",
             years_start=2025, years_end=2027, draws=50, seed=1)
    assert h["centres_2025"] >= 1


@pytest.mark.slow
def test_footprint_overview_runs(tmp_path):
    h = _run("footprint_overview.ipynb", tmp_path, level="nhs_region",
             services=["soft_tissue_sarcoma", "dialysis"], years_start=2025, years_end=2030)
    assert h["footprints"] == 7 and h["pairs"] == 14


@pytest.mark.slow
def test_footprint_overview_keeps_england_apart_from_an_explicit_list(tmp_path):
    from hna.thresholds import overview

    regions = ["E40000003", "E40000005", "E40000006", "E40000007", "E40000010", "E40000011",
               "E40000012"]
    h = _run("footprint_overview.ipynb", tmp_path, services=["soft_tissue_sarcoma"],
             footprints=["E92000001", *regions], years_start=2025, years_end=2030)
    england = overview(["soft_tissue_sarcoma"], footprints=["E92000001"], years=[2025, 2030])
    assert h["footprints"] == 7 and h["pairs"] == 7  # England is not counted as a footprint
    assert h["england_soft_tissue_sarcoma_2025"] == round(england["demand_now"].item())


#: The one presentation idiom (issue 10): tables, statements and provenance go through hna.narrative.
_OTHER_IDIOMS = ("Markdown(", ".style.", ".styled(", "report_table()", "pd.set_option")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_the_one_presentation_idiom(path):
    for cell in _code_cells(path):
        found = [s for s in _OTHER_IDIOMS if s in cell.source]
        assert not found, (f"{path.name}: use narrative.table / narrative.statement / "
                           f"narrative.provenance instead of {found}")

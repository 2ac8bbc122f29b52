"""``hna run`` writes each reviewer table's CSV beside its report and links it relatively.

Runs tests/data/notebooks/tables.ipynb (tables with the same caption, accents, a table without
a CSV link, a table shown twice) for two footprints, with one and with two workers.
"""

from __future__ import annotations

import csv
import html
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from hna.batch import run_batch

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "tests" / "data" / "notebooks"
FOOTPRINTS = ["E92000001", "E40000003"]
#: The files tables.ipynb writes for England, in page order.
ENGLAND_FILES = ["01-populations-e92000001.csv", "02-populations-e92000001.csv",
                 "03-notes-sao-paulo-co.csv", "04-shown-twice.csv"]


class _Tables(HTMLParser):
    """Each hna table of a page (its cells as text) and the CSV link that follows it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._in_link = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "hna-table" in (attributes.get("class") or ""):
            self.tables.append({"rows": [], "href": None, "download": None})
        elif tag == "tr" and self.tables and self.tables[-1]["href"] is None:
            self.tables[-1]["rows"].append([])
        elif tag in ("th", "td") and self.tables:
            self._cell = []
        elif tag == "a" and self.tables and "href" in attributes:
            self._in_link = True
            self._link = attributes

    def handle_endtag(self, tag):
        if tag in ("th", "td") and self._cell is not None:
            self.tables[-1]["rows"][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "a" and self._in_link:
            self._in_link = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        elif self._in_link and data == "Download CSV" and self.tables[-1]["href"] is None:
            self.tables[-1]["href"] = self._link["href"]
            self.tables[-1]["download"] = self._link.get("download")


def _spec(tmp_path: Path, **fields) -> Path:
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    shutil.copy(NOTEBOOKS / "tables.ipynb", tmp_path / "notebooks" / "tables.ipynb")
    spec = {"name": "tables", "notebooks": [{"path": "notebooks/tables.ipynb",
                                             "over": ["footprint"]}],
            "footprints": FOOTPRINTS, "years": {"start": 2025, "end": 2027}, "draws": 5,
            "seed": 11, **fields}
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _files(run_dir: Path) -> dict[str, bytes]:
    return {p.relative_to(run_dir).as_posix(): p.read_bytes() for p in sorted(run_dir.rglob("*"))
            if p.is_file() and p.suffix in (".csv", ".html", ".json") and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tables")
    path = _spec(tmp)
    one = run_batch(path, output_dir=tmp / "one", jobs=1)
    two = run_batch(path, output_dir=tmp / "two", jobs=2)
    assert one.ok and two.ok, [j["error"] for j in one.jobs + two.jobs]
    return {"one": one, "two": two, "spec": path, "tmp": tmp}


@pytest.mark.slow
def test_each_table_has_a_numbered_csv_file_beside_its_report(runs):
    run_dir = runs["one"].run_dir
    folder = run_dir / "_overview" / "tables" / "E92000001_tables"
    assert sorted(p.name for p in folder.iterdir()) == ENGLAND_FILES
    regional = run_dir / "_overview" / "tables" / "E40000003_tables"
    assert (regional / "01-populations-e40000003.csv").is_file()
    # the kernel ran in the notebook's folder but wrote nothing there
    assert sorted(p.name for p in (runs["tmp"] / "notebooks").iterdir()) == ["tables.ipynb"]


@pytest.mark.slow
def test_report_links_resolve_to_the_csv_files_and_hold_the_shown_cells(runs):
    run_dir = runs["one"].run_dir
    report = run_dir / "_overview" / "tables" / "E92000001.html"
    text = report.read_text(encoding="utf-8")
    assert "data:text/csv" not in text
    page = _Tables()
    page.feed(text)
    linked = [t for t in page.tables if t["href"]]
    # six tables shown, one without a link; the table shown twice links the same file twice
    assert len(page.tables) == 6 and len(linked) == 5
    assert [t["href"] for t in linked] == [f"E92000001_tables/{n}" for n in
                                           ENGLAND_FILES + ENGLAND_FILES[3:]]
    for table in linked:
        url = urlparse(table["href"])
        assert url.scheme == "" and not url.path.startswith("/")
        target = report.parent / unquote(url.path)
        assert target.is_file() and target.resolve().is_relative_to(run_dir.resolve())
        assert table["download"] == target.name
        rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
        assert rows == [[html.unescape(c) for c in r] for r in table["rows"]]
    first = list(csv.reader(io.StringIO((report.parent / linked[0]["href"]).read_text())))
    assert first == [["Year", "Population", "P(viable)", "Footprint"],
                     ["2025", "5,806,557", ">99%", "E92000001"],
                     ["2027", "5,901,235", "<1%", "E92000001"]]
    notes = list(csv.reader(io.StringIO((report.parent / linked[2]["href"]).read_text())))
    assert notes == [["Note"], ['A, "quoted" cell'], ["<b>bold</b>"]]


@pytest.mark.slow
def test_the_notebook_next_to_the_report_links_the_same_files(runs):
    run_dir = runs["one"].run_dir
    nb = json.loads((run_dir / "_overview" / "tables" / "E92000001.ipynb").read_text())
    outputs = "".join("".join(o.get("data", {}).get("text/html", ""))
                      for c in nb["cells"] for o in c.get("outputs", []))
    assert "href='E92000001_tables/01-populations-e92000001.csv'" in outputs


@pytest.mark.slow
def test_manifest_lists_the_csv_files_of_each_job(runs):
    run_dir = runs["one"].run_dir
    manifest = json.loads((run_dir / "manifest.json").read_text())
    job = {j["id"]: j for j in manifest["jobs"]}["_overview/tables/E92000001"]
    assert job["outputs"]["tables"] == [f"_overview/tables/E92000001_tables/{n}"
                                        for n in ENGLAND_FILES]
    assert (run_dir / "index.html").is_file()


@pytest.mark.slow
def test_one_and_two_workers_give_byte_identical_csv_files_and_reports(runs):
    one, two = _files(runs["one"].run_dir), _files(runs["two"].run_dir)
    assert one == two
    assert sum(name.endswith(".csv") and "_tables/" in name for name in one) == 8


@pytest.mark.slow
def test_resume_reuses_jobs_and_reruns_one_whose_csv_file_is_missing(runs):
    run_dir = runs["two"].run_dir
    before = _files(run_dir)
    missing = run_dir / "_overview" / "tables" / "E40000003_tables" / "02-populations-e40000003.csv"
    missing.unlink()
    stale = run_dir / "_overview" / "tables" / "E40000003_tables" / "09-old-table.csv"
    stale.write_text("left by an earlier run\n")
    again = run_batch(runs["spec"], output_dir=runs["tmp"] / "two", jobs=2)
    reused = {j["id"]: j["reused"] for j in again.jobs}
    assert reused == {"_overview/tables/E92000001": True, "_overview/tables/E40000003": False}
    assert not stale.exists()
    assert _files(run_dir) == before


@pytest.mark.slow
def test_a_failed_job_keeps_the_tables_it_showed_and_links_them(tmp_path):
    path = _spec(tmp_path, footprints=["E40000003"], parameters={"fail_after_two": True})
    result = run_batch(path, output_dir=tmp_path / "out", jobs=1)
    job = result.jobs[0]
    assert job["status"] == "failed"
    assert job["outputs"]["tables"] == [f"_overview/tables/E40000003_tables/{n}" for n in
                                        ("01-populations-e40000003.csv",
                                         "02-populations-e40000003.csv")]
    report = result.run_dir / "_overview" / "tables" / "E40000003.html"
    page = _Tables()
    page.feed(report.read_text(encoding="utf-8"))
    assert [t["href"] for t in page.tables] == [
        "E40000003_tables/01-populations-e40000003.csv",
        "E40000003_tables/02-populations-e40000003.csv"]
    assert all((report.parent / t["href"]).is_file() for t in page.tables)

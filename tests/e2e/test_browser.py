"""Open a small run's index.html in headless Chromium: the table renders, every link resolves.

Skipped where Chromium is not installed (.ci/run installs Debian's ``chromium``).
"""

from __future__ import annotations

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml

from hna.batch import run_batch

NOTEBOOKS = Path(__file__).resolve().parents[1] / "data" / "notebooks"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")


def _chromium() -> str | None:
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


class _DomSummary(HTMLParser):
    """Collects table rows (with their class), header cells and link targets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.headers: list[str] = []
        self.hrefs: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr" and attributes.get("class"):
            self.rows.append(attributes["class"] or "")
        elif tag == "th":
            self._in_th = True
            self.headers.append("")
        elif tag == "a" and attributes.get("href"):
            self.hrefs.append(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self.headers[-1] += data.strip()


def _dump_dom(chromium: str, page: Path, profile: Path) -> str:
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--dump-dom", page.as_uri(),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    if _chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped")
    tmp_path = tmp_path_factory.mktemp("browser")
    (tmp_path / "notebooks").mkdir()
    for name in ("ok.ipynb", "raising.ipynb"):
        shutil.copy(NOTEBOOKS / name, tmp_path / "notebooks" / name)
    spec = {
        "name": "browser",
        "notebooks": [{"path": "notebooks/ok.ipynb", "over": ["footprint"]},
                      {"path": "notebooks/raising.ipynb", "over": []}],
        "footprints": ["E92000001"],
        "years": {"start": 2025, "end": 2026}, "draws": 2, "seed": 3,
    }
    path = tmp_path / "browser.yaml"
    path.write_text(yaml.safe_dump(spec))
    return run_batch(path, output_dir=tmp_path / "outputs", jobs=2)


@pytest.mark.slow
def test_index_renders_the_job_table_in_chromium(small_run, tmp_path):
    dom = _dump_dom(_chromium(), small_run.run_dir / "index.html", tmp_path / "profile")
    page = _DomSummary()
    page.feed(dom)
    assert page.rows.count("ok") == 1 and page.rows.count("failed") == 1
    assert page.rows.count("error") == 1  # the failure's error row
    assert {"Job", "Status", "Outputs"} <= set(page.headers)
    assert "deliberate failure" in dom


@pytest.mark.slow
def test_every_link_in_the_index_resolves_to_a_file(small_run, tmp_path):
    run_dir = small_run.run_dir
    dom = _dump_dom(_chromium(), run_dir / "index.html", tmp_path / "profile")
    page = _DomSummary()
    page.feed(dom)
    assert len(page.hrefs) >= 6  # report/notebook/json per job, manifest, summary
    for href in page.hrefs:
        url = urlparse(href)
        assert url.scheme in ("", "file"), f"external link {href}"
        target = Path(unquote(url.path)) if url.scheme == "file" else run_dir / unquote(href)
        assert target.is_file(), f"broken link {href}"
        assert target.resolve().is_relative_to(run_dir.resolve()), f"link leaves the run {href}"


@pytest.mark.slow
def test_a_job_report_opens_with_its_header(small_run, tmp_path):
    report = small_run.run_dir / "_overview" / "ok" / "E92000001.html"
    dom = _dump_dom(_chromium(), report, tmp_path / "profile")
    assert "hna-header" in dom and "E92000001" in dom and "browser" in dom
    assert "E92000001: total" in dom  # the notebook's printed output

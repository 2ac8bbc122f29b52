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
    assert {"Report", "Status"} <= set(page.headers)
    # a failed job shows a one-line plain-English reason; the traceback stays in the log
    assert 'class="reason"' in dom and "unexpected error (ValueError)" in dom
    assert "Traceback" not in dom


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


# -- the whole default run, as a reviewer reads it ------------------------------------------------

#: Developer text that must never reach a reviewer's page (issue 13).
DEVELOPER_TEXT = r"PosixPath|Traceback|np\.float|hna\.[a-z_]+|\[\d{4}, \d{4}\]"
#: The window a reviewer reads at.
WINDOW = (1280, 900)
#: Appended to a copy of each page: measures it in the browser and writes the result into the DOM.
_PROBE = """<script>
window.addEventListener('load', function () {
  var text = document.body.innerText;
  var bad = [];
  document.querySelectorAll('img').forEach(function (i) {
    if (!(i.complete && i.naturalWidth > 0)) bad.push(i.getAttribute('src').slice(0, 80)); });
  var out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
             text: text, brokenImages: bad, images: document.images.length};
  var pre = document.createElement('pre'); pre.id = 'hna-probe';
  pre.textContent = JSON.stringify(out); document.body.appendChild(pre);
});
</script>"""


def _probe(chromium: str, page: Path, profile: Path) -> dict:
    import json
    import re

    probe = page.with_name(f".probe-{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", _PROBE + "</body>"),
                     encoding="utf-8")
    cmd = [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--virtual-time-budget=5000", "--dump-dom", probe.as_uri(),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        probe.unlink()
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="hna-probe">(.*?)</pre>', done.stdout, re.DOTALL)
    assert found, f"{page.name}: the page did not finish loading"
    return json.loads(html_unescape(found.group(1)))


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The default run spec (every notebook, service and footprint) with few draws and years.

    Draws and years are cut (10 draws, 2025 to 2026) to keep the suite inside its time budget;
    the reports, tables, figures and links are the same kinds as in ``make run``.
    """
    from tests.conftest import REPO

    if _chromium() is None:
        pytest.skip("Chromium is not installed (apt-get install chromium); browser test skipped")
    spec = yaml.safe_load((REPO / "parameters" / "runs" / "default.yaml").read_text())
    spec.update(name="default", draws=10, years={"start": 2025, "end": 2026})
    for nb in spec["notebooks"]:
        nb["path"] = str(REPO / nb["path"])
    tmp = tmp_path_factory.mktemp("default-run")
    path = tmp / "default.yaml"
    path.write_text(yaml.safe_dump(spec))
    return run_batch(path, output_dir=tmp / "outputs", jobs=2)


def _reports(run) -> list[Path]:
    return sorted(p for p in run.run_dir.rglob("*.html") if not p.name.startswith("."))


@pytest.fixture(scope="module")
def probes(default_run, tmp_path_factory):
    from concurrent.futures import ThreadPoolExecutor

    pages = _reports(default_run)
    profiles = [tmp_path_factory.mktemp("profile") for _ in pages]  # one per browser
    with ThreadPoolExecutor(max_workers=2) as pool:
        seen = pool.map(lambda page, profile: _probe(_chromium(), page, profile), pages, profiles)
        return dict(zip(pages, seen, strict=True))


@pytest.mark.slow
@pytest.mark.e2e
def test_default_run_has_a_report_per_job(default_run):
    pages = _reports(default_run)
    assert (default_run.run_dir / "index.html") in pages
    assert len(pages) >= 20, [p.name for p in pages]


@pytest.mark.slow
@pytest.mark.e2e
def test_no_developer_text_in_any_report(probes):
    import re

    for page, seen in probes.items():
        hits = sorted(set(re.findall(DEVELOPER_TEXT, seen["text"])))
        assert not hits, f"{page.relative_to(page.parents[1])}: {hits}"


@pytest.mark.slow
@pytest.mark.e2e
def test_every_report_fits_a_1280_px_window(probes):
    for page, seen in probes.items():
        assert seen["scrollWidth"] <= seen["innerWidth"], (
            f"{page.name}: {seen['scrollWidth']} px wide in a {seen['innerWidth']} px window")


@pytest.mark.slow
@pytest.mark.e2e
def test_every_image_in_every_report_loads(probes):
    for page, seen in probes.items():
        assert not seen["brokenImages"], f"{page.name}: {seen['brokenImages']}"


@pytest.mark.slow
@pytest.mark.e2e
def test_every_link_in_every_report_resolves(default_run):
    run_dir = default_run.run_dir
    csv_files = 0
    for page in _reports(default_run):
        parsed = _DomSummary()
        parsed.feed(page.read_text(encoding="utf-8"))
        for href in parsed.hrefs:
            url = urlparse(href)
            # a table's CSV is a file beside its report, not data in the link (issue 13)
            assert not href.startswith("data:text/csv"), f"{page.name}: CSV inside the link"
            if url.scheme == "data" or href.startswith("#"):
                continue
            csv_files += href.endswith(".csv") and "_tables/" in href
            assert url.scheme in ("", "file"), f"{page.name}: external link {href}"
            target = Path(unquote(url.path)) if url.scheme == "file" else page.parent / unquote(url.path)
            assert target.exists(), f"{page.name}: broken link {href}"
            assert target.resolve().is_relative_to(run_dir.resolve()), f"{page.name}: leaves the run {href}"
    assert csv_files >= len(_reports(default_run)) - 1  # reports show several tables each


@pytest.mark.slow
@pytest.mark.e2e
def test_overview_england_total_equals_the_england_report(default_run, probes):
    from hna.formatting import fmt_count
    from hna.report import read_headline

    run_dir = default_run.run_dir
    overview = read_headline(run_dir / "_overview" / "footprint_overview.json")["headline"]
    checked = 0
    for service in ("soft_tissue_sarcoma", "dialysis"):
        england = read_headline(run_dir / service / "E92000001.json")["headline"]
        assert overview[f"england_{service}_2025"] == england["demand_2025"]
        page = probes[run_dir / service / "E92000001.html"]["text"]
        assert fmt_count(england["demand_2025"]) in page
        checked += 1
    assert checked == 2

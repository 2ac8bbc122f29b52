"""The index page of a batch run: a short summary, then one table per kind of report."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hna import formatting as fmt
from hna.report_io import MANIFEST_NAME, atomic_write_text
from hna.report_text import _label, humanise
from hna.tiers import tier_labels

__all__ = ["INDEX_COLUMNS", "INDEX_NAME", "SUMMARY_NAME", "write_index"]

INDEX_NAME = "index.html"
SUMMARY_NAME = "summary.csv"


# --------------------------------------------------------------------------------------------
# Data vintages for people
# --------------------------------------------------------------------------------------------


def _vintage_lines(vintages: Mapping[str, Any]) -> list[str]:
    """Readable lines for the data vintages (``sources`` entries or ``name: vintage`` pairs)."""
    lines = []
    sources = vintages.get("sources")
    if isinstance(sources, list):
        for source in sources:
            if isinstance(source, dict):
                label = source.get("dataset") or source.get("file") or "dataset"
                vintage = source.get("vintage")
                lines.append(f"{label}: {vintage}" if vintage else str(label))
    for key, value in vintages.items():
        if key != "sources" and _scalar(value) and value is not None:
            lines.append(f"{key}: {value}")
    return lines


# --------------------------------------------------------------------------------------------
# Index page
# --------------------------------------------------------------------------------------------

_INDEX_CSS = """
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif; margin: 0;
  color: #212b32; background: #fff; }
header { background: #005eb8; color: #fff; padding: 1em 2em; }
header h1 { margin: 0 0 .3em 0; font-size: 1.6em; }
header dl { display: flex; flex-wrap: wrap; gap: .2em 1.6em; margin: 0; font-size: .9em; }
header dt { font-weight: 600; } header dt::after { content: ":"; }
header dd { margin: 0 0 0 .3em; } header .pair { display: flex; }
main { padding: 1em 2em 3em 2em; max-width: 1280px; }
p.summary { font-size: 1.05em; max-width: 60em; }
h2 { font-size: 1.25em; margin: 1.6em 0 .5em 0; }
table { border-collapse: collapse; font-size: .9em; width: 100%; table-layout: auto; }
th, td { padding: .35em .6em; border-bottom: 1px solid #d8dde0; text-align: left;
  vertical-align: top; overflow-wrap: anywhere; }
th { overflow-wrap: normal; }
th { background: #f0f4f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.links { white-space: nowrap; }
div.wide { overflow-x: auto; max-width: 100%; }
tr.failed td { background: #fbe9ec; }
td.reason { color: #5c0f24; }
.status { font-weight: 600; white-space: nowrap; }
.status.ok { color: #007f3b; } .status.failed, .status.interrupted { color: #8a1538; }
.status.pending { color: #6b7780; }
a { color: #005eb8; }
.muted { color: #6b7780; }
"""

#: How many headline columns each table of the index shows at most (the rest: summary.csv).
INDEX_COLUMNS = 6

def _format_number(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else ("yes" if value else "no")
    if isinstance(value, int):
        return str(value) if 1900 <= value <= 2200 else f"{value:,}"
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    return str(value)


#: Reviewer labels for the headline keys the bundled notebooks record (regex -> label); other
#: keys are humanised. ``\1`` is a year or a number of centres.
_LABELS = [
    (r"demand_(\d{4})", r"Expected demand \1"),
    (r"centres_(\d{4})", r"Centres at expected demand \1"),
    (r"planned_centres", "Centres planned"),
    (r"p_viable_(\d{4})", r"P(every planned centre viable) \1"),
    (r"tier_emscg_2009", "Tier (East Midlands SCG 2009)"),
    (r"tier_dh_2003", "Tier (DH guidance 2003)"),
    (r"tier_stp_2016", "Tier (NHS England South 2016)"),
    (r"planning_population", "Minimum planning population"),
    (r"feasible", "Feasible numbers of centres"),
    (r"mean_minutes_k(\d+)", r"Mean journey, \1 centre(s) (minutes)"),
    (r"prob_all_k(\d+)", r"P(every centre viable), \1 centre(s)"),
    (r"population_start", "Population, base year"),
    (r"population_horizon", "Population, horizon"),
    (r"do_nothing_spend_horizon", "Do-nothing spend, horizon"),
    (r"spend_after_qipp_horizon", "Spend after QIPP, horizon"),
    (r"qipp_saving_horizon", "QIPP saving, horizon"),
    (r"pairs_that_fit", "Service-footprint pairs that fit"),
    (r"pairs", "Service-footprint pairs"),
]


def _column_label(key: str) -> str:
    for pattern, label in _LABELS:
        if re.fullmatch(pattern, key):
            return re.sub(pattern, label, key)
    return humanise(key)


def _format_cell(key: str, value: Any) -> str:
    """One headline value for people, by what its key says it is (hna.formatting)."""
    if key.startswith("tier_") and isinstance(value, str):
        return tier_labels().get(value, value.replace("_", " "))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if re.match(r"(p|prob)_", key) and 0 <= value <= 1:
            return fmt.fmt_probability(value)
        if re.search(r"spend|saving|cost", key):
            return fmt.fmt_money(value)
        if "minutes" in key:
            return fmt.fmt_number(value, 0)
        if re.search(r"population|cases|demand|minimum", key):
            return fmt.fmt_count(value)
    return _format_number(value)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


_INDEX_SKIP = {"service", "footprint", "service_name", "footprint_name", "hna_version", "note",
               "run", "title"}


def _headline_columns(jobs: Sequence[Mapping[str, Any]], limit: int = INDEX_COLUMNS) -> list[str]:
    """Scalar headline keys in order of first appearance, leaving out empty columns."""
    columns: list[str] = []
    for job in jobs:
        for key, value in (job.get("headline") or {}).items():
            if key in _INDEX_SKIP or key in columns or not _scalar(value) or value in (None, ""):
                continue
            if isinstance(value, str) and (value.startswith("/") or len(value) > 60):
                continue
            columns.append(key)
    return columns[:limit]


def _link(href: str | None, label: str) -> str:
    if not href:
        return ""
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(label)}</a>'


def _group_title(group: Sequence[Mapping[str, Any]]) -> str:
    """A section heading for the jobs of one notebook: its report kind, not its path."""
    stem = Path(str(group[0].get("notebook") or "report")).stem
    return humanise(stem)


def _job_label(job: Mapping[str, Any]) -> str:
    parts = [p for p in (str(job.get("service_name") or job.get("service") or ""),
                         _label(job.get("footprint"), job.get("footprint_name"))) if p]
    return " \u2014 ".join(parts) or str(job.get("title") or humanise(Path(str(job.get("id"))).name))


_SNAKE = re.compile(r"[a-z0-9]+(?:_[a-z0-9]+)+")


def _job_row(job: Mapping[str, Any], columns: Sequence[str]) -> str:
    status = str(job.get("status", "pending"))
    outputs = job.get("outputs") or {}
    label = _job_label(job)
    report = outputs.get("html")
    name = _link(report, label) if report else html.escape(label)
    shown = {"ok": "complete", "failed": "failed", "interrupted": "interrupted"}.get(status,
                                                                                   status)
    cells = [f"<td>{name}</td>", f'<td class="status {html.escape(status)}">{shown}</td>']
    headline = job.get("headline") or {}
    if status == "failed":
        reason = (job.get("error") or {}).get("reason") or "The analysis did not complete"
        cells.append(f'<td class="reason" colspan="{max(1, len(columns))}">'
                     f"{html.escape(str(reason))}</td>")
    else:
        for column in columns:
            value = headline.get(column)
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            cls = ' class="num"' if numeric else ""
            text = _format_cell(column, value)
            if _SNAKE.fullmatch(text):  # a category code such as supra_regional: show words
                text = text.replace("_", " ")
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
    links = " ".join(filter(None, [_link(outputs.get("ipynb"), "notebook"),
                                   _link(outputs.get("json"), "data")]))
    cells.append(f'<td class="links">{links}</td>')
    row_class = "failed" if status in ("failed", "interrupted") else html.escape(status)
    return f'<tr class="{row_class}">{"".join(cells)}</tr>'


def _section(group: Sequence[Mapping[str, Any]]) -> str:
    columns = _headline_columns(group)
    head = ["Report", "Status", *(_column_label(c) for c in columns), "Files"]
    if not columns:
        head.insert(2, "")
    rows = "".join(_job_row(job, columns) for job in group)
    head_html = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (f"<section><h2>{html.escape(_group_title(group))}</h2>"
            f'<div class="wide"><table class="jobs"><thead><tr>{head_html}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div></section>")


def _run_summary(manifest: Mapping[str, Any], jobs: Sequence[Mapping[str, Any]]) -> str:
    n_ok = sum(1 for j in jobs if j.get("status") == "ok")
    n_failed = sum(1 for j in jobs if j.get("status") == "failed")
    other = len(jobs) - n_ok - n_failed
    services = sorted({str(j.get("service_name") or j["service"]) for j in jobs
                       if j.get("service")})
    footprints = {j.get("footprint") for j in jobs if j.get("footprint")}
    done = ("all complete" if n_ok == len(jobs) and len(jobs) > 1 else f"{n_ok} complete")
    parts = [f"{len(jobs)} report{'' if len(jobs) == 1 else 's'}, {done}"]
    if n_failed:
        parts.append(f"{n_failed} failed (reason shown in each row)")
    if other:
        parts.append(f"{other} not run (interrupted; run the same command again to resume)")
    what = []
    if services:
        what.append(f"{len(services)} service{'' if len(services) == 1 else 's'} ("
                    + "; ".join(services) + ")")
    if footprints:
        what.append(f"{len(footprints)} footprint{'' if len(footprints) == 1 else 's'}")
    scope = f", covering {' and '.join(what)}" if what else ""
    years = manifest.get("years_label")
    text = ", ".join(parts) + scope + (f", years {years}" if years else "") + "."
    description = manifest.get("description")
    lead = str(description or "").strip()
    lead = html.escape(lead + ("" if not lead or lead.endswith((".", "!", "?")) else ".") + " "
                       if lead else "")
    return f'<p class="summary">{lead}{html.escape(text)}</p>'


def write_index(run_dir: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write ``index.html`` for a run: a short summary, then one table per kind of report.

    Each row names the report (service and footprint names with codes) and links to it,
    with its status and up to :data:`INDEX_COLUMNS` headline numbers under readable
    headings; a failed job shows its one-line reason instead (details are in the manifest).
    The page is self-contained (inline CSS, no scripts), fits a 1280 px window and holds no
    timestamps or timings, so the same run gives the same bytes.
    """
    run_dir = Path(run_dir)
    jobs = list(manifest.get("jobs") or [])
    run_name = str(manifest.get("run") or run_dir.name)
    pairs = [
        ("Years", manifest.get("years_label")),
        ("Draws", manifest.get("draws")),
        ("Seed", manifest.get("seed")),
        ("hna", manifest.get("hna_version")),
    ]
    header_items = "".join(
        f'<div class="pair"><dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd></div>'
        for k, v in pairs
        if v not in (None, "")
    )
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for job in jobs:
        groups.setdefault(str(job.get("notebook") or ""), []).append(job)
    sections = "".join(_section(group) for group in groups.values()) or "<p>No jobs.</p>"
    vintage_lines = _vintage_lines(manifest.get("data_vintages") or {})
    vintage_html = (
        "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in vintage_lines) + "</ul>"
        if vintage_lines else "<p>Not recorded.</p>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(humanise(run_name))}: reports of the run</title>
<style>{_INDEX_CSS}</style>
</head>
<body>
<header><h1>Run: {html.escape(humanise(run_name))}</h1><dl>{header_items}</dl></header>
<main>
{_run_summary(manifest, jobs)}
{sections}
<details class="muted"><summary>Data sources and vintages</summary>{vintage_html}</details>
<p class="muted">Every job's inputs, timings and full error details:
<a href="{MANIFEST_NAME}">manifest.json</a>; the headline numbers as a table:
<a href="{SUMMARY_NAME}">summary.csv</a>.</p>
</main>
</body>
</html>
"""
    return atomic_write_text(run_dir / INDEX_NAME, page)

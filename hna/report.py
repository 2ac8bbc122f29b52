"""Reports of a batch run: headline records, HTML rendering, the index page, the manifest.

What lives here:

* :func:`record_headline` / :func:`write_headline`: a notebook records its headline results
  (a small JSON-typed dict) for the run index; the batch runner tells the kernel where to write
  them through the environment variable :data:`HEADLINE_ENV`.
* :func:`write_table_csv`: under ``hna run``, a reviewer table's CSV is written as a file
  beside the job's report (``<footprint>_tables/<nn>-<caption>.csv``) and linked relatively;
  the runner tells the kernel where through :data:`TABLES_ENV`.
* :func:`suppress_small`: small-number suppression for tables of observed counts, as in
  published NHS statistics.
* :func:`render_html`: an executed notebook as a reviewer's HTML page (no code by default).
* :func:`write_index` (in :mod:`hna.report_index`), :func:`read_manifest`, :func:`write_manifest`: the run-level outputs
  (``summary.csv`` is written by :func:`hna.batch.outputs.write_summary_csv`).
* :func:`atomic_write_text` / :func:`atomic_write_bytes`: every file is written to a temporary
  file in the same directory and renamed into place, so no reader ever sees half a file.

This module is imported inside notebook kernels, so importing it is cheap: nbconvert and
pandas are imported only by the functions that need them.
"""

from __future__ import annotations

import html
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hna.errors import DataError, ParameterError
from hna.report_index import INDEX_COLUMNS, INDEX_NAME, SUMMARY_NAME, write_index  # noqa: F401
from hna.report_io import (  # noqa: F401  (re-exported)
    MANIFEST_NAME,
    TMP_SUFFIX,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    data_hash,
    data_vintages,
    read_manifest,
    remove_stale_tmp,
    to_json_value,
    write_manifest,
)
from hna.report_text import _label, humanise  # noqa: F401

__all__ = [
    "HEADLINE_ENV",
    "SUPPRESSION_THRESHOLD",
    "TABLES_ENV",
    "TMP_SUFFIX",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "data_hash",
    "data_vintages",
    "humanise",
    "read_headline",
    "read_manifest",
    "record_headline",
    "remove_stale_tmp",
    "render_html",
    "suppress_small",
    "table_file_name",
    "to_json_value",
    "write_headline",
    "write_index",
    "write_manifest",
    "write_table_csv",
]

#: Environment variable through which ``hna run`` tells a notebook kernel where to write its
#: headline JSON. Unset in an interactive session, where :func:`record_headline` writes nothing.
HEADLINE_ENV = "HNA_HEADLINE_PATH"

#: Environment variable through which ``hna run`` tells a notebook kernel where its tables' CSV
#: files go: it names a JSON file ``{"folder": <where to write>, "href": <the folder's name
#: beside the report>}`` that the worker writes when the job starts (the kernel is started
#: before its job is known). Unset in an interactive session, where tables carry their CSV
#: in the link itself (see :func:`write_table_csv`).
TABLES_ENV = "HNA_TABLES_PATH"

#: Default small-number threshold: observed counts from 1 to 4 are shown as ``*``.
SUPPRESSION_THRESHOLD = 5



# --------------------------------------------------------------------------------------------
# Headline results
# --------------------------------------------------------------------------------------------


def _clean_headline(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ParameterError(
            "headline results must be a mapping of names to values", field="headline",
            value=data, hint="Pass a dict such as {'cases_2040': 123.4}",
        )
    return to_json_value(dict(data), field="headline", nonfinite="null")


def write_headline(
    data: Mapping[str, Any], path: str | os.PathLike[str] | None = None
) -> Path | None:
    """Write headline results ``data``, replacing any recorded before, atomically.

    ``path`` defaults to the file named by :data:`HEADLINE_ENV` (set by ``hna run``); with
    neither, the values are only checked and nothing is written. Values are converted as in
    :func:`record_headline`, which is the usual call from a notebook (it merges instead).

    Returns:
        The path written, or None.
    """
    clean = _clean_headline(data)
    target = path if path is not None else os.environ.get(HEADLINE_ENV)
    if not target:
        return None
    return atomic_write_json(target, clean)


def read_headline(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a headline JSON file written by :func:`write_headline`."""
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise DataError("headline file does not hold a JSON object", source=str(path))
    return data


def record_headline(
    data: Mapping[str, Any], *, path: str | os.PathLike[str] | None = None
) -> Path | None:
    """Record the headline results of the running notebook for the run index.

    Call it from a notebook with a small dict of the numbers a reviewer should see first,
    e.g. ``record_headline({"cases_2025": c25, "cases_2040": c40, "centres_needed": k})``.
    Values may be Python or NumPy numbers, text, booleans, None, lists or dicts; NaN and
    infinity are stored as null. Repeated calls merge into the same record (later keys win).

    Under ``hna run`` the kernel's environment variable :data:`HEADLINE_ENV` names the file;
    in an interactive session it is unset and nothing is written (the values are still checked,
    so a notebook that would fail in a batch fails interactively too).

    Returns:
        The path written, or None when there is nowhere to write.
    """
    clean = _clean_headline(data)
    target = path if path is not None else os.environ.get(HEADLINE_ENV)
    if not target:
        return None
    merged: dict[str, Any] = {}
    if os.path.exists(target):
        try:
            merged = read_headline(target)
        except (OSError, ValueError):
            merged = {}
    merged.update(clean)
    return atomic_write_json(target, merged)


# --------------------------------------------------------------------------------------------
# Tables' CSV files beside a report
# --------------------------------------------------------------------------------------------

#: Longest caption part of a table's file name (characters).
_SLUG_LENGTH = 48
#: How many tables this kernel has written into each folder (numbers the files in page order).
_TABLE_NUMBERS: dict[str, int] = {}


def table_file_name(number: int, caption: str | None) -> str:
    """The file name of the ``number``-th table of a report: ``<nn>-<caption slug>.csv``.

    The caption is lower-cased, accents are dropped and every run of characters other than
    ``a-z`` and ``0-9`` becomes one hyphen; it is cut at a hyphen to at most 48 characters (``table`` when there is no
    caption). The two-digit number (three from 100) is the table's place on the page, so two
    tables with the same caption get different, stable names: ``01-populations.csv``,
    ``02-populations.csv``.

    Raises:
        ParameterError: ``number`` is not a whole number of at least 1.
    """
    import unicodedata

    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise ParameterError("must be a whole number of at least 1", field="number",
                             value=number, hint="Tables are numbered from 1 in page order")
    text = "".join(c for c in unicodedata.normalize("NFKD", str(caption or ""))
                   if not unicodedata.combining(c))  # accents dropped, dashes kept as breaks
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(slug) > _SLUG_LENGTH:
        cut = slug[:_SLUG_LENGTH + 1]
        slug = (cut.rsplit("-", 1)[0] if "-" in cut else cut[:_SLUG_LENGTH]).strip("-")
    return f"{number:02d}-{slug or 'table'}.csv"


def _tables_config() -> tuple[Path, str] | None:
    """The folder to write tables into and its name beside the report, or None (interactive)."""
    target = os.environ.get(TABLES_ENV)
    if not target:
        return None
    try:
        config = json.loads(Path(target).read_text(encoding="utf-8"))
        return Path(config["folder"]), str(config["href"]).strip("/")
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no job has configured this kernel: behave as in an interactive session


def write_table_csv(text: str, caption: str | None) -> tuple[str, str] | None:
    """Write a table's CSV ``text`` beside the running job's report; return ``(href, name)``.

    Under ``hna run`` the worker names a folder through :data:`TABLES_ENV`; the file is written
    there atomically as :func:`table_file_name` (numbered in the order the notebook shows its
    tables) and the runner moves the folder beside the report as ``<footprint>_tables/``, so
    ``href`` (``"<footprint>_tables/<nn>-<slug>.csv"``) is relative to the report. Outside a
    batch job (JupyterLab, a script) nothing is written and the result is None: the caller
    links the CSV as a ``data:`` URI instead.

    Returns:
        The relative link and the file name, or None when there is no job folder (or it cannot
        be written).
    """
    from urllib.parse import quote

    config = _tables_config()
    if config is None:
        return None
    folder, href = config
    number = _TABLE_NUMBERS.get(str(folder), 0) + 1
    name = table_file_name(number, caption)
    try:
        atomic_write_text(folder / name, text)
    except OSError:
        return None  # the page still works: the caller embeds the CSV in the link
    _TABLE_NUMBERS[str(folder)] = number
    return f"{quote(href)}/{quote(name)}", name


# --------------------------------------------------------------------------------------------
# Small-number suppression
# --------------------------------------------------------------------------------------------


def suppress_small(
    df: Any,
    columns: str | Sequence[str],
    threshold: int = SUPPRESSION_THRESHOLD,
    *,
    marker: str = "*",
    suppress_zero: bool = False,
) -> Any:
    """Hide small observed counts in a table before it is shown or published.

    Counts ``c`` with ``0 < c < threshold`` (by default 1 to 4) in ``columns`` are replaced by
    ``marker`` (``"*"``; ``"<5"`` is another common choice), following the practice of
    published NHS statistics. Zeros are shown unless ``suppress_zero``; missing values stay
    missing. Use it on counts from user-supplied patient-level data, not on modelled
    expectations or on rates.

    Args:
        df: a pandas DataFrame (not modified).
        columns: the count column(s) to suppress.
        threshold: the smallest count that is shown (default :data:`SUPPRESSION_THRESHOLD`).
        marker: the text shown instead of a suppressed count.
        suppress_zero: also hide zeros.

    Returns:
        A copy of ``df`` in which the suppressed columns have object dtype.

    Raises:
        DataError: a column is missing, not numeric or holds a negative count.
        ParameterError: the threshold is not a positive integer.
    """
    import pandas as pd

    if isinstance(columns, str):
        columns = [columns]
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ParameterError(
            "must be a positive whole number", field="threshold", value=threshold,
            hint="NHS publications typically use 5 (or 8 for some HES tables)",
        )
    out = df.copy()
    for column in columns:
        if column not in out.columns:
            raise DataError(
                "column not found", field=column,
                hint=f"Columns present: {', '.join(map(str, out.columns))}",
            )
        values = out[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise DataError(
                "must hold numeric counts to be suppressed", field=column,
                value=str(values.dtype),
            )
        if (values < 0).any():
            raise DataError(
                "holds a negative count", field=column, value=values[values < 0].iloc[0],
            )
        hide = values < threshold
        if not suppress_zero:
            hide &= values > 0
        out[column] = values.astype(object).where(~hide, marker)
    return out


# --------------------------------------------------------------------------------------------
# HTML rendering of one executed notebook
# --------------------------------------------------------------------------------------------

_REPORT_CSS = """
.hna-header { font-family: system-ui, -apple-system, "Segoe UI", Arial, sans-serif;
  margin: 0 0 1.5em 0; padding: 1em 1.5em; background: #005eb8; color: #fff; }
.hna-header h1 { margin: 0 0 .3em 0; font-size: 1.5em; color: #fff; }
.hna-header dl { display: flex; flex-wrap: wrap; gap: .2em 1.6em; margin: 0; font-size: .9em; }
.hna-header dt { font-weight: 600; } .hna-header dt::after { content: ":"; }
.hna-header dd { margin: 0 0 0 .3em; }
.hna-header .hna-pair { display: flex; }
.hna-header.hna-failed { background: #8a1538; }
.hna-header p.hna-reason { margin: .6em 0 0 0; font-weight: 600; }
.jp-RenderedHTMLCommon table { border-collapse: collapse; font-size: .9em; margin: .5em 0; }
.jp-RenderedHTMLCommon th, .jp-RenderedHTMLCommon td { padding: .3em .7em;
  border-bottom: 1px solid #d8dde0; text-align: right; }
.jp-RenderedHTMLCommon th { background: #f0f4f5; }
.jp-RenderedHTMLCommon tbody tr:nth-child(odd) { background: #fafbfb; }
.jp-RenderedHTMLCommon td:first-child, .jp-RenderedHTMLCommon th:first-child { text-align: left; }
.jp-OutputArea-output { overflow-x: auto; max-width: 100%; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
"""

_EXPORTERS = threading.local()  # one exporter per thread (Dask workers may run several)


def _exporter(show_code: bool) -> Any:
    cache = _EXPORTERS.__dict__.setdefault("by_option", {})
    exporter = cache.get(show_code)
    if exporter is None:
        from nbconvert import HTMLExporter

        if show_code:
            exporter = HTMLExporter()
        else:
            exporter = HTMLExporter(
                exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
            )
        cache[show_code] = exporter
    return exporter


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
#: pandas Styler ids (``T_1a2b3``; random unless the notebook sets a uuid).
_STYLER_ID = re.compile(r"\bT_([0-9a-f]{5})(?=[_\"'\s{.,:#>])")
#: ``execute_result`` texts that are a developer's repr, not a result meant for a reader.
_DEVELOPER_REPR = re.compile(
    r"^\s*(?:(?:Posix|Windows|Pure\w*)?Path\(|<[\w.]+ (?:object )?at 0x[0-9a-f]+>|None\s*$)")
_ERROR_CELL_TAG = "papermill-error-cell-tag"


def _strip_remote_scripts(body: str) -> str:
    """Drop the script tags that load code from the internet (require.js, MathJax, mermaid).

    Reports are static, must open offline and must not call out.
    """
    return _SCRIPT.sub(lambda m: "" if re.search(r"https?://", m.group(0)) else m.group(0), body)


def _reviewer_output(output: Any) -> bool:
    """True if a cell output belongs in a reviewer's page.

    Left out: tracebacks (the header gives the reason), warnings and other stderr text, and
    results that are only the repr of a path or an object (e.g. the value of a last line
    that returned a path).
    """
    kind = output.get("output_type")
    if kind == "error":
        return False
    if kind == "stream":
        return output.get("name") != "stderr"
    if kind == "execute_result":
        data = output.get("data") or {}
        if set(data) <= {"text/plain"}:
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else str(text)
            return not _DEVELOPER_REPR.match(text)
    return True


def _clean_notebook(nb: Any) -> Any:
    """The notebook as reviewers see it: reviewer outputs only, stable cell ids."""
    cells = []
    for index, cell in enumerate(nb.cells):
        if _ERROR_CELL_TAG in (cell.get("metadata", {}).get("tags") or []):
            continue  # papermill's "An Exception was encountered" banner
        if cell.get("cell_type") == "code":
            cell["outputs"] = [o for o in cell.get("outputs", []) if _reviewer_output(o)]
        if "id" in cell:
            cell["id"] = f"cell-{index}"
        cells.append(cell)
    nb.cells = cells
    return nb


def _stable_ids(body: str) -> str:
    """Replace random pandas Styler ids with ids numbered in order of appearance."""
    mapping: dict[str, str] = {}

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in mapping:
            mapping[key] = f"{len(mapping):05x}"
        return f"T_{mapping[key]}"

    return _STYLER_ID.sub(replace, body)


def _report_title(meta: Mapping[str, Any], fallback: str) -> str:
    if meta.get("title"):
        return str(meta["title"])
    parts = [str(meta.get("service_name") or meta.get("service") or ""),
             _label(meta.get("footprint"), meta.get("footprint_name"))]
    label = " \u2014 ".join(p for p in parts if p)
    return label or humanise(Path(str(meta.get("notebook") or fallback)).stem)


def _header_html(meta: Mapping[str, Any], fallback: str = "Report") -> str:
    status = meta.get("status")
    pairs = [
        # A service's name only: its id is snake_case, which reviewers should not see.
        ("Service", meta.get("service_name") or meta.get("service")),
        ("Footprint", _label(meta.get("footprint"), meta.get("footprint_name"))),
        ("Years", meta.get("years")),
        ("Run", meta.get("run")),
        ("Seed", meta.get("seed")),
        ("Draws", meta.get("draws")),
        ("hna", meta.get("hna_version")),
        ("Status", {"ok": "complete", "failed": "failed"}.get(str(status), status)),
    ]
    items = "".join(
        f'<div class="hna-pair"><dt>{html.escape(k)}</dt><dd>{html.escape(str(v))}</dd></div>'
        for k, v in pairs
        if v not in (None, "")
    )
    failed = " hna-failed" if status not in (None, "ok") else ""
    reason = ""
    if status not in (None, "ok"):
        error = meta.get("error") or {}
        text = error.get("reason") or "The analysis did not complete"
        reason = (f'<p class="hna-reason">{html.escape(str(text))}. The results below are '
                  "incomplete.</p>")
    return (
        f'<header class="hna-header{failed}"><h1>{html.escape(_report_title(meta, fallback))}'
        f"</h1><dl>{items}</dl>{reason}</header>"
    )


def render_html(
    executed_nb_path: str | os.PathLike[str],
    meta: Mapping[str, Any] | None = None,
    *,
    show_code: bool = False,
) -> str:
    """Render an executed notebook as an HTML page for reviewers, byte-reproducibly.

    Code cells and prompts are left out unless ``show_code``; outputs (tables, text, figures
    embedded as base64 images) are kept, except tracebacks, stderr text and developer reprs
    (see :func:`_reviewer_output`). A header gives the report's title and names the service,
    footprint, years, run, seed and draws from ``meta`` (keys ``title``, ``service``,
    ``service_name``, ``footprint``, ``footprint_name``, ``years``, ``run``, ``notebook``,
    ``seed``, ``draws``, ``hna_version``, ``status``, ``error``; all optional); a failed job
    shows ``error["reason"]``, one plain sentence. Cell ids and pandas Styler ids are made
    stable and no date is written, so the same notebook gives the same bytes.

    Returns:
        The HTML document as text.
    """
    import nbformat

    meta = dict(meta or {})
    nb = _clean_notebook(nbformat.read(str(executed_nb_path), as_version=4))
    fallback = Path(executed_nb_path).stem
    title = _report_title(meta, fallback)
    body, _ = _exporter(show_code).from_notebook_node(nb, resources={"metadata": {"name": title}})
    body = _stable_ids(_strip_remote_scripts(body))
    style = f"<style>{_REPORT_CSS}</style>"
    if "</head>" in body:
        body = body.replace("</head>", f"{style}\n</head>", 1)
    else:  # pragma: no cover - nbconvert templates always have a head
        body = style + body
    header = _header_html(meta, fallback)
    match = re.search(r"<body[^>]*>", body)
    if match:
        body = body[: match.end()] + "\n" + header + body[match.end():]
    else:  # pragma: no cover
        body = header + body
    return body



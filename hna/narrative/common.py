"""The one presentation idiom every notebook uses: ``table``, ``statement``, ``provenance``.

- :func:`table` turns a DataFrame into a reviewer table: human headers (``footprint_share`` ->
  "Footprint share"), every value written by :mod:`hna.formatting` (counts as whole numbers,
  years as years, probabilities as percentages, Yes/No instead of True/False, lists in words),
  a caption, and a "Download CSV" link beside it carrying the same rows (under ``hna run`` a
  file beside the report, ``<footprint>_tables/<nn>-<caption>.csv``; interactively a
  ``data:`` URI).
- :func:`statement` is prose (Markdown) for a report.
- :func:`provenance` is the provenance table of a result's ``meta`` (:mod:`hna.provenance`).

Report-kind modules (``service``, ``overview``, ``appraisal``, ``designation``) build their
tables as DataFrames with human headers and hand them to :func:`table`; notebooks only call
``display(narrative.<function>(...))``.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from hna import formatting as fmt
from hna.report import write_table_csv

__all__ = ["HTML", "Table", "table", "statement", "provenance", "format_value", "column_kind",
           "plain", "TABLE_CSS"]

_MODULE_PAREN = re.compile(r"\s*\((?:see |in |from )?`?hna\.[\w.]+(?:\(\))?`?\)")
_MODULE_REF = re.compile(r"`?\bhna\.[a-z_][\w.]*(?:\(\))?`?")
_PATH = re.compile(r"(?<![\w:/])(?:\.\./|[\w-]+/)+([\w.-]+\.(?:md|yaml|yml|csv|py|json|ipynb))\b")
_SNAKE_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def plain(text: str) -> str:
    """Text for reviewers: no module names, no folder paths, no backticks, no snake_case.

    ``"(hna.prevalence.projection)"`` is dropped, another ``hna.<module>`` becomes ``hna``,
    ``"shared/data/rates/PROVENANCE.md"``
    becomes ``"PROVENANCE.md"`` and ``"sts_registry_trend"`` becomes ``"sts registry trend"``;
    web addresses are left as they are.
    """
    if not isinstance(text, str):
        return text
    text = _MODULE_REF.sub("hna", _MODULE_PAREN.sub("", text))
    out = []
    for token in re.split(r"(\s+)", text):
        if "://" in token or token.startswith("www."):
            out.append(token)
            continue
        token = _PATH.sub(r"\1", token)
        token = _SNAKE_WORD.sub(lambda m: m.group(0).replace("_", " "), token)
        out.append(token)
    return "".join(out).replace("`", "")


class HTML:
    """A fragment of HTML that notebooks display as rich output (and print as text)."""

    def __init__(self, body: str, text: str = "") -> None:
        """Keep the HTML ``body`` and a plain-text alternative ``text``."""
        self.body = body
        self.text = text or body

    def _repr_html_(self) -> str:
        return self.body

    def __str__(self) -> str:
        """The plain-text alternative."""
        return self.text

    __repr__ = __str__


#: Styles of reviewer tables: wrap long cells so that a table fits a 1280 px window.
TABLE_CSS = (
    "<style>.hna-table{border-collapse:collapse;margin:0.4em 0 0.2em 0;font-size:0.92em;"
    "max-width:100%;table-layout:auto}"
    ".hna-table caption{caption-side:top;font-weight:bold;text-align:left;padding:2px 0}"
    "table.hna-table th,table.hna-table td{padding:2px 8px;text-align:left !important;"
    "vertical-align:top;border-bottom:1px solid #ddd;overflow-wrap:break-word;max-width:36em}"
    "table.hna-table td.num{text-align:right !important;white-space:nowrap}"
    ".hna-csv{font-size:0.85em;margin:0 0 1em 0}</style>"
)

_SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9.]+)+$|^[a-z][a-z0-9]*$|^q0\.\d+$")
#: Headers whose numbers are counts of people, cases or centres (never fractional).
_COUNT_WORDS = ("population", "cases", "patients", "people", "centres", "caseload", "demand",
                "stations", "sessions", "person-years", "person_years")
_NOT_COUNT_WORDS = ("rate", "share", "per 100", "ratio", "%", "percent", "per centre", "per head")
_YEAR_WORDS = ("year", "years", "horizon", "base year", "horizon year", "price year")


def column_kind(name: str, values: pd.Series) -> str:
    """How a column is formatted: year, probability, count, number, bool, list or text.

    Decided from the header (``Year``; ``P(...)``/"probability"/"share of draws") and then the
    values (integers, or floats under a header naming people, cases, centres or demand -> count;
    other floats -> number; bools -> bool).
    """
    low = str(name).lower()
    non_null = values.dropna()
    non_null = non_null[non_null.map(lambda v: not (isinstance(v, str) and not v.strip()))]
    if pd.api.types.is_bool_dtype(values) or (
            len(non_null) and non_null.map(lambda v: isinstance(v, bool | np.bool_)).all()):
        return "bool"
    if len(non_null) and non_null.map(lambda v: isinstance(v, list | tuple)).all():
        return "list"
    numeric = pd.api.types.is_numeric_dtype(values)
    if not numeric:
        return "text"
    if low in _YEAR_WORDS or low.startswith("year"):
        return "year"
    if low.startswith(("p(", "probability", "p_", "share of draws")):
        return "probability"
    if pd.api.types.is_integer_dtype(values):
        return "count"
    if any(w in low for w in _COUNT_WORDS) and not any(w in low for w in _NOT_COUNT_WORDS):
        return "count"
    return "number"


def format_value(value: Any, kind: str, digits: int = 1) -> str:
    """One value written by the formatting policy for its column ``kind``."""
    if kind == "list":
        return fmt.fmt_list(value) if isinstance(value, list | tuple) else str(value)
    if fmt.is_missing(value) or (isinstance(value, str) and not value.strip()):
        return ""
    if kind == "bool":
        return fmt.fmt_bool(value)
    if kind == "year":
        return fmt.fmt_year(value)
    if kind == "probability":
        return fmt.fmt_probability(value)
    if kind == "count":
        return fmt.fmt_count(value)
    if kind == "number":
        return fmt.fmt_number(value, digits)
    return plain(str(value))


def _header(name: Any) -> str:
    s = str(name)
    return fmt.humanise(s) if _SNAKE.match(s) else s


def _csv_link(df: pd.DataFrame, name: str) -> str:
    """The "Download CSV" paragraph of a table: its shown rows as a file or in the link.

    Under ``hna run`` the CSV is a file beside the report and the link is relative to it
    (:func:`hna.report.write_table_csv`); in an interactive session the CSV travels in a
    ``data:`` URI, so the link works in JupyterLab and in an exported page without leaving
    files next to the notebook.
    """
    data = df.to_csv(index=False, lineterminator="\n")
    written = write_table_csv(data, name)
    if written is not None:
        href, file = written
    else:
        href = "data:text/csv;charset=utf-8," + urllib.parse.quote(data)
        file = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_").lower()[:60] or "table"
        file += ".csv"
    return (f"<p class='hna-csv'><a download='{html.escape(file)}' href='{html.escape(href)}'>"
            f"Download CSV</a> ({len(df):,} rows)</p>")


class Table:
    """A reviewer table: formatted cells, caption and a CSV download (see :func:`table`)."""

    def __init__(self, frame: pd.DataFrame, caption: str | None, shown: pd.DataFrame,
                 numeric: list[bool], csv: bool) -> None:
        """Keep the raw ``frame`` (for CSV and tests) and the formatted ``shown`` cells."""
        self.frame = frame
        self.caption = caption
        self.shown = shown
        self.numeric = numeric
        self.csv = csv
        self._csv_html: str | None = None  # written once, however often the table is shown

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.shown.columns)
        rows = []
        for row in self.shown.itertuples(index=False):
            cells = "".join(
                f"<td class='num'>{html.escape(v)}</td>" if num else f"<td>{html.escape(v)}</td>"
                for v, num in zip(row, self.numeric, strict=True))
            rows.append(f"<tr>{cells}</tr>")
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        body = (f"{TABLE_CSS}<table class='hna-table'>{cap}<thead><tr>{head}</tr></thead>"
                f"<tbody>{''.join(rows)}</tbody></table>")
        if self.csv:
            if self._csv_html is None:
                self._csv_html = _csv_link(self.shown, self.caption or "table")
            body += self._csv_html
        return body

    def __str__(self) -> str:
        """The formatted table as plain text."""
        text = self.shown.to_string(index=False)
        return f"{self.caption}\n{text}" if self.caption else text

    __repr__ = __str__


def table(df: pd.DataFrame, caption: str | None = None, *, precision: int = 1,
          formats: Mapping[str, str | Callable[[Any], str]] | None = None,
          csv: bool = True) -> Table:
    """A readable table for reports (the one idiom for tables).

    Args:
        df: rows to show; the index is dropped. snake_case headers are humanised.
        caption: the table's title, shown above it.
        precision: decimals for non-count numbers (state the precision in the header if it
            matters, e.g. "Rate per 100,000 (1 d.p.)").
        formats: per-column overrides: a kind (``count``, ``number``, ``probability``,
            ``year``, ``bool``, ``text``) or a function value -> str.
        csv: add a "Download CSV" link carrying the shown rows: the cells as the reader sees
            them (same rounding, suppression and labels), so the file never holds a figure
            the page does not show.

    Returns:
        A :class:`Table` that notebooks ``display``.
    """
    frame = df.reset_index(drop=True)
    formats = dict(formats or {})
    shown = pd.DataFrame(index=frame.index)
    numeric = []
    for col in frame.columns:
        rule = formats.get(col, column_kind(col, frame[col]))
        if callable(rule):
            shown[_header(col)] = [("" if fmt.is_missing(v) else rule(v)) for v in frame[col]]
            numeric.append(pd.api.types.is_numeric_dtype(frame[col]))
        else:
            shown[_header(col)] = [format_value(v, rule, precision) for v in frame[col]]
            numeric.append(rule in {"count", "number", "probability"})
    return Table(frame, caption, shown, numeric, csv)


def statement(text: str):
    """Prose for a report (Markdown), the one idiom for statements."""
    from IPython.display import Markdown

    return Markdown(plain(text))


def provenance(meta: Mapping[str, Any], caption: str = "Provenance", **extra: Any) -> Table:
    """The provenance table of a result's ``meta`` (one schema: :mod:`hna.provenance`)."""
    from hna.provenance import provenance_table

    rows = provenance_table(dict(meta), **extra)
    if meta.get("service_name"):  # the service in words (its file id is in the hashes)
        rows.loc[rows["Item"] == "Service", "Value"] = str(meta["service_name"])
    return table(rows, caption=caption, csv=False,
                 formats={"Value": "text", "Item": "text"})

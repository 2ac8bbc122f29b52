"""Regenerate the generated tables of docs/calibration_dialysis.md.

Replaces the text between ``<!-- calibration tables: start -->`` and
``<!-- calibration tables: end -->`` with :func:`hna.prevalence.calibration_markdown`
(the same :func:`calibration_table` and :func:`calibration_trajectory` the tests use;
tests/unit/test_prevalence.py::test_calibration_doc_shows_the_current_table fails when the
page is stale). Run: ``python scripts/build_calibration_dialysis.py``.
"""

from __future__ import annotations

from pathlib import Path

from hna.prevalence import calibration_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "calibration_dialysis.md"
START, END = "<!-- calibration tables: start -->", "<!-- calibration tables: end -->"


def main() -> None:
    """Rewrite the generated block of the page."""
    text = DOC.read_text(encoding="utf-8")
    i, j = text.index(START) + len(START), text.index(END)
    DOC.write_text(text[:i] + "\n\n" + calibration_markdown() + "\n" + text[j:], encoding="utf-8")
    print(f"updated {DOC}")


if __name__ == "__main__":
    main()

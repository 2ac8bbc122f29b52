"""Print the calibration tables of ``docs/calibration_dialysis.md`` (``python -m hna.prevalence``)."""

from hna.prevalence.validation import calibration_markdown

if __name__ == "__main__":  # pragma: no cover - regenerates the docs table
    print(calibration_markdown())

"""hna: health needs assessment toolkit for NHS specialised services."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hna")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "data_vintages", "explore"]


def data_vintages() -> dict:
    """Provenance of the bundled data: publisher, licence, datasets, vintages and checksums."""
    import json
    from importlib import resources

    return json.loads((resources.files("hna") / "data" / "vintages.json").read_text())


def explore(service="soft_tissue_sarcoma", footprint="E40000006", **kwargs):
    """Open the interactive scenario explorer in JupyterLab (see :mod:`hna.explorer`).

    ``hna.explore("soft_tissue_sarcoma", "E40000006")`` returns an object that displays as
    sliders and pickers for the trend, minimum caseload, centres, population variant and
    horizon, with the fan chart, viability table and tornado chart they redraw.
    """
    from hna.explorer import explore as _explore

    return _explore(service, footprint, **kwargs)

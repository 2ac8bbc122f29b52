"""hna: health needs assessment toolkit for NHS specialised services."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hna")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "data_vintages"]


def data_vintages() -> dict:
    """Provenance of the bundled data: publisher, licence, datasets, vintages and checksums."""
    import json
    from importlib import resources

    return json.loads((resources.files("hna") / "data" / "vintages.json").read_text())

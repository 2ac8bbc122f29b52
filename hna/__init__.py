"""hna: health needs assessment toolkit for NHS specialised services."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hna")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

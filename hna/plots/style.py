"""Shared figure conventions: A4-readable sizes, a colourblind-safe palette, source notes."""

from __future__ import annotations

import textwrap
import warnings

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, MaxNLocator

from hna import formatting as fmt

__all__ = ["new_figure", "add_source", "show", "wrap", "count_axis", "PALETTE", "A4_WIDTH"]

#: Size of the source note (points) and its line height.
_SOURCE_PT = 7
_LINE = 1.3

#: Usable width of an A4 page with 2 cm margins, in inches.
A4_WIDTH = 6.7
#: Okabe-Ito colourblind-safe palette.
PALETTE = {
    "female": "#CC79A7", "male": "#0072B2", "persons": "#333333",
    "fan": "#0072B2", "threshold": "#D55E00", "accent": "#009E73", "grey": "#999999",
}


def new_figure(height: float = 4.2, width: float = A4_WIDTH, **kwargs):
    """A figure sized for an A4 page (default 6.7 x 4.2 inches) with readable fonts."""
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 11, "axes.labelsize": 9,
                         "legend.fontsize": 8, "axes.spines.top": False,
                         "axes.spines.right": False})
    return plt.subplots(figsize=(width, height), **kwargs)


def wrap(text: str, width: int = 60) -> str:
    """Wrap a title or axis label to lines of at most ``width`` characters."""
    return "\n".join(textwrap.fill(part, width) for part in str(text).split("\n"))


def add_source(fig, text: str) -> None:
    """Write a source note at the bottom left and lay the figure out around it.

    Call it last: the note is wrapped to the figure's width and the axes, labels, titles and
    legends are fitted (``tight_layout``) into the space above it, so no label is printed over
    the note and nothing falls outside the figure.
    """
    width_in, height_in = fig.get_size_inches()
    chars = max(40, int(width_in * 72 / (_SOURCE_PT * 0.55)))
    note = textwrap.fill(f"Source: {text}", chars)
    lines = note.count("\n") + 1
    fig.text(0.01, 0.005, note, fontsize=_SOURCE_PT, color="#555555", ha="left", va="bottom")
    bottom = (lines * _SOURCE_PT * _LINE + 6) / (height_in * 72)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        fig.tight_layout(rect=(0, bottom, 1, 1), pad=0.6)


def show(fig) -> None:
    """Display a figure in a notebook (or report) once, then close it to free memory."""
    try:
        from IPython.display import display

        display(fig)
    finally:
        plt.close(fig)


def _count_tick(value: float, _pos: object = None) -> str:
    """A tick label of counts: ``3,200`` (thousands separators), ``2.5`` between whole numbers."""
    return fmt.fmt_count(value) if float(value).is_integer() else fmt.fmt_number(value, 1)


def count_axis(axis, nbins: int = 6) -> None:
    """Counts on ``axis`` (``ax.xaxis`` or ``ax.yaxis``): at most ``nbins`` ticks, separators.

    Few enough ticks that labels with thousands separators never run into each other.
    """
    axis.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(_count_tick))

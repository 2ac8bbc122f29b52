"""Shared figure conventions: A4-readable sizes, a colourblind-safe palette, source notes."""

from __future__ import annotations

import matplotlib.pyplot as plt

__all__ = ["new_figure", "add_source", "show", "PALETTE", "A4_WIDTH"]

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


def add_source(fig, text: str) -> None:
    """Write a source note at the bottom left of the figure."""
    fig.text(0.01, 0.005, f"Source: {text}", fontsize=7, color="#555555", ha="left", va="bottom",
             wrap=True)
    fig.subplots_adjust(bottom=max(fig.subplotpars.bottom, 0.16))


def show(fig) -> None:
    """Display a figure in a notebook (or report) once, then close it to free memory."""
    try:
        from IPython.display import display

        display(fig)
    finally:
        plt.close(fig)

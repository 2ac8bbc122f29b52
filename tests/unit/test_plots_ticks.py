"""Count axes: tick labels with thousands separators never run into each other."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from hna import plots  # noqa: E402


def _tick_boxes(axis):
    fig = axis.axes.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    lo, hi = sorted(axis.get_view_interval())
    return [(t.get_text(), t.get_window_extent(renderer)) for t, loc in
            zip(axis.get_ticklabels(), axis.get_majorticklocs(), strict=True)
            if t.get_text() and lo <= loc <= hi]


def _assert_apart(boxes):
    for (a, ba), (b, bb) in zip(boxes, boxes[1:], strict=False):
        assert not ba.overlaps(bb), f"tick labels {a!r} and {b!r} overlap"


@pytest.mark.parametrize("low,high", [(32_000.0, 53_000.0), (2_900.0, 4_200.0),
                                      (150_000.0, 420_000.0)])
def test_tornado_count_ticks_do_not_overlap(low, high):
    span = high - low
    t = pd.DataFrame({"label": ["Trend", "Death rates", "Level", "Poisson"],
                      "low": [low, low + 0.3 * span, low + 0.4 * span, low + 0.45 * span],
                      "high": [high, low + 0.6 * span, low + 0.55 * span, low + 0.5 * span],
                      "share": [0.8, 0.13, 0.05, 0.02]})
    t["swing"] = t["high"] - t["low"]
    t.attrs["central"] = low + 0.5 * span
    fig = plots.tornado(t, title="What drives 2040", xlabel="Adults in 2040")
    boxes = _tick_boxes(fig.axes[0].xaxis)
    assert len(boxes) >= 3
    assert all("," in text for text, _ in boxes)  # thousands separators
    _assert_apart(boxes)
    plt.close(fig)


def test_fan_chart_count_axis_has_separators():
    years = list(range(2025, 2041))
    mean = [27_000 + 900 * i for i in range(len(years))]
    s = pd.DataFrame({"year": years, "mean": mean, "expected": mean,
                      "q0.025": [m * 0.85 for m in mean], "q0.975": [m * 1.3 for m in mean],
                      "q0.1": [m * 0.9 for m in mean], "q0.9": [m * 1.2 for m in mean]})
    fig = plots.fan_chart(s, title="Adults on in-centre haemodialysis, England")
    boxes = _tick_boxes(fig.axes[0].yaxis)
    assert all("," in text for text, _ in boxes)
    plt.close(fig)

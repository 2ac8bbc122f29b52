"""Population and demand figures: they draw, carry a title and a source note."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import pandas as pd  # noqa: E402

from hna import plots  # noqa: E402
from hna.population import project  # noqa: E402


def _texts(fig) -> str:
    return " ".join(t.get_text() for t in fig.texts)


def test_pyramid_has_title_and_source(default_population):
    pop = project(default_population[default_population.area_code == "E06000001"], [2020, 2040])
    fig = plots.population_pyramid(pop, 2020, compare_year=2040, title="Hartlepool")
    assert fig.axes[0].get_title() == "Hartlepool"
    assert "Source:" in _texts(fig)
    assert len(fig.axes[0].get_yticklabels()) == 19


def test_growth_by_age_bars_match_change(default_population):
    pop = project(default_population, [2020, 2040])
    fig = plots.growth_by_age(pop, 2020, 2040)
    heights = [p.get_height() for p in fig.axes[0].patches]
    t = pop.groupby(["year", "age_band"], observed=False).population.sum().unstack(0)
    assert heights[-1] == (t[2040] / t[2020] - 1).iloc[-1] * 100


def test_fan_chart_draws_intervals_and_thresholds():
    s = pd.DataFrame({"year": [2025, 2026], "mean": [10, 11], "q0.025": [8, 9], "q0.975": [12, 13],
                      "q0.1": [9, 10], "q0.9": [11, 12]})
    fig = plots.fan_chart(s, thresholds=[(100, "2 centres x 50")])
    ax = fig.axes[0]
    assert len(ax.collections) == 2
    assert any("2 centres" in t.get_text() for t in ax.texts)

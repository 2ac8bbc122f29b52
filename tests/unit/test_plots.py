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
    assert any("2 centres" in t.get_text() for t in ax.get_legend().get_texts())


def test_fan_chart_axis_shows_the_interval_not_zero():
    s = pd.DataFrame({"year": [2025, 2030], "mean": [24000, 27000], "q0.025": [23000, 25000],
                      "q0.975": [25000, 29000]})
    fig = plots.fan_chart(s, bands=(("q0.025", "q0.975"),), thresholds=[(24000, "500 x 48")])
    low, high = fig.axes[0].get_ylim()
    assert low > 20000
    assert high < 31000


# -- layout: no two text artists overlap and nothing falls outside the figure -----------------

def _visible_texts(fig):
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    hidden = set()  # tick labels outside the view limits are not drawn
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - 1e-9 * abs(hi - lo) <= tick.get_loc() <= hi + 1e-9 * abs(hi - lo):
                    hidden.update({id(tick.label1), id(tick.label2)})
    out = []
    for t in fig.findobj(Text):
        if (t.get_visible() and t.get_text().strip() and id(t) not in hidden
                and t.get_figure() is not None):
            out.append((t, t.get_window_extent(renderer)))
    return out


def _same_axis_ticks(a, b) -> bool:
    """Tick labels of one axis are laid out by matplotlib against each other."""
    pa, pb = a.axes, b.axes
    if pa is None or pa is not pb:
        return False
    ticks = {id(x) for axis in (pa.xaxis, pa.yaxis) for x in axis.get_ticklabels()}
    return id(a) in ticks and id(b) in ticks


def assert_clean_layout(fig):
    texts = _visible_texts(fig)
    page = fig.bbox
    for t, box in texts:
        assert (box.x0 >= page.x0 - 1 and box.y0 >= page.y0 - 1 and box.x1 <= page.x1 + 1
                and box.y1 <= page.y1 + 1), f"outside the figure: {t.get_text()!r}"
    for i, (a, ba) in enumerate(texts):
        for b, bb in texts[i + 1:]:
            if _same_axis_ticks(a, b):
                continue
            assert not ba.overlaps(bb), f"overlap: {a.get_text()!r} and {b.get_text()!r}"


LONG = "Adult renal replacement therapy (in-centre haemodialysis): projected patients, North East and Yorkshire"


def _summary():
    years = list(range(2025, 2041))
    mean = [24000 + 800 * i for i in range(len(years))]
    return pd.DataFrame({"year": years, "mean": mean, "expected": mean,
                         "q0.025": [m * 0.9 for m in mean], "q0.975": [m * 1.1 for m in mean],
                         "q0.1": [m * 0.95 for m in mean], "q0.9": [m * 1.05 for m in mean]})


def test_layout_fan_chart():
    fig = plots.fan_chart(_summary(), mean="expected", title=LONG,
                          ylabel="In-centre haemodialysis patients (prevalent, 31 December)",
                          thresholds=[(26000, "540 x 48 (critical mass)")],
                          source="hna 0.1; 1,000 Monte Carlo draws, seed 20261124")
    assert_clean_layout(fig)


def test_layout_band_rates():
    from hna.bands import AGE_BANDS

    rates = pd.DataFrame([{"sex": s, "age_band": b, "rate": 1e-5 * (i + 1)}
                          for s in ("female", "male") for i, b in enumerate(AGE_BANDS)])
    rates["age_band"] = pd.Categorical(rates["age_band"], AGE_BANDS, ordered=True)
    fig = plots.band_rates(rates, title=LONG + ": rates by age and sex",
                           ylabel="Adult renal replacement therapy per 100,000 population",
                           source="Adult renal replacement therapy service parameters (see Sources below)")
    assert_clean_layout(fig)


def test_layout_population_pyramid(default_population):
    pop = project(default_population[default_population.area_code == "E06000001"], [2020, 2040])
    fig = plots.population_pyramid(pop, 2020, compare_year=2040, title="Population of " + LONG)
    assert_clean_layout(fig)


def test_layout_growth_by_age(default_population):
    pop = project(default_population[default_population.area_code == "E06000001"], [2020, 2040])
    fig = plots.growth_by_age(pop, 2020, 2040, title="Projected population change by age, " + LONG)
    assert_clean_layout(fig)


def test_layout_waterfall():
    d = pd.DataFrame({"step": [0, 1, 2, 3, 4], "kind": ["total", "change", "change", "change", "total"],
                      "label": ["Spend 2025", "Population growth", "Non-demographic growth", "QIPP savings",
                                "Spend 2030"],
                      "value": [100.0, 8.0, 5.0, -6.0, 107.0], "running_total": [100.0, 108.0, 113.0, 107.0, 107.0]})
    fig = plots.waterfall(d, title="Change in spend, " + LONG, ylabel="GBP million (2025/26 prices)")
    assert_clean_layout(fig)


def test_layout_checker_detects_an_overlap():
    import matplotlib.pyplot as plt
    import pytest

    fig, ax = plt.subplots()
    ax.text(0.5, 0.5, "first label")
    ax.text(0.5, 0.5, "second label")
    with pytest.raises(AssertionError, match="overlap"):
        assert_clean_layout(fig)
    plt.close(fig)


def test_every_plots_module_is_re_exported():
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(plots.__path__):
        names = importlib.import_module(f"hna.plots.{mod.name}").__all__
        assert set(names) <= set(plots.__all__), f"hna/plots/__init__.py misses {mod.name}"


def _scenario_summaries():
    base = _summary().assign(mean=lambda d: d["mean"] / 8)  # ~3,000-4,500 a year
    for c in ("q0.025", "q0.975"):
        base[c] = base[c] / 8
    trend = base.assign(**{c: base[c] * 1.04 for c in ("mean", "q0.025", "q0.975")})
    return {"Base case": base,
            "Soft tissue sarcoma incidence following the Scottish registry drift 1994-2018": trend}


def test_layout_scenario_fans_with_the_reference_line_drawn():
    fig = plots.scenario_fans(_scenario_summaries(), title=LONG, ylabel=LONG, minimum=2400,
                              minimum_label="Critical mass x 24 centres")
    assert_clean_layout(fig)
    ax = fig.axes[0]
    low, high = ax.get_ylim()
    assert 1500 < low < 2400 < high < 6500  # the line is shown, the axis is not forced to 0
    assert any("24 centres (2,400)" in " ".join(t.get_text().split())
               for t in ax.get_legend().get_texts())


def test_scenario_fans_state_a_far_reference_line_instead_of_stretching_the_axis():
    fig = plots.scenario_fans(_scenario_summaries(), minimum=100, minimum_label="Critical mass")
    assert_clean_layout(fig)
    ax = fig.axes[0]
    low, _ = ax.get_ylim()
    assert low > 2000  # the intervals fill the axis
    assert not [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert "critical mass (100 a year) lies far below" in " ".join(_texts(fig).split())


def test_scenario_fans_axis_never_goes_below_zero_for_counts():
    s = pd.DataFrame({"year": [2025, 2030], "mean": [2.0, 3.0], "q0.025": [0.0, 0.0],
                      "q0.975": [6.0, 8.0]})
    fig = plots.scenario_fans({"Base case": s})
    assert fig.axes[0].get_ylim()[0] == 0


def test_layout_tornado():
    t = pd.DataFrame({"label": ["Trend in the rates", "Age-sex rates (registry counts)",
                                "Level of the rates", "Chance variation in cases (Poisson)"],
                      "low": [2900.0, 3380.0, 3400.0, 3420.0], "high": [4100.0, 3700.0, 3680.0,
                                                                        3650.0],
                      "share": [0.84, 0.07, 0.05, 0.004]})
    t["swing"] = t["high"] - t["low"]
    t.attrs["central"] = 3540.0
    fig = plots.tornado(t, title=LONG, xlabel="New soft tissue sarcoma cases in 2040")
    assert_clean_layout(fig)
    labels = [" ".join(x.get_text().split()) for x in fig.axes[0].get_yticklabels()]
    assert "Chance variation in cases (Poisson) (<1%)" in labels

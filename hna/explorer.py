"""An interactive explorer for consultants in JupyterLab: ``hna.explore(service, footprint)``.

Sliders and pickers for the scenario parameters (annual trend and its uncertainty, minimum
caseload, number of centres, population projection variant, horizon) redraw the fan chart, the
viability table (cases allocated between centres, :func:`hna.thresholds.viability`) and the
tornado chart (:func:`hna.sensitivity.sensitivity`). The populations and the age-sex exposure
arrays are computed once (:class:`hna.incidence.rate_draws.RateModel`); a change only re-samples the
parameters and the counts of one footprint, so each answer comes in well under a second. The
"Save scenario" button writes the current settings as a scenario YAML
(:mod:`hna.scenarios`), with the rationale typed in the box as its assumption.

Everything is seeded: the same settings give the same picture.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from hna.distributions import Distribution
from hna.errors import HnaError, ParameterError

__all__ = ["Explorer", "explore"]

_BOTH = "both (50/50)"


def _base_model(service: Any, footprint: Any, years: Any, seed: int) -> tuple[Any, Any]:
    """The footprint's RateModel with both population variants projected, and the result."""
    from hna.demand import service_demand
    from hna.scenarios import scenario
    from hna.services import load_service

    svc = load_service(service)
    if svc.model is not None:
        raise ParameterError("the explorer handles rate services; model services (dialysis) "
                             "have their own notebook", field="service", value=svc.id)
    both = scenario("explorer_base", "explorer: both population variants", svc.id,
                    assumption="explorer set-up", uncertainty={"population_variant": {
                        "distribution": "choice", "values": ["npp2020", "npp2018"],
                        "assumption": "explorer set-up"}})
    r = service_demand(svc, footprint, years=years, draws=1, seed=seed, scenario=both)
    if len(r.areas) != 1:
        raise ParameterError("explore one footprint at a time", field="footprint",
                             value=footprint)
    return svc, r


class Explorer:
    """The widgets, the cached model and the current answer (see :func:`explore`).

    Attributes:
        controls: name -> widget (``trend``, ``trend_sd``, ``minimum``, ``centres``,
            ``variant``, ``horizon``, ``rationale``, ``path``, ``save``).
        summary: the current fan-chart table (``year, mean, q0.025 ... q0.975``).
        viability: the current viability table.
        sensitivity: the current one-at-a-time table (horizon year).
        last_seconds: how long the last redraw took.
    """

    def __init__(self, service: Any, footprint: Any, *, years: Any = "2025:2040",
                 draws: int = 1000, seed: int = 1) -> None:
        """Build the cached model and the widgets, and draw the first answer."""
        import ipywidgets as w

        self.svc, r = _base_model(service, footprint, years, seed)
        self.area = r.areas[0]
        self.name = str(r.summary["name"].iloc[0])
        self.draws, self.seed = int(draws), int(seed)
        base = r.rate_model
        self.anchor = base.anchor if base.anchor is not None else base.years[0]
        self.base = replace(base, anchor=self.anchor)
        self.central_trend = float(base.central.get("annual_change_percent", 0.0))
        sd0 = self._trend_sd(base)
        m0 = float(self.svc.critical_mass.minimum_per_centre)
        ys = base.years
        self.controls: dict[str, Any] = {
            "trend": w.FloatSlider(value=self.central_trend, min=-5.0, max=5.0, step=0.1,
                                   description=f"Trend %/yr from {self.anchor}",
                                   style={"description_width": "initial"},
                                   continuous_update=False),
            "trend_sd": w.FloatSlider(value=sd0, min=0.0, max=3.0, step=0.1,
                                      description="Trend SD", continuous_update=False),
            "minimum": w.FloatSlider(value=m0, min=max(1.0, m0 / 4), max=m0 * 3,
                                     step=max(1.0, round(m0 / 50)),
                                     description="Minimum", continuous_update=False),
            "centres": w.IntSlider(value=0, min=0, max=20, description="Centres (0=auto)",
                                   continuous_update=False),
            "variant": w.Dropdown(options=["npp2020", "npp2018", _BOTH], value="npp2020",
                                  description="Population"),
            "horizon": w.IntSlider(value=ys[-1], min=ys[0], max=ys[-1], description="Horizon",
                                   continuous_update=False),
            "rationale": w.Text(value="", placeholder="why these values (required to save)",
                                description="Rationale"),
            "path": w.Text(value=f"{self.svc.id}_explored.yaml", description="Save as"),
            "save": w.Button(description="Save scenario", button_style="primary"),
        }
        self.out = {k: w.Output() for k in ("fan", "table", "tornado", "message")}
        for k in ("trend", "trend_sd", "minimum", "centres", "variant", "horizon"):
            self.controls[k].observe(lambda _change: self.update(), names="value")
        self.controls["save"].on_click(lambda _b: self.save())
        self.summary = self.viability = self.sensitivity = None
        self.figures: dict[str, Any] = {}
        self.last_seconds = 0.0
        self.update()

    @staticmethod
    def _trend_sd(model: Any) -> float:
        d = model.dists.get("annual_change_percent")
        if d is None:
            return 0.0
        return float(d.frozen(model.central.get("annual_change_percent")).std())

    # ------------------------------------------------------------------ model for settings
    def model(self) -> Any:
        """The RateModel for the current settings (exposure arrays shared with the cache)."""
        c = self.controls
        dists = {k: v for k, v in self.base.dists.items()
                 if k not in ("annual_change_percent", "population_variant")}
        central = dict(self.base.central)
        central["annual_change_percent"] = float(c["trend"].value)
        if c["trend_sd"].value > 0:
            dists["annual_change_percent"] = Distribution(
                distribution="normal", mean=float(c["trend"].value),
                sd=float(c["trend_sd"].value), assumption="explorer setting")
        if c["variant"].value == _BOTH:
            dists["population_variant"] = Distribution(
                distribution="choice", values=["npp2020", "npp2018"], weights=[0.5, 0.5],
                assumption="explorer setting")
            central["population_variant"] = "npp2020"
        else:
            central["population_variant"] = c["variant"].value
        return replace(self.base, dists=dists, central=central)

    # ------------------------------------------------------------------ redraw
    def update(self) -> None:
        """Recompute for the current settings and redraw the three outputs."""
        from hna.incidence.rate_draws import simulate_rate_model
        from hna.sensitivity import sensitivity
        from hna.thresholds import viability
        from hna.uncertainty import DEFAULT_QUANTILES, quantile_columns, summarise_array

        t0 = time.perf_counter()
        c = self.controls
        model = self.model()
        horizon = int(c["horizon"].value)
        keep = [i for i, y in enumerate(model.years) if y <= horizon]
        years = [model.years[i] for i in keep]
        counts = simulate_rate_model(model, self.draws, self.seed)["counts"][0][keep]
        stats = summarise_array(counts, DEFAULT_QUANTILES)
        summary = pd.DataFrame(stats, columns=["mean", *quantile_columns(DEFAULT_QUANTILES)])
        summary.insert(0, "year", years)
        summary["expected"] = model.expected()[0][keep]
        k = int(c["centres"].value) or None
        self.summary = summary
        self.viability = viability(counts, float(c["minimum"].value), k, seed=self.seed,
                                   years=years)
        self.sensitivity = sensitivity(model, horizon, draws=self.draws, seed=self.seed)
        self._draw()
        self.last_seconds = time.perf_counter() - t0
        with self.out["message"]:
            self.out["message"].clear_output()
            print(f"updated in {self.last_seconds:.2f} s")

    def _draw(self) -> None:
        import matplotlib.pyplot as plt

        from hna import plots

        c = self.controls
        m = float(c["minimum"].value)
        k = int(self.viability["n_centres"].iloc[-1])
        unit = self.svc.measure
        for fig in self.figures.values():
            plt.close(fig)
        self.figures = {
            "fan": plots.fan_chart(self.summary, title=f"{self.svc.name}: {unit}, {self.name}",
                                   ylabel=f"{unit.capitalize()} per year",
                                   thresholds=[(m * k, f"{k} x minimum {m:g}")]),
            "tornado": plots.tornado(self.sensitivity, title="What drives the horizon-year "
                                     f"uncertainty ({int(c['horizon'].value)})",
                                     xlabel=f"{unit.capitalize()} in {int(c['horizon'].value)}"),
        }
        self._show("fan", self.figures["fan"])
        self._show("tornado", self.figures["tornado"])
        with self.out["table"]:
            self.out["table"].clear_output(wait=True)
            from IPython.display import HTML, display

            display(HTML(self.viability_table().to_html(index=False)))

    def _show(self, key: str, fig: Any) -> None:
        from IPython.display import display

        with self.out[key]:
            self.out[key].clear_output(wait=True)
            display(fig)

    def viability_table(self) -> pd.DataFrame:
        """The viability table for people: year, mean, P(every centre viable), smallest."""
        v = self.viability
        out = pd.DataFrame({
            "year": v["year"], "mean demand": v["mean"].round(1),
            "centres": v["n_centres"],
            "P(every centre >= minimum)": v["p_all_viable"].map(lambda p: f"{p:.2f}"),
            "expected smallest caseload": v["expected_smallest_caseload"].round(1),
            "arithmetic floor(mean / minimum)": v["centres_on_mean"],
        })
        if "centres_sustainable_at_level" in v:
            out["centres sustainable with 80% probability"] = v["centres_sustainable_at_level"]
        return out

    # ------------------------------------------------------------------ save
    def scenario(self, scenario_id: str | None = None) -> Any:
        """The current settings as a :class:`hna.scenarios.Scenario`."""
        from hna.scenarios import scenario

        c = self.controls
        why = c["rationale"].value.strip()
        if not why:
            raise ParameterError("say why these values before saving (the rationale box)",
                                 field="rationale", hint="It is stored as the assumption")
        sid = scenario_id or Path(c["path"].value).stem
        changes: dict[str, Any] = {}
        if c["trend"].value != self.central_trend or c["trend_sd"].value > 0:
            changes["projection"] = {"method": "trend",
                                     "annual_change_percent": float(c["trend"].value),
                                     "base_year": int(self.anchor)}
        if c["minimum"].value != self.svc.critical_mass.minimum_per_centre:
            changes["critical_mass.minimum_per_centre"] = float(c["minimum"].value)
        unc: dict[str, Any] = {}
        if c["trend_sd"].value > 0:
            unc["annual_change_percent"] = {"distribution": "normal",
                                            "sd": float(c["trend_sd"].value),
                                            "assumption": why}
        variants = (["npp2020", "npp2018"] if c["variant"].value == _BOTH
                    else [c["variant"].value])
        unc["population_variant"] = {"distribution": "choice", "values": variants,
                                     "assumption": why}
        sc = scenario(sid, f"{self.svc.name}: explored settings", self.svc.id, changes,
                      assumption=why, uncertainty=unc)
        k = int(c["centres"].value)
        return sc.model_copy(update={"n_centres": k or None,
                                     "description": f"Saved from hna.explore for {self.name}"})

    def save(self, path: str | Path | None = None) -> Path | None:
        """Write the current settings as a scenario YAML (path from the box by default)."""
        target = Path(path or self.controls["path"].value)
        with self.out["message"]:
            self.out["message"].clear_output()
            try:
                sc = self.scenario(target.stem)
                sc.to_yaml(target)
                from hna.scenarios import apply_scenario

                apply_scenario(self.svc, target)  # the saved file must validate
            except HnaError as exc:
                print(f"not saved: {exc}")
                return None
            print(f"saved {target}")
        return target

    # ------------------------------------------------------------------ display
    def widget(self) -> Any:
        """The whole explorer as one ipywidgets box."""
        import ipywidgets as w

        c = self.controls
        left = w.VBox([c["trend"], c["trend_sd"], c["minimum"], c["centres"], c["variant"],
                       c["horizon"], c["rationale"], c["path"], c["save"],
                       self.out["message"]])
        return w.VBox([w.HBox([left, self.out["fan"]]),
                       w.HBox([self.out["table"], self.out["tornado"]])])

    def _ipython_display_(self) -> None:  # pragma: no cover - notebook display
        from IPython.display import display

        display(self.widget())


def explore(service: Any = "soft_tissue_sarcoma", footprint: Any = "E40000006", *,
            years: Any = "2025:2040", draws: int = 1000, seed: int = 1) -> Explorer:
    """Open the explorer for a rate service in one footprint (display the returned object).

    Args:
        service: service id, path or Service (rate services).
        footprint: one footprint (code, name or Footprint).
        years: the years the sliders can reach.
        draws: Monte Carlo draws per redraw.
        seed: the seed (the same settings give the same picture).
    """
    return Explorer(service, footprint, years=years, draws=draws, seed=seed)




"""`hna project dialysis`: stations on the upper interval, parameter uncertainty, sensitivity."""

from __future__ import annotations

import json
import math

from typer.testing import CliRunner

from hna.cli import app

runner = CliRunner()


def _json(*extra):
    res = runner.invoke(app.typer_app, ["project", "dialysis", "-f", "E40000006", "--years", "2025:2026",
                              "--draws", "200", "--format", "json", *extra])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_json_has_stations_for_the_upper_interval_and_the_occupancy():
    rows = _json()
    r = rows[0]
    # stations = ceil(patients / (6 per station x 85% occupancy))
    assert r["station_occupancy"] == 0.85
    assert r["stations_on_upper"] == math.ceil(r["q0.975"] / (6 * 0.85) - 1e-9)
    assert r["stations_on_mean"] == math.ceil(r["mean_patients"] / (6 * 0.85) - 1e-9)
    assert r["stations_on_upper"] > r["stations_on_mean"]
    assert "parameter uncertainty" in r["interval_includes"]


def test_scenario_changes_the_dialysis_projection():
    base = _json()
    peer = _json("--scenario", "dialysis_peer_arrivals")
    assert peer[-1]["expected_patients"] > base[-1]["expected_patients"]
    assert peer[-1]["scenario"] == "dialysis_peer_arrivals"

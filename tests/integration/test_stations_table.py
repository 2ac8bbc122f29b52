"""The dialysis stations table shows the same patient numbers as the rest of the report."""

from __future__ import annotations

from hna.demand import service_demand
from hna.narrative.service import stations_table


def test_stations_table_uses_the_expected_patients_of_the_report():
    r = service_demand("dialysis", "E40000006", years=[2025, 2026], draws=20, seed=1)
    t = stations_table(r)
    h = r.headline()
    assert t["ICHD patients (expected)"].tolist() == h["expected"].round(0).astype(int).tolist()
    # 6 patients a station at 85% occupancy: stations = ceil(patients / (6 x 0.85))
    assert (t["Stations needed (expected patients)"]
            >= h["expected"].to_numpy() / (6 * 0.85) - 1e-9).all()

"""describe_uncertainty cites the service file's sources (publisher, title, year), never ids."""

from __future__ import annotations

import re

from hna.demand import service_demand
from hna.services import load_service


def test_interval_lines_cite_sources_not_ids():
    svc = load_service("soft_tissue_sarcoma")
    r = service_demand("soft_tissue_sarcoma", "E40000006", years=[2025, 2030], draws=20, seed=1)
    lines = r.meta["interval_includes"]
    names = [x.split(":")[0] for x in lines]
    assert names == ["Poisson", "rates", "rate_level", "annual_change_percent"]  # machine-readable
    text = " ".join(lines)
    for s in svc.sources:
        assert not re.search(rf"\b{re.escape(s.id)}\b", text), s.id
    ncin = svc.source(svc.rates.source)
    trend = svc.source(svc.uncertainty["annual_change_percent"].source)
    assert f"source: {ncin.publisher}, {ncin.title} ({ncin.year})" in lines[1]
    assert f"source: {ncin.publisher}, {ncin.title} ({ncin.year})" in lines[2]
    assert f"source: {trend.publisher}, {trend.title} ({trend.year})" in lines[3]
    assert "as if from 2,090 cases" in lines[1]

"""Low-quality services stay marked low in every output that shows them (issue 16)."""

from __future__ import annotations

import pytest

from hna import narrative
from hna.demand import service_demand
from hna.services import catalogue
from hna.thresholds import assess

LOW = ["severe_burns", "haemophilia"]


def test_catalogue_marks_the_low_services():
    cat = catalogue().set_index("id")["quality"]
    assert [cat[s] for s in LOW] == ["low", "low"]


@pytest.mark.parametrize("service", LOW)
def test_assessment_headline_verdict_and_summary_box_say_low(service):
    r = service_demand(service, "E40000006", years=[2025], draws=0)
    nat = service_demand(service, "E92000001", years=[2025], draws=0)
    a = assess(r, national=nat)
    assert a.headline["quality"] == "low"
    assert "quality: low" in a.verdict.lower()
    assert "parameter quality: low" in str(narrative.summary_box(a, r)).lower()

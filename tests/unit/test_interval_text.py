"""hna.narrative.service.interval_lines / intervals_text: what the intervals include, in words."""

from __future__ import annotations

from hna import narrative

INCLUDES = [
    "Poisson: year-to-year chance variation in the number of cases, given the rates",
    "rate_level: factor on every rate, gamma (as from 2,740 cases (CV 1.9%)); source: "
    "National Cancer Intelligence Network, Bone and Soft Tissue Sarcomas (2013)",
    "annual_change_percent: annual change of the rates, per cent, normal (mean 0, sd 1); "
    "assumption: unknown in sign and size",
    "parameter uncertainty: transplant_rate, death_rate",
]


def test_input_names_become_their_labels():
    lines = narrative.interval_lines(INCLUDES)
    assert lines[0].startswith("Chance variation in cases (Poisson): year-to-year")
    assert lines[1].startswith("Level of the rates: factor on every rate, gamma")
    assert lines[2].startswith("Trend in the rates: annual change")
    assert lines[3] == "Parameter uncertainty: transplant rate and death rate"  # no snake_case


def test_intervals_text_lists_each_source_with_its_citation():
    text = narrative.intervals_text(INCLUDES)
    assert text.startswith("**Intervals include:**")
    assert text.count("\n- ") == 4
    assert "source: National Cancer Intelligence Network, Bone and Soft Tissue Sarcomas (2013)" in text
    assert "rate_level" not in text and "annual_change_percent" not in text


def test_intervals_text_as_one_paragraph_and_when_there_are_no_draws():
    text = narrative.intervals_text(INCLUDES[:2], bullets=False)
    assert text == ("Intervals include: Chance variation in cases (Poisson): year-to-year chance "
                    "variation in the number of cases, given the rates. Level of the rates: factor "
                    "on every rate, gamma (as from 2,740 cases (CV 1.9%)); source: National Cancer "
                    "Intelligence Network, Bone and Soft Tissue Sarcomas (2013).")
    assert "no intervals" in narrative.intervals_text([])


def test_assumptions_name_scenarios_and_uncertain_inputs_in_words():
    from hna.narrative.service import assumptions_table
    from hna.scenarios import load_scenario
    from hna.services import load_service

    text = " ".join(assumptions_table(load_service("soft_tissue_sarcoma"))["Value"])
    assert "uncertainty.rate" not in text and "uncertainty.annual" not in text
    assert "the uncertainty in the level of the rates" in text
    assert "sts registry trend" not in text and "sts_registry_trend" not in text
    assert f"'{load_scenario('sts_registry_trend').name}'" in text


def test_model_service_parameters_are_named_by_their_labels():
    lines = narrative.interval_lines(["Poisson variation of patient numbers",
                                      "parameter uncertainty: incidence_change_percent, "
                                      "mortality_factor"])
    assert lines == ["Poisson variation of patient numbers",
                     "Parameter uncertainty: trend in RRT incidence and death rates on RRT"]


def test_verdict_tier_ids_are_shown_by_their_labels():
    from hna.narrative.service import _plain

    text = _plain("tier emscg_2009: regional; dh_2003: lscg; stp_2016: stp_or_multi_stp.")
    assert text == ("tier East Midlands SCG (2009): Regional (East Midlands SCG); Department of "
                    "Health (2003): Local specialised commissioning group (less rare conditions); "
                    "NHS England STP footprints (2016): STP or multi-STP.")

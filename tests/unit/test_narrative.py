import urllib.parse
from types import SimpleNamespace

import pandas as pd

from hna import narrative
from hna.narrative import overview as nov


def _csv_of(html: str) -> str:
    href = html.split("href='", 1)[1].split("'", 1)[0]
    return urllib.parse.unquote(href.split(",", 1)[1])


def test_table_humanises_headers_and_formats_by_policy():
    df = pd.DataFrame({"year": [2025, 2030], "footprint_share": [0.1234, 0.2],
                       "cases": [9116623, 24470], "P(viable)": [0.999, 0.004],
                       "designated": [True, False], "years": [[2025, 2030], [2031]]})
    t = narrative.table(df, caption="Demo")
    assert list(t.shown.columns) == ["Year", "Footprint share", "Cases", "P(viable)", "Designated",
                                     "Years"]
    assert t.shown.iloc[0].tolist() == ["2025", "0.1", "9,116,623", ">99%", "Yes", "2025 and 2030"]
    assert t.shown.iloc[1].tolist() == ["2030", "0.2", "24,470", "<1%", "No", "2031"]


def test_table_html_has_caption_escaped_cells_and_no_index():
    body = narrative.table(pd.DataFrame({"Name": ["<b>x</b>"]}, index=[7]), caption="A & B")._repr_html_()
    assert "<caption>A &amp; B</caption>" in body
    assert "&lt;b&gt;x&lt;/b&gt;" in body
    assert ">7<" not in body


def test_table_csv_link_carries_the_shown_rows():
    t = narrative.table(pd.DataFrame({"Footprint": ["South West"], "Population": [5806546.03]}),
                        caption="Populations")
    body = t._repr_html_()
    assert "download='populations.csv'" in body and "Download CSV" in body
    assert _csv_of(body) == "Footprint,Population\nSouth West,\"5,806,546\"\n"


def test_table_without_csv_has_no_link():
    assert "Download CSV" not in narrative.table(pd.DataFrame({"A": [1]}), csv=False)._repr_html_()


def test_table_format_override():
    t = narrative.table(pd.DataFrame({"Mean": [461.975]}), formats={"Mean": "count"})
    assert t.shown.iloc[0, 0] == "462"


def test_provenance_uses_the_one_schema():
    from hna.provenance import build_meta

    meta = build_meta(service=None, footprint={"code": "E40000006", "name": "South West"}, seed=3,
                      draws=10, parameter_hash="abc")
    t = narrative.provenance(meta, Run="demo")
    items = dict(zip(t.shown["Item"], t.shown["Value"], strict=True))
    assert items["Footprint"] == "South West (E40000006)"
    assert items["Seed"] == "3" and items["Run"] == "demo"


def _overview():
    rows = []
    for code, name, d in (("E92000001", "England", 100.0), ("E40000003", "London", 60.4),
                          ("E40000006", "South West", 39.6)):
        rows.append({"service": "s", "service_name": "Service S", "area_code": code, "name": name,
                     "population": d * 1000.4, "demand_now": d, "demand_horizon": d * 1.1,
                     "centres_now": int(d // 50), "centres_horizon": int(d * 1.1 // 50),
                     "minimum_per_centre": 50.0, "planning_population": 500000.2, "tier": "regional",
                     "fits": d * 1.1 >= 50})
    return pd.DataFrame(rows)


def test_overview_keeps_england_apart_and_sums_the_regions_as_a_check():
    m = nov.matrix(_overview(), "demand_now")
    assert m["Footprint"].tolist() == ["London", "South West", "Sum of the footprints above (check)",
                                       "England"]
    assert m["Service S"].tolist() == [60, 40, 100, 100]  # England not added to the regions


def test_overview_services_table_uses_england_not_the_sum_of_all_rows():
    t = nov.services_table(_overview())
    assert t["England demand, first year"].tolist() == [100]
    assert t["Footprints that fit"].tolist() == ["1 of 2"]


def test_overview_england_from_a_separate_table_when_absent():
    ov = _overview()
    t = nov.services_table(ov[ov.area_code != "E92000001"], england=ov[ov.area_code == "E92000001"])
    assert t["England demand, first year"].tolist() == [100]


def test_overview_totals_check_agrees():
    t = nov.totals_check(_overview())
    assert t["Agrees"].tolist() == [True] and t["Difference (%)"].tolist() == ["0.00%"]


def test_overview_headline_names_who_fits():
    text = nov.headline(_overview(), 2040)
    assert "1 of 2 footprints fit" in text and "too small: South West" in text
    assert "England" not in text.split("\n", 2)[2]


def test_centres_table_counts_are_whole_and_probabilities_percent():
    by_year = pd.DataFrame({"year": [2025], "mean": [503.6], "expected": [502.8],
                            "centres_on_mean": [5], "caseload_per_centre": [251.8],
                            "p_viable": [0.999]})
    t = narrative.centres_table(SimpleNamespace(by_year=by_year))
    shown = narrative.table(t).shown.iloc[0].to_dict()
    assert shown["Expected demand"] == "503" and shown["P(all planned centres viable)"] == ">99%"
    assert shown["Year"] == "2025"


def test_carter_table_has_no_true_false_or_snake_case():
    carter = pd.DataFrame({"rule": ["national_ceiling"], "fired": [True],
                           "recommendation": ["commission regionally"], "source": ["F001 para 45"]})
    t = narrative.carter_table(SimpleNamespace(carter=carter))
    assert t.iloc[0].tolist() == ["National ceiling", "Yes", "commission regionally", "F001 para 45"]


def test_table_never_shows_fractional_people():
    t = narrative.table(pd.DataFrame({"population": [9116623.6], "Crude rate per 100,000": [4.567]}))
    assert t.shown.iloc[0].tolist() == ["9,116,624", "4.6"]


def _observed():
    from hna.bands import AGE_BANDS

    rows = []
    for code, k in (("E92000001", 1.0), ("E40000003", 3.0), ("E40000006", 1.0), ("E40000007", 0.01)):
        for b in AGE_BANDS:
            rows.append({"area_code": code, "age_band": b, "cases": round(20 * k),
                         "person_years": 100_000})
    return pd.DataFrame(rows)


def test_dsr_comparison_marks_higher_similar_and_unreliable():
    from hna.narrative.comparison import dsr_comparison

    t = dsr_comparison(_observed(), {"E40000003": "London", "E40000006": "South West"})
    marks = dict(zip(t["Code"], t["Compared with England"], strict=True))
    assert marks == {"E92000001": "England (reference)", "E40000003": "Higher than England",
                     "E40000006": "Similar to England",
                     "E40000007": "Not compared (fewer than 10 events)"}
    # equal band populations: the DSR is the crude rate, 20 per 100,000 in every band
    assert t.loc[t.Code == "E92000001", "DSR per 100,000 (1 d.p.)"].item() == "20.0"


def test_dsr_comparison_needs_england():
    import pytest

    from hna.errors import DataError
    from hna.narrative.comparison import dsr_comparison

    obs = _observed()
    with pytest.raises(DataError):
        dsr_comparison(obs[obs.area_code != "E92000001"])


def test_plain_text_has_no_module_names_paths_or_snake_case():
    from hna.narrative.common import plain

    assert plain("run nationally (hna.prevalence.projection).") == "run nationally."
    assert plain("an adapter in hna.demand") == "an adapter in hna"
    assert plain("cited in shared/data/rates/PROVENANCE.md") == "cited in PROVENANCE.md"
    assert plain("scenario sts_registry_trend at https://x.org/a_b") == \
        "scenario sts registry trend at https://x.org/a_b"


def test_statement_and_table_cells_are_plain():
    t = narrative.table(pd.DataFrame({"Note": ["see `hna.thresholds.assess`"]}))
    assert t.shown.iloc[0, 0] == "see hna"
    assert narrative.statement("(hna.demand) x_y").data == " x y"


def test_observed_counts_are_the_published_ones_and_small_counts_suppressed():
    from hna.services import load_service

    svc = load_service("haemophilia")
    t = narrative.observed_counts(svc)
    assert t.to_dict("records") == [{"Age band": "all ages", "Sex": "persons", "Observed cases": "160"}]
    assert "Person-years" not in t.columns
    small = SimpleNamespace(rates=SimpleNamespace(counts=[SimpleNamespace(age_band="0-4", sex="female", cases=3)]))
    assert narrative.observed_counts(small)["Observed cases"].item() == "fewer than 5"


def test_flags_with_blanks_are_yes_no():
    t = narrative.table(pd.DataFrame({"Test met": [True, "", False, None]}))
    assert t.shown["Test met"].tolist() == ["Yes", "", "No", ""]

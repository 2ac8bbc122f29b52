"""hna.appraisal.appraise_footprint: the footprint-level composition of the appraisal.

Reference values are stated with their source: ONS published populations, the tier bands of
F004/F001 (parameters/tiers.yaml), the segmentation rules worked by hand from a test YAML, and
the QIPP and waterfall arithmetic of F003 / docs/methods/finance.md.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from hna.appraisal import (
    SECTIONS,
    TABLES,
    TITLES,
    appraisal_demand,
    appraise_footprint,
    parse_sections,
)
from hna.errors import DataError, ParameterError
from tests.conftest import REPO

EAST_MIDLANDS = "E12000004"  # ONS region = the East Midlands SCG footprint (F004)
HAEMOPHILIA_GBP = 81388  # parameters/services/haemophilia.yaml cost.gbp (per patient-year)


def _appraise(footprint, year=2025, horizon=2030, services=None, draws=0, seed=1, **kw):
    """Demand first (the caller's job), then the appraisal."""
    demand = appraisal_demand(footprint, services, range(year, max(horizon, year) + 1), draws, seed)
    return appraise_footprint(footprint, demand, year, horizon, services, **kw)


@pytest.fixture(scope="module")
def em():
    """East Midlands, 2025 to 2030, every catalogue service, default settings."""
    return _appraise(EAST_MIDLANDS, year=2025, horizon=2030)


@pytest.fixture()
def seg_yaml(tmp_path):
    """A segmentation file with fixed scores for burns and haemophilia, none for bone sarcoma."""
    data = yaml.safe_load((REPO / "parameters/appraisal/segmentation.yaml").read_text())
    data["services"] = {
        "severe_burns": {"scores": {"provision": 3, "service_specifications": 3, "strategy": 3}},
        "haemophilia": {"scores": {"provision": 2, "service_specifications": 2, "strategy": 2}},
    }
    path = tmp_path / "segmentation.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


# ------------------------------------------------------------------------------ tiers


def test_mid_2020_east_midlands_population_is_the_ons_estimate_and_regional():
    # ONS mid-2020 estimate for the East Midlands region: 4,865,583 (MYE2, June 2021).
    a = _appraise(EAST_MIDLANDS, year=2020, horizon=2020, services=["haemophilia"])
    row = a.tiers.set_index("scheme").loc["emscg_2009"]
    assert row["population"] == pytest.approx(4_865_583, abs=0.5)
    # F004 tier chart: regional is 1-5 million (DOMAIN.md: East Midlands 4.4m is regional).
    assert row["tier"] == "regional"


def test_east_midlands_2025_regional_near_edge_and_supra_regional_by_2030(em):
    t = em.tiers.set_index(["year", "scheme"])
    assert t.loc[(2025, "emscg_2009"), "tier"] == "regional"
    # within 5% of the 5m bound: flagged, with the tier across it
    assert t.loc[(2025, "emscg_2009"), "near_edge"]
    assert t.loc[(2025, "emscg_2009"), "near_tier"] == "supra_regional"
    assert t.loc[(2030, "emscg_2009"), "population"] > 5e6
    assert t.loc[(2030, "emscg_2009"), "tier"] == "supra_regional"
    # dh_2003: SCG band 3-6m (F001 para 12); stp_2016 hub band 3-6m, inferred
    assert t.loc[(2025, "dh_2003"), "tier"] == "scg"
    assert t.loc[(2025, "stp_2016"), "tier"] == "sub_regional_hub"
    assert bool(t.loc[(2025, "stp_2016"), "inferred"])


def test_tiers_table_has_one_row_per_scheme_and_year(em):
    assert len(em.tiers) == 3 * 2
    for col in ["area_code", "year", "population", "scheme", "tier", "status", "near_edge",
                "near_tier", "note", "source"]:
        assert col in em.tiers.columns
    assert set(em.tiers["area_code"]) == {EAST_MIDLANDS}


def test_edges_setting_is_passed_to_the_tier_schemes():
    a = _appraise(EAST_MIDLANDS, services=["haemophilia"], edges="upper_inclusive")
    assert set(a.tiers["edges"]) == {"upper_inclusive"}
    assert a.meta["edges"] == "upper_inclusive"


# ------------------------------------------------------------------------------ demand, Carter


def test_demand_rows_and_england_share(em):
    services = em.meta["services"]
    assert len(em.demand) == len(services) * 2
    assert (em.demand["footprint_demand"] < em.demand["england_demand"]).all()
    share = em.demand["footprint_demand"] / em.demand["england_demand"]
    assert np.allclose(em.demand["footprint_share"], share)
    # centres sustainable = floor(demand / critical mass)
    assert (em.demand["footprint_centres"]
            == np.floor(em.demand["footprint_demand"] / em.demand["minimum_per_centre"])).all()


def test_england_footprint_is_the_whole_nation():
    a = _appraise("E92000001", services=["soft_tissue_sarcoma"], qipp=False)
    assert len(a.demand) == 2
    assert np.allclose(a.demand["footprint_share"], 1.0)
    assert a.tiers.set_index(["year", "scheme"]).loc[(2025, "emscg_2009"), "tier"] == "national"


def test_carter_rules_per_service_use_national_caseload_and_planning_population(em):
    c = em.carter
    assert set(c["service"]) == set(em.meta["services"])
    assert (c.groupby("service").size() == 4).all()  # 4 rules with population and caseload
    per = c.drop_duplicates("service").set_index("service")
    # planning population = critical mass / crude rate (per person), by hand from the columns
    crude = per["england_crude_per_100k"] / 1e5
    assert np.allclose(per["planning_population"], per["minimum_per_centre"] / crude)
    # national caseload is England's expected demand in the base year
    eng = em.demand[em.demand["year"] == 2025].set_index("service")["england_demand"]
    assert np.allclose(per["national_caseload"], eng.loc[per.index])
    rules = c.set_index(["service", "rule"])["fired"]
    for svc, row in per.iterrows():
        assert rules[(svc, "specialised")] == (row["planning_population"] > 1e6)  # F001 para 3
        assert rules[(svc, "pan_regional_collaboration")] == (row["planning_population"] > 6e6)
        assert rules[(svc, "national_commissioning")] == (row["national_caseload"] < 400)
        assert rules[(svc, "national_ceiling")] == (row["national_caseload"] >= 1000)


def test_service_tiers_compare_planning_population_with_the_footprint(em):
    st = em.service_tiers
    assert (st.groupby("service").size() == 3).all()
    assert (st["footprint_covers"] == (st["footprint_population"] >= st["planning_population"])).all()


# ------------------------------------------------------------------------------ segmentation


def test_segmentation_uses_national_demand_and_cost_and_reweights_without_cost(seg_yaml):
    a = _appraise(EAST_MIDLANDS, services=["haemophilia", "severe_burns", "bone_sarcoma"],
                           segmentation_config=seg_yaml)
    s = a.segmentation.set_index("service")
    assert list(a.segmentation["service"]) == ["haemophilia", "severe_burns", "bone_sarcoma"]
    # haemophilia: annual cost = national patients x GBP 81,388 (its YAML cost)
    h = s.loc["haemophilia"]
    assert h["annual_cost"] == pytest.approx(h["annual_demand"] * HAEMOPHILIA_GBP)
    assert bool(h["cost_available"])
    # by hand: ~2,100 patients -> 400-4,000 bin scores 2; GBP 81k a case -> 10k-100k scores 2;
    # judgement scores 2, 2, 2 -> mean 2.0 -> below 2.333 -> sub_regional_hub
    assert 400 <= h["annual_demand"] < 4000
    assert h["financial_risk_score"] == 2
    assert h["weighted_score"] == pytest.approx(2.0)
    assert h["tier"] == "sub_regional_hub"
    # severe burns: cost per admission GBP 1,333 from base_spend.yaml (iBID 2017) -> < 10k
    # scores 1; ~6,800 admissions -> >= 4,000 scores 1; judgement 3, 3, 3 -> 11/5 = 2.2
    b = s.loc["severe_burns"]
    assert bool(b["cost_available"]) and b["financial_risk_score"] == 1
    assert b["annual_cost"] == pytest.approx(b["annual_demand"] * 1333)
    assert b["annual_demand"] >= 4000 and b["patient_numbers_score"] == 1
    assert b["weighted_score"] == pytest.approx(2.2)
    assert b["tier"] == "sub_regional_hub"
    # bone sarcoma has no entry in the YAML: listed, not segmented, and the note says where
    u = s.loc["bone_sarcoma"]
    assert not bool(u["segmented"]) and pd.isna(u["weighted_score"])
    assert "segmentation.yaml" in u["note"]
    assert a.meta["services_not_segmented"] == ["bone_sarcoma"]
    assert a.meta["services_without_cost"] == ["bone_sarcoma"]


def test_segmentation_reweights_a_service_without_cost(em):
    # bone sarcoma has no cost anywhere: financial risk not scored; mean of the other four
    b = em.segmentation.set_index("service").loc["bone_sarcoma"]
    assert not bool(b["cost_available"]) and pd.isna(b["financial_risk_score"])
    assert pd.isna(b["annual_cost"])
    others = [b[f"{k}_score"] for k in ("patient_numbers", "provision", "service_specifications",
                                       "strategy")]
    assert b["weighted_score"] == pytest.approx(sum(others) / 4)
    assert "no cost" in b["note"]


# ------------------------------------------------------------------------------ priorities, TV


def test_priorities_and_thames_valley_come_from_the_frameworks(em):
    p = em.priorities
    assert {"service", "score", "rank", "focus", "in_catalogue"} <= set(p.columns)
    assert p["rank"].min() == 1
    tv = em.thames_valley
    assert tv["raw_score"].between(8, 32).all()  # 8 categories x levels 1-4 (F001 case study 6)


# ------------------------------------------------------------------------------ finance


def test_finance_base_spend_is_footprint_demand_times_unit_cost(em):
    f = em.finance[em.finance["service"] == "haemophilia"]
    assert set(em.finance["service"]) == set(em.meta["services"])  # no service dropped
    assert f["year"].tolist() == list(range(2025, 2031))
    d0 = em.demand.set_index(["service", "year"]).loc[("haemophilia", 2025), "footprint_demand"]
    assert f["base_spend"].iloc[0] == pytest.approx(d0 * HAEMOPHILIA_GBP)
    assert f["price_year"].iloc[0] == "2008/09"


def test_qipp_is_3_percent_a_year_compounded_from_the_year_after_the_base(em):
    f = em.finance[em.finance["service"] == "haemophilia"].set_index("year")
    # F003: c.3% a year (1.5% + 1.5% in plan year one), cumulative; plan years 2026-2030
    assert f.loc[2025, "qipp_factor"] == 1.0
    assert f.loc[2026, "qipp_factor"] == pytest.approx(0.97)
    assert f.loc[2030, "qipp_factor"] == pytest.approx(0.97 ** 5)
    assert np.allclose(f["spend"], f["do_nothing_spend"] * f["qipp_factor"])
    priced = em.finance[em.finance["spend"].notna()]
    assert np.allclose(priced["spend"], priced["do_nothing_spend"] * priced["qipp_factor"])


def test_waterfall_components_add_up_exactly_to_the_change_in_spend(em):
    w = em.waterfall.set_index("component")
    start, end = w.loc["start", "value"], w.loc["end", "value"]
    parts = w.loc[["population", "non_demographic", "qipp"], "value"].sum()
    assert parts == pytest.approx(end - start, rel=1e-12, abs=1e-6)
    total = em.finance_total.set_index("year")
    assert start == pytest.approx(total.loc[2025, "do_nothing_spend"], rel=1e-12)
    assert end == pytest.approx(total.loc[2030, "spend"], rel=1e-12)
    assert w.loc["qipp", "value"] == pytest.approx(-total.loc[2030, "qipp_saving"], rel=1e-12)


def test_growth_base_spend_and_allocation_gap():
    alloc = {y: 2.0e7 for y in range(2025, 2031)}
    a = _appraise("E54000036", services=["haemophilia", "severe_burns"],
                           base_spend={"severe_burns": 5.0e6}, non_demographic_growth=0.02,
                           allocation=alloc)
    f = a.finance.set_index(["service", "year"])
    assert f.loc[("severe_burns", 2025), "base_spend"] == 5.0e6
    # do nothing = S0 x demand ratio x 1.02^(y - 2025)
    r = f.loc[("severe_burns", 2030)]
    assert r["do_nothing_spend"] == pytest.approx(5.0e6 * r["demand"] / r["base_demand"] * 1.02 ** 5)
    t = a.finance_total.set_index("year")
    assert np.allclose(t["gap"], t["spend"] - 2.0e7)
    assert np.allclose(t["gap_do_nothing"], t["do_nothing_spend"] - 2.0e7)
    w = a.waterfall.set_index("component")["value"]
    assert w["non_demographic"] > 0
    assert w[["population", "non_demographic", "qipp"]].sum() == pytest.approx(w["end"] - w["start"])
    assert a.meta["services_without_cost"] == []


def test_without_qipp_spend_is_do_nothing():
    a = _appraise(EAST_MIDLANDS, services=["haemophilia"], qipp=False)
    assert (a.finance["qipp_factor"] == 1.0).all()
    assert np.allclose(a.finance["spend"], a.finance["do_nothing_spend"])
    assert a.waterfall.set_index("component").loc["qipp", "value"] == 0


def test_no_service_with_a_cost_keeps_the_service_marked_and_null_headline():
    a = _appraise(EAST_MIDLANDS, services=["bone_sarcoma"])
    assert len(a.finance) == 6 and a.finance["spend"].isna().all()
    assert a.finance["spend_basis"].str.startswith("no cost").all()
    assert a.finance_total.empty and a.waterfall.empty
    h = a.headline()
    assert h["do_nothing_spend_horizon"] is None
    assert h["services_without_cost"] == ["bone_sarcoma"]


# ------------------------------------------------------------------------------ draws


def test_draws_add_intervals_but_not_change_expected_values(em):
    a = _appraise(EAST_MIDLANDS, services=["haemophilia"], draws=200, seed=3)
    d = a.demand.set_index("year")
    ref = em.demand[em.demand["service"] == "haemophilia"].set_index("year")
    assert np.allclose(d["footprint_demand"], ref["footprint_demand"])
    assert (d["footprint_low"] < d["footprint_demand"]).all()
    assert (d["footprint_high"] > d["footprint_demand"]).all()
    ref_f = em.finance[em.finance["service"] == "haemophilia"]
    assert np.allclose(a.finance["spend"], ref_f["spend"])


# ------------------------------------------------------------------------------ meta, headline


def test_meta_records_version_footprint_years_and_file_hashes(em):
    import hna

    m = em.meta
    assert m["hna_version"] == hna.__version__
    assert m["footprint"] == {"code": EAST_MIDLANDS, "name": "East Midlands"}  # one schema
    assert m["footprint_level"] == "region"
    assert len(m["code_hash"]) == 64
    assert (m["year"], m["horizon"], m["years"]) == (2025, 2030, list(range(2025, 2031)))
    files = {f["path"]: f["sha256"] for f in m["parameter_files"]}
    tiers = REPO / "parameters" / "tiers.yaml"
    assert files["parameters/tiers.yaml"] == hashlib.sha256(tiers.read_bytes()).hexdigest()
    assert len(m["parameter_hash"]) == 64
    assert any("F001 para 45" in s["source"] for s in m["sources"])
    json.dumps(m)  # JSON-friendly


def test_headline_is_json_with_the_tier_under_each_scheme(em):
    h = em.headline()
    assert h["tier_emscg_2009"] == "regional"
    assert h["population_start"] == pytest.approx(em.tiers["population"].iloc[0])
    assert h["qipp_saving_horizon"] == pytest.approx(
        h["do_nothing_spend_horizon"] - h["spend_after_qipp_horizon"])
    json.dumps(h)
    scalars = [k for k, v in h.items() if not isinstance(v, list | dict)]
    assert len(scalars) <= 10  # the run index shows up to 10 headline columns


def test_display_and_tables(em):
    assert list(em.tables()) == list(TABLES)
    assert list(em.tables("carter")) == ["carter", "service_tiers"]
    pr = em.display("priorities")
    assert pr["focus_labels"].map(lambda v: isinstance(v, str)).all()
    assert "near_tier" in em.display("tiers").columns


# ------------------------------------------------------------------------------ errors


def test_parse_sections():
    assert parse_sections(None) == list(TABLES)
    assert parse_sections("finance, tiers") == ["tiers", "finance", "finance_total", "waterfall"]
    assert parse_sections(["waterfall"]) == ["waterfall"]
    assert set(SECTIONS) >= {"tiers", "carter", "segmentation", "priorities", "thames_valley",
                             "finance"}
    with pytest.raises(ParameterError, match="unknown section"):
        parse_sections("tiers,nonsense")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"footprint": "E99999999"}, "unknown area code"),
    ({"footprint": EAST_MIDLANDS, "horizon": 2020}, "horizon is before"),
    ({"footprint": EAST_MIDLANDS, "services": ["no_such_service"]}, "unknown service"),
    ({"footprint": EAST_MIDLANDS, "services": ["haemophilia"],
      "base_spend": {"dialysis": 1.0}}, "not being appraised"),
    ({"footprint": EAST_MIDLANDS, "non_demographic_growth": 5}, "fraction"),
])
def test_bad_arguments_are_parameter_errors(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        _appraise(**kwargs)


def test_bad_allocation_table_is_a_data_error():
    with pytest.raises(DataError, match="allocation"):
        _appraise(EAST_MIDLANDS, services=["haemophilia"],
                           allocation=pd.DataFrame({"year": [2025], "amount": [1.0]}))


# ------------------------------------------------------------------------------ demand is received


def test_appraisal_never_runs_service_demand(monkeypatch):
    demand = appraisal_demand(EAST_MIDLANDS, ["haemophilia"], range(2025, 2027))
    import hna.demand

    def boom(*args, **kwargs):
        raise AssertionError("appraise_footprint must not recompute demand")

    monkeypatch.setattr(hna.demand, "service_demand", boom)
    a = appraise_footprint(EAST_MIDLANDS, demand, 2025, 2026, ["haemophilia"])
    row = a.carter.iloc[0]
    eng = demand["haemophilia"].query("area_code == 'E92000001' and year == 2025")
    assert row["national_caseload"] == pytest.approx(float(eng["expected"].iloc[0]))


def test_provenance_records_the_draws_and_seed_behind_the_demand():
    demand = appraisal_demand(EAST_MIDLANDS, ["haemophilia"], range(2025, 2027), draws=20, seed=3)
    a = appraise_footprint(EAST_MIDLANDS, demand, 2025, 2026, ["haemophilia"])
    assert (a.meta["draws"], a.meta["seed"]) == (20, 3)


def test_demand_without_england_rows_is_a_data_error():
    demand = appraisal_demand(EAST_MIDLANDS, ["haemophilia"], range(2025, 2027))
    local = {k: v[v["area_code"] == EAST_MIDLANDS] for k, v in demand.items()}
    with pytest.raises(DataError, match="E92000001"):
        appraise_footprint(EAST_MIDLANDS, local, 2025, 2026, ["haemophilia"])
    with pytest.raises(ParameterError, match="no demand for this service"):
        appraise_footprint(EAST_MIDLANDS, {}, 2025, 2026, ["haemophilia"])


# ------------------------------------------------------------------------------ every section


def test_every_table_is_filled_in_the_default_appraisal(em):
    for name in TABLES:
        assert len(em.table(name)) > 0, name
    assert set(SECTIONS) >= {"risk_sharing", "binding_decisions", "fitness_for_purpose",
                             "survey", "east_midlands", "designation_criteria", "benchmarking",
                             "catalogue"}


def test_service_without_a_cost_is_marked_in_every_money_table(em):
    fin = em.finance[em.finance["service"] == "bone_sarcoma"]
    assert len(fin) == 6 and fin["spend"].isna().all()
    assert fin["spend_basis"].str.startswith("no cost").all()
    assert "bone_sarcoma" in em.finance_total["services_without_cost"].iloc[0]
    seg = em.segmentation.set_index("service")
    assert "no cost" in seg.loc["bone_sarcoma", "note"]


def test_sarcoma_cost_per_case_from_the_cited_study(em):
    f = em.finance[(em.finance["service"] == "soft_tissue_sarcoma") & (em.finance["year"] == 2025)]
    d0 = em.demand.set_index(["service", "year"]).loc[("soft_tissue_sarcoma", 2025),
                                                      "footprint_demand"]
    assert f["base_spend"].iloc[0] == pytest.approx(d0 * 14711)
    assert "per case" in f["spend_basis"].iloc[0] and "derived" in f["spend_basis"].iloc[0]
    burns = em.finance[(em.finance["service"] == "severe_burns") & (em.finance["year"] == 2025)]
    assert burns["base_spend"].iloc[0] == pytest.approx(
        em.demand.set_index(["service", "year"]).loc[("severe_burns", 2025), "footprint_demand"]
        * 1333)


def test_base_spend_from_the_f004_renal_line_when_no_unit_cost(tmp_path, monkeypatch):
    from hna.appraisal import programme as appraisal_programme

    demand = appraisal_demand(EAST_MIDLANDS, ["bone_sarcoma"], range(2025, 2026))
    p = tmp_path / "base_spend.yaml"
    p.write_text(appraisal_programme.BASE_SPEND_FILE.read_text().replace(
        "  haemophilia:\n", "  bone_sarcoma:\n    line: Renal\n    note: test mapping\n"
        "  haemophilia:\n", 1))
    monkeypatch.setattr(appraisal_programme, "BASE_SPEND_FILE", p)
    a = appraise_footprint(EAST_MIDLANDS, demand, 2025, 2025, ["bone_sarcoma"])
    pop = float(a.tiers["population"].iloc[0])
    f = a.finance.iloc[0]
    assert f["base_spend"] == pytest.approx(60_221_000 / 4_400_000 * pop)
    assert "per head" in f["spend_basis"] and f["price_year"] == "2008/09"


def test_hiv_tolerance_and_voting_and_survey_sections(em):
    hiv = em.hiv_risk_share.set_index("over_baseline")
    assert hiv.loc[2.5, "commissioner"] == pytest.approx(1.125)
    v = em.voting.set_index("rule")
    assert v.loc["six_of_eight", "min_in_favour"] == 6
    assert v.loc["seventy_percent", "min_in_favour"] == 11        # 70% of 15 PCTs
    assert v.loc["weighted_75", "notice_days"] == 30
    assert v["binding"].all() and not v["binding_one_fewer"].any()
    assert "16" in set(em.survey["row"])


def test_risk_pools_split_pro_rata_to_the_f004_pct_baselines(em):
    # F004 Income table: NHS Derby City 33,069 of 500,838 (GBP thousands, 2008/09).
    pooled = em.pooled_budget.set_index("member")
    assert pooled.loc["NHS Derby City", "share"] == pytest.approx(33069 / 500838)
    assert pooled["contribution"].sum() == pytest.approx(500838)
    ft = em.finance_total.set_index("year")["do_nothing_spend"]
    growth = (ft.iloc[-1] / ft.iloc[0] - 1) * 100
    split = em.overspend_split.set_index("member")
    assert split["contribution"].sum() == pytest.approx(500838 * growth / 100)
    assert split.loc["NHS Lincolnshire", "contribution"] == pytest.approx(
        73411 * growth / 100)
    assert "worked example" in TITLES["overspend_split"] and "baseline" in TITLES["pooled_budget"]
    assert SECTIONS["pooled_risk"] == ("overspend_split", "pooled_budget")


def test_segmentation_tiers_are_labelled_inferred(em):
    assert em.segmentation["inferred"].all()
    st = em.service_tiers
    assert st.loc[st["scheme"] == "stp_2016", "inferred"].all()

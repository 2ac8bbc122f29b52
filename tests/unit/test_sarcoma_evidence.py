"""Sarcoma evidence base: the shipped rates against the published England figures.

Independent references: NCIN 2013 (England 2010 soft tissue sarcoma, per million: males 1,408
cases, crude 54.7, ESP1976 ASR 47.8, 95% CI 45.3-50.5; females 1,332, 50.3, 41.9, 39.6-44.4;
persons 2,740), CRUK (about 43% at 65+), NCIN briefing 1990-2007 (more than 65% at 50+), Get Data
Out 2017-19 (4,295 a year), Public Health Scotland all-ages C47+C49 counts (1994 132, 2002 125,
2010 115, 2018 141; shared/data/rates/scotland/PROVENANCE.md). ESP1976 weights: Waterhouse et
al. (IARC 1976), typed in here independently of the derivation script.
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import yaml

from hna.bands import AGE_BANDS
from hna.incidence import trend_rates
from hna.narrative.reality import (
    existing_centres,
    reality_check_report,
    reality_check_table,
    reality_check_text,
)
from hna.services import load_service, service_rates

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "hna" / "data" / "sarcoma"
ESP1976 = [8000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000, 7000,
           6000, 5000, 4000, 3000, 2000, 1000, 1000]  # 0-4 ... 80-84, 85+
NCIN = {"male": (1408, 54.7, 47.8, 45.3, 50.5), "female": (1332, 50.3, 41.9, 39.6, 44.4)}


@pytest.fixture(scope="module")
def england_2010(england_2018) -> pd.Series:
    """2018 age structure within sex, rescaled to the 2010 totals NCIN implies (cases/crude)."""
    parts = []
    for sex, (cases, crude, *_rest) in NCIN.items():
        p = england_2018.loc[sex]
        parts.append(pd.concat({sex: p / p.sum() * cases / crude * 1e6}, names=["sex"]))
    return pd.concat(parts)


def _rates(service: str) -> pd.Series:
    return service_rates(service).set_index(["sex", "age_band"])["rate"].astype(float)


def _asr_per_million(rate: pd.Series, pop: pd.Series) -> float:
    r = rate.reindex(list(AGE_BANDS)).to_numpy() * 1e6
    w = pop.reindex(list(AGE_BANDS)).to_numpy()
    r85 = (r[17] * w[17] + r[18] * w[18]) / (w[17] + w[18])
    return float(np.append(r[:17], r85) @ np.array(ESP1976) / 100_000)


@pytest.mark.parametrize("sex", ["male", "female"])
def test_narrow_asr_is_inside_the_published_95pc_interval(sex, england_2010):
    r = _rates("soft_tissue_sarcoma").loc[sex]
    asr = _asr_per_million(r, england_2010.loc[sex])
    _cases, _crude, _asr, lo, hi = NCIN[sex]
    assert lo <= asr <= hi


@pytest.mark.parametrize("sex", ["male", "female"])
def test_narrow_crude_rate_within_3pc_of_published(sex, england_2010):
    cases = (_rates("soft_tissue_sarcoma").loc[sex] * england_2010.loc[sex]).sum()
    crude = cases / england_2010.loc[sex].sum() * 1e6
    assert crude == pytest.approx(NCIN[sex][1], rel=0.03)


def test_narrow_persons_cases_within_3pc_of_2740(england_2010):
    r = _rates("soft_tissue_sarcoma")
    assert (r * england_2010.reindex(r.index)).sum() == pytest.approx(2740, rel=0.03)


def test_narrow_age_mix_matches_published_shares(england_2010):
    r = _rates("soft_tissue_sarcoma")
    cases = (r * england_2010.reindex(r.index)).groupby(level="age_band").sum()
    lower = {b: int(b.rstrip("+").split("-")[0]) for b in AGE_BANDS}
    share65 = cases[[b for b in AGE_BANDS if lower[b] >= 65]].sum() / cases.sum()
    share50 = cases[[b for b in AGE_BANDS if lower[b] >= 50]].sum() / cases.sum()
    assert share65 == pytest.approx(0.43, abs=0.03)
    assert share50 >= 0.63


def test_wide_variant_gives_4295_cases_in_mid_2018(england_2018):
    r = _rates("soft_tissue_sarcoma_wide")
    assert (r * england_2018.reindex(r.index)).sum() == pytest.approx(4295, rel=0.005)


def test_bone_crude_rate_is_the_uk_2010_rate_on_england_2018(england_2018):
    r = _rates("bone_sarcoma")
    crude = (r * england_2018.reindex(r.index)).sum() / england_2018.sum()
    assert crude * 1e5 == pytest.approx(531 / 62_262_000 * 1e5, rel=1e-3)


def test_registry_series_reproduces_phs_all_ages_counts():
    s = pd.read_csv(DATA / "scotland_sts_yearly.csv")
    totals = s.groupby("year")["cases"].sum()
    assert [totals[y] for y in (1994, 2002, 2010, 2018)] == [132, 125, 115, 141]


def test_narrow_shape_is_the_scottish_shape_times_a_level_and_one_tilt():
    s = pd.read_csv(DATA / "scotland_sts_yearly.csv", dtype={"age_band": str})
    s = s[s.year.between(2004, 2018)].groupby(["sex", "age_band"])[["cases", "person_years"]].sum()
    scot = s["cases"] / s["person_years"]
    ratio = np.log(_rates("soft_tissue_sarcoma") / scot.reindex(_rates("soft_tissue_sarcoma").index))
    mid = {b: 2.5 + 5 * i for i, b in enumerate(AGE_BANDS)}
    slopes = []
    for sex in ("female", "male"):
        x = np.array([mid[b] for b in ratio.loc[sex].index])
        fit = np.polyfit(x, ratio.loc[sex].to_numpy(), 1)
        assert np.abs(np.polyval(fit, x) - ratio.loc[sex].to_numpy()).max() < 1e-3  # rounding
        slopes.append(fit[0])
    assert slopes[0] == pytest.approx(slopes[1], abs=1e-5)  # one tilt for both sexes


def test_bone_shape_is_the_scottish_shape_times_one_factor():
    s = pd.read_csv(DATA / "scotland_bone_yearly.csv", dtype={"age_band": str})
    s = s.groupby(["sex", "age_band"])[["cases", "person_years"]].sum()
    r = _rates("bone_sarcoma")
    ratio = r / (s["cases"] / s["person_years"]).reindex(r.index)
    assert ratio.std() / ratio.mean() < 2e-3


def test_wide_threshold_keeps_the_iog_catchment():
    narrow, wide = load_service("soft_tissue_sarcoma"), load_service("soft_tissue_sarcoma_wide")
    factor = (_rates("soft_tissue_sarcoma_wide") / _rates("soft_tissue_sarcoma")).median()
    assert narrow.critical_mass.minimum_per_centre == 100
    assert wide.critical_mass.minimum_per_centre == round(100 * factor)
    assert wide.critical_mass.status == "local_assumption"


def test_levels_carry_their_count_uncertainty():
    assert load_service("soft_tissue_sarcoma").uncertainty["rate_level"].cases == 2740
    assert load_service("soft_tissue_sarcoma_wide").uncertainty["rate_level"].cases == 3 * 4295
    assert load_service("bone_sarcoma").uncertainty["rate_level"].cases == 531


@pytest.mark.parametrize("site,scenario", [("sts", "sts_registry_trend"),
                                           ("bone", "bone_registry_trend")])
def test_scenario_drift_is_the_fit_to_the_shipped_series(site, scenario):
    s = pd.read_csv(DATA / f"scotland_{site}_yearly.csv", dtype={"age_band": str})
    fit = trend_rates(s, [2018])
    pct = float(np.expm1(fit.attrs["beta"]) * 100)
    raw = yaml.safe_load((REPO / "parameters" / "scenarios" / f"{scenario}.yaml").read_text())
    assert raw["changes"][0]["value"]["annual_change_percent"] == pytest.approx(pct, abs=0.006)
    sd = raw["uncertainty"]["annual_change_percent"]["sd"]
    assert sd >= float(np.exp(fit.attrs["beta"]) * fit.attrs["beta_se"] * 100) - 0.006


def test_derivation_summary_records_the_hindcast():
    d = json.loads((DATA / "derivation.json").read_text())
    for site in ("sts", "bone"):
        h = d[site]["hindcast"]
        obs = pd.read_csv(DATA / f"scotland_{site}_yearly.csv").query("year >= 2014")
        assert h["observed"] == obs["cases"].sum()
        for k in ("constant", "trend", "nordpred"):
            assert abs(h[k] / h["observed"] - 1) < 0.10  # every method within 10% of 2014-18


def _assessment(service: str, footprint: str = "E92000001") -> SimpleNamespace:
    by = pd.DataFrame({"area_code": footprint, "year": [2025, 2040], "expected": [3000.0, 3500.0],
                       "mean": [2990.0, 3510.0], "centres_on_mean": [30, 35],
                       "centres_sustainable_p80": [24, 28]})
    head = {"footprint": footprint, "service": service, "minimum_per_centre": 100,
            "centre": "sarcoma MDT", "measure": "new cases", "level": 0.8, "quality": "moderate"}
    return SimpleNamespace(headline=head, by_year=by)


def test_reality_check_compares_with_the_15_existing_centres():
    t = reality_check_table(_assessment("soft_tissue_sarcoma"))
    assert t["centres_existing"].tolist() == [15, 15]
    assert t["mean_cases_per_existing_centre"].tolist() == [200.0, pytest.approx(233.333, 1e-4)]
    text = reality_check_text(_assessment("soft_tissue_sarcoma"))
    assert "24 sarcoma MDTs" in text and "15 exist" in text and "170122S" in text
    assert "cross-boundary" in text


def test_reality_check_shows_only_years_with_the_figure_and_the_expected_value():
    # an assessment over 2025-2028: the level figure exists for 2025 and 2028 only
    by = pd.DataFrame({"area_code": "E92000001", "year": [2025, 2026, 2027, 2028],
                       "expected": [3151.02, 3180.2, 3212.38, 3242.62],
                       "mean": [3140.95, 3176.5, 3194.45, 3250.15],
                       "centres_on_mean": [31, 31, 31, 32],
                       "centres_sustainable_p80": pd.array([25, None, None, 25], dtype="Int64")})
    a = _assessment("soft_tissue_sarcoma")
    a.by_year = by
    t = reality_check_table(a)
    assert t["year"].tolist() == [2025, 2028]
    assert t["mean_cases"].tolist() == [3151.02, 3242.62]        # expected, not the draw mean
    rep = reality_check_report(a)
    assert "n/a" not in rep.to_string()
    assert rep["Expected new cases a year"].tolist() == ["3,151", "3,243"]
    assert "3,151 expected" in reality_check_text(a)


def test_reality_check_only_in_national_reports_of_listed_services():
    assert reality_check_table(_assessment("soft_tissue_sarcoma", "E40000006")) is None
    assert reality_check_table(_assessment("severe_burns")) is None
    assert existing_centres("bone_sarcoma")["centres"] == 5


def test_reality_check_report_has_human_headers_and_formatted_values():
    t = reality_check_report(_assessment("soft_tissue_sarcoma"))
    assert "Centres that exist" in t.columns and t["Centres that exist"].tolist() == ["15", "15"]
    assert t["Expected new cases a year"].tolist() == ["3,000", "3,500"]

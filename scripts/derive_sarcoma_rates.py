"""Derive the soft tissue and bone sarcoma rates from real registry counts.

Run from the repository root: ``python scripts/derive_sarcoma_rates.py [SHARED_DATA]`` (default
``../shared/data``). Replaces the synthetic Gompertz-Makeham fit of ``fit_sts_profile.py``.

Evidence (docs/methods/sarcoma_evidence.md):

- SHAPE of the age-sex profile: Scottish Cancer Registry counts (Public Health Scotland, annual
  cancer incidence 1994-2018, OGL v3), 19 ESP2013 bands x sex x year. Soft tissue proxy: ICD-10
  C47+C49, pooled 2004-2018 (the three most recent five-year periods); bone: C40-C41, pooled
  1994-2018 (about 45 cases a year). Person-years: each band's all-cancer count divided by its
  published all-cancer rate (per 100,000), checked against the site's own published rates.
- LEVEL, narrow (IOG-era) definition: NCIN 2013, England 2010 soft tissue sarcoma (males 1,408
  cases, crude 54.7, ESP1976 ASR 47.8 per million, 95% CI 45.3-50.5; females 1,332, 50.3, 41.9,
  39.6-44.4), about 43% of cases at 65+ (CRUK) and more than 65% at 50+ (NCIN briefing). The
  proxy misses sarcomas coded to their organ, so its age mix is older: the narrow rates are
  ``R_scot[s, b] x k_s x exp(tau (mid-age_b - 60) / 10)``, a level per sex and one age tilt,
  fitted by weighted least squares to the crude and standardised rates per sex and the two
  shares (:func:`narrow_fit`); the persons figures are checks. Crude rates and shares need an
  England 2010 population: the mid-2018 England age structure within each sex (ONS NPP 2018
  base year) rescaled to the 2010 sex totals implied by the published cases / crude rates.
- LEVEL, wide (current, Get Data Out 2017-19) definition: the narrow rates multiplied by one
  factor for both sexes so that England mid-2018 has 4,295 cases (NHS Digital GDO, as
  summarised by CRUK).
- Bone: UK 2010 531 cases (NCIN via NICE QS78) over the UK mid-2010 population (62.26 million):
  0.853 per 100,000; one factor for both sexes so that the crude rate on the England mid-2018
  age-sex structure equals it (no UK 2010 age table at hand).
- Trend: Poisson log-linear drift (``hna.incidence.trend_rates``: one intercept per band x sex,
  one drift) on the yearly Scottish counts 1994-2018, its standard error inflated by the square
  root of the Pearson dispersion when above 1. Hindcast: fit 1994-2013, predict 2014-2018 with
  the observed person-years; compared with constant 2009-2013 rates and with Nordpred
  (``hna.incidence.nordpred``, four observed five-year periods, power5 link).

It writes:

- ``hna/data/sarcoma/scotland_{sts,bone}_yearly.csv`` (age_band, sex, year, cases,
  person_years): the registry series, usable as ``projection.history`` of a trend;
- the ``# BEGIN derived rates`` ... ``# END derived rates`` blocks of the four service files;
- the ``<!-- BEGIN ... -->`` tables of ``docs/methods/sarcoma_evidence.md``;
- ``hna/data/sarcoma/derivation.json``: every derived number and standard error.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ROOT / "parameters" / "services"
OUT = ROOT / "hna" / "data" / "sarcoma"
DOC = ROOT / "docs" / "methods" / "sarcoma_evidence.md"

BANDS = [f"{lo}-{lo + 4}" for lo in range(0, 90, 5)] + ["90+"]
_COLS = (["IncidencesAgeUnder5"] + [f"IncidencesAge{lo}To{lo + 4}" for lo in range(5, 90, 5)]
         + ["IncidencesAge90AndOver"])
_RATE_COLS = [c.replace("Incidences", "IncidenceRate") for c in _COLS]
SEXES = ("female", "male")
SITES = {"sts": "ICD-10 C47+C49", "bone": "C40-C41"}
SHAPE_YEARS = {"sts": (2004, 2018), "bone": (1994, 2018)}
ALL_CANCER = "C00-C97, excluding C44"

# ESP1976 (Waterhouse et al. 1976, IARC): 0-4, 5-9 ... 80-84, 85+
ESP1976 = np.array([8000] + [7000] * 10 + [6000, 5000, 4000, 3000, 2000, 1000, 1000], float)

# NCIN 2013, England 2010 soft tissue sarcoma (per million)
NCIN = {"male": {"cases": 1408, "crude": 54.7, "asr": 47.8, "ci": (45.3, 50.5)},
        "female": {"cases": 1332, "crude": 50.3, "asr": 41.9, "ci": (39.6, 44.4)},
        "persons": {"cases": 2740, "crude": 52.5, "asr": 44.9}}
SHARE_65 = 0.43      # CRUK: about 43% of UK cases at 65 and over
SHARE_50 = 0.65      # NCIN briefing 1990-2007: more than 65% at 50 and over
GDO_CASES = 4295     # NHS Digital Get Data Out, England 2017-19, cases a year
GDO_CRUDE = 7.7      # per 100,000
GDO_YEARS = 3
BONE_UK_CASES, BONE_UK_POP = 531, 62_262_000
IOG_STS_MINIMUM = 100
Z95 = 1.959963984540054


def read_scotland(shared: Path) -> pd.DataFrame:
    """Yearly counts and person-years by site, sex and band (long table)."""
    src = shared / "rates" / "scotland" / "phs_cancer_incidence_scotland_1994_2018.csv"
    df = pd.read_csv(src, encoding="utf-8-sig")
    df = df[df["Sex"].isin(["Male", "Female"])]
    allc = df[df["CancerSiteICD10Code"] == ALL_CANCER].set_index(["Sex", "Year"])
    py = allc[_COLS].to_numpy(float) / allc[_RATE_COLS].to_numpy(float) * 1e5
    if not np.isfinite(py).all():
        raise SystemExit("an all-cancer band has no count: person-years cannot be recovered")
    pyr = pd.DataFrame(py, index=allc.index, columns=BANDS)
    rows = []
    for site, code in SITES.items():
        s = df[df["CancerSiteICD10Code"] == code].set_index(["Sex", "Year"])
        for (sex, year), rec in s.iterrows():
            for band, col, rcol in zip(BANDS, _COLS, _RATE_COLS, strict=True):
                cases, p = float(rec[col]), float(pyr.loc[(sex, year), band])
                if cases > 0:  # the site's own published rate must agree
                    assert abs(cases / p * 1e5 / float(rec[rcol]) - 1) < 1e-6, (site, year)
                rows.append({"site": site, "age_band": band, "sex": sex.lower(),
                             "year": int(year), "cases": cases, "person_years": p})
    out = pd.DataFrame(rows)
    assert out.groupby(["site", "sex"])["year"].nunique().eq(25).all()
    return out


def england_2018(shared: Path) -> pd.DataFrame:
    """England mid-2018 population by sex and ESP2013 band (ONS NPP 2018 base year)."""
    src = shared / "population_projections" / "ons_npp2018_england_principal_sex_syoa_2018_2070.csv"
    df = pd.read_csv(src, dtype={"age": str})
    df = df[df["year"] == 2018].copy()
    a = df["age"].str.extract(r"^(\d+)")[0].astype(int)
    df["age_band"] = [BANDS[min(x // 5, 18)] for x in a]
    df["sex"] = df["sex"].str.lower()
    out = df.groupby(["sex", "age_band"])["population"].sum().astype(float)
    assert abs(out.sum() - 55_977_178) < 1, out.sum()
    return out


def esp1976_asr(rate: pd.Series, cases: pd.Series | None = None,
                pop: pd.Series | None = None) -> float:
    """ESP1976 age-standardised rate from 19 band rates (85-89 and 90+ merged by weights).

    ``rate`` is indexed by band; 85+ = (cases 85-89 + 90+) / (person-years 85-89 + 90+) when
    ``cases``/``pop`` are given, else the population-weighted mean of ``pop``.
    """
    r = rate.reindex(BANDS).to_numpy(float)
    w = pop.reindex(BANDS).to_numpy(float)
    r85 = (r[17] * w[17] + r[18] * w[18]) / (w[17] + w[18])
    return float(np.append(r[:17], r85) @ ESP1976 / ESP1976.sum())


def shape(series: pd.DataFrame, site: str) -> pd.DataFrame:
    """Pooled Scottish rates per 100,000 by sex and band over the shape window."""
    lo, hi = SHAPE_YEARS[site]
    s = series[(series["site"] == site) & series["year"].between(lo, hi)]
    g = s.groupby(["sex", "age_band"])[["cases", "person_years"]].sum()
    g["rate"] = g["cases"] / g["person_years"] * 1e5
    return g


_MID = np.array([2.5 + 5 * i for i in range(18)] + [92.5])
SHARE_SE = 0.02  # assumed: shares are rounded, from other years and definitions


def tilted(sh: pd.DataFrame, theta: np.ndarray) -> pd.Series:
    """Scottish shape x level per sex x exp(tilt (mid-age - 60) / 10), per 100,000."""
    log_km, log_kf, tilt = theta
    parts = {}
    for s, lk in (("female", log_kf), ("male", log_km)):
        r = sh.loc[s, "rate"].reindex(BANDS).to_numpy(float)
        parts[s] = pd.Series(r * np.exp(lk + tilt * (_MID - 60) / 10), index=BANDS)
    out = pd.concat(parts)
    out.index.names = ["sex", "age_band"]
    return out


def _residuals(theta: np.ndarray, sh: pd.DataFrame, pop2010: pd.Series) -> np.ndarray:
    ch = checks(tilted(sh, theta), pop2010)
    r = []
    for s in ("male", "female"):
        pub = NCIN[s]
        lo, hi = pub["ci"]
        r.append(np.log(ch[s]["crude"] / pub["crude"]) * np.sqrt(pub["cases"]))
        r.append(np.log(ch[s]["asr"] / pub["asr"]) / ((np.log(hi) - np.log(lo)) / (2 * Z95)))
    r.append((ch["share65"] - SHARE_65) / SHARE_SE)
    r.append(min(0.0, ch["share50"] - SHARE_50) / SHARE_SE)
    return np.asarray(r)


def narrow_fit(sh: pd.DataFrame, pop2010: pd.Series) -> dict:
    """Level per sex and a shared age tilt fitted to the England 2010 figures.

    The C47+C49 proxy misses soft tissue sarcomas coded to their organ (uterine
    leiomyosarcoma, visceral and retroperitoneal sarcomas), so its age mix is older than the
    clinical definition's. Three parameters (log level per sex, one log-linear tilt per decade
    of age) are fitted by weighted least squares to six figures: crude and ESP1976 rates per
    sex (log scale; SE from the count or the published CI), the share at 65+ (SE 0.02,
    assumed) and the share at 50+ (one-sided). Standard errors from the Jacobian.
    """
    from scipy.optimize import least_squares

    theta0 = np.array([np.log(1.9), np.log(2.3), 0.0])
    res = least_squares(_residuals, theta0, args=(sh, pop2010), method="lm")
    if not res.success:
        raise SystemExit(f"fit failed: {res.message}")
    cov = np.linalg.inv(res.jac.T @ res.jac)
    return {"theta": res.x, "se": np.sqrt(np.diag(cov)), "chi2": float(res.fun @ res.fun),
            "residuals": res.fun.tolist()}


def approx_2010(pop2018: pd.Series) -> pd.Series:
    """England 2010 by sex and band: 2018 structure rescaled to the NCIN-implied sex totals."""
    parts = []
    for s in SEXES:
        total = NCIN[s]["cases"] / (NCIN[s]["crude"] / 1e6)
        p = pop2018.loc[s]
        parts.append(pd.concat({s: p / p.sum() * total}, names=["sex"]))
    return pd.concat(parts)


def checks(rates: pd.Series, pop: pd.Series) -> dict:
    """Crude (per million), cases, ESP1976 ASR, shares 65+ and 50+ of rates per 100,000."""
    cases = rates * pop / 1e5
    res = {}
    for s in SEXES:
        res[s] = {"cases": float(cases.loc[s].sum()),
                  "crude": float(cases.loc[s].sum() / pop.loc[s].sum() * 1e6),
                  "asr": esp1976_asr(rates.loc[s] * 10, pop=pop.loc[s])}
    pc = cases.groupby(level="age_band").sum().reindex(BANDS)
    pp = pop.groupby(level="age_band").sum().reindex(BANDS)
    res["persons"] = {"cases": float(pc.sum()), "crude": float(pc.sum() / pp.sum() * 1e6),
                      "asr": esp1976_asr(pc / pp * 1e6, pop=pp)}
    lower = np.array([int(b.rstrip("+").split("-")[0]) for b in BANDS])
    res["share65"] = float(pc[lower >= 65].sum() / pc.sum())
    res["share50"] = float(pc[lower >= 50].sum() / pc.sum())
    return res


def drift(series: pd.DataFrame, site: str, years: tuple[int, int]) -> dict:
    """Poisson age-sex + drift fit (hna.incidence.trend_rates) with Pearson dispersion."""
    import statsmodels.api as sm

    from hna.incidence import trend_rates

    s = series[(series["site"] == site) & series["year"].between(*years)].copy()
    fit = trend_rates(s[["age_band", "sex", "year", "cases", "person_years"]], [years[1]])
    beta, se = float(fit.attrs["beta"]), float(fit.attrs["beta_se"])
    keep = s.groupby(["sex", "age_band"])["cases"].transform("sum") > 0
    s = s[keep]
    x = pd.get_dummies(s["sex"] + "|" + s["age_band"], dtype=float)
    x["t"] = s["year"] - years[1]
    glm = sm.GLM(s["cases"], x, family=sm.families.Poisson(),
                 offset=np.log(s["person_years"])).fit()
    assert abs(glm.params["t"] - beta) < 1e-6, (glm.params["t"], beta)
    disp = float(glm.pearson_chi2 / glm.df_resid)
    se_adj = se * np.sqrt(max(1.0, disp))
    return {"beta": beta, "beta_se": se, "dispersion": disp, "beta_se_adjusted": se_adj,
            "annual_change_percent": float(np.expm1(beta) * 100),
            "annual_change_se_percent": float(np.exp(beta) * se_adj * 100),
            "years": list(years)}


def _periods(s: pd.DataFrame, value: str, first: int, n: int) -> pd.DataFrame:
    """Table of 18 Nordpred age groups (85+ merged) by n five-year periods from ``first``."""
    s = s.assign(group=s["age_band"].replace({"85-89": "85+", "90+": "85+"}),
                 period=(s["year"] - first) // 5)
    s = s[s["period"].between(0, n - 1)]
    t = s.pivot_table(index="group", columns="period", values=value, aggfunc="sum")
    order = BANDS[:17] + ["85+"]
    return t.reindex(order).set_axis([f"{first + 5 * p}-{first + 5 * p + 4}"
                                      for p in range(n)], axis=1)


def hindcast(series: pd.DataFrame, site: str) -> dict:
    """Fit 1994-2013, predict 2014-2018: constant 2009-13 rates, drift, Nordpred."""
    from hna.incidence.nordpred import nordpred

    s = series[series["site"] == site]
    obs = s[s["year"] >= 2014]
    observed = float(obs["cases"].sum())
    # constant: 2009-2013 pooled rates x observed 2014-18 person-years
    base = s[s["year"].between(2009, 2013)].groupby(["sex", "age_band"])[
        ["cases", "person_years"]].sum()
    rate = base["cases"] / base["person_years"]
    fut = obs.groupby(["sex", "age_band"])["person_years"].sum()
    constant = float((rate * fut).sum())
    # drift from 1994-2013, rates at 2013 compounded to each year 2014-18
    d = drift(series, site, (1994, 2013))
    fit = s[s["year"].between(1994, 2013)]
    from hna.incidence import trend_rates

    proj = trend_rates(fit[["age_band", "sex", "year", "cases", "person_years"]],
                       list(range(2014, 2019)))
    m = obs.merge(proj, on=["age_band", "sex", "year"], how="left")
    trend = float((m["rate"].fillna(0) * m["person_years"]).sum())
    # Nordpred, per sex, four observed periods
    nord = 0.0
    for sex in SEXES:
        ss = s[s["sex"] == sex]
        cases = _periods(ss[ss["year"] <= 2013], "cases", 1994, 4)
        pyr = _periods(ss, "person_years", 1994, 5)
        res = nordpred(cases, pyr, n_periods=4)
        nord += float(res.predictions.iloc[:, -1].sum())
    return {"observed": observed, "constant": constant, "trend": trend, "nordpred": nord,
            "drift_1994_2013": d}


def derive(shared: Path) -> dict:
    """Every derived table and number (no files written)."""
    series = read_scotland(shared)
    pop2018 = england_2018(shared)
    pop2010 = approx_2010(pop2018)
    out: dict = {"series": series}
    # soft tissue: narrow (NCIN 2010 level) and wide (GDO 2017-19 level)
    sh = shape(series, "sts")
    fit = narrow_fit(sh, pop2010)
    narrow = tilted(sh, fit["theta"])
    k = {"male": float(np.exp(fit["theta"][0])), "female": float(np.exp(fit["theta"][1])),
         "tilt_per_decade": float(fit["theta"][2]), "tilt_se": float(fit["se"][2]),
         "chi2": fit["chi2"]}
    # shape only (no tilt), level per sex from the ESP1976 rate: how far the proxy is off
    plain = checks(sh["rate"], pop2010)
    base = pd.concat({s: sh.loc[s, "rate"] * NCIN[s]["asr"] / plain[s]["asr"] for s in SEXES})
    base.index.names = ["sex", "age_band"]
    c = GDO_CASES / float((narrow * pop2018 / 1e5).sum())
    wide = narrow * c
    out["sts"] = {"shape": sh, "narrow": narrow, "wide": wide, "level_factor": k,
                  "wide_factor": c, "check_2010": checks(narrow, pop2010),
                  "check_wide_2018": checks(wide, pop2018),
                  "check_untilted_2010": checks(base, pop2010),
                  "narrow_2018_cases": float((narrow * pop2018 / 1e5).sum()),
                  "shape_cases": float(sh["cases"].sum())}
    # bone
    shb = shape(series, "bone")
    crude_uk = BONE_UK_CASES / BONE_UK_POP * 1e5
    kb = crude_uk / float((shb["rate"] * pop2018).sum() / pop2018.sum())
    bone = shb["rate"] * kb
    out["bone"] = {"shape": shb, "rates": bone, "level_factor": kb, "crude_uk": crude_uk,
                   "check_2018": checks(bone, pop2018), "shape_cases": float(shb["cases"].sum())}
    for site in SITES:
        out[site]["drift"] = drift(series, site, (1994, 2018))
        out[site]["hindcast"] = hindcast(series, site)
    out["pop2018"] = pop2018
    return out


# ---------------------------------------------------------------- writers
def _replace_between(text: str, begin: str, end: str, body: str, where: str) -> str:
    pattern = re.compile(rf"(^{re.escape(begin)}.*?$\n)(.*?)(^{re.escape(end)}.*?$)",
                         re.S | re.M)
    if not pattern.search(text):
        raise SystemExit(f"markers '{begin}' / '{end}' not found in {where}")
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def _table(rates: pd.Series) -> list[str]:
    return [f"    - {{age_band: \"{b}\", sex: {s}, rate: {rates.loc[(s, b)]:.4f}}}"
            for s in SEXES for b in BANDS]


def rates_block(kind: str, d: dict) -> str:
    """The YAML written between the derived-rates markers of one service file."""
    sts, bone = d["sts"], d["bone"]
    if kind == "bone":
        head = [
            "rates:", "  per: 100000", "  reference_year: 2010",
            f"  equivalent_cases: {bone['shape_cases']:.0f}",
            "  source: ncin_2013", "  derived_from: [phs_scotland_1994_2018, ons_mye_2010, "
            "ons_npp2018]",
            "  method: >-",
            "    Shape: Scottish Cancer Registry C40-C41 counts pooled 1994-2018 "
            f"({bone['shape_cases']:.0f} cases),",
            "    rates by sex and ESP2013 band. Level: one factor for both sexes "
            f"({bone['level_factor']:.4f}) so that",
            "    the crude rate on the England mid-2018 age-sex structure equals the UK 2010 "
            f"rate ({bone['crude_uk']:.3f}",
            "    per 100,000: 531 cases, NCIN via NICE QS78, over 62.26 million). Shape "
            "uncertainty: gamma per cell",
            "    as if from the Scottish cases; level: the uncertainty in the level of the "
            "rates (below). Derived by",
            "    hna's sarcoma rates script (method and checks: hna documentation, Methods, "
            "Sarcoma evidence).",
            "  table:"]
        body = _table(bone["rates"])
        unc = ["uncertainty:",
               "  rate_level: {distribution: gamma, cases: 531, source: ncin_2013, note: "
               "\"UK 2010 count behind the level\"}", _drift_line(bone["drift"])]
        return "\n".join(head + body + unc) + "\n"
    wide = kind == "wide"
    rates = sts["wide"] if wide else sts["narrow"]
    k = sts["level_factor"]
    head = ["rates:", "  per: 100000", f"  reference_year: {2018 if wide else 2010}",
            f"  equivalent_cases: {sts['shape_cases']:.0f}",
            f"  source: {'gdo_sts_2017_19' if wide else 'ncin_2013'}",
            "  derived_from: [phs_scotland_1994_2018, "
            + ("ncin_2013, " if wide else "")
            + "ncin_briefing_1990_2007, cruk_sts, esp1976, ons_npp2018]",
            "  method: >-",
            "    Shape: Scottish Cancer Registry C47+C49 counts pooled 2004-2018 "
            f"({sts['shape_cases']:.0f} cases), rates",
            "    by sex and ESP2013 band, times a level per sex "
            f"({k['male']:.3f} males, {k['female']:.3f} females) and an",
            f"    age tilt exp({k['tilt_per_decade']:.4f} (age - 60) / 10) fitted to NCIN "
            "England 2010 (crude and ESP1976 rates",
            "    by sex; 43% of cases at 65+, over 65% at 50+)" + ("," if wide else "."),
            *(["    then one factor for both sexes "
               f"({sts['wide_factor']:.4f}) so that England mid-2018 has 4,295 cases",
               "    (Get Data Out 2017-19)."] if wide else []),
            "    Shape uncertainty: gamma per cell as if from the Scottish cases; level: the "
            "uncertainty in the",
            "    level of the rates (below). Derived by hna's sarcoma rates script (method "
            "and checks: hna",
            "    documentation, Methods, Sarcoma evidence).",
            "  table:"]
    cases = GDO_CASES * GDO_YEARS if wide else NCIN["persons"]["cases"]
    src = "gdo_sts_2017_19" if wide else "ncin_2013"
    note = ("3 years x 4,295 cases behind the level" if wide
            else "England 2010 count behind the level (ESP1976 rates by sex)")
    unc = ["uncertainty:",
           f"  rate_level: {{distribution: gamma, cases: {cases}, source: {src}, "
           f"note: \"{note}\"}}", _drift_line(sts["drift"])]
    return "\n".join(head + _table(rates) + unc) + "\n"


def _drift_line(drift: dict) -> str:
    """The ``annual_change_percent`` distribution of a service: centre 0, SD of the fitted drift.

    The central projection holds the rates constant (the fitted drift is within one standard
    error of zero); every Monte Carlo draw samples an annual change from a normal distribution
    with the drift's standard error (Poisson SE x sqrt(Pearson dispersion)), so intervals widen
    with the years since the level's reference year.
    """
    return ("  annual_change_percent: {distribution: normal, mean: 0.0, "
            f"sd: {drift['annual_change_se_percent']:.2f}, source: phs_scotland_1994_2018, "
            "note: \"constant rates as the central case; SD = standard error of the drift "
            f"fitted to the Scottish series 1994-2018 ({drift['annual_change_percent']:+.2f}% a "
            "year)\"}")


def _fmt_row(cells: list) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def doc_fit(d: dict) -> str:
    """Markdown: profile fit against the published England figures."""
    sts = d["sts"]
    ch = sts["check_2010"]
    lines = ["| figure (England 2010, narrow definition) | published (NCIN 2013) | derived "
             "| difference | role |", "|---|---|---|---|---|"]
    for s, lab in (("male", "males"), ("female", "females"), ("persons", "persons")):
        pub = NCIN[s]
        fitted = "fitted" if s != "persons" else "check (not fitted)"
        lo_hi = f"; 95% CI {pub['ci'][0]}-{pub['ci'][1]}" if "ci" in pub else ""
        for key, what, role in (("asr", "ESP1976 ASR per million", fitted + lo_hi),
                                ("crude", "crude rate per million", fitted),
                                ("cases", "cases", "follows from the crude rate"
                                 if s != "persons" else "check (not fitted)")):
            val = ch[s][key]
            lines.append(_fmt_row([f"{what}, {lab}", pub[key],
                                   f"{val:.0f}" if key == "cases" else f"{val:.2f}",
                                   f"{100 * (val / pub[key] - 1):+.1f}%", role]))
    lines.append(_fmt_row(["share of cases aged 65+ (UK, CRUK)", "about 0.43",
                           f"{ch['share65']:.3f}", f"{ch['share65'] - SHARE_65:+.3f}",
                           "fitted (SE 0.02 assumed)"]))
    lines.append(_fmt_row(["share of cases aged 50+ (England 1990-2007)", "more than 0.65",
                           f"{ch['share50']:.3f}", f"{ch['share50'] - SHARE_50:+.3f}",
                           "fitted one-sided"]))
    u = sts["check_untilted_2010"]
    k = sts["level_factor"]
    lines += ["", f"Fitted: level factors on the Scottish shape {k['male']:.3f} (males) and "
              f"{k['female']:.3f} (females), age tilt {k['tilt_per_decade']:+.3f} per decade "
              f"of age (SE {k['tilt_se']:.3f}; rates multiplied by exp(tilt x (age - 60) / 10)), "
              f"weighted residual sum of squares {k['chi2']:.2f} on 6 figures and 3 parameters. "
              "Without the tilt (each sex scaled to its published standardised rate) the proxy "
              f"gives {u['persons']['cases']:,.0f} cases (crude "
              f"{u['persons']['crude']:.1f} per million), {u['share65']:.3f} at 65+ and "
              f"{u['share50']:.3f} at 50+: C47+C49 is older than the clinical definition "
              "because it misses sarcomas coded to their organ (e.g. uterine leiomyosarcoma).",
              ""]
    w = sts["check_wide_2018"]
    lines += ["", f"Wide definition: factor {sts['wide_factor']:.4f} on the narrow rates gives "
              f"{w['persons']['cases']:,.0f} cases on the England mid-2018 population "
              f"(crude {w['persons']['crude'] / 10:.2f} per 100,000; published 4,295 and 7.7). "
              f"The narrow rates give {sts['narrow_2018_cases']:,.0f} cases on the same "
              "population.", ""]
    b = d["bone"]["check_2018"]
    lines += [f"Bone (C40-C41 shape, UK 2010 level): {b['persons']['cases']:,.0f} cases on the "
              f"England mid-2018 population, crude {b['persons']['crude'] / 10:.3f} per "
              f"100,000 (UK 2010: {d['bone']['crude_uk']:.3f}); {100 * b['share65']:.0f}% of "
              f"cases at 65+, {100 * b['share50']:.0f}% at 50+.", ""]
    return "\n".join(lines)


def doc_rates(d: dict) -> str:
    """Markdown: the derived rates per 100,000 with the Scottish counts behind them."""
    sts, bone = d["sts"], d["bone"]
    lines = ["| band | STS cases F / M (Scotland 2004-18) | STS narrow F | STS narrow M "
             "| STS wide F | STS wide M | bone cases F / M (1994-2018) | bone F | bone M |",
             "|---|---|---|---|---|---|---|---|---|"]
    for band in BANDS:
        lines.append(_fmt_row([
            band,
            f"{sts['shape'].loc[('female', band), 'cases']:.0f} / "
            f"{sts['shape'].loc[('male', band), 'cases']:.0f}",
            f"{sts['narrow'].loc[('female', band)]:.3f}",
            f"{sts['narrow'].loc[('male', band)]:.3f}",
            f"{sts['wide'].loc[('female', band)]:.3f}", f"{sts['wide'].loc[('male', band)]:.3f}",
            f"{bone['shape'].loc[('female', band), 'cases']:.0f} / "
            f"{bone['shape'].loc[('male', band), 'cases']:.0f}",
            f"{bone['rates'].loc[('female', band)]:.3f}",
            f"{bone['rates'].loc[('male', band)]:.3f}"]))
    return "\n".join(lines) + "\n"


def doc_trend(d: dict) -> str:
    """Markdown: fitted drift and the 2014-2018 hindcast."""
    lines = ["| site | drift 1994-2018, % a year (SE) | Pearson dispersion | hindcast 2014-18 "
             "observed | constant 2009-13 rates | drift fitted 1994-2013 | Nordpred (4 periods) |",
             "|---|---|---|---|---|---|---|"]
    for site, label in (("sts", "soft tissue C47+C49"), ("bone", "bone C40-C41")):
        dr, h = d[site]["drift"], d[site]["hindcast"]

        def err(x: float, h: dict = h) -> str:
            return f"{x:,.0f} ({100 * (x / h['observed'] - 1):+.1f}%)"

        lines.append(_fmt_row([
            label, f"{dr['annual_change_percent']:+.2f} ({dr['annual_change_se_percent']:.2f})",
            f"{dr['dispersion']:.2f}", f"{h['observed']:,.0f}", err(h["constant"]),
            err(h["trend"]), err(h["nordpred"])]))
    return "\n".join(lines) + "\n"


def summary(d: dict) -> dict:
    """JSON-ready numbers (no tables)."""
    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if not isinstance(v, pd.Series | pd.DataFrame)}
        if isinstance(x, np.floating | float):
            return round(float(x), 6)
        return x
    return {site: clean(d[site]) for site in SITES}


def main(argv: list[str]) -> None:
    """Derive, then write the data files, service blocks and doc tables."""
    shared = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data"
    assert ESP1976.sum() == 100_000 and len(ESP1976) == 18
    d = derive(shared)
    OUT.mkdir(parents=True, exist_ok=True)
    cols = ["age_band", "sex", "year", "cases", "person_years"]
    for site in SITES:
        s = d["series"][d["series"]["site"] == site][cols].copy()
        s["person_years"] = s["person_years"].round(1)
        s.to_csv(OUT / f"scotland_{site}_yearly.csv", index=False, lineterminator="\n")
    (OUT / "derivation.json").write_text(json.dumps(summary(d), indent=1, sort_keys=True) + "\n")
    for name, kind in (("soft_tissue_sarcoma", "narrow"), ("soft_tissue_sarcoma_wide", "wide"),
                       ("bone_sarcoma", "bone")):
        path = SERVICES / f"{name}.yaml"
        path.write_text(_replace_between(path.read_text(), "# BEGIN derived rates",
                                         "# END derived rates", rates_block(kind, d), str(path)))
        print(f"wrote {path.relative_to(ROOT)}")
    doc = DOC.read_text()
    for tag, body in (("sarcoma-fit", doc_fit(d)), ("sarcoma-rates", doc_rates(d)),
                      ("sarcoma-trend", doc_trend(d))):
        doc = _replace_between(doc, f"<!-- BEGIN {tag}", f"<!-- END {tag}", body, str(DOC))
    DOC.write_text(doc)
    print(json.dumps(summary(d), indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)

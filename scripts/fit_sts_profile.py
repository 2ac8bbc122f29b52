"""Fit the soft tissue sarcoma (STS) age-sex incidence profile for England.

Run from the repository root: ``python scripts/fit_sts_profile.py [SHARED_DATA]`` (default
``../shared/data``). It rewrites

- the ``rates:`` block of ``parameters/services/soft_tissue_sarcoma.yaml`` (between the
  ``# BEGIN fitted rates`` and ``# END fitted rates`` lines), and
- the fit section of ``docs/services.md`` (between the ``<!-- BEGIN sts-fit -->`` and
  ``<!-- END sts-fit -->`` lines): targets, fitted values, residuals and the rates.

Why a fit: only national totals are published for England (NCIN 2013, England 2010: counts,
crude rates and ESP1976 age-standardised rates by sex; about 43% of UK cases at 65 and over;
more than 65% at 50 and over). A smooth age profile per sex that reproduces them is fitted, then
scaled to the planning definition (2017-19, wider morphology, England crude rate 7.7 per
100,000).

Model (per sex s, single year of age a, rate per million person-years)::

    r_s(a) = exp(alpha_s + beta_s * (a + 0.5 - 60) / 10) + c

a Gompertz-Makeham form: a log-linear rise with age (Gompertz) plus an age-independent rate
``c`` shared by both sexes, which carries the childhood and young-adult sarcomas
(rhabdomyosarcoma, synovial sarcoma). Five parameters, fitted by weighted least squares to six
targets: crude rate and ESP1976 age-standardised rate per sex (log scale, standard errors from
the published 95% CI, or from the count for crude rates), the share of cases at 65+ (0.43,
standard error 0.02, assumed) and the share at 50+ (one-sided: only a shortfall below 0.65 is
penalised, standard error 0.02).

England 2010 population: no age-sex table for 2010 is available to the project. The 2010 sex
totals are recovered from the published figures (cases / crude rate: males 25.74m, females
26.48m) and the mid-2018 England age structure within each sex (ONS NPP 2018 base year) is
used for the age split. The 2018 population is older than the 2010 one (about 18% vs 16% aged
65+), so crude/standardised ratios computed on it run slightly high; the fitted slope is
correspondingly a little flatter than a 2010 structure would give. This is stated next to the
residuals in docs/services.md.

ESP1976 weights (Waterhouse et al. 1976, IARC): 8000 for 0-4, 7000 for each band 5-9 ... 50-54,
then 6000, 5000, 4000, 3000, 2000, 1000, 1000 for 55-59 ... 80-84, 85+ (sum 100,000); checked
here and cross-checked against the ``esp1976_18ag`` weights of the SocEpi R package (CRAN).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

ROOT = Path(__file__).resolve().parents[1]
YAML = ROOT / "parameters" / "services" / "soft_tissue_sarcoma.yaml"
DOC = ROOT / "docs" / "services.md"

# ---------------------------------------------------------------- published targets
# NCIN 2013 (England 2010), per million population
PUBLISHED = {
    "male": {"cases": 1408, "crude": 54.7, "asr": 47.8, "asr_ci": (45.3, 50.5)},
    "female": {"cases": 1332, "crude": 50.3, "asr": 41.9, "asr_ci": (39.6, 44.4)},
    "persons": {"cases": 2740, "crude": 52.5, "asr": 44.9},
}
SHARE_65 = 0.43  # UK, share of cases diagnosed at 65 and over (CRUK)
SHARE_50_MIN = 0.65  # England 1990-2007, "more than 65%" at 50 and over (NCIN briefing)
SHARE_SE = 0.02  # assumed: the shares are rounded and come from other years/definitions

# Planning definition: NHS Digital Get Data Out, England 2017-19
PLANNING_CRUDE_PER_100K = 7.7
PLANNING_CASES_A_YEAR = 4295
PLANNING_YEARS = 3  # 2017-2019: rate uncertainty as if from 3 years of registrations
PLANNING_YEAR = 2018  # middle of 2017-19; mid-2018 population as denominator

ESP1976 = np.array([8000] + [7000] * 10 + [6000, 5000, 4000, 3000, 2000, 1000, 1000], float)
ESP1976_BANDS = [f"{lo}-{lo + 4}" for lo in range(0, 85, 5)] + ["85+"]
ESP2013_BANDS = [f"{lo}-{lo + 4}" for lo in range(0, 90, 5)] + ["90+"]
SEXES = ("female", "male")


def england_2018(shared: Path) -> dict[str, pd.Series]:
    """England mid-2018 population by single year of age (0..104, 107 for 105-109, 110+)."""
    src = shared / "population_projections" / "ons_npp2018_england_principal_sex_syoa_2018_2070.csv"
    df = pd.read_csv(src, dtype={"age": str})
    df = df[df["year"] == PLANNING_YEAR].copy()
    df["a"] = df["age"].str.extract(r"^(\d+)")[0].astype(int)
    df.loc[df["age"].str.contains("105"), "a"] = 107
    df["sex"] = df["sex"].str.lower()
    out = {s: df[df["sex"] == s].groupby("a")["population"].sum().astype(float) for s in SEXES}
    total = sum(v.sum() for v in out.values())
    assert abs(total - 55_977_178) < 1, total  # ONS mid-2018 England
    return out


def rate_per_million(theta: np.ndarray, sex: str, age: np.ndarray) -> np.ndarray:
    am, bm, af, bf, log_c = theta
    a, b = (am, bm) if sex == "male" else (af, bf)
    return np.exp(a + b * (age + 0.5 - 60.0) / 10.0) + np.exp(log_c)


def statistics(theta: np.ndarray, pop2018: dict[str, pd.Series]) -> dict:
    """Fitted counterparts of the published targets on the approximate 2010 population."""
    out: dict = {}
    cases_by_age = {}
    pop_by_age = {}
    for s in SEXES:
        ages = pop2018[s].index.to_numpy()
        total_2010 = PUBLISHED[s]["cases"] / (PUBLISHED[s]["crude"] / 1e6)
        pop = pop2018[s].to_numpy() / pop2018[s].sum() * total_2010
        cases = rate_per_million(theta, s, ages) * pop / 1e6
        band = np.minimum(ages // 5, 17)
        band_rate = np.bincount(band, cases, 18) / np.bincount(band, pop, 18) * 1e6
        out[s] = {"cases": cases.sum(), "crude": cases.sum() / pop.sum() * 1e6,
                  "asr": float(band_rate @ ESP1976 / ESP1976.sum())}
        cases_by_age[s], pop_by_age[s] = cases, pop
    ages = pop2018["male"].index.to_numpy()
    cases = cases_by_age["male"] + cases_by_age["female"]
    pop = pop_by_age["male"] + pop_by_age["female"]
    band = np.minimum(ages // 5, 17)
    band_rate = np.bincount(band, cases, 18) / np.bincount(band, pop, 18) * 1e6
    out["persons"] = {"cases": cases.sum(), "crude": cases.sum() / pop.sum() * 1e6,
                      "asr": float(band_rate @ ESP1976 / ESP1976.sum())}
    out["share65"] = cases[ages >= 65].sum() / cases.sum()
    out["share50"] = cases[ages >= 50].sum() / cases.sum()
    return out


def residuals(theta: np.ndarray, pop2018: dict[str, pd.Series]) -> np.ndarray:
    st = statistics(theta, pop2018)
    r = []
    for s in ("male", "female"):
        pub = PUBLISHED[s]
        se_crude = 1.0 / np.sqrt(pub["cases"])  # Poisson, log scale
        lo, hi = pub["asr_ci"]
        se_asr = (np.log(hi) - np.log(lo)) / (2 * 1.959964)
        r.append(np.log(st[s]["crude"] / pub["crude"]) / se_crude)
        r.append(np.log(st[s]["asr"] / pub["asr"]) / se_asr)
    r.append((st["share65"] - SHARE_65) / SHARE_SE)
    r.append(min(0.0, st["share50"] - SHARE_50_MIN) / SHARE_SE)
    return np.asarray(r)


def fit(pop2018: dict[str, pd.Series]) -> np.ndarray:
    theta0 = np.array([np.log(100), 0.3, np.log(80), 0.3, np.log(10)])
    res = least_squares(residuals, theta0, args=(pop2018,), method="trf", x_scale="jac")
    if not res.success:
        raise SystemExit(f"fit failed: {res.message}")
    return res.x


def band_rates(theta: np.ndarray, pop2018: dict[str, pd.Series], scale: float) -> pd.DataFrame:
    """ESP2013 band rates per 100,000 (population-weighted within band, mid-2018 ages)."""
    rows = []
    for s in SEXES:
        ages = pop2018[s].index.to_numpy()
        pop = pop2018[s].to_numpy()
        r = rate_per_million(theta, s, ages) * scale / 10.0  # per 100,000
        band = np.minimum(ages // 5, 18)
        br = np.bincount(band, r * pop, 19) / np.bincount(band, pop, 19)
        for b, label in enumerate(ESP2013_BANDS):
            rows.append({"age_band": label, "sex": s, "rate": br[b],
                         "population_2018": np.bincount(band, pop, 19)[b]})
    return pd.DataFrame(rows)


def _replace_between(text: str, begin: str, end: str, body: str, where: str) -> str:
    pattern = re.compile(rf"(^{re.escape(begin)}.*?$\n)(.*?)(^{re.escape(end)}.*?$)",
                         re.S | re.M)
    if not pattern.search(text):
        raise SystemExit(f"markers '{begin}' / '{end}' not found in {where}")
    return pattern.sub(lambda m: m.group(1) + body + m.group(3), text, count=1)


def yaml_block(rates: pd.DataFrame) -> str:
    lines = [
        "rates:",
        "  per: 100000",
        f"  reference_year: {PLANNING_YEAR}",
        f"  equivalent_cases: {PLANNING_CASES_A_YEAR * PLANNING_YEARS}",
        "  source: gdo_sts_2017_19",
        "  derived_from: [ncin_2013, ncin_briefing_1990_2007, cruk_sts, esp1976, ons_npp2018]",
        "  method: >-",
        "    Gompertz-Makeham age profile per sex, r(a) = exp(alpha + beta (a - 60) / 10) + c,",
        "    fitted to the England 2010 totals (NCIN 2013: crude and ESP1976 age-standardised",
        "    rates by sex; 43% of cases at 65+; over 65% at 50+) on the mid-2018 age structure,",
        "    then scaled (same factor for both sexes) so that the England crude rate in mid-2018",
        "    is 7.7 per 100,000 (Get Data Out 2017-19). Band rates are population-weighted means",
        "    of single-year rates. Rate uncertainty: as if from 3 years of registrations",
        "    (3 x 4,295 cases). See docs/services.md and scripts/fit_sts_profile.py.",
        "  table:",
    ]
    for r in rates.itertuples():
        lines.append(f"    - {{age_band: \"{r.age_band}\", sex: {r.sex}, rate: {r.rate:.4f}}}")
    return "\n".join(lines) + "\n"


def doc_block(theta: np.ndarray, st: dict, scale: float, rates: pd.DataFrame,
              planning_cases: float, planning_pop: float) -> str:
    def row(target, source, published, fitted, note="", digits=2):
        diff = f"{fitted - published:+.{digits}f}"
        rel = f"{100 * (fitted / published - 1):+.1f}%"
        return (f"| {target} | {source} | {published:g} | {fitted:.{digits}f} | {diff} | {rel} "
                f"| {note} |")

    am, bm, af, bf, log_c = theta
    lines = [
        "Fitted parameters (rate per million person-years, age a in years):",
        "",
        f"- males: r(a) = exp({am:.4f} + {bm:.4f} (a + 0.5 - 60) / 10) + {np.exp(log_c):.3f}",
        f"- females: r(a) = exp({af:.4f} + {bf:.4f} (a + 0.5 - 60) / 10) + {np.exp(log_c):.3f}",
        f"  (each decade of age multiplies the Gompertz term by {np.exp(bm):.3f} in males and "
        f"{np.exp(bf):.3f} in females; the shared constant {np.exp(log_c):.1f} per million "
        "carries the childhood and young-adult sarcomas)",
        "",
        "Targets (England 2010 unless stated) against the fitted profile on the approximate 2010 "
        "population:",
        "",
        "| target | source | published | fitted | difference | relative | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for s, label in (("male", "males"), ("female", "females")):
        pub = PUBLISHED[s]
        lo, hi = pub["asr_ci"]
        lines.append(row(f"crude rate, {label} (per million)", "ncin_2013", pub["crude"],
                         st[s]["crude"], "fitted"))
        within = "inside" if lo <= st[s]["asr"] <= hi else "outside"
        lines.append(row(f"ESP1976 ASR, {label} (per million)", "ncin_2013", pub["asr"],
                         st[s]["asr"], f"fitted; {within} the 95% CI {lo}-{hi}"))
        lines.append(row(f"cases, {label}", "ncin_2013", pub["cases"], st[s]["cases"],
                         "follows from the crude rate", 0))
    pp = PUBLISHED["persons"]
    lines.append(row("crude rate, persons (per million)", "ncin_2013", pp["crude"],
                     st["persons"]["crude"], "check (not fitted)"))
    lines.append(row("ESP1976 ASR, persons (per million)", "ncin_2013", pp["asr"],
                     st["persons"]["asr"], "check (not fitted)"))
    lines.append(row("cases, persons", "ncin_2013", pp["cases"], st["persons"]["cases"],
                     "check (not fitted)", 0))
    lines.append(row("share of cases aged 65+ (UK)", "cruk_sts", SHARE_65, st["share65"],
                     "fitted, SE 0.02 assumed", 3))
    lines.append(row("share of cases aged 50+ (England 1990-2007)", "ncin_briefing_1990_2007",
                     SHARE_50_MIN, st["share50"],
                     "fitted one-sided: published as 'more than 65%'", 3))
    lines += [
        "",
        "Planning definition (2017-19, wider morphology, Get Data Out): the 2010 profile is "
        f"multiplied by {scale:.4f} for both sexes so that the England crude rate on the mid-2018 "
        f"population ({planning_pop:,.0f}) is {PLANNING_CRUDE_PER_100K} per 100,000: "
        f"{planning_cases:,.0f} cases a year against the published {PLANNING_CASES_A_YEAR:,} "
        f"(the published 7.7 is rounded; 4,295 / {planning_pop:,.0f} = "
        f"{PLANNING_CASES_A_YEAR / planning_pop * 1e5:.2f} per 100,000).",
        "",
        "Rates per 100,000 person-years used by `soft_tissue_sarcoma.yaml` (ESP2013 bands):",
        "",
        "| age band | females | males |",
        "|---|---|---|",
    ]
    wide = rates.pivot(index="age_band", columns="sex", values="rate").reindex(ESP2013_BANDS)
    for band, r in wide.iterrows():
        lines.append(f"| {band} | {r['female']:.2f} | {r['male']:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> None:
    shared = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data"
    assert ESP1976.sum() == 100_000 and len(ESP1976) == 18
    pop2018 = england_2018(shared)
    theta = fit(pop2018)
    st = statistics(theta, pop2018)

    # planning scale: England crude rate 7.7 per 100,000 on the mid-2018 population
    cases_2010_def = sum((rate_per_million(theta, s, pop2018[s].index.to_numpy())
                          * pop2018[s].to_numpy()).sum() / 1e6 for s in SEXES)
    planning_pop = sum(pop2018[s].sum() for s in SEXES)
    planning_cases = PLANNING_CRUDE_PER_100K / 1e5 * planning_pop
    scale = planning_cases / cases_2010_def
    rates = band_rates(theta, pop2018, scale)
    check = (rates["rate"] * rates["population_2018"]).sum() / 1e5
    assert abs(check - planning_cases) / planning_cases < 1e-9, (check, planning_cases)

    text = YAML.read_text()
    text = _replace_between(text, "# BEGIN fitted rates", "# END fitted rates",
                            yaml_block(rates), str(YAML))
    YAML.write_text(text)
    print(f"wrote the rates block of {YAML.relative_to(ROOT)}")

    doc = DOC.read_text()
    doc = _replace_between(doc, "<!-- BEGIN sts-fit", "<!-- END sts-fit",
                           doc_block(theta, st, scale, rates, planning_cases, planning_pop),
                           str(DOC))
    DOC.write_text(doc)
    print(f"wrote the fit section of {DOC.relative_to(ROOT)}")
    for k in ("male", "female", "persons"):
        print(f"{k:8s} crude {st[k]['crude']:.2f} (pub {PUBLISHED[k]['crude']}), "
              f"ASR {st[k]['asr']:.2f} (pub {PUBLISHED[k]['asr']})")
    print(f"share 65+ {st['share65']:.3f} (0.43), share 50+ {st['share50']:.3f} (>0.65); "
          f"planning scale {scale:.4f}")


if __name__ == "__main__":
    main(sys.argv)

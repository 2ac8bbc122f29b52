"""Build hna's small bundled tables in hna/data/ from the open data in ../shared/data.

Run from the repository root (``make data`` or ``python scripts/build_data.py [SHARED_DATA]``).
Only small, aggregated, derived tables are written; the raw files are never copied. Every
output is described in hna/data/PROVENANCE.md, and hna/data/vintages.json records the
dataset, vintage, publisher and the SHA-256 of each source file used.

Outputs:
- population_mid2020_lad21.csv   mid-2020 population, 309 English LADs (2021 codes) x sex x 19 bands
- npp_growth_england.csv         national age-sex growth factors (2020-based interim and
                                 2018-based principal NPP), years 2020-2070, relative to 2020
- areas.csv                      code, name, level for every area hna knows
- lad21_region.csv               LAD (2021) -> ONS region (E12)
- lad21_icb22.csv                LAD (2021) -> ICB (E54, July 2022) with apportionment shares
- icb22_nhser.csv                ICB (E54, 2022) -> NHS England region (E40)
- code_changes.csv               retired and changed codes (LAD 2021->2023, ICB 2022->2023, ...)
- vintages.json                  provenance metadata read by hna.data_vintages()
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "hna" / "data"
BANDS = [f"{lo}-{lo + 4}" for lo in range(0, 90, 5)] + ["90+"]
ENGLAND_MID2020 = 56_550_138  # ONS MYE2 mid-2020, England (E92000001)


def _band(age: pd.Series) -> pd.Series:
    """Single-year age labels ('0'..'89', '90+', '105 - 109', '110 and over') -> ESP2013 band."""
    first = age.astype(str).str.extract(r"^(\d+)")[0].astype(int)
    idx = np.minimum(first // 5, 18)
    return pd.Series(np.asarray(BANDS, dtype=object)[idx], index=age.index)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_csv(df: pd.DataFrame, name: str) -> None:
    path = OUT / name
    tmp = path.with_suffix(".tmp")
    df.to_csv(tmp, index=False, lineterminator="\n")
    tmp.replace(path)
    print(f"wrote {path.relative_to(ROOT)} ({len(df):,} rows)")


def build_population(shared: Path) -> pd.DataFrame:
    """Mid-2020 LAD (2021 codes) population by sex and 19 ESP2013 bands from the ONS MYE CSV."""
    src = shared / "population_estimates" / "ons_mye_mid2020_2021geog_uk_all_areas_sex_syoa.csv"
    raw = pd.read_csv(src, dtype={"area_code": str, "age": str})
    lad = raw[raw["area_code"].str.match(r"^E0[6789]\d{6}$")].copy()
    lad["sex"] = lad["sex"].str.lower()
    lad["age_band"] = _band(lad["age"])
    out = (
        lad.groupby(["area_code", "sex", "age_band"], as_index=False)["population"].sum()
        .assign(year=2020)
    )
    out["age_band"] = pd.Categorical(out["age_band"], categories=BANDS, ordered=True)
    out = out.sort_values(["area_code", "sex", "age_band"])[
        ["area_code", "sex", "age_band", "year", "population"]
    ]
    total = int(out["population"].sum())
    if total != ENGLAND_MID2020:
        raise SystemExit(f"England mid-2020 total {total:,} != {ENGLAND_MID2020:,}")
    if out["area_code"].nunique() != 309:
        raise SystemExit("expected 309 English LADs on 2021 codes")
    _write_csv(out, "population_mid2020_lad21.csv")
    return raw


def build_growth(shared: Path) -> None:
    """National age-sex growth factors from the ONS 2020-based interim and 2018-based NPP."""
    frames = []
    specs = {
        "npp2020": "ons_npp2020_interim_england_principal_sex_syoa_2020_2070.csv",
        "npp2018": "ons_npp2018_england_principal_sex_syoa_2018_2070.csv",
    }
    for variant, fname in specs.items():
        p = pd.read_csv(shared / "population_projections" / fname, dtype={"age": str})
        p["sex"] = p["sex"].str.lower()
        p["age_band"] = _band(p["age"])
        g = p[p["year"] >= 2020].groupby(["sex", "age_band", "year"], as_index=False)[
            "population"
        ].sum()
        base = g[g["year"] == 2020].set_index(["sex", "age_band"])["population"]
        g["growth_from_2020"] = g["population"] / base.reindex(
            pd.MultiIndex.from_frame(g[["sex", "age_band"]])
        ).to_numpy()
        g.insert(0, "variant", variant)
        frames.append(g)
    out = pd.concat(frames, ignore_index=True)
    out["age_band"] = pd.Categorical(out["age_band"], categories=BANDS, ordered=True)
    out = out.sort_values(["variant", "sex", "age_band", "year"])
    out["growth_from_2020"] = out["growth_from_2020"].round(10)
    _write_csv(
        out[["variant", "sex", "age_band", "year", "population", "growth_from_2020"]],
        "npp_growth_england.csv",
    )


def build_lookups(shared: Path, mye: pd.DataFrame) -> None:
    """LAD -> region, LAD -> ICB (apportioned) and ICB -> NHS region lookups."""
    lk = shared / "lookups"
    rgn = pd.read_csv(lk / "lad21_rgn21_en.csv")
    _write_csv(
        rgn.rename(columns={"ltla21_code": "lad_code", "region21_code": "region_code"})[
            ["lad_code", "region_code"]
        ].sort_values("lad_code"),
        "lad21_region.csv",
    )
    lsoa = pd.read_csv(lk / "lsoa11_sicbl22_icb22_lad22_en_2022-07.csv")
    g = lsoa.groupby(["ltla22_code", "icb22_code"], as_index=False).size()
    g = g.rename(columns={"ltla22_code": "lad_code", "icb22_code": "icb_code", "size": "n_lsoa11"})
    g["share"] = (g["n_lsoa11"] / g.groupby("lad_code")["n_lsoa11"].transform("sum")).round(10)
    _write_csv(g.sort_values(["lad_code", "icb_code"]), "lad21_icb22.csv")

    icb = pd.read_csv(lk / "icb_to_nhser_en.csv")
    _write_csv(
        icb.rename(columns={"icb22_code": "icb_code"})[
            ["icb_code", "icb_ods", "nhser_code", "nhser_ods"]
        ].sort_values("icb_code"),
        "icb22_nhser.csv",
    )

    # Names of every area at every level.
    names = [
        rgn[["ltla21_code", "ltla21_name"]].set_axis(["code", "name"], axis=1).assign(level="lad"),
        rgn[["region21_code", "region21_name"]].drop_duplicates().set_axis(["code", "name"], axis=1)
        .assign(level="region"),
        icb[["icb22_code", "icb22_name"]].set_axis(["code", "name"], axis=1).assign(level="icb"),
        icb[["nhser_code", "nhser_name"]].drop_duplicates().set_axis(["code", "name"], axis=1)
        .assign(level="nhs_region"),
        pd.DataFrame({"code": ["E92000001"], "name": ["England"], "level": ["england"]}),
    ]
    areas = pd.concat(names, ignore_index=True).sort_values(["level", "code"])
    _write_csv(areas[["code", "name", "level"]], "areas.csv")

    # Code changes: LAD April 2023 reorganisation (from the ONS LAD22->LAD23 lookup), ICB codes
    # changed in 2023, and the earlier LAD mergers still met in older files.
    l23 = pd.read_csv(lk / "lad22_to_lad23.csv")
    l23 = l23[l23["ltla22_code"].str.startswith("E") & (l23["ltla22_code"] != l23["ltla23_code"])]
    lad_changes = pd.DataFrame(
        {
            "old_code": l23["ltla22_code"], "old_name": l23["ltla22_name"],
            "new_code": l23["ltla23_code"], "new_name": l23["ltla23_name"],
            "level": "lad", "effective": "2023-04-01", "kind": "merged",
            "source": "ONS LAD22_LAD23_UK_LU (lookups/lad22_to_lad23.csv)",
        }
    )
    icb_changes = pd.DataFrame(
        {
            "old_code": ["E54000052", "E54000053"],
            "old_name": ["NHS Surrey Heartlands Integrated Care Board", "NHS Sussex Integrated Care Board"],
            "new_code": ["E54000063", "E54000064"],
            "new_name": ["NHS Surrey Heartlands Integrated Care Board", "NHS Sussex Integrated Care Board"],
            "level": "icb", "effective": "2023-04-01", "kind": "recoded",
            "source": "ONS LSOA21_SICBL24_ICB24 lookup (April 2024) vs LSOA11_SICBL22_ICB22 (July 2022)",
        }
    )
    # Mergers before 2021 (ONS Register of Geographic Codes): the retired codes are still common
    # in older extracts, so hna names their successors instead of reporting them as unknown.
    older = [
        ("E07000004", "Aylesbury Vale", "E06000060", "Buckinghamshire", "2020-04-01"),
        ("E07000005", "Chiltern", "E06000060", "Buckinghamshire", "2020-04-01"),
        ("E07000006", "South Bucks", "E06000060", "Buckinghamshire", "2020-04-01"),
        ("E07000007", "Wycombe", "E06000060", "Buckinghamshire", "2020-04-01"),
        ("E07000150", "Corby", "E06000061", "North Northamptonshire", "2021-04-01"),
        ("E07000152", "East Northamptonshire", "E06000061", "North Northamptonshire", "2021-04-01"),
        ("E07000153", "Kettering", "E06000061", "North Northamptonshire", "2021-04-01"),
        ("E07000156", "Wellingborough", "E06000061", "North Northamptonshire", "2021-04-01"),
        ("E07000151", "Daventry", "E06000062", "West Northamptonshire", "2021-04-01"),
        ("E07000154", "Northampton", "E06000062", "West Northamptonshire", "2021-04-01"),
        ("E07000155", "South Northamptonshire", "E06000062", "West Northamptonshire", "2021-04-01"),
    ]
    older_df = pd.DataFrame(older, columns=["old_code", "old_name", "new_code", "new_name", "effective"])
    older_df = older_df.assign(
        level="lad", kind="merged", source="ONS Register of Geographic Codes (code history)"
    )
    changes = pd.concat([lad_changes, icb_changes, older_df], ignore_index=True)
    _write_csv(
        changes[["old_code", "old_name", "new_code", "new_name", "level", "effective", "kind", "source"]],
        "code_changes.csv",
    )

    # Region totals used as a check in the tests (direct ONS figures, not derived from LADs).
    reg = mye[(mye["geography"] == "Region") & mye["area_code"].str.startswith("E12")]
    checks = reg.groupby("area_code", as_index=False)["population"].sum()
    checks = checks.rename(columns={"area_code": "code"}).assign(year=2020)
    _write_csv(checks, "check_region_totals_mid2020.csv")


def build_esp2013(shared: Path) -> None:
    """ESP2013 weights (Eurostat 2013), 19 bands, as ``age_band, weight`` (sum 100,000)."""
    src = pd.read_csv(shared / "rates" / "esp2013_5yr_19bands.csv")
    out = src.rename(columns={"ageband": "age_band", "esp2013_weight": "weight"})[["age_band", "weight"]]
    if list(out["age_band"]) != BANDS or out["weight"].sum() != 100_000:
        raise SystemExit("ESP2013 weights do not have the 19 bands or do not sum to 100,000")
    _write_csv(out, "esp2013.csv")


def write_vintages(shared: Path) -> None:
    """Write hna/data/vintages.json: the vintage of every bundled table."""
    files = {
        "population_estimates/ons_mye_mid2020_2021geog_uk_all_areas_sex_syoa.csv": {
            "dataset": "ONS mid-year population estimates (MYE2), mid-2020, 2021 LA geography",
            "vintage": "mid-2020 (published June 2021)",
        },
        "population_projections/ons_npp2020_interim_england_principal_sex_syoa_2020_2070.csv": {
            "dataset": "ONS 2020-based interim national population projections, England, principal",
            "vintage": "2020-based interim (published January 2022)",
        },
        "population_projections/ons_npp2018_england_principal_sex_syoa_2018_2070.csv": {
            "dataset": "ONS 2018-based national population projections, England, principal",
            "vintage": "2018-based (published October 2019)",
        },
        "lookups/lsoa11_sicbl22_icb22_lad22_en_2022-07.csv": {
            "dataset": "ONS LSOA (2011) to Sub-ICB Location to ICB to LAD (July 2022) lookup",
            "vintage": "July 2022",
        },
        "lookups/lad21_rgn21_en.csv": {"dataset": "ONS LAD (2021) to region lookup", "vintage": "2021"},
        "lookups/icb_to_nhser_en.csv": {
            "dataset": "ICB (2022) to NHS England region (E40), derived from ONS/NHS ODS codes",
            "vintage": "2022",
        },
        "lookups/lad22_to_lad23.csv": {"dataset": "ONS LAD22 to LAD23 lookup", "vintage": "April 2023"},
    }
    meta = {
        "publisher": "Office for National Statistics (ONS); NHS England (ODS codes)",
        "licence": "Open Government Licence v3.0",
        "sources": [
            {"file": k, **v, "sha256": _sha256(shared / k)} for k, v in files.items()
        ],
    }
    path = OUT / "vintages.json"
    path.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    print(f"wrote {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    """Build every bundled table from ../shared/data; returns the exit status."""
    shared = Path(argv[1]) if len(argv) > 1 else ROOT.parent / "shared" / "data"
    if not shared.is_dir():
        print(f"shared data folder not found: {shared}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    mye = build_population(shared)
    build_growth(shared)
    build_lookups(shared, mye)
    build_esp2013(shared)
    write_vintages(shared)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))

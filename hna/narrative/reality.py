"""Reality check for national reports: centres sustainable against the centres that exist.

A national report (footprint England, E92000001) of a service with a published count of
existing centres (``hna/data/sarcoma/existing_centres.csv``, NHS England service specification
170122S for the sarcoma services) gets a table and a sentence comparing:

- the centres England could sustain: the largest k with P(every centre >= minimum) at the
  assessment's level (``centres_sustainable_p80`` for the default 0.8; multinomial allocation of
  each draw's cases, :func:`hna.thresholds.viability`), and the arithmetic ``floor(E / m)``;
- the centres that exist, and the mean new patients each would see, ``E / k_existing``
  (E = the expected value, the same central value as the report's summary box).

Formatting only: the numbers come from :func:`hna.thresholds.assess`. Notebooks show
``narrative.statement(reality_check_text(a))`` and ``narrative.table(reality_check_report(a))``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from hna import formatting as fmt
from hna.codes import ENGLAND
from hna.errors import DataError

__all__ = ["existing_centres", "reality_check_table", "reality_check_text", "reality_check_report",
           "ENGLAND_CODE"]

#: The footprint a reality check applies to (national reports only).
ENGLAND_CODE = ENGLAND  # re-exported name; the code lives in hna.codes
_TABLE = Path(__file__).resolve().parents[1] / "data" / "sarcoma" / "existing_centres.csv"
_NEED = ["service", "centres", "what", "publisher", "title", "section", "year"]


@lru_cache(maxsize=4)
def _read(path: str) -> pd.DataFrame:
    try:
        df = pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - any parser failure is a format problem
        raise DataError(f"cannot read CSV ({exc})", source=path) from None
    missing = [c for c in _NEED if c not in df.columns]
    if missing:
        raise DataError("missing column", source=path, field=missing[0])
    return df


def existing_centres(service_id: str, path: str | Path | None = None) -> dict[str, Any] | None:
    """The centres that exist in England for a service, with their citation, or ``None``.

    Args:
        service_id: the service's id (``soft_tissue_sarcoma``, ``bone_sarcoma`` ...).
        path: the table (default ``hna/data/sarcoma/existing_centres.csv``).

    Returns:
        ``{"centres", "what", "citation", "section"}`` or ``None`` when not listed.
    """
    df = _read(str(path or _TABLE))
    rows = df[df["service"] == service_id]
    if rows.empty:
        return None
    r = rows.iloc[0]
    return {"centres": int(r["centres"]), "what": str(r["what"]),
            "citation": f"{r['publisher']}, {r['title']} ({int(r['year'])})",
            "section": str(r["section"])}


def _level_column(by_year: pd.DataFrame) -> str | None:
    cols = [c for c in by_year.columns if str(c).startswith("centres_sustainable_p")]
    return cols[0] if cols else None


def reality_check_table(assessment: Any, path: str | Path | None = None) -> pd.DataFrame | None:
    """Per year: centres sustainable (at the level, and arithmetic) against centres existing.

    Args:
        assessment: a :class:`hna.thresholds.Assessment` for England.
        path: the existing-centres table (default shipped table).

    Returns:
        ``year, mean_cases, minimum_per_centre, centres_sustainable_at_level,
        centres_on_mean, centres_existing, mean_cases_per_existing_centre`` or ``None`` (not a
        national report, or no published count of centres for the service). ``mean_cases``
        is the expected value (the report's one central value, as in the summary box), and
        only the years with a centres-sustainable-at-level figure are kept (the first and
        horizon years) so the table has no "n/a" rows.
    """
    h = assessment.headline
    if str(h.get("footprint")) != ENGLAND_CODE:
        return None
    found = existing_centres(str(h.get("service")), path)
    if found is None:
        return None
    by = assessment.by_year
    by = by[by["area_code"] == ENGLAND_CODE] if "area_code" in by.columns else by
    lev = _level_column(by)
    if lev:  # the level figure exists for the first and horizon years only
        by = by[by[lev].notna()]
    k = found["centres"]
    cases = by["expected"].to_numpy(float)  # the summary box's central value (draw-0 central)
    return pd.DataFrame({
        "year": by["year"].astype(int).to_numpy(),
        "mean_cases": cases,
        "minimum_per_centre": float(h["minimum_per_centre"]),
        "centres_sustainable_at_level": (by[lev].to_numpy() if lev else pd.NA),
        "centres_on_mean": by["centres_on_mean"].to_numpy(),
        "centres_existing": k,
        "mean_cases_per_existing_centre": cases / k,
    })


def reality_check_text(assessment: Any, path: str | Path | None = None) -> str | None:
    """One paragraph for the report: sustainable vs existing centres, and why they differ.

    Returns ``None`` when :func:`reality_check_table` does.
    """
    t = reality_check_table(assessment, path)
    if t is None:
        return None
    h = assessment.headline
    found = existing_centres(str(h["service"]), path)
    row = t.iloc[0]
    level = float(h.get("level") or 0.8)
    m = row["minimum_per_centre"]
    centre = str(h.get("centre") or "centre")
    sust = row["centres_sustainable_at_level"]
    on_mean = int(row["centres_on_mean"])
    if pd.notna(sust):
        sust_txt = (f"{int(sust):,} {centre}s of at least {m:,.0f} each (with {level:.0%} "
                    f"probability that every one reaches it; {on_mean:,} on the arithmetic "
                    "floor(E / m))")
    else:
        sust_txt = f"{on_mean:,} {centre}s of at least {m:,.0f} each (floor(E / m))"
    more = row["centres_existing"] < (sust if pd.notna(sust) else on_mean)
    why = ("They differ because the minimum is a floor for safe practice, not a target size: "
           "the existing centres are larger than the minimum, concentrating scarce surgical, "
           "pathology and radiology expertise, and their networks draw patients across "
           "commissioning boundaries (cross-boundary flows to the nearest designated centre), "
           "so national demand divided by the minimum overstates the number of centres a "
           "designation would choose." if more else
           "More centres exist than demand sustains at the minimum: some see fewer new "
           "patients than the minimum, or share patients across sites.")
    quality = str(h.get("quality") or "")
    qual = f" Evidence quality for this service: {quality}." if quality == "low" else ""
    return (f"Reality check ({int(row['year'])}): England's {row['mean_cases']:,.0f} expected "
            f"{h.get('measure', 'cases')} a year could sustain {sust_txt}; "
            f"{int(row['centres_existing']):,} exist ({found['what']}; {found['citation']}), "
            f"about {row['mean_cases_per_existing_centre']:,.0f} each on average. {why}{qual}")


def reality_check_report(assessment: Any, path: str | Path | None = None) -> pd.DataFrame | None:
    """:func:`reality_check_table` for reviewers: human headers, values via hna.formatting."""
    t = reality_check_table(assessment, path)
    if t is None:
        return None
    level = float(assessment.headline.get("level") or 0.8)
    return pd.DataFrame({
        "Year": [fmt.fmt_year(y) for y in t["year"]],
        "Expected new cases a year": [fmt.fmt_count(v) for v in t["mean_cases"]],
        "Minimum per centre": [fmt.fmt_count(v) for v in t["minimum_per_centre"]],
        f"Centres sustainable with {level:.0%} probability": [
            fmt.fmt_count(v) for v in t["centres_sustainable_at_level"]],
        "Centres on floor(E / m)": [fmt.fmt_count(v) for v in t["centres_on_mean"]],
        "Centres that exist": [fmt.fmt_count(v) for v in t["centres_existing"]],
        "New cases per existing centre": [
            fmt.fmt_count(v) for v in t["mean_cases_per_existing_centre"]],
    })

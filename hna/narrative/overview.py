"""The footprint overview: which footprint fits which service, with totals that add up.

Works on the table of :func:`hna.thresholds.overview` (one row per service x footprint). England
(``E92000001``) is shown on its own row and never added to the regions; the sum of the NHS
regions is shown beside it as a check (they partition England, so the two agree up to rounding).
Demand figures here are expected values (rate x population, or the model's expected run), the
same central value the service reports show.
"""

from __future__ import annotations

import pandas as pd

from hna import formatting as fmt
from hna.codes import ENGLAND

__all__ = ["split_england", "headline", "services_table", "matrix", "totals_check",
           "england_totals"]


def split_england(overview: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The overview rows without England, and England's rows (possibly empty)."""
    is_eng = overview["area_code"] == ENGLAND
    return overview[~is_eng], overview[is_eng]


def headline(overview: pd.DataFrame, horizon: int) -> str:
    """The answer first: for each service, which footprints sustain a centre at ``horizon``.

    Returns:
        Markdown: one bullet per service naming the footprints that fit and those that do not
        (England is not counted as a footprint here).
    """
    local, _ = split_england(overview)
    lines = [f"**Which footprint fits which service, {fmt.fmt_year(horizon)}** (a footprint "
             "fits when its expected demand sustains at least one centre at the service's "
             "critical mass):", ""]
    for _, part in local.groupby("service_name", sort=True):
        name = part["service_name"].iloc[0]
        fits = part[part["fits"].astype(bool)]
        short = part[~part["fits"].astype(bool)]
        text = f"- **{name}**: {len(fits)} of {len(part)} footprints fit"
        if len(fits) and len(short):
            text += f"; too small: {fmt.fmt_list(short['name'])}"
        elif not len(fits):
            text += " (none sustains a centre alone: plan across footprints)"
        if len(fits):
            most = fits.sort_values("centres_horizon", ascending=False).iloc[0]
            text += (f". Most centres: {most['name']} "
                     f"({fmt.fmt_count(most['centres_horizon'])})")
        lines.append(text + ".")
    return "\n".join(lines)


def england_totals(overview: pd.DataFrame, england: pd.DataFrame | None = None) -> pd.DataFrame:
    """England's row per service: from the overview, or from ``england`` (an overview of E92000001)."""
    _, eng = split_england(overview)
    if not len(eng) and england is not None:
        eng = england
    return eng.set_index("service")


def services_table(overview: pd.DataFrame, england: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per service: critical mass, planning population, tier, England demand, fit.

    Args:
        overview: rows of :func:`hna.thresholds.overview`.
        england: England's overview rows when the overview's footprints do not include England.
    """
    local, _ = split_england(overview)
    eng = england_totals(overview, england)
    rows = []
    for sid, part in local.groupby("service", sort=False):
        first = part.iloc[0]
        e = eng.loc[sid] if sid in eng.index else None
        rows.append({
            "Service": first["service_name"],
            "Critical mass per centre": round(float(first["minimum_per_centre"])),
            "Minimum planning population": round(float(first["planning_population"])),
            "Tier": str(first["tier"] or "no tier").replace("_", " "),
            "England demand, first year": None if e is None else round(float(e["demand_now"])),
            "England demand, horizon": None if e is None else round(float(e["demand_horizon"])),
            "Footprints that fit": f"{int(part['fits'].sum())} of {len(part)}",
        })
    out = pd.DataFrame(rows)
    for c in ("England demand, first year", "England demand, horizon"):
        out[c] = out[c].astype("Int64")
    return out


def matrix(overview: pd.DataFrame, value: str = "centres_horizon",
           england: pd.DataFrame | None = None) -> pd.DataFrame:
    """Footprints x services of one column (whole numbers), England last and apart.

    The footprints' rows come first, then "Sum of the footprints above" (only when the
    footprints are England's NHS regions or regions, which partition it), then England.
    """
    local, eng = split_england(overview)
    if not len(eng) and england is not None:
        eng = england
    names = dict(zip(overview["service"], overview["service_name"], strict=False))

    def pivot(df: pd.DataFrame) -> pd.DataFrame:
        t = df.pivot_table(index=["name", "area_code"], columns="service", values=value,
                           sort=False)
        return t.reset_index()

    body = pivot(local)
    parts = [body]
    partition = len(local) and local["area_code"].str[:3].isin(["E40", "E12"]).all()
    if partition and len(eng) and not value.startswith("centres"):
        total = body.drop(columns=["name", "area_code"]).sum().to_frame().T
        total.insert(0, "area_code", "")
        total.insert(0, "name", "Sum of the footprints above (check)")
        parts.append(total)
    if len(eng):
        parts.append(pivot(eng))
    out = pd.concat(parts, ignore_index=True)
    for c in out.columns[2:]:
        out[c] = out[c].round(0).astype("Int64")
    return out.rename(columns={"name": "Footprint", "area_code": "Code", **names})


def totals_check(overview: pd.DataFrame, england: pd.DataFrame | None = None,
                 tolerance: float = 0.005) -> pd.DataFrame:
    """England's expected demand against the sum of the NHS regions, per service.

    Returns:
        ``Service, England, Sum of regions, Difference (%)`` for services whose overview covers
        England's NHS regions (or regions); empty otherwise. ``tolerance`` is the share above
        which the check says "No".
    """
    local, _ = split_england(overview)
    eng = england_totals(overview, england)
    rows = []
    for sid, part in local.groupby("service", sort=False):
        if sid not in eng.index:
            continue
        for prefix in ("E40", "E12"):
            reg = part[part["area_code"].str.startswith(prefix)]
            if len(reg) and len(reg) == len(part):
                tot, e = float(reg["demand_now"].sum()), float(eng.loc[sid, "demand_now"])
                rows.append({"Service": part["service_name"].iloc[0], "England": round(e),
                             "Sum of regions": round(tot),
                             "Difference (%)": fmt.fmt_percent(round(100 * (tot - e) / e, 2) + 0.0, 2),
                             "Agrees": abs(tot - e) <= tolerance * e})
    return pd.DataFrame(rows)

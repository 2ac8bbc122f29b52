"""Area codes, hierarchy lookups and footprints.

hna's base geography is the 309 English local authority districts (LADs) on April 2021 codes,
the geography of the bundled mid-2020 population. Every footprint is a set of LADs with a
share each (1 for whole districts):

- ``lad``: the district itself;
- ``region`` (E12): LADs nest exactly in ONS regions;
- ``icb`` (E54, July 2022 boundaries): ICBs are built from LSOAs, and 12 districts straddle two
  ICBs. Such a district is apportioned by the share of its population living in the LSOAs
  (2011) of each ICB (ONS LSOA11 -> SICBL22 -> ICB22 -> LAD22 lookup; ONS SAPE20DT1 mid-2017
  LSOA populations; ``scripts/build_small_areas.py``). Until hna 0.x the share of LSOA *counts*
  was used; the change moves at most 2.3 percentage points of a district (Hertsmere: 50.0% ->
  52.3% in E54000023), see ``hna/data/PROVENANCE_small_areas.md``;
- ``nhs_region`` (E40): the union of its ICBs (so it also carries ICB apportionment);
- ``england`` (E92000001): all districts.

Custom footprints (a historical SCG, a two-ICB collaborative) are unions of areas at any
level, defined in ``parameters/footprints/*.yaml`` or in Python with :func:`union`.

Subpackages: :mod:`hna.geography.boundaries` (boundary files, hex layout),
:mod:`hna.geography.small_areas` (LSOA populations, centroids, apportionment, deprivation),
:mod:`hna.geography.travel` (road, user and straight-line travel times),
:mod:`hna.geography.sites` (hospital sites and candidate lists).

Code changes are recognised: the April 2023 LADs (Cumberland, Westmorland and Furness, North
Yorkshire, Somerset) resolve to the union of their 2021 predecessors; ICB codes E54000063/64
(2023) resolve to E54000052/53 (July 2022 boundaries, which differ by 4 LSOAs of Chichester);
retired codes (e.g. Corby) give an error naming their successor.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from hna.codes import ENGLAND, LEVEL_PREFIXES
from hna.errors import DataError, ParameterError
from hna.parameters import PARAMETERS_DIR, read_parameter_file

__all__ = [
    "LEVELS",
    "ENGLAND",
    "Footprint",
    "areas",
    "area_name",
    "footprint_name",
    "footprint_codes",
    "lad_membership",
    "resolve_footprint",
    "load_footprints",
    "list_footprints",
    "aggregate",
    "aggregate_level",
    "code_changes",
    "union",
]

LEVELS: tuple[str, ...] = ("lad", "region", "icb", "nhs_region", "england")
_PREFIX_LEVEL = LEVEL_PREFIXES
_LEVEL_ALIASES = {
    "lad": "lad", "ltla": "lad", "district": "lad", "districts": "lad",
    "region": "region", "regions": "region", "ons_region": "region", "rgn": "region",
    "icb": "icb", "icbs": "icb", "stp": "icb",
    "nhs_region": "nhs_region", "nhs_regions": "nhs_region", "nhser": "nhs_region",
    "england": "england", "national": "england", "country": "england",
}
FOOTPRINTS_DIR = PARAMETERS_DIR / "footprints"


def _read(name: str) -> pd.DataFrame:
    with (resources.files("hna") / "data" / name).open("r") as fh:
        return pd.read_csv(fh, dtype=str)


@lru_cache(maxsize=1)
def areas() -> pd.DataFrame:
    """Every area hna knows: ``code, name, level``."""
    return _read("areas.csv")


@lru_cache(maxsize=1)
def code_changes() -> pd.DataFrame:
    """Retired and changed codes.

    Columns ``old_code, old_name, new_code, new_name, level, effective, kind, source``.
    """
    return _read("code_changes.csv")


@lru_cache(maxsize=1)
def _lad_icb() -> pd.DataFrame:
    t = _read("lad21_icb22.csv")
    t["n_lsoa11"] = t["n_lsoa11"].astype(int)
    t["population"] = t["population"].astype(float)
    t["share"] = t["population"] / t.groupby("lad_code")["population"].transform("sum")
    return t


def lad_membership(level: str) -> pd.DataFrame:
    """Membership of every footprint of ``level`` as ``code, lad_code, share``."""
    return _lad_membership(_level(level)).copy()


@lru_cache(maxsize=8)
def _lad_membership(level: str) -> pd.DataFrame:
    rgn = _read("lad21_region.csv")
    if level == "lad":
        return pd.DataFrame({"code": rgn["lad_code"], "lad_code": rgn["lad_code"], "share": 1.0})
    if level == "region":
        return pd.DataFrame({"code": rgn["region_code"], "lad_code": rgn["lad_code"], "share": 1.0})
    if level == "england":
        return pd.DataFrame({"code": ENGLAND, "lad_code": rgn["lad_code"], "share": 1.0})
    li = _lad_icb()
    if level == "icb":
        return li.rename(columns={"icb_code": "code"})[["code", "lad_code", "share"]]
    nh = _read("icb22_nhser.csv")[["icb_code", "nhser_code"]]
    m = li.merge(nh, on="icb_code", how="left")
    m = m.groupby(["nhser_code", "lad_code"], as_index=False)["share"].sum()
    return m.rename(columns={"nhser_code": "code"})[["code", "lad_code", "share"]]


def _level(level: str) -> str:
    key = str(level).strip().lower().replace("-", "_").replace(" ", "_")
    if key not in _LEVEL_ALIASES:
        raise ParameterError("unknown footprint level", field="level", value=level,
                             hint=f"Use one of {', '.join(LEVELS)}")
    return _LEVEL_ALIASES[key]


def footprint_codes(level: str) -> list[str]:
    """GSS codes of every footprint at ``level`` (sorted)."""
    return sorted(lad_membership(level)["code"].unique())


def area_name(code: str) -> str:
    """Name of a GSS area code (or the code itself if unnamed)."""
    a = areas()
    hit = a.loc[a["code"] == code, "name"]
    if len(hit):
        return hit.iloc[0]
    ch = code_changes()
    hit = ch.loc[ch["new_code"] == code, "new_name"]
    return hit.iloc[0] if len(hit) else code


# --------------------------------------------------------------------------- footprints
@dataclass(frozen=True)
class Footprint:
    """A planning footprint: a named set of LADs with shares.

    Attributes:
        code: GSS code, or an identifier for a custom footprint.
        name: human-readable name.
        level: ``lad``, ``region``, ``icb``, ``nhs_region``, ``england`` or ``custom``.
        members: ``lad_code, share`` (share of each district's population in the footprint).
        note: anything a reviewer should know (apportionment, code changes).
        source: where a custom footprint's definition comes from.
    """

    code: str
    name: str
    level: str
    members: pd.DataFrame = field(repr=False, compare=False)
    note: str = ""
    source: str = ""

    @property
    def n_districts(self) -> int:
        """Number of districts (whole or in part) in the footprint."""
        return int(self.members["lad_code"].nunique())


class _FootprintSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    name: str
    description: str = ""
    union: list[str] = Field(min_length=1)
    source: str = Field(min_length=3)

    @field_validator("union")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        return [str(c).strip() for c in v]


class _FootprintFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    footprints: list[_FootprintSpec]


def _near(code: str, candidates: list[str], names: dict[str, str]) -> str:
    close = difflib.get_close_matches(code, candidates, n=3, cutoff=0.6)
    lowered = {n.lower(): c for c, n in names.items()}
    by_name = [lowered[n] for n in difflib.get_close_matches(code.lower(), list(lowered), n=3, cutoff=0.6)]
    hits = list(dict.fromkeys(close + by_name))
    if not hits:
        return ""
    return "Did you mean " + ", ".join(f"{c} ({names.get(c, c)})" for c in hits) + "?"


def _custom_footprints() -> dict[str, Footprint]:
    out = {}
    for spec in load_footprints():
        out[spec.code] = spec
    return out


def _lad_union(codes: list[str], source: str) -> pd.DataFrame:
    parts = []
    for c in codes:
        fp = resolve_footprint(c, _allow_custom=False)
        parts.append(fp.members)
    m = pd.concat(parts, ignore_index=True).groupby("lad_code", as_index=False)["share"].sum()
    over = m[m["share"] > 1 + 1e-9]
    if len(over):
        raise ParameterError("areas in the union overlap (a district would be counted twice)",
                             source=source, field="union", value=over["lad_code"].iloc[0],
                             hint="List each area once, at one level")
    return m


def load_footprints(directory: str | Path | None = None) -> list[Footprint]:
    """Load the custom footprints defined in ``parameters/footprints/*.yaml``."""
    d = Path(directory) if directory else FOOTPRINTS_DIR
    if not d.is_dir():
        return []
    out: list[Footprint] = []
    for path in sorted(d.glob("*.yaml")):
        out.extend(read_footprint_file(path))
    return out


def read_footprint_file(path: str | Path) -> list[Footprint]:
    """Read and validate one footprint YAML file."""
    path = Path(path)
    spec = read_parameter_file(path, _FootprintFile)
    out = []
    for s in spec.footprints:
        members = _lad_union(s.union, str(path))
        out.append(Footprint(code=s.code, name=s.name, level="custom", members=members,
                             note=s.description, source=s.source))
    return out


def list_footprints(level: str | None = None) -> pd.DataFrame:
    """Footprints available: ``code, name, level, districts`` (all levels and custom ones)."""
    rows = []
    levels = [_level(level)] if level and level != "custom" else list(LEVELS)
    if level != "custom":
        for lv in levels:
            mem = lad_membership(lv)
            n = mem.groupby("code")["lad_code"].nunique()
            for code, k in n.items():
                rows.append({"code": code, "name": area_name(code), "level": lv, "districts": int(k)})
    if level in (None, "custom"):
        for fp in load_footprints():
            rows.append({"code": fp.code, "name": fp.name, "level": "custom",
                         "districts": fp.n_districts})
    return pd.DataFrame(rows, columns=["code", "name", "level", "districts"])


def resolve_footprint(code_or_name: str, _allow_custom: bool = True) -> Footprint:
    """Find a footprint by GSS code, custom code or (unambiguous) name.

    Raises:
        ParameterError: unknown or retired code, with near matches or the successor named.
    """
    key = str(code_or_name).strip()
    a = areas()
    names = dict(zip(a["code"], a["name"], strict=True))
    if _allow_custom:
        custom = _custom_footprints()
        if key in custom:
            return custom[key]
    code = key.upper() if re.fullmatch(r"[A-Za-z]\d{8}", key) else key
    if code in names:
        level = _PREFIX_LEVEL.get(code[:3])
        mem = lad_membership(level)
        members = mem.loc[mem["code"] == code, ["lad_code", "share"]].reset_index(drop=True)
        note = ""
        if level == "icb" and (members["share"] < 1).any():
            note = ("districts split between ICBs are apportioned by their share of LSOAs "
                    "(ONS LSOA11-ICB22 lookup, July 2022)")
        if level == "nhs_region":
            note = "union of ICBs (July 2022); districts split between ICBs apportioned by LSOA share"
        return Footprint(code=code, name=names[code], level=level, members=members, note=note,
                         source="ONS/NHS England lookups bundled in hna/data")
    ch = code_changes()
    newer = ch[ch["new_code"] == code]
    if len(newer):
        row = newer.iloc[0]
        if row["kind"] == "recoded":
            fp = resolve_footprint(row["old_code"], _allow_custom=False)
            return Footprint(code=code, name=row["new_name"], level=fp.level, members=fp.members,
                             note=(f"{code} is the {row['effective'][:4]} code of {row['old_code']}; "
                                   "population uses the July 2022 ICB boundaries (they differ from "
                                   "2024 by 4 LSOAs of Chichester)"),
                             source=row["source"])
        olds = [c for c in newer["old_code"] if c in names]
        if olds:
            members = pd.DataFrame({"lad_code": olds, "share": 1.0})
            return Footprint(code=code, name=row["new_name"], level="lad", members=members,
                             note=(f"{code} ({row['new_name']}) was formed on {row['effective']} "
                                   f"from {', '.join(olds)}; built from those 2021 districts"),
                             source=row["source"])
    older = ch[ch["old_code"] == code]
    if len(older):
        row = older.iloc[0]
        if row["new_code"] in names or (ch["new_code"] == row["new_code"]).any():
            raise ParameterError(
                f"retired area code: {row['old_name']} became part of {row['new_code']} "
                f"({row['new_name']}) on {row['effective']}",
                field="footprint", value=code,
                hint=f"Use {row['new_code']}" + (
                    "" if row["new_code"] in names else " (or its 2021 predecessors)"),
            )
    exact = [c for c, n in names.items() if n.lower() == key.lower()]
    if len(exact) > 1:
        raise ParameterError(
            "ambiguous footprint name", field="footprint", value=key,
            hint="Use a code: " + ", ".join(f"{c} ({_PREFIX_LEVEL.get(c[:3])})" for c in exact))
    if exact:
        return resolve_footprint(exact[0], _allow_custom=False)
    partial = [c for c, n in names.items() if key.lower() in n.lower()]
    if len(partial) == 1:
        return resolve_footprint(partial[0], _allow_custom=False)
    hint = _near(code, list(names), names) or "Run 'hna footprints list' to see the codes"
    raise ParameterError("unknown area code or footprint", field="footprint", value=key, hint=hint)


def footprint_name(code: str) -> str:
    """Name of a footprint code (GSS or custom)."""
    return resolve_footprint(code).name


# --------------------------------------------------------------------------- aggregation
_VALUE_COLUMNS = ("population", "cases", "patients", "expected", "person_years")


def _value_columns(table: pd.DataFrame, value: str | list[str] | None) -> list[str]:
    if value is None:
        cols = [c for c in _VALUE_COLUMNS if c in table.columns]
    else:
        cols = [value] if isinstance(value, str) else list(value)
    if not cols:
        raise DataError("no value column to aggregate", field="value",
                        hint=f"Name one of the columns, e.g. {', '.join(_VALUE_COLUMNS)}")
    return cols


def _check_base(table: pd.DataFrame) -> None:
    if "area_code" not in table.columns:
        raise DataError("missing column", field="area_code",
                        hint="Aggregation needs a table of English LADs (2021 codes)")
    known = set(lad_membership("lad")["lad_code"])
    unknown = sorted(set(table["area_code"].astype(str)) - known)
    if unknown:
        raise DataError("area is not an English LAD on 2021 codes", field="area_code",
                        value=unknown[0],
                        hint="Aggregate from district-level tables such as hna.population.default_population()")


def aggregate(
    table: pd.DataFrame,
    footprint: str | Footprint,
    value: str | list[str] | None = None,
    *,
    allow_missing: bool = False,
    source: str | None = None,
) -> pd.DataFrame:
    """Sum a district-level table into one footprint.

    Args:
        table: a table with ``area_code`` (English LADs, 2021 codes) and value column(s)
            (``population``, ``cases`` ...), plus any other keys (sex, age_band, year, draw).
        footprint: footprint code/name or a :class:`Footprint`.
        value: column(s) to sum; detected if omitted.
        allow_missing: a member district absent from ``table`` is a loud warning rather than
            an error (:func:`hna.population.check_coverage`).
        source: the table's file, named in that error or warning.

    Returns:
        The same columns with ``area_code`` = the footprint code; values are
        ``sum(value x share)`` over member districts (fractional where districts are split).

    Raises:
        DataError: a member district is not in ``table`` (unless ``allow_missing``).
    """
    from hna.population import check_coverage

    fp = footprint if isinstance(footprint, Footprint) else resolve_footprint(footprint)
    _check_base(table)
    check_coverage(table, fp.members, footprint=f"{fp.name} ({fp.code})", source=source,
                   allow_missing=allow_missing)
    cols = _value_columns(table, value)
    keys = [c for c in table.columns if c not in cols and c != "area_code"]
    sub = table.merge(fp.members, left_on="area_code", right_on="lad_code", how="inner")
    for c in cols:
        sub[c] = sub[c] * sub["share"]
    out = sub.groupby(keys, observed=True, as_index=False)[cols].sum() if keys else sub[cols].sum().to_frame().T
    out.insert(0, "area_code", fp.code)
    out.attrs = dict(table.attrs)
    out.attrs["footprint"] = {"code": fp.code, "name": fp.name, "level": fp.level, "note": fp.note}
    return out


def aggregate_level(
    table: pd.DataFrame, level: str, value: str | list[str] | None = None
) -> pd.DataFrame:
    """Sum a district-level table into every footprint of ``level`` at once (vectorised)."""
    _check_base(table)
    cols = _value_columns(table, value)
    keys = [c for c in table.columns if c not in cols and c != "area_code"]
    mem = lad_membership(level)
    sub = table.merge(mem, left_on="area_code", right_on="lad_code", how="inner")
    for c in cols:
        sub[c] = sub[c] * sub["share"]
    out = sub.groupby(["code", *keys], observed=True, as_index=False)[cols].sum()
    out = out.rename(columns={"code": "area_code"})
    out.attrs = dict(table.attrs)
    return out


def union(areas: list[str] | tuple[str, ...], *, name: str, code: str | None = None,
          note: str = "", source: str = "defined in Python") -> Footprint:
    """A custom footprint: the union of areas at any level (the Python form of a YAML union).

    ``union(["E54000036", "E54000037"], name="Peninsula")`` equals the YAML entry
    ``{code: peninsula, name: Peninsula, union: [E54000036, E54000037], source: ...}`` in
    ``parameters/footprints/``. Districts split between ICBs keep their population share; an
    area given twice (or a district inside a region also listed) is refused.

    Args:
        areas: GSS codes or names of districts, regions, ICBs, NHS regions.
        name: the footprint's name for reports.
        code: identifier (default: ``name`` in lower case with underscores).
        note: anything a reviewer should know.
        source: where the definition comes from.

    Raises:
        ParameterError: no areas, an unknown area or overlapping areas.
    """
    if isinstance(areas, str) or not list(areas):
        raise ParameterError("give a list of area codes or names", field="union",
                             value=areas, hint='e.g. union(["E54000036", "E54000037"], name=...)')
    ident = code or re.sub(r"[^A-Za-z0-9]+", "_", str(name).strip()).strip("_").lower()
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", ident or ""):
        raise ParameterError("the footprint needs a code of letters, digits and _",
                             field="code", value=ident)
    members = _lad_union([str(a).strip() for a in areas], source)
    return Footprint(code=ident, name=str(name), level="custom", members=members, note=note,
                     source=source)

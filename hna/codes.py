"""Area codes: the England code and the GSS code prefixes and patterns hna recognises.

One place for the constants that name areas, so that every module spells them the same way.
GSS codes (Government Statistical Service) are nine characters: a letter, two digits naming
the entity type and six digits (ONS, *Code History Database*, 2023).
"""

from __future__ import annotations

import re

__all__ = [
    "ENGLAND",
    "ENGLAND_NAME",
    "GSS_PATTERN",
    "LAD_PREFIXES",
    "LEVEL_PREFIXES",
    "LSOA_PREFIX",
    "NHS_REGION_PREFIX",
    "REGION_PREFIX",
    "ICB_PREFIX",
    "ISLES_OF_SCILLY",
    "is_gss",
    "level_of_code",
]

#: England (country), GSS entity E92.
ENGLAND = "E92000001"
#: England's name as used in tables and reports.
ENGLAND_NAME = "England"
#: Any GSS code: one letter, eight digits.
GSS_PATTERN = re.compile(r"^[EWSNK]\d{8}$")
#: Local authority districts: unitary (E06), non-metropolitan (E07), metropolitan (E08),
#: London boroughs (E09).
LAD_PREFIXES = ("E06", "E07", "E08", "E09")
#: Regions (former Government Office Regions).
REGION_PREFIX = "E12"
#: Integrated care boards (E54; the former sub-ICB/CCG codes are E38).
ICB_PREFIX = "E54"
#: NHS England regions.
NHS_REGION_PREFIX = "E40"
#: Lower layer super output areas (2011 and 2021 codes both start E01).
LSOA_PREFIX = "E01"
#: Isles of Scilly (E06000053): a district with no road link to the mainland.
ISLES_OF_SCILLY = "E06000053"
#: Footprint level named by each code prefix.
LEVEL_PREFIXES = {
    "E92": "england", "E40": "nhs_region", "E12": "region", "E54": "icb",
    "E06": "lad", "E07": "lad", "E08": "lad", "E09": "lad",
}


def is_gss(code: object) -> bool:
    """Whether ``code`` looks like a GSS code (letter + eight digits)."""
    return isinstance(code, str) and GSS_PATTERN.match(code) is not None


def level_of_code(code: str) -> str | None:
    """The footprint level a GSS code's prefix names (``"icb"`` for E54...), or None."""
    return LEVEL_PREFIXES.get(code[:3]) if is_gss(code) else None

"""Canonical age bands and sex labels shared by every hna table.

Age bands are the 19 bands of the 2013 European Standard Population (ESP2013): ``0-4``,
``5-9`` ... ``85-89``, ``90+`` (Eurostat 2013, *Revision of the European Standard
Population*). They are held as an ordered pandas categorical so sorting and grouping keep
their natural order. Sex is ``female`` or ``male``; ``persons`` is their sum and never stored.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "AGE_BANDS",
    "AGE_BAND_DTYPE",
    "BAND_LOWER",
    "BAND_UPPER",
    "SEXES",
    "SEX_DTYPE",
    "band_of_age",
    "band_lower",
    "as_band",
    "as_sex",
    "SEX_ALIASES",
]

BAND_LOWER: tuple[int, ...] = tuple(range(0, 91, 5))
BAND_UPPER: tuple[float, ...] = tuple([*(lo + 4 for lo in BAND_LOWER[:-1]), np.inf])
AGE_BANDS: tuple[str, ...] = tuple(
    [f"{lo}-{lo + 4}" for lo in BAND_LOWER[:-1]] + ["90+"]
)
AGE_BAND_DTYPE = pd.CategoricalDtype(list(AGE_BANDS), ordered=True)

SEXES: tuple[str, ...] = ("female", "male")
SEX_DTYPE = pd.CategoricalDtype(list(SEXES), ordered=False)

#: Labels seen in ONS and NHS files, mapped to the canonical ones (case-insensitive).
SEX_ALIASES: dict[str, str] = {
    "female": "female", "females": "female", "f": "female", "2": "female", "women": "female",
    "male": "male", "males": "male", "m": "male", "1": "male", "men": "male",
}


def band_of_age(age: np.ndarray | pd.Series | int) -> np.ndarray:
    """Map single years of age (integers, 90 meaning 90 and over) to ESP2013 band labels."""
    a = np.asarray(age, dtype=float)
    if np.any(np.isnan(a)) or np.any(a < 0):
        raise ValueError("ages must be non-negative numbers")
    idx = np.minimum((a // 5).astype(int), len(AGE_BANDS) - 1)
    return np.asarray(AGE_BANDS, dtype=object)[idx]


def band_lower(bands: pd.Series | list[str]) -> np.ndarray:
    """Lower age bound of each band label (``'90+'`` -> 90)."""
    lookup = dict(zip(AGE_BANDS, BAND_LOWER, strict=True))
    return np.array([lookup[str(b)] for b in bands])


def as_band(values: pd.Series) -> pd.Series:
    """Return ``values`` as the ordered ESP2013 categorical (labels must already be canonical).

    Accepts en-dash/space variants such as ``'0 - 4'`` or ``'90 +'``. Unknown labels become NaN;
    callers validate and report them.
    """
    cleaned = (
        values.astype(str).str.replace("\u2013", "-", regex=False).str.replace(" ", "", regex=False)
    )
    cleaned = cleaned.where(cleaned.isin(AGE_BANDS))
    return pd.Series(pd.Categorical(cleaned, dtype=AGE_BAND_DTYPE), index=values.index)


def as_sex(values: pd.Series) -> pd.Series:
    """Return ``values`` mapped to the canonical sex categorical; unknown labels become NaN."""
    mapped = values.astype(str).str.strip().str.lower().map(SEX_ALIASES)
    mapped = mapped.where(mapped.isin(SEXES))
    return pd.Series(pd.Categorical(mapped, dtype=SEX_DTYPE), index=values.index)

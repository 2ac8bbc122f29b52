"""Checks and coercion of the rate and population tables the incidence functions take."""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from hna.bands import AGE_BAND_DTYPE, SEX_DTYPE, as_band, as_sex
from hna.errors import DataError, ParameterError

CASES_COLUMNS: tuple[str, ...] = ("area_code", "sex", "age_band", "year", "cases")

_POP_KEYS = ("area_code", "sex", "age_band", "year")
_RATE_KEYS = ("age_band", "sex")
_OPTIONAL_RATE_KEYS = ("area_code", "year")
_COUNT_COLUMNS = ("cases", "person_years")


# --------------------------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------------------------


def _require_frame(table: object, source: str, required: Iterable[str]) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise DataError("expected a pandas DataFrame", source=source, value=type(table).__name__)
    for col in required:
        if col not in table.columns:
            raise DataError(
                "missing column",
                source=source,
                field=col,
                hint=f"Columns present: {', '.join(map(str, table.columns))}",
            )
    return table


def _categorical(table: pd.DataFrame, col: str, source: str) -> pd.Series:
    """``age_band`` or ``sex`` as the canonical categorical; unknown labels are a DataError."""
    raw = table[col]
    dtype = AGE_BAND_DTYPE if col == "age_band" else SEX_DTYPE
    if isinstance(raw.dtype, pd.CategoricalDtype) and raw.dtype == dtype:
        out = raw
    else:
        # Map the distinct labels only, then expand: fast on long tables.
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)
        labels = pd.Series(np.asarray(uniques, dtype=object))
        if col == "age_band":
            # Check labels before casting: casting unknown labels is deprecated in pandas.
            cleaned = labels.astype(str).str.replace("\u2013", "-").str.replace(" ", "")
            unknown = ~cleaned.isin(AGE_BAND_DTYPE.categories)
            if unknown.any():
                raise DataError("unknown label", source=source, field=col,
                                value=labels[unknown].iloc[0],
                                hint="Use the 19 ESP2013 bands '0-4' ... '85-89', '90+'")
        mapped = as_band(labels) if col == "age_band" else as_sex(labels)
        new_codes = np.append(mapped.cat.codes.to_numpy(), -1)[codes]
        out = pd.Series(pd.Categorical.from_codes(new_codes, dtype=dtype), index=raw.index)
    bad = out.isna()
    if bad.any():
        raise DataError(
            "unknown label",
            source=source,
            field=col,
            value=raw[bad].iloc[0],
            hint=(
                "Use the 19 ESP2013 bands '0-4' ... '85-89', '90+'"
                if col == "age_band"
                else "Use 'female' or 'male'"
            ),
        )
    return out


def _numeric(table: pd.DataFrame, col: str, source: str, *, positive: bool = False) -> np.ndarray:
    """A numeric column as float64; NaN, infinite, negative (or zero if ``positive``) rejected."""
    try:
        values = pd.to_numeric(table[col], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise DataError("values must be numbers", source=source, field=col,
                        value=str(exc)) from None
    bad = ~np.isfinite(values) | (values <= 0 if positive else values < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "positive" if positive else "non-negative"
        raise DataError(
            f"values must be finite and {what}",
            source=source,
            field=col,
            value=values[row].item(),
            hint=f"First bad value at row {row}; fix or drop it",
        )
    return values


def _years(table: pd.DataFrame, source: str) -> np.ndarray:
    values = _numeric(table, "year", source)
    if (values != np.round(values)).any():
        raise DataError("years must be whole numbers", source=source, field="year",
                        value=values[values != np.round(values)][0].item())
    return values.astype(np.int64)


def _area_codes(table: pd.DataFrame, source: str) -> pd.api.extensions.ExtensionArray:
    codes = table["area_code"]
    if codes.isna().any():
        raise DataError("missing area code", source=source, field="area_code",
                        hint=f"First at row {int(np.flatnonzero(codes.isna())[0])}")
    return codes.astype(str).array


def _check_unique(table: pd.DataFrame, keys: Sequence[str], source: str) -> None:
    dup = table.duplicated(list(keys), keep=False)
    if dup.any():
        first = table.loc[dup, list(keys)].iloc[0]
        raise DataError(
            "duplicate rows for the same " + " x ".join(keys),
            source=source,
            field=", ".join(keys),
            value=tuple(first.astype(str)),
            hint="Aggregate or remove duplicate rows",
        )


def _clean_population(population: object, source: str = "population") -> pd.DataFrame:
    pop = _require_frame(population, source, [*_POP_KEYS, "population"])
    out = pd.DataFrame(
        {
            "area_code": _area_codes(pop, source),
            "sex": _categorical(pop, "sex", source).array,
            "age_band": _categorical(pop, "age_band", source).array,
            "year": _years(pop, source),
            "population": _numeric(pop, "population", source),
        }
    )
    _check_unique(out, _POP_KEYS, source)
    return out


def _clean_rates(rates: object, source: str = "rates", *, allow_draws: bool = True) -> pd.DataFrame:
    """Canonical copy of a rates table: keys, ``rate`` and optional counts or ``draw``."""
    tab = _require_frame(rates, source, [*_RATE_KEYS, "rate"])
    out = pd.DataFrame(index=pd.RangeIndex(len(tab)))
    if "area_code" in tab.columns:
        out["area_code"] = _area_codes(tab, source)
    out["age_band"] = _categorical(tab, "age_band", source).array
    out["sex"] = _categorical(tab, "sex", source).array
    if "year" in tab.columns:
        out["year"] = _years(tab, source)
    out["rate"] = _numeric(tab, "rate", source)
    present = [c for c in _COUNT_COLUMNS if c in tab.columns]
    if len(present) == 1:
        other = next(c for c in _COUNT_COLUMNS if c not in present)
        raise DataError(
            f"'{present[0]}' given without '{other}'",
            source=source,
            field=other,
            hint="Give both counts columns (rate uncertainty) or neither (rates treated as fixed)",
        )
    if present:
        out["cases"] = _numeric(tab, "cases", source)
        out["person_years"] = _numeric(tab, "person_years", source, positive=True)
    if "draw" in tab.columns:
        if not allow_draws:
            raise DataError(
                "rate draws are not accepted here",
                source=source,
                field="draw",
                hint="Use simulate() for rate draws, or pass one rate per cell",
            )
        if present:
            raise DataError("give either counts or rate draws, not both", source=source,
                            field="draw")
        draw = _numeric(tab, "draw", source)
        if (draw != np.round(draw)).any():
            raise DataError("draw indices must be whole numbers", source=source, field="draw")
        out["draw"] = draw.astype(np.int64)
    _check_unique(out, _rate_keys(out), source)
    return out


def _rate_keys(rates: pd.DataFrame, *, with_draw: bool = True) -> list[str]:
    keys = [k for k in _OPTIONAL_RATE_KEYS if k in rates.columns] + list(_RATE_KEYS)
    if with_draw and "draw" in rates.columns:
        keys.append("draw")
    return keys


def _check_missing_option(missing: str) -> None:
    if missing not in ("error", "zero"):
        raise ParameterError("must be 'error' or 'zero'", field="missing", value=missing)


def _match_rates(
    rates: pd.DataFrame, population: pd.DataFrame, missing: str, source: str = "rates"
) -> np.ndarray:
    """Index of the rate row for each population row (-1 where ``missing='zero'`` allows)."""
    keys = _rate_keys(rates, with_draw=False)
    lookup = rates[keys].drop_duplicates().reset_index(drop=True)
    lookup["_row"] = np.arange(len(lookup))
    matched = population[keys].merge(lookup, on=keys, how="left", sort=False)
    idx = matched["_row"].to_numpy(dtype=float, na_value=np.nan)
    absent = np.isnan(idx)
    if absent.any() and missing == "error":
        combos = population.loc[absent, keys].drop_duplicates()
        shown = "; ".join(
            ", ".join(f"{k}={row[k]}" for k in keys) for _, row in combos.head(5).iterrows()
        )
        more = f" and {len(combos) - 5} more" if len(combos) > 5 else ""
        raise DataError(
            f"no rate for {len(combos)} population cell type(s): {shown}{more}",
            source=source,
            field="rate",
            hint=(
                "Supply rates for these cells, pass only the population in the service's scope, "
                "or use missing='zero' to count them as zero"
            ),
        )
    return np.where(absent, -1, np.nan_to_num(idx, nan=-1)).astype(np.int64)


def _year_list(years: object) -> list[int]:
    if isinstance(years, numbers.Integral) and not isinstance(years, bool):
        years = [years]
    if isinstance(years, str | bytes) or not isinstance(years, Iterable):
        raise ParameterError("years must be an integer or a list of integers", field="years",
                             value=years)
    out = []
    for y in years:
        if isinstance(y, bool) or not isinstance(y, numbers.Integral):
            raise ParameterError("years must be whole numbers", field="years", value=y)
        out.append(int(y))
    if not out:
        raise ParameterError("no years given", field="years", value=years)
    if len(set(out)) != len(out):
        raise ParameterError("years repeat", field="years", value=out)
    return out

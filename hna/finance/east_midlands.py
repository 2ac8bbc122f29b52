"""Bundled example: East Midlands SCG 2008/09 income, expenditure and investments (F004).

Seed: F004 (East Midlands Specialised Commissioning Group annual report 2008/09), 'Income and
expenditure' and 'Developing service development priorities for 2009/10'. Provenance:
``hna/data/PROVENANCE_east_midlands.md``.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from hna.errors import ParameterError

__all__ = ["EAST_MIDLANDS_POPULATION", "east_midlands_spend"]

#: Population of the East Midlands in the report (F004 'About the East Midlands': "a population
#: of 4.4 million"), people. Used to turn a spend line into spend per head.
EAST_MIDLANDS_POPULATION = 4_400_000

_EM_TABLES = {"pct": "pct", "provider": "provider", "service": "service", "investments": "case"}


def east_midlands_spend(table: str = "pct") -> pd.DataFrame:
    """East Midlands SCG 2008/09 income and expenditure (F004), GBP thousands.

    Args:
        table: ``pct`` (income by the 9 PCTs), ``provider`` (expenditure by provider),
            ``service`` (expenditure by service; services over GBP 5m, the rest as 'Other'), each
            totalling 500,838; or ``investments`` (2009/10 priority investments: in-year
            ``total_2009_10_gbp_thousands`` 4,402 and ``full_year_effect_gbp_thousands`` 6,613).

    Returns:
        DataFrame ``<table>, spend_gbp_thousands`` (for ``investments``: ``case`` and the two
        columns). Provenance: ``hna/data/PROVENANCE_east_midlands.md``.
    """
    if table not in _EM_TABLES:
        raise ParameterError("unknown table", field="table", value=table,
                             hint=f"Use one of: {', '.join(_EM_TABLES)}")
    name = f"east_midlands_2008_09_{table}.csv"
    with resources.files("hna").joinpath("data", name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh)

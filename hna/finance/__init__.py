"""Money: spend projections (do nothing, QIPP, gap, waterfall), risk sharing, binding decisions.

One module per job:

- :mod:`hna.finance.spend`: do-nothing spend, QIPP schedule, spend after QIPP, gap to an
  allocation, exact waterfall decomposition (F003 'Finance and QIPP Delivery').
- :mod:`hna.finance.risk_sharing`: commissioner shares by weighted population vs usage, overspend
  split by baseline share, pooled budgets pro rata to baseline, the HIV graduated arrangement
  with its "2% or 3%" tolerance, NORCOM's four tests (F001 para 86, App 5 case studies 1 and 8).
- :mod:`hna.finance.voting`: binding-decision rules (6 of 8, 70%, 75% weighted with 30 days'
  notice, simple majority; F001 para 40, case studies 1, 6, 10).
- :mod:`hna.finance.east_midlands`: the East Midlands SCG 2008/09 tables (F004).

Formulas: ``docs/methods/finance.md``. Money is whatever unit the caller passes (the bundled
East Midlands tables are GBP thousands); years are integers (2017 = 2017/18).
"""

from __future__ import annotations

from hna.finance.east_midlands import EAST_MIDLANDS_POPULATION, east_midlands_spend
from hna.finance.risk_sharing import (
    RISK_SHARING_FILE,
    RiskSharingConfig,
    VotingRule,
    commissioner_shares,
    load_risk_sharing,
    norcom_tests,
    overspend_contributions,
    pooled_budget_shares,
    risk_share_overperformance,
)
from hna.finance.spend import (
    DECOMPOSITION_ORDER,
    apply_qipp,
    decompose,
    do_nothing,
    gap_to_allocation,
    project_spend,
    qipp_schedule,
)
from hna.finance.voting import binding_decision, binding_rules

__all__ = [
    "DECOMPOSITION_ORDER",
    "EAST_MIDLANDS_POPULATION",
    "RISK_SHARING_FILE",
    "RiskSharingConfig",
    "VotingRule",
    "apply_qipp",
    "binding_decision",
    "binding_rules",
    "commissioner_shares",
    "decompose",
    "do_nothing",
    "east_midlands_spend",
    "gap_to_allocation",
    "load_risk_sharing",
    "norcom_tests",
    "overspend_contributions",
    "pooled_budget_shares",
    "project_spend",
    "qipp_schedule",
    "risk_share_overperformance",
]

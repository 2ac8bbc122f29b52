"""Binding decisions: is a collective commissioning decision binding on every member?

Rules are data (``voting_rules`` in ``parameters/appraisal/risk_sharing.yaml``), each with its
quotation: ``six_of_eight`` (NWL LSCG, F001 App 5 case study 1), ``seventy_percent`` (Thames
Valley, case study 6), ``weighted_75`` with 30 days' notice (Northern SCG, case study 10) and
``simple_majority`` (NSSCG, F001 para 40). A caller may pass its own :class:`VotingRule`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hna.errors import ParameterError
from hna.finance.risk_sharing import RiskSharingConfig, VotingRule, load_risk_sharing

__all__ = ["binding_rules", "binding_decision"]


def binding_rules(config: RiskSharingConfig | str | Path | None = None) -> dict[str, VotingRule]:
    """The named voting rules of the risk-sharing file (name -> :class:`VotingRule`)."""
    return dict(load_risk_sharing(config).voting_rules)


def _resolve(rule: str | VotingRule, config: Any) -> tuple[str, VotingRule]:
    if isinstance(rule, VotingRule):
        return "custom", rule
    rules = binding_rules(config)
    if rule not in rules:
        raise ParameterError("unknown binding rule", field="rule", value=rule,
                             hint=f"Use one of: {', '.join(rules)}, or pass a VotingRule")
    return rule, rules[rule]


def _votes(votes: Any) -> tuple[list[str], list[bool]]:
    if isinstance(votes, Mapping):
        names, vals = [str(k) for k in votes], list(votes.values())
    elif isinstance(votes, Sequence) and not isinstance(votes, str):
        vals = list(votes)
        names = [str(i) for i in range(len(vals))]
    else:
        raise ParameterError("votes must be a mapping member -> True/False/None or a list",
                             field="votes", value=type(votes).__name__)
    if not vals:
        raise ParameterError("no votes", field="votes")
    for n, v in zip(names, vals, strict=True):
        if v is not None and not isinstance(v, bool | np.bool_):
            raise ParameterError("votes must be True, False or None", field=f"votes[{n}]", value=v)
    return names, [bool(v) for v in vals]


def _weighted_share(names: list[str], yes: list[bool], weights: Any) -> float:
    if weights is None:
        raise ParameterError("the weighted rule needs votes by name and weights by name",
                             field="weights", hint="e.g. weights={'PCT A': 0.12, ...}")
    missing = [k for k in names if k not in weights]
    if missing:
        raise ParameterError("no weight for this voter", field=f"weights[{missing[0]}]")
    w = np.array([float(weights[k]) for k in names])
    if (~np.isfinite(w)).any() or (w < 0).any() or w.sum() <= 0:
        raise ParameterError("weights must be non-negative with a positive sum", field="weights")
    return float(w[np.array(yes)].sum() / w.sum())


def binding_decision(
    votes: Mapping[str, bool | None] | Sequence[bool | None],
    rule: str | VotingRule = "six_of_eight",
    *,
    weights: Mapping[str, float] | None = None,
    notice_days: int | None = None,
    config: RiskSharingConfig | str | Path | None = None,
) -> dict[str, Any]:
    """Is a collective commissioning decision binding on all members?

    ``count`` rules need at least ``min_in_favour`` of exactly ``voters`` members; ``share``
    rules compare the share of members in favour with ``threshold`` (``at_least`` or
    ``more_than``); ``weighted`` rules do the same with capitation weights. A vote of ``None``
    (abstention) counts as a voter not in favour. A rule with ``notice_days`` is binding only
    when ``notice_days`` given >= the rule's (unknown notice -> ``notice_met`` is ``None`` and
    the decision is not binding).

    Returns:
        dict ``binding, rule, in_favour, voters, share, threshold, comparison, notice_required,
        notice_met, reason, source``.
    """
    name, spec = _resolve(rule, config)
    names, yes = _votes(votes)
    n_yes, n = sum(yes), len(yes)
    if spec.kind == "count":
        if n != spec.voters:
            raise ParameterError(f"the rule is for {spec.voters} members", field="votes", value=n,
                                 hint="Use a share rule (seventy_percent, simple_majority) for "
                                      "other group sizes")
        share, threshold = n_yes / n, spec.min_in_favour / spec.voters
        carried = n_yes >= spec.min_in_favour
    else:
        share = _weighted_share(names, yes, weights) if spec.kind == "weighted" else n_yes / n
        threshold = float(spec.threshold)
        carried = (share >= threshold - 1e-12 if spec.comparison == "at_least"
                   else share > threshold + 1e-12)
    notice_met: bool | None = True
    if spec.notice_days:
        if notice_days is None:
            notice_met = None
        else:
            if isinstance(notice_days, bool) or not isinstance(notice_days, int) or notice_days < 0:
                raise ParameterError("must be a whole number of days >= 0", field="notice_days",
                                     value=notice_days)
            notice_met = notice_days >= spec.notice_days
    binding = bool(carried and notice_met is True)
    if not carried:
        reason = f"not carried: {share:.0%} in favour vs {threshold:.0%} needed"
    elif notice_met is None:
        reason = f"carried, but binding only after {spec.notice_days} days' notice (not given)"
    elif not notice_met:
        reason = f"carried, but only {notice_days} of the {spec.notice_days} days' notice given"
    else:
        reason = "carried: binding on every member"
    return {"binding": binding, "rule": name, "in_favour": n_yes, "voters": n, "share": share,
            "threshold": threshold, "comparison": spec.comparison,
            "notice_required": spec.notice_days, "notice_met": notice_met, "reason": reason,
            "source": spec.source}

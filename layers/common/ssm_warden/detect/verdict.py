"""From findings and a policy's severity → action table to a verdict. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, Protocol

from ssm_warden.models.findings import Finding, Severity

Verdict = Literal["allow", "alert", "terminate"]

# ResponseAction values (ssm_warden.policy.model) → verdicts; "observe" records only.
_VERDICT_OF_ACTION: dict[str, Verdict] = {"observe": "allow", "alert": "alert", "terminate": "terminate"}
_RANK: dict[Verdict, int] = {"allow": 0, "alert": 1, "terminate": 2}


class ActionResolver(Protocol):
    """Anything that says what to do about a finding, e.g. ``EffectiveSettings.action_for``."""

    def action_for(self, severity: Severity, rule: str | None = None) -> str: ...


def verdict_for(findings: Iterable[Finding], actions: Mapping[Severity, str] | ActionResolver) -> Verdict:
    """The strongest verdict the findings call for.

    ``actions`` maps each severity to a response action (``observe`` | ``alert`` | ``terminate``,
    e.g. ``EffectiveSettings.actions``); a severity it leaves out is observed. It may also be an
    object with ``action_for(severity, rule)`` so per-rule overrides of a policy apply.
    """
    verdict: Verdict = "allow"
    for finding in findings:
        if isinstance(actions, Mapping):
            action = str(actions.get(finding.severity, "observe"))
        else:
            action = str(actions.action_for(finding.severity, finding.rule))
        candidate = _VERDICT_OF_ACTION.get(action, "alert")
        if _RANK[candidate] > _RANK[verdict]:
            verdict = candidate
    return verdict

"""What a candidate policy would have done differently to recent sessions (``policy simulate``).

Pure: each session's ledger record and the commands rebuilt from its log stream are passed in, with
the findings the detector gives them under each policy's rule packs. Compared per session: the
start checks (document allowed, reason required), the limits (idle and maximum minutes, and whether
the session's length would break the maximum), and each command's response (observe, alert,
terminate, or exempt). Idle is compared as settings only: replaying silences needs the output times,
which the ledger does not keep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

EXEMPT = "exempt"


@dataclass
class SessionChange:
    session_id: str
    principal: str | None
    target: str | None
    changes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "principal": self.principal,
            "target": self.target,
            "changes": self.changes,
        }


def _facts(record: Any) -> Any:
    from ssm_warden.monitor.service import role_arn_of
    from ssm_warden.policy.evaluate import SessionFacts

    principal = record.principal.arn if record.principal else None
    return SessionFacts(
        target_tags=record.target_tags,
        target_id=record.target_id,
        account=record.account,
        principal_arn=principal,
        role_arn=role_arn_of(principal),
        document_name=record.document_name or "SSM-SessionManagerRunShell",
    )


def response(policy: Any, settings: Any, finding: Any, record: Any, now: datetime) -> str:
    """What a policy does with one finding in one session: an exemption, else the scope's action."""
    from ssm_warden.policy.evaluate import active_exemption

    principal = record.principal.arn if record.principal else None
    if active_exemption(
        policy, principal_arn=principal, target_id=record.target_id, rule_or_limit=finding.rule, now=now
    ):
        return EXEMPT
    return str(settings.action_for(finding.severity, finding.rule).value)


def _worst(responses: list[str]) -> str:
    order = ["observe", EXEMPT, "alert", "terminate"]
    return max(responses, key=order.index) if responses else "observe"


def compare_session(
    record: Any,
    commands: list[tuple[str, list[Any], list[Any]]],
    current: Any,
    candidate: Any,
    now: datetime,
) -> SessionChange:
    """``commands``: (text, findings under the current policy's packs, under the candidate's)."""
    from ssm_warden.policy.evaluate import effective_settings

    facts = _facts(record)
    before, after = effective_settings(current, facts), effective_settings(candidate, facts)
    change = SessionChange(record.session_id, facts.principal_arn, record.target_id)
    document = facts.document_name or ""
    if before.allows_document(document) != after.allows_document(document):
        verdict = (
            "allowed" if after.allows_document(document) else "terminated at start (document not allowed)"
        )
        change.changes.append(f"document {document}: {verdict}")
    if not record.reason and before.require_reason != after.require_reason:
        change.changes.append(
            "no --reason: " + ("now alerted at start" if after.require_reason else "no longer alerted")
        )
    if (before.idle_minutes, before.max_minutes) != (after.idle_minutes, after.max_minutes):
        change.changes.append(
            f"limits idle {before.idle_minutes}->{after.idle_minutes} min, "
            f"max {before.max_minutes}->{after.max_minutes} min"
        )
    if record.started_at:
        ended = record.ended_at or now
        minutes = (ended - record.started_at).total_seconds() / 60
        broke_before = before.max_minutes is not None and minutes > before.max_minutes
        broke_after = after.max_minutes is not None and minutes > after.max_minutes
        if broke_before != broke_after:
            verb = "would break" if broke_after else "would no longer break"
            change.changes.append(f"lasted {int(minutes)} min: {verb} the maximum duration")
    for text, found_before, found_after in commands:
        was = _worst([response(current, before, f, record, now) for f in found_before])
        will = _worst([response(candidate, after, f, record, now) for f in found_after])
        if was != will:
            rules = ", ".join(sorted({f.rule for f in [*found_before, *found_after]}))
            change.changes.append(f"`{text[:120]}` [{rules}]: {was} -> {will}")
    return change


def summary(changes: list[SessionChange]) -> dict[str, int]:
    counts = {
        "sessions": len(changes),
        "changed": 0,
        "terminations": 0,
        "alerts": 0,
        "exemptions": 0,
        "limits": 0,
    }
    for change in changes:
        counts["changed"] += bool(change.changes)
        for line in change.changes:
            counts["terminations"] += line.endswith("-> terminate") or "terminated at start" in line
            counts["alerts"] += line.endswith("-> alert")
            counts["exemptions"] += line.endswith("-> exempt")
            counts["limits"] += line.startswith(("limits", "lasted"))
    return counts

"""The end-of-session summary: requested when a session closes, built when it is carried out."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.models.findings import Severity
from ssm_warden.models.session import SessionRecord

_COUNTED = {
    Decision.TERMINATION: "terminate",
    Decision.WOULD_TERMINATE: "would_terminate",
    Decision.WARNING: "warn",
    Decision.ALERT: "alert",
}


def summary_request(session: SessionRef, *, now: datetime, policy_version: str) -> ActionRequest:
    """One summary per session: the id depends on the session only, so the executor's idempotency
    keeps a TerminateSession event and a reconciliation from both posting one."""
    return ActionRequest(
        action_id=action_id_for("summary", session.account, session.region, session.session_id),
        kind=ActionKind.SUMMARY,
        mode=Mode.ENFORCE,
        trigger=Trigger.SESSION_END,
        severity=Severity.LOW,
        session=session,
        title="Session ended",
        why="end-of-session summary",
        rule_or_limit="session_end",
        policy_version=policy_version,
        created_at=now,
    )


def summarise(record: SessionRecord, audit: list[AuditRecord], now: datetime) -> dict[str, object]:
    """The figures of a session's summary, from its ledger item and audit trail."""
    actions = Counter(_COUNTED[r.decision] for r in audit if r.decision in _COUNTED)
    severities = [
        Severity(str(r.details["severity"]))
        for r in audit
        if r.decision is Decision.FINDING and r.details.get("severity") in Severity._value2member_map_
    ]
    return {
        "started_at": record.started_at,
        "ended_at": record.ended_at or now,
        "commands_seen": record.commands_seen,
        "findings": record.findings_seen or len(severities),
        "actions": dict(actions),
        "worst_severity": max(severities, key=lambda s: s.rank) if severities else None,
        "ended_by": record.ended_by,
    }

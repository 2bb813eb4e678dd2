"""Carrying out one action request: terminate (or say it would), record why, then tell people.

Steps run in an order that makes a retry safe: termination (idempotent at AWS), the ledger
(conditional), the audit trail (conditional put with a key derived from the action), and the
notification last. The Lambda wraps this in Powertools idempotency keyed by the action id, so a
redelivered request that already succeeded neither terminates nor posts again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ssm_warden.audit import NO_SESSION, write_audit
from ssm_warden.enforce.terminate import TerminationResult, terminate_session
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.observability import logger


class Outcome:
    TERMINATED = "terminated"
    WOULD_TERMINATE = "would_terminate"
    ALERT_ONLY = "alert_only"
    WARNED = "warned"
    FAILED = "failed"


class Notifier(Protocol):
    def deliver(self, action: ActionRequest, outcome: str) -> Any: ...


class SummaryNotifier(Protocol):
    def session_ended(self, session: SessionRef, summary: Any) -> Any: ...


class LogNotifier:
    """Used when no Slack secret is configured: the alert goes to the function's log only."""

    def deliver(self, action: ActionRequest, outcome: str) -> Any:
        logger().warning(
            "alert (Slack not configured)",
            extra={
                "action_id": action.action_id,
                "title": action.title,
                "outcome": outcome,
                "why": action.why,
            },
        )
        return None


@dataclass(frozen=True)
class Execution:
    action_id: str
    outcome: str
    termination: str | None = None


def _audit(action: ActionRequest, decision: Decision, outcome: str, **details: Any) -> AuditRecord:
    session = action.session
    return AuditRecord(
        session_id=session.session_id if session else NO_SESSION,
        at=action.created_at,
        record_id=f"{action.action_id}:{decision.value}",
        decision=decision,
        rule_or_limit=action.rule_or_limit,
        policy_version=action.policy_version,
        action=action.kind.value,
        outcome=outcome,
        account=session.account if session else None,
        region=session.region if session else None,
        details={"mode": action.mode.value, "why": action.why, "title": action.title, **details},
    )


def _post_summary(action: ActionRequest, notifier: Notifier, repo: SessionRepository) -> Execution:
    from ssm_warden.audit import read_audit
    from ssm_warden.enforce.summary import summarise

    session = action.session
    if session is None or not hasattr(notifier, "session_ended"):
        return Execution(action_id=action.action_id, outcome="no_summary")
    record = repo.get(session.account, session.region, session.session_id)
    if record is None:
        return Execution(action_id=action.action_id, outcome="no_summary")
    from ssm_warden.slack.messages import SessionSummary

    record = repo.with_watch(record)  # the counts of the last few minutes too
    figures = summarise(record, read_audit(session.session_id), action.created_at)
    richer = session.model_copy(
        update={
            "principal_arn": session.principal_arn or (record.principal.arn if record.principal else None),
            "target_id": session.target_id or record.target_id,
            "target_tags": session.target_tags or record.target_tags,
            "document_name": session.document_name or record.document_name,
            "started_at": session.started_at or record.started_at,
        }
    )
    notifier.session_ended(richer, SessionSummary.model_validate(figures))
    return Execution(action_id=action.action_id, outcome="summarised")


def _earlier_termination(action: ActionRequest, repo: SessionRepository) -> TerminationResult | None:
    """What this action's earlier attempt got from TerminateSession, when it got as far as the ledger.

    A redelivery after a later step failed (the audit write, Slack) then records and notifies without
    calling TerminateSession a second time."""
    session = action.session
    if session is None:
        return None
    record = repo.get(session.account, session.region, session.session_id)
    done = record.termination if record else None
    if not done or done.get("action_id") != action.action_id:
        return None
    try:
        return TerminationResult(str(done.get("result") or TerminationResult.TERMINATED.value))
    except ValueError:
        return TerminationResult.TERMINATED


def execute_action(
    action: ActionRequest,
    *,
    notifier: Notifier,
    repository: SessionRepository | None = None,
    terminator: Callable[[SessionRef], TerminationResult] = terminate_session,
    follow_up: Callable[[ActionRequest], None] | None = None,
) -> Execution:
    """Carry out ``action``. ``follow_up`` receives the summary request after a termination."""
    termination: str | None = None
    if action.kind is ActionKind.SUMMARY:
        return _post_summary(action, notifier, repository or SessionRepository())
    if action.kind is ActionKind.TERMINATE and action.session and action.session.session_id != NO_SESSION:
        if action.mode is Mode.MONITOR:
            outcome = Outcome.WOULD_TERMINATE
            write_audit(_audit(action, Decision.WOULD_TERMINATE, "would terminate (monitor mode)"))
        else:
            repo = repository or SessionRepository()
            result = _earlier_termination(action, repo) or terminator(action.session)
            termination = result.value
            repo.record_termination(
                action.session.account,
                action.session.region,
                action.session.session_id,
                {
                    "rule_or_limit": action.rule_or_limit,
                    "why": action.why,
                    "policy_version": action.policy_version,
                    "mode": action.mode.value,
                    "action_id": action.action_id,
                    "at": action.created_at.isoformat(),
                    "result": result.value,
                },
                action.created_at,
            )
            outcome = Outcome.TERMINATED
            write_audit(_audit(action, Decision.TERMINATION, result.value))
            if follow_up is not None:
                from ssm_warden.enforce.summary import summary_request

                follow_up(
                    summary_request(
                        action.session, now=action.created_at, policy_version=action.policy_version
                    )
                )
    elif action.kind is ActionKind.WARN:
        outcome = Outcome.WARNED
        write_audit(_audit(action, Decision.WARNING, "warned"))
    else:
        outcome = Outcome.ALERT_ONLY
        write_audit(_audit(action, Decision.ALERT, "alerted"))
    notifier.deliver(action, outcome)
    return Execution(action_id=action.action_id, outcome=outcome, termination=termination)


def record_failure(
    action: ActionRequest, error: str, attempt: int, *, final: bool = False, notifier: Notifier | None = None
) -> None:
    """Every failed attempt is in the audit trail. On the last attempt (the request then waits in
    the dead-letter queue) people are told too, as far as telling them still works."""
    outcome = f"failed (attempt {attempt}{', final: dead-lettered' if final else ''}): {error}"
    record = _audit(action, Decision.ACTION_FAILED, outcome, attempt=attempt)
    write_audit(record.model_copy(update={"record_id": f"{action.action_id}:failed:{attempt}"}))
    if final and notifier is not None and action.kind is not ActionKind.SUMMARY:
        try:
            notifier.deliver(action, Outcome.FAILED)
        except Exception as exc:  # Slack may be what is failing; the DLQ alarm still tells people
            logger().warning(
                "could not post the failure notice", extra={"action_id": action.action_id, "error": str(exc)}
            )

"""What the session_events function decides beyond the ledger: start-time checks, denied attempts,
tamper signals. Lookups happen here; the decisions themselves are pure functions elsewhere."""

from __future__ import annotations

from datetime import datetime

from ssm_warden.audit import write_audit
from ssm_warden.config import get_settings
from ssm_warden.enforce.decide import Decisions
from ssm_warden.enforce.own_resources import warden_resources
from ssm_warden.enforce.session_ref import session_facts, session_ref
from ssm_warden.enforce.sink import ActionSink
from ssm_warden.enforce.start_checks import check_denied, check_start, interactive_command
from ssm_warden.enforce.summary import summary_request
from ssm_warden.enforce.tamper import tamper_action
from ssm_warden.ledger.repository import SessionRepository, WriteOutcome
from ssm_warden.ledger.service import LedgerResult
from ssm_warden.ledger.tags import lookup_target_tags
from ssm_warden.models.actions import ActionKind, SessionRef
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Finding
from ssm_warden.models.session import DeniedAttempt, SessionStarted, SessionTerminated
from ssm_warden.policy.evaluate import SessionFacts, effective_settings
from ssm_warden.policy.store import PolicyState


def _judge_command(command: str, packs: list[str]) -> list[Finding]:
    from ssm_warden.detect.detector import get_detector

    return get_detector(tuple(packs)).judge_command(command)


def _emit(decisions: Decisions, sink: ActionSink) -> None:
    for record in decisions.audit:
        write_audit(record)
    if decisions.actions:
        sink.submit(decisions.actions)


def _already_ended(decisions: Decisions) -> Decisions:
    """Start-time decisions for a session that had already ended: terminations become alerts."""
    note = " The session had already ended when its StartSession event arrived."
    actions = [
        a.model_copy(update={"kind": ActionKind.ALERT, "why": a.why + note})
        if a.kind is ActionKind.TERMINATE
        else a
        for a in decisions.actions
    ]
    return Decisions(actions=actions, audit=decisions.audit)


def act_on_ledger_result(
    result: LedgerResult,
    *,
    policy_state: PolicyState,
    sink: ActionSink,
    now: datetime,
    repo: SessionRepository | None = None,
) -> Decisions:
    """Start-time checks for a newly recorded session, or an alert for a denied attempt."""
    if result.outcome is WriteOutcome.DUPLICATE:
        return Decisions()  # handled the first time this event arrived
    change = result.change
    policy = policy_state.policy
    force_monitor = get_settings().force_monitor_mode
    repo = repo or SessionRepository()
    decisions = Decisions()
    if isinstance(change, SessionStarted) and result.outcome in (
        WriteOutcome.APPLIED,
        WriteOutcome.APPLIED_TO_CLOSED,
    ):
        # APPLIED_TO_CLOSED: the StartSession event came after the session had ended (CloudTrail
        # delivers late and out of order); what it breached is still said, as an alert.
        closed = result.outcome is WriteOutcome.APPLIED_TO_CLOSED
        record = repo.get(change.account, change.region, change.session_id)
        if record is None:
            return decisions
        settings = effective_settings(policy.policy, session_facts(record))
        ref = SessionRef(
            session_id=change.session_id,
            account=change.account,
            region=change.region,
            principal_arn=change.principal.arn,
            target_id=change.target_id,
            target_tags=record.target_tags,
            document_name=change.document_name,
            reason=change.reason,
            started_at=change.at,
            cloudtrail_event_id=change.event_id,
        )
        command = interactive_command(change.document_name, change.parameters)
        limits = settings.max_concurrent_sessions
        decisions = check_start(
            session=ref,
            parameters=change.parameters,
            settings=settings,
            policy=policy,
            now=now,
            command_findings=_judge_command(command, settings.rule_packs) if command else [],
            open_for_principal=repo.open_sessions_of(principal_arn=change.principal.arn)
            if limits.per_principal and not closed
            else [],
            open_for_target=repo.open_sessions_of(target_id=change.target_id)
            if limits.per_target and not closed
            else [],
            force_monitor=force_monitor,
            # The principal and target indexes project keys only: read the other session whole.
            settings_for=lambda other: effective_settings(
                policy.policy,
                session_facts(repo.get(other.account, other.region, other.session_id) or other),
            ),
        )
        if closed:
            decisions = _already_ended(decisions)
    elif isinstance(change, SessionTerminated):
        record = repo.get(change.account, change.region, change.session_id)
        if record is not None:
            decisions.actions.append(
                summary_request(session_ref(record), now=now, policy_version=policy.version)
            )
    elif isinstance(change, DeniedAttempt) and result.outcome is WriteOutcome.APPLIED:
        tags = lookup_target_tags(change.target_id, change.account, change.region).tags
        facts = SessionFacts(
            target_tags=tags,
            target_id=change.target_id,
            account=change.account,
            principal_arn=change.principal.arn,
            role_arn=change.principal.role_arn,
            document_name=change.document_name,
        )
        settings = effective_settings(policy.policy, facts)
        decisions = check_denied(attempt=change, target_tags=tags, settings=settings, policy=policy, now=now)
    _emit(decisions, sink)
    return decisions


def act_on_tamper(
    detail: CloudTrailDetail, *, policy_state: PolicyState, sink: ActionSink, now: datetime
) -> Decisions:
    policy = policy_state.policy
    settings = effective_settings(policy.policy, SessionFacts(account=detail.recipient_account_id))
    action = tamper_action(detail, resources=warden_resources(), settings=settings, policy=policy, now=now)
    decisions = Decisions(actions=[action] if action else [])
    _emit(decisions, sink)
    return decisions

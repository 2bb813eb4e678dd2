"""Idle and maximum-duration limits, warnings before them, and the logging blind spot. Pure.

Idle means "no session output for N minutes" (ssm-warden sees output, not keystrokes). Sessions that
never stream (port forwarding, SSH, interactive and non-interactive commands) get only the duration
limit. A recorded extension (Slack "Extend") postpones both limits until it runs out; an exemption
suppresses the limit it names.

Every action and record carries an id derived from the session, the limit and its deadline, so the
sweeper can run every minute without repeating itself: the same deadline gives the same action.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ssm_warden.clock import iso, parse_time
from ssm_warden.enforce.decide import Decisions, effective_mode, session_audit
from ssm_warden.models.actions import ActionKind, ActionRequest, SessionRef, Trigger, action_id_for
from ssm_warden.models.audit import Decision
from ssm_warden.models.findings import Severity
from ssm_warden.models.session import SessionRecord
from ssm_warden.policy.evaluate import EffectiveSettings, active_exemption
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.model import ResponseAction, StartCheck

IDLE = "idle_minutes"
MAX = "max_minutes"
LOGGING_GAP = "logging_gap"

# Documents whose sessions never stream output: idle cannot be measured for them.
NON_STREAMING_PREFIXES = (
    "AWS-StartPortForwardingSession",
    "AWS-StartSSHSession",
    "AWS-StartInteractiveCommand",
    "AWS-StartNonInteractiveCommand",
)


def streams_output(document: str | None) -> bool:
    return not (document or "").startswith(NON_STREAMING_PREFIXES)


@dataclass(frozen=True)
class Deadline:
    limit: str
    at: datetime
    minutes: int

    @property
    def marker(self) -> str:
        return f"{self.limit}@{iso(self.at)}"


def _extended_until(record: SessionRecord) -> datetime | None:
    ends = [parse_time(str(e["until"])) for e in record.extensions if e.get("until")]
    return max(ends) if ends else None


def deadlines(record: SessionRecord, settings: EffectiveSettings) -> list[Deadline]:
    started = record.started_at or record.last_resumed_at
    if started is None:
        return []
    out = []
    if settings.max_minutes:
        out.append(Deadline(MAX, started + timedelta(minutes=settings.max_minutes), settings.max_minutes))
    if settings.idle_minutes and streams_output(record.document_name):
        last_activity = max(t for t in (record.last_output_at, started, record.last_resumed_at) if t)
        out.append(
            Deadline(IDLE, last_activity + timedelta(minutes=settings.idle_minutes), settings.idle_minutes)
        )
    until = _extended_until(record)
    if until is not None:
        out = [Deadline(d.limit, max(d.at, until), d.minutes) for d in out]
    return out


def idle_due(record: SessionRecord, settings: EffectiveSettings, now: datetime) -> bool:
    """Does the session's idle limit call for a warning or a termination at ``now``, by the
    ledger's (coarse) last output? The sweeper then reads the exact time before acting."""
    return any(
        d.limit == IDLE and now >= d.at - timedelta(minutes=settings.warn_before_minutes)
        for d in deadlines(record, settings)
    )


def check_limits(
    *,
    record: SessionRecord,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool = False,
) -> Decisions:
    """Warnings and terminations due for one active session at ``now``."""
    out = Decisions()
    for deadline in deadlines(record, settings):
        warn_at = deadline.at - timedelta(minutes=settings.warn_before_minutes)
        if now < warn_at:
            continue
        exemption = active_exemption(
            policy.policy,
            principal_arn=session.principal_arn,
            target_id=session.target_id,
            rule_or_limit=deadline.limit,
            now=now,
        )
        if exemption is not None:
            out.audit.append(
                session_audit(
                    session,
                    deadline.at,
                    f"suppressed:{deadline.marker}",
                    Decision.SUPPRESSED,
                    deadline.limit,
                    policy,
                    "none",
                    f"exempt until {iso(exemption.expires)}: {exemption.reason}",
                )
            )
            continue
        action = _limit_action(deadline, now >= deadline.at, session, settings, policy, now, force_monitor)
        if action_marker(action) not in record.warned:
            out.actions.append(action)
    return out


def _describe(deadline: Deadline, over: bool) -> tuple[str, str]:
    if deadline.limit == MAX:
        title = "Maximum session duration reached" if over else "Maximum session duration approaching"
        tense = "was" if over else "is"
        why = f"the session may last {deadline.minutes} minutes; its limit {tense} {iso(deadline.at)}"
    else:
        title = "Session idle limit reached" if over else "Session idle limit approaching"
        why = (
            f"no session output for {deadline.minutes} minutes ends the session; deadline {iso(deadline.at)}"
        )
    return title, why


def _limit_action(
    deadline: Deadline,
    over: bool,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool,
) -> ActionRequest:
    title, why = _describe(deadline, over)
    kind = ActionKind.TERMINATE if over else ActionKind.WARN
    severity = Severity.MEDIUM if over else Severity.LOW
    return ActionRequest(
        action_id=action_id_for(
            "limit", session.account, session.region, session.session_id, kind.value, deadline.marker
        ),
        kind=kind,
        mode=effective_mode(settings, deadline.limit, force_monitor),
        trigger=Trigger.IDLE_LIMIT if deadline.limit == IDLE else Trigger.MAX_DURATION,
        severity=severity,
        session=session,
        title=title,
        why=why,
        rule_or_limit=deadline.limit,
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(severity),
        created_at=now,
    )


def action_marker(action: ActionRequest) -> str:
    """The marker the sweeper stores on the session (``warned``) once it has queued this action, so
    that the next run does not queue it again."""
    return f"{action.kind.value}:{action.action_id}"


def check_logging_gap(
    *,
    record: SessionRecord,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool = False,
) -> Decisions:
    """A shell session with no log stream after the grace period: its commands are not being seen."""
    out = Decisions()
    response = settings.start_check_action(StartCheck.LOGGING_GAP)
    started = record.started_at
    if (
        response is ResponseAction.OBSERVE
        or started is None
        or record.last_output_at is not None
        or not streams_output(record.document_name)
        or record.discovered
        or f"gap:{session.session_id}" in record.warned
    ):
        return out
    if now < started + timedelta(minutes=settings.log_stream_grace_minutes):
        return out
    kind = ActionKind.TERMINATE if response is ResponseAction.TERMINATE else ActionKind.ALERT
    out.actions.append(
        ActionRequest(
            action_id=action_id_for("gap", session.account, session.region, session.session_id),
            kind=kind,
            mode=effective_mode(settings, LOGGING_GAP, force_monitor),
            trigger=Trigger.LOGGING_GAP,
            severity=Severity.HIGH,
            session=session,
            title="Session is not being logged",
            why=(
                f"no session log stream {settings.log_stream_grace_minutes} minutes after the start: "
                "logging may be off or interrupted on the host, so its commands are not watched"
            ),
            rule_or_limit=LOGGING_GAP,
            policy_version=policy.version,
            scope=settings.scope,
            channel=settings.channel_for(Severity.HIGH),
            created_at=now,
        )
    )
    return out

"""Alerts about the session logs themselves: forged events, future-dated events, unverified streams,
a log group that is not a session-log group. Pure: ``now`` (the arrival time) is passed in.

Each is an account-level alert (posted on its own, not in the session's thread), never a
termination, never a finding against the session the log names, and never held back by monitor
mode. Forged and future-dated events are reported once per stream and ``WINDOW`` (the action id is
derived from the stream and the window, so the executor drops repeats); what a log claims is carried
in ``ActionRequest.claimed``, which Slack labels as claimed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ssm_warden.audit import NO_SESSION
from ssm_warden.enforce.decide import Decisions
from ssm_warden.logs.payload import EventLines
from ssm_warden.models.actions import (
    ActionKind,
    ActionRequest,
    ClaimedSession,
    Mode,
    SessionRef,
    Trigger,
    action_id_for,
)
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.monitor.binding import Binding
from ssm_warden.policy.evaluate import EffectiveSettings
from ssm_warden.policy.loader import LoadedPolicy

WINDOW = timedelta(minutes=15)  # one alert per stream (or log group) and window
FOREIGN_GROUP_WINDOW = timedelta(hours=1)
FORGED_RULE = "tamper.log_claim_mismatch"
FUTURE_RULE = "tamper.log_event_future_dated"
FOREIGN_GROUP_RULE = "tamper.log_group_not_a_session_log"
UNVERIFIED_PREFIX = "Unverified session log: "


def window_start(now: datetime, window: timedelta = WINDOW) -> datetime:
    seconds = int(window.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, UTC)


def window_of(now: datetime, window: timedelta = WINDOW) -> str:
    """The window ``now`` falls in, as text (part of an action id)."""
    return window_start(now, window).strftime("%Y-%m-%dT%H:%M")


def _account_level(account: str, region: str, log_group: str | None) -> SessionRef:
    return SessionRef(session_id=NO_SESSION, account=account, region=region, log_group=log_group)


def refused_events(
    events: EventLines,
    binding: Binding,
    *,
    account: str,
    region: str,
    stream: str,
    log_group: str,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> Decisions:
    """The tamper alert about a batch's refused events, and the note on the session's own trail."""
    first = binding.forged[0]
    claim = events.claims[first.position]
    sample = next((line for line in events.lines_of(first.position) if line.strip()), None)
    mismatched = tuple(sorted({name for f in binding.forged for name in f.mismatched}))
    out = Decisions()
    out.actions.append(
        forged_events_alert(
            account=account,
            region=region,
            stream=stream,
            log_group=log_group,
            count=len(binding.forged),
            mismatched=mismatched,
            claimed=ClaimedSession(
                session_id=stream,
                target_id=claim.target_id if claim else None,
                principal_arn=claim.principal_arn if claim else None,
                log_group=log_group,
            ),
            sample=sample,
            settings=settings,
            policy=policy,
            now=now,
        )
    )
    out.audit.append(
        refused_audit(
            account=account,
            region=region,
            stream=stream,
            count=len(binding.forged),
            policy=policy,
            now=now,
            rule=FORGED_RULE,
        )
    )
    return out


def forged_events_alert(
    *,
    account: str,
    region: str,
    stream: str,
    log_group: str,
    count: int,
    mismatched: tuple[str, ...],
    claimed: ClaimedSession,
    sample: str | None,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> ActionRequest:
    """Critical: events in ``stream`` claim to be its session but do not match the ledger."""
    fields = ", ".join(mismatched)
    why = (
        f"{count} event(s) in this session's log stream claim to be that session but their "
        f"{fields} do not match its StartSession in CloudTrail. They were refused: not judged against "
        "the session, not counted as its output. Some host that can write to the session-log group "
        "wrote them."
    )
    findings = []
    if sample:
        findings.append(
            Finding(
                rule=FORGED_RULE,
                title="First refused line (as written by the forger)",
                severity=Severity.CRITICAL,
                category="defense_evasion",
                reason="a session-log event that does not match its session",
                command=sample,
            )
        )
    return _alert(
        cause=("log_forged", account, region, stream, window_of(now)),
        account=account,
        region=region,
        log_group=log_group,
        severity=Severity.CRITICAL,
        title="Forged session-log event refused",
        why=why,
        rule=FORGED_RULE,
        findings=findings,
        claimed=claimed,
        settings=settings,
        policy=policy,
        now=now,
    )


def future_events_alert(
    *,
    account: str,
    region: str,
    stream: str,
    log_group: str,
    count: int,
    ahead: timedelta,
    skew: timedelta,
    claimed: ClaimedSession | None,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> ActionRequest:
    """High: events dated further ahead than the clock skew allows (a way to blind the watch)."""
    minutes = int(ahead.total_seconds() // 60)
    why = (
        f"{count} event(s) in this log stream are dated up to {minutes} min after "
        f"they arrived (more than the {int(skew.total_seconds() // 60)} min a clock may be off). "
        "ssm-warden times them by their arrival and judged them anyway."
    )
    return _alert(
        cause=("log_future", account, region, stream, window_of(now)),
        account=account,
        region=region,
        log_group=log_group,
        severity=Severity.HIGH,
        title="Future-dated session-log event",
        why=why,
        rule=FUTURE_RULE,
        findings=[],
        claimed=claimed,
        settings=settings,
        policy=policy,
        now=now,
    )


# Stream names and claimed values are written by whoever wrote the log: they are never put in the
# prose of ``why``; Slack shows them as code, labelled as claimed (``ActionRequest.claimed``).


def foreign_group_alert(
    *,
    account: str,
    region: str,
    log_group: str,
    expected: str,
    stream: str,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> ActionRequest:
    """Medium: a subscription delivered a log group that is not the account's session-log group."""
    why = (
        f"Account {account} delivered a log group that is not its session-log group ({expected}) to "
        "the command monitor. Not a session log: nothing in it was judged against any session."
    )
    return _alert(
        cause=("log_foreign_group", account, region, log_group, window_of(now, FOREIGN_GROUP_WINDOW)),
        account=account,
        region=region,
        log_group=log_group,
        severity=Severity.MEDIUM,
        title="Log group that is not a session log delivered",
        why=why,
        rule=FOREIGN_GROUP_RULE,
        findings=[],
        claimed=ClaimedSession(session_id=stream, log_group=log_group),
        settings=settings,
        policy=policy,
        now=now,
    )


def unverified(action: ActionRequest, claimed: ClaimedSession) -> ActionRequest:
    """A decision about a stream the ledger does not know, as what it may be at most: an alert that
    names the session only as claimed, outside any session thread, with no Terminate button."""
    would = (
        " (the policy would terminate a verified session for this)"
        if action.kind is ActionKind.TERMINATE
        else ""
    )
    return action.model_copy(
        update={
            "kind": ActionKind.ALERT,
            "mode": Mode.ENFORCE,
            "session": _account_level(action.session.account, action.session.region, claimed.log_group)
            if action.session
            else None,
            "title": UNVERIFIED_PREFIX + action.title,
            "why": (
                f"{action.why}. CloudTrail has not confirmed the session this log stream is named "
                f"after: the session, who and where below are only what the log claims{would}."
            ),
            "claimed": claimed,
        }
    )


def unverified_audit(record: AuditRecord) -> AuditRecord:
    """The audit record of a finding in an unverified stream: kept, and marked as such."""
    return record.model_copy(
        update={
            "outcome": f"unverified session: alert only ({record.outcome})",
            "details": {**record.details, "unverified": "true"},
        }
    )


def refused_audit(
    *, account: str, region: str, stream: str, count: int, policy: LoadedPolicy, now: datetime, rule: str
) -> AuditRecord:
    """A record on the session's own trail that events claiming it were refused (not a finding):
    one per stream, rule and window, timed at the window's start so that a retry writes the same
    record (the arrival is in the details)."""
    start = window_start(now)
    return AuditRecord(
        session_id=stream,
        at=start,
        record_id=action_id_for("log_refused", account, region, stream, rule, window_of(now)),
        decision=Decision.SESSION,
        rule_or_limit=rule,
        policy_version=policy.version,
        action="refuse",
        outcome=f"{count} log event(s) claiming this session did not match it: refused, not judged",
        account=account,
        region=region,
        details={"first_arrival": now.isoformat()},
    )


def _alert(
    *,
    cause: tuple[str, ...],
    account: str,
    region: str,
    log_group: str | None,
    severity: Severity,
    title: str,
    why: str,
    rule: str,
    findings: list[Finding],
    claimed: ClaimedSession | None,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
) -> ActionRequest:
    return ActionRequest(
        action_id=action_id_for(*cause),
        kind=ActionKind.ALERT,
        mode=Mode.ENFORCE,  # an alert is never held back by monitor mode
        trigger=Trigger.TAMPER,
        severity=severity,
        session=_account_level(account, region, log_group),
        title=title,
        why=why,
        rule_or_limit=rule,
        findings=findings,
        policy_version=policy.version,
        scope=settings.scope,
        channel=settings.channel_for(severity),
        created_at=now,
        claimed=claimed,
    )

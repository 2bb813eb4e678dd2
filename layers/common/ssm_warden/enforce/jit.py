"""Just-in-time access decisions. Pure: the caller reads the session and its access request.

- ``require_jit``: a standard session on a target whose scope requires JIT access is a start-time
  finding (``StartCheck.REQUIRE_JIT``).
- ``jit_window``: Systems Manager does not end JIT sessions when the approved window ends or the
  request is revoked (aws-facts §9). ssm-warden warns ``warn_before_minutes`` before the window
  ends, and terminates at its end, or at once when the request is revoked, rejected or expired;
  ``monitor`` says "would terminate" instead. A Slack extension postpones the window end like any
  limit. A session joined to its request by name where more than one request fitted is never
  terminated on the request's word: the alert says why.

Action ids derive from the session, the cause and the deadline, so the sweeper can decide every
minute without repeating itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ssm_warden.clock import iso
from ssm_warden.enforce.decide import Decisions, session_audit
from ssm_warden.enforce.limits import _extended_until
from ssm_warden.ledger.access_events import is_jit_principal
from ssm_warden.models.access import AccessRequestRecord
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.audit import Decision
from ssm_warden.models.findings import Severity
from ssm_warden.models.session import SessionRecord
from ssm_warden.policy.evaluate import EffectiveSettings, active_exemption
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.model import JitWindow, ResponseAction, StartCheck

JIT_WINDOW = "jit_window"


def is_jit_session(record: SessionRecord, access_type: str | None = None) -> bool:
    """Started with JIT credentials: DescribeSessions says so, or it was joined to a request, or its
    principal is the JIT token role."""
    if (access_type or record.access_type) == "JustInTime" or record.access_join:
        return True
    return bool(
        record.principal and (record.principal.access_request_id or is_jit_principal(record.principal))
    )


def check_require_jit(
    *,
    record: SessionRecord,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool = False,
    access_type: str | None = None,
) -> Decisions:
    """A standard session on a target whose scope says ``require_jit: true``."""
    out = Decisions()
    if not settings.require_jit or is_jit_session(record, access_type):
        return out
    response = settings.start_check_action(StartCheck.REQUIRE_JIT)
    if response is ResponseAction.OBSERVE:
        return out
    kind = ActionKind.TERMINATE if response is ResponseAction.TERMINATE else ActionKind.ALERT
    out.actions.append(
        ActionRequest(
            action_id=action_id_for(
                "start", session.account, session.region, session.session_id, StartCheck.REQUIRE_JIT.value
            ),
            kind=kind,
            mode=Mode.MONITOR if force_monitor else settings.mode_for(StartCheck.REQUIRE_JIT.value),
            trigger=Trigger.START_CHECK,
            severity=Severity.HIGH,
            session=session,
            title="Standard session where just-in-time access is required",
            why=(
                f"scope {settings.scope!r} requires just-in-time node access; "
                f"{session.principal_arn or 'this principal'} started a standard session"
            ),
            rule_or_limit=StartCheck.REQUIRE_JIT.value,
            policy_version=policy.version,
            scope=settings.scope,
            channel=settings.channel_for(Severity.HIGH),
            created_at=now,
        )
    )
    return out


def _mode(settings: EffectiveSettings, force_monitor: bool) -> Mode:
    if force_monitor or settings.jit_window is JitWindow.MONITOR:
        return Mode.MONITOR
    return settings.mode_for(JIT_WINDOW)


def _window_end(record: SessionRecord, request: AccessRequestRecord) -> datetime | None:
    end = request.window_end
    until = _extended_until(record)
    if end is not None and until is not None:
        return max(end, until)
    return end


def check_jit_window(
    *,
    record: SessionRecord,
    request: AccessRequestRecord,
    session: SessionRef,
    settings: EffectiveSettings,
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool = False,
) -> Decisions:
    """Warn before the approved window ends; terminate at its end or when the request is revoked,
    rejected or expired."""
    out = Decisions()
    if settings.jit_window is JitWindow.OFF:
        return out
    ambiguous = bool((record.access_join or {}).get("ambiguous"))
    end = _window_end(record, request)
    if request.status.ends_access:
        cause = f"{request.status.value}@{iso(request.status_at) if request.status_at else '?'}"
        by = f" by {request.status_by}" if request.status_by and request.status_by != "unknown" else ""
        title = f"Just-in-time access {request.status.value}"
        why = f"access request {request.request_id} was {request.status.value}{by}; the session is still open"
        over = True
    elif end is not None and now >= end - timedelta(minutes=settings.warn_before_minutes):
        over = now >= end
        cause = f"window@{iso(end)}"
        title = "Just-in-time window ended" if over else "Just-in-time window ending"
        tense = "ended" if over else "ends"
        why = f"the approved window of access request {request.request_id} {tense} at {iso(end)}"
    else:
        return out
    exemption = active_exemption(
        policy.policy,
        principal_arn=session.principal_arn,
        target_id=session.target_id,
        rule_or_limit=JIT_WINDOW,
        now=now,
    )
    if exemption is not None:
        out.audit.append(
            session_audit(
                session,
                now,
                f"suppressed:{JIT_WINDOW}:{cause}",
                Decision.SUPPRESSED,
                JIT_WINDOW,
                policy,
                "none",
                f"exempt until {iso(exemption.expires)}: {exemption.reason}",
            )
        )
        return out
    kind = ActionKind.TERMINATE if over else ActionKind.WARN
    if over and ambiguous:
        kind = ActionKind.ALERT
        why += (
            "; not terminated: more than one access request of this requester fits the session, "
            "so which one it used is not certain"
        )
    severity = Severity.HIGH if over else Severity.LOW
    out.actions.append(
        ActionRequest(
            action_id=action_id_for(
                "jit", session.account, session.region, session.session_id, kind.value, cause
            ),
            kind=kind,
            mode=_mode(settings, force_monitor),
            trigger=Trigger.MAX_DURATION,
            severity=severity,
            session=session,
            title=title,
            why=why,
            rule_or_limit=JIT_WINDOW,
            policy_version=policy.version,
            scope=settings.scope,
            channel=settings.channel_for(severity),
            created_at=now,
        )
    )
    return out

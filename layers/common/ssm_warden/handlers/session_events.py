"""The session_events function: a CloudTrail event → the ledger, start-time checks, tamper alerts."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ssm_warden.clock import utc_now
from ssm_warden.enforce.on_access import after_session_start
from ssm_warden.enforce.on_event import act_on_ledger_result, act_on_tamper
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.tamper import is_tamper_call
from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.repository import WriteOutcome
from ssm_warden.ledger.service import parse_session_event, record_session_event
from ssm_warden.models.cloudtrail import ACCESS_REQUEST_EVENT_NAMES, KEYLESS_EVENTS
from ssm_warden.models.session import DeniedAttempt, SessionStarted
from ssm_warden.observability import logger, metrics
from ssm_warden.policy.store import current_policy

# Identifier fields and the shape each must have to be logged: a field that does not look like an
# identifier is named, not repeated (it may be a reason or a command in the wrong place).
_ID = r"[A-Za-z0-9-]{1,64}"
_IDENTIFIERS = {
    "eventID": _ID,
    "requestID": _ID,
    "eventName": r"[A-Za-z]{1,64}",
    "eventSource": r"[a-z0-9.-]{1,64}\.amazonaws\.com",
    "eventTime": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z",
    "awsRegion": r"[a-z]{2}(-[a-z]+)+-\d{1,2}",
    "recipientAccountId": r"\d{12}",
}
_TOP = {"id": _ID, "detail-type": r"[A-Za-z ]{1,64}", "source": r"[a-z0-9.-]{1,64}", "account": r"\d{12}"}


def _shaped(value: Any, pattern: str) -> str | None:
    if isinstance(value, str) and re.fullmatch(pattern, value):
        return value
    return None if value is None else "(not an identifier)"


def event_identifiers(event: Any) -> dict[str, Any]:
    """What identifies an event without repeating what it says (no request parameters, no reason)."""
    if not isinstance(event, dict):
        return {"event_type": type(event).__name__}
    ids: dict[str, Any] = {key: _shaped(event.get(key), pattern) for key, pattern in _TOP.items()}
    detail = event.get("detail")
    if isinstance(detail, dict):
        ids.update({f"detail.{k}": _shaped(detail.get(k), pattern) for k, pattern in _IDENTIFIERS.items()})
        ids["detail_fields"] = sorted(
            k for k in detail if isinstance(k, str) and re.fullmatch(r"\w{1,40}", k)
        )[:40]
    return {k: v for k, v in ids.items() if v is not None}


def describe_problem(exc: Exception) -> str:
    """The problem with a malformed event: field paths and error types, never the values."""
    cause = exc if isinstance(exc, ValidationError) else exc.__cause__
    if isinstance(cause, ValidationError):
        parts = [
            f"{'.'.join(str(p) for p in e['loc']) or '(event)'}: {e['type']}" for e in cause.errors()[:10]
        ]
        return "invalid fields: " + "; ".join(parts)
    return str(exc)[:300]


def handle(event: dict[str, Any]) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    now = utc_now()
    try:
        parsed = parse_session_event(event)
        if is_tamper_call(parsed.detail):
            decisions = act_on_tamper(parsed.detail, policy_state=current_policy(), sink=QueueSink(), now=now)
            logger().info(
                "tamper-relevant call",
                extra={"event_name": parsed.detail.event_name, "alerts": len(decisions.actions)},
            )
            return {"status": "tamper", "alerts": len(decisions.actions)}
        if parsed.detail.event_name in ACCESS_REQUEST_EVENT_NAMES or (
            (parsed.detail.event_source, parsed.detail.event_name) in KEYLESS_EVENTS
        ):
            # JIT access and keyless paths: their ledger, joins and checks load only when such an
            # event comes (most events are StartSession / TerminateSession).
            from ssm_warden.handlers.access_events import handle_access_event

            return handle_access_event(parsed.detail, now=now)
        result = record_session_event(parsed)
    except (MalformedEventError, ValidationError) as exc:
        # Retrying cannot fix a malformed event: report it (log, metric, alarm) and return, so it is
        # neither retried forever nor silently lost. The log names the event and the problem, never
        # its content: request parameters carry reasons and commands.
        problem = describe_problem(exc)
        logger().error(
            "malformed session event skipped", extra={**event_identifiers(event), "problem": problem}
        )
        metrics().add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": problem}

    change = result.change
    decisions = act_on_ledger_result(result, policy_state=current_policy(), sink=QueueSink(), now=now)
    if isinstance(change, SessionStarted) and result.outcome is WriteOutcome.APPLIED:
        after_session_start(
            change.account,
            change.region,
            change.session_id,
            policy_state=current_policy(),
            sink=QueueSink(),
            now=now,
        )
    if result.outcome is not WriteOutcome.DUPLICATE:
        if isinstance(change, SessionStarted):
            metrics().add_metric(name="SessionsStarted", unit=MetricUnit.Count, value=1)
        if isinstance(change, DeniedAttempt):
            metrics().add_metric(name="DeniedAttempts", unit=MetricUnit.Count, value=1)
    logger().info(
        "session event recorded",
        extra={
            "event_kind": change.kind,
            "event_id": change.event_id,
            "session_id": getattr(change, "session_id", None),
            "outcome": result.outcome.value,
            "tags_lookup_failed": result.tags.failed,
            "actions": [a.action_id for a in decisions.actions],
        },
    )
    return {
        "status": result.outcome.value,
        "kind": change.kind,
        "session_id": getattr(change, "session_id", None),
        "actions": len(decisions.actions),
    }

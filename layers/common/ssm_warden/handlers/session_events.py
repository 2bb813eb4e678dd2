"""The session_events function: a CloudTrail event → the ledger, start-time checks, tamper alerts."""

from __future__ import annotations

from typing import Any

from ssm_warden.clock import utc_now
from ssm_warden.enforce.on_access import after_session_start
from ssm_warden.enforce.on_event import act_on_ledger_result, act_on_tamper
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.tamper import TAMPER_EVENT_NAMES
from ssm_warden.errors import MalformedEventError
from ssm_warden.handlers.access_events import handle_access_event
from ssm_warden.ledger.repository import WriteOutcome
from ssm_warden.ledger.service import parse_session_event, record_session_event
from ssm_warden.models.cloudtrail import ACCESS_REQUEST_EVENT_NAMES, KEYLESS_EVENTS
from ssm_warden.models.session import DeniedAttempt, SessionStarted
from ssm_warden.observability import logger, metrics
from ssm_warden.policy.store import current_policy


def handle(event: dict[str, Any]) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    now = utc_now()
    try:
        parsed = parse_session_event(event)
        if parsed.detail.event_name in TAMPER_EVENT_NAMES:
            decisions = act_on_tamper(parsed.detail, policy_state=current_policy(), sink=QueueSink(), now=now)
            logger().info(
                "tamper-relevant call",
                extra={"event_name": parsed.detail.event_name, "alerts": len(decisions.actions)},
            )
            return {"status": "tamper", "alerts": len(decisions.actions)}
        if parsed.detail.event_name in ACCESS_REQUEST_EVENT_NAMES or (
            (parsed.detail.event_source, parsed.detail.event_name) in KEYLESS_EVENTS
        ):
            return handle_access_event(parsed.detail, now=now)  # JIT access and keyless paths
        result = record_session_event(parsed)
    except MalformedEventError as exc:
        # Retrying cannot fix a malformed event: report it (log with the event, metric, alarm) and
        # return, so it is neither retried forever nor silently lost.
        logger().error("malformed session event skipped", extra={"error": str(exc), "event": event})
        metrics().add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": str(exc)}

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

"""The session_events function: one CloudTrail session event → the ledger."""

from __future__ import annotations

from typing import Any

from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.repository import WriteOutcome
from ssm_warden.ledger.service import record_session_event
from ssm_warden.models.session import DeniedAttempt, SessionStarted
from ssm_warden.observability import logger, metrics


def handle(event: dict[str, Any]) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    try:
        result = record_session_event(event)
    except MalformedEventError as exc:
        # Retrying cannot fix a malformed event: report it (log with the event, metric, alarm) and
        # return, so it is neither retried forever nor silently lost.
        logger().error("malformed session event skipped", extra={"error": str(exc), "event": event})
        metrics().add_metric(name="MalformedEvents", unit=MetricUnit.Count, value=1)
        return {"status": "rejected", "error": str(exc)}

    change = result.change
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
        },
    )
    return {
        "status": result.outcome.value,
        "kind": change.kind,
        "session_id": getattr(change, "session_id", None),
    }

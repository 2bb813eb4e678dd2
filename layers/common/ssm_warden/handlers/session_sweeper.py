"""The session_sweeper function: one sweep per scheduled invocation."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ssm_warden.clock import utc_now
from ssm_warden.config import get_settings
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.sweeper import sweep
from ssm_warden.observability import logger, metrics
from ssm_warden.policy.store import current_policy


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit

    account = context.invoked_function_arn.split(":")[4]
    report = sweep(
        now=utc_now(),
        account=account,
        region=get_settings().region,
        policy_state=current_policy(),
        sink=QueueSink(),
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    metrics().add_metric(name="ActiveSessions", unit=MetricUnit.Count, value=report.active)
    metrics().add_metric(name="SessionsDiscovered", unit=MetricUnit.Count, value=report.discovered)
    metrics().add_metric(name="SessionsClosedByReconciliation", unit=MetricUnit.Count, value=report.closed)
    if not report.complete:
        logger().warning("sweep ran out of time before every session was checked", extra=asdict(report))
    logger().info("sweep done", extra=asdict(report))
    return asdict(report)

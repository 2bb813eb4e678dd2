"""The command_monitor function: a session-log subscription batch → commands judged → actions.

Malformed input is reported (an error log saying what and where, metric ``MalformedRecords``) and
skipped; a failure to queue actions or to write the ledger raises so that Lambda retries the batch.
"""

from __future__ import annotations

from typing import Any

from ssm_warden.config import get_settings
from ssm_warden.monitor.service import BatchResult, Dependencies, process_subscription
from ssm_warden.observability import logger, metrics


def _report(message: str, extra: dict[str, Any]) -> None:
    logger().info(message, extra=extra)


def default_dependencies() -> Dependencies:
    """The real ledger, action queue, audit trail, policy store and detector."""
    from ssm_warden.audit import write_audit
    from ssm_warden.config import member_log_groups
    from ssm_warden.enforce.sink import QueueSink
    from ssm_warden.ledger.repository import SessionRepository
    from ssm_warden.monitor.judging import batch_judge
    from ssm_warden.policy.store import current_policy

    settings = get_settings()
    return Dependencies(
        store=SessionRepository(),
        sink=QueueSink(),
        write_audit=write_audit,
        policy=current_policy,
        detector=batch_judge,
        region=settings.region,
        force_monitor=settings.force_monitor_mode,
        report=_report,
        session_log_group=settings.session_log_group,
        member_log_groups=member_log_groups(settings),
        log_terminations_per_minute=settings.log_terminations_per_minute,
    )


def handle(event: dict[str, Any], deps: Dependencies | None = None) -> dict[str, Any]:
    if "Records" in event:
        # Organisation mode: member accounts' session logs arrive as Kinesis records, one
        # subscription payload each (docs/organization.md).
        from ssm_warden.handlers.command_monitor_kinesis import handle_kinesis

        return handle_kinesis(event, deps)
    result = process_subscription(event, deps or default_dependencies())
    publish(result)
    return result.summary()


def publish(result: BatchResult) -> None:
    """Logs and metrics for one batch: ``CommandsSeen``, ``Findings`` (dimension ``severity``),
    ``MalformedRecords``, ``ForgedLogEvents``, ``FutureDatedLogEvents``, ``LogTerminationsHeld``."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    log = logger()
    for problem in result.malformed:
        log.error(
            "malformed session-log record skipped",
            extra={"where": problem.where, "what": problem.what, "session_id": result.session_id},
        )
    if result.malformed:
        metrics().add_metric(name="MalformedRecords", unit=MetricUnit.Count, value=len(result.malformed))
    for name, value in (
        ("ForgedLogEvents", result.forged_events),
        ("FutureDatedLogEvents", result.future_events),
        ("LogTerminationsHeld", result.terminations_held),
    ):
        if value:
            metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)
    if result.status in ("processed", "duplicate"):
        metrics().add_metric(name="CommandsSeen", unit=MetricUnit.Count, value=result.commands)
    m = metrics()
    for severity, count in sorted(result.findings.items()):
        with single_metric(
            name="Findings",
            unit=MetricUnit.Count,
            value=count,
            namespace=m.namespace,
            default_dimensions={"service": m.service or "ssm-warden"},
        ) as metric:
            metric.add_dimension(name="severity", value=severity)
    log.info("session-log batch processed", extra=result.summary())

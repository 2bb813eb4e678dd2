"""The action_executor function: SQS action requests → terminate / alert / warn, with audit.

A partial batch response (``sqs_batch``: what Powertools' SQS batch processor answers) reports the
failed records, so one failing action is retried alone; the Powertools idempotency utility, keyed by
action id, makes a redelivered action that already succeeded a no-op (no second termination, no
second post).

A delivery that finds its action **in progress** in another invocation (SQS delivers at least once,
and copies can arrive together) is not a failure: it is returned as a batch item failure quietly (no
"action failed" log, no ActionFailures metric, no action_failed audit record) so that SQS offers it
again after the visibility timeout, when the first delivery has finished and the copy is a no-op.
Even a batch of nothing but such copies does not fail the invocation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ssm_warden.config import get_settings
from ssm_warden.enforce.executor import Execution, LogNotifier, Notifier, execute_action, record_failure
from ssm_warden.handlers.sqs_batch import SqsRecord, process_sqs_batch
from ssm_warden.models.actions import ActionRequest
from ssm_warden.observability import logger, metrics

IDEMPOTENCY_HOURS = 6
# The action queue's maxReceiveCount (template.yaml): the attempt after which a request is dead-lettered.
MAX_RECEIVES = 5


def notifier() -> Notifier:
    inner: Notifier = LogNotifier()
    if get_settings().slack_secret_name:
        from ssm_warden.slack.notifier import default_notifier

        inner = default_notifier()
    if get_settings().security_hub_findings:
        from ssm_warden.securityhub.publisher import SecurityHubNotifier

        return SecurityHubNotifier(inner)
    return inner


@lru_cache(maxsize=1)
def _idempotency() -> tuple[Any, Any]:
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    from ssm_warden.clients import aws_client

    store = DynamoDBPersistenceLayer(
        table_name=get_settings().idempotency_table, boto3_client=aws_client("dynamodb")
    )
    config = IdempotencyConfig(event_key_jmespath="action_id", expires_after_seconds=IDEMPOTENCY_HOURS * 3600)

    @idempotent_function(data_keyword_argument="action", persistence_store=store, config=config)  # type: ignore[untyped-decorator]
    def run(action: ActionRequest) -> dict[str, Any]:
        from ssm_warden.enforce.sink import QueueSink

        result: Execution = execute_action(
            action, notifier=notifier(), follow_up=lambda a: QueueSink().submit([a])
        )
        return {"action_id": result.action_id, "outcome": result.outcome, "termination": result.termination}

    return run, config


def reset_idempotency() -> None:
    """Forget the cached persistence layer (tests point it at a new table)."""
    _idempotency.cache_clear()


class ActionInProgress(Exception):
    """Another invocation is carrying out this action now: offer this copy again later."""


def _handle_record(record: SqsRecord) -> dict[str, Any]:
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

    action = ActionRequest.model_validate_json(record.body)  # a malformed body fails → retried → DLQ
    attempt = int(record.approximate_receive_count or 1)
    run, _ = _idempotency()
    try:
        result: dict[str, Any] = run(action=action)
    except IdempotencyAlreadyInProgressError as exc:
        logger().info(
            "action in progress in another invocation; this copy is retried later",
            extra={"action_id": action.action_id, "attempt": attempt, "kind": action.kind.value},
        )
        raise ActionInProgress(action.action_id) from exc
    except Exception as exc:
        logger().error(
            "action failed",
            extra={
                "action_id": action.action_id,
                "attempt": attempt,
                "kind": action.kind.value,
                "error": str(exc),
            },
        )
        metrics().add_metric(name="ActionFailures", unit=MetricUnit.Count, value=1)
        final = attempt >= MAX_RECEIVES
        record_failure(action, str(exc), attempt, final=final, notifier=notifier() if final else None)
        raise
    outcome = result["outcome"]
    name = {
        "terminated": "Terminations",
        "would_terminate": "WouldTerminate",
        "warned": "Warnings",
        "summarised": "Summaries",
        "no_summary": "Summaries",
    }.get(outcome, "Alerts")
    metrics().add_metric(name=name, unit=MetricUnit.Count, value=1)
    logger().info("action done", extra={"action_id": action.action_id, **result})
    return result


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _, config = _idempotency()
    config.register_lambda_context(context)
    outcome = process_sqs_batch(event, _handle_record)
    records = event.get("Records") or []
    real = [info for info in outcome.exceptions if not isinstance(info[1], ActionInProgress)]
    if records and len(outcome.exceptions) == len(records) and real:
        # Every record failed, and not only as in-progress copies: fail the invocation as before.
        from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

        raise BatchProcessingError(
            msg=f"All records failed processing. {len(real)} individual errors logged separately.",
            child_exceptions=outcome.exceptions,
        )
    return outcome.response()

"""The command_monitor function fed by Kinesis Data Streams (organisation mode, docs/organization.md).

Member accounts' session log groups subscribe to the governance account's CloudWatch Logs
destination, which writes each subscription payload, unchanged, as one Kinesis record: the record's
data is the same gzip'd JSON a direct subscription delivers as ``awslogs.data``, owner (the member
account) included. So each record goes through the same ``process_subscription`` as a direct
delivery.

Powertools batch processing reports the records that failed (a ledger or queue failure raised
``TransientError``); Lambda then retries from the first of them, and the records after it that had
succeeded are skipped as duplicates by the command-watch state (their batch fingerprints are among
the stream's last 32 stored).
Malformed payloads are reported and skipped by ``process_subscription``, never retried.
"""

from __future__ import annotations

from typing import Any

from ssm_warden.monitor.service import Dependencies, process_subscription


def subscription_payload(record_data: str) -> dict[str, Any]:
    """A Kinesis record's base64 data as the direct subscription payload it is."""
    return {"awslogs": {"data": record_data}}


def handle_kinesis(event: dict[str, Any], deps: Dependencies | None = None) -> dict[str, Any]:
    """Process every record; returns the partial batch response (``batchItemFailures``)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from ssm_warden.handlers.command_monitor import default_dependencies, publish

    dependencies = deps or default_dependencies()

    def record_handler(record: Any) -> dict[str, Any]:
        # ``record`` is Powertools' KinesisStreamRecord; ``kinesis.data`` is the base64 payload.
        result = process_subscription(subscription_payload(record.kinesis.data), dependencies)
        publish(result)
        return result.summary()

    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor))

"""SQS partial batch responses, as Powertools' ``BatchProcessor(EventType.SQS)`` gives them.

Powertools' batch utility is the reference: every record is handed to the record handler, a record
whose handler raises is reported in ``batchItemFailures`` (by ``messageId``) so that SQS offers only
that one again, and an event without records is refused the same way. This module does only that,
without importing the utility: its package imports every event source's data class and asyncio,
about 70 ms CPU of the action executor's cold start for a loop of a few lines.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

# sys.exc_info() of a failed record, as Powertools keeps them.
ExceptionInfo = tuple[type[BaseException] | None, BaseException | None, TracebackType | None]


class SqsRecord:
    """The fields of an SQS record the executor reads (the names Powertools' ``SQSRecord`` uses)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    # The values as the record holds them (a record missing one raises KeyError, as Powertools' does).
    @property
    def message_id(self) -> Any:
        return self.raw["messageId"]

    @property
    def body(self) -> Any:
        return self.raw["body"]

    @property
    def approximate_receive_count(self) -> Any:
        return self.raw["attributes"]["ApproximateReceiveCount"]


@dataclass
class BatchOutcome:
    """The partial batch response, and the exceptions of the records that failed (in order)."""

    failed_ids: list[Any] = field(default_factory=list)
    exceptions: list[ExceptionInfo] = field(default_factory=list)

    def response(self) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failed_ids]}


def process_sqs_batch(event: Mapping[str, Any], handle_record: Callable[[SqsRecord], Any]) -> BatchOutcome:
    """Run ``handle_record`` on every record of ``event``; the records that raised, with why."""
    if not isinstance(event, Mapping):
        raise ValueError("Invalid event format. Please ensure batch event is a valid SQS event.")
    records = event.get("Records", [])
    if not records or not isinstance(records, list):
        from aws_lambda_powertools.utilities.batch.exceptions import UnexpectedBatchTypeError

        raise UnexpectedBatchTypeError(
            "Unexpected batch event type. Possible values are: SQS, KinesisDataStreams, DynamoDBStreams"
        )
    outcome = BatchOutcome()
    for raw in records:
        record = SqsRecord(raw)
        try:
            handle_record(record)
        except Exception:
            outcome.exceptions.append(sys.exc_info())
            outcome.failed_ids.append(record.message_id)
    return outcome

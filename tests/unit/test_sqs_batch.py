"""The action executor's partial batch response answers what Powertools' SQS batch processor answers."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.exceptions import UnexpectedBatchTypeError

from ssm_warden.handlers.sqs_batch import process_sqs_batch


def record(message_id: str, body: Any = "{}", count: Any = "1", **extra: Any) -> dict[str, Any]:
    return {"messageId": message_id, "body": body, "attributes": {"ApproximateReceiveCount": count}, **extra}


def handler(record: Any) -> str:
    """Fails the way the executor's record handler can: a bad body, a missing field, a raise."""
    body = record.body
    if body == "boom":
        raise RuntimeError("action failed")
    # Powertools' SQSRecord has the count under ``attributes``; ours has it on the record.
    count = (
        record.attributes.approximate_receive_count
        if hasattr(record, "attributes")
        else record.approximate_receive_count
    )
    attempt = int(count or 1)
    if attempt > 4:
        raise ValueError("last attempt failed")
    return str(body)


BATCHES = [
    [record("a")],
    [record("a"), record("b", body="boom"), record("c")],
    [record("a", body="boom"), record("b", body="boom")],
    [record("a", count="5"), record("b", count=None), record("c", count="")],
    [{"messageId": "no-body", "attributes": {"ApproximateReceiveCount": "1"}}, record("ok")],
    [{"messageId": "no-attributes", "body": "{}"}, record("ok")],
]


def powertools(event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response = process_partial_response(event=event, record_handler=handler, processor=processor)
    return dict(response), [repr(info[1]) for info in processor.exceptions]


@pytest.mark.parametrize("records", BATCHES)
def test_the_same_failures_are_reported_as_powertools_reports(records: list[dict[str, Any]]) -> None:
    event = {"Records": records}
    outcome = process_sqs_batch(event, handler)
    assert (outcome.response(), [repr(info[1]) for info in outcome.exceptions]) == powertools(event)


@pytest.mark.parametrize("event", [{}, {"Records": []}, {"Records": "x"}])
def test_an_event_without_records_is_refused_as_powertools_refuses_it(event: dict[str, Any]) -> None:
    with pytest.raises(UnexpectedBatchTypeError):
        powertools(event)
    with pytest.raises(UnexpectedBatchTypeError):
        process_sqs_batch(event, handler)

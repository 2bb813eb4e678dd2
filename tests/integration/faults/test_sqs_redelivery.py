"""Redelivery: the same SQS message twice, a batch partly failed and retried, a whole batch re-driven
after its invocation died, the action queue refusing a send, and a Kinesis log batch retried from
its first failed record. Every action is carried out exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.action_executor import app as executor_app
from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden_local import moto_sessions
from ssm_warden_local.aws_faults import ClientFaults
from tests.conftest import ACCOUNT, REGION
from tests.integration.faults.conftest import PROMPT, RISKY, RISKY_TITLE, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]


def risky_sessions(pipeline: Pipeline, n: int) -> list[str]:
    """``n`` dev sessions (critical findings terminate there too) each showing the risky command."""
    ids = [pipeline.start("dev") for _ in range(n)]
    for session_id in ids:
        assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))["actions"] == 1
    return ids


def alerts_per_session(pipeline: Pipeline, ids: list[str]) -> list[int]:
    alerts = pipeline.alerts(RISKY_TITLE)
    return [sum(session_id in (m.text or "") for m in alerts) for session_id in ids]


def duplicates(pipeline: Pipeline, ids: list[str]) -> int:
    per_session = alerts_per_session(pipeline, ids)
    return sum(max(n - 1, 0) for n in per_session) + sum(max(pipeline.terminate_calls(s) - 1, 0) for s in ids)


class RecordingExecutor:
    """The executor's handler, with each invocation's batch size and partial-failure response kept;
    ``die_after_first``: the first invocation does its work, then dies (timeout, out of memory)."""

    def __init__(self, die_after_first: bool = False) -> None:
        self.die_after_first = die_after_first
        self.invocations: list[tuple[int, int]] = []  # (records, records reported failed)

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = executor_app.lambda_handler(event, context)
        self.invocations.append((len(event["Records"]), len(response.get("batchItemFailures", []))))
        if self.die_after_first and len(self.invocations) == 1:
            raise RuntimeError("invocation died after doing its work")
        return response


def test_the_same_action_delivered_twice_is_carried_out_once(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row("SQS delivers the same message twice", "a second copy of the terminate request")
    (session_id,) = risky_sessions(pipeline, 1)
    # Given the action request twice on the queue (SQS standard queues deliver at least once)
    sqs = aws_client("sqs")
    (message,) = sqs.receive_message(QueueUrl=pipeline.queue, MaxNumberOfMessages=10, VisibilityTimeout=0)[
        "Messages"
    ]
    sqs.send_message(QueueUrl=pipeline.queue, MessageBody=message["Body"])
    assert pipeline.queued() == 2
    # When the executor works through the queue
    pipeline.drain()
    # Then one termination, one alert
    row.observe(
        delivered=alerts_per_session(pipeline, [session_id]) == [1],
        duplicates=duplicates(pipeline, [session_id]),
    )
    assert pipeline.terminate_calls(session_id) == 1
    assert alerts_per_session(pipeline, [session_id]) == [1]


def test_a_batch_with_one_failed_record_retries_that_record_alone(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row("SQS batch partly failed", "TerminateSession throttled x2: 1 record of 3 fails")
    ids = risky_sessions(pipeline, 3)
    # Given TerminateSession throttled for one call's two attempts
    moto_sessions.inject_faults(ACCOUNT, REGION, "TerminateSession", ["ThrottlingException"] * 2)
    executor = RecordingExecutor()
    # When the executor works through the queue
    pipeline.drain(handler=executor)
    # Then the first invocation reported one failed record of three; every session was terminated
    # once and alerted once
    first = executor.invocations[0]
    row.observe(
        delivered=all(pipeline.status(s) == "Terminated" for s in ids)
        and alerts_per_session(pipeline, ids) == [1] * 3,
        duplicates=duplicates(pipeline, ids),
        isolated=first == (3, 1),
    )
    assert first == (3, 1)
    assert [pipeline.status(s) for s in ids] == ["Terminated"] * 3
    assert [pipeline.terminate_calls(s) for s in ids] == [1, 1, 1]
    assert alerts_per_session(pipeline, ids) == [1, 1, 1]


def test_a_whole_batch_redriven_after_its_invocation_died_does_nothing_twice(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("SQS batch re-driven whole", "invocation dies after its work: all 3 records return")
    ids = risky_sessions(pipeline, 3)
    executor = RecordingExecutor(die_after_first=True)
    # When the first invocation does its work and then dies, so SQS delivers all its records again
    report = pipeline.drain(handler=executor)
    # Then the second delivery of each is a no-op: one termination and one alert per session
    row.observe(
        delivered=alerts_per_session(pipeline, ids) == [1] * 3,
        duplicates=duplicates(pipeline, ids),
        isolated="n/a (whole batch)",
    )
    assert report.failed == 3
    assert [pipeline.terminate_calls(s) for s in ids] == [1, 1, 1]
    assert alerts_per_session(pipeline, ids) == [1, 1, 1]
    assert pipeline.queued() == 0 and pipeline.dead_lettered() == 0


def test_the_action_queue_refusing_a_send_fails_the_log_batch_and_its_retry_queues_once(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("SQS SendMessageBatch failing (command monitor)", "InternalServerError x2 on the send")
    session_id = pipeline.start("prod")
    batch = pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"])
    faults = ClientFaults(aws_client("sqs"))
    faults.inject("SendMessageBatch", ["InternalServerError"] * 2)
    try:
        # When the log batch is handled while the queue refuses the send: the invocation fails
        with pytest.raises(Exception, match="InternalServerError"):
            pipeline.watch(batch)
    finally:
        faults.remove()
    # and CloudWatch Logs' retry finds the queue again
    assert pipeline.watch(batch)["actions"] == 1
    pipeline.drain()
    row.observe(
        delivered=alerts_per_session(pipeline, [session_id]) == [1],
        duplicates=duplicates(pipeline, [session_id]),
    )
    assert pipeline.terminate_calls(session_id) == 1
    assert alerts_per_session(pipeline, [session_id]) == [1]


def kinesis_record(sequence: int, payload: dict[str, Any]) -> dict[str, Any]:
    """A Kinesis record whose data is a subscription payload (organisation mode)."""
    data = payload["awslogs"]["data"]  # the destination writes the gzip'd payload as it is
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "k",
            "sequenceNumber": str(sequence),
            "data": data,
            "approximateArrivalTimestamp": 1.0,
        },
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/session-logs",
    }


def test_a_kinesis_log_batch_retried_from_its_failed_record_judges_each_command_once(
    pipeline: Pipeline, dynamo_faults: ClientFaults, fault_row: Row
) -> None:
    row = fault_row("Kinesis log batch partly failed, retried", "ledger read throttled x2 for record 2 of 3")
    ids = [pipeline.start("dev") for _ in range(3)]
    records = [kinesis_record(n, pipeline.log_payload(s, [f"{PROMPT}{RISKY}"])) for n, s in enumerate(ids)]
    # Given the ledger read of the second session throttled (both attempts)
    dynamo_faults.inject(
        "BatchGetItem",
        ["ProvisionedThroughputExceededException"] * 2,
        when=lambda body: ids[1] in str(body.get("RequestItems", {}).get(get_settings().sessions_table)),
    )
    # When the batch is handled, the second record is reported failed and the others processed
    response = pipeline.watch({"Records": records})
    failed = [f["itemIdentifier"] for f in response["batchItemFailures"]]
    # and Lambda retries from the failed record (the one after it comes again)
    retry = pipeline.watch({"Records": records[1:]})
    pipeline.drain()
    row.observe(
        delivered=alerts_per_session(pipeline, ids) == [1] * 3,
        duplicates=duplicates(pipeline, ids),
        isolated=failed == ["1"],
    )
    assert failed == ["1"]
    assert retry["batchItemFailures"] == []
    assert [pipeline.terminate_calls(s) for s in ids] == [1, 1, 1]
    assert alerts_per_session(pipeline, ids) == [1, 1, 1]

"""The command monitor fed by Kinesis (organisation mode): each record is one subscription payload."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from ssm_warden.errors import TransientError
from ssm_warden.handlers import command_monitor, command_monitor_kinesis
from ssm_warden.monitor.service import BatchResult
from tests.unit.logs.builders import log_event, payload, streamed


def record(sequence: str, data: str) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "k",
            "sequenceNumber": sequence,
            "data": data,
            "approximateArrivalTimestamp": 1.0,
        },
        "eventSource": "aws:kinesis",
        "eventID": f"shardId-000000000000:{sequence}",
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/s",
    }


def member_payload(session_id: str) -> dict[str, Any]:
    return payload([log_event(0, streamed(["$ id"], session_id))], stream=session_id, owner="111111111111")


@pytest.fixture
def processed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Stand in for process_subscription: decode the payload it is given; session 'bad' fails."""
    seen: list[tuple[str, str]] = []

    def process(event: dict[str, Any], deps: Any) -> BatchResult:
        doc = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
        seen.append((doc["owner"], doc["logStream"]))
        if doc["logStream"] == "bad":
            raise TransientError("ledger write conflict")
        return BatchResult(status="processed", session_id=doc["logStream"])

    monkeypatch.setattr(command_monitor_kinesis, "process_subscription", process)
    monkeypatch.setattr(command_monitor, "publish", lambda result: None)
    return seen


def test_each_record_is_handled_as_the_subscription_payload_it_carries(
    processed: list[tuple[str, str]],
) -> None:
    # Given two records written by the Logs destination for two member sessions
    event = {
        "Records": [
            record("1", member_payload("alice-1")["awslogs"]["data"]),
            record("2", member_payload("bob-2")["awslogs"]["data"]),
        ]
    }
    # When the command monitor's handler receives the Kinesis batch
    response = command_monitor.handle(event, deps=object())  # type: ignore[arg-type]
    # Then each record was decoded as a subscription payload of the member account, and none failed
    assert processed == [("111111111111", "alice-1"), ("111111111111", "bob-2")]
    assert response == {"batchItemFailures": []}


def test_a_failing_record_is_reported_for_retry_and_the_others_are_processed(
    processed: list[tuple[str, str]],
) -> None:
    # Given a batch whose middle record fails
    event = {
        "Records": [
            record("10", member_payload("alice-1")["awslogs"]["data"]),
            record("11", member_payload("bad")["awslogs"]["data"]),
            record("12", member_payload("bob-2")["awslogs"]["data"]),
        ]
    }
    # When it is handled
    response = command_monitor.handle(event, deps=object())  # type: ignore[arg-type]
    # Then Lambda is told to retry from the failed record's sequence number
    assert response == {"batchItemFailures": [{"itemIdentifier": "11"}]}
    assert [stream for _, stream in processed] == ["alice-1", "bad", "bob-2"]

"""Malformed input through the real handlers: CloudTrail events that are not session events, log
batches with hostile records among good ones, an unreadable action request in an SQS batch.

A malformed input is reported and skipped (never retried forever), and it costs nothing else: the
good records beside it are processed in the same invocation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from functions.action_executor import app as executor_app
from ssm_warden.clients import aws_client
from tests.conftest import load_event
from tests.integration.faults.conftest import PROMPT, RISKY, RISKY_TITLE, FaultRow, Pipeline
from tests.unit.logs.builders import log_event, payload, streamed

Row = Callable[[str, str], FaultRow]


def broken_cloudtrail_events() -> list[dict[str, Any]]:
    good = load_event("start_session_shell.json")
    no_session_id = copy.deepcopy(good)
    no_session_id["detail"]["responseElements"] = None
    wrong_source = copy.deepcopy(good)
    wrong_source["detail"]["eventSource"] = "ec2.amazonaws.com"
    detail_text = copy.deepcopy(good)
    detail_text["detail"] = "StartSession"
    no_identity = copy.deepcopy(good)
    del no_identity["detail"]["userIdentity"]
    bad_time = copy.deepcopy(good)
    bad_time["detail"]["eventTime"] = "yesterday"
    return [{}, {"detail": None}, no_session_id, wrong_source, detail_text, no_identity, bad_time]


def test_malformed_cloudtrail_events_are_rejected_one_by_one_and_the_next_good_one_is_recorded(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "Malformed CloudTrail events",
        "7 broken events (no detail, no session id, wrong source, bad time, ...) then a good one",
    )
    # When broken events reach session_events, each in its own invocation
    statuses = [pipeline.deliver(event)["status"] for event in broken_cloudtrail_events()]
    # Then each is rejected (logged, counted, not raised: EventBridge would retry it for nothing)
    # and the next good event is recorded and checked as usual
    session_id = pipeline.open_session(pipeline.instance(Environment="prod"))
    good = pipeline.deliver(pipeline.start_event(session_id, reason=None))
    pipeline.drain()
    alerts = pipeline.alerts("Session started without a reason")
    row.observe(
        delivered=good["status"] == "applied" and len(alerts) == 1,
        duplicates=max(len(alerts) - 1, 0),
        isolated=statuses == ["rejected"] * 7,
    )
    assert statuses == ["rejected"] * 7
    assert good["status"] == "applied"
    assert len(alerts) == 1


def test_hostile_log_records_are_skipped_and_the_risky_command_beside_them_is_acted_on(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "Malformed records in a log batch",
        "deep JSON nesting, NUL bytes, bad id/timestamp, cut JSON, among 2 good events",
    )
    session_id = pipeline.start("prod")
    target = pipeline.target_of(session_id)
    # Given a batch where broken and hostile records surround a risky command, and a transcript chunk
    # (streaming off) that a user started with 100,000 open braces before typing the same command
    events = [
        log_event(0, streamed([f"{PROMPT}id", "uid=1000"], session_id, target=target)),
        log_event(1, '{"a":' * 100_000),
        log_event(2, '{"sessionData": ["cut short'),
        log_event(3, "binary\x00junk"),
        {"id": "9" * 5000, "timestamp": 1, "message": "x"},
        {"id": "12", "timestamp": "noon", "message": "x"},
        log_event(4, streamed([f"{PROMPT}{RISKY}"], session_id, target=target)),
    ]
    result = pipeline.watch(payload(events, stream=session_id))
    pipeline.drain()
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=len(alerts) == 1 and pipeline.status(session_id) == "Terminated",
        duplicates=max(len(alerts) - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0),
        isolated=result["malformed"] == 4 and result["events"] == 3,
    )
    # Then the broken ones are reported, the readable ones (the brace chunk is transcript text) judged
    assert result["status"] == "processed"
    assert (result["malformed"], result["events"]) == (4, 3)
    assert len(alerts) == 1
    assert pipeline.terminate_calls(session_id) == 1


def test_a_transcript_chunk_of_nested_braces_still_has_its_command_judged(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "Evasion: transcript chunk opened with deep nesting",
        "plain-text chunk: 100,000 nested braces, then a risky command",
    )
    session_id = pipeline.start("prod")
    chunk = "{" + '"a":{' * 100_000 + "\n" + f"{PROMPT}{RISKY}\n"
    result = pipeline.watch(payload([log_event(0, chunk)], stream=session_id))
    pipeline.drain()
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(delivered=len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    assert result["commands"] == 1 and result["malformed"] == 0
    assert len(alerts) == 1


def test_a_payload_that_is_not_base64_text_is_rejected_not_retried(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("Malformed subscription payload", "awslogs.data of non-ASCII text; awslogs missing")
    results = [pipeline.watch({"awslogs": {"data": "d\u00e9j\u00e0 vu"}}), pipeline.watch({"awslogs": None})]
    row.observe(delivered="n/a", duplicates=0, isolated=[r["status"] for r in results] == ["rejected"] * 2)
    assert [r["status"] for r in results] == ["rejected", "rejected"]


def test_an_unreadable_action_request_fails_alone_and_is_dead_lettered(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("Malformed action request on the queue", "one unparsable body in a batch of 3")
    ids = []
    for _ in range(2):
        session_id = pipeline.start("dev")
        assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))["actions"] == 1
        ids.append(session_id)
    aws_client("sqs").send_message(QueueUrl=pipeline.queue, MessageBody='{"action_id": "x", "kind": ')
    first: list[tuple[int, int]] = []

    def executor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        response: dict[str, Any] = executor_app.lambda_handler(event, context)
        first.append((len(event["Records"]), len(response.get("batchItemFailures", []))))
        return response

    # When the executor works through the queue
    pipeline.drain(handler=executor)
    # Then the first batch failed only the unreadable record; it was dead-lettered after its retries;
    # both sessions were terminated and alerted once; nothing was posted for the broken request
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=[sum(s in (m.text or "") for m in alerts) for s in ids] == [1, 1],
        duplicates=max(len(alerts) - 2, 0),
        isolated=first[0] == (3, 1),
    )
    assert first[0] == (3, 1)
    assert pipeline.dead_lettered() == 1
    assert [pipeline.terminate_calls(s) for s in ids] == [1, 1]
    assert [sum(s in (m.text or "") for m in alerts) for s in ids] == [1, 1]

"""TerminateSession throttled and failing: the request is retried by SQS until the call succeeds,
and people hear about it once (or, when every attempt fails, once that it failed)."""

from __future__ import annotations

from collections.abc import Callable

from ssm_warden.clients import aws_client
from ssm_warden.models.audit import Decision
from ssm_warden_local import moto_sessions
from tests.conftest import ACCOUNT, REGION
from tests.integration.faults.conftest import PROMPT, RISKY, RISKY_TITLE, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]


def risky_prod_session(pipeline: Pipeline) -> str:
    session_id = pipeline.start("prod")
    assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))["actions"] == 1
    return session_id


def clear_ssm_faults() -> None:
    moto_sessions.store(ACCOUNT, REGION).faults.clear()


def test_terminate_session_throttled_is_retried_and_terminates_once(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("SSM TerminateSession throttled", "ThrottlingException x3 (2 attempts per delivery)")
    # Given TerminateSession throttled for three requests (the client tries twice per delivery)
    session_id = risky_prod_session(pipeline)
    moto_sessions.inject_faults(ACCOUNT, REGION, "TerminateSession", ["ThrottlingException"] * 3)
    # When the executor works through the queue
    report = pipeline.drain()
    # Then the first delivery failed, the second terminated; one alert, one failed attempt audited
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=pipeline.status(session_id) == "Terminated" and len(alerts) == 1,
        duplicates=max(len(alerts) - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0),
    )
    assert report.failed == 1
    assert pipeline.status(session_id) == "Terminated"
    assert pipeline.terminate_calls(session_id) == 1
    assert len(alerts) == 1 and "terminated" in (alerts[0].text or "")
    assert len(pipeline.audit(session_id, Decision.ACTION_FAILED)) == 1


def test_terminate_session_failing_then_recovering_terminates_once_and_alerts_once(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("SSM TerminateSession failing", "InternalServerError on every call for 2 deliveries")
    # Given TerminateSession failing with 500s
    session_id = risky_prod_session(pipeline)
    moto_sessions.inject_faults(ACCOUNT, REGION, "TerminateSession", ["InternalServerError"] * 50)
    # When the executor has tried twice
    pipeline.drain(max_rounds=2)
    # Then the session is still open, nobody was told anything yet, the request is still queued
    assert pipeline.status(session_id) == "Connected"
    assert pipeline.alerts(RISKY_TITLE) == []
    assert pipeline.queued() == 1
    # When the service recovers and SQS delivers again
    clear_ssm_faults()
    pipeline.drain()
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=pipeline.status(session_id) == "Terminated" and len(alerts) == 1,
        duplicates=max(len(alerts) - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0),
    )
    assert pipeline.status(session_id) == "Terminated"
    assert pipeline.terminate_calls(session_id) == 1
    assert len(alerts) == 1
    assert len(pipeline.audit(session_id, Decision.TERMINATION)) == 1


def test_terminate_session_failing_past_every_retry_is_dead_lettered_said_once_and_redriven(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "SSM TerminateSession failing past maxReceiveCount",
        "InternalServerError x10 (5 deliveries), then DLQ redrive",
    )
    # Given TerminateSession failing for longer than the queue retries
    session_id = risky_prod_session(pipeline)
    moto_sessions.inject_faults(ACCOUNT, REGION, "TerminateSession", ["InternalServerError"] * 10)
    # When the executor works through the queue
    report = pipeline.drain()
    # Then the request is dead-lettered after five deliveries and people are told once that it failed
    assert (report.failed, pipeline.dead_lettered()) == (5, 1)
    failed = [m for m in pipeline.sink.live() if m.thread_ts and "failed" in (m.text or "").lower()]
    assert len(failed) == 1
    # When an operator redrives the dead-letter queue once the service is back
    clear_ssm_faults()
    sqs = aws_client("sqs")
    for message in sqs.receive_message(QueueUrl=pipeline.dead_letters, MaxNumberOfMessages=10)["Messages"]:
        sqs.send_message(QueueUrl=pipeline.queue, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=pipeline.dead_letters, ReceiptHandle=message["ReceiptHandle"])
    pipeline.drain()
    # Then the session is terminated, once, and the termination is posted once
    terminated = [m for m in pipeline.alerts(RISKY_TITLE) if "terminated" in (m.text or "")]
    row.observe(
        delivered=pipeline.status(session_id) == "Terminated" and len(terminated) == 1,
        duplicates=max(len(terminated) - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0),
    )
    assert pipeline.status(session_id) == "Terminated"
    assert pipeline.terminate_calls(session_id) == 1
    assert len(terminated) == 1

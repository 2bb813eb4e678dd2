"""Concurrent copies of one action: SQS delivers at least once, and copies can be carried out at the
same moment by different invocations. One TerminateSession, one alert, and no noise from the copies
that found the action in progress: no "action failed", no ActionFailures, no action_failed audit
record, no failed invocation; they are offered again later and are then no-ops."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.handlers import action_executor
from ssm_warden.models.audit import Decision
from ssm_warden_local.lambda_runtime import LambdaContext
from tests.integration.faults.conftest import PROMPT, RISKY, RISKY_TITLE, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]
COPIES = 6


class Recorder:
    """Stands in for the Powertools logger and metrics of the executor's handler module."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self.metrics: list[str] = []
        self._lock = threading.Lock()

    def _log(self, level: str) -> Callable[..., None]:
        def log(message: str, *args: Any, **kwargs: Any) -> None:
            with self._lock:
                self.lines.append((level, message))

        return log

    def __getattr__(self, name: str) -> Any:
        if name in ("debug", "info", "warning", "error", "exception", "critical"):
            return self._log(name)
        raise AttributeError(name)

    def add_metric(self, *, name: str, **_: Any) -> None:
        with self._lock:
            self.metrics.append(name)


def sqs_event(body: str, n: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"copy-{n}",
                "receiptHandle": f"rh-{n}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "0",
                    "SenderId": "local",
                    "ApproximateFirstReceiveTimestamp": "0",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:actions",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_six_concurrent_copies_of_a_termination_terminate_once_without_noise(
    pipeline: Pipeline, fault_row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = fault_row("concurrent duplicate actions", f"{COPIES} copies of one termination at the same moment")
    # Given a termination request, taken off the queue, and TerminateSession taking a second
    session_id = pipeline.start("prod")
    assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))["actions"] == 1
    sqs = aws_client("sqs")
    (message,) = sqs.receive_message(QueueUrl=pipeline.queue, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message(QueueUrl=pipeline.queue, ReceiptHandle=message["ReceiptHandle"])
    ssm = aws_client("ssm")
    ssm.meta.events.register("before-send.ssm.TerminateSession", lambda **_: time.sleep(1.0))
    recorder = Recorder()
    monkeypatch.setattr(action_executor, "logger", lambda: recorder)
    monkeypatch.setattr(action_executor, "metrics", lambda: recorder)
    action_executor._idempotency()  # the persistence layer, made once before the threads start
    # When six invocations carry out their copy at the same moment
    barrier = threading.Barrier(COPIES)
    responses: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def invoke(n: int) -> None:
        barrier.wait()
        try:
            responses.append(action_executor.handle(sqs_event(message["Body"], n), LambdaContext()))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=invoke, args=(n,)) for n in range(COPIES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    retried = [r for r in responses if r.get("batchItemFailures")]
    # and later SQS offers the copies found in progress again
    again = [
        action_executor.handle(sqs_event(message["Body"], 10 + n), LambdaContext())
        for n in range(len(retried))
    ]
    alerts = pipeline.alerts(RISKY_TITLE)
    noisy = [line for line in recorder.lines if line[1] == "action failed"]
    row.observe(
        delivered=pipeline.terminate_calls(session_id) == 1 and len(alerts) == 1,
        duplicates=max(pipeline.terminate_calls(session_id) - 1, 0) + max(len(alerts) - 1, 0),
        isolated=not errors and not noisy and "ActionFailures" not in recorder.metrics,
    )
    # Then one TerminateSession, one alert; the copies were quiet and retried, never failed
    assert errors == []
    assert pipeline.terminate_calls(session_id) == 1
    assert len(alerts) == 1
    assert noisy == [] and "ActionFailures" not in recorder.metrics
    assert pipeline.audit(session_id, Decision.ACTION_FAILED) == []
    assert 1 <= len(retried) <= COPIES - 1
    assert all(not r.get("batchItemFailures") for r in again)
    assert len(pipeline.audit(session_id, Decision.TERMINATION)) == 1


def test_a_batch_with_a_real_failure_among_in_progress_copies_still_fails_that_record(
    pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A malformed body is a real failure: it is still reported (and the invocation fails when
    # every record of its batch failed)
    with pytest.raises(Exception, match="All records failed"):
        action_executor.handle(sqs_event("{not json", 1), LambdaContext())

"""DynamoDB throttling and conditional-check failures on the ledger, the audit trail, the idempotency
table and the command-watch state.

moto cannot throttle, so ``ClientFaults`` answers the functions' own DynamoDB client with AWS's JSON
error before the request leaves the process (a botocore ``before-send`` hook): the SDK's standard
retry mode sees a real ``ProvisionedThroughputExceededException`` and retries it (two attempts in
tests, ``AWS_MAX_ATTEMPTS=2``); what still fails fails the invocation, and the test redelivers it as
EventBridge, CloudWatch Logs or SQS would.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ssm_warden.clients import aws_client
from ssm_warden.clock import clock_set_to
from ssm_warden.config import get_settings
from ssm_warden.errors import TransientError
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.audit import Decision
from ssm_warden_local.aws_faults import ClientFaults
from tests.conftest import ACCOUNT, REGION
from tests.integration.faults.conftest import PROMPT, RISKY, RISKY_TITLE, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]
THROTTLED = "ProvisionedThroughputExceededException"
NO_REASON = "Session started without a reason"


def on_table(name: str) -> Callable[[dict[str, Any]], bool]:
    return lambda body: body.get("TableName") == name


def extra(pipeline: Pipeline, session_id: str, alerts: int) -> int:
    return max(alerts - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0)


@pytest.mark.parametrize(("throttles", "redelivered"), [(1, False), (2, True)])
def test_ledger_write_throttled_on_start_session(
    pipeline: Pipeline, dynamo_faults: ClientFaults, fault_row: Row, throttles: int, redelivered: bool
) -> None:
    row = fault_row(
        "DynamoDB ledger throttled" + (" (SDK retry absorbs it)" if not redelivered else ""),
        f"{THROTTLED} x{throttles} on the StartSession UpdateItem",
    )
    # Given a prod session started without a reason, and the ledger's writes throttled
    session_id = pipeline.open_session(pipeline.instance(Environment="prod"))
    event = pipeline.start_event(session_id, reason=None)
    dynamo_faults.inject("UpdateItem", [THROTTLED] * throttles, when=on_table(get_settings().sessions_table))
    # When EventBridge delivers the StartSession event (and retries the invocation if it failed)
    if redelivered:
        with pytest.raises(ClientError, match=THROTTLED):
            pipeline.deliver(event)
        assert SessionRepository().get(ACCOUNT, REGION, session_id) is None
    assert pipeline.deliver(event)["status"] == "applied"
    # and the same event arrives once more (CloudTrail delivers at least once)
    assert pipeline.deliver(event)["status"] == "duplicate"
    pipeline.drain()
    # Then the session is in the ledger and the missing reason was alerted once
    alerts = pipeline.alerts(NO_REASON)
    row.observe(delivered=len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    assert dynamo_faults.injected["UpdateItem"] == throttles
    assert SessionRepository().get(ACCOUNT, REGION, session_id) is not None
    assert len(alerts) == 1


def test_audit_write_throttled_after_the_termination_is_redone_without_terminating_twice(
    pipeline: Pipeline, dynamo_faults: ClientFaults, fault_row: Row
) -> None:
    row = fault_row(
        "DynamoDB audit throttled after TerminateSession", f"{THROTTLED} x2 on the termination's PutItem"
    )
    session_id = pipeline.start("prod")
    assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))["actions"] == 1
    # Given the audit trail refusing the termination record (both attempts of the first delivery)
    dynamo_faults.inject(
        "PutItem",
        [THROTTLED] * 2,
        when=lambda body: body.get("Item", {}).get("decision", {}).get("S") == Decision.TERMINATION.value,
    )
    # When the executor works through the queue
    report = pipeline.drain()
    # Then the first delivery failed after terminating; the redelivery recorded and alerted, once
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(delivered=len(alerts) == 1, duplicates=extra(pipeline, session_id, len(alerts)))
    assert report.failed == 1
    assert pipeline.terminate_calls(session_id) == 1
    assert len(pipeline.audit(session_id, Decision.TERMINATION)) == 1
    assert len(alerts) == 1


def test_idempotency_table_throttled_fails_the_record_before_anything_happens(
    pipeline: Pipeline, dynamo_faults: ClientFaults, fault_row: Row
) -> None:
    row = fault_row("DynamoDB idempotency table throttled", f"{THROTTLED} x2 on Powertools' PutItem")
    session_id = pipeline.start("prod")
    assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))["actions"] == 1
    dynamo_faults.inject("PutItem", [THROTTLED] * 2, when=on_table(get_settings().idempotency_table))
    # When the executor works through the queue
    report = pipeline.drain()
    # Then the first delivery did nothing at all (not even the termination); the second did it all once
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(delivered=len(alerts) == 1, duplicates=extra(pipeline, session_id, len(alerts)))
    assert report.failed == 1
    assert pipeline.terminate_calls(session_id) == 1
    assert len(alerts) == 1


def test_command_watch_state_moved_on_by_a_concurrent_invocation(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row(
        "DynamoDB conditional check failed (command watch)",
        "a concurrent redelivery saves the state first: ConditionalCheckFailedException",
    )
    session_id = pipeline.start("prod")
    batch = pipeline.log_payload(session_id, [f"{PROMPT}id", "uid=0(root)"], [f"{PROMPT}{RISKY}"])
    # Given a redelivery of the same batch that runs while the first invocation is between queuing
    # its actions and storing its state (it stores first)
    competing: list[dict[str, Any]] = []
    raced: list[bool] = []

    def race(params: dict[str, Any], **_: Any) -> None:
        if not raced and "watch#" in str(params.get("Item", {}).get("pk", "")):
            raced.append(True)
            competing.append(pipeline.watch(batch))

    client = aws_client("dynamodb")
    client.meta.events.register("before-parameter-build.dynamodb.PutItem", race)
    # When the first invocation tries to store its state, the conditional write fails: it raises
    try:
        with pytest.raises(TransientError, match="moved on"):
            pipeline.watch(batch)
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb.PutItem", race)
    assert competing[0]["status"] == "processed"
    # and when Lambda retries it, the batch is recognised as done
    assert pipeline.watch(batch)["status"] == "duplicate"
    queued = pipeline.queued()
    pipeline.drain()
    # Then the action queued by both invocations was carried out once, and counted once
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=len(alerts) == 1,
        duplicates=extra(pipeline, session_id, len(alerts)),
    )
    assert queued >= 2  # both invocations queued the action (same id)
    assert len(alerts) == 1
    assert pipeline.terminate_calls(session_id) == 1
    record = SessionRepository().get(ACCOUNT, REGION, session_id)
    assert record is not None and record.commands_seen == 2


def test_output_activity_write_throttled_is_not_lost_on_the_redelivery(
    pipeline: Pipeline, dynamo_faults: ClientFaults, fault_row: Row
) -> None:
    row = fault_row(
        "DynamoDB throttled on the session write (counts, last output)",
        f"{THROTTLED} x2 on the session item's flush, after the watch item was stored",
    )
    # Given a dev session whose log batch is processed but whose activity write is throttled
    session_id = pipeline.start("dev")
    batch = pipeline.log_payload(session_id, [f"{PROMPT}ls", "a.txt"], ["b.txt"])
    dynamo_faults.inject(
        "UpdateItem",
        [THROTTLED] * 2,
        when=lambda body: "commands_seen = :c" in str(body.get("UpdateExpression", "")),
    )
    arrived = datetime(2024, 1, 4, 5, 46, 3, tzinfo=UTC)
    with clock_set_to(lambda: arrived), pytest.raises(ClientError, match=THROTTLED):
        pipeline.watch(batch)
    # When CloudWatch Logs retries the invocation, a minute later
    with clock_set_to(lambda: arrived + timedelta(minutes=1)):
        retried = pipeline.watch(batch)
    # Then the session's last output time is when the batch first arrived (the idle limit counts
    # from it; the events' own times are the writer's word)
    record = SessionRepository().get(ACCOUNT, REGION, session_id)
    newest = arrived
    row.observe(delivered=record is not None and record.last_output_at == newest, duplicates=0)
    assert retried["status"] == "duplicate"
    assert record is not None and record.commands_seen == 1
    assert record.last_output_at == newest

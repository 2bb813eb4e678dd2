"""Day-2 commands against the moto server: sessions, status, slack test."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.session import Principal, SessionStarted
from ssm_warden_local.slack_sink import SlackSink
from tests.integration.cli.conftest import ACCOUNT, REGION, deploy_stack_record

ALICE = "arn:aws:sts::123456789012:assumed-role/Admin/alice"


def _start(session_id: str, target: str, tags: dict[str, str], minutes_ago: int, reason: str | None) -> None:
    SessionRepository().apply_start(
        SessionStarted(
            event_id=f"ev-{session_id}",
            account=ACCOUNT,
            region=REGION,
            at=datetime.now(UTC) - timedelta(minutes=minutes_ago),
            principal=Principal(arn=ALICE, role_arn="arn:aws:iam::123456789012:role/Admin"),
            session_id=session_id,
            target_id=target,
            document_name="SSM-SessionManagerRunShell",
            reason=reason,
        ),
        tags,
        False,
    )


def test_sessions_lists_who_is_on_which_box_with_the_limits_in_force(
    deployed: Any, cli: Callable[..., Any]
) -> None:
    # Given two active sessions, one on a production box
    _start("alice-0aaaaaaaaaaaaaaaa", "i-0123456789abcdef0", {"Environment": "prod"}, 42, "INC-7 disk full")
    _start("alice-0bbbbbbbbbbbbbbbb", "i-0fedcba9876543210", {"Environment": "dev"}, 5, None)
    # When sessions runs
    run = cli("sessions")
    # Then both are listed with principal, target, tags, reason, age and limits
    assert run.code == 0
    assert "2 active session(s)" in run.out
    assert (
        "alice-0aaaaaaaaaaaaaaaa  arn:aws:sts::123456789012:assumed-role/Admin/alice -> i-0123456789abcdef0 (Environment=prod)"
        in run.out
    )
    assert "reason: INC-7 disk full; age 42m" in run.out
    rows = {r["session_id"]: r for r in cli("sessions", "--format", "json").json_lines()}
    prod = rows["alice-0aaaaaaaaaaaaaaaa"]
    assert prod["document"] == "SSM-SessionManagerRunShell" and prod["reason"] == "INC-7 disk full"
    assert prod["idle_limit_minutes"] and prod["max_limit_minutes"]
    assert 41 * 60 < prod["age_seconds"] < 44 * 60
    assert rows["alice-0bbbbbbbbbbbbbbbb"]["reason"] is None


def test_sessions_with_no_stack_in_the_region(aws: Any, cli: Callable[..., Any]) -> None:
    run = cli("sessions", "--region", "eu-west-2")
    assert run.code == 2 and "no stack named 'ssm-warden' in eu-west-2" in run.err


@pytest.fixture
def slack() -> Iterator[SlackSink]:
    sink = SlackSink(channels={"#ssm-warden": "C0SSMWARDEN"})
    sink.start()
    yield sink
    sink.stop()


def _healthy(
    stack: Any, boto: Callable[[str], Any], slack: SlackSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto("secretsmanager").create_secret(
        Name="ssm-warden/slack",
        SecretString=json.dumps(
            {"bot_token": slack.bot_token, "signing_secret": "s", "default_channel": "#ssm-warden"}
        ),
    )
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    logs = boto("logs")
    logs.create_log_group(logGroupName="/aws/lambda/sweeper")
    logs.create_log_stream(logGroupName="/aws/lambda/sweeper", logStreamName="2026/12/01/[$LATEST]abc")
    logs.put_log_events(
        logGroupName="/aws/lambda/sweeper",
        logStreamName="2026/12/01/[$LATEST]abc",
        logEvents=[{"timestamp": int(time.time() * 1000), "message": "swept"}],
    )
    deploy_stack_record(
        boto,
        {
            "SessionsTableName": stack.tables["SessionsTable"],
            "AuditTableName": stack.tables["AuditTable"],
            "ActionQueueUrl": stack.queues["ActionQueue"],
            "ActionDeadLetterQueueUrl": stack.queues["ActionDeadLetterQueue"],
            "SessionEventsDeadLetterQueueUrl": stack.queues["SessionEventsDeadLetterQueue"],
            "CommandMonitorDeadLetterQueueUrl": stack.queues["CommandMonitorDeadLetterQueue"],
            "SessionSweeperLogGroupName": "/aws/lambda/sweeper",
            "Version": "0.1.0",
        },
        {
            "ForceMonitorMode": "true",
            "PolicyParameterName": "",
            "SlackSecretName": "ssm-warden/slack",
            "SlackAllowedUserIds": "U0ALICE",
        },
    )


def test_status_of_a_healthy_deployment(
    stack: Any,
    boto: Callable[[str], Any],
    slack: SlackSink,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Any],
) -> None:
    _healthy(stack, boto, slack, monkeypatch)
    run = cli("status")
    assert run.code == 0, run.out
    assert "monitor (ForceMonitorMode=true" in run.out
    assert "bundled, version" in run.out
    assert "slack token" in run.out


def test_status_names_a_dead_letter_and_an_alarm_and_exits_1(
    stack: Any,
    boto: Callable[[str], Any],
    slack: SlackSink,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Any],
) -> None:
    # Given a message in the actions dead-letter queue and an alarm of the stack in ALARM
    _healthy(stack, boto, slack, monkeypatch)
    boto("sqs").send_message(QueueUrl=stack.queues["ActionDeadLetterQueue"], MessageBody="{}")
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="ssm-warden-ActionDeadLetterAlarm-ABC",
        MetricName="ApproximateNumberOfMessagesVisible",
        Namespace="AWS/SQS",
        Statistic="Maximum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(
        AlarmName="ssm-warden-ActionDeadLetterAlarm-ABC", StateValue="ALARM", StateReason="test"
    )
    run = cli("status", "--format", "json")
    items = {i["item"]: i for i in run.json_lines()}
    assert run.code == 1
    assert (
        not items["queue actions-dlq"]["ok"]
        and "ssm-warden redrive actions-dlq" in items["queue actions-dlq"]["detail"]
    )
    assert items["alarms"]["firing"] == ["ssm-warden-ActionDeadLetterAlarm-ABC"]


def test_slack_test_posts_a_message(
    stack: Any,
    boto: Callable[[str], Any],
    slack: SlackSink,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Any],
) -> None:
    _healthy(stack, boto, slack, monkeypatch)
    run = cli("slack", "test")
    assert run.code == 0, run.out
    assert any("ssm-warden slack test" in (m.text or "") for m in slack.messages)


def test_slack_test_names_what_is_wrong(
    aws: Any,
    boto: Callable[[str], Any],
    slack: SlackSink,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Any],
) -> None:
    monkeypatch.setenv("SLACK_API_URL", slack.url)
    boto("secretsmanager").create_secret(
        Name="bad-token",
        SecretString=json.dumps({"bot_token": "xoxb-wrong", "default_channel": "#ssm-warden"}),
    )
    run = cli("slack", "test", "--secret", "bad-token")
    assert run.code == 1 and "invalid_auth" in run.out
    missing = cli("slack", "test", "--secret", "nope")
    assert missing.code == 1 and "no secret named nope" in missing.out
    arn = cli("slack", "test", "--secret", "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf")
    assert arn.code == 1 and "is an ARN" in arn.out

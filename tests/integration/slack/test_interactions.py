"""The alert buttons end to end: the Function URL handler, moto (DynamoDB, SQS, Secrets Manager) and the
local Slack sink (the clicked message and its response_url)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.slack_interactions import app
from ssm_warden.audit import read_audit
from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings, reset_settings
from ssm_warden.ledger.keys import session_key
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, Trigger
from ssm_warden.models.audit import Decision
from ssm_warden.models.session import Principal, SessionStarted
from ssm_warden.slack.notifier import default_notifier
from ssm_warden.slack.signature import sign
from ssm_warden_local.resources import LocalStack
from ssm_warden_local.slack_clicks import button_click
from ssm_warden_local.slack_sink import SinkMessage, SlackSink
from tests.conftest import LambdaContext
from tests.integration.slack.conftest import SIGNING_SECRET
from tests.unit.slack.factories import ACCOUNT, EVENT_ID, REGION, SESSION_ID, action


@pytest.fixture
def alert(
    sink: SlackSink, slack_secret: Callable[..., dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> SinkMessage:
    """An interactive alert in the sink, for a session that is in the ledger; Alice and the on-call
    group (Bob) may press its buttons."""
    slack_secret("bot")
    monkeypatch.setenv("SLACK_ALLOWED_USER_IDS", "U0ALICE, S0ONCALL")
    reset_settings()
    sink.usergroups["S0ONCALL"] = ["U0BOB"]
    SessionRepository().apply_start(
        SessionStarted(
            event_id=EVENT_ID,
            session_id=SESSION_ID,
            account=ACCOUNT,
            region=REGION,
            at=datetime.now(UTC),
            principal=Principal(arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"),
            target_id="i-023ad911b5d49dece",
            document_name="SSM-SessionManagerRunShell",
        ),
        tags={"env": "prod"},
        tags_failed=False,
    )
    result = default_notifier().deliver(action(), "alert_only")
    return sink.get(result.ts or "")


def click(sink: SlackSink, message: SinkMessage, action_id: str, *, user: str = "U0ALICE") -> dict[str, Any]:
    """The Function URL event Slack would send when ``user`` presses ``action_id`` on ``message``."""
    return button_click(sink, message, action_id, signing_secret=SIGNING_SECRET, user=user)


def queued(stack: LocalStack) -> list[ActionRequest]:
    messages = (
        aws_client("sqs")
        .receive_message(QueueUrl=stack.queues["ActionQueue"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
        .get("Messages", [])
    )
    return [ActionRequest.model_validate_json(m["Body"]) for m in messages]


def test_terminate_now_queues_an_operator_termination_audits_and_updates_the_message(
    sink: SlackSink, stack: LocalStack, alert: SinkMessage, lambda_context: LambdaContext
) -> None:
    # When Alice presses Terminate now on the alert
    response = app.lambda_handler(click(sink, alert, "ssmw.terminate"), lambda_context)
    # Then Slack gets a 200
    assert response["statusCode"] == 200
    # and an operator termination is on the action queue, in enforce mode, for that session
    (request,) = queued(stack)
    assert (request.kind, request.trigger, request.mode) == (
        ActionKind.TERMINATE,
        Trigger.OPERATOR,
        Mode.ENFORCE,
    )
    assert request.session is not None and request.session.session_id == SESSION_ID
    assert request.session.target_id == "i-023ad911b5d49dece"  # the ledger's view of the session
    assert "slack:U0ALICE" in request.why
    # and the click is in the audit trail
    (record,) = [r for r in read_audit(SESSION_ID) if r.decision is Decision.OPERATOR]
    assert record.actor == "slack:U0ALICE" and record.action == "terminate"
    # and the message now says who did it, without buttons
    updated = sink.get(alert.ts)
    assert len(updated.history) == 1
    assert "Termination requested by <@U0ALICE>" in updated.all_text()
    assert not [b for b in updated.blocks if b["type"] == "actions"]


def test_extend_by_a_group_member_records_the_extension_on_the_session(
    sink: SlackSink, stack: LocalStack, alert: SinkMessage, lambda_context: LambdaContext
) -> None:
    response = app.lambda_handler(click(sink, alert, "ssmw.extend.30", user="U0BOB"), lambda_context)
    assert response["statusCode"] == 200
    item = aws_client("dynamodb").get_item(
        TableName=get_settings().sessions_table, Key={"pk": {"S": session_key(ACCOUNT, REGION, SESSION_ID)}}
    )["Item"]
    (extension,) = item["extensions"]["L"]
    fields = extension["M"]
    assert fields["by"]["S"] == "slack:U0BOB" and fields["until"]["S"].endswith("Z")
    assert "extended from Slack" in fields["reason"]["S"]
    assert "Extended by 30 min by <@U0BOB>" in sink.get(alert.ts).all_text()
    assert queued(stack) == []


def test_acknowledge_is_audited_and_shown(
    sink: SlackSink, stack: LocalStack, alert: SinkMessage, lambda_context: LambdaContext
) -> None:
    app.lambda_handler(click(sink, alert, "ssmw.ack"), lambda_context)
    assert [r.action for r in read_audit(SESSION_ID)] == ["acknowledge"]
    assert "Acknowledged by <@U0ALICE>" in sink.get(alert.ts).all_text()


def test_an_unauthorised_user_is_told_audited_and_nothing_happens(
    sink: SlackSink, stack: LocalStack, alert: SinkMessage, lambda_context: LambdaContext
) -> None:
    response = app.lambda_handler(click(sink, alert, "ssmw.terminate", user="U0MALLORY"), lambda_context)
    assert response["statusCode"] == 200
    assert queued(stack) == []
    assert not sink.get(alert.ts).updated
    assert [r.outcome for r in read_audit(SESSION_ID)] == ["denied: user not allowed"]
    assert "not allowed" in sink.ephemerals[0]["text"]


def test_a_replayed_click_is_refused(
    sink: SlackSink, stack: LocalStack, alert: SinkMessage, lambda_context: LambdaContext
) -> None:
    event = click(sink, alert, "ssmw.terminate")
    assert app.lambda_handler(event, lambda_context)["statusCode"] == 200
    assert app.lambda_handler(event, lambda_context)["statusCode"] == 401
    assert len(queued(stack)) == 1


@pytest.mark.parametrize("fault", ["stale", "tampered"])
def test_a_stale_or_tampered_click_is_refused(
    sink: SlackSink, stack: LocalStack, alert: SinkMessage, lambda_context: LambdaContext, fault: str
) -> None:
    event = click(sink, alert, "ssmw.terminate")
    if fault == "stale":
        body = base64.b64decode(event["body"])
        old = int(time.time()) - 600
        event["headers"].update({k.lower(): v for k, v in sign(SIGNING_SECRET, body, old).items()})
    else:
        body = base64.b64decode(event["body"]).replace(b"U0ALICE", b"U0ALICF")
        event["body"] = base64.b64encode(body).decode()
    assert app.lambda_handler(event, lambda_context)["statusCode"] == 401
    assert queued(stack) == [] and read_audit(SESSION_ID) == []

"""The local Slack sink refuses what Slack refuses, so that tests against it mean something."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from ssm_warden_local.slack_sink import SlackSink


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def header(text: str) -> dict[str, Any]:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


@pytest.fixture
def web(sink: SlackSink) -> WebClient:
    return WebClient(token=sink.bot_token, base_url=sink.api_url, retry_handlers=[])


REFUSED = [
    ({"text": "x", "blocks": [section("a")] * 51}, "invalid_blocks"),
    ({"text": "x", "blocks": [section("a" * 3001)]}, "invalid_blocks"),
    ({"text": "x", "blocks": [header("h" * 151)]}, "invalid_blocks"),
    ({"text": "t" * 40_001}, "msg_too_long"),
    ({"text": ""}, "no_text"),
]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
@pytest.mark.parametrize(("message", "error"), REFUSED, ids=[e for _, e in REFUSED])
def test_the_web_api_refuses_what_slack_refuses(web: WebClient, message: dict[str, Any], error: str) -> None:
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="#ssm-warden", **message)
    assert raised.value.response["error"] == error


@pytest.mark.parametrize(("message", "error"), REFUSED[:3], ids=[e for _, e in REFUSED[:3]])
def test_the_webhook_refuses_what_slack_refuses(sink: SlackSink, message: dict[str, Any], error: str) -> None:
    response = WebhookClient(sink.webhook_url, retry_handlers=[]).send_dict(message)
    assert (response.status_code, response.body) == (400, error)
    assert sink.live() == []


def test_a_bad_token_or_an_unknown_channel_is_refused(sink: SlackSink, web: WebClient) -> None:
    bad = WebClient(token="xoxb-wrong", base_url=sink.api_url, retry_handlers=[])
    with pytest.raises(SlackApiError) as raised:
        bad.chat_postMessage(channel="#ssm-warden", text="x")
    assert raised.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="#nowhere", text="x")
    assert raised.value.response["error"] == "channel_not_found"


def test_messages_threads_and_updates_are_recorded(sink: SlackSink, web: WebClient) -> None:
    root = web.chat_postMessage(channel="#ssm-warden", text="root", blocks=[section("root")])
    assert web.auth_test()["ok"]
    reply = web.chat_postMessage(channel=root["channel"], text="reply", thread_ts=root["ts"])
    web.chat_update(channel=root["channel"], ts=root["ts"], text="root v2", blocks=[section("root v2")])
    assert root["channel"] == "C0SSMWARDEN"
    (top,) = sink.top_level("#ssm-warden")
    assert top.text == "root v2" and top.history[0]["text"] == "root"
    assert [m.ts for m in sink.replies(top.ts)] == [reply["ts"]]


def test_faults_are_served_then_normal_answers_resume(sink: SlackSink, web: WebClient) -> None:
    sink.fail_next(1, status=502)
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="#ssm-warden", text="x")
    assert raised.value.response.status_code == 502
    sink.rate_limit_next(1, retry_after=7)
    with pytest.raises(SlackApiError) as raised:
        web.chat_postMessage(channel="#ssm-warden", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert web.chat_postMessage(channel="#ssm-warden", text="x")["ok"]

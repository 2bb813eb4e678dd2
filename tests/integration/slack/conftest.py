"""Slack integration fixtures: the local Slack sink, and the Slack secret in the moto server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.slack import transport
from ssm_warden.slack.interactions import reset_interaction_service
from ssm_warden.slack.notifier import reset_notifier
from ssm_warden.slack.secret import reset_secret_cache
from ssm_warden_local.resources import LocalStack
from ssm_warden_local.slack_sink import SlackSink

SECRET_NAME = "ssm-warden/slack"
SIGNING_SECRET = "e3b0c44298fc1c149afbf4c8996fb924"


@pytest.fixture(scope="session")
def slack_server() -> Iterator[SlackSink]:
    sink = SlackSink(channels={"#ssm-warden": "C0SSMWARDEN", "#sec-critical": "C0CRITICAL"})
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def sink(slack_server: SlackSink) -> Iterator[SlackSink]:
    """The local Slack, emptied."""
    slack_server.reset()
    slack_server.usergroups.clear()
    yield slack_server
    slack_server.reset()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry-After waits the rate-limit handler asked for (recorded, not slept)."""
    asked: list[float] = []
    monkeypatch.setattr(transport, "_sleep", asked.append)
    return asked


@pytest.fixture
def slack_secret(
    stack: LocalStack, sink: SlackSink, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., dict[str, Any]]]:
    """Store the Slack secret in Secrets Manager (moto) and point ssm-warden at it and at the sink.

    Call it with ``mode="bot"`` (bot token, threads) or ``mode="webhook"``; extra keys override.
    """

    def make(mode: str = "bot", **overrides: Any) -> dict[str, Any]:
        value: dict[str, Any] = {"default_channel": "#ssm-warden", "signing_secret": SIGNING_SECRET}
        if mode == "bot":
            value["bot_token"] = sink.bot_token
        else:
            value["webhook_url"] = sink.webhook_url
        value.update(overrides)
        client = aws_client("secretsmanager")
        try:
            client.create_secret(Name=SECRET_NAME, SecretString=json.dumps(value))
        except client.exceptions.ResourceExistsException:
            client.put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps(value))
        monkeypatch.setenv("SLACK_SECRET_NAME", SECRET_NAME)
        monkeypatch.setenv("SLACK_API_URL", sink.url)
        reset_settings()
        _forget_caches()
        return value

    _forget_caches()
    yield make
    _forget_caches()


def _forget_caches() -> None:
    reset_notifier()
    reset_interaction_service()
    reset_secret_cache()

"""The Slack secret from Secrets Manager through Powertools Parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.errors import ConfigError
from ssm_warden.slack.secret import load_slack_secret, reset_secret_cache


def test_the_secret_is_read_and_never_shown(slack_secret: Callable[..., dict[str, Any]]) -> None:
    value = slack_secret("bot")
    secret = load_slack_secret()
    assert secret.mode == "bot" and secret.default_channel == "#ssm-warden"
    assert secret.bot_token is not None and secret.bot_token.get_secret_value() == value["bot_token"]
    for shown in (repr(secret), str(secret), secret.model_dump_json()):
        assert value["bot_token"] not in shown and value["signing_secret"] not in shown


def test_a_secret_that_is_not_json_is_a_config_error(
    slack_secret: Callable[..., dict[str, Any]],
) -> None:
    slack_secret("bot")
    aws_client("secretsmanager").put_secret_value(SecretId="ssm-warden/slack", SecretString="xoxb-not-json")
    reset_secret_cache()
    with pytest.raises(ConfigError) as raised:
        load_slack_secret()
    assert "xoxb-not-json" not in str(raised.value)


def test_a_secret_without_a_way_to_post_is_a_config_error(
    slack_secret: Callable[..., dict[str, Any]],
) -> None:
    slack_secret("webhook", webhook_url=None)
    with pytest.raises(ConfigError, match="neither bot_token nor webhook_url"):
        load_slack_secret()


def test_no_secret_name_or_a_missing_secret_is_a_config_error(
    stack: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_secret_cache()
    with pytest.raises(ConfigError, match="SLACK_SECRET_NAME"):
        load_slack_secret()
    monkeypatch.setenv("SLACK_SECRET_NAME", "no/such/secret")
    reset_settings()
    with pytest.raises(ConfigError, match="cannot be read"):
        load_slack_secret()

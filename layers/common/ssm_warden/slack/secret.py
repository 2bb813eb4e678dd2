"""Slack credentials: one JSON secret in Secrets Manager, read through Powertools Parameters (cached).

The secret (named by the setting ``SLACK_SECRET_NAME``) holds ``webhook_url``, ``bot_token``,
``signing_secret`` and ``default_channel``. Values are ``SecretStr``: their ``repr`` and any log line
show ``**********``. They never come from plain environment variables.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, ValidationError

from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden.errors import ConfigError, TransientError

# Seconds a container keeps the secret before reading it again (rotation takes effect within this).
SECRET_MAX_AGE = 300


class SlackSecret(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    webhook_url: SecretStr | None = None
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    default_channel: str | None = None

    @property
    def mode(self) -> str:
        """``bot`` (threads, updates) when there is a bot token, else ``webhook``."""
        return "bot" if self.bot_token else "webhook"


_provider: Any = None
_provider_client: Any = None


def _secrets_provider() -> Any:
    """A Powertools ``SecretsProvider`` on ssm-warden's Secrets Manager client (the moto endpoint in
    tests). Rebuilt when the client factory was reset, which also drops the cached secret."""
    global _provider, _provider_client
    client = aws_client("secretsmanager")
    if _provider is None or client is not _provider_client:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        _provider = SecretsProvider(boto3_client=client)
        _provider_client = client
    return _provider


def reset_secret_cache() -> None:
    """Forget the provider and its cached secret (tests change the secret between cases)."""
    global _provider, _provider_client
    _provider = None
    _provider_client = None


def load_slack_secret(*, max_age: int = SECRET_MAX_AGE, force_fetch: bool = False) -> SlackSecret:
    """The Slack secret, cached for ``max_age`` seconds."""
    from aws_lambda_powertools.utilities.parameters.exceptions import (
        GetParameterError,
        TransformParameterError,
    )

    name = get_settings().slack_secret_name
    if not name:
        raise ConfigError("SLACK_SECRET_NAME is not set: ssm-warden does not know where Slack's secret is")
    try:
        raw = _secrets_provider().get(name, transform="json", max_age=max_age, force_fetch=force_fetch)
    except TransformParameterError:
        raise ConfigError(f"Slack secret {name!r} is not a JSON object") from None
    except GetParameterError as exc:
        text = str(exc)
        if any(word in text for word in ("Throttl", "InternalService", "ServiceUnavailable", "timed out")):
            raise TransientError(f"reading Slack secret {name!r} failed; will be retried") from exc
        raise ConfigError(f"Slack secret {name!r} cannot be read: {text[:200]}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"Slack secret {name!r} is not a JSON object")
    try:
        secret = SlackSecret.model_validate(raw)
    except ValidationError as exc:
        # The error names the fields, never their values.
        fields = ", ".join(str(e["loc"][0]) for e in exc.errors() if e.get("loc"))
        raise ConfigError(f"Slack secret {name!r} has invalid fields: {fields}") from None
    if not secret.bot_token and not secret.webhook_url:
        raise ConfigError(f"Slack secret {name!r} has neither bot_token nor webhook_url")
    return secret


def allowed_user_ids() -> frozenset[str]:
    """Slack user (U…, W…) and user group (S…) ids allowed to press alert buttons."""
    raw = get_settings().slack_allowed_user_ids or ""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def slack_api_url() -> str | None:
    """The Web API base (``.../api/``): Slack's own unless the setting points elsewhere (tests)."""
    base = get_settings().slack_api_url
    if not base:
        return None
    base = base.rstrip("/")
    return base + "/" if base.endswith("/api") else base + "/api/"

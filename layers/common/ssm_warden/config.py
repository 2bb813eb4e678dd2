"""Function configuration as a model, read from the environment on first use and cached.

The template sets these variables; tests set them with ``monkeypatch`` and call ``reset_settings()``.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ssm_warden.errors import ConfigError


class Settings(BaseModel):
    """Everything a function reads from its environment, validated once."""

    model_config = ConfigDict(frozen=True)

    sessions_table: str = Field(default="ssm-warden-sessions", alias="SESSIONS_TABLE")
    audit_table: str = Field(default="ssm-warden-audit", alias="AUDIT_TABLE")
    actions_queue_url: str | None = Field(default=None, alias="ACTIONS_QUEUE_URL")
    policy_parameter: str | None = Field(default=None, alias="POLICY_PARAMETER")
    policy_file: str | None = Field(default=None, alias="POLICY_FILE")
    force_monitor_mode: bool = Field(default=False, alias="FORCE_MONITOR_MODE")
    ended_retention_days: int = Field(default=90, ge=1, alias="ENDED_RETENTION_DAYS")
    idempotency_table: str = Field(default="ssm-warden-idempotency", alias="IDEMPOTENCY_TABLE")
    session_log_group: str = Field(default="/aws/ssm/sessions", alias="SESSION_LOG_GROUP")
    # The role ssm-warden's executor terminates sessions with: TerminateSession events made by it are
    # recorded as "terminated by ssm-warden" and never alerted on again.
    warden_role_arn: str | None = Field(default=None, alias="WARDEN_ROLE_ARN")
    # Slack: one JSON secret in Secrets Manager (webhook_url / bot_token / signing_secret /
    # default_channel); never plain environment variables.
    slack_secret_name: str | None = Field(default=None, alias="SLACK_SECRET_NAME")
    # Base URL of Slack's Web API (None: Slack's own); tests point it at the local Slack sink.
    slack_api_url: str | None = Field(default=None, alias="SLACK_API_URL")
    # Comma-separated Slack user ids (U…/W…) and user group ids (S…) allowed to press alert buttons.
    slack_allowed_user_ids: str | None = Field(default=None, alias="SLACK_ALLOWED_USER_IDS")
    # Organisation mode (docs/organization.md). The account the functions run in (the governance
    # account); a session in any other account is reached through MEMBER_ROLE_NAME assumed there.
    account_id: str | None = Field(default=None, alias="WARDEN_ACCOUNT_ID")
    # Two member roles (least privilege): MEMBER_ROLE_NAME may terminate sessions and only the action
    # executor's role may assume it; MEMBER_READ_ROLE_NAME lists sessions and reads tags, for the
    # session-events function and the sweeper.
    member_role_name: str | None = Field(default=None, alias="MEMBER_ROLE_NAME")
    member_read_role_name: str | None = Field(default=None, alias="MEMBER_READ_ROLE_NAME")
    member_external_id: str | None = Field(default=None, alias="MEMBER_EXTERNAL_ID")
    # Comma-separated member account ids whose sessions the sweeper reconciles with DescribeSessions.
    member_accounts: str | None = Field(default=None, alias="MEMBER_ACCOUNTS")
    # Terminations that session-log content may cause per minute, per account and region, across all
    # sessions (a host that can write to the session-log group can forge events for many streams;
    # nothing records the writer, so the cap cannot be per writer). Beyond it: an alert with a
    # Terminate button. 0: log content never terminates on its own.
    log_terminations_per_minute: int = Field(default=5, ge=0, alias="LOG_TERMINATIONS_PER_MINUTE")
    # Organisation mode: member accounts whose session-log group is not SESSION_LOG_GROUP, as
    # comma-separated ``account=group`` pairs. A payload from any other group is not a session log.
    member_session_log_groups: str | None = Field(default=None, alias="MEMBER_SESSION_LOG_GROUPS")
    # Security Hub (securityhub/): every delivered action is also an ASFF finding.
    security_hub_findings: bool = Field(default=False, alias="SECURITY_HUB_FINDINGS")
    # The custom action "Terminate SSM session": its ARN, and the IAM principal ARN globs allowed to
    # use it (comma-separated; "*": anyone AWS lets use it, since its event names no invoker).
    security_hub_action_arn: str | None = Field(default=None, alias="SECURITY_HUB_ACTION_ARN")
    security_hub_action_principals: str | None = Field(default=None, alias="SECURITY_HUB_ACTION_PRINCIPALS")
    # ssm-warden's own resources, so tamper rules can tell a call on them (enforce/own_resources.py):
    # comma-separated function, EventBridge rule and schedule names, the session-log subscription
    # filter (``name`` or ``name|group``) and the stack. The function's own name comes from Lambda.
    warden_functions: str | None = Field(default=None, alias="WARDEN_FUNCTIONS")
    command_monitor_function: str | None = Field(default=None, alias="COMMAND_MONITOR_FUNCTION")
    function_name: str | None = Field(default=None, alias="AWS_LAMBDA_FUNCTION_NAME")
    warden_rules: str | None = Field(default=None, alias="WARDEN_RULES")
    warden_schedules: str | None = Field(default=None, alias="WARDEN_SCHEDULES")
    session_log_filter: str | None = Field(default=None, alias="SESSION_LOG_FILTER")
    warden_stack_name: str | None = Field(default=None, alias="WARDEN_STACK_NAME")
    # Local development and tests only: every AWS client goes to this endpoint (moto server).
    endpoint_url: str | None = Field(default=None, alias="SSM_WARDEN_ENDPOINT_URL")
    region: str = Field(default="us-east-1", alias="AWS_REGION")


def member_log_groups(settings: Settings) -> dict[str, str]:
    """``MEMBER_SESSION_LOG_GROUPS`` as {account: group}."""
    out: dict[str, str] = {}
    for pair in (settings.member_session_log_groups or "").split(","):
        account, _, group = pair.strip().partition("=")
        if account.strip() and group.strip():
            out[account.strip()] = group.strip()
    return out


_ENV_KEYS = [f.alias for f in Settings.model_fields.values() if f.alias]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings from the environment once per container."""
    values = {key: os.environ[key] for key in _ENV_KEYS if os.environ.get(key) not in (None, "")}
    if "AWS_REGION" not in values and os.environ.get("AWS_DEFAULT_REGION"):
        values["AWS_REGION"] = os.environ["AWS_DEFAULT_REGION"]
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"invalid function configuration: {exc}") from exc


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()

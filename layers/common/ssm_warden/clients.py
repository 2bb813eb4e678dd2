"""The only place AWS clients are made: cached per service, pointed at a local endpoint in tests.

Domain code never imports this module; repositories and executors do.

In organisation mode (docs/organization.md) a session may live in a member account: ``aws_client_for``
gives the client that reaches a session's account and region, through a member role assumed with
STS when the account is not the one the functions run in. Which member role is the caller's
``purpose``: ``"read"`` (DescribeSessions, tags: the session-events function and the sweeper) or
``"terminate"`` (TerminateSession: the action executor alone, whose role alone the member account's
terminate role trusts).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal

from ssm_warden.config import get_settings
from ssm_warden.errors import ConfigError

# Seconds an assumed-role credential lasts; botocore renews it before it expires (the member role's
# maximum session duration is IAM's default, one hour).
ASSUMED_ROLE_SECONDS = 3600
ROLE_SESSION_NAME = "ssm-warden"
MemberPurpose = Literal["read", "terminate"]


def _config() -> Any:
    from botocore.config import Config

    # Standard retry mode backs off on throttling and 5xx; the number of attempts comes from
    # AWS_MAX_ATTEMPTS when set (botocore's default is 3).
    return Config(retries={"mode": "standard"}, connect_timeout=3, read_timeout=10)


@cache
def aws_client(service: str) -> Any:
    """A boto3 client for ``service``, created on first use and reused for the container's life."""
    return _regional_client(service, get_settings().region)


@cache
def _session() -> Any:
    """One boto3 session per container: its loaded service models are shared by every client
    (a new session per client reloads them, about half a second each)."""
    import boto3  # imported here so that importing a handler stays cheap

    return boto3.session.Session()


@cache
def _regional_client(service: str, region: str) -> Any:
    return _session().client(
        service, region_name=region, endpoint_url=get_settings().endpoint_url, config=_config()
    )


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def member_role_arn(account: str, purpose: MemberPurpose = "terminate") -> str:
    """The ssm-warden member role for ``purpose`` in ``account`` (created by template-member.yaml)."""
    settings = get_settings()
    name, variable = (
        (settings.member_role_name, "MEMBER_ROLE_NAME")
        if purpose == "terminate"
        else (settings.member_read_role_name, "MEMBER_READ_ROLE_NAME")
    )
    if not name:
        raise ConfigError(
            f"account {account} is not this one and organisation mode is off: {variable} is not set"
        )
    return f"arn:{partition_of(settings.region)}:iam::{account}:role/{name}"


@cache
def aws_client_for_account(service: str, account: str, role_arn: str, region: str | None = None) -> Any:
    """A client acting as ``role_arn`` in ``account``: STS AssumeRole (with the configured external
    id) through ``aws_client("sts")``, the credentials renewed by botocore before they expire.

    Raises the SDK's errors when the role cannot be assumed (callers translate them)."""
    import boto3
    import botocore.session
    from botocore.credentials import RefreshableCredentials

    settings = get_settings()
    kwargs: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": ROLE_SESSION_NAME,
        "DurationSeconds": ASSUMED_ROLE_SECONDS,
    }
    if settings.member_external_id:
        kwargs["ExternalId"] = settings.member_external_id

    def fetch() -> dict[str, str]:
        credentials = aws_client("sts").assume_role(**kwargs)["Credentials"]
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(
        metadata=fetch(), refresh_using=fetch, method="sts-assume-role"
    )
    core = botocore.session.get_session()
    core._credentials = credentials  # botocore's way to give a session refreshable credentials
    return boto3.session.Session(botocore_session=core).client(
        service,
        region_name=region or settings.region,
        endpoint_url=settings.endpoint_url,
        config=_config(),
    )


def aws_client_for(
    service: str, account: str | None = None, region: str | None = None, *, purpose: MemberPurpose = "read"
) -> Any:
    """The client that reaches ``account`` in ``region``: this account's own credentials when the
    account is this one (or unknown), else the member role for ``purpose`` assumed in that account
    (read-only unless the caller terminates).

    Raises ``ConfigError`` for another account when organisation mode is off."""
    settings = get_settings()
    region = region or settings.region
    if account is None or is_own_account(account):
        return aws_client(service) if region == settings.region else _regional_client(service, region)
    return aws_client_for_account(service, account, member_role_arn(account, purpose), region)


def is_own_account(account: str | None) -> bool:
    """True for the account the functions run in, and when either account is unknown."""
    own = get_settings().account_id
    return account is None or own is None or account == own


def reset_clients() -> None:
    """Drop every cached client (tests point the factory at a new endpoint)."""
    aws_client.cache_clear()
    _regional_client.cache_clear()
    _session.cache_clear()
    aws_client_for_account.cache_clear()

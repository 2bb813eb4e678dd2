"""Which credentials reach a session's account: this account's own, or the member role's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ssm_warden import clients
from ssm_warden.config import reset_settings
from ssm_warden.errors import ConfigError

GOVERNANCE = "123456789012"
MEMBER = "111111111111"


@pytest.fixture
def assumed() -> Iterator[list[tuple[str, str, str, str | None]]]:
    """Record what would be assumed instead of calling STS (restored before the shared fixtures
    reset the client caches)."""
    calls: list[tuple[str, str, str, str | None]] = []

    def fake(service: str, account: str, role_arn: str, region: str | None = None) -> Any:
        calls.append((service, account, role_arn, region))
        return f"member-client:{service}"

    saved = clients.aws_client_for_account, clients.aws_client
    clients.aws_client_for_account = fake  # type: ignore[assignment]
    clients.aws_client = lambda service: f"own-client:{service}"  # type: ignore[assignment]
    yield calls
    clients.aws_client_for_account, clients.aws_client = saved  # type: ignore[assignment]


def _org_mode(monkeypatch: pytest.MonkeyPatch, role: str | None = "ssm-warden-member") -> None:
    monkeypatch.setenv("WARDEN_ACCOUNT_ID", GOVERNANCE)
    if role:
        monkeypatch.setenv("MEMBER_ROLE_NAME", role)
        monkeypatch.setenv("MEMBER_READ_ROLE_NAME", f"{role}-read")
    reset_settings()


def test_this_accounts_sessions_use_its_own_credentials(
    monkeypatch: pytest.MonkeyPatch, assumed: list[Any]
) -> None:
    _org_mode(monkeypatch)
    assert clients.aws_client_for("ssm", GOVERNANCE, "us-east-1") == "own-client:ssm"
    assert assumed == []


def test_a_member_accounts_session_goes_through_the_member_role_in_its_region(
    monkeypatch: pytest.MonkeyPatch, assumed: list[Any]
) -> None:
    _org_mode(monkeypatch)
    assert clients.aws_client_for("ssm", MEMBER, "eu-west-1", purpose="terminate") == "member-client:ssm"
    assert assumed == [("ssm", MEMBER, f"arn:aws:iam::{MEMBER}:role/ssm-warden-member", "eu-west-1")]


def test_only_termination_asks_for_the_member_role_that_may_terminate(
    monkeypatch: pytest.MonkeyPatch, assumed: list[Any]
) -> None:
    # Reconciliation and tag look-ups (session events, sweeper) get the read-only member role
    _org_mode(monkeypatch)
    clients.aws_client_for("ssm", MEMBER, "eu-west-1")
    clients.aws_client_for("ec2", MEMBER, "eu-west-1", purpose="read")
    assert [a[2] for a in assumed] == [f"arn:aws:iam::{MEMBER}:role/ssm-warden-member-read"] * 2


def test_the_member_role_arn_follows_the_partition(monkeypatch: pytest.MonkeyPatch) -> None:
    _org_mode(monkeypatch)
    monkeypatch.setenv("AWS_REGION", "cn-north-1")
    reset_settings()
    assert clients.member_role_arn(MEMBER) == f"arn:aws-cn:iam::{MEMBER}:role/ssm-warden-member"


def test_another_account_without_organisation_mode_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, assumed: list[Any]
) -> None:
    # Given a stack that knows its account but has no member role configured
    _org_mode(monkeypatch, role=None)
    # Then a session elsewhere cannot be reached by mistake with this account's credentials
    with pytest.raises(ConfigError, match="MEMBER_ROLE_NAME"):
        clients.aws_client_for("ssm", MEMBER, "us-east-1", purpose="terminate")
    with pytest.raises(ConfigError, match="MEMBER_READ_ROLE_NAME"):
        clients.aws_client_for("ssm", MEMBER, "us-east-1")
    assert assumed == []


def test_without_a_known_account_everything_is_local(assumed: list[Any]) -> None:
    # Single-account deployments made before organisation mode keep working unchanged
    assert clients.aws_client_for("ssm", MEMBER, "us-east-1") == "own-client:ssm"
    assert assumed == []

"""Security Hub failures: what a retry may fix raises (SQS redelivers the action), what no retry fixes
is logged and never holds back the Slack alert."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ssm_warden.errors import TransientError
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger
from ssm_warden.models.findings import Severity
from ssm_warden.securityhub.asff import to_asff
from ssm_warden.securityhub.publisher import SecurityHubNotifier, SecurityHubUnavailable, import_findings

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ACTION = ActionRequest(
    action_id="b" * 32,
    kind=ActionKind.ALERT,
    mode=Mode.ENFORCE,
    trigger=Trigger.FINDING,
    severity=Severity.HIGH,
    session=SessionRef(session_id="alice-0e34861185201706f", account="123456789012", region="eu-west-1"),
    title="t",
    why="w",
    rule_or_limit="r",
    policy_version="v",
    created_at=NOW,
)


class Client:
    """Answers BatchImportFindings with an error code or a response, and remembers the calls."""

    def __init__(self, error: str | None = None, response: dict[str, Any] | None = None) -> None:
        self.error, self.response, self.calls = error, response, []  # type: ignore[var-annotated]

    def batch_import_findings(self, Findings: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Findings)
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "x"}}, "BatchImportFindings")
        return self.response or {"FailedCount": 0, "SuccessCount": len(Findings), "FailedFindings": []}


def test_findings_go_to_the_sessions_account_and_region_in_batches_of_100() -> None:
    seen: list[tuple[str, str]] = []
    client = Client()

    def client_for(service: str, account: str, region: str) -> Client:
        seen.append((account, region))
        return client

    finding = to_asff(ACTION, "alert_only", now=NOW)
    assert import_findings([finding] * 250, client_for=client_for) == 250  # type: ignore[list-item]
    assert seen == [("123456789012", "eu-west-1")] and [len(c) for c in client.calls] == [100, 100, 50]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ThrottlingException", TransientError),
        ("InternalException", TransientError),
        ("InvalidAccessException", SecurityHubUnavailable),
    ],
)
def test_errors_are_transient_or_permanent(code: str, error: type[Exception]) -> None:
    finding = to_asff(ACTION, "alert_only", now=NOW)
    with pytest.raises(error):
        import_findings([finding], client_for=lambda *a: Client(error=code))  # type: ignore[list-item]


def test_security_hub_not_enabled_never_holds_back_the_slack_alert() -> None:
    delivered: list[str] = []

    class Slack:
        def deliver(self, action: ActionRequest, outcome: str) -> None:
            delivered.append(outcome)

    def refuse(findings: list[dict[str, Any]]) -> int:
        raise SecurityHubUnavailable("Security Hub is not enabled")

    SecurityHubNotifier(Slack(), clock=lambda: NOW, importer=refuse).deliver(ACTION, "alert_only")
    assert delivered == ["alert_only"]


def test_a_transient_failure_raises_before_slack_so_the_redelivery_posts_once() -> None:
    delivered: list[str] = []

    class Slack:
        def deliver(self, action: ActionRequest, outcome: str) -> None:
            delivered.append(outcome)

    def throttled(findings: list[dict[str, Any]]) -> int:
        raise TransientError("throttled")

    with pytest.raises(TransientError):
        SecurityHubNotifier(Slack(), clock=lambda: NOW, importer=throttled).deliver(ACTION, "alert_only")
    assert delivered == []

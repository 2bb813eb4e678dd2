"""Organisation mode: a member session's Security Hub finding goes to the member account's Security
Hub, through the member role (moto binds the role's credentials to its account)."""

from __future__ import annotations

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.handlers import action_executor
from ssm_warden.securityhub.publisher import SecurityHubNotifier
from tests.conftest import REGION
from tests.integration.org.conftest import MEMBER, Organisation


def test_a_member_sessions_finding_lands_in_the_member_accounts_security_hub(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    recording = org.notifier
    monkeypatch.setattr(action_executor, "notifier", lambda: SecurityHubNotifier(recording))
    action_executor.reset_idempotency()
    # Given a session in the member account that starts without a reason on a prod host
    instance = org.member_instance(Environment="prod")
    session_id = org.start_member_session(instance)
    event = org.forwarded_start_event(session_id, instance)
    event["detail"]["requestParameters"].pop("reason")
    org.deliver_event(event)
    # When the executor carries out the alerts
    org.run_executor()
    # Then the findings are in the member's Security Hub, under the member's own product, and none
    # in the governance account's
    member = org.member("securityhub").get_findings()["Findings"]
    assert member and all(f["AwsAccountId"] == MEMBER for f in member)
    assert all(
        f["ProductArn"] == f"arn:aws:securityhub:{REGION}:{MEMBER}:product/{MEMBER}/default" for f in member
    )
    assert any(f["ProductFields"]["ssm-warden/SessionId"] == session_id for f in member)
    assert all(f["AwsAccountId"] != MEMBER for f in aws_client("securityhub").get_findings()["Findings"])

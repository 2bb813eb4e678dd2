"""Security Hub: actions become ASFF findings in moto's Security Hub (BatchImportFindings), one
finding per session and rule, updated (not duplicated) as the session's state changes."""

from __future__ import annotations

from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.handlers import action_executor
from ssm_warden.securityhub.publisher import SecurityHubNotifier
from tests.integration.access import cloudtrail as ct
from tests.integration.access.test_jit import REQ, approve, jit_session, t
from tests.integration.enforce.conftest import Warden, at


@pytest.fixture
def hub(warden: Warden, monkeypatch: pytest.MonkeyPatch) -> Warden:
    recording = warden.notifier
    monkeypatch.setattr(action_executor, "notifier", lambda: SecurityHubNotifier(recording))
    action_executor.reset_idempotency()
    return warden


def findings() -> list[dict[str, Any]]:
    return list(aws_client("securityhub").get_findings()["Findings"])


def test_a_warning_then_a_termination_update_one_finding(hub: Warden, prod_policy: Any) -> None:
    instance = hub.instance(Environment="prod")
    hub.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    approve(hub, window_end=t(60))
    sid = jit_session(hub, instance, when=t(0))
    hub.output(sid, t(50))
    hub.sweep(at(t(56)), reconcile=False)
    hub.run_executor()
    [warned] = findings()
    assert warned["ProductFields"]["ssm-warden/SessionId"] == sid
    assert warned["Workflow"]["Status"] == "NEW" and warned["Severity"]["Label"] == "LOW"
    assert warned["Resources"][0]["Details"]["Other"]["access.request_id"] == REQ
    hub.sweep(at(t(61)), reconcile=False)
    hub.run_executor()
    [ended] = findings()
    assert ended["Id"] == warned["Id"]
    assert ended["ProductFields"]["ssm-warden/Outcome"] == "terminated"
    assert ended["Workflow"]["Status"] == "RESOLVED"
    assert ended["ProductArn"] == f"arn:aws:securityhub:{ct.REGION}:{ct.ACCOUNT}:product/{ct.ACCOUNT}/default"


def test_an_account_level_alert_is_a_finding_on_the_account(hub: Warden, prod_policy: Any) -> None:
    hub.deliver(ct.rdp_recording_off("mallory", at=t(0)))
    hub.run_executor()
    [finding] = findings()
    assert finding["Resources"][0]["Type"] == "AwsAccount"
    assert finding["Title"] == "Fleet Manager RDP recording switched off"

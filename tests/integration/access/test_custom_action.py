"""The Security Hub custom action "Terminate SSM session": its event (as Security Hub documents it)
enters the action queue like a Slack button, with an allowlist and an audit record."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.securityhub_action import app
from ssm_warden.config import reset_settings
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger
from ssm_warden.models.findings import Severity
from ssm_warden.securityhub.asff import to_asff
from tests.conftest import ACCOUNT, REGION, LambdaContext
from tests.integration.enforce.conftest import Warden

TARGET = f"arn:aws:securityhub:{REGION}:{ACCOUNT}:action/custom/SsmWardenTerminate"
NOW = datetime.now(UTC)


def finding_for(session_id: str, account: str = ACCOUNT) -> dict[str, Any]:
    action = ActionRequest(
        action_id="a" * 32,
        kind=ActionKind.ALERT,
        mode=Mode.ENFORCE,
        trigger=Trigger.FINDING,
        severity=Severity.HIGH,
        session=SessionRef(session_id=session_id, account=account, region=REGION),
        title="Download piped to a shell",
        why="curl | sh",
        rule_or_limit="download-pipe-to-shell",
        policy_version="v1",
        created_at=NOW,
    )
    finding = to_asff(action, "alert_only", now=NOW)
    assert finding is not None
    return finding


def custom_action_event(*findings: dict[str, Any], account: str = ACCOUNT, **detail: Any) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "1a1111a1-b22b-3c33-444d-5555e5ee5555",
        "detail-type": "Security Hub Findings - Custom Action",
        "source": "aws.securityhub",
        "account": account,
        "time": "2026-11-28T09:00:00Z",
        "region": REGION,
        "resources": [TARGET],
        "detail": {
            "actionName": "Terminate session",
            "actionDescription": "ssm-warden - terminate the SSM session this finding is about.",
            "findings": list(findings),
            **detail,
        },
    }


@pytest.fixture
def allow(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(principals: str) -> None:
        monkeypatch.setenv("SECURITY_HUB_ACTION_ARN", TARGET)
        monkeypatch.setenv("SECURITY_HUB_ACTION_PRINCIPALS", principals)
        monkeypatch.setenv("WARDEN_ACCOUNT_ID", ACCOUNT)
        reset_settings()

    return use


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, LambdaContext())
    return result


def operator_records(warden: Warden, session_id: str) -> list[Any]:
    return [r for r in warden.audit(session_id) if r.actor.startswith("securityhub:")]


def test_the_custom_action_terminates_the_session_like_the_slack_button(warden: Warden, allow: Any) -> None:
    allow("*")
    sid = warden.start(warden.instance(Environment="prod"))
    assert invoke(custom_action_event(finding_for(sid))) == {"queued": 1, "refused": 0}
    warden.run_executor()
    assert warden.status_at_aws(sid) == "Terminated"
    assert ("operator.terminate_now", "terminated") in warden.outcomes()
    [audit] = operator_records(warden, sid)
    assert audit.outcome == "queued for termination" and audit.details["via"] == "securityhub_custom_action"


def test_an_invoker_on_the_allowlist_is_accepted_and_one_off_it_is_denied(warden: Warden, allow: Any) -> None:
    allow(f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/*")
    sid = warden.start(warden.instance())
    ok = custom_action_event(
        finding_for(sid), userIdentity={"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/eve"}
    )
    bad = copy.deepcopy(ok)
    bad["detail"]["userIdentity"] = {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Dev/mallory"}
    assert invoke(bad) == {"queued": 0, "refused": 1}
    assert invoke(ok) == {"queued": 1, "refused": 0}


def test_without_an_invoker_only_a_star_allowlist_accepts_and_empty_refuses_everything(
    warden: Warden, allow: Any
) -> None:
    sid = warden.start(warden.instance())
    allow(f"arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/*")
    assert invoke(custom_action_event(finding_for(sid))) == {"queued": 0, "refused": 1}
    allow("")
    assert invoke(custom_action_event(finding_for(sid))) == {"queued": 0, "refused": 1}
    assert warden.queued() == 0


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.events"},  # not Security Hub
        {"resources": [f"arn:aws:securityhub:{REGION}:{ACCOUNT}:action/custom/Other"]},  # another action
        {"account": "999999999999"},  # an account that is neither this one nor a member
    ],
)
def test_events_that_are_not_our_action_from_an_allowed_account_are_refused(
    warden: Warden, allow: Any, change: dict[str, Any]
) -> None:
    allow("*")
    sid = warden.start(warden.instance())
    event = custom_action_event(finding_for(sid))
    event.update(change)
    assert invoke(event)["queued"] == 0
    assert warden.queued() == 0


def test_a_finding_that_is_not_ours_or_names_no_live_session_is_refused(warden: Warden, allow: Any) -> None:
    allow("*")
    sid = warden.start(warden.instance())
    foreign = finding_for(sid) | {"GeneratorId": "aws-foundational-security-best-practices/v/1.0.0/EC2.8"}
    unknown = finding_for("alice-0e34861185201706f")
    hostile = finding_for(sid)
    hostile["ProductFields"]["ssm-warden/SessionId"] = "x'; rm -rf / #"
    assert invoke(custom_action_event(foreign, unknown, hostile)) == {"queued": 0, "refused": 3}
    assert warden.queued() == 0

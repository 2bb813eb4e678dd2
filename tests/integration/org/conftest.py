"""Two simulated accounts in one moto server: the governance account (moto's default, reached with
the test credentials) and a member account, reached the way ssm-warden reaches it - STS AssumeRole
of the member role, whose credentials moto binds to the role's account."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.action_executor import app as executor_app
from functions.command_monitor import app as monitor_app
from functions.session_events import app as events_app
from ssm_warden.clients import aws_client, aws_client_for_account, reset_clients
from ssm_warden.config import reset_settings
from ssm_warden.handlers import action_executor
from ssm_warden.models.actions import ActionRequest
from ssm_warden.monitor.judging import batch_judge
from ssm_warden.policy.store import reset_policy_cache
from ssm_warden_local.lambda_runtime import DrainReport, LambdaContext, drain_queue
from ssm_warden_local.resources import LocalStack
from tests.conftest import ACCOUNT, load_event

GOVERNANCE = ACCOUNT
MEMBER = "111111111111"
MEMBER_ROLE = "ssm-warden-member"
MEMBER_READ_ROLE = "ssm-warden-member-read"
EXTERNAL_ID = "warden-ext-7f3a"


@dataclass
class RecordingNotifier:
    delivered: list[tuple[ActionRequest, str]] = field(default_factory=list)

    def deliver(self, action: ActionRequest, outcome: str) -> None:
        self.delivered.append((action, outcome))


@dataclass
class Organisation:
    stack: LocalStack
    notifier: RecordingNotifier
    seq: int = 0

    @staticmethod
    def role_arn(account: str = MEMBER) -> str:
        return f"arn:aws:iam::{account}:role/{MEMBER_ROLE}"

    def member(self, service: str, account: str = MEMBER) -> Any:
        """A client acting in the member account (what a person there would use)."""
        return aws_client_for_account(service, account, self.role_arn(account))

    def member_instance(self, account: str = MEMBER, **tags: str) -> str:
        ec2 = self.member("ec2", account)
        instance = str(
            ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        )
        ec2.create_tags(Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return instance

    def start_member_session(self, target: str, account: str = MEMBER) -> str:
        return str(self.member("ssm", account).start_session(Target=target)["SessionId"])

    def forwarded_start_event(self, session_id: str, target: str, account: str = MEMBER) -> dict[str, Any]:
        """The member account's CloudTrail StartSession event as the governance bus receives it:
        cross-account forwarding keeps the event as it was, its account included."""
        self.seq += 1
        text = json.dumps(load_event("start_session_shell.json")).replace(GOVERNANCE, account)
        event: dict[str, Any] = json.loads(text)
        event["id"] = f"forwarded-{self.seq}"
        detail = event["detail"]
        detail["eventID"] = f"00000000-0000-4000-8000-{self.seq:012d}"
        detail["recipientAccountId"] = account
        detail["requestParameters"] = {"target": target, "reason": "INC-7 member host"}
        detail["responseElements"] = copy.deepcopy(detail["responseElements"]) | {"sessionId": session_id}
        return event

    def deliver_event(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = events_app.lambda_handler(
            event, LambdaContext(function_name="session-events")
        )
        return result

    def deliver_logs(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = monitor_app.lambda_handler(
            event, LambdaContext(function_name="command-monitor")
        )
        return result

    def run_executor(self) -> DrainReport:
        return drain_queue(aws_client("sqs"), self.stack.queues["ActionQueue"], executor_app.lambda_handler)


@pytest.fixture
def org(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Organisation]:
    """The governance stack in organisation mode, with one member account to reconcile."""
    monkeypatch.setenv("WARDEN_ACCOUNT_ID", GOVERNANCE)
    monkeypatch.setenv("MEMBER_ROLE_NAME", MEMBER_ROLE)
    monkeypatch.setenv("MEMBER_READ_ROLE_NAME", MEMBER_READ_ROLE)
    monkeypatch.setenv("MEMBER_EXTERNAL_ID", EXTERNAL_ID)
    monkeypatch.setenv("MEMBER_ACCOUNTS", MEMBER)
    reset_settings()
    reset_clients()
    notifier = RecordingNotifier()
    monkeypatch.setattr(action_executor, "notifier", lambda: notifier)
    action_executor.reset_idempotency()
    reset_policy_cache()
    batch_judge.cache_clear()
    yield Organisation(stack=stack, notifier=notifier)
    action_executor.reset_idempotency()
    reset_clients()

"""Fixtures for the enforcement tests: the stack plus a driver for sessions, events and queues."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.action_executor import app as executor_app
from functions.session_events import app as events_app
from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.sweeper import SweepReport, sweep
from ssm_warden.handlers import action_executor
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.actions import ActionRequest
from ssm_warden.models.audit import AuditRecord
from ssm_warden.models.session import SessionRecord
from ssm_warden.policy.store import current_policy, reset_policy_cache
from ssm_warden_local.lambda_runtime import DrainReport, LambdaContext, drain_queue, queue_depth
from ssm_warden_local.resources import LocalStack
from tests.conftest import ACCOUNT, REGION, load_event

ADMIN = "arn:aws:sts::123456789012:assumed-role/Admin/alice"


@dataclass
class Delivered:
    action: ActionRequest
    outcome: str


@dataclass
class RecordingNotifier:
    """Stands where Slack would; the Slack tests cover the real notifier against the local sink."""

    delivered: list[Delivered] = field(default_factory=list)

    def deliver(self, action: ActionRequest, outcome: str) -> None:
        self.delivered.append(Delivered(action, outcome))


@dataclass
class Warden:
    stack: LocalStack
    notifier: RecordingNotifier
    seq: int = 0

    # -- the world --------------------------------------------------------------------------
    def instance(self, **tags: str) -> str:
        ec2 = aws_client("ec2")
        instance_id = str(
            ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        )
        if tags:
            ec2.create_tags(Resources=[instance_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return instance_id

    def start(
        self,
        target: str,
        *,
        document: str | None = None,
        reason: str | None = "INC-1 looking",
        principal: str = ADMIN,
        at: str = "2026-11-28T09:00:00Z",
        parameters: dict[str, Any] | None = None,
        record: bool = True,
    ) -> str:
        """Start a real session in the moto backend and deliver its CloudTrail event to the ledger."""
        kwargs: dict[str, Any] = {"Target": target}
        if document:
            kwargs["DocumentName"] = document
        session_id = str(aws_client("ssm").start_session(**kwargs)["SessionId"])
        if record:
            self.deliver(
                self.start_event(
                    session_id,
                    target,
                    document=document,
                    reason=reason,
                    principal=principal,
                    at=at,
                    parameters=parameters,
                )
            )
        return session_id

    def start_event(
        self,
        session_id: str,
        target: str,
        *,
        document: str | None = None,
        reason: str | None = None,
        principal: str = ADMIN,
        at: str = "2026-11-28T09:00:00Z",
        parameters: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.seq += 1
        event = copy.deepcopy(load_event("start_session_shell.json"))
        detail = event["detail"]
        detail["eventID"] = f"00000000-0000-4000-8000-{self.seq:012d}"
        detail["eventTime"] = at
        role = principal.split("/")[-2]
        detail["userIdentity"]["arn"] = principal
        detail["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = (
            f"arn:aws:iam::{ACCOUNT}:role/{role}"
        )
        request: dict[str, Any] = {"target": target}
        if document:
            request["documentName"] = document
        if reason:
            request["reason"] = reason
        if parameters:
            request["parameters"] = parameters
        detail["requestParameters"] = request
        detail["responseElements"]["sessionId"] = session_id
        return event

    def output(self, session_id: str, when: str) -> None:
        """The session printed something at ``when`` (what the command monitor records)."""
        from datetime import timedelta

        SessionRepository().touch_output(ACCOUNT, REGION, session_id, at(when), timedelta(minutes=1))

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = events_app.lambda_handler(
            event, LambdaContext(function_name="session-events")
        )
        return result

    # -- the pipeline -----------------------------------------------------------------------
    @property
    def queue(self) -> str:
        return self.stack.queues["ActionQueue"]

    @property
    def dead_letters(self) -> str:
        return self.stack.queues["ActionDeadLetterQueue"]

    def queued(self) -> int:
        return queue_depth(aws_client("sqs"), self.queue)

    def submit(self, *actions: ActionRequest) -> None:
        QueueSink().submit(list(actions))

    def run_executor(self) -> DrainReport:
        return drain_queue(aws_client("sqs"), self.queue, executor_app.lambda_handler)

    def sweep(self, now: datetime, reconcile: bool = True) -> SweepReport:
        return sweep(
            now=now,
            account=ACCOUNT,
            region=REGION,
            policy_state=current_policy(),
            sink=QueueSink(),
            time_left=lambda: 60.0,
            reconcile_with_service=reconcile,
        )

    # -- what happened ----------------------------------------------------------------------
    def session(self, session_id: str) -> SessionRecord:
        record = SessionRepository().get(ACCOUNT, REGION, session_id)
        assert record is not None
        return record

    def status_at_aws(self, session_id: str) -> str:
        from ssm_warden_local import moto_sessions

        found = moto_sessions.get_session(ACCOUNT, REGION, session_id)
        assert found is not None
        return found.status

    def audit(self, session_id: str) -> list[AuditRecord]:
        from ssm_warden.audit import read_audit

        return read_audit(session_id)

    def outcomes(self) -> list[tuple[str, str]]:
        return [(d.action.rule_or_limit, d.outcome) for d in self.notifier.delivered]


@pytest.fixture
def warden(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Warden]:
    notifier = RecordingNotifier()
    monkeypatch.setattr(action_executor, "notifier", lambda: notifier)
    action_executor.reset_idempotency()
    reset_policy_cache()
    reset_settings()
    yield Warden(stack=stack, notifier=notifier)
    action_executor.reset_idempotency()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)

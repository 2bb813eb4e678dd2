"""JIT access calls and keyless calls → ledger changes (pure), both plausible shapes where AWS has
published no sample record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.access_events import access_change_from_event, is_jit_principal, status_from
from ssm_warden.ledger.events import change_from_event, principal_from
from ssm_warden.ledger.keyless_events import key_fingerprint, keyless_change_from_event
from ssm_warden.models.access import (
    AccessDecided,
    AccessRequested,
    AccessStatus,
    AccessTokenIssued,
    KeylessPath,
)
from ssm_warden.models.cloudtrail import CloudTrailEvent, UserIdentity
from tests.conftest import EVENTS
from tests.integration.access import cloudtrail as ct


def detail(event: dict[str, Any]) -> Any:
    return CloudTrailEvent.model_validate(event).detail


@pytest.mark.parametrize("upper", [False, True])
def test_start_access_request_gives_requester_reason_targets_and_id(upper: bool) -> None:
    change = access_change_from_event(
        detail(
            ct.start_access_request(
                "alice", "oi-0123456789ab", "i-0123456789abcdef0", at="2026-11-28T09:00:00Z", upper=upper
            )
        )
    )
    assert isinstance(change, AccessRequested)
    assert change.request_id == "oi-0123456789ab" and change.reason == "INC-7 disk full"
    assert change.targets == ["i-0123456789abcdef0"]
    assert change.principal.arn.endswith("assumed-role/Admin/alice")


def test_a_start_access_request_without_an_id_is_malformed_and_a_refused_one_is_nothing() -> None:
    event = ct.start_access_request(
        "alice", "oi-0123456789ab", "i-0123456789abcdef0", at="2026-11-28T09:00:00Z"
    )
    event["detail"]["responseElements"] = None
    with pytest.raises(MalformedEventError):
        access_change_from_event(detail(event))
    event["detail"]["errorCode"] = "AccessDeniedException"
    assert access_change_from_event(detail(event)) is None


def test_get_access_token_reads_the_status_when_cloudtrail_shows_it() -> None:
    change = access_change_from_event(
        detail(ct.get_access_token("alice", "oi-0123456789ab", at="2026-11-28T09:00:00Z", status="Revoked"))
    )
    assert isinstance(change, AccessTokenIssued) and change.status is AccessStatus.REVOKED
    bare = access_change_from_event(
        detail(ct.get_access_token("alice", "oi-0123456789ab", at="2026-11-28T09:00:00Z", status=None))
    )
    assert isinstance(bare, AccessTokenIssued) and bare.status is None


@pytest.mark.parametrize("upper", [False, True])
def test_an_ops_item_update_is_a_decision_with_its_window(upper: bool) -> None:
    change = access_change_from_event(
        detail(
            ct.update_ops_item(
                "oi-0123456789ab",
                "Approved",
                at="2026-11-28T09:00:00Z",
                window_end="2026-11-28T10:00:00Z",
                upper=upper,
                by=ct.identity("bob", "Approver"),
            )
        )
    )
    assert isinstance(change, AccessDecided) and change.status is AccessStatus.APPROVED
    assert change.window_end is not None and change.window_end.hour == 10 and not change.by_service


def test_ops_item_updates_that_are_no_access_decision_mean_nothing() -> None:
    assert (
        access_change_from_event(
            detail(ct.update_ops_item("oi-0123456789ab", "InProgress", at="2026-11-28T09:00:00Z"))
        )
        is None
    )
    assert (
        access_change_from_event(
            detail(ct.update_ops_item("not-an-ops-item", "Approved", at="2026-11-28T09:00:00Z"))
        )
        is None
    )


def test_service_decisions_are_marked_as_the_services() -> None:
    change = access_change_from_event(
        detail(ct.update_ops_item("oi-0123456789ab", "Approved", at="2026-11-28T09:00:00Z"))
    )
    assert isinstance(change, AccessDecided) and change.by_service


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("Approve", AccessStatus.APPROVED),
        ("Deny", AccessStatus.REJECTED),
        ("Reject", AccessStatus.REJECTED),
        ("Revoke", AccessStatus.REVOKED),
        ("TimedOut", AccessStatus.EXPIRED),
        ("Resume", None),
        (None, None),
    ],
)
def test_signal_words_map_to_statuses(word: str | None, status: AccessStatus | None) -> None:
    assert status_from(word) is status


def test_statuses_only_grow_stronger() -> None:
    assert (
        AccessStatus.REVOKED.rank
        > AccessStatus.EXPIRED.rank
        > AccessStatus.APPROVED.rank
        > AccessStatus.PENDING.rank
    )


def test_the_jit_token_role_is_recognised_and_the_person_s_own_role_is_not() -> None:
    token = principal_from(UserIdentity.model_validate(ct.identity("alice", "SSM-JustInTimeAccessTokenRole")))
    own = principal_from(UserIdentity.model_validate(ct.identity("alice")))
    assert is_jit_principal(token) and not is_jit_principal(own)


def test_keyless_calls_of_every_path() -> None:
    ecs = keyless_change_from_event(
        detail(
            ct.ecs_execute_command(
                "a",
                "ecs-execute-command-1",
                cluster="arn:c",
                task="arn:t",
                command="/bin/sh",
                at="2026-11-28T09:00:00Z",
            )
        )
    )
    assert ecs.path is KeylessPath.ECS_EXEC and ecs.access_id == "ecs-execute-command-1" and ecs.interactive
    push = keyless_change_from_event(
        detail(ct.send_ssh_public_key("a", "i-0123456789abcdef0", at="2026-11-28T09:00:00Z", key=None))
    )
    assert (
        push.path is KeylessPath.INSTANCE_CONNECT and push.key_fingerprint is None and push.open_seconds == 60
    )
    tunnel = keyless_change_from_event(detail(ct.open_tunnel("a", "10.0.0.5", 22, at="2026-11-28T09:00:00Z")))
    assert tunnel.port == 22 and tunnel.target_id == "10.0.0.5" and tunnel.max_duration_seconds == 3600
    rdp = keyless_change_from_event(
        detail(ct.rdp_start("a", "i-0123456789abcdef0", "conn-1", at="2026-11-28T09:00:00Z"))
    )
    assert rdp.path is KeylessPath.FLEET_MANAGER_RDP and rdp.access_id == "conn-1"
    assert (
        keyless_change_from_event(detail(ct.rdp_recording_off("a", at="2026-11-28T09:00:00Z"))).kind
        == "rdp_recording_off"
    )


def test_an_ecs_exec_without_a_session_id_is_malformed() -> None:
    event = ct.ecs_execute_command(
        "a", "x", cluster="arn:c", task="arn:t", command="/bin/sh", at="2026-11-28T09:00:00Z"
    )
    event["detail"]["responseElements"]["session"] = {}
    with pytest.raises(MalformedEventError):
        keyless_change_from_event(detail(event))


def test_key_fingerprints_are_those_ssh_keygen_prints() -> None:
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    # what `ssh-keygen -lf` (OpenSSH) prints for this key
    assert key_fingerprint(key) == "SHA256:+DiY3wvvV6TuJJhbpZisF/zLDA0zPMSvHdkr4UvCOqU"
    assert key_fingerprint(key) == key_fingerprint(key + " comment")
    assert key_fingerprint("not base64 !!") is None and key_fingerprint(None) is None


@pytest.mark.parametrize("path", sorted((EVENTS / "beyond").glob("*.json")), ids=lambda p: p.name)
def test_every_beyond_sample_event_means_something(path: Path) -> None:
    # Given a sample event of events/beyond/ (for sam local invoke -e)
    d = detail(json.loads(path.read_text()))
    # Then it is a JIT StartSession, an access-request change or a keyless change of this account
    if d.event_name == "StartSession":
        assert is_jit_principal(change_from_event(d).principal)
        return
    change = (
        access_change_from_event(d) if d.event_source == "ssm.amazonaws.com" else keyless_change_from_event(d)
    )
    assert change is not None and change.account == "123456789012"

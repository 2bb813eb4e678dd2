"""Just-in-time node access: requests in the ledger, JIT sessions joined to them in any order, the
approved window and revocations enforced on live sessions (moto server, real handlers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.clock import iso
from ssm_warden.ledger.access_repository import AccessRepository
from ssm_warden.models.access import AccessStatus
from tests.integration.access import cloudtrail as ct
from tests.integration.enforce.conftest import Warden, at

# Times relative to the real clock: the handlers judge the window at the moment an event arrives.
BASE = datetime.now(UTC).replace(second=0, microsecond=0)


def t(minutes: float) -> str:
    return iso(BASE + timedelta(minutes=minutes))


REQ = "oi-0123456789ab"
REQ2 = "oi-0123456789cd"
ALICE = f"arn:aws:sts::{ct.ACCOUNT}:assumed-role/Admin/alice"


def jit_session(warden: Warden, instance: str, *, role_session: str = "alice", when: str) -> str:
    """A real session in the moto backend, and its StartSession event as the JIT token role made it."""
    session_id = str(aws_client("ssm").start_session(Target=instance)["SessionId"])
    warden.deliver(ct.jit_start_session(session_id, instance, role_session=role_session, at=when))
    return session_id


def request(account: str = ct.ACCOUNT) -> Any:
    return AccessRepository().get(account, ct.REGION, REQ)


def approve(warden: Warden, *, window_end: str | None = None, upper: bool = False) -> list[str]:
    return warden.deliver(
        ct.update_ops_item(
            REQ,
            "Approved",
            at=t(-5),
            by=ct.identity("bob", role="Approver"),
            window_end=window_end or t(60),
            upper=upper,
        )
    )["joined"]


@pytest.mark.parametrize("upper", [False, True], ids=["cloudtrail-case", "api-case"])
def test_a_jit_session_is_the_requesters_with_the_request_approvers_and_window(
    warden: Warden, prod_policy: Any, upper: bool
) -> None:
    # Given alice asked for access to a prod instance, bob approved it until 10:00, she fetched a token
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10), upper=upper))
    approve(warden, upper=upper)
    warden.deliver(ct.get_access_token("alice", REQ, at=t(-2)))
    # When she starts a session with the JIT credentials
    sid = jit_session(warden, instance, when=t(0))
    # Then the session is hers, joined to the request, and no require_jit finding is raised
    record = warden.session(sid)
    assert record.principal.arn == ALICE
    assert record.principal.access_request_id == REQ
    assert record.principal.via_role_arn.endswith("role/SSM-JustInTimeAccessTokenRole")
    assert record.access_type == "JustInTime"
    saved = request()
    assert saved.reason == "INC-7 disk full" and saved.targets == [instance]
    assert saved.status is AccessStatus.APPROVED
    assert saved.approvers == [f"arn:aws:sts::{ct.ACCOUNT}:assumed-role/Approver/bob"]
    assert saved.window_end == at(t(60))
    assert saved.tokens == 1 and sid in saved.session_ids
    assert warden.queued() == 0


def test_the_request_events_may_arrive_after_the_session(warden: Warden, prod_policy: Any) -> None:
    instance = warden.instance(Environment="prod")
    # Given the JIT StartSession arrives first
    sid = jit_session(warden, instance, when=t(0))
    assert warden.session(sid).principal.access_request_id is None
    # When the token, then the request and its approval arrive late
    joined = [warden.deliver(ct.get_access_token("alice", REQ, at=t(-2), status=None))["joined"]]
    joined.append(approve(warden))
    joined.append(warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))["joined"])
    # Then the session is joined to the request (once, as soon as the requester was known) and is alice's
    assert [j for j in joined if j] == [[sid]]
    record = warden.session(sid)
    assert record.principal.arn == ALICE and record.principal.access_request_id == REQ
    assert request().status is AccessStatus.APPROVED


def test_a_role_session_named_after_the_request_id_joins_directly(warden: Warden, prod_policy: Any) -> None:
    # The other plausible shape: the JIT role session is named after the request id
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    sid = jit_session(warden, instance, role_session=REQ, when=t(0))
    assert warden.session(sid).access_join["method"] == "request_id"
    assert warden.session(sid).principal.arn == ALICE


def test_the_session_is_warned_then_terminated_at_the_end_of_the_approved_window(
    warden: Warden, prod_policy: Any
) -> None:
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    approve(warden, window_end=t(60))
    sid = jit_session(warden, instance, when=t(0))
    warden.output(sid, t(50))
    # When the sweeper runs four minutes before the window ends: a warning, once
    warden.sweep(at(t(56)), reconcile=False)
    warden.sweep(at(t(57)), reconcile=False)
    warden.run_executor()
    assert warden.outcomes() == [("jit_window", "warned")]
    assert t(60) in warden.notifier.delivered[0].action.why
    assert warden.notifier.delivered[0].action.session.access["request_id"] == REQ
    # Then past the window's end the session is terminated at AWS
    warden.sweep(at(t(60.5)), reconcile=False)
    warden.run_executor()
    assert warden.outcomes()[-1] == ("jit_window", "terminated")
    assert warden.status_at_aws(sid) == "Terminated"


def test_a_revoked_approval_ends_the_session_at_once(warden: Warden, prod_policy: Any) -> None:
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    approve(warden)
    sid = jit_session(warden, instance, when=t(0))
    # When bob revokes his approval
    warden.deliver(ct.update_ops_item(REQ, "Revoked", at=t(10), by=ct.identity("bob", role="Approver")))
    # Then the session is terminated without waiting for the window, and a late "Approved" changes nothing
    approve(warden)
    warden.run_executor()
    assert warden.outcomes() == [("jit_window", "terminated")]
    assert "revoked" in warden.notifier.delivered[0].action.why
    assert warden.status_at_aws(sid) == "Terminated"
    assert request().status is AccessStatus.REVOKED


def test_a_revoke_signalled_to_the_automation_before_we_know_its_request_still_ends_the_session(
    warden: Warden, prod_policy: Any
) -> None:
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    sid = jit_session(warden, instance, when=t(0))
    # Given the Revoke signal names only the approval automation
    warden.deliver(ct.send_automation_signal("exec-1234", "Revoke", by="bob", at=t(5)))
    assert request().status is AccessStatus.PENDING
    # When the OpsItem update that ties the automation to the request arrives
    warden.deliver(ct.update_ops_item(REQ, "Approved", at=t(-5), automation="exec-1234"))
    warden.run_executor()
    # Then the parked revocation applies and the session is ended
    assert request().status is AccessStatus.REVOKED
    assert warden.status_at_aws(sid) == "Terminated"


def test_monitor_mode_says_would_terminate(warden: Warden, prod_policy: Any) -> None:
    prod_policy("monitor")
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    approve(warden, window_end=t(30))
    sid = jit_session(warden, instance, when=t(0))
    warden.output(sid, t(1))
    warden.sweep(at(t(31)), reconcile=False)
    warden.run_executor()
    assert warden.outcomes() == [("jit_window", "would_terminate")]
    assert warden.status_at_aws(sid) == "Connected"


def test_two_requests_that_fit_make_the_join_ambiguous_and_nothing_is_terminated(
    warden: Warden, prod_policy: Any
) -> None:
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    warden.deliver(ct.start_access_request("alice", REQ2, instance, at=t(-9)))
    sid = jit_session(warden, instance, when=t(0))
    assert warden.session(sid).access_join["ambiguous"] is True
    warden.deliver(ct.update_ops_item(REQ2, "Revoked", at=t(5)))
    warden.run_executor()
    assert warden.outcomes() == [("jit_window", "alert_only")]
    assert "not certain" in warden.notifier.delivered[0].action.why
    assert warden.status_at_aws(sid) == "Connected"


def test_a_standard_session_where_jit_is_required_is_a_start_time_finding(
    warden: Warden, prod_policy: Any
) -> None:
    prod = warden.instance(Environment="prod")
    dev = warden.instance(Environment="dev")
    warden.start(dev)
    sid = warden.start(prod)
    warden.run_executor()
    assert warden.outcomes() == [("require_jit", "alert_only")]
    assert warden.notifier.delivered[0].action.session.session_id == sid


def test_reconciliation_reads_access_type_for_a_session_whose_start_event_never_arrived(
    warden: Warden, prod_policy: Any
) -> None:
    from ssm_warden_local import moto_sessions

    # Given a JIT session AWS lists (AccessType JustInTime) but whose StartSession never arrived
    instance = warden.instance(Environment="dev")
    sid = str(aws_client("ssm").start_session(Target=instance)["SessionId"])
    moto_sessions.set_access_type(ct.ACCOUNT, ct.REGION, sid, "JustInTime")
    listed = aws_client("ssm").describe_sessions(
        State="Active", Filters=[{"key": "AccessType", "value": "JustInTime"}]
    )["Sessions"]
    assert [s["SessionId"] for s in listed] == [sid] and listed[0]["AccessType"] == "JustInTime"
    # When the sweeper reconciles
    warden.sweep(BASE)
    # Then the discovered session is recorded as a JIT one
    assert warden.session(sid).access_type == "JustInTime"


def test_only_systems_manager_can_push_the_window_later_anyone_else_only_earlier(
    warden: Warden, prod_policy: Any
) -> None:
    instance = warden.instance(Environment="prod")
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    approve(warden, window_end=t(60))
    # When the requester herself updates the OpsItem to end the window next year
    alice = ct.identity("alice")
    warden.deliver(ct.update_ops_item(REQ, "Approved", at=t(1), by=alice, window_end=t(60 * 24 * 365)))
    assert request().window_end == at(t(60))
    # An earlier end, from anyone, is kept; Systems Manager's own update is taken as it is
    warden.deliver(ct.update_ops_item(REQ, "Approved", at=t(2), by=alice, window_end=t(30)))
    assert request().window_end == at(t(30))
    warden.deliver(ct.update_ops_item(REQ, "Approved", at=t(3), window_end=t(90)))
    assert request().window_end == at(t(90))


def test_of_two_requests_that_fit_the_one_whose_token_was_just_fetched_is_the_sessions(
    warden: Warden, prod_policy: Any
) -> None:
    instance = warden.instance(Environment="prod")
    # Given two requests of alice's for the same host, a token fetched for the second only
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-60)))
    warden.deliver(ct.start_access_request("alice", REQ2, instance, at=t(-9)))
    warden.deliver(ct.get_access_token("alice", REQ2, at=t(-2)))
    # When her JIT session starts, and the first request is revoked
    sid = jit_session(warden, instance, when=t(0))
    warden.deliver(ct.update_ops_item(REQ, "Revoked", at=t(5)))
    # Then the session is the second request's, certainly, and the first one's revocation leaves it alone
    join = warden.session(sid).access_join
    assert join["request_id"] == REQ2 and join["ambiguous"] is False
    warden.run_executor()
    assert warden.outcomes() == []
    assert warden.status_at_aws(sid) == "Connected"


def test_when_cloudtrail_shows_no_outcome_the_sweeper_reads_the_ops_item(
    warden: Warden, prod_policy: Any
) -> None:
    from ssm_warden_local import moto_sessions

    instance = warden.instance(Environment="prod")
    # Given a request whose approval CloudTrail never showed, and a JIT session under it
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    sid = jit_session(warden, instance, when=t(0))
    warden.output(sid, t(1))
    # And its OpsItem, kept by Systems Manager, says approved until t(20)
    service = "arn:aws:sts::123456789012:assumed-role/AWSServiceRoleForSystemsManagerJustInTimeAccess/ssm"
    moto_sessions.seed_ops_item(
        ct.ACCOUNT,
        ct.REGION,
        {"OpsItemId": REQ, "Status": "Approved", "PlannedEndTime": at(t(20)), "LastModifiedBy": service},
    )
    # When the sweeper runs past that end
    warden.sweep(at(t(21)), reconcile=False)
    warden.run_executor()
    # Then the window came from the OpsItem and the session was ended
    assert request().status is AccessStatus.APPROVED and request().window_end == at(t(20))
    assert ("jit_window", "terminated") in warden.outcomes()
    assert warden.status_at_aws(sid) == "Terminated"


def test_an_ops_item_window_set_by_someone_else_is_not_trusted_to_be_later(
    warden: Warden, prod_policy: Any
) -> None:
    from ssm_warden.ledger.access_service import refresh_from_ops_item
    from ssm_warden_local import moto_sessions

    instance = warden.instance(Environment="prod")
    # Given a request still pending approval, whose approver planned it to end at t(20)
    warden.deliver(ct.start_access_request("alice", REQ, instance, at=t(-10)))
    bob = ct.identity("bob", role="Approver")
    warden.deliver(ct.update_ops_item(REQ, "PendingApproval", at=t(-9), by=bob, window_end=t(20)))
    assert request().status is AccessStatus.PENDING
    # And an OpsItem that alice herself last changed: approved, ending in ten hours
    moto_sessions.seed_ops_item(
        ct.ACCOUNT,
        ct.REGION,
        {"OpsItemId": REQ, "Status": "Approved", "PlannedEndTime": at(t(600)), "LastModifiedBy": ALICE},
    )
    # When the OpsItem is read
    refreshed = refresh_from_ops_item(request(), at(t(0)))
    # Then its status is taken, but not her later end
    assert refreshed.status is AccessStatus.APPROVED and refreshed.status_by == ALICE
    assert refreshed.window_end == at(t(20))
    # And, its window known, it is not read again
    assert refresh_from_ops_item(refreshed, at(t(1))) == refreshed

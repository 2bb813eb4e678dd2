"""The approved-window decisions (pure): warn, terminate, revocation, ambiguity, monitor, exemption,
extension; and the ASFF finding built from an action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ssm_warden.enforce.jit import check_jit_window, check_require_jit
from ssm_warden.models.access import AccessRequestRecord, AccessStatus
from ssm_warden.models.actions import ActionKind, Mode, SessionRef
from ssm_warden.models.session import Principal, SessionRecord, SessionState
from ssm_warden.policy.evaluate import SessionFacts, effective_settings
from ssm_warden.policy.loader import load_policy_text
from ssm_warden.securityhub.asff import finding_id, to_asff

END = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
POLICY = """
version: 1
defaults: {warn_before_minutes: 5, require_jit: true}
exemptions:
  - {principal: "arn:aws:sts::*:assumed-role/Oncall/*", rule: jit_window, expires: "2099-01-01T00:00:00Z", reason: "on-call pager"}
"""


def record(
    principal: str = "arn:aws:sts::123456789012:assumed-role/Admin/alice", **extra: object
) -> SessionRecord:
    return SessionRecord(
        session_id="s-1",
        account="123456789012",
        region="us-east-1",
        state=SessionState.ACTIVE,
        principal=Principal(arn=principal, access_request_id="oi-0123456789ab"),
        started_at=END - timedelta(minutes=50),
        **extra,  # type: ignore[arg-type]
    )


def request(status: AccessStatus = AccessStatus.APPROVED) -> AccessRequestRecord:
    return AccessRequestRecord(
        request_id="oi-0123456789ab",
        account="123456789012",
        region="us-east-1",
        status=status,
        window_end=END,
        status_by="arn:bob",
    )


def decide(
    rec: SessionRecord, req: AccessRequestRecord, now: datetime, policy: str = POLICY, force: bool = False
):  # type: ignore[no-untyped-def]
    loaded = load_policy_text(policy)
    settings = effective_settings(loaded.policy, SessionFacts())
    ref = SessionRef(
        session_id=rec.session_id,
        account=rec.account,
        region=rec.region,
        principal_arn=rec.principal.arn if rec.principal else None,
    )
    return check_jit_window(
        record=rec, request=req, session=ref, settings=settings, policy=loaded, now=now, force_monitor=force
    )


def test_nothing_before_the_warning_a_warning_then_a_termination() -> None:
    assert decide(record(), request(), END - timedelta(minutes=6)).actions == []
    [warn] = decide(record(), request(), END - timedelta(minutes=4)).actions
    assert warn.kind is ActionKind.WARN and "10:00:00" in warn.why
    [end] = decide(record(), request(), END).actions
    assert end.kind is ActionKind.TERMINATE and end.mode is Mode.ENFORCE
    assert end.action_id == decide(record(), request(), END + timedelta(minutes=3)).actions[0].action_id


def test_a_revocation_terminates_at_once_whatever_the_window() -> None:
    [action] = decide(record(), request(AccessStatus.REVOKED), END - timedelta(hours=1)).actions
    assert action.kind is ActionKind.TERMINATE and "revoked by arn:bob" in action.why


def test_an_ambiguous_join_only_alerts() -> None:
    [action] = decide(record(access_join={"ambiguous": True}), request(), END).actions
    assert action.kind is ActionKind.ALERT and "not certain" in action.why


def test_monitor_and_off() -> None:
    monitor = POLICY.replace("require_jit: true}", "require_jit: true, jit_window: monitor}")
    [action] = decide(record(), request(), END, policy=monitor).actions
    assert action.mode is Mode.MONITOR
    off = POLICY.replace("require_jit: true}", "require_jit: true, jit_window: 'off'}")
    assert decide(record(), request(), END, policy=off).actions == []
    assert decide(record(), request(), END, force=True).actions[0].mode is Mode.MONITOR


def test_an_exemption_suppresses_and_an_extension_postpones() -> None:
    exempt = decide(record("arn:aws:sts::123456789012:assumed-role/Oncall/carol"), request(), END)
    assert exempt.actions == [] and exempt.audit[0].outcome.startswith("exempt until")
    extended = record(extensions=[{"until": "2026-11-28T10:30:00Z", "by": "slack:U1"}])
    assert decide(extended, request(), END + timedelta(minutes=1)).actions == []


def test_require_jit_spares_jit_sessions_only() -> None:
    loaded = load_policy_text(POLICY)
    settings = effective_settings(loaded.policy, SessionFacts())
    standard = SessionRecord(
        session_id="s-2",
        account="123456789012",
        region="us-east-1",
        principal=Principal(arn="arn:aws:sts::1:assumed-role/Admin/bob"),
    )
    ref = SessionRef(session_id="s-2", account="123456789012", region="us-east-1")
    [alert] = check_require_jit(
        record=standard, session=ref, settings=settings, policy=loaded, now=END
    ).actions
    assert alert.rule_or_limit == "require_jit" and alert.kind is ActionKind.ALERT
    assert (
        check_require_jit(
            record=standard, session=ref, settings=settings, policy=loaded, now=END, access_type="JustInTime"
        ).actions
        == []
    )
    assert (
        check_require_jit(record=record(), session=ref, settings=settings, policy=loaded, now=END).actions
        == []
    )


def test_one_finding_per_session_and_rule_whatever_the_action() -> None:
    warn = decide(record(), request(), END - timedelta(minutes=4)).actions[0]
    end = decide(record(), request(), END).actions[0]
    assert finding_id(warn) == finding_id(end)
    finding = to_asff(end, "terminated", now=END)
    assert finding is not None and finding["Workflow"]["Status"] == "RESOLVED"
    assert finding["Severity"]["Label"] == "HIGH" and finding["Resources"][0]["Type"] == "Other"

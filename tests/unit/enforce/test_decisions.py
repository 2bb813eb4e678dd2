"""Pure enforcement decisions: findings, limits, start checks and tamper signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ssm_warden.enforce.decide import decide_findings
from ssm_warden.enforce.limits import check_limits, check_logging_gap, deadlines
from ssm_warden.enforce.session_ref import session_facts, session_ref
from ssm_warden.enforce.start_checks import check_start, interactive_command
from ssm_warden.enforce.tamper import describe_tamper
from ssm_warden.models.actions import ActionKind, Mode
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.models.session import Principal, SessionRecord, SessionState
from ssm_warden.policy.evaluate import effective_settings
from ssm_warden.policy.loader import default_policy, load_policy_text

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
POLICY = default_policy()


def record(env: str = "dev", document: str = "SSM-SessionManagerRunShell", **extra: object) -> SessionRecord:
    values: dict[str, object] = {
        "session_id": "alice-0123456789abcdef0",
        "account": "123456789012",
        "region": "us-east-1",
        "state": SessionState.ACTIVE,
        "principal": Principal(arn="arn:aws:sts::123456789012:assumed-role/Admin/alice"),
        "target_id": "i-1",
        "target_tags": {"Environment": env},
        "document_name": document,
        "started_at": T0,
    }
    values.update(extra)
    return SessionRecord.model_validate(values)


def limits(rec: SessionRecord, now: datetime, force_monitor: bool = False, policy=POLICY):  # type: ignore[no-untyped-def]
    settings = effective_settings(policy.policy, session_facts(rec))
    return check_limits(
        record=rec,
        session=session_ref(rec),
        settings=settings,
        policy=policy,
        now=now,
        force_monitor=force_monitor,
    )


def finding(severity: Severity, rule: str = "x.rule") -> Finding:
    return Finding(rule=rule, title="t", severity=severity, category="c", reason="r", command="cmd")


def test_one_action_per_command_carrying_every_finding_worst_first() -> None:
    rec = record("prod")
    settings = effective_settings(POLICY.policy, session_facts(rec))
    out = decide_findings(
        session=session_ref(rec),
        findings=[finding(Severity.MEDIUM, "a"), finding(Severity.HIGH, "b")],
        settings=settings,
        policy=POLICY,
        now=T0,
        source_id="e1",
    )
    assert [(a.kind, a.rule_or_limit) for a in out.actions] == [(ActionKind.TERMINATE, "b")]
    assert [f.rule for f in out.actions[0].findings] == ["b", "a"]
    assert len(out.audit) == 2


def test_observed_findings_make_no_action_but_an_audit_record() -> None:
    rec = record("dev")
    settings = effective_settings(POLICY.policy, session_facts(rec))
    out = decide_findings(
        session=session_ref(rec),
        findings=[finding(Severity.LOW)],
        settings=settings,
        policy=POLICY,
        now=T0,
        source_id="e1",
    )
    assert out.actions == []
    assert [r.outcome for r in out.audit] == ["observed"]


def test_force_monitor_turns_terminations_into_would_terminate() -> None:
    rec = record("prod")
    settings = effective_settings(POLICY.policy, session_facts(rec))
    out = decide_findings(
        session=session_ref(rec),
        findings=[finding(Severity.CRITICAL)],
        settings=settings,
        policy=POLICY,
        now=T0,
        source_id="e1",
        force_monitor=True,
    )
    assert out.actions[0].mode is Mode.MONITOR and out.actions[0].would_terminate


def test_idle_deadline_counts_from_the_last_output_and_extensions_postpone_it() -> None:
    rec = record("dev", last_output_at=T0 + timedelta(minutes=10))
    settings = effective_settings(POLICY.policy, session_facts(rec))
    idle = {d.limit: d.at for d in deadlines(rec, settings)}["idle_minutes"]
    assert idle == T0 + timedelta(minutes=40)
    extended = rec.model_copy(update={"extensions": [{"until": "2026-11-28T11:00:00Z", "by": "U1"}]})
    assert {d.limit: d.at for d in deadlines(extended, settings)}["idle_minutes"] == T0 + timedelta(hours=2)


def test_warning_then_termination_and_markers_stop_repeats() -> None:
    rec = record("dev", last_output_at=T0)
    warn = limits(rec, T0 + timedelta(minutes=26)).actions
    assert [a.kind for a in warn] == [ActionKind.WARN]
    warned = rec.model_copy(update={"warned": [f"warn:{warn[0].action_id}"]})
    assert limits(warned, T0 + timedelta(minutes=27)).actions == []
    over = limits(warned, T0 + timedelta(minutes=31)).actions
    assert [a.kind for a in over] == [ActionKind.TERMINATE]
    assert over[0].action_id == limits(warned, T0 + timedelta(minutes=45)).actions[0].action_id


def test_non_streaming_documents_get_only_the_duration_limit() -> None:
    rec = record("dev", document="AWS-StartSSHSession")
    assert limits(rec, T0 + timedelta(hours=3)).actions == []
    assert [a.rule_or_limit for a in limits(rec, T0 + timedelta(hours=8, minutes=1)).actions] == [
        "max_minutes"
    ]


def test_a_scope_without_idle_limit_never_idles_out() -> None:
    policy = load_policy_text("version: 1\ndefaults:\n  idle_minutes: null\n  max_minutes: 60\n")
    assert limits(record(), T0 + timedelta(minutes=50), policy=policy).actions == []


def test_logging_gap_only_for_silent_shell_sessions_after_the_grace() -> None:
    rec = record("dev")
    settings = effective_settings(POLICY.policy, session_facts(rec))

    def gap(r: SessionRecord, minutes: int) -> list[str]:
        out = check_logging_gap(
            record=r,
            session=session_ref(r),
            settings=settings,
            policy=POLICY,
            now=T0 + timedelta(minutes=minutes),
        )
        return [a.rule_or_limit for a in out.actions]

    assert gap(rec, 2) == []
    assert gap(rec, 4) == ["logging_gap"]
    assert gap(rec.model_copy(update={"last_output_at": T0}), 4) == []
    assert gap(record("dev", document="AWS-StartPortForwardingSession"), 4) == []


@pytest.mark.parametrize(
    ("document", "parameters", "expected"),
    [
        ("AWS-StartInteractiveCommand", {"command": ["sudo cat /etc/shadow"]}, "sudo cat /etc/shadow"),
        ("AWS-StartNonInteractiveCommand", {"command": "id"}, "id"),
        ("SSM-SessionManagerRunShell", {"command": ["id"]}, None),
    ],
)
def test_interactive_command_is_read_from_the_parameters(
    document: str, parameters: dict[str, object], expected: str | None
) -> None:
    assert interactive_command(document, parameters) == expected


def test_start_checks_in_prod() -> None:
    rec = record("prod", document="AWS-StartPortForwardingSessionToRemoteHost")
    settings = effective_settings(POLICY.policy, session_facts(rec))
    ref = session_ref(rec)
    others = [record("prod", session_id=f"s{n}", started_at=T0 - timedelta(minutes=2 - n)) for n in range(2)]
    out = check_start(
        session=ref,
        parameters={},
        settings=settings,
        policy=POLICY,
        now=T0,
        command_findings=[],
        open_for_principal=others,
        open_for_target=[],
    )
    assert sorted((a.rule_or_limit, a.kind.value) for a in out.actions) == [
        ("concurrency", "terminate"),
        ("document_not_allowed", "terminate"),
        ("missing_reason", "alert"),
    ]
    # the oldest sessions within the limit are left alone
    first = check_start(
        session=session_ref(others[0]),
        parameters={},
        settings=settings,
        policy=POLICY,
        now=T0,
        command_findings=[],
        open_for_principal=[*others, rec],
        open_for_target=[],
    )
    # the oldest sessions within the limit are left alone: a late event of an older session acts on
    # the newest one, whatever order the events arrive in
    assert [a.session.session_id for a in first.actions if a.rule_or_limit == "concurrency"] == [  # type: ignore[union-attr]
        rec.session_id
    ]


def _detail(source: str, name: str, params: dict[str, object], error: str | None = None) -> CloudTrailDetail:
    return CloudTrailDetail.model_validate(
        {
            "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/eve"},
            "eventTime": "2026-11-28T09:00:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "eventID": "e",
            "requestParameters": params,
            "errorCode": error,
        }
    )


def test_tamper_signals_are_narrowed_to_what_matters() -> None:
    off = _detail(
        "ssm.amazonaws.com",
        "UpdateDocument",
        {
            "name": "SSM-SessionManagerRunShell",
            "content": '{"inputs": {"cloudWatchStreamingEnabled": false}}',
        },
    )
    assert describe_tamper(off, "/aws/ssm/sessions")[2] is Severity.CRITICAL  # type: ignore[index]
    assert (
        describe_tamper(_detail("ssm.amazonaws.com", "UpdateDocument", {"name": "MyRunbook"}), "/g") is None
    )
    assert (
        describe_tamper(_detail("logs.amazonaws.com", "DeleteLogGroup", {"logGroupName": "/other"}), "/g")
        is None
    )
    refused = _detail("cloudtrail.amazonaws.com", "StopLogging", {"name": "t"}, error="AccessDenied")
    assert describe_tamper(refused, "/g") is None

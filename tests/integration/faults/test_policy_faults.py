"""The policy parameter deleted, unreadable or invalid: every function keeps watching under the last
valid policy (or the bundled one), and people hear about it once, as a critical alert."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.session_sweeper import app as sweeper_app
from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.policy import store
from ssm_warden_local.aws_faults import ClientFaults
from ssm_warden_local.lambda_runtime import LambdaContext
from ssm_warden_local.slack_sink import SinkMessage
from tests.integration.faults.conftest import PROMPT, RISKY, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]
PARAMETER = "/warden/policy"
# Distinct from the bundled policy: every dev session must give a reason (the bundled dev scope does
# not ask), so an alert about a missing reason on a dev host says which policy is in force.
STRICT = """\
version: 1
defaults:
  require_reason: true
  channel: "#ssm-warden"
scopes:
  - name: dev
    match: {tags: {Environment: dev}}
    require_reason: true
"""
MISSING_REASON = "Session started without a reason"


@pytest.fixture
def policy_parameter(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("POLICY_PARAMETER", PARAMETER)
    reset_settings()
    return PARAMETER


def put_policy(text: str) -> None:
    aws_client("ssm").put_parameter(Name=PARAMETER, Value=text, Type="String", Overwrite=True)


def policy_alerts_queued(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Titles of the policy alerts the functions queue from now on."""
    from ssm_warden.enforce.sink import QueueSink

    queued: list[str] = []
    original = QueueSink.submit

    def submit(self: QueueSink, actions: list[Any]) -> Any:
        queued.extend(a.title for a in actions if a.rule_or_limit.startswith(("policy", "tamper.policy")))
        return original(self, actions)

    monkeypatch.setattr(QueueSink, "submit", submit)
    return queued


def forget_alerted_incidents() -> None:
    store._alerted.clear()


def sweep() -> dict[str, object]:
    result: dict[str, object] = sweeper_app.lambda_handler({}, LambdaContext(function_name="session-sweeper"))
    return result


def policy_alerts(pipeline: Pipeline, title: str) -> list[SinkMessage]:
    return [m for m in pipeline.sink.live() if title in (m.text or "")]


def still_watching(pipeline: Pipeline) -> tuple[bool, bool]:
    """(a dev session without a reason was alerted on, a risky command on prod was acted on)."""
    dev = pipeline.start("dev", reason=None)
    prod = pipeline.start("prod")
    watched = pipeline.watch(pipeline.log_payload(prod, [f"{PROMPT}{RISKY}"]))
    pipeline.drain()
    missing = [m for m in pipeline.alerts(MISSING_REASON) if dev in (m.text or "") or m.thread_ts]
    return bool(missing), watched.get("actions") == 1


def test_policy_parameter_deleted_keeps_the_last_valid_policy_and_alerts_once_as_tamper(
    pipeline: Pipeline, policy_parameter: str, fault_row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = fault_row("policy parameter deleted", "DeleteParameter after one valid read")
    # Given a valid policy read once
    put_policy(STRICT)
    pipeline.start("prod")
    # When the parameter is deleted, sessions start, commands are typed, the sweeper runs twice
    aws_client("ssm").delete_parameter(Name=PARAMETER)
    strict_in_force, judged = still_watching(pipeline)
    queued = policy_alerts_queued(monkeypatch)
    sweep()
    forget_alerted_incidents()  # a new sweeper container: the incident is remembered in the table
    sweep()
    pipeline.drain()
    # Then nothing failed, the deleted policy is still in force, one critical tamper alert
    alerts = policy_alerts(pipeline, "policy parameter is gone")
    row.observe(delivered=strict_in_force and judged and len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    assert strict_in_force and judged
    assert len(alerts) == 1
    assert "CRITICAL" in (alerts[0].text or "")
    assert pipeline.dead_lettered() == 0
    assert len(queued) == 1  # the second sweep queued no second alert


def test_policy_invalid_keeps_the_last_valid_policy_and_alerts_once_with_the_line(
    pipeline: Pipeline, policy_parameter: str, fault_row: Row
) -> None:
    row = fault_row("policy invalid", "idle_minutes: 20 digits, put over a valid policy")
    put_policy(STRICT)
    pipeline.start("prod")
    # When a 20-digit idle_minutes is put (it once made every sweep raise OverflowError)
    put_policy(
        STRICT.replace("require_reason: true\n  channel", "idle_minutes: 99999999999999999999\n  channel")
    )
    strict_in_force, judged = still_watching(pipeline)
    first, second = sweep(), sweep()
    pipeline.drain()
    alerts = policy_alerts(pipeline, "policy is invalid")
    row.observe(delivered=strict_in_force and judged and len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    assert strict_in_force and judged
    assert first["complete"] and second["complete"]
    assert len(alerts) == 1
    text = " ".join(str(b) for b in alerts[0].blocks)
    assert "defaults.idle_minutes" in text and ":3:" in text


def test_policy_unreadable_with_no_valid_one_yet_uses_the_bundled_policy(
    pipeline: Pipeline, policy_parameter: str, fault_row: Row
) -> None:
    row = fault_row("policy unreadable", "GetParameter AccessDeniedException on every call, cold start")
    # Given a policy the functions' role may not read (no valid policy was ever read)
    put_policy(STRICT)
    faults = ClientFaults(aws_client("ssm"))
    faults.inject("GetParameter", ["AccessDeniedException"] * 500)
    try:
        # When sessions start and commands are typed
        strict_in_force, judged = still_watching(pipeline)
        sweep()
        pipeline.drain()
    finally:
        faults.remove()
    alerts = policy_alerts(pipeline, "policy cannot be read")
    row.observe(delivered=judged and len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    # Then the bundled policy judges (the dev scope there asks no reason), one critical alert
    assert judged
    assert not strict_in_force
    assert len(alerts) == 1
    assert "AccessDenied" in " ".join(str(b) for b in alerts[0].blocks)
    # and the functions asked SSM about once a minute, not once per event
    assert faults.injected["GetParameter"] <= 3

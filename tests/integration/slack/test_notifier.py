"""The notifier against the local Slack sink, with its secret, threads and counters in moto."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden.errors import TransientError
from ssm_warden.ledger.keys import session_key
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.actions import ActionKind
from ssm_warden.slack.messages import SessionSummary
from ssm_warden.slack.notifier import SlackNotifier, default_notifier
from ssm_warden.slack.threads import DynamoThreadStore, ThreadRef
from ssm_warden.slack.transport import BotTransport, SlackDeliveryError
from ssm_warden_local.slack_sink import SlackSink
from tests.unit.slack.factories import ACCOUNT, NOW, REGION, SESSION_ID, action, finding, session_ref

SecretMaker = Callable[..., dict[str, Any]]


def _session_item() -> dict[str, Any]:
    item = aws_client("dynamodb").get_item(
        TableName=get_settings().sessions_table,
        Key={"pk": {"S": session_key(ACCOUNT, REGION, SESSION_ID)}},
        ConsistentRead=True,
    )
    return dict(item.get("Item") or {})


def test_a_session_thread_from_first_alert_to_summary(sink: SlackSink, slack_secret: SecretMaker) -> None:
    # Given a bot token in the Slack secret
    slack_secret("bot")
    notifier = default_notifier()
    # When a session has a finding, then a second one, then is terminated, then ends
    first = notifier.deliver(action(rule="a.recon", title="Reconnaissance"), "alert_only")
    second = notifier.deliver(action(rule="b.download", title="Download and run"), "alert_only")
    ended = notifier.deliver(action(kind=ActionKind.TERMINATE, rule="b.download", salt="t"), "terminated")
    summary = SessionSummary(
        started_at=NOW - timedelta(minutes=62),
        ended_at=NOW,
        commands_seen=40,
        findings=2,
        ended_by="ssm-warden",
    )
    notifier.session_ended(session_ref(), summary)

    # Then the channel has one message, the session's root, and the rest is in its thread
    (root,) = sink.top_level("#ssm-warden")
    thread = sink.replies(root.ts)
    assert [m.ts for m in thread[:3]] == [first.ts, second.ts, ended.ts]
    assert "Reconnaissance" in root.all_text()
    # the termination was also sent to the channel, and the root was updated twice (terminated, summary)
    assert thread[2].reply_broadcast
    assert len(root.history) == 2
    assert "terminated by ssm-warden" in root.all_text() and "duration 1h 02m" in root.all_text()
    assert "assumed-role/Admin/alice" in root.all_text() and "`team=payments`" in root.all_text()
    assert "40 commands seen" in thread[3].all_text()
    # and the thread is recorded on the session's ledger item
    item = _session_item()
    assert item["slack_channel"]["S"] == "C0SSMWARDEN" and item["slack_thread_ts"]["S"] == root.ts


def test_with_a_webhook_each_alert_stands_alone(sink: SlackSink, slack_secret: SecretMaker) -> None:
    slack_secret("webhook")
    result = default_notifier().deliver(action(), "would_terminate")
    (message,) = sink.live()
    assert message.via == "webhook" and result.posted and result.ts is None
    assert "Would terminate" in message.all_text()
    assert "assumed-role/Admin/alice" in message.all_text()


def test_repeats_fold_into_one_message_using_counters_in_dynamodb(
    sink: SlackSink, slack_secret: SecretMaker
) -> None:
    slack_secret("bot")
    results = [default_notifier().deliver(action(salt=str(i)), "alert_only") for i in range(4)]
    (root,) = sink.top_level()
    (alert,) = sink.replies(root.ts)
    assert [r.posted for r in results] == [True, False, False, False]
    assert "\u00d74" in alert.all_text() and len(alert.history) == 3
    # the counters are storm items with a TTL, next to the sessions
    items = aws_client("dynamodb").scan(TableName=get_settings().sessions_table)["Items"]
    storm = [i for i in items if i["pk"]["S"].startswith("storm#")]
    assert storm and all("expires_at" in i for i in storm)


def test_a_429_is_retried_after_retry_after_and_posted_once(
    sink: SlackSink, slack_secret: SecretMaker, waits: list[float]
) -> None:
    # Given Slack rate-limits the next request for 3 seconds
    slack_secret("bot")
    sink.rate_limit_next(1, retry_after=3)
    # When an alert is delivered
    result = default_notifier().deliver(action(), "alert_only")
    # Then the client waited what Slack asked, retried, and the thread exists once
    assert waits == [3.0]
    assert result.posted
    assert [r.status for r in sink.received("/api/chat.postMessage")] == [429, 200, 200]
    assert len(sink.top_level()) == 1 and len(sink.live()) == 2


def test_a_webhook_429_is_retried_too(sink: SlackSink, slack_secret: SecretMaker, waits: list[float]) -> None:
    slack_secret("webhook")
    sink.rate_limit_next(1, retry_after=2)
    assert default_notifier().deliver(action(), "alert_only").posted
    assert waits == [2.0] and len(sink.live()) == 1


def test_a_retry_after_longer_than_the_lambda_can_wait_is_left_to_sqs(
    sink: SlackSink, slack_secret: SecretMaker, waits: list[float]
) -> None:
    slack_secret("bot")
    sink.rate_limit_next(1, retry_after=120)
    with pytest.raises(TransientError):
        default_notifier().deliver(action(), "alert_only")
    assert waits == [] and sink.live() == []


@pytest.mark.parametrize("mode", ["bot", "webhook"])
def test_a_5xx_raises_transient_and_the_redelivery_posts_once(
    sink: SlackSink, slack_secret: SecretMaker, mode: str
) -> None:
    # Given Slack answers 503 once
    slack_secret(mode)
    sink.fail_next(1, status=503)
    # When the action is delivered: it fails so that SQS retries it
    with pytest.raises(TransientError):
        default_notifier().deliver(action(), "alert_only")
    assert sink.live() == []
    # Then the redelivery posts, as a first alert, exactly once
    result = default_notifier().deliver(action(), "alert_only")
    assert result.posted and not result.folded
    alerts = [m for m in sink.live() if "Download piped to a shell" in (m.text or "")]
    assert len(alerts) == 1


@pytest.mark.slow
def test_a_timeout_raises_transient(sink: SlackSink, stack: Any) -> None:
    sink.stall_next(2, seconds=1.5)
    notifier = SlackNotifier(
        BotTransport(sink.bot_token, base_url=sink.api_url, timeout=1), default_channel="#ssm-warden"
    )
    with pytest.raises(TransientError):
        notifier.deliver(action(), "alert_only")


def test_a_bad_token_is_a_permanent_failure_not_a_retry(sink: SlackSink, slack_secret: SecretMaker) -> None:
    slack_secret("bot", bot_token="xoxb-revoked")
    with pytest.raises(SlackDeliveryError) as raised:
        default_notifier().deliver(action(), "alert_only")
    assert not isinstance(raised.value, TransientError)
    assert "xoxb-revoked" not in str(raised.value)


def test_an_unknown_policy_channel_falls_back_to_the_default(
    sink: SlackSink, slack_secret: SecretMaker
) -> None:
    slack_secret("bot")
    default_notifier().deliver(action(channel="#no-such-channel"), "alert_only")
    assert sink.top_level("#ssm-warden")


def test_critical_alerts_can_go_to_their_own_channel(sink: SlackSink, slack_secret: SecretMaker) -> None:
    slack_secret("bot")
    n = default_notifier()
    n.deliver(action(rule="a.low"), "alert_only")
    n.deliver(action(rule="c.crit", channel="#sec-critical"), "alert_only")
    assert len(sink.top_level("#ssm-warden")) == 1 and len(sink.top_level("#sec-critical")) == 1


def test_the_first_thread_writer_wins(stack: Any) -> None:
    store = DynamoThreadStore()
    s = session_ref()
    mine = store.claim(s, ThreadRef("C1", "1.1", "mine", "#a"))
    theirs = store.claim(s, ThreadRef("C2", "2.2", "theirs", "#b"))
    assert mine == theirs == ThreadRef("C1", "1.1", "mine", "#a")
    assert store.get(s) == mine
    # and a thread recorded before the ledger saw the session leaves an item the ledger can read
    record = SessionRepository().get(ACCOUNT, REGION, SESSION_ID)
    assert record is not None and record.session_id == SESSION_ID and record.state is None


def test_the_html_page_shows_messages_with_attacker_text_inert(
    sink: SlackSink, slack_secret: SecretMaker, tmp_path: Path
) -> None:
    slack_secret("bot")
    evil = "<script>alert(1)</script> <!channel> PGPASSWORD=Zq8Lp2Xw9 psql"
    default_notifier().deliver(action(findings=[finding(evil)]), "alert_only")
    page = sink.render_html(tmp_path / "slack.html").read_text()
    assert "Download piped to a shell" in page and "<pre>" in page
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Zq8Lp2Xw9" not in page

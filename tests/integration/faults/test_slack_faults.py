"""Slack down, slow and rate-limiting while the executor carries out a termination.

The session is terminated whatever Slack does (termination comes before telling people); the alert
is posted exactly once when Slack answers again; TerminateSession is called exactly once.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ssm_warden.models.audit import Decision
from ssm_warden.slack.transport import BotTransport
from tests.integration.faults.conftest import (
    PROMPT,
    RISKY,
    RISKY_TITLE,
    FaultRow,
    Pipeline,
    clear_slack_faults,
)

Row = Callable[[str, str], FaultRow]


def risky_prod_session(pipeline: Pipeline) -> str:
    """A prod session whose log shows a download piped into a root shell: one terminate action."""
    session_id = pipeline.start("prod")
    result = pipeline.watch(
        pipeline.log_payload(session_id, [f"{PROMPT}id", "uid=1000"], [f"{PROMPT}{RISKY}"])
    )
    assert result["actions"] == 1
    return session_id


def extra_deliveries(pipeline: Pipeline, session_id: str, alerts: int) -> int:
    return max(alerts - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0)


def test_slack_down_the_session_is_still_terminated_and_the_alert_follows_once_slack_is_back(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("Slack down (5xx)", "HTTP 500 on every Slack call for 3 deliveries")
    # Given a risky prod session, and Slack answering 500 to everything
    session_id = risky_prod_session(pipeline)
    pipeline.sink.fail_next(100, status=500)
    # When the executor works through the queue three times
    report = pipeline.drain(max_rounds=3)
    # Then the session is terminated already, nothing reached Slack, and the request waits for a retry
    assert report.failed >= 3
    assert pipeline.status(session_id) == "Terminated"
    assert pipeline.alerts(RISKY_TITLE) == []
    assert pipeline.queued() >= 1
    # When Slack is back and SQS delivers again
    clear_slack_faults(pipeline.sink)
    pipeline.drain()
    # Then the alert is posted once, TerminateSession was called once, and one termination is audited
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=len(alerts) == 1 and pipeline.queued() == 0,
        duplicates=extra_deliveries(pipeline, session_id, len(alerts)),
    )
    assert len(alerts) == 1 and "terminated" in (alerts[0].text or "")
    assert pipeline.terminate_calls(session_id) == 1
    assert len(pipeline.audit(session_id, Decision.TERMINATION)) == 1
    assert pipeline.dead_lettered() == 0


def test_slack_slow_the_call_times_out_and_the_redelivery_posts_once(
    pipeline: Pipeline, fault_row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = fault_row("Slack slow (timeout)", "no answer for 1.5 s, client timeout 1 s, twice")
    # Given a Slack client that gives up after 1 s, and Slack stalling the next two requests
    defaults = BotTransport.__init__.__kwdefaults__
    assert defaults is not None
    monkeypatch.setitem(defaults, "timeout", 1)
    session_id = risky_prod_session(pipeline)
    pipeline.sink.stall_next(2, seconds=1.5)
    # When the executor works through the queue
    report = pipeline.drain()
    # Then the first delivery timed out (the SQS message came back), the next one posted, once
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=len(alerts) == 1 and report.failed >= 1,
        duplicates=extra_deliveries(pipeline, session_id, len(alerts)),
    )
    assert report.failed >= 1
    assert [r.status for r in pipeline.sink.received("/api/chat.postMessage")][:2] == [504, 504]
    assert len(alerts) == 1
    assert pipeline.terminate_calls(session_id) == 1


@pytest.mark.parametrize(
    ("retry_after", "waited", "fault"),
    [
        (2, [2.0], "Slack 429, short Retry-After"),
        (120, [], "Slack 429, long Retry-After"),
    ],
)
def test_slack_rate_limiting_is_waited_out_or_left_to_sqs_and_posts_once(
    pipeline: Pipeline,
    fault_row: Row,
    slack_waits: list[float],
    retry_after: int,
    waited: list[float],
    fault: str,
) -> None:
    row = fault_row(fault, f"HTTP 429 Retry-After: {retry_after} on the next call")
    # Given a risky prod session and Slack rate-limiting the next request
    session_id = risky_prod_session(pipeline)
    pipeline.sink.rate_limit_next(1, retry_after=retry_after)
    # When the executor works through the queue
    report = pipeline.drain()
    # Then a short wait is taken inside the invocation; a long one is left to SQS's redelivery
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(delivered=len(alerts) == 1, duplicates=extra_deliveries(pipeline, session_id, len(alerts)))
    assert slack_waits == waited
    assert report.failed == (0 if waited else 1)
    assert len(alerts) == 1
    assert pipeline.terminate_calls(session_id) == 1
    assert pipeline.status(session_id) == "Terminated"

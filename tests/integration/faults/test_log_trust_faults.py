"""Hostile session logs through the whole pipeline (command monitor → queue → executor → Slack):
what any host that can write to the session-log group can do (aws-facts §7), and what comes of it.

The "delivered" column says whether the outcome a person relies on happened (the victim lives and
the tamper alert reached Slack; the late batch was judged; ...), "duplicates" counts alerts or
terminations that happened more than once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.clock import clock_set_to
from ssm_warden.config import reset_settings
from ssm_warden.slack.messages import ACTION_TERMINATE
from ssm_warden.slack.notifier import reset_notifier
from ssm_warden.slack.secret import reset_secret_cache
from ssm_warden_local.slack_sink import SinkMessage
from tests.conftest import ACCOUNT
from tests.integration.faults.conftest import PROMPT, RISKY, RISKY_TITLE, SECRET_NAME, FaultRow, Pipeline
from tests.unit.logs.builders import FIRST_ID, T0_MS, payload, streamed

Row = Callable[[str, str], FaultRow]
DEV_USER = f"arn:aws:sts::{ACCOUNT}:assumed-role/Developer/dana"
ARRIVAL = datetime.fromtimestamp(T0_MS / 1000, UTC) + timedelta(seconds=30)
FORGED_TITLE = "Forged session-log event refused"


@pytest.fixture(autouse=True)
def _arrival() -> Iterator[None]:
    """Batches arrive 30 s after the builders' first event time (the command monitor's clock)."""
    with clock_set_to(lambda: ARRIVAL):
        yield


def event(
    n: int, lines: list[str], session_id: str, *, target: str, principal: str | None = None, ms: int = T0_MS
) -> dict[str, Any]:
    kwargs = {"target": target} | ({"principal": principal} if principal else {})
    return {"id": str(FIRST_ID + n), "timestamp": ms, "message": streamed(lines, session_id, **kwargs)}


def posted(pipeline: Pipeline, text: str) -> list[SinkMessage]:
    return [m for m in pipeline.sink.live() if text.lower() in m.all_text().lower()]


def has_terminate_button(message: SinkMessage) -> bool:
    return any(
        element.get("action_id") == ACTION_TERMINATE
        for block in message.blocks
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    )


@pytest.fixture(autouse=True)
def _buttons(pipeline: Pipeline) -> None:
    """A Slack app with a signing secret: alerts about sessions carry buttons (so their absence on
    alerts about what a log claims is a decision, not a missing secret)."""
    secret = {
        "bot_token": pipeline.sink.bot_token,
        "default_channel": "#ssm-warden",
        "signing_secret": "s3cr3t",
    }
    aws_client("secretsmanager").put_secret_value(SecretId=SECRET_NAME, SecretString=json.dumps(secret))
    reset_secret_cache()
    reset_notifier()


def test_a_forged_event_from_another_host(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row(
        "Forged log event from another host", "dev host writes curl | bash into a prod admin's stream"
    )
    victim = pipeline.start("prod")
    dev_host = pipeline.instance(Environment="dev")
    forged = event(0, [f"sh-4.2$ {RISKY}"], victim, target=dev_host, principal=DEV_USER)
    result = pipeline.watch(payload([forged], stream=victim))
    pipeline.drain()
    alerts = posted(pipeline, FORGED_TITLE)
    row.observe(
        delivered=pipeline.status(victim) == "Connected" and len(alerts) == 1,
        duplicates=max(len(alerts) - 1, 0) + pipeline.terminate_calls(victim),
        isolated="victim unjudged" if not posted(pipeline, RISKY_TITLE) else "NO",
    )
    assert result["forged_events"] == 1
    assert pipeline.status(victim) == "Connected" and pipeline.terminate_calls(victim) == 0
    assert len(alerts) == 1 and alerts[0].thread_ts is None
    assert not has_terminate_button(alerts[0])
    assert posted(pipeline, RISKY_TITLE) == []


def test_a_made_up_stream(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row("Made-up log stream", "stream for a session nobody started, claiming OrgAdmin")
    fake = "OrgAdmin-0a1b2c3d4e5f60718"
    admin = f"arn:aws:sts::{ACCOUNT}:assumed-role/OrgAdmin/boss"
    line = event(0, [f"sh-4.2$ {RISKY}"], fake, target="i-0123456789abcdef0", principal=admin)
    pipeline.watch(payload([line], stream=fake))
    pipeline.drain()
    alerts = posted(pipeline, "Unverified session log")
    row.observe(
        delivered=len(alerts) == 1 and not any(has_terminate_button(m) for m in alerts),
        duplicates=max(len(alerts) - 1, 0),
        isolated="no button, claimed" if alerts and "UNVERIFIED" in alerts[0].all_text() else "NO",
    )
    assert len(alerts) == 1
    assert not has_terminate_button(alerts[0])
    assert "Claimed principal (UNVERIFIED)" in alerts[0].all_text()
    assert pipeline.audit(fake) and all(r.decision.value != "termination" for r in pipeline.audit(fake))


@pytest.mark.parametrize("stream", ["own", "another's"])
def test_a_future_dated_event(pipeline: Pipeline, fault_row: Row, stream: str) -> None:
    row = fault_row(
        f"Future-dated log event ({stream} stream)", "one event dated 2 h ahead, then a risky command"
    )
    session_id = pipeline.start("prod")
    target = pipeline.target_of(session_id)
    two_hours = T0_MS + 2 * 3600 * 1000
    if stream == "own":
        future = event(9, [f"{PROMPT}uptime"], session_id, target=target, ms=two_hours)
    else:
        future = event(
            9, [f"{PROMPT}uptime"], session_id, target=pipeline.instance(), principal=DEV_USER, ms=two_hours
        )
    pipeline.watch(payload([future], stream=session_id))
    later = pipeline.watch(
        payload([event(1, [f"{PROMPT}{RISKY}"], session_id, target=target)], stream=session_id)
    )
    pipeline.drain()
    judged = later["status"] == "processed" and later["commands"] == 1
    row.observe(
        delivered=judged and pipeline.status(session_id) == "Terminated",
        duplicates=max(pipeline.terminate_calls(session_id) - 1, 0),
    )
    assert judged
    assert pipeline.status(session_id) == "Terminated"
    reported = "Future-dated session-log event" if stream == "own" else FORGED_TITLE
    assert len(posted(pipeline, reported)) == 1


def test_an_older_batch_after_a_newer_one(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row(
        "Older log batch after a newer one",
        "batch with event 0 delivered after the one with event 10, then both again",
    )
    session_id = pipeline.start("prod")
    target = pipeline.target_of(session_id)
    older = payload([event(0, [f"{PROMPT}{RISKY}"], session_id, target=target)], stream=session_id)
    newer = payload([event(10, [f"{PROMPT}id", "uid=0"], session_id, target=target)], stream=session_id)
    statuses = [pipeline.watch(b)["status"] for b in (newer, older, older, newer)]
    pipeline.drain()
    alerts = pipeline.alerts(RISKY_TITLE)
    row.observe(
        delivered=statuses == ["processed", "processed", "duplicate", "duplicate"] and len(alerts) == 1,
        duplicates=max(len(alerts) - 1, 0) + max(pipeline.terminate_calls(session_id) - 1, 0),
    )
    assert statuses == ["processed", "processed", "duplicate", "duplicate"]
    assert len(alerts) == 1 and pipeline.terminate_calls(session_id) == 1


def test_a_foreign_log_group(pipeline: Pipeline, fault_row: Row) -> None:
    row = fault_row("Foreign logGroup", "a matching event for a prod session, from /app/anything")
    session_id = pipeline.start("prod")
    line = event(0, [f"{PROMPT}{RISKY}"], session_id, target=pipeline.target_of(session_id))
    result = pipeline.watch(payload([line], stream=session_id, log_group="/app/anything"))
    pipeline.drain()
    reported = posted(pipeline, "not a session log")
    row.observe(
        delivered=result["status"] == "not_a_session_log" and len(reported) == 1,
        duplicates=pipeline.terminate_calls(session_id),
        isolated="judged against no one" if pipeline.status(session_id) == "Connected" else "NO",
    )
    assert result["status"] == "not_a_session_log"
    assert pipeline.status(session_id) == "Connected" and len(reported) == 1


def test_mass_forging_beyond_the_cap(
    pipeline: Pipeline, fault_row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    row = fault_row(
        "Mass forging beyond the termination cap",
        "believable forgeries (exact ids) into 5 dev streams (critical: terminate) in a minute, cap 3",
    )
    monkeypatch.setenv("LOG_TERMINATIONS_PER_MINUTE", "3")
    reset_settings()
    sessions = [pipeline.start("dev") for _ in range(5)]
    for session_id in sessions:
        line = event(0, [f"{PROMPT}{RISKY}"], session_id, target=pipeline.target_of(session_id))
        pipeline.watch(payload([line], stream=session_id))
    pipeline.drain()
    ended = [s for s in sessions if pipeline.status(s) == "Terminated"]
    held = posted(pipeline, "Not terminated automatically")
    row.observe(
        delivered=len(ended) == 3 and len(held) == 2 and all(has_terminate_button(m) for m in held),
        duplicates=sum(max(pipeline.terminate_calls(s) - 1, 0) for s in sessions),
        isolated=f"{len(ended)} terminated, {len(held)} held for a person",
    )
    assert len(ended) == 3
    assert len(held) == 2 and all(has_terminate_button(m) for m in held)

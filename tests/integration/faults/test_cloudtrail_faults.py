"""CloudTrail's at-least-once, best-effort delivery: duplicate, late and out-of-order session events.

Whatever the order, the ledger ends in the state the service is in, each start-time check is alerted
once, and nothing ssm-warden did itself comes back as a second alert or summary.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime

from ssm_warden.clients import aws_client
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.enforce.sweeper import sweep
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.session import SessionState
from ssm_warden.policy.store import current_policy
from ssm_warden_local import moto_sessions
from tests.conftest import ACCOUNT, REGION, load_event
from tests.integration.faults.conftest import PROMPT, RISKY, FaultRow, Pipeline

Row = Callable[[str, str], FaultRow]
NO_REASON = "Session started without a reason"
NOT_ALLOWED = "Session document not allowed"


def ledger(session_id: str):  # type: ignore[no-untyped-def]
    record = SessionRepository().get(ACCOUNT, REGION, session_id)
    assert record is not None
    return record


def test_a_start_session_event_delivered_three_times_is_applied_and_alerted_once(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row("CloudTrail duplicate StartSession", "the same event (same eventID) delivered 3 times")
    # Given a prod session started without a reason, its event delivered three times
    session_id = pipeline.open_session(pipeline.instance(Environment="prod"))
    event = pipeline.start_event(session_id, reason=None)
    statuses = [pipeline.deliver(copy.deepcopy(event))["status"] for _ in range(3)]
    pipeline.drain()
    # Then it was applied once and the missing reason alerted once
    alerts = pipeline.alerts(NO_REASON)
    row.observe(delivered=len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    assert statuses == ["applied", "duplicate", "duplicate"]
    assert ledger(session_id).version == 1
    assert len(alerts) == 1


def test_terminate_before_start_and_a_late_resume_leave_the_session_closed_and_still_alert_the_start(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "CloudTrail out of order",
        "TerminateSession, then StartSession (port forwarding into prod), then ResumeSession",
    )
    # Given a port-forwarding session into prod that its user ended before ssm-warden heard of it
    session_id = pipeline.open_session(pipeline.instance(Environment="prod"))
    aws_client("ssm").terminate_session(SessionId=session_id)
    calls_before = pipeline.terminate_calls(session_id)
    # When its events arrive out of order: the end first, then the start, then a reconnect
    end = pipeline.deliver(pipeline.terminate_event(session_id, at="2024-01-04T05:50:00Z"))
    start = pipeline.deliver(
        pipeline.start_event(session_id, document="AWS-StartPortForwardingSession", at="2024-01-04T05:40:00Z")
    )
    resume = pipeline.deliver(pipeline.resume_event(session_id, at="2024-01-04T05:45:00Z"))
    pipeline.drain()
    # Then the ledger has the session closed with the start's facts filled in, nothing reopened it,
    # ssm-warden did not try to terminate a session that was over, and the policy breach (a document
    # prod does not allow) was still alerted, once
    record = ledger(session_id)
    alerts = pipeline.alerts(NOT_ALLOWED)
    row.observe(delivered=len(alerts) == 1, duplicates=max(len(alerts) - 1, 0))
    assert [end["status"], start["status"], resume["status"]] == [
        "applied",
        "applied_to_closed",
        "applied_to_closed",
    ]
    assert record.state is SessionState.TERMINATED
    assert record.document_name == "AWS-StartPortForwardingSession"
    assert record.target_tags == {"Environment": "prod"}
    assert pipeline.terminate_calls(session_id) == calls_before
    assert len(alerts) == 1 and "already ended" in (alerts[0].text or "") + "".join(
        str(b) for b in alerts[0].blocks
    )


def test_a_start_session_event_arriving_after_reconciliation_found_the_session_is_checked_once(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "CloudTrail late StartSession", "event arrives after the sweeper discovered the session, then again"
    )
    # Given a prod session (no reason given) whose StartSession event is late: the sweeper finds it
    session_id = pipeline.open_session(pipeline.instance(Environment="prod"))
    now = datetime.now(UTC)

    def run_sweeper() -> int:
        return sweep(
            now=now,
            account=ACCOUNT,
            region=REGION,
            policy_state=current_policy(),
            sink=QueueSink(),
            time_left=lambda: 60.0,
        ).discovered

    discovered = run_sweeper()
    assert ledger(session_id).discovered
    # When the event arrives, twice, and the sweeper runs again
    event = pipeline.start_event(session_id, reason=None)
    statuses = [pipeline.deliver(copy.deepcopy(event))["status"] for _ in range(2)]
    discovered += run_sweeper()
    pipeline.drain()
    # Then the session was discovered once, the start-time check ran once: one alert
    alerts = pipeline.alerts(NO_REASON)
    row.observe(delivered=len(alerts) == 1, duplicates=max(len(alerts) - 1, 0) + max(discovered - 1, 0))
    assert discovered == 1
    assert statuses == ["applied", "duplicate"]
    assert ledger(session_id).reason is None and ledger(session_id).state is SessionState.ACTIVE
    assert len(alerts) == 1


def test_ssm_wardens_own_terminate_session_event_arriving_late_posts_no_second_summary(
    pipeline: Pipeline, fault_row: Row
) -> None:
    row = fault_row(
        "CloudTrail late TerminateSession (ssm-warden's own)",
        "the executor's own call comes back as an event",
    )
    # Given a session ssm-warden terminated (alert and end-of-session summary posted)
    session_id = pipeline.start("prod")
    pipeline.watch(pipeline.log_payload(session_id, [f"{PROMPT}{RISKY}"]))
    pipeline.drain()
    summaries = [m for m in pipeline.sink.live() if m.thread_ts and " ended:" in (m.text or "")]
    assert len(summaries) == 1
    # When CloudTrail delivers ssm-warden's own TerminateSession call, twice
    event = copy.deepcopy(load_event("terminate_session_by_warden.json"))
    event["detail"]["requestParameters"] = {"sessionId": session_id}
    event["detail"]["responseElements"] = {"sessionId": session_id}
    first = pipeline.deliver(copy.deepcopy(event))
    second = pipeline.deliver(copy.deepcopy(event))
    pipeline.drain()
    # Then the ledger keeps "terminated by ssm-warden" and no second summary or alert is posted
    summaries = [m for m in pipeline.sink.live() if m.thread_ts and " ended:" in (m.text or "")]
    row.observe(delivered=len(summaries) == 1, duplicates=max(len(summaries) - 1, 0))
    assert (first["status"], second["status"]) == ("applied", "duplicate")
    assert ledger(session_id).ended_by == "ssm-warden"
    assert len(summaries) == 1
    assert moto_sessions.get_session(ACCOUNT, REGION, session_id).terminate_calls == 1  # type: ignore[union-attr]

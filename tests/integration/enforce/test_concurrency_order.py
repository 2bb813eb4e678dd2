"""Per-principal concurrency limits hold whatever order CloudTrail delivers StartSession in, and the
sweeper acts on what the start-time check could not see (events processed side by side)."""

from __future__ import annotations

from ssm_warden.ledger.service import parse_session_event, record_session_event
from tests.integration.enforce.conftest import Warden, at


def test_events_in_descending_session_id_order_still_act_on_the_newest(warden: Warden) -> None:
    # Given prod allows 2 open sessions per principal, three start in the same second
    host = warden.instance(Environment="prod")
    ids = sorted(warden.start(host, record=False) for _ in range(3))
    # When CloudTrail delivers their events newest (by session id) first
    for session_id in reversed(ids):
        warden.deliver(warden.start_event(session_id, host, reason="INC-1", at="2026-11-28T09:00:00Z"))
    warden.run_executor()
    # Then exactly one session is acted on: the newest in start order
    assert warden.outcomes() == [("concurrency", "terminated")]
    assert [warden.status_at_aws(s) for s in ids] == ["Connected", "Connected", "Terminated"]


def test_a_late_event_of_an_older_session_acts_on_the_newer_one(warden: Warden) -> None:
    host = warden.instance(Environment="prod")
    ids = [warden.start(host, record=False) for _ in range(3)]
    times = ["2026-11-28T09:00:01Z", "2026-11-28T09:00:02Z", "2026-11-28T09:00:03Z"]
    # When the newest session's event comes first and the oldest's last
    for session_id, when in reversed(list(zip(ids, times, strict=True))):
        warden.deliver(warden.start_event(session_id, host, reason="INC-1", at=when))
    warden.run_executor()
    assert warden.outcomes() == [("concurrency", "terminated")]
    assert [warden.status_at_aws(s) for s in ids] == ["Connected", "Connected", "Terminated"]


def test_the_sweeper_corrects_what_the_start_checks_missed_once(warden: Warden) -> None:
    # Given three open sessions in the ledger whose start-time checks ran side by side (none saw the
    # others yet): recorded without checks here
    host = warden.instance(Environment="prod")
    ids = [warden.start(host, record=False) for _ in range(3)]
    for n, session_id in enumerate(ids):
        event = warden.start_event(session_id, host, reason="INC-1", at=f"2026-11-28T09:00:0{n}Z")
        record_session_event(parse_session_event(event))
    # When the sweeper runs, twice
    # (within the logging grace period, so that nothing else is due)
    first = warden.sweep(at("2026-11-28T09:01:00Z"), reconcile=False)
    second = warden.sweep(at("2026-11-28T09:02:00Z"), reconcile=False)
    warden.run_executor()
    # Then the newest is acted on, once
    assert first.by_kind.get("terminate") == 1
    assert second.actions == 0
    assert warden.outcomes() == [("concurrency", "terminated")]
    assert [warden.status_at_aws(s) for s in ids] == ["Connected", "Connected", "Terminated"]

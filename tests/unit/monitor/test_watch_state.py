"""The command watch's memory of a stream: redeliveries recognised, nothing else skipped, bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bench._dynamo_units import item_size
from ssm_warden.ledger.dynamo import from_item, to_attrs
from ssm_warden.logs.payload import EventLines, open_subscription
from ssm_warden.models.session import SessionRecord
from ssm_warden.monitor.watch_state import SEEN_BATCHES, SESSION_FLUSH_INTERVAL, WatchMemory
from ssm_warden.transcript.extract import WatchState
from tests.unit.logs.builders import log_event, payload, streamed

AT = datetime(2026, 11, 28, 10, tzinfo=UTC)


def lines_of(event: dict[str, Any]) -> EventLines:
    events, _ = open_subscription(event).event_lines()
    return events


def test_a_batch_is_known_by_its_event_ids_as_numbers() -> None:
    first = lines_of(payload([log_event(0, streamed(["$ id"])), log_event(1, streamed(["uid=0"]))]))
    again = payload([log_event(1, streamed(["uid=0"])), log_event(0, streamed(["$ id"]))])  # reordered
    padded = payload(
        [
            {**e, "id": "000" + e["id"]}
            for e in (log_event(0, streamed(["$ id"])), log_event(1, streamed(["uid=0"])))
        ]
    )
    other = lines_of(payload([log_event(2, streamed(["$ ls"]))]))
    assert first.fingerprint() == lines_of(again).fingerprint() == lines_of(padded).fingerprint()
    assert first.fingerprint() != other.fingerprint()


def stored(memory: WatchMemory) -> dict[str, Any]:
    """What the table gives back for the watch item (typed attributes and back, as DynamoDB does)."""
    return from_item(to_attrs(memory.item_values()))


def after(memory: WatchMemory, terminal: WatchState, fingerprint: str, **kwargs: Any) -> WatchMemory:
    defaults: dict[str, Any] = {"verified": True, "commands": 1, "findings": 0, "flush_at": None}
    return memory.after(terminal, fingerprint, kwargs.pop("at", AT), **{**defaults, **kwargs})


def test_the_memory_keeps_the_last_batches_and_stays_under_one_write_unit() -> None:
    memory = WatchMemory.load(None)
    terminal = WatchState(prompts=["[ec2-user@ip-10-0-0-1 ~]$ "], last_command="tail -n 50 /var/log/app.log")
    for n in range(SEEN_BATCHES + 10):
        memory = WatchMemory.load(stored(after(memory, terminal, f"{n:012x}")))
    assert memory.batches == SEEN_BATCHES + 10
    assert memory.has_seen(f"{SEEN_BATCHES + 9:012x}") and memory.has_seen(f"{10:012x}")
    assert not memory.has_seen(f"{9:012x}")  # older than the window: processed again if redelivered
    assert memory.output_at == AT
    assert memory.terminal == terminal
    assert memory.commands == SEEN_BATCHES + 10
    item = {
        "pk": {"S": "watch#123456789012#us-east-1#alice-0123456789abcdef0"},
        **to_attrs(memory.item_values()),
    }
    assert item_size(item) < 1024 - 40  # room for record_type and expires_at: one write unit


def test_counts_and_the_last_flush_are_carried_and_the_flush_is_due_every_interval() -> None:
    memory = WatchMemory.load(None)
    assert memory.flush_due(AT)  # the first batch brings the session item up to date
    memory = WatchMemory.load(stored(after(memory, WatchState(), "a" * 12, findings=2, flush_at=AT)))
    assert (memory.flushed_at, memory.flushed_n, memory.findings) == (AT, 1, 2)
    assert not memory.flush_due(AT + SESSION_FLUSH_INTERVAL - timedelta(seconds=1))
    assert memory.flush_due(AT + SESSION_FLUSH_INTERVAL)
    memory = WatchMemory.load(stored(after(memory, WatchState(), "b" * 12)))
    assert memory.flushed_n == 1 and memory.batches == 2  # a retry of batch 2 does not flush again


def test_a_legacy_map_on_the_session_item_is_the_starting_state_once() -> None:
    terminal = WatchState(prompts=["$ "])
    legacy = {**terminal.model_dump(mode="json"), "n": 7, "seen": ["c" * 12], "out": "2026-11-28T09:59:00Z"}
    record = SessionRecord(session_id="s", account="1", region="r", commands_seen=9, findings_seen=1)
    memory = WatchMemory.load(None, record, legacy)
    assert memory.legacy and memory.batches is None  # no watch item yet: created conditionally
    assert memory.has_seen("c" * 12) and memory.terminal == terminal
    assert memory.flush_due(AT)  # the first batch removes the map from the session item
    later = after(memory, terminal, "d" * 12)
    assert (later.batches, later.commands, later.findings) == (8, 10, 1)
    assert not WatchMemory.load(stored(later)).legacy


def test_the_terminal_state_of_an_unverified_stream_is_dropped_when_it_is_confirmed() -> None:
    terminal = WatchState(prompts=["forged$ "])
    memory = WatchMemory.load(stored(after(WatchMemory(), terminal, "a" * 12, verified=False)))
    assert memory.unverified
    assert memory.terminal_for(verified=False) == terminal
    assert memory.terminal_for(verified=True) is None


def test_a_state_this_version_cannot_read_starts_afresh_but_keeps_its_fingerprints() -> None:
    memory = WatchMemory.load({"t": '{"prompts": "not a list"}', "s": bytes.fromhex("ab" * 6), "n": 3})
    assert memory.unreadable and memory.terminal is None
    assert memory.has_seen("ab" * 6) and memory.batches == 3

"""The command watch's memory of a stream: redeliveries recognised, nothing else skipped, bounded."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ssm_warden.logs.payload import EventLines, open_subscription
from ssm_warden.monitor.watch_state import SEEN_BATCHES, WatchMemory
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


def test_the_memory_keeps_the_last_batches_and_stays_small() -> None:
    memory = WatchMemory.load(None)
    terminal = WatchState(prompts=["[ec2-user@ip-10-0-0-1 ~]$ "])
    for n in range(SEEN_BATCHES + 10):
        stored = memory.after(terminal, f"{n:012x}", AT, verified=True)
        memory = WatchMemory.load(json.loads(json.dumps(stored)))
    assert memory.batches == SEEN_BATCHES + 10
    assert memory.has_seen(f"{SEEN_BATCHES + 9:012x}") and memory.has_seen(f"{10:012x}")
    assert not memory.has_seen(f"{9:012x}")  # older than the window: processed again if redelivered
    assert memory.output_at == AT
    assert memory.terminal == terminal
    assert len(json.dumps(stored)) < 700  # the fingerprints take about 480 bytes of it


def test_the_terminal_state_of_an_unverified_stream_is_dropped_when_it_is_confirmed() -> None:
    terminal = WatchState(prompts=["forged$ "])
    memory = WatchMemory.load(WatchMemory().after(terminal, "a" * 12, AT, verified=False))
    assert memory.unverified
    assert memory.terminal_for(verified=False) == terminal
    assert memory.terminal_for(verified=True) is None


def test_a_state_this_version_cannot_read_starts_afresh_but_keeps_its_fingerprints() -> None:
    memory = WatchMemory.load({"prompts": "not a list", "seen": ["abc"], "n": 3})
    assert memory.unreadable and memory.terminal is None
    assert memory.has_seen("abc") and memory.batches == 3

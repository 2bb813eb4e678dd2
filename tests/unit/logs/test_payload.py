"""Decoding session-log subscription payloads; malformed input is reported and skipped (pure)."""

from __future__ import annotations

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.errors import MalformedEventError
from ssm_warden.logs.payload import decode_subscription, open_subscription
from tests.unit.logs.builders import (
    FIRST_ID,
    PRINCIPAL_ARN,
    SESSION_ID,
    TARGET_ID,
    encode,
    log_event,
    payload,
    streamed,
    wrap,
)


def test_streamed_events_decode_to_lines_with_the_session_facts() -> None:
    # Given a payload of two streamed events
    event = payload(
        [log_event(0, streamed(["sh-4.2$ sh-4.2$ date", "Thu Jan  4"])), log_event(1, streamed(["x"]))]
    )
    # When it is decoded
    batch, events = decode_subscription(event)
    # Then the stream name is the session, and each event carries its lines and facts
    assert batch.log_stream == "alice-0e34861185201706f"
    assert batch.owner == "123456789012"
    assert [e.lines for e in events] == [["sh-4.2$ sh-4.2$ date", "Thu Jan  4"], ["x"]]
    assert events[0].target_id == TARGET_ID
    assert events[0].principal_arn == PRINCIPAL_ARN
    assert events[0].sequence == FIRST_ID
    assert batch.malformed == []


def test_plain_text_transcripts_in_the_same_group_decode_too() -> None:
    # Given a transcript uploaded at session end (streaming off): plain text, CRLF, ANSI kept
    text = "Script started on 2024-01-04\r\n\x1b[01;32mubuntu@h\x1b[00m:~$ ls\r\nfile\r\n"
    _, events = decode_subscription(payload([log_event(0, text)]))
    assert events[0].streamed is False
    assert len(events[0].lines) == 3


def test_text_that_happens_to_be_json_is_still_a_transcript() -> None:
    _, events = decode_subscription(payload([log_event(0, '{"level": "info"}\n{"level": "warn"}')]))
    assert events[0].lines == ['{"level": "info"}', '{"level": "warn"}']


def test_control_messages_are_recognised() -> None:
    batch = open_subscription(payload([], message_type="CONTROL_MESSAGE"))
    assert batch.is_control


@pytest.mark.parametrize(
    ("event", "what"),
    [
        ({"awslogs": {"data": "not base64 at all!"}}, "base64"),
        (wrap(gzip.compress(b'{"messageType": "DATA_MESSAGE"}')[:-9]), "gzip"),
        (wrap(gzip.compress(b"[1, 2")), "not JSON"),
        (encode(["a", "list"]), "not a JSON object"),
        (encode({"messageType": "DATA_MESSAGE", "logStream": "s", "logEvents": "nope"}), "logEvents"),
        ({"Records": []}, "subscription payload"),
    ],
)
def test_a_payload_unreadable_as_a_whole_says_what_is_wrong(event: dict[str, object], what: str) -> None:
    with pytest.raises(MalformedEventError, match=what):
        open_subscription(event)


def test_malformed_events_are_reported_with_where_and_the_rest_are_decoded() -> None:
    # Given a batch with good events around broken ones
    event = payload(
        [
            log_event(0, streamed(["sh-4.2$ id"])),
            log_event(1, '{"sessionData": ["truncated'),  # cut short
            log_event(2, json.dumps({"sessionId": "s", "sessionData": [1, 2]})),  # wrong JSON shape
            {"id": "abc", "timestamp": 1, "message": "x"},  # id not numeric
            log_event(3, "binary\x00\x01junk"),  # neither JSON nor text
            "not an object",
            log_event(4, streamed(["sh-4.2$ ls"])),
        ]
    )
    batch, events = decode_subscription(event)
    # Then the good ones are decoded and each bad one is reported with where it was
    assert [e.lines for e in events] == [["sh-4.2$ id"], ["sh-4.2$ ls"]]
    wheres = [m.where for m in batch.malformed]
    assert wheres == [
        f"logEvents[1] id={FIRST_ID + 1}",
        f"logEvents[2] id={FIRST_ID + 2}",
        "logEvents[3] id=abc",
        f"logEvents[4] id={FIRST_ID + 3}",
        "logEvents[5]",
    ]
    assert "not valid JSON" in batch.malformed[0].what
    assert "list of strings" in batch.malformed[1].what
    assert "neither JSON nor text" in batch.malformed[3].what


def test_invalid_utf8_loses_only_the_event_that_carries_it() -> None:
    # Given a payload whose bytes hold invalid UTF-8 inside one event's message
    good = json.dumps(
        {
            "messageType": "DATA_MESSAGE",
            "owner": "1",
            "logGroup": "g",
            "logStream": "s",
            "subscriptionFilters": [],
            "logEvents": [log_event(0, "MARK"), log_event(1, "fine")],
        }
    ).encode()
    broken = good.replace(b"MARK", b"ab\xff\xfe")
    batch, events = decode_subscription(wrap(gzip.compress(broken)))
    # Then the payload-level problem and the event are reported, the other event decoded
    assert [e.lines for e in events] == [["fine"]]
    assert batch.malformed[0].where == "payload"
    assert "invalid UTF-8" in batch.malformed[0].what
    assert batch.malformed[1].where.startswith("logEvents[0]")


def test_event_lines_skip_events_already_processed_and_put_the_rest_in_id_order() -> None:
    # Given events out of order, two of them at or below the last processed id
    event = payload([log_event(n, streamed([f"line {n}"])) for n in (3, 1, 4, 2, 5)])
    batch = open_subscription(event)
    lines, skipped = batch.event_lines(after_sequence=FIRST_ID + 2)
    assert skipped == 2
    assert lines.lines == ["line 3", "line 4", "line 5"]
    assert lines.event_ids == [str(FIRST_ID + n) for n in (3, 4, 5)]
    assert lines.starts == [0, 1, 2]


def test_event_ids_are_numbers_ordered_as_integers_and_written_without_leading_zeros() -> None:
    # Given ids as text would order them wrongly ("10" < "9"), one padded with zeros
    events = [
        {"id": "0010", "timestamp": 1, "message": streamed(["second"])},
        {"id": "9", "timestamp": 1, "message": streamed(["first"])},
        {"id": "1" * 81, "timestamp": 1, "message": streamed(["too long to be CloudWatch's"])},
    ]
    batch = open_subscription(payload(events))
    lines, _ = batch.event_lines()
    assert lines.event_ids == ["9", "10"]
    assert lines.lines == ["first", "second"]
    assert [c.session_id if c else None for c in lines.claims] == [SESSION_ID, SESSION_ID]
    assert len(batch.malformed) == 1


@settings(max_examples=200)
@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=12), st.lists(st.integers(0, 3), max_size=12))
def test_events_come_out_in_id_order_whatever_the_ids_lengths_and_padding(
    ids: list[int], pads: list[int]
) -> None:
    # Given ids of any lengths, some repeated, some padded with zeros, in any order
    padded = ["0" * (pads[k] if k < len(pads) else 0) + str(n) for k, n in enumerate(ids)]
    events = [{"id": i, "timestamp": 1, "message": streamed([f"line {i}"])} for i in padded]
    # When the batch's lines are read
    lines, skipped = open_subscription(payload(events)).event_lines()
    # Then each event id comes once, in numeric order, written without zeros in front
    assert lines.event_ids == [str(n) for n in sorted(set(ids))]
    assert skipped == len(ids) - len(set(ids))
    assert len(lines.lines) == len(set(ids))

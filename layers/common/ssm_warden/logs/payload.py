"""Session-log subscription payloads, decoded (aws-facts §2-3). Pure: no AWS calls.

``{"awslogs": {"data": base64(gzip(JSON))}}`` holds one log stream's events; the stream name is the
session id. Each event's ``message`` is either a streamed-session JSON document (``sessionData``:
lines of terminal output, plus the session's target and principal) or, with streaming off, a chunk
of the plain-text transcript uploaded at session end. Both are decoded to terminal lines.

Bad input loses nothing else: a payload that cannot be read at all raises ``MalformedEventError``;
a log event that cannot be read becomes a ``MalformedRecord`` (what and where) and the others are
decoded. Powertools' ``CloudWatchLogsEvent`` does the base64 and gzip; the JSON decodes are done
without per-event model validation (a busy session's batch holds 10,000 events).

Two ways out: ``decode_subscription`` gives ``SessionLogEvent`` objects (``scan``, tests), and
``SessionLogBatch.event_lines`` gives every event's lines as one array with the event boundaries
(the command watch: no object per event), with what each event claims about itself (``Claim``:
session id, target, principal), which the command watch checks against the ledger.

Event ids are numbers: they are compared as integers and written without leading zeros
(``canonical_id``), so ``007`` and ``7`` are one event.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import operator
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from ssm_warden.encodable import encodable
from ssm_warden.errors import MalformedEventError
from ssm_warden.transcript.terminal import split_text

CONTROL_MESSAGE = "CONTROL_MESSAGE"
MAX_ID_DIGITS = 80  # CloudWatch Logs' ids have 56 digits; a longer id is not one of theirs
FINGERPRINT_CHARS = 12  # 48 bits: a chance collision among a stream's recent batches is ~1e-13
# The C scanner behind ``json.loads``, called directly: ``json.loads`` adds two whitespace regex
# matches and a wrapper per call, about half the cost of decoding a small message.
_scan_object: Callable[[str, int], tuple[Any, int]] = getattr(json.JSONDecoder(), "scan_once")  # noqa: B009


@dataclass(frozen=True, slots=True)
class MalformedRecord:
    """Input that was reported and skipped: where it was and what is wrong with it."""

    where: str
    what: str


@dataclass(slots=True)
class SessionLogEvent:
    """One log event: its id, time and terminal lines, and for a streamed event its JSON document."""

    event_id: str
    sequence: int  # the event id as a number: ids increase within a stream
    timestamp_ms: int
    lines: list[str]
    document: dict[str, Any] | None = None  # the streamed event (None: plain-text transcript)

    @property
    def streamed(self) -> bool:
        return self.document is not None

    @property
    def session_id(self) -> str | None:
        return _text(self.document.get("sessionId")) if self.document else None

    @property
    def target_id(self) -> str | None:
        return target_of(self.document)

    @property
    def principal_arn(self) -> str | None:
        return principal_of(self.document)


@dataclass(frozen=True, slots=True)
class Claim:
    """What a streamed log event says about itself. Written by whoever wrote the event: a claim to
    check against the ledger, never a fact."""

    session_id: str | None
    target_id: str | None
    principal_arn: str | None


@dataclass(slots=True)
class EventLines:
    """Log events of a batch, in stream (id) order, as one array of terminal lines."""

    event_ids: list[str] = field(default_factory=list)  # canonical (``canonical_id``)
    timestamps: list[int] = field(default_factory=list)  # epoch ms, per event: the writer's word
    starts: list[int] = field(default_factory=list)  # index in ``lines`` of each event's first line
    lines: list[str] = field(default_factory=list)
    claims: list[Claim | None] = field(default_factory=list)  # per event; None: plain-text transcript
    document: dict[str, Any] | None = None  # the first streamed event's document (target, principal)
    newest_skipped_ms: int | None = None  # the newest time among the events skipped as processed

    def __len__(self) -> int:
        return len(self.event_ids)

    def lines_of(self, k: int) -> list[str]:
        """The terminal lines of event ``k``."""
        end = self.starts[k + 1] if k + 1 < len(self.starts) else len(self.lines)
        return self.lines[self.starts[k] : end]

    def select(self, keep: list[int]) -> EventLines:
        """The events at positions ``keep`` (in that order), as a batch of their own."""
        out = EventLines(document=self.document, newest_skipped_ms=self.newest_skipped_ms)
        for k in keep:
            out.event_ids.append(self.event_ids[k])
            out.timestamps.append(self.timestamps[k])
            out.claims.append(self.claims[k])
            out.starts.append(len(out.lines))
            out.lines.extend(self.lines_of(k))
        return out

    def fingerprint(self) -> str:
        """A short digest of the batch's event ids: the same batch delivered again has the same one
        (CloudWatch Logs and Kinesis redeliver a payload whole)."""
        digest = hashlib.sha256(",".join(self.event_ids).encode()).hexdigest()
        return digest[:FINGERPRINT_CHARS]


@dataclass(slots=True)
class SessionLogBatch:
    owner: str
    log_group: str
    log_stream: str
    message_type: str
    raw_events: list[Any] = field(default_factory=list)
    malformed: list[MalformedRecord] = field(default_factory=list)
    check_utf8: bool = False  # the payload held invalid UTF-8: find the events that carry it

    @property
    def is_control(self) -> bool:
        return self.message_type == CONTROL_MESSAGE

    @property
    def events(self) -> list[SessionLogEvent]:
        """Every readable event (malformed ones are added to ``malformed`` once)."""
        out: list[SessionLogEvent] = []
        for position, raw in enumerate(self.raw_events):
            try:
                out.append(SessionLogEvent(*_decode_raw(raw, self.check_utf8)))
            except MalformedEventError as exc:
                self._report(position, raw, exc)
        self.raw_events = []  # decoded: a second read would report the malformed ones again
        return out

    def event_lines(self, after_sequence: int = -1) -> tuple[EventLines, int]:
        """The lines of the events whose id is above ``after_sequence`` (every event by default), in
        id order, each with its claim, and how many events were skipped (below ``after_sequence``, or
        an id seen twice in the payload).

        The batch's hot loop: a well-formed streamed event is decoded inline (no call, no object per
        event); anything else takes the general path, which reports what is wrong with it.
        """
        out = EventLines()
        event_ids, timestamps, starts, all_lines = out.event_ids, out.timestamps, out.starts, out.lines
        claims = out.claims
        interned: dict[tuple[Any, Any, Any], Claim] = {}
        last_said: tuple[Any, Any, Any] | None = None
        last_claim = Claim(None, None, None)
        skipped = 0
        scan = _scan_object
        fast = not self.check_utf8
        for position, raw in enumerate(self.raw_events):
            lines: list[str] | None = None
            document: dict[str, Any] | None = None
            event_id = timestamp = None
            if type(raw) is dict:
                event_id, timestamp = raw.get("id"), raw.get("timestamp")
            if (
                fast
                and type(event_id) is str
                and type(timestamp) is int
                and event_id.isascii()
                and event_id.isdigit()
                and len(event_id) <= MAX_ID_DIGITS
            ):
                message = raw.get("message")
                if type(message) is str and message[:1] == "{":
                    try:
                        doc, end = scan(message, 0)
                    except (StopIteration, ValueError, RecursionError):
                        doc, end = None, 0
                    if type(doc) is dict and end == len(message):
                        data = doc.get("sessionData")
                        if type(data) is list:
                            for line in data:
                                if type(line) is not str:
                                    break
                            else:
                                lines, document = data, doc
            if lines is None:  # the general path: plain text, odd shapes, malformed events
                try:
                    event_id, _, timestamp, lines, document = _decode_raw(raw, self.check_utf8)
                except MalformedEventError as exc:
                    self._report(position, raw, exc)
                    continue
            assert isinstance(event_id, str) and isinstance(timestamp, int)
            if after_sequence >= 0 or event_id[0] == "0":  # the id as a number is needed
                sequence = int(event_id)
                if sequence <= after_sequence:
                    skipped += 1
                    if out.newest_skipped_ms is None or timestamp > out.newest_skipped_ms:
                        out.newest_skipped_ms = timestamp
                    continue
                event_id = str(sequence)  # canonical: without leading zeros
            if out.document is None and document is not None:
                out.document = document
            event_ids.append(event_id)
            timestamps.append(timestamp)
            starts.append(len(all_lines))
            all_lines.extend(lines)
            if document is None:
                claims.append(None)
                continue
            # Every event of a stream usually claims the same: compared with the last event's claim
            # (C-level equality of the values) before the claim is made and interned.
            said = (document.get("sessionId"), document.get("target"), document.get("userIdentity"))
            try:
                same = said == last_said
            except RecursionError:  # values nested deeper than Python compares
                same = False
            if not same:
                last_said, last_claim = said, _claim(document, interned)
            claims.append(last_claim)
        self.raw_events = []
        if not _utf8_encodable(all_lines):
            all_lines[:] = [encodable(line) for line in all_lines]  # lone surrogates as U+FFFD
        if not _increasing(event_ids):
            before = len(out)
            out = _sorted_by_id(out)
            skipped += before - len(out)  # an event id twice: the same event, delivered twice
        return out, skipped

    def _report(self, position: int, raw: Any, exc: MalformedEventError) -> None:
        where = f"logEvents[{position}]"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            where += f" id={raw['id']}"
        self.malformed.append(MalformedRecord(where, str(exc)))


def _increasing(ids: list[str]) -> bool:
    """Whether canonical event ids (digits without leading zeros) increase strictly as numbers:
    compared as strings when all are as long (C passes, no integer made per event), else as
    integers."""
    if len(set(map(len, ids))) <= 1:
        return all(map(operator.lt, ids, islice(ids, 1, None)))
    numbers = list(map(int, ids))
    return all(map(operator.lt, numbers, islice(numbers, 1, None)))


def _utf8_encodable(lines: list[str]) -> bool:
    """Whether every line can be written as UTF-8 (one C pass over the batch's text). A JSON string
    may hold a lone UTF-16 surrogate (``"\\ud800"``): the agent never writes one, a forged or
    odd event can, and no UTF-8 consumer (the shell parser, RE2) accepts it."""
    try:
        "".join(lines).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _sorted_by_id(events: EventLines) -> EventLines:
    """The events in id order (as integers); an id seen twice in one payload is kept once."""
    order = sorted(range(len(events)), key=lambda k: int(events.event_ids[k]))
    unique = [
        k for n, k in enumerate(order) if n == 0 or events.event_ids[k] != events.event_ids[order[n - 1]]
    ]
    return events.select(unique)


def _claim(document: dict[str, Any], interned: dict[tuple[Any, Any, Any], Claim]) -> Claim:
    """The event's claim; identical claims (every event of a stream, usually) share one object."""
    target = document.get("target")
    identity = document.get("userIdentity")
    key = (
        document.get("sessionId"),
        target.get("id") if type(target) is dict else None,
        identity.get("arn") if type(identity) is dict else None,
    )
    try:
        found = interned.get(key)
    except TypeError:  # an unhashable value (a list where a string belongs): no claim at all
        return Claim(None, None, None)
    if found is None:
        found = interned[key] = Claim(_text(key[0]), _text(key[1]), _text(key[2]))
    return found


def canonical_id(event_id: str) -> str:
    """A log event id as written without leading zeros (``"007"`` → ``"7"``)."""
    return str(int(event_id))


def _raw_json(event: dict[str, Any]) -> tuple[str, MalformedRecord | None]:
    """The payload's JSON text; invalid UTF-8 is kept (as surrogates) and reported per log event."""
    try:
        # What Powertools' CloudWatchLogsEvent.decompress_logs_data does, without importing its
        # data_classes package (every event type's class: ~45 ms of the monitor's cold start).
        data = zlib.decompress(base64.b64decode(event["awslogs"]["data"]), zlib.MAX_WBITS | 32)
    except (KeyError, TypeError, AttributeError) as exc:
        raise MalformedEventError(f"not a CloudWatch Logs subscription payload: missing {exc}") from exc
    except (binascii.Error, ValueError) as exc:  # ValueError: a str that is not ASCII
        raise MalformedEventError(f"awslogs.data is not base64: {exc}") from exc
    except zlib.error as exc:
        raise MalformedEventError(f"awslogs.data is not a complete gzip stream: {exc}") from exc
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        problem = MalformedRecord("payload", f"invalid UTF-8 at byte {exc.start}")
        return data.decode("utf-8", "surrogateescape"), problem


def open_subscription(event: dict[str, Any]) -> SessionLogBatch:
    """Decode a subscription payload's envelope; its log events are decoded on demand
    (``events`` / ``event_lines``). Unreadable as a whole: ``MalformedEventError``."""
    text, utf8_problem = _raw_json(event)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: nested deeper than Python recurses
        raise MalformedEventError(f"the decompressed payload is not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise MalformedEventError("the decompressed payload is not a JSON object")
    message_type = doc.get("messageType")
    stream = doc.get("logStream")
    if not isinstance(message_type, str) or (message_type != CONTROL_MESSAGE and not isinstance(stream, str)):
        raise MalformedEventError("the payload lacks messageType or logStream")
    batch = SessionLogBatch(
        owner=str(doc.get("owner") or ""),
        log_group=str(doc.get("logGroup") or ""),
        log_stream=str(stream or ""),
        message_type=message_type,
        check_utf8=utf8_problem is not None,
    )
    if utf8_problem is not None:
        batch.malformed.append(utf8_problem)
    if batch.is_control:
        return batch
    log_events = doc.get("logEvents")
    if not isinstance(log_events, list):
        raise MalformedEventError("the payload's logEvents is not a list")
    batch.raw_events = log_events
    return batch


def decode_subscription(event: dict[str, Any]) -> tuple[SessionLogBatch, list[SessionLogEvent]]:
    """The payload's envelope and its readable log events (malformed ones in ``batch.malformed``)."""
    batch = open_subscription(event)
    return batch, batch.events


def _decode_raw(raw: Any, check_utf8: bool) -> tuple[str, int, int, list[str], dict[str, Any] | None]:
    """One ``logEvents`` entry → (id, id as a number, timestamp, lines, streamed document or None)."""
    # Exact type checks (not isinstance) on purpose: this runs 10,000 times per batch.
    if type(raw) is not dict:
        raise MalformedEventError("a log event is not a JSON object")
    event_id, timestamp, message = raw.get("id"), raw.get("timestamp"), raw.get("message")
    if type(event_id) is not str or not event_id.isascii() or not event_id.isdigit():
        raise MalformedEventError(f"log event id {event_id!r} is not a numeric string")
    if len(event_id) > MAX_ID_DIGITS:
        raise MalformedEventError(f"log event id of {len(event_id)} digits is longer than any real one")
    if type(timestamp) is not int:
        raise MalformedEventError(f"log event timestamp {timestamp!r} is not epoch milliseconds")
    if type(message) is not str:
        raise MalformedEventError("log event message is not a string")
    if check_utf8:
        try:
            message.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedEventError(f"message has invalid UTF-8 at character {exc.start}") from exc
    try:
        sequence = int(event_id)
    except ValueError as exc:  # digits int() refuses: not ASCII, or more than 4,300 of them
        raise MalformedEventError(f"log event id of {len(event_id)} characters is not a number") from exc
    lines, document = decode_message(message)
    return (event_id if event_id[0] != "0" else str(sequence)), sequence, timestamp, lines, document


def decode_message(message: str) -> tuple[list[str], dict[str, Any] | None]:
    """The second decode: a streamed JSON document (its ``sessionData`` and the document) or a chunk
    of plain-text transcript (its lines and None).

    A JSON object with a streamed event's keys but no usable ``sessionData`` is a broken streamed
    event; other text (JSON-looking or not) is a transcript chunk.
    """
    if message[:1] == "{":
        doc = _json_object(message)
        if type(doc) is dict and (
            "sessionData" in doc or "sessionId" in doc or "eventVersion" in doc or "runAsUser" in doc
        ):
            data = doc.get("sessionData")
            if type(data) is str:
                data = [data]
            elif type(data) is not list:
                raise MalformedEventError("sessionData is not a list of strings")
            for line in data:
                if type(line) is not str:
                    raise MalformedEventError("sessionData is not a list of strings")
            return data, doc
        if doc is None and '"sessionData"' in message[:4096]:
            raise MalformedEventError("message looks like a streamed session event but is not valid JSON")
    if "\x00" in message:
        raise MalformedEventError("message is neither JSON nor text (it holds NUL bytes)")
    return split_text(message), None


def _json_object(message: str) -> Any:
    """``json.loads(message)`` for a message that starts with ``{``; None if it is not JSON."""
    try:
        doc, end = _scan_object(message, 0)
    except (StopIteration, ValueError, RecursionError):
        return None
    if end != len(message) and message[end:].strip():
        return None  # extra data after the object
    return doc


def target_of(document: dict[str, Any] | None) -> str | None:
    target = document.get("target") if document else None
    return _text(target.get("id")) if isinstance(target, dict) else None


def principal_of(document: dict[str, Any] | None) -> str | None:
    identity = document.get("userIdentity") if document else None
    return _text(identity.get("arn")) if isinstance(identity, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None

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
``SessionLogBatch.event_lines`` gives every new event's lines as one array with the event
boundaries (the command watch: no object per event).
"""

from __future__ import annotations

import binascii
import json
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ssm_warden.errors import MalformedEventError
from ssm_warden.transcript.terminal import split_text

CONTROL_MESSAGE = "CONTROL_MESSAGE"
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


@dataclass(slots=True)
class EventLines:
    """New log events of a batch, in stream order, as one array of terminal lines."""

    event_ids: list[str] = field(default_factory=list)
    timestamps: list[int] = field(default_factory=list)  # epoch ms, per event
    starts: list[int] = field(default_factory=list)  # index in ``lines`` of each event's first line
    lines: list[str] = field(default_factory=list)
    document: dict[str, Any] | None = None  # the first streamed event's document (target, principal)
    newest_skipped_ms: int | None = None  # the newest time among the events skipped as processed

    def __len__(self) -> int:
        return len(self.event_ids)


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
        """The lines of the events whose id is above ``after_sequence`` (the rest were processed
        before), in id order, and how many events were skipped as already processed.

        The batch's hot loop: a well-formed streamed event is decoded inline (no call, no object per
        event); anything else takes the general path, which reports what is wrong with it.
        """
        out = EventLines()
        event_ids, timestamps, starts, all_lines = out.event_ids, out.timestamps, out.starts, out.lines
        after = str(after_sequence) if after_sequence >= 0 else ""
        skipped = 0
        previous = ""
        in_order = True
        scan = _scan_object
        fast = not self.check_utf8
        for position, raw in enumerate(self.raw_events):
            lines: list[str] | None = None
            document: dict[str, Any] | None = None
            event_id = raw.get("id") if type(raw) is dict else None
            timestamp = raw.get("timestamp") if type(raw) is dict else None
            if fast and type(event_id) is str and type(timestamp) is int and event_id.isdigit():
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
            # Ids are decimal strings without leading zeros: compare by length, then text.
            if after and (len(event_id), event_id) <= (len(after), after):
                skipped += 1
                if out.newest_skipped_ms is None or timestamp > out.newest_skipped_ms:
                    out.newest_skipped_ms = timestamp
                continue
            if previous and (len(event_id), event_id) <= (len(previous), previous):
                in_order = False
            previous = event_id
            if out.document is None and document is not None:
                out.document = document
            event_ids.append(event_id)
            timestamps.append(timestamp)
            starts.append(len(all_lines))
            all_lines.extend(lines)
        self.raw_events = []
        if not in_order:
            out = _sorted_by_id(out)
        return out, skipped

    def _report(self, position: int, raw: Any, exc: MalformedEventError) -> None:
        where = f"logEvents[{position}]"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            where += f" id={raw['id']}"
        self.malformed.append(MalformedRecord(where, str(exc)))


def _sorted_by_id(events: EventLines) -> EventLines:
    bounds = [*events.starts[1:], len(events.lines)]
    order = sorted(range(len(events)), key=lambda k: (len(events.event_ids[k]), events.event_ids[k]))
    out = EventLines(document=events.document, newest_skipped_ms=events.newest_skipped_ms)
    for k in order:
        out.event_ids.append(events.event_ids[k])
        out.timestamps.append(events.timestamps[k])
        out.starts.append(len(out.lines))
        out.lines.extend(events.lines[events.starts[k] : bounds[k]])
    return out


def _raw_json(event: dict[str, Any]) -> tuple[str, MalformedRecord | None]:
    """The payload's JSON text; invalid UTF-8 is kept (as surrogates) and reported per log event."""
    from aws_lambda_powertools.utilities.data_classes import CloudWatchLogsEvent

    try:
        data = CloudWatchLogsEvent(event).decompress_logs_data
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
    if type(event_id) is not str or not event_id.isdigit():
        raise MalformedEventError(f"log event id {event_id!r} is not a numeric string")
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
    return event_id, sequence, timestamp, lines, document


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

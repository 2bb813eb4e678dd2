"""The SSM agent's handling of a Linux session's terminal output, as aws-facts §6 describes it.

The agent copies the pty's output to a file and streams that file to CloudWatch Logs about once a
second (``cloudwatchlogsservice.go``):

- the file is read with a 33,000-byte buffer (``ReadSlice('\\n')``): a longer line is **cut**, each
  piece handled on its own and the pieces land in different log events;
- each piece goes through ``ansi.Strip`` (pborman/ansi): CSI sequences (colours, cursor moves,
  readline's inserts and erases, bracketed-paste modes) and ST-ended OSC/DCS strings are removed
  **without their effect**; C0 controls (BS, BEL, CR, TAB, ...) are kept; the single bytes
  0x80-0x9F are C1 controls to it and are removed too, which breaks every UTF-8 character that holds
  one (``➜ \u276f “ ” — ✓``, most CJK);
- when Strip reports an error (an OSC ended by BEL, as the default bash prompts of Amazon Linux and
  Ubuntu print; ``ESC ( B``, ``ESC =``, ``ESC 7``; an escape cut at the end of the piece) the
  **whole piece is sent raw**, colours and all;
- the event text then has every tab turned into one space and every ``\\r`` deleted, is split on
  ``\\n`` into ``sessionData``, and JSON-encoded by Go, which turns each byte of invalid UTF-8 into
  U+FFFD;
- at most 4 events per PutLogEvents call; what does not fit waits for the next second.

Pure functions: bytes in, event lines out. The sandbox and the session recorder both use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

READ_BUFFER = 33_000  # bytes: the agent's reader buffer and its event size threshold
EVENTS_PER_CALL = 4
PLAIN_EVENT_BYTES = 200_000  # a non-streamed (end-of-session) event


class StripError(ValueError):
    """What pborman/ansi reports for a sequence it does not accept."""


def _string_end(data: bytes, start: int) -> int:
    """The end of an OSC/DCS/SOS/PM/APC string that starts at ``start`` (after its introducer):
    the index after ST (``ESC \\``). A BEL or the end of the data is an error to Strip."""
    i = start
    n = len(data)
    while i < n:
        b = data[i]
        if b == 0x1B:
            if i + 1 < n and data[i + 1] == 0x5C:
                return i + 2
            raise StripError("string not ended by ST")
        if b == 0x07:
            raise StripError("string ended by BEL")
        i += 1
    raise StripError("unterminated string")


def strip(data: bytes) -> bytes:
    """``ansi.Strip``: escape sequences and C1 controls removed, plain text (C0 included) kept."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if 0x80 <= b <= 0x9F:  # a single-byte C1 control to the decoder: removed
            i += 1
            continue
        if b != 0x1B:
            out.append(b)
            i += 1
            continue
        if i + 1 >= n:
            raise StripError("escape at the end")
        nxt = data[i + 1]
        if nxt == 0x5B:  # CSI: parameters 0x30-0x3F, intermediates 0x20-0x2F, final 0x40-0x7E
            j = i + 2
            while j < n and 0x30 <= data[j] <= 0x3F:
                j += 1
            while j < n and 0x20 <= data[j] <= 0x2F:
                j += 1
            if j >= n or not 0x40 <= data[j] <= 0x7E:
                raise StripError("bad CSI")
            i = j + 1
        elif nxt in (0x5D, 0x50, 0x58, 0x5E, 0x5F):  # OSC DCS SOS PM APC
            i = _string_end(data, i + 2)
        elif 0x40 <= nxt <= 0x7E:  # a two-byte escape (C1 in 7-bit form, or an Fs function)
            i += 2
        else:  # ESC ( B, ESC =, ESC 7, ...: not ECMA-48 sequences it knows
            raise StripError(f"unknown escape {data[i : i + 3]!r}")
    return bytes(out)


def process_piece(piece: bytes) -> bytes:
    """``processMessage``: Strip, or the piece unchanged when Strip fails."""
    try:
        return strip(piece)
    except StripError:
        return piece


def go_string(data: bytes) -> str:
    """Bytes as Go's JSON encoder writes them: each byte of invalid UTF-8 becomes U+FFFD."""
    text = data.decode("utf-8", errors="surrogateescape")
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return "".join("\ufffd" if "\udc80" <= c <= "\udcff" else c for c in text)


def event_lines(message: bytes) -> list[str]:
    """``buildEventInfo`` (structured): tabs to spaces, ``\\r`` deleted, split on newlines."""
    text = go_string(message).replace("\t", " ").replace("\r", "")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def pieces(data: bytes, buffer: int = READ_BUFFER) -> Iterator[bytes]:
    """``ReadSlice('\\n')`` over complete data: lines, each cut into pieces of at most ``buffer``."""
    start, n = 0, len(data)
    while start < n:
        nl = data.find(b"\n", start, start + buffer)
        end = nl + 1 if nl >= 0 else min(n, start + buffer)
        yield data[start:end]
        start = end


@dataclass
class AgentStream:
    """The agent's streaming loop over a growing capture file: ``feed`` output as the pty gives it,
    ``tick`` once a second for the (at most 4) events of one PutLogEvents call."""

    buffer: int = READ_BUFFER
    _pending: bytearray = field(default_factory=bytearray)
    _queue: list[list[str]] = field(default_factory=list)

    def feed(self, data: bytes) -> None:
        self._pending += data

    def _read(self, final: bool) -> None:
        data = bytes(self._pending)
        # Only complete lines, or full buffers, are read while the session runs.
        last_nl = data.rfind(b"\n")
        usable = len(data) if final else last_nl + 1
        if not final:
            tail = data[usable:]
            full = len(tail) - len(tail) % self.buffer
            usable += full
        if usable <= 0:
            return
        message = bytearray()
        for piece in pieces(data[:usable], self.buffer):
            line = process_piece(piece)
            if message and len(message) + len(line) > self.buffer:
                self._queue.append(event_lines(bytes(message)))
                message = bytearray()
            message += line
        if message:
            self._queue.append(event_lines(bytes(message)))
        del self._pending[:usable]

    def tick(self, *, final: bool = False) -> list[list[str]]:
        """The events of one call: at most four; the rest wait for the next tick."""
        self._read(final)
        call, self._queue = self._queue[:EVENTS_PER_CALL], self._queue[EVENTS_PER_CALL:]
        return [e for e in call if e]

    def drain(self) -> list[list[str]]:
        """Every event still to send (the session ended)."""
        events: list[list[str]] = []
        while True:
            call = self.tick(final=True)
            if not call and not self._queue:
                return events
            events.extend(call)


def stream_events(chunks: list[bytes], ticks: list[int] | None = None) -> list[list[str]]:
    """The events the agent streams for pty output ``chunks``; ``ticks[k]`` is the number of
    upload ticks that pass before chunk ``k`` arrives (default one per chunk)."""
    agent = AgentStream()
    events: list[list[str]] = []
    for k, chunk in enumerate(chunks):
        for _ in range(ticks[k] if ticks else 1):
            events.extend(agent.tick())
        agent.feed(chunk)
    events.extend(agent.drain())
    return events


SCRIPT_HEADER = 'Script started on {start} [COMMAND="cat ipcTempFile.log" <not executed on terminal>]'
SCRIPT_FOOTER = 'Script done on {end} [COMMAND_EXIT_CODE="0"]'


def script_transcript(data: bytes, start: str = "2026-01-04 05:45:59+00:00", end: str = "") -> bytes:
    """The end-of-session S3 transcript: util-linux ``script -c "cat ipcTempFile.log"`` run over
    the capture, so every ``\\n`` of the capture passes a pty again (``\\r\\n`` → ``\\r\\r\\n``),
    with script's header and footer; ANSI codes and backspaces kept."""
    body = data.replace(b"\n", b"\r\n")
    head = SCRIPT_HEADER.format(start=start).encode() + b"\n"
    foot = b"\n" + SCRIPT_FOOTER.format(end=end or start).encode() + b"\n"
    return head + body + foot


def plain_events(transcript: bytes, limit: int = PLAIN_EVENT_BYTES) -> list[str]:
    """The non-streamed CloudWatch events of a transcript: its text with ``\\r\\n`` → ``\\n``, cut
    into messages of at most ``limit`` bytes at line ends."""
    messages: list[str] = []
    message = bytearray()
    for piece in pieces(transcript, limit):
        if message and len(message) + len(piece) > limit:
            messages.append(go_string(bytes(message)).replace("\r\n", "\n"))
            message = bytearray()
        message += piece
    if message:
        text = go_string(bytes(message)).replace("\r\n", "\n")
        messages.append(text[:-1] if text.endswith("\n") else text)
    return messages

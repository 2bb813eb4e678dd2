"""Commands out of terminal output, where prompts, echoed input and output are mixed. Pure.

Session logs hold what the terminal showed, not what was typed. A line that starts with a prompt
holds input; a line after it that starts with a continuation prompt (``> ``, zsh's ``quote> ``,
PowerShell's ``>> ``) continues it while the shell still wants more (open quote, trailing ``\\``
or ``|``, open ``for``/``if``/``{``, a here-document body); every other line is output.

The extractor is fed one log event at a time and keeps what must survive to the next event or the
next invocation in a small ``WatchState`` (the prompts learned, a command still being typed, the
last event fed), which the caller stores on the session's ledger item. A command is reported once,
when it is complete, under the id of the event where it started and its index there
(``source_id``), so a command split across events or invocations is neither lost nor counted twice.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from ssm_warden.transcript import prompts
from ssm_warden.transcript.shell import scan_posix, scan_powershell
from ssm_warden.transcript.terminal import screen_text

MAX_PROMPTS = 4  # learned prompt shapes kept (a nested shell adds one; exiting it goes back)
MAX_CANDIDATES = 24  # unconfirmed prompt shapes counted
LEARN_AFTER = 3  # an unknown prompt shape is learned once it starts this many lines
EXPECT_PROMPT_LINES = 10  # after ``sudo su -``/``bash``/``ssh``: lines in which the new prompt is learned
MAX_PENDING_CHARS = 16_384  # a longer multi-line command is judged at that point; its tail as output
MAX_PENDING_LINES = 400
RETRO_INDEX = 100_000  # index offset of commands found once their prompt was learned


class PendingCommand(BaseModel):
    """A command the shell is still reading (continuation lines or a here-document body follow)."""

    model_config = ConfigDict(extra="ignore")

    lines: list[str] = Field(default_factory=list)
    syntax: str = ""  # the command without its here-document bodies: what the shell parses
    event_id: str
    index: int
    heredocs: list[tuple[str, bool]] = Field(default_factory=list)  # (delimiter, strip_tabs), in order
    heredocs_seen: int = 0
    complete: bool = False  # syntax complete; waiting for here-document bodies only
    powershell: bool = False
    overflow: bool = False  # already judged because it grew too big: the rest is output


class WatchState(BaseModel):
    """What command extraction carries from one log event (and invocation) to the next."""

    model_config = ConfigDict(extra="ignore")

    last_event_id: str | None = None
    prompts: list[str] = Field(default_factory=list)  # learned prompt shapes, most recent first
    candidates: dict[str, int] = Field(default_factory=dict)  # unconfirmed shapes and their counts
    pending: PendingCommand | None = None
    expect_prompt: int = 0  # lines left in which a new shell's first prompt is learned

    @property
    def open_heredoc(self) -> str | None:
        return self.pending.heredocs[0][0] if self.pending and self.pending.heredocs else None


@dataclass(slots=True)
class Command:
    text: str
    event_id: str  # the log event where the command started
    index: int  # its index among the commands that started in that event

    @property
    def source_id(self) -> str:
        return f"{self.event_id}:c{self.index}"


@dataclass(slots=True)
class OutputLine:
    text: str
    event_id: str
    index: int  # line number in the event

    @property
    def source_id(self) -> str:
        return f"{self.event_id}:o{self.index}"


@dataclass(slots=True)
class Extracted:
    """Commands, and output as spans over every line fed (``lines``, cleaned where needed)."""

    commands: list[Command] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    spans: list[list[int]] = field(default_factory=list)  # [start, end) of output runs in ``lines``
    event_ids: list[str] = field(default_factory=list)
    event_starts: list[int] = field(default_factory=list)  # index in ``lines`` of each event's first

    def locate(self, index: int) -> tuple[str, int]:
        """The event id and line number in that event of ``lines[index]``."""
        k = bisect_right(self.event_starts, index) - 1
        return self.event_ids[k], index - self.event_starts[k]

    def output_texts(self) -> Iterator[tuple[int, str]]:
        """(index in ``lines``, text) of every non-empty output line, in order."""
        lines = self.lines
        for start, end in self.spans:
            for i in range(start, end):
                if lines[i]:
                    yield i, lines[i]

    @property
    def output(self) -> list[OutputLine]:
        """Every non-empty output line, in order."""
        return [OutputLine(text, *self.locate(i)) for i, text in self.output_texts()]

    @property
    def output_count(self) -> int:
        return sum(end - start for start, end in self.spans)


# Every prompt (known, learned or candidate) ends with one of ``$#%>``; a line that needs terminal
# replay holds a control character or a caret (``^H``). Other lines are output, whatever the state.
_INTERESTING = re.compile(r"[$#%>^\x00-\x09\x0b-\x1f\x7f]")


class _Finder:
    """The next character at or after a position that may begin something to look at: one of
    ``$#%>^`` (and, in text with control characters, any of those). ``str.find`` per character,
    each remembered until passed, is ten times faster than a regex over a megabyte of output."""

    _CHARS = "$#%>^"

    def __init__(self, text: str, *, controls: bool) -> None:
        self.text = text
        self.controls = controls
        self.ahead = [text.find(c) for c in self._CHARS]

    def next(self, pos: int) -> int:
        if self.controls:
            m = _INTERESTING.search(self.text, pos)
            return m.start() if m else -1
        best = -1
        ahead = self.ahead
        for k, known in enumerate(ahead):
            found = known
            if 0 <= found < pos:
                found = ahead[k] = self.text.find(self._CHARS[k], pos)
            if found >= 0 and (best < 0 or found < best):
                best = found
        return best


def join_lines(lines: list[str]) -> str:
    """The command the shell runs: backslash-newline removed, other line breaks kept."""
    if len(lines) == 1:
        return lines[0]
    out = lines[0]
    for line in lines[1:]:
        stripped = out.rstrip("\\")
        continued = (len(out) - len(stripped)) % 2 == 1  # an unescaped backslash ends the line
        out = out[:-1] + line if continued else out + "\n" + line
    return out


class Extractor:
    """Feeds log events through command extraction; ``state`` is what to store afterwards."""

    def __init__(self, state: WatchState | None = None) -> None:
        state = state or WatchState()
        self._prompts = list(state.prompts)
        self._prompt_re = prompts.compiled_shapes(tuple(self._prompts))
        self._candidates = dict(state.candidates)
        self._pending = state.pending.model_copy(deep=True) if state.pending else None
        self._expect = state.expect_prompt
        self._last_event_id = state.last_event_id
        self.result = Extracted()
        # Output lines (indexes in ``result.lines``) that began with a not-yet-learned prompt shape:
        # commands after all, once the shape is learned.
        self._unconfirmed: dict[str, list[int]] = {}
        self._event_id = ""
        self._event_start = 0
        self._index = 0
        self._at = 0  # index in ``result.lines`` of the line being handled
        self._unconfirmed_shape: str | None = None

    # -- public ---------------------------------------------------------------------------------
    def feed(self, event_id: str, lines: Iterable[str]) -> None:
        """Extract the commands and output lines of one log event into ``result``."""
        self.feed_events([event_id], [0], list(lines))

    def feed_events(self, event_ids: list[str], starts: list[int], lines: list[str]) -> None:
        """Extract from several events at once: ``lines`` holds their lines in stream order and
        ``starts[k]`` is the index in ``lines`` of event ``k``'s first line."""
        if not event_ids:
            return
        text = "\n".join(lines)
        if text.count("\n") != max(len(lines) - 1, 0):  # a line holding line breaks: split it
            event_ids, starts, lines = _split_embedded(event_ids, starts, lines)
            text = "\n".join(lines)
        result = self.result
        base = len(result.lines)
        result.lines.extend(lines)
        result.event_ids.extend(event_ids)
        result.event_starts.extend(starts if base == 0 else [base + s for s in starts])
        bounds = [*starts[1:], len(lines)]
        k = 0  # the event of line i
        self._enter(event_ids[0], base + starts[0])
        i, pos, n = 0, 0, len(lines)
        find = _Finder(text, controls=not "".join(lines).isprintable())
        while i < n:
            if self._pending is None and not self._expect:
                # Most lines are output: jump to the next line with a prompt or control character.
                at = find.next(pos)
                j = n if at < 0 else i + text.count("\n", pos, at)
                if j > i:
                    self._span(base + i, base + j)
                    if at < 0:
                        break
                    pos = text.rfind("\n", 0, at) + 1
                    i = j
            if i >= bounds[k]:
                k = bisect_right(bounds, i, k)
                self._enter(event_ids[k], base + starts[k])
            self._at = base + i
            self._line(lines[i])
            pos += len(lines[i]) + 1
            i += 1
        self._last_event_id = event_ids[-1]

    def flush(self) -> None:
        """Report a command still being typed now (a transcript that ends with it; ``scan``)."""
        if self._pending is not None:
            self._emit_pending()

    @property
    def state(self) -> WatchState:
        return WatchState(
            last_event_id=self._last_event_id,
            prompts=self._prompts,
            candidates=self._candidates,
            pending=self._pending,
            expect_prompt=self._expect,
        )

    # -- lines ----------------------------------------------------------------------------------
    def _enter(self, event_id: str, start: int) -> None:
        self._event_id = event_id
        self._event_start = start
        self._index = 0

    def _span(self, start: int, end: int) -> None:
        spans = self.result.spans
        if spans and spans[-1][1] == start:
            spans[-1][1] = end
        else:
            spans.append([start, end])

    def _line(self, raw: str) -> None:
        line = raw if raw.isprintable() and "^" not in raw else screen_text(raw)
        if line is not raw:
            self.result.lines[self._at] = line
        self._unconfirmed_shape = None
        if self._pending is not None:
            if self._continue(self._pending, line):
                return
            self._emit_pending()
        if not line:
            return
        if not (
            "$ " in line
            or "# " in line
            or "% " in line
            or "> " in line
            or line[-1] in "$#%>"
            or line[1:3] == ":\\"  # a cmd.exe prompt: C:\…>command
        ):
            if self._expect:
                self._expect -= 1
            self._output(line)
            return
        length = self._prompt_or_learn(line)
        if length is None:
            self._output(line)
            return
        powershell = prompts.POWERSHELL_PROMPT.match(line) is not None
        rest = line[length:]
        while rest:  # the doubled prompt of a session's first line
            again = self._known_prompt(rest)
            if not again:
                break
            rest = rest[again:]
        command = rest.strip()
        if command:
            self._start(command, powershell)

    def _known_prompt(self, line: str) -> int | None:
        if self._prompt_re is not None:
            m = self._prompt_re.match(line)
            if m:
                return m.end()
        m = prompts.KNOWN_PROMPT.match(line)
        return m.end() if m else None

    def _prompt_or_learn(self, line: str) -> int | None:
        length = self._known_prompt(line)
        if length is not None:
            self._expect = 0
            return length
        found = prompts.candidate(line)
        if found is None:
            if self._expect:
                self._expect -= 1
            return None
        if self._expect or prompts.doubled(line):
            self._learn(found)
            return len(found)
        shape = prompts.shape_of(found)
        count = self._candidates.get(shape, 0) + 1
        if count >= LEARN_AFTER and found.strip() not in ("#", "%"):
            self._candidates.pop(shape, None)
            self._learn(found)
            self._confirm(shape)
            return len(found)
        self._candidates[shape] = count
        self._unconfirmed_shape = shape
        if len(self._candidates) > MAX_CANDIDATES:
            weakest = min(self._candidates, key=lambda k: self._candidates[k])
            del self._candidates[weakest]
        return None

    def _output(self, line: str) -> None:
        at = self._at
        if self.result.lines[at] is not line:
            self.result.lines[at] = line  # a here-document body line: without its continuation prompt
        self._span(at, at + 1)
        if self._unconfirmed_shape is not None:
            self._unconfirmed.setdefault(self._unconfirmed_shape, []).append(at)
            self._unconfirmed_shape = None

    def _confirm(self, shape: str) -> None:
        """A shape just learned: the lines it began earlier in this invocation were commands."""
        pattern = prompts.compiled_shapes((shape,))
        lines = self.result.lines
        for at in self._unconfirmed.pop(shape, []):
            text = lines[at]
            lines[at] = ""  # no longer output
            m = pattern.match(text) if pattern else None
            command = text[m.end() :].strip() if m else ""
            if command:
                # Indexed apart from the commands found in order (deterministic on a redelivery).
                event_id, number = self.result.locate(at)
                self.result.commands.append(Command(command, event_id, RETRO_INDEX + number))

    def _learn(self, prompt: str) -> None:
        shape = prompts.shape_of(prompt)
        self._prompts = [shape, *[p for p in self._prompts if p != shape]][:MAX_PROMPTS]
        self._prompt_re = prompts.compiled_shapes(tuple(self._prompts))
        self._expect = 0

    # -- commands -------------------------------------------------------------------------------
    def _start(self, command: str, powershell: bool) -> None:
        index = self._index
        self._index += 1
        heredocs: list[tuple[str, bool]] = []
        if powershell:
            complete = scan_powershell(command)
        else:
            scan = scan_posix(command)
            complete = scan.complete
            heredocs = [(h.delimiter, h.strip_tabs) for h in scan.heredocs]
        if complete and not heredocs:
            self._emit_text(command, self._event_id, index)  # the common case: one line, done
            return
        self._pending = PendingCommand(
            lines=[command],
            syntax=command,
            event_id=self._event_id,
            index=index,
            heredocs=heredocs,
            heredocs_seen=len(heredocs),
            complete=complete,
            powershell=powershell,
        )

    def _continue(self, pending: PendingCommand, line: str) -> bool:
        """Take ``line`` as the next line of the pending command if it is one; emit when done."""
        m = (prompts.PS_CONTINUATION if pending.powershell else prompts.CONTINUATION).match(line)
        if m is None:
            return False
        body = line[m.end() :]
        if pending.heredocs:
            delimiter, strip = pending.heredocs[0]
            self._append(pending, body, syntax=False)
            if (body.strip() if strip else body.rstrip()) == delimiter:
                pending.heredocs.pop(0)
        else:
            self._append(pending, body, syntax=True)
            if pending.powershell:
                pending.complete = scan_powershell(pending.syntax)
            else:
                scan = scan_posix(pending.syntax)
                pending.complete = scan.complete
                pending.heredocs.extend(
                    (h.delimiter, h.strip_tabs) for h in scan.heredocs[pending.heredocs_seen :]
                )
                pending.heredocs_seen = len(scan.heredocs)
        if pending.complete and not pending.heredocs:
            self._pending = None
            if not pending.overflow:
                self._emit(pending)
        return True

    def _append(self, pending: PendingCommand, body: str, *, syntax: bool) -> None:
        if syntax:
            pending.syntax += "\n" + body
        if pending.overflow:
            if body.strip():
                self._output(body)
            return
        pending.lines.append(body)
        size = sum(len(x) for x in pending.lines)
        if size > MAX_PENDING_CHARS or len(pending.lines) > MAX_PENDING_LINES:
            self._emit(pending)
            pending.lines = []
            pending.overflow = True
        if len(pending.syntax) > MAX_PENDING_CHARS:
            pending.syntax = pending.syntax[-MAX_PENDING_CHARS:]

    def _emit_pending(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None and not pending.overflow and pending.lines:
            self._emit(pending)

    def _emit(self, pending: PendingCommand) -> None:
        self._emit_text(join_lines(pending.lines).strip(), pending.event_id, pending.index)

    def _emit_text(self, text: str, event_id: str, index: int) -> None:
        if not text:
            return
        self.result.commands.append(Command(text, event_id, index))
        if prompts.switches_shell(text):
            self._expect = EXPECT_PROMPT_LINES


def extract_lines(lines: Iterable[str], event_id: str = "0") -> Extracted:
    """Every command and output line of a whole transcript (one event, flushed at the end)."""
    extractor = Extractor()
    extractor.feed(event_id, lines)
    extractor.flush()
    return extractor.result


def _split_embedded(
    event_ids: list[str], starts: list[int], lines: list[str]
) -> tuple[list[str], list[int], list[str]]:
    """The same events with every line that holds line breaks split into its lines."""
    bounds = [*starts[1:], len(lines)]
    out: list[str] = []
    new_starts: list[int] = []
    for k, start in enumerate(starts):
        new_starts.append(len(out))
        for line in lines[start : bounds[k]]:
            out.extend(line.split("\n"))
    return event_ids, new_starts, out

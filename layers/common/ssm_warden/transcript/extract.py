"""Commands out of terminal output, where prompts, echoed input and output are mixed. Pure.

The session's terminal is modelled, not matched against a list of prompt shapes:

- the **prompt** is learned from the stream itself: the text the shell reprints before every input
  line (its doubled first line, a common shape confirmed by the session, the value of a ``PS1=`` the
  person typed, or a prefix that keeps starting lines), kept with its variable parts (numbers, paths,
  a word that changes on ``cd``); after a command that starts a shell (``bash``, ``sudo su -``,
  ``ssh``, ``docker exec -it``) a new prompt is expected and learned; a prompt that changes without
  such a command is learned too but flagged (``PROMPT_CHANGED``) and its commands are of low
  confidence;
- a PowerShell or cmd.exe prompt (``PS C:\\…> ``, ``C:\\…>``) is kept literal and followed
  through the commands that change its location (``transcript.windows``);
- a line is a command only when it starts with the **current** prompt, where the shell waits for
  input: a prompt-like line that a ``cat``/``git log``/``printf`` prints is output (a bare ``$ ``
  or ``# `` line right after such a command, a line that the command itself holds), or, when the
  prompt is the session's own, a command of medium confidence;
- what the agent does to the terminal is undone where it can be: zsh's PROMPT_SP padding, raw
  lines with colours and window titles, U+FFFD, soft wraps (both readings are judged), a line cut
  at the 33,000-byte buffer (joined again across events);
- lines that were typed but never ran are reported as ``cancelled``, not as commands (Ctrl-C, a
  partial line before a Tab listing, a history expansion whose expanded line is taken instead);
  bracketed pastes are read from their redraw;
- a program with its own prompt (``python3``, ``mysql``, ``psql``, ``sqlite3``) has its input
  lines read as commands of medium confidence, and what it runs in a shell (``os.system('…')``,
  ``\\! …``, ``.shell …``) as a command run from it; ``vim``'s ``:!`` and ``less``'s ``!``
  command lines likewise, also when a command opens them by itself (``git log``, ``git commit``:
  ``transcript.implicit``); a full-screen program or multiplexer (``vim``, ``less``, ``tmux``)
  raises the ``unwatchable:<program>`` flag;
- inside ``tmux``/``screen`` the inner shell's commands are read from the multiplexer's redraw
  (``transcript.multiplexer``: its status line removed) until its client exits; a command after
  the inner shell's own prompt keeps its confidence (typing ``tmux`` must not make a session
  alert-only), one joined from input drawn at the column after an earlier prompt row is medium.

The extractor is fed log events and keeps what must survive to the next event or invocation in a
small ``WatchState``. A command is reported once, when it is complete, under the id of the event
where it started and its index there (``source_id``), so a command split across events or
invocations is neither lost nor counted twice.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from itertools import repeat

from ssm_warden.shells import Shell
from ssm_warden.transcript import editors, multiplexer, prompts, screen, windows
from ssm_warden.transcript.batch import CUT_CHARS, CUT_MAX, Looks, rejoin_cuts, split_embedded
from ssm_warden.transcript.confidence import lower
from ssm_warden.transcript.learning import PromptLearning
from ssm_warden.transcript.model import Command, Extracted, OutputLine, WatchState
from ssm_warden.transcript.reading import CommandReading, join_lines
from ssm_warden.transcript.terminal import INPUT_READY, screen_text, without_prompt_sp

__all__ = ["Command", "Extracted", "Extractor", "OutputLine", "WatchState", "extract_lines", "join_lines"]

START_LINES = 40  # at the start of a session: lines in which the first prompt is learned
CUT_TAIL = 2_000  # what of a cut command line is kept for the next invocation
AFTER_LINES = 4  # output lines kept after a command (a bracketed paste redrawn in the next event)
AFTER_CHARS = 120


class Extractor(PromptLearning, CommandReading):
    """Feeds log events through command extraction; ``state`` is what to store afterwards."""

    def __init__(self, state: WatchState | None = None) -> None:
        self._s = state.model_copy(deep=True) if state else WatchState(expect_prompt=START_LINES)
        self.result = Extracted()
        self._event_id = ""
        self._index = 0
        self._at = 0  # index in ``result.lines`` of the line being handled
        self._batch: list[str] = []
        self._i = 0  # index in ``_batch`` of the line being handled
        self._skip_to = -1  # lines up to this index were consumed by a look-ahead
        self._event_first = False
        self._compiled_key: tuple[str, ...] = ()
        self._compiled: list[re.Pattern[str]] = []
        self._heads_key: tuple[str, ...] = ()
        self._heads_value: tuple[str, ...] = ("",)
        self._plain = False  # the batch is a plain-text transcript (lines end with CR): no events
        self._drawn = False
        self._memo = {}

    # -- public ---------------------------------------------------------------------------------
    def feed(self, event_id: str, lines: Iterable[str]) -> None:
        """Extract the commands and output lines of one log event into ``result``."""
        self.feed_events([event_id], [0], list(lines))

    def feed_events(self, event_ids: list[str], starts: list[int], lines: list[str]) -> None:
        """Extract from several events at once: ``lines`` holds their lines in stream order and
        ``starts[k]`` is the index in ``lines`` of event ``k``'s first line."""
        if not event_ids:
            return
        if any(map(str.__contains__, lines, repeat("\n"))):  # a line holding line breaks: split it
            event_ids, starts, lines = split_embedded(event_ids, starts, lines)
        lines = rejoin_cuts(starts, list(lines))
        result = self.result
        base = len(result.lines)
        result.lines.extend(lines)
        result.event_ids.extend(event_ids)
        result.event_starts.extend(base + s for s in starts)
        self._batch = lines
        self._skip_to = -1
        self._plain = any(line.endswith("\r") for line in lines[:3])
        bounds = [*starts[1:], len(lines)]
        looks = Looks(lines, starts)
        if self._s.after:  # a bracketed paste redrawn here, its first lines seen in the last batch?
            looks.add(k for k, line in enumerate(lines[:8]) if line.strip() == self._s.last_command)
        k = -1
        i, n = 0, len(lines)
        while i < n:
            if not self._slow():
                j = looks.next(i, self._heads(), AFTER_LINES if self._after_window() else 0)
                if j > i:
                    self._span(base + i, base + j)
                    i = j
                    if i >= n:
                        break
            if k < 0 or i >= bounds[k]:
                k = bisect_right(starts, i) - 1
                self._event_id = event_ids[k]
                self._index = 0
            self._at, self._i, self._event_first = base + i, i, i == starts[k]
            if i > self._skip_to:
                self._line(lines[i])
            else:
                self._span(base + i, base + i + 1)
            i += 1
        last = lines[-1] if lines else ""
        if CUT_CHARS <= len(last) <= CUT_MAX:
            self._keep_cut(last)
        self._s.last_event_id = event_ids[-1]

    def flush(self) -> None:
        """Report a command still being typed now (a transcript that ends with it; ``scan``)."""
        if self._s.pending is not None:
            self._emit_pending()

    def judge_pending_beyond(self, chars: int) -> bool:
        """Keep the stored state small: a command still being typed whose text is over ``chars`` is
        judged now, as its reading does at ``MAX_PENDING_CHARS``, and the rest of it is read as
        output; what the shell parses of it is kept to its last ``chars``. True if it was judged."""
        pending = self._s.pending
        if pending is None:
            return False
        judged = False
        if not pending.overflow and sum(len(x) for x in pending.lines) > chars:
            self._emit_from(pending)
            pending.lines = []
            pending.overflow = True
            judged = True
        if len(pending.syntax) > chars:
            pending.syntax = pending.syntax[-chars:]
        return judged

    @property
    def state(self) -> WatchState:
        return self._s.model_copy(deep=True)

    # -- which lines to look at -----------------------------------------------------------------
    def _slow(self) -> bool:
        """Whether every line must be looked at (a command being read, a prompt to learn...)."""
        s = self._s
        return bool(
            s.pending is not None
            or s.expect_prompt
            or s.follow_cd
            or s.program
            or s.multiplexer
            or s.zle_paste
            or s.partial
            or not s.prompts
            or s.cut_tail
        )

    def _after_window(self) -> bool:
        """Whether the last lines of the batch are to be looked at: output right after a command
        may be a bracketed paste that the next invocation shows redrawn."""
        return len(self._s.after) < AFTER_LINES and self._s.last_command_event is not None

    def _heads(self) -> tuple[str, ...]:
        """First characters every line that starts with a current prompt starts with ("" when a
        prompt starts with a variable part: then every line is looked at)."""
        key = tuple(self._s.prompts)
        if key != self._heads_key:
            self._heads_key, self._heads_value = key, self._compute_heads()
        return self._heads_value

    def _compute_heads(self) -> tuple[str, ...]:
        heads: list[str] = []
        for shape in self._s.prompts:
            c = shape[:1]
            if c == "\\" and shape[1:2] and not shape[1:2].isalnum():
                heads.append(shape[1])
            elif c and c not in "\\([.^$*+?{|":
                heads.append(c)
            else:
                return ("",)
        return tuple(heads) or ("",)

    # -- one line -------------------------------------------------------------------------------
    def _clean(self, raw: str) -> str:
        """What the terminal shows of a line: controls replayed, zsh's PROMPT_SP padding removed."""
        text = raw if raw.isprintable() else screen_text(raw)
        if text[:1] in ("%", "#") and "   " in text[:24]:
            text, width = without_prompt_sp(text)
            if width:
                self._s.width = width
        return text

    def _look(self, j: int) -> str | None:
        """The cleaned text of the batch's line ``j`` (look-ahead), or None past its end."""
        return self._clean(self._batch[j]) if j < len(self._batch) else None

    def _line(self, raw: str) -> None:
        s = self._s
        if s.multiplexer:
            self._drawn = False
            raw = self._in_multiplexer(raw)
        text = self._clean(raw)
        if s.cut_tail:
            self._cut_continues(text)
            return
        if text is not raw:
            self.result.lines[self._at] = text
        if s.pending is not None:
            if self._continue(s.pending, editors.zle_at_column_0(raw, text) if s.ps2_empty else text):
                return
            self._emit_pending()
        if not text.strip():
            self._output(text)  # a blank line (a full-screen program's empty rows) spends nothing
            return
        if s.expect_prompt:
            s.expect_prompt -= 1
        ready = INPUT_READY in raw
        hit = None
        if ready:
            # Output that did not end its line (``less``, ``printf x``, tmux's status line) and
            # the prompt after it: readline's bracketed-paste marker says where the shell started
            # reading. (zsh prints the marker after its prompt: then what precedes it is the prompt.)
            cut = raw.rfind(INPUT_READY)
            shown = self._clean(raw[:cut])
            before = shown.strip()
            if before and self._match_current(before + " ") is None:
                tail = self._clean(raw[cut + len(INPUT_READY) :])
                hit = self._prompt(tail, ready) if tail and tail != text else None
                if hit is not None:
                    text = tail
                else:
                    # zsh prints the marker after its prompt: a full-screen program's last row
                    # (``README.md (END)``) may precede the prompt on the line
                    at = self._prompt_ending(shown.rstrip() + " ")
                    line = (shown.rstrip() + " ")[at:] + tail if at is not None else ""
                    hit = self._prompt(line, ready) if line else None
                    if hit is not None:
                        text = line
        if hit is None:
            hit = self._prompt(text, ready)
        if hit is None and s.zle_paste and self._zle_paste_goes_on(raw, text):
            return
        if hit is None and s.partial:
            redrawn = screen.completion_redraw(text, s.partial, cursor_up="\x1b[A" in raw)
            s.partial = ""
            if redrawn is not None:
                self._output(text)
                self._start(redrawn, "completion redraw", "medium", s.shell)
                return
        elif hit is not None:
            s.partial = ""
        if hit is None and s.program in prompts.SHELL_ESCAPES:
            escaped = prompts.shell_escape(s.program, text)
            if escaped:
                self._output(text)
                self._start(escaped, f"run from {s.program}", "medium", "posix")
                return
        if hit is None and s.program == prompts.NO_PROMPT and prompts.plausible_command(text.strip()):
            self._start(text.strip(), "no prompt (PS1 empty): every line may be input", "low", s.shell)
            return
        if hit is None:
            if s.after and text.strip() == s.last_command and self._paste_seen_before():
                return
            self._output(text)
            if len(s.after) < AFTER_LINES and s.last_command_event is not None:
                s.after.append(text.strip()[:AFTER_CHARS])
            return
        length, how, confidence, shell = hit
        rest = text[length:]
        again = self._match_current(rest)
        while again and again[0]:  # the doubled prompt of a session's first line
            rest = rest[again[0] :]
            again = self._match_current(rest)
        self._command_line(rest, raw, text, length, how, confidence, shell, ready)

    # -- a command line -------------------------------------------------------------------------
    def _command_line(
        self,
        rest: str,
        raw: str,
        text: str,
        length: int,
        how: str,
        confidence: str,
        shell: Shell,
        ready: bool,
    ) -> None:
        s = self._s
        if s.sample and ("\x08" in raw or "\x1b" in raw) and s.sample.strip() and s.sample in rest:
            # the prompt printed again in the line: the line was redrawn from column 0 (Ctrl-R's
            # search accepted, a CR the agent deleted); what follows the last one is the input
            cut = raw.rfind(s.sample)
            rest = (
                self._clean(raw[cut + len(s.sample) :])
                if cut >= 0
                else rest[rest.rfind(s.sample) + len(s.sample) :]
            )
            how = f"{how}, redrawn"
        command = rest.strip()
        if how in prompts.PROGRAMS:
            inner = prompts.shell_escape(how, command)
            if inner:
                self._start(inner, f"run from {how}", "medium", "posix")
                return
        if not command:
            self._blank()
            return
        # (zle's marks follow the bracketed-paste marker: a line without it has none of them)
        if command.endswith("^C") or (ready and editors.zsh_interrupted(raw)):
            self._cancel(command.removesuffix("^C").strip(), "cancelled with Ctrl-C", shell)
            return
        if "\x07" in raw[-3:] and raw.rstrip().endswith("\x07"):
            self._cancel(command, "partial line before a completion listing", shell)
            return
        bare = (s.sample or text[:length]) in prompts.BARE or text[:length] in prompts.BARE
        if bare and not prompts.plausible_command(command):
            self._output(text)
            return
        same_event = s.last_command_event == self._event_id and not self._event_first and not ready
        if same_event and len(text.strip()) >= 6 and text.strip() in s.last_command:
            self._output(text)  # ``printf 'sh-4.2$ rm -rf /\n'``: the command's own words
            return
        dumper = prompts.prints_text if s.shell == "posix" else windows.prints_text
        if same_event and dumper(s.last_command) and how not in prompts.PROGRAMS:
            if bare and not self._plain:
                self._output(text)
                return
            confidence = lower(confidence, "medium")
            how = f"{how}, right after the output of `{s.last_command.split(' ', 1)[0]}`"
        nxt = self._look(self._i + 1)
        pasted = screen.paste_redraw(self._look, self._batch, self._i, command) or screen.zle_paste_redraw(
            self._look, self._batch, self._i, command
        )
        if pasted is not None:
            buffer, last = pasted
            self._skip_to = last
            for line in buffer:
                self._feed_input(line, "bracketed paste", confidence, shell)
            return
        unaccepted = ready and editors.zle_unaccepted(raw)
        if unaccepted and editors.zle_pasting(raw):
            s.zle_paste = [command[:AFTER_CHARS]]  # a paste whose redraw comes in a later invocation
            return
        if unaccepted:
            self._cancel(command, "zsh line not accepted (a completion listing follows)", shell)
            s.partial = command[:300]
            return
        if shell == "posix" and screen.history_expansion(command) and nxt is not None:
            expanded = nxt.strip()
            if screen.plausible_expansion(command, expanded) and self._match_current(expanded) is None:
                self._cancel(command, "history expansion: the expanded line ran", shell)
                self._skip_to = self._i + 1
                self._start(expanded, "history expansion", confidence, shell)
                return
        variants = (
            screen.wrap_variants(length, rest.rstrip(), s.width) if len(text) > screen.MIN_WIDTH else ()
        )
        if "^H" in command or "^?" in command:
            erased = editors.caret_erased(command)  # a tty echoing the erase key as ^H (ECHOCTL, no ECHOE)
            if erased != command:
                variants = (*variants, erased)
        if "\b" in raw:
            repaired = self._clean(screen.insert_repair(raw) or "")
            found = self._match_current(repaired) if repaired else None
            fixed = repaired[found[0] :].strip() if found else ""
            if fixed and fixed != command and fixed != text.strip():
                variants = (fixed, *variants)
        self._start(command, how, confidence, shell, variants)

    def _prompt_ending(self, shown: str) -> int | None:
        """Where the current prompt starts in ``shown`` when it runs to the end of it."""
        end = len(shown)
        for i in range(end - 1, max(-1, end - 200), -1):
            if i and shown[i - 1] != " ":
                continue
            found = self._match_current(shown[i:])
            if found is not None and found[0] == end - i:
                return i
        return None

    def _in_multiplexer(self, raw: str) -> str:
        """Inside tmux or screen: what of ``raw`` the inner shell drew (``transcript.multiplexer``):
        the status line removed, input drawn after a prompt of an earlier line joined to it."""
        s = self._s
        text = self._clean(raw)
        if multiplexer.ended(text):
            s.multiplexer, s.waiting = None, ""
            return raw
        pane = multiplexer.pane_text(raw, text)
        if pane is not None:
            shown, col = pane
            waiting = s.waiting
            if col > 1 and waiting and col in (len(waiting) + 1, len(waiting.rstrip()) + 2):
                self._drawn = True
                shown = waiting + shown  # the input typed at the prompt drawn on an earlier line
            raw = text = shown
        if text.strip():
            # a row showing only the prompt: the input may be drawn later, after it
            bare = text.rstrip() + " "
            found = self._match_current(bare)
            s.waiting = bare[:200] if found is not None and found[0] == len(bare) else ""
        return raw

    def _paste_seen_before(self) -> bool:
        """A bracketed-paste redraw whose first lines came in an earlier invocation: the lines
        after the last command come again, after it; they (and the line typed after them) are
        the rest of the pasted buffer."""
        s = self._s
        after = list(s.after)
        for k, line in enumerate(after, 1):
            again = self._look(self._i + k)
            if again is None or again.strip() != line:
                return False
        self._output(self._batch[self._i])
        last = self._i + len(after) + 1
        typed = (self._look(last) or "").strip()
        self._skip_to = last if typed else last - 1
        s.after = []
        for line in [*after, typed] if typed else after:
            self._feed_input(line, "bracketed paste", "high", s.shell)
        return True

    def _zle_paste_goes_on(self, raw: str, text: str) -> bool:
        """A zsh bracketed paste seen across invocations: more pasted lines (reverse video), then
        the redraw of them all and the line typed after it; the buffer is then read as input."""
        s = self._s
        joined = "".join(s.zle_paste)
        shown = text.strip()
        redraw = "\x1b[A" in raw or shown.startswith(joined)
        if not redraw and len(s.zle_paste) < AFTER_LINES * 2:
            s.zle_paste.append(shown[:AFTER_CHARS])  # another pasted line (Strip may drop its colour)
            return True
        buffer, s.zle_paste = s.zle_paste, []
        if not redraw:
            return False
        tail = raw.rstrip("\r")
        if "\r" in tail:  # a transcript: what the last CR starts is the line typed after the paste
            typed = screen_text(tail.rsplit("\r", 1)[-1]).strip()
        else:
            rest = shown[len(joined) :].strip() if shown.startswith(joined) else ""
            typed = editors.zle_first_key_twice(rest)
        for line in [*buffer, typed] if typed else buffer:
            self._feed_input(line, "bracketed paste", "high", s.shell)
        return True

    def _feed_input(self, line: str, how: str, confidence: str, shell: Shell) -> None:
        """A line the shell reads with no prompt shown (a pasted buffer's lines)."""
        pending = self._s.pending
        if pending is not None:
            if self._continue(pending, "> " + line if not self._s.ps2_empty else line):
                return
            self._emit_pending()
        if line.strip():
            self._start(line.strip(), how, confidence, shell)

    def _blank(self) -> None:
        pass

    def _cancel(self, text: str, how: str, shell: Shell) -> None:
        if text:
            self.result.cancelled.append(Command(text, self._event_id, self._index, how, "high", shell))
            self._index += 1

    def _cut_continues(self, text: str) -> None:
        """The first line of an invocation after a command line the agent cut: judge the joint."""
        s = self._s
        joined = s.cut_tail + text
        s.cut_tail = ""
        self.result.lines[self._at] = ""
        self._start(joined.strip(), "rejoined after the agent cut the line", "high", s.shell)

    def _keep_cut(self, line: str) -> None:
        """The batch ends with a line the agent cut: keep its end for the next invocation."""
        last = self.result.commands[-1] if self.result.commands else None
        if last is not None and last.text and line.endswith(last.text[-50:]):
            self._s.cut_tail = last.text[-CUT_TAIL:]

    # -- output ---------------------------------------------------------------------------------
    def _span(self, start: int, end: int) -> None:
        spans = self.result.spans
        if spans and spans[-1][1] == start:
            spans[-1][1] = end
        else:
            spans.append([start, end])

    def _output(self, line: str) -> None:
        at = self._at
        if self.result.lines[at] is not line:
            self.result.lines[at] = line  # a here-document body line: without its continuation prompt
        self._span(at, at + 1)


def extract_lines(lines: Iterable[str], event_id: str = "0") -> Extracted:
    """Every command and output line of a whole transcript (one event, flushed at the end)."""
    extractor = Extractor()
    extractor.feed(event_id, lines)
    extractor.flush()
    return extractor.result

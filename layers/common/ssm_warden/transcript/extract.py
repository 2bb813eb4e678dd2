"""Commands out of terminal output, where prompts, echoed input and output are mixed. Pure.

The session's terminal is modelled, not matched against a list of prompt shapes:

- the **prompt** is learned from the stream itself: the text the shell reprints before every input
  line (its doubled first line, a common shape confirmed by the session, the value of a ``PS1=`` the
  person typed, or a prefix that keeps starting lines), kept with its variable parts (numbers, paths,
  a word that changes on ``cd``); after a command that starts a shell (``bash``, ``sudo su -``,
  ``ssh``, ``docker exec -it``) a new prompt is expected and learned; a prompt that changes without
  such a command is learned too but flagged (``PROMPT_CHANGED``) and its commands are of low
  confidence;
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
- a program with its own prompt (``python3``, ``mysql``, ``psql``) has its input lines read as
  commands of medium confidence; a full-screen program or multiplexer (``vim``, ``less``, ``tmux``)
  makes the session unwatchable (flag) until the shell's prompt returns.

The extractor is fed log events and keeps what must survive to the next event or invocation in a
small ``WatchState``. A command is reported once, when it is complete, under the id of the event
where it started and its index there (``source_id``), so a command split across events or
invocations is neither lost nor counted twice.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

from ssm_warden.shells import Shell
from ssm_warden.transcript import prompts, screen
from ssm_warden.transcript.confidence import lower
from ssm_warden.transcript.model import (
    PROMPT_CHANGED,
    UNWATCHABLE,
    Command,
    Extracted,
    OutputLine,
    PendingCommand,
    WatchState,
)
from ssm_warden.transcript.shell import scan_posix, scan_powershell
from ssm_warden.transcript.terminal import INPUT_READY, screen_text, without_prompt_sp

__all__ = ["Command", "Extracted", "Extractor", "OutputLine", "WatchState", "extract_lines", "join_lines"]

MAX_PROMPTS = 3  # learned prompts kept (a nested shell adds one; exiting it goes back)
MAX_CANDIDATES = 8
LEARN_EXPECTED = 2  # lines an unknown prompt must start when a new prompt is expected
LEARN_UNEXPECTED = 3  # ... and when nothing explains a new prompt
EXPECT_LINES = 12  # after a shell start: lines in which the new prompt is learned
START_LINES = 40  # at the start of a session: lines in which the first prompt is learned
CUT_CHARS = 30_000  # a line this long at an event's end was cut by the agent's 33,000-byte buffer...
CUT_MAX = 33_000  # ... and no longer (the buffer's size): a longer line is a transcript's, not cut
CUT_TAIL = 2_000
MAX_HELD = 4  # lines kept that an unconfirmed prompt started
RETRO_INDEX = 100_000  # index offset of commands found once their prompt was learned
AFTER_LINES = 4  # output lines kept after a command (a bracketed paste redrawn in the next event)
AFTER_CHARS = 120  # what of a cut command line is kept for the next invocation
MAX_PENDING_CHARS = 16_384  # a longer multi-line command is judged at that point; its tail as output
MAX_PENDING_LINES = 400
# First words of commands that change nothing about the terminal (no shell, program or prompt).
_PLAIN_COMMANDS = frozenset(
    {
        "ls",
        "ll",
        "cat",
        "tail",
        "head",
        "grep",
        "egrep",
        "journalctl",
        "systemctl",
        "ps",
        "df",
        "du",
        "free",
        "uptime",
        "whoami",
        "id",
        "date",
        "pwd",
        "echo",
        "printf",
        "curl",
        "wget",
        "aws",
        "dmesg",
        "clear",
        "find",
        "cp",
        "mv",
        "rm",
        "mkdir",
        "touch",
        "chmod",
        "chown",
        "for",
        "while",
        "if",
        "true",
        "false",
        "uname",
        "hostname",
        "history",
        "which",
        "file",
        "stat",
        "tar",
        "gzip",
        "unzip",
        "awk",
        "sed",
        "sort",
        "uniq",
        "wc",
        "diff",
        "make",
        "pip",
        "npm",
    }
)
_PROMPT_END = re.compile(r"[$#%>\u276fλ»\u203a→\ufffd] ")
_SHELL_NAMES = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"})


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

    # -- public ---------------------------------------------------------------------------------
    def feed(self, event_id: str, lines: Iterable[str]) -> None:
        """Extract the commands and output lines of one log event into ``result``."""
        self.feed_events([event_id], [0], list(lines))

    def feed_events(self, event_ids: list[str], starts: list[int], lines: list[str]) -> None:
        """Extract from several events at once: ``lines`` holds their lines in stream order and
        ``starts[k]`` is the index in ``lines`` of event ``k``'s first line."""
        if not event_ids:
            return
        if any("\n" in line for line in lines):
            event_ids, starts, lines = _split_embedded(event_ids, starts, lines)
        lines = _rejoin_cuts(starts, list(lines))
        result = self.result
        base = len(result.lines)
        result.lines.extend(lines)
        result.event_ids.extend(event_ids)
        result.event_starts.extend(base + s for s in starts)
        self._batch = lines
        self._skip_to = -1
        self._plain = any(line.endswith("\r") for line in lines[:3])
        bounds = [*starts[1:], len(lines)]
        looks = _Looks(lines, starts)
        if self._s.after:  # a bracketed paste redrawn here, its first lines seen in the last batch?
            looks.add(k for k, line in enumerate(lines[:8]) if line.strip() == self._s.last_command)
        k = -1
        i, n = 0, len(lines)
        while i < n:
            if not self._slow():
                j = looks.next(i, self._heads(), self._after_window())
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
        text = self._clean(raw)
        if s.cut_tail:
            self._cut_continues(text)
            return
        if text is not raw:
            self.result.lines[self._at] = text
        if s.pending is not None:
            if self._continue(s.pending, _zle_at_column_0(raw, text) if s.ps2_empty else text):
                return
            self._emit_pending()
        if s.expect_prompt:
            s.expect_prompt -= 1
        if not text.strip():
            self._output(text)
            return
        ready = INPUT_READY in raw
        hit = self._prompt(text, ready)
        if hit is None and ready and not text.startswith(raw[raw.rfind(INPUT_READY) + 8 :][:1]):
            # the prompt printed after output that did not end its line (``less``, ``printf x``):
            # readline's bracketed-paste marker says where the shell started reading
            tail = self._clean(raw[raw.rfind(INPUT_READY) + len(INPUT_READY) :])
            if tail and tail != text:
                hit = self._prompt(tail, ready)
                if hit is not None:
                    text = tail
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

    def _match_current(self, text: str) -> tuple[int, int] | None:
        """(length, index in ``prompts``) of the learned prompt ``text`` starts with."""
        key = tuple(self._s.prompts)
        if key != self._compiled_key:
            self._compiled_key, self._compiled = key, [prompts.compiled(p) for p in key]
        for k, pattern in enumerate(self._compiled):
            m = pattern.match(text)
            if m is not None and (m.end() < len(text) or text.strip() == m.group().strip()):
                return m.end(), k
        return None

    def _prompt(self, text: str, ready: bool) -> tuple[int, str, str, Shell] | None:
        """The prompt ``text`` starts with: (length, how, confidence, shell), or None (output)."""
        s = self._s
        if s.program and s.program in prompts.PROGRAMS:
            m = prompts.compiled(prompts.PROGRAMS[s.program]).match(text)
            if m is not None:
                return m.end(), s.program, "medium", "posix"
        found = self._match_current(text)
        if found is not None:
            length, k = found
            if k:  # back in an outer shell: its prompt, and its kind of shell, are current again
                shells = _aligned(s.shells, len(s.prompts))
                s.prompts.insert(0, s.prompts.pop(k))
                shells.insert(0, shells.pop(k))
                s.shells, s.shell = shells, shells[0]
            if s.program:
                s.program = None  # the shell's prompt is back
            return length, s.how or "prompt", self._trust(s.prompts[0]), s.shell
        if s.expect_prompt or not s.prompts:
            return self._learn_expected(text, ready)
        if s.follow_cd:
            found_cd = self._follow_cd(text)
            if found_cd is not None:
                return found_cd
        if self._event_first or ready:
            return self._learn_unexpected(text)
        return None

    def _follow_cd(self, text: str) -> tuple[int, str, str, Shell] | None:
        s = self._s
        s.follow_cd -= 1
        widened = prompts.widen(s.prompts[0], s.sample, text) if s.sample and s.prompts else None
        if widened is None:
            return None
        s.prompts[0] = widened
        m = prompts.compiled(widened).match(text)
        if m is None:
            return None
        s.sample = text[: m.end()][:120]
        return m.end(), s.how or "prompt", self._trust(widened), s.shell

    def _learn_expected(self, text: str, ready: bool) -> tuple[int, str, str, Shell] | None:
        s = self._s
        if s.sample and s.prompts:
            widened = prompts.widen(s.prompts[0], s.sample, text)
            if widened is not None:
                s.prompts[0] = widened
                m = prompts.compiled(widened).match(text)
                if m is not None:
                    s.sample = text[: m.end()][:120]
                    s.expect_prompt = 0
                    return m.end(), s.how or "prompt", self._trust(widened), s.shell
        double = prompts.doubled(text)
        if double is not None:
            self._learn(double, "doubled first prompt", "posix")
            return len(double), s.how, "high", s.shell
        guess = prompts.first_guess(text)
        if guess is not None:
            prompt, shell = guess
            bare = prompt in prompts.BARE
            if bare and not prompts.plausible_command(text[len(prompt) :]):
                return None
            self._learn(prompt, "first-guess prompt", shell)
            return len(prompt), s.how, "medium" if bare and not ready else "high", shell
        return self._count_candidates(text, LEARN_EXPECTED, expected=True)

    def _learn_unexpected(self, text: str) -> tuple[int, str, str, Shell] | None:
        if _PROMPT_END.search(text, 0, 100) is None:
            return None  # no prompt-ending character: not a prompt line (the cheap test first)
        return self._count_candidates(text, LEARN_UNEXPECTED, expected=False)

    def _count_candidates(
        self, text: str, needed: int, *, expected: bool
    ) -> tuple[int, str, str, Shell] | None:
        s = self._s
        options = prompts.candidates(text)
        guess = prompts.first_guess(text)
        if guess is not None and guess[0] not in options:
            options.append(guess[0])
        best: str | None = None
        for prompt in options:
            shape = prompts.shape_of(prompt)
            count = s.candidates.get(shape, 0) + 1
            s.candidates[shape] = count
            if count < needed and len(s.held) < MAX_HELD:
                event_id, number = self.result.locate(self._at)
                s.held.append((shape, event_id, number, text[len(prompt) :].strip()[:300]))
            if count >= needed and best is None and _could_be_prompt(prompt, text, expected=expected):
                best = prompt
        if len(s.candidates) > MAX_CANDIDATES:
            for weakest in sorted(s.candidates, key=lambda k: s.candidates[k])[
                : len(s.candidates) - MAX_CANDIDATES
            ]:
                del s.candidates[weakest]
        if best is None:
            return None
        if not expected:
            if PROMPT_CHANGED not in s.flags:
                s.flags.append(PROMPT_CHANGED)
            if PROMPT_CHANGED not in self.result.flags:
                self.result.flags.append(PROMPT_CHANGED)
        self._learn(best, "repeated prompt" if expected else "prompt changed unexplained", "posix")
        self._confirm(prompts.shape_of(best), "high" if expected else "low")
        if not expected:
            s.untrusted = [s.prompts[0], *s.untrusted][:MAX_PROMPTS]
        return len(best), s.how, "high" if expected else "low", "posix"

    def _confirm(self, shape: str, confidence: str) -> None:
        """A prompt just learned by repetition: the earlier lines it started (in this invocation or
        an earlier one) were command lines, reported apart from the commands found in order."""
        result = self.result
        here = dict(zip(result.event_ids, result.event_starts, strict=True))
        current = result.locate(self._at)
        for held_shape, event_id, number, command in self._s.held:
            if held_shape != shape or (event_id, number) == current:
                continue
            if not command or not prompts.plausible_command(command):
                continue
            if event_id in here:
                result.lines[here[event_id] + number] = ""  # no longer output
            result.commands.append(
                Command(
                    command, event_id, RETRO_INDEX + number, "repeated prompt, found once learned", confidence
                )
            )
        self._s.held = []

    def _trust(self, shape: str) -> str:
        return "low" if shape in self._s.untrusted else "high"

    def _learn(self, prompt: str, how: str, shell: Shell, shape: str | None = None) -> None:
        s = self._s
        shape = shape or prompts.shape_of(prompt) + _vcs(prompt)
        shells = _aligned(s.shells, len(s.prompts))
        kept = [(p, sh) for p, sh in zip(s.prompts, shells, strict=True) if p != shape]
        pairs = [(shape, shell), *kept][:MAX_PROMPTS]
        s.prompts = [p for p, _ in pairs]
        s.shells = [sh for _, sh in pairs]
        s.sample = prompt[:120]
        s.how, s.shell = how, shell
        if not how.startswith(("repeated", "prompt changed")):
            s.held = []
        s.expect_prompt = 0
        s.candidates.clear()

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
        if s.sample and s.sample.strip() and s.sample in rest and ("\x08" in raw or "\x1b" in raw):
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
        if command.endswith("^C") or _zsh_interrupted(raw):
            self._cancel(command.removesuffix("^C").strip(), "cancelled with Ctrl-C", shell)
            return
        if raw.rstrip().endswith("\x07") and "\x07" in raw[-3:]:
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
        if same_event and prompts.prints_text(s.last_command) and how not in prompts.PROGRAMS:
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
        if _zle_unaccepted(raw):
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
            erased = _caret_erased(command)  # a tty echoing the erase key as ^H (ECHOCTL, no ECHOE)
            if erased != command:
                variants = (*variants, erased)
        if "\b" in raw:
            repaired = screen.insert_repair(raw)
            fixed = self._clean(repaired)[length:].strip() if repaired else ""
            if fixed and fixed != command:
                variants = (fixed, *variants)
        self._start(command, how, confidence, shell, variants)

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

    # -- commands -------------------------------------------------------------------------------
    def _start(
        self, command: str, how: str, confidence: str, shell: Shell, variants: tuple[str, ...] = ()
    ) -> None:
        index = self._index
        self._index += 1
        powershell = shell == "powershell"
        heredocs: list[tuple[str, bool]] = []
        if powershell:
            complete = scan_powershell(command)
        elif shell == "cmd":
            complete = not command.endswith("^")
        else:
            scan = scan_posix(command)
            complete = scan.complete
            heredocs = [(h.delimiter, h.strip_tabs) for h in scan.heredocs]
        if complete and not heredocs:
            self._emit(Command(command, self._event_id, index, how, confidence, shell, variants))
            return
        self._s.pending = PendingCommand(
            lines=[command],
            syntax=command,
            event_id=self._event_id,
            index=index,
            heredocs=heredocs,
            heredocs_seen=len(heredocs),
            complete=complete,
            powershell=powershell,
            shell=shell,
            how=how,
            confidence=confidence,
            body_start=1 if heredocs else 0,
        )

    def _continue(self, pending: PendingCommand, line: str) -> bool:
        """Take ``line`` as the next line of the pending command if it is one; emit when done."""
        s = self._s
        if pending.powershell:
            m = prompts.PS_CONTINUATION.match(line)
            body = line[m.end() :] if m else None
        elif s.ps2_empty:
            body = None if self._match_current(line) else line
        else:
            m = prompts.CONTINUATION.match(line)
            body = line[m.end() :] if m else None
        if body is None:
            if (
                pending.how == "bracketed paste"
                and len(pending.lines) == 1
                and self._match_current(line) is None
            ):
                self._output(line)  # output of the commands pasted before this one, which ran first
                return True
            return False
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
                if scan.heredocs[pending.heredocs_seen :] and not pending.body_start:
                    pending.body_start = len(pending.lines)
                pending.heredocs.extend(
                    (h.delimiter, h.strip_tabs) for h in scan.heredocs[pending.heredocs_seen :]
                )
                pending.heredocs_seen = len(scan.heredocs)
        if pending.complete and not pending.heredocs:
            s.pending = None
            if not pending.overflow:
                self._emit_from(pending)
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
            self._emit_from(pending)
            pending.lines = []
            pending.overflow = True
        if len(pending.syntax) > MAX_PENDING_CHARS:
            pending.syntax = pending.syntax[-MAX_PENDING_CHARS:]

    def _emit_pending(self) -> None:
        pending, self._s.pending = self._s.pending, None
        if pending is not None and not pending.overflow and pending.lines:
            self._emit_from(pending)

    def _emit_from(self, pending: PendingCommand) -> None:
        text = join_lines(pending.lines).strip()
        command = Command(
            text, pending.event_id, pending.index, pending.how, pending.confidence, pending.shell
        )
        self._emit(command)
        first = pending.lines[0].split()
        if first and first[0].rsplit("/", 1)[-1] in _SHELL_NAMES and pending.body_start:
            # ``bash <<EOF``: the here-document is the script that shell runs, line by line
            for k, line in enumerate(pending.lines[pending.body_start : -1]):
                if line.strip():
                    self.result.commands.append(
                        Command(
                            line.strip(),
                            pending.event_id,
                            pending.index * 1000 + 500 + k,
                            "heredoc into a shell",
                            pending.confidence,
                            "posix",
                        )
                    )

    def _emit(self, command: Command) -> None:
        if not command.text:
            return
        self.result.commands.append(command)
        s = self._s
        text = command.text
        s.last_command = text[:300]
        s.last_command_event = command.event_id
        s.after = []
        first = text.split(None, 1)[0] if text else ""
        if first in _PLAIN_COMMANDS:
            return  # the common case: nothing that changes what the terminal shows
        assigned = prompts.assigned_prompt(text)
        if assigned is not None:
            name, value = assigned
            if name == "PS2":
                s.ps2_empty = value == ""
            elif value == "" or (value is None and prompts.empties_prompt(text)):
                s.program = prompts.NO_PROMPT  # nothing marks input any more: every line may be it
                flag = f"{UNWATCHABLE}:{prompts.NO_PROMPT}"
                if flag not in self.result.flags:
                    self.result.flags.append(flag)
            elif value is not None:
                self._learn("", "set by PS1=", s.shell, shape=value)
                s.sample = ""
            else:
                s.expect_prompt = EXPECT_LINES
            return
        program = prompts.program_of(text)
        if program is not None:
            s.program = program
            if program not in prompts.PROGRAMS:
                flag = f"{UNWATCHABLE}:{program}"
                if flag not in self.result.flags:
                    self.result.flags.append(flag)
            if program not in ("tmux", "screen"):
                return
        started = prompts.started_shell(text)
        if started is not None:
            s.expect_prompt = EXPECT_LINES
            s.candidates.clear()
            if started != "posix":
                s.shell = started
            return
        if prompts.changes_directory(text):
            s.follow_cd = 2  # the prompt may show the new directory: follow it (widen), learn nothing


def _aligned(shells: list[Shell], n: int) -> list[Shell]:
    """One shell per learned prompt (a state stored before shells were kept: posix)."""
    return [*shells[:n], *(["posix"] * (n - len(shells)))]  # type: ignore[list-item]


def _could_be_prompt(prompt: str, line: str, *, expected: bool) -> bool:
    """Whether a repeated prefix may be the prompt: not one that runs on past a prompt character
    into the command (``λ ls ``), followed by what may be a command; when nothing explains a new
    prompt, only one ending with a usual prompt character."""
    words = prompt.split()
    if not expected and (prompt in prompts.BARE or not _literal(prompts.shape_of(prompt))):
        return False  # ``> `` or a prompt of variable parts only: too common in output
    if (
        len(words) >= 2
        and words[-1].isalpha()
        and words[-1].islower()
        and words[-2][-1:] in "$#%>\u276fλ»\u203a→\ufffd"
    ):
        return False
    if not prompts.plausible_command(line[len(prompt) :]):
        return False
    if words[-1][-1:] not in prompts.PROMPT_ENDS + ")]":
        return False
    return expected or words[-1][-1:] in prompts.PROMPT_ENDS


def _literal(shape: str) -> bool:
    """Whether a shape keeps at least two literal characters besides spaces (an anchor)."""
    plain = re.sub(r"\\[ds]\+|\[\^[^\]]*\][*+]|\\ufffd\+|\\(.)", r"\1", shape)
    return sum(1 for c in plain if not c.isspace()) >= 2


def _vcs(prompt: str) -> str:
    """An optional git segment after a theme prompt that ends with a word (``➜  repo git:(main)``)."""
    tail = prompt.rstrip()[-1:]
    if not tail or tail in "$#%>:":
        return ""
    return r"(?:(?:git|hg):\([^()\s]*\) (?:✗ |\ufffd+ )?)?"


def _caret_erased(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("^H", "^?"), i):
            if out:
                out.pop()
            i += 2
            continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _zle_at_column_0(raw: str, text: str) -> str:
    """zsh's line editor echoes the first key of a line typed at column 0 (an empty PS2), goes back
    with CR and redraws the line: once the agent has deleted the CR, the first character shows
    twice (``eecho``)."""
    if "\r" not in raw and INPUT_READY in raw and len(text) >= 2 and text[0] == text[1] and "\x1b=" in raw:
        return text[1:]
    return text


def _zle_unaccepted(raw: str) -> bool:
    """A zsh line-editor line that ends before zle accepted it (no ``ESC[?2004l`` after it started
    reading): a completion listing or a redraw comes next, not a run."""
    start = raw.rfind(INPUT_READY)
    return start >= 0 and "\x1b=" in raw and "\x1b[?2004l" not in raw[start:]


def _zsh_interrupted(raw: str) -> bool:
    """zsh's line editor leaves keypad mode (``ESC[?1l``) when it accepts a line, not when Ctrl-C
    interrupts it: a raw zle line that ends without it was cancelled."""
    start = raw.rfind(INPUT_READY)
    if start < 0 or "\x1b=" not in raw:
        return False
    tail = raw[start:]
    return tail.rstrip("\r").endswith("\x1b[?2004l") and "\x1b[?1l" not in tail


def extract_lines(lines: Iterable[str], event_id: str = "0") -> Extracted:
    """Every command and output line of a whole transcript (one event, flushed at the end)."""
    extractor = Extractor()
    extractor.feed(event_id, lines)
    extractor.flush()
    return extractor.result


class _Looks:
    """Which lines of a batch may need a look, found without a Python step per line: lines that
    start with a prompt's first character (``str.find`` over the joined text), lines holding
    control characters, an event's first line with a prompt-ending character (a person's next
    command usually starts an event: a new prompt?), and the batch's last lines."""

    def __init__(self, lines: list[str], starts: list[int]) -> None:
        self.lines = lines
        self.text = "\n" + "\n".join(lines)
        fixed: set[int] = set()
        if not "".join(lines).isprintable():
            fixed.update(k for k, line in enumerate(lines) if not line.isprintable())
        search = _PROMPT_END.search
        fixed.update(k for k in starts if k < len(lines) and search(lines[k], 0, 100) is not None)
        self.fixed = sorted(fixed)
        self.heads: tuple[str, ...] | None = None
        self.by_head: list[int] = []

    def add(self, indexes: Iterable[int]) -> None:
        self.fixed = sorted({*self.fixed, *indexes})

    def _head_lines(self, heads: tuple[str, ...]) -> list[int]:
        if heads == self.heads:
            return self.by_head
        found: set[int] = set()
        if "" in heads:
            found.update(range(len(self.lines)))
        else:
            text = self.text
            for head in heads:
                needle = "\n" + head
                at = text.find(needle)
                line, last = 0, 0
                while at >= 0:
                    line += text.count("\n", last, at)  # the line that ``at``'s newline starts
                    last = at
                    found.add(line)
                    at = text.find(needle, at + 1)
        self.heads, self.by_head = heads, sorted(found)
        return self.by_head

    def next(self, i: int, heads: tuple[str, ...], after: bool) -> int:
        """The first line at or after ``i`` to look at (``len(lines)`` when none)."""
        n = len(self.lines)
        best = n
        for found in (self.fixed, self._head_lines(heads)):
            k = bisect_left(found, i)
            if k < len(found) and found[k] < best:
                best = found[k]
        if after:
            best = min(best, max(i, n - AFTER_LINES))
        return best


def _rejoin_cuts(starts: list[int], lines: list[str]) -> list[str]:
    """Lines the agent cut at its 33,000-byte buffer, joined again: the last line of an event that
    long, and the first line of the next event."""
    for k in range(1, len(starts)):
        end = starts[k] - 1
        if end >= starts[k - 1] and CUT_CHARS <= len(lines[end]) <= CUT_MAX and starts[k] < len(lines):
            lines[end] = lines[end] + lines[starts[k]]
            lines[starts[k]] = ""
    return lines


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

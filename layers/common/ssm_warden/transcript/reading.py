"""Reading commands as the shell reads them: continuation lines, here-documents, the end of a
command, and what a command changes about the terminal (a new shell, a program, a prompt)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ssm_warden.shells import Shell
from ssm_warden.transcript import implicit, prompts, windows
from ssm_warden.transcript.confidence import lower
from ssm_warden.transcript.model import UNWATCHABLE, Command, Extracted, PendingCommand, WatchState
from ssm_warden.transcript.shell import ShellScan, scan_posix, scan_powershell

T = TypeVar("T")

EXPECT_LINES = 12  # after a shell start: lines in which the new prompt is learned
MAX_PENDING_CHARS = 16_384  # a longer multi-line command is judged at that point; its tail as output
MAX_PENDING_LINES = 400
MEMO_CHARS = 2_000  # a longer text (a growing multi-line command) is read again rather than kept
_SHELL_NAMES = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"})
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


class CommandReading:
    _s: WatchState
    result: Extracted
    _event_id: str
    _index: int
    _drawn: bool  # the line being read was joined from a multiplexer's drawing
    # What pure readings of a text gave, for this extractor's batch only (commands repeat: ``ls``,
    # ``git status``): the same answer without reading the text again.
    _memo: dict[tuple[Callable[[str], Any], str], Any]

    def _pure(self, reading: Callable[[str], T], text: str) -> T:
        """``reading(text)`` for a pure ``reading`` of a command text, remembered in the batch."""
        key = (reading, text)
        memo = self._memo
        if key in memo:
            return memo[key]  # type: ignore[no-any-return]
        found = reading(text)
        if len(text) <= MEMO_CHARS:
            memo[key] = found
        return found

    def _scan(self, text: str) -> ShellScan:
        return self._pure(scan_posix, text)

    def _output(self, line: str) -> None:
        raise NotImplementedError

    def _match_current(self, text: str) -> tuple[int, int] | None:
        raise NotImplementedError

    def _learn(self, prompt: str, how: str, shell: Shell, shape: str | None = None) -> None:
        raise NotImplementedError

    # -- commands -------------------------------------------------------------------------------
    def _start(
        self, command: str, how: str, confidence: str, shell: Shell, variants: tuple[str, ...] = ()
    ) -> None:
        index = self._index
        self._index += 1
        if self._s.multiplexer:
            how = f"{how}, inside {self._s.multiplexer}"
            if self._drawn:
                # joined from the multiplexer's drawing (input drawn at the column after a prompt
                # row seen earlier): the model inferred the line, it did not read it
                confidence = lower(confidence, "medium")
                how = f"{how}, drawn after an earlier prompt row"
        powershell = shell == "powershell"
        heredocs: list[tuple[str, bool]] = []
        if powershell:
            complete = scan_powershell(command)
        elif shell == "cmd":
            complete = not command.endswith("^")
        else:
            scan = self._scan(command)
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
        elif pending.shell == "cmd":
            m = windows.CMD_CONTINUATION.match(line)
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
            elif pending.shell == "cmd":
                pending.complete = not pending.syntax.endswith("^")
            else:
                scan = self._scan(pending.syntax)
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
        joined = windows.join_cmd(pending.lines) if pending.shell == "cmd" else join_lines(pending.lines)
        text = joined.strip()
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
        if s.after:
            s.after = []
        first = text.split(None, 1)[0] if text else ""
        if first in _PLAIN_COMMANDS:
            return  # the common case: nothing that changes what the terminal shows
        assigned = self._pure(prompts.assigned_prompt, text)
        if assigned is not None:
            name, value = assigned
            if name == "PS2":
                s.ps2_empty = value == ""
            elif value == "" or (value is None and self._pure(prompts.empties_prompt, text)):
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
        # a long line wrapped at an unknown width: what it starts is read from every reading of it
        program = next((p for t in command.texts if (p := self._pure(prompts.program_of, t))), None)
        if program is not None:
            s.program = program
            if program not in prompts.PROGRAMS:
                flag = f"{UNWATCHABLE}:{program}"
                if flag not in self.result.flags:
                    self.result.flags.append(flag)
            if program not in ("tmux", "screen"):
                return
            s.multiplexer = self._pure(prompts.enters_multiplexer, text) or s.multiplexer
        opened = (
            next((o for t in command.texts if (o := self._pure(implicit.opened_by, t))), None)
            if program is None
            else None
        )
        if opened is not None:
            s.program = opened  # ``git log`` in less, ``crontab -e`` in vi: their escapes are read
        started = self._pure(prompts.started_shell, text)
        if started is not None:
            s.expect_prompt = EXPECT_LINES
            s.candidates.clear()
            if started != "posix":
                s.shell = started
            return
        if s.shell != "posix":
            if self._pure(windows.changes_location, text):
                s.follow_cd = 2  # the prompt shows the new location: the next one is learned
            return
        if self._pure(prompts.changes_directory, text):
            s.follow_cd = 2  # the prompt may show the new directory: follow it (widen), learn nothing

"""What command extraction produces (commands, output spans, flags) and what it carries between
invocations (``WatchState``, stored on the session's ledger item: small and JSON-serialisable)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ssm_warden.shells import Shell

# Flags an extraction may raise about the session as a whole.
PROMPT_CHANGED = "prompt-changed-unexpectedly"  # a new prompt not after a shell start or PS1=
UNWATCHABLE = "unwatchable"  # a full-screen program or multiplexer: what runs in it is not seen


class _Assigned(BaseModel):
    """A model whose fields the extractor assigns thousands of times per batch: a field is set as
    pydantic sets it without ``validate_assignment`` (the value stored, the field marked set), in
    one step instead of pydantic's general ``__setattr__``."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self).__pydantic_fields__:
            self.__dict__[name] = value
            self.__pydantic_fields_set__.add(name)
        else:
            super().__setattr__(name, value)


class PendingCommand(_Assigned):
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
    shell: Shell = "posix"
    overflow: bool = False  # already judged because it grew too big: the rest is output
    how: str = "prompt"
    confidence: str = "high"
    body_start: int = 0  # index in ``lines`` of the first here-document body line


class WatchState(_Assigned):
    """What command extraction carries from one log event (and invocation) to the next."""

    model_config = ConfigDict(extra="ignore")

    last_event_id: str | None = None
    prompts: list[str] = Field(default_factory=list)  # learned prompt shapes, current first
    sample: str = ""  # the text the current prompt was learned from (to follow it through ``cd``)
    shell: Shell = "posix"  # the shell of the current prompt
    shells: list[Shell] = Field(default_factory=list)  # the shell of each learned prompt
    how: str = ""  # how the current prompt was learned
    untrusted: list[str] = Field(default_factory=list)  # prompts no command explained
    candidates: dict[str, int] = Field(default_factory=dict)  # unconfirmed shapes and their counts
    pending: PendingCommand | None = None
    expect_prompt: int = 0  # lines left in which a new prompt is learned
    follow_cd: int = 0  # lines in which the prompt may show a new working directory
    program: str | None = None  # an interactive program with its own prompt (python, mysql)
    multiplexer: str | None = None  # tmux/screen: the terminal shows its redraw of inner shells
    waiting: str = ""  # inside a multiplexer: the prompt of a row where the shell waits for input
    ps2_empty: bool = False  # PS2='' : continuation lines come without a prompt
    width: int | None = None  # terminal width, when the session showed it (zsh's PROMPT_SP)
    last_command: str = ""  # the last command, cut to 300 characters
    last_command_event: str | None = None
    held: list[tuple[str, str, int, str]] = Field(default_factory=list)  # (shape, event, line, command)
    zle_paste: list[str] = Field(default_factory=list)  # a zsh paste's lines, its redraw to come
    partial: str = ""  # a zle line left unaccepted (a completion listing follows), to find its redraw
    after: list[str] = Field(default_factory=list)  # first output lines after the last command (short)
    cut_tail: str = ""  # the end of a line the agent cut at its 33,000-byte buffer
    flags: list[str] = Field(default_factory=list)

    @property
    def open_heredoc(self) -> str | None:
        return self.pending.heredocs[0][0] if self.pending and self.pending.heredocs else None


@dataclass(slots=True)
class Command:
    """A command the shell ran, as far as the terminal shows.

    ``how`` says how it was recognised (``prompt`` after the session's learned prompt,
    ``first-guess`` after a common prompt shape, ``bracketed-paste``, ``history-expansion``,
    ``heredoc-into-shell``, ``python``...), ``confidence`` is ``high``, ``medium`` or ``low`` (see
    ``transcript.confidence``), ``shell`` the shell whose prompt it followed. ``variants`` are other
    readings of the same line that the judge also sees (a long line wrapped at an unknown width)."""

    text: str
    event_id: str  # the log event where the command started
    index: int  # its index among the commands that started in that event
    how: str = "prompt"
    confidence: str = "high"
    shell: Shell = "posix"
    variants: tuple[str, ...] = ()

    @property
    def source_id(self) -> str:
        return f"{self.event_id}:c{self.index}"

    @property
    def texts(self) -> tuple[str, ...]:
        """Every reading to judge: the text, then its variants."""
        return (self.text, *self.variants)


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
    cancelled: list[Command] = field(default_factory=list)  # typed, never run (Ctrl-C, Tab listing)
    flags: list[str] = field(default_factory=list)  # PROMPT_CHANGED, "unwatchable:<program>"
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

    @property
    def unwatchable(self) -> str | None:
        """The program that made the session unwatchable, if one did."""
        for flag in self.flags:
            if flag.startswith(UNWATCHABLE + ":"):
                return flag.split(":", 1)[1]
        return None

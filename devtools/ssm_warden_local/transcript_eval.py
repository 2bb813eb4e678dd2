"""Measure command extraction on recorded shell sessions, in every form the agent produces.

Each recording (``recorder.py``) holds the raw pty output and the commands the shell really ran.
It is turned into:

- ``stream``: the agent's streamed events (``agent_model``), fed to the extractor one
  PutLogEvents call at a time, with the watch state stored as JSON between calls (the live path);
- ``s3``: the end-of-session ``script`` transcript, read whole as ``ssm-warden scan`` reads a
  ``<sessionId>.log`` file (also what an interactive-command session uploads at its end);
- ``plain``: the non-streamed CloudWatch events of that transcript, one invocation each.

Figures: the share of commands that ran that were found (a command of several lines counts when
every line is found), commands judged that never ran, and how many of those were screen output.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssm_warden.transcript.extract import Extracted, Extractor, WatchState
from ssm_warden.transcript.terminal import split_text
from ssm_warden_local import agent_model
from ssm_warden_local.recorder import GITLOG, OUT, README

FORMS = ("stream", "s3", "plain")


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@dataclass
class Recording:
    name: str
    shell: str
    group: str
    chunks: list[bytes]
    ticks: list[int]
    ran: list[str]
    # Program sessions: which program ran each command (``ran_by``), the lines a REPL read (not
    # commands any shell ran: not counted as found or missed, and not made up when judged), and
    # the flags the session must raise (``unwatchable:tmux``).
    ran_by: list[str] = field(default_factory=list)
    read_by_programs: list[str] = field(default_factory=list)
    expect_flags: list[str] = field(default_factory=list)

    @property
    def raw(self) -> bytes:
        return b"".join(self.chunks)


def load(path: Path) -> Recording:
    data = json.loads(path.read_text())
    ticks: list[int] = []
    previous = 0
    for tick, _ in data["chunks"]:
        ticks.append(max(0, tick - previous))
        previous = tick
    chunks = [base64.b64decode(c) for _, c in data["chunks"]]
    return Recording(
        data["name"],
        data["shell"],
        data["group"],
        chunks,
        ticks,
        data["ran"],
        data.get("ran_by", []),
        data.get("read_by_programs", []),
        data.get("expect_flags", []),
    )


PROGRAMS_GROUP = "programs"  # sessions that run vim, less, python3, tmux...: measured apart


def recordings(folder: Path = OUT, *, programs: bool | None = None) -> list[Recording]:
    """The recordings in ``folder``; only the program sessions (``programs=True``), only the
    others (``False``), or all (``None``)."""
    found = [load(p) for p in sorted(folder.glob("*.json"))]
    if programs is None:
        return found
    return [r for r in found if (r.group == PROGRAMS_GROUP) == programs]


def stream_calls(rec: Recording) -> list[list[list[str]]]:
    """The agent's PutLogEvents calls for the recording: each a list of (at most 4) events."""
    stream = agent_model.AgentStream()
    calls: list[list[list[str]]] = []
    for k, chunk in enumerate(rec.chunks):
        for _ in range(rec.ticks[k]):
            call = stream.tick()
            if call:
                calls.append(call)
        stream.feed(chunk)
    while True:
        call = stream.tick(final=True)
        if not call:
            break
        calls.append(call)
    return calls


def extract_invocations(invocations: list[list[list[str]]]) -> Extracted:
    """Extraction as the live path does it: one Extractor per invocation, the state stored as JSON."""
    state: WatchState | None = None
    merged = Extracted()
    event_number = 0
    for events in invocations:
        extractor = Extractor(state)
        ids: list[str] = []
        starts: list[int] = []
        lines: list[str] = []
        for event in events:
            ids.append(str(event_number))
            starts.append(len(lines))
            lines.extend(event)
            event_number += 1
        extractor.feed_events(ids, starts, lines)
        merged.commands.extend(extractor.result.commands)
        merged.cancelled.extend(extractor.result.cancelled)
        merged.flags.extend(f for f in extractor.result.flags if f not in merged.flags)
        merged.lines.extend(text for _, text in extractor.result.output_texts())
        state = WatchState.model_validate(json.loads(json.dumps(extractor.state.model_dump(mode="json"))))
    return merged


def extract_form(rec: Recording, form: str) -> Extracted:
    if form == "stream":
        return extract_invocations(stream_calls(rec))
    transcript = agent_model.script_transcript(rec.raw)
    if form == "s3":
        extractor = Extractor()
        extractor.feed("0", split_text(transcript.decode("utf-8", errors="replace")))
        extractor.flush()
        return extractor.result
    messages = agent_model.plain_events(transcript)
    return extract_invocations([[split_text(m)] for m in messages])


@dataclass
class Score:
    ran: int = 0
    found: int = 0
    judged: int = 0
    never_ran: list[str] = field(default_factory=list)
    output_taken: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    flags_expected: int = 0  # "unwatchable:<program>" flags the sessions must raise
    flags_missing: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.ran if self.ran else 1.0

    def add(self, other: Score) -> None:
        self.ran += other.ran
        self.found += other.found
        self.judged += other.judged
        self.never_ran += other.never_ran
        self.output_taken += other.output_taken
        self.missed += other.missed
        self.flags_expected += other.flags_expected
        self.flags_missing += other.flags_missing


_SCREEN_TEXT = {norm(x) for x in (README + GITLOG).splitlines() if x.strip()} | {"sh-4.2$ rm -rf /"}


def score(rec: Recording, extracted: Extracted) -> Score:
    """A command that ran is found when an extracted command (or a reading of it) is that command,
    or when every one of its lines is a line of extracted commands (a pasted buffer the shell read
    as several commands; dash's truth, which is lines); the other way round, an extracted command
    ran when it, or every one of its lines, is among the commands or lines that ran. A command that
    ran n times is found when it was extracted n times."""
    truth = [norm(c) for c in rec.ran]
    truth_lines = {norm(line) for c in rec.ran for line in c.split("\n") if line.strip()}
    ran = set(truth) | truth_lines | {norm(x) for x in rec.read_by_programs}
    # How many times each text, and each line, was extracted (a command that ran twice must be
    # found twice: ``id`` from less and again from git log's pager)
    seen: Counter[str] = Counter()
    seen_lines: Counter[str] = Counter()
    for command in extracted.commands:
        seen.update({norm(text) for text in command.texts})
        seen_lines.update({norm(x) for text in command.texts for x in text.split("\n") if x.strip()})
    result = Score(ran=len(truth), judged=len(extracted.commands), flags_expected=len(rec.expect_flags))
    result.flags_missing = [f for f in rec.expect_flags if f not in extracted.flags]
    for entry, original in zip(truth, rec.ran, strict=True):
        lines = [norm(x) for x in original.split("\n") if x.strip()]
        if seen[entry] > 0:
            seen[entry] -= 1
            seen_lines.subtract(set(lines))
            result.found += 1
        elif all(seen_lines[line] > 0 for line in lines):
            seen_lines.subtract(lines)
            result.found += 1
        else:
            result.missed.append(original)
    for command in extracted.commands:
        ok = False
        for text in command.texts:
            lines = [norm(x) for x in text.split("\n") if x.strip()]
            if norm(text) in ran or all(line in ran for line in lines):
                ok = True
        if ok:
            continue
        result.never_ran.append(command.text)
        texts = {norm(t) for t in command.texts}
        if any(t in s or s.endswith(t) for t in texts for s in _SCREEN_TEXT):
            result.output_taken.append(command.text)
    return result


def evaluate(folder: Path = OUT, *, programs: bool | None = None) -> Iterator[tuple[Recording, str, Score]]:
    for rec in recordings(folder, programs=programs):
        for form in FORMS:
            yield rec, form, score(rec, extract_form(rec, form))


def summary(folder: Path = OUT, *, programs: bool | None = None) -> dict[str, Any]:
    by_form: dict[str, Score] = {f: Score() for f in FORMS}
    by_group: dict[str, Score] = {}
    rows = []
    for rec, form, s in evaluate(folder, programs=programs):
        by_form[form].add(s)
        by_group.setdefault(rec.group, Score()).add(s)
        rows.append((rec.name, form, s))
    return {"by_form": by_form, "by_group": by_group, "rows": rows}

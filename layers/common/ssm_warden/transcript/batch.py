"""The lines of one batch of log events: which may need a look, and lines the agent cut. Pure."""

from __future__ import annotations

import operator
import re
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from itertools import compress, count, repeat

CUT_CHARS = 30_000  # a line this long at an event's end was cut by the agent's 33,000-byte buffer...
CUT_MAX = 33_000  # ... and no longer (the buffer's size): a longer line is a transcript's, not cut
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
PROMPT_END = re.compile(r"[$#%>\u276fλ»\u203a→\ufffd] ")  # a usual last character of a prompt


class Looks:
    """Which lines of a batch may need a look, found without a Python step per line: lines that
    start with a prompt's first character (``str.startswith`` mapped over the lines), lines holding
    control characters, an event's first line with a prompt-ending character (a person's next
    command usually starts an event: a new prompt?), and the batch's last lines."""

    def __init__(self, lines: list[str], starts: list[int]) -> None:
        self.lines = lines
        self.text = "\n" + "\n".join(lines)
        fixed: set[int] = set()
        if _CONTROL.search(self.text, 1) is not None:  # lines to clean (escapes, BS, CR)
            fixed.update(_unprintable_lines(self.text, lines))
        # an event's first line with a prompt-ending character near its start
        search = PROMPT_END.search
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
        elif not any("\n" in head for head in heads):
            # one C pass: the lines hold no line breaks, so a line starts with a head exactly
            # where the joined text holds a newline and that head
            found.update(compress(count(), map(str.startswith, self.lines, repeat(heads))))
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

    def next(self, i: int, heads: tuple[str, ...], after: int) -> int:
        """The first line at or after ``i`` to look at (``len(lines)`` when none)."""
        n = len(self.lines)
        best = n
        for found in (self.fixed, self._head_lines(heads)):
            k = bisect_left(found, i)
            if k < len(found) and found[k] < best:
                best = found[k]
        if after:  # the batch's last ``after`` lines
            best = min(best, max(i, n - after))
        return best


_ASCII_CONTROLS = tuple(chr(c) for c in (*range(0x0A), *range(0x0B, 0x20), 0x7F))


def _unprintable_lines(text: str, lines: list[str]) -> Iterable[int]:
    """The lines that are not printable (``str.isprintable``), ``text`` being a newline and the
    lines joined by newlines. In ASCII text those are the lines holding an ASCII control character,
    found with ``str.find`` (a batch holds few: backspaces, escapes); else one C pass over the lines."""
    if text.isascii():
        present = [c for c in _ASCII_CONTROLS if c in text]
        if sum(text.count(c) for c in present) <= len(lines) // 4:
            found: set[int] = set()
            line, last = 0, 0  # the index of the line that the newline at ``last`` starts
            for at in sorted(at for c in present for at in _finds(text, c)):
                newline = text.rfind("\n", 0, at)
                line += text.count("\n", last, newline)
                last = newline
                found.add(line)
            return found
    return compress(count(), map(operator.not_, map(str.isprintable, lines)))


def _finds(text: str, needle: str) -> Iterator[int]:
    at = text.find(needle)
    while at >= 0:
        yield at
        at = text.find(needle, at + 1)


def rejoin_cuts(starts: list[int], lines: list[str]) -> list[str]:
    """Lines the agent cut at its 33,000-byte buffer, joined again: the last line of an event that
    long, and the first line of the next event."""
    if len(starts) < 2 or max(map(len, lines), default=0) < CUT_CHARS:
        return lines  # no line that long: the common case, without a step per event
    for k in range(1, len(starts)):
        end = starts[k] - 1
        if end >= starts[k - 1] and CUT_CHARS <= len(lines[end]) <= CUT_MAX and starts[k] < len(lines):
            lines[end] = lines[end] + lines[starts[k]]
            lines[starts[k]] = ""
    return lines


def split_embedded(
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

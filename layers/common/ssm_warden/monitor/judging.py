"""Judging a batch's commands and output lines with the detector, at batch speed.

A busy session's batch holds about a thousand commands and tens of thousands of output lines. Two
things keep judging them near the cost of decoding the batch, without changing a single verdict:

- commands repeat (``ls``, ``kubectl get pods``, ``git status``): the findings of a command text are
  remembered (per container, per rule set; the detector is deterministic);
- output lines are screened many at a time: the positive patterns of every output rule, compiled in
  multi-line mode into one RE2 set, are run over blocks of lines joined by newlines. A line that an
  output rule flags matches one of those patterns on its own, so it also matches in its block (RE2
  has no look-around; ``^``/``$`` match at line ends in multi-line mode), and in each half of the
  block that holds it: a block the screen hits is halved until the lines it hits, and only those
  are judged one by one with ``judge_output`` (a judged line costs some fifty screened ones). A
  detector that does not expose its output rules, or a pattern with ``\\A``/``\\z``, turns the
  screen off (every line is judged).
"""

from __future__ import annotations

import importlib
from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from ssm_warden.models.findings import Finding
from ssm_warden.shells import Shell
from ssm_warden.transcript.extract import Extracted, OutputLine

if TYPE_CHECKING:
    from ssm_warden.detect.facts import OwnNetwork
    from ssm_warden.policy.evaluate import EffectiveSettings

BLOCK_LINES = 256
COMMAND_CACHE_SIZE = 4096


class Judge(Protocol):
    def judge_command(self, command: str, shell: Shell = "posix") -> list[Finding]: ...

    def judge_output(self, line: str) -> list[Finding]: ...


class BatchJudge:
    """The detector behind a command cache and an output screen."""

    def __init__(self, detector: Judge, cache_size: int = COMMAND_CACHE_SIZE) -> None:
        self.detector = detector
        self._cache: OrderedDict[tuple[Shell, str], list[Finding]] = OrderedDict()
        self._cache_size = cache_size
        self._screen = output_screen(detector)

    def judge_command(self, command: str, shell: Shell = "posix") -> list[Finding]:
        # The same text means different things in different shells: the shell is part of the key.
        key = (shell, command)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        findings = self.detector.judge_command(command, shell)
        self._cache[key] = findings
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return findings

    def judge_output(self, line: str) -> list[Finding]:
        return self.detector.judge_output(line)

    def judge_output_of(self, extracted: Extracted) -> Iterator[tuple[OutputLine, list[Finding]]]:
        """The output lines that output rules flag, with their findings (in order)."""
        group: list[tuple[int, int]] = []
        size = 0
        for first, end in extracted.spans:
            start = first
            while start < end:  # cut long spans into groups of BLOCK_LINES
                take = min(end, start + BLOCK_LINES - size)
                group.append((start, take))
                size += take - start
                start = take
                if size >= BLOCK_LINES:
                    yield from self._judge_group(extracted, group)
                    group, size = [], 0
        if group:
            yield from self._judge_group(extracted, group)

    def _judge_group(
        self, extracted: Extracted, group: list[tuple[int, int]]
    ) -> Iterator[tuple[OutputLine, list[Finding]]]:
        lines = extracted.lines
        indexes = [i for a, b in group for i in range(a, b)]
        judge = self.detector.judge_output
        for i in indexes if self._screen is None else self._screened(lines, indexes):
            if lines[i]:
                findings = judge(lines[i])
                if findings:
                    yield OutputLine(lines[i], *extracted.locate(i)), findings

    def _screened(self, lines: list[str], indexes: list[int]) -> list[int]:
        """The lines among ``indexes`` that the screen hits, in order: a block it hits is halved
        until single lines (a line an output rule flags is hit in every block that holds it), so
        that a block with one secret in it is not judged line by line."""
        screen = self._screen
        if screen is None or not screen.Match("\n".join([lines[i] for i in indexes])):
            return []
        if len(indexes) == 1:
            return indexes
        half = len(indexes) // 2
        return self._screened(lines, indexes[:half]) + self._screened(lines, indexes[half:])

    def clear(self) -> None:
        """Forget remembered command findings (the bench measures a cold container)."""
        self._cache.clear()


def output_screen(detector: Any) -> Any | None:
    """An RE2 set of every output rule's positive patterns in multi-line mode, or None."""
    rules = getattr(detector, "output_rules", None)
    if rules is None:
        return None
    try:
        patterns = [
            pattern
            for rule in rules
            for clause in rule.clauses
            if clause.scope == "output"
            for pattern in clause.match
        ]
        if any("\\A" in p or "\\z" in p for p in patterns):
            return None
        if not patterns:
            return _NoOutputRules()
        re2 = importlib.import_module("re2")
        options = re2.Options()
        options.max_mem = 64 << 20
        screen = re2.Set.SearchSet(options)
        for pattern in patterns:
            screen.Add(f"(?m){pattern}")
        screen.Compile()
    except Exception:  # an unexpected rule shape or pattern: judge every line instead
        return None
    return screen


class _NoOutputRules:
    """The screen of a rule set without output rules: no line can be flagged."""

    def Match(self, text: str) -> list[int]:
        return []


@lru_cache(maxsize=16)
def batch_judge(packs: tuple[str, ...], own: OwnNetwork | None = None) -> BatchJudge:
    """The judge for these rule packs and the account's own network (the policy's ``own_network``),
    kept for the container's life (its command cache too)."""
    from ssm_warden.detect.detector import get_detector

    return BatchJudge(get_detector(packs, own))


def own_network_of(settings: EffectiveSettings) -> OwnNetwork:
    """The detector's view of the policy's ``own_network``: what is not an unknown destination."""
    from ssm_warden.detect.facts import OwnNetwork

    return OwnNetwork(tuple(settings.own_network.buckets), tuple(settings.own_network.domains))

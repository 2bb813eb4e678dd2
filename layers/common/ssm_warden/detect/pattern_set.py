"""One RE2 set over many rules' patterns, and what each pattern belongs to (shared by the POSIX and
the Windows detectors): judging a text is one linear-time pass whatever the number of patterns."""

from __future__ import annotations

import re2

from ssm_warden.detect.rules import RulePackError

RE2_MAX_MEM = 256 << 20


def re2_options() -> re2.Options:
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    return options


class PatternSet[S]:
    """Patterns added with a slot each (which rule, clause, positive or negative); ``match`` gives the
    slots of every pattern found in a text."""

    def __init__(self) -> None:
        self.slots: list[S] = []
        self.patterns: list[str] = []
        self.set: re2.Set | None = None

    def add(self, pattern: str, slot: S, rule_id: str) -> None:
        try:
            re2.compile(pattern, re2_options())
        except re2.error as exc:
            raise RulePackError(f"rule {rule_id}: pattern {pattern!r} is not valid RE2: {exc}") from exc
        self.patterns.append(pattern)
        self.slots.append(slot)

    def compile(self) -> None:
        if not self.patterns:
            return
        rset = re2.Set.SearchSet(re2_options())
        for pattern in self.patterns:
            rset.Add(pattern)
        rset.Compile()
        self.set = rset

    def match(self, text: str) -> list[S]:
        if self.set is None:
            return []
        found = self.set.Match(text)
        if not found:
            return []
        return [self.slots[i] for i in found]

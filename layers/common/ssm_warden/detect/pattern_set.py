"""One RE2 set over many rules' patterns, and what each pattern belongs to (shared by the POSIX and
the Windows detectors): judging a text is one linear-time pass whatever the number of patterns."""

from __future__ import annotations

from collections.abc import Callable

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
        self.rule_ids: list[str] = []
        self.set: re2.Set | None = None
        # The compiled set's own Match, called with UTF-8 bytes: the wrapper's Match re-checks the
        # type and encodes on every call, and a command's few texts are matched on every judgement.
        self._match: Callable[[bytes], list[int]] | None = None

    def add(self, pattern: str, slot: S, rule_id: str) -> None:
        """Add a pattern; it is checked when the set is compiled (``compile`` names its rule)."""
        self.patterns.append(pattern)
        self.slots.append(slot)
        self.rule_ids.append(rule_id)

    def compile(self) -> None:
        """Build the set. A pattern that is not valid RE2 raises ``RulePackError`` naming its rule:
        adding it to the set parses it, so no pattern is compiled twice (a container's cold start
        builds every rule's patterns)."""
        if not self.patterns:
            return
        rset = re2.Set.SearchSet(re2_options())
        for pattern, rule_id in zip(self.patterns, self.rule_ids, strict=True):
            try:
                rset.Add(pattern)
            except re2.error:
                raise RulePackError(
                    f"rule {rule_id}: pattern {pattern!r} is not valid RE2: {_why(pattern)}"
                ) from None
        rset.Compile()
        self.set = rset
        self._match = rset._set.Match

    def match(self, text: str) -> list[S]:
        if self._match is None:
            return []
        found = self._match(text.encode("utf-8"))
        if not found:
            return []
        slots = self.slots
        return [slots[i] for i in found]


def _why(pattern: str) -> str:
    """RE2's own message for an invalid pattern (the set only says that adding it failed)."""
    try:
        re2.compile(pattern, re2_options())
    except re2.error as exc:
        return str(exc)
    return "refused by RE2's pattern set"

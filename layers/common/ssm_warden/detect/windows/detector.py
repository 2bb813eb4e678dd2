"""The Windows detector: read the command in its shell, derive facts, evaluate rules over them.

Every pattern of every rule goes into one RE2 set per fact field, so each fact value is matched
once whatever the number of rules (linear time, no backtracking); only rules whose patterns hit
are then evaluated and quoted.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import re2

from ssm_warden.detect.detector import max_severity
from ssm_warden.detect.pattern_set import PatternSet, re2_options
from ssm_warden.detect.windows.facts import FIELDS, Facts, facts_of
from ssm_warden.detect.windows.reader import read
from ssm_warden.detect.windows.rules import Condition, WindowsRule, expand_windows_packs, load_windows_rules
from ssm_warden.encodable import encodable
from ssm_warden.models.findings import Finding
from ssm_warden.shells import Shell
from ssm_warden.slack.redact import redact

_EXCERPT = 160

__all__ = ["WindowsDetector", "max_severity", "windows_detector"]


# What one pattern of an RE2 set stands for: ((rule, condition), negative, pattern position). The
# condition is an index into ``conditions``, or ``-1 - index`` into ``exceptions``; the position is
# the pattern's place in the condition's ``match`` (or ``unless``) list. Plain tuples: they are read
# in the innermost loop.
_Key = tuple[int, int]
_Slot = tuple[_Key, bool, int]
# A fact value as matched: its text, and that text encoded to UTF-8 (what RE2 reads).
_Value = tuple[str, bytes]


class WindowsDetector:
    """Judges PowerShell and cmd.exe commands against the Windows rule packs."""

    def __init__(self, rules: Sequence[WindowsRule]) -> None:
        self.rules = tuple(rules)
        self._fields = {f: PatternSet[_Slot]() for f in FIELDS}
        for r_index, rule in enumerate(self.rules):
            for c_index, cond in enumerate(rule.conditions):
                self._add(cond, r_index, c_index, rule.id)
            for e_index, cond in enumerate(rule.exceptions):
                self._add(cond, r_index, -1 - e_index, rule.id)
        for matcher in self._fields.values():
            matcher.compile()
        # (position of the field in ``Facts``, its set, its slots) for the fields some rule reads.
        self._matchers = [
            (Facts._fields.index(f), m.set, m.slots) for f, m in self._fields.items() if m.set is not None
        ]
        self._reads_programs = self._fields["program"].set is not None

    def _add(self, cond: Condition, r_index: int, c_index: int, rule_id: str) -> None:
        matcher = self._fields[cond.field]
        key = (r_index, c_index)
        for position, p in enumerate(cond.match):
            matcher.add(p, (key, False, position), rule_id)
        for position, p in enumerate(cond.unless):
            matcher.add(p, (key, True, position), rule_id)

    # -- public -------------------------------------------------------------------------------------
    def judge_command(self, command: str, shell: Shell) -> list[Finding]:
        """Findings for one command (or a pasted snippet) typed at a ``shell`` prompt.

        ``posix`` is read as PowerShell (a Linux shell never reaches here on purpose; reading it as
        PowerShell is the stricter choice). A snippet is read whole, as the shell would run it.
        """
        command = encodable(command)
        facts = facts_of(read(command, shell), self._reads_programs)
        return self._evaluate(facts, command)

    @staticmethod
    def _settle(slots: list[_Slot], value: _Value, satisfied: dict[_Key, tuple[_Value, int]]) -> None:
        """A condition holds on ``value`` when one of its patterns matched and none of its unless.

        The first value satisfying a condition is kept, with the first of its patterns that matched
        that value (where the excerpt is cut: no pattern before it needs to be searched again).
        """
        negative = {s[0] for s in slots if s[1]}
        first: dict[_Key, int] = {}
        for key, is_negative, position in slots:
            if is_negative or key in negative or key in satisfied:
                continue
            known = first.get(key)
            if known is None or position < known:
                first[key] = position
        for key, position in first.items():
            satisfied[key] = (value, position)

    def facts(self, command: str, shell: Shell) -> Facts:
        return facts_of(read(command, shell))

    def judge_output(self, line: str) -> list[Finding]:
        """No output rule is Windows-only: output is judged by the shared output-secrets pack."""
        return []

    # -- internals ----------------------------------------------------------------------------------
    def _evaluate(self, facts: Facts, original: str) -> list[Finding]:
        # (rule, condition) → the first fact value satisfying it, and its first pattern matching there.
        # Each value is encoded to UTF-8 once: the RE2 set and the excerpt's search both read bytes.
        satisfied: dict[_Key, tuple[_Value, int]] = {}
        settle = self._settle
        for index, rset, slots in self._matchers:
            values = facts[index]
            if not values:
                continue
            if len(values) == 1:
                value = (values[0], values[0].encode())
                found = rset.Match(value[1])
                if found:
                    settle([slots[i] for i in found], value, satisfied)
                continue
            # Several values: one pass over them joined finds the candidates (``\s`` or ``[^x]``
            # may run from one value into the next there), then each is settled value by value.
            found = rset.Match("\n".join(values).encode())
            if found:
                wanted = {slots[i][0] for i in found if not slots[i][1]}
                for text in values:
                    value = (text, text.encode())
                    matched = rset.Match(value[1])
                    if matched:
                        candidates = [slots[i] for i in matched if slots[i][0] in wanted]
                        if candidates:
                            settle(candidates, value, satisfied)
                            # A condition keeps its first value: once every candidate has one,
                            # the values left cannot change anything.
                            wanted.difference_update(satisfied)
                            if not wanted:
                                break
        findings: list[Finding] = []
        for r_index in sorted({k[0] for k in satisfied}):
            rule = self.rules[r_index]
            if rule.exceptions and any((r_index, -1 - e) in satisfied for e in range(len(rule.exceptions))):
                continue
            hits = [satisfied.get((r_index, c)) for c in range(len(rule.conditions))]
            present = [(c, h) for c, h in enumerate(hits) if h is not None]
            if not present or (rule.combine == "all" and len(present) != len(hits)):
                continue
            # One redaction per finding, over the quoted fact values joined.
            excerpts = redact(" … ".join(_excerpt(rule.conditions[c], h[0], h[1]) for c, h in present))
            findings.append(
                Finding(
                    rule=rule.id,
                    title=rule.title,
                    severity=rule.severity,
                    category=rule.category,
                    attack=rule.attack,
                    reason=f"{rule.title}: {excerpts}",
                    pack=rule.pack,
                    command=original,
                )
            )
        return sorted(findings, key=lambda f: (-f.severity.rank, f.rule))


def _excerpt(cond: Condition, value: _Value, first: int = 0) -> str:
    """The value's text cut around where the first of ``cond``'s patterns matching it matches.

    ``value`` is (text, its UTF-8 bytes); ``first``: no pattern before this position matches the
    text (the RE2 set said so). The search runs on the bytes (RE2's own encoding, no conversion of
    offsets per call); byte offsets are character offsets in ASCII text, and are converted otherwise.
    """
    text, data = value
    for pattern in cond.match[first:]:
        m = _compiled(pattern).search(data)
        if m is not None:
            start, end = m.span()
            if not text.isascii():
                start, end = len(data[:start].decode()), len(data[:end].decode())
            lo = max(0, start - 30)
            hi = min(len(text), max(end, start + 1) + 30, lo + _EXCERPT)
            snippet = ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")
            return "`" + snippet.replace("`", "'") + "`"
    return "`" + text[:_EXCERPT].replace("`", "'") + "`"


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re2._Regexp:
    """A rule pattern compiled to search UTF-8 bytes."""
    return re2.compile(pattern.encode(), re2_options())


@functools.lru_cache(maxsize=16)
def _detector_for(packs: tuple[str, ...]) -> WindowsDetector:
    return WindowsDetector(load_windows_rules(packs))


def windows_detector(packs: tuple[str, ...]) -> WindowsDetector:
    """The Windows detector for a policy's rule packs, compiled once per process and packs tuple.

    See ``rules.expand_windows_packs`` for what ``default`` and Linux pack names bring.
    """
    return _detector_for(expand_windows_packs(tuple(packs)))


def severities(findings: Iterable[Finding]) -> list[str]:
    return [f.severity.value for f in findings]

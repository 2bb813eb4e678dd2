"""The RE2 pattern set: a pattern that is not valid RE2 is refused when the set is built, naming its
rule, so a bad rule pack fails at load, never while judging."""

from __future__ import annotations

import pytest

from ssm_warden.detect.pattern_set import PatternSet
from ssm_warden.detect.rules import RulePackError


def test_an_invalid_pattern_names_its_rule_and_reason() -> None:
    patterns = PatternSet[int]()
    patterns.add(r"^curl\s", 0, "fine-rule")
    patterns.add(r"wget(", 1, "broken-rule")
    with pytest.raises(
        RulePackError, match=r"rule broken-rule: pattern 'wget\(' is not valid RE2: .*missing \)"
    ):
        patterns.compile()


def test_slots_of_every_pattern_found() -> None:
    patterns = PatternSet[str]()
    for slot, pattern in (("a", r"\bcurl\b"), ("b", r"\|\s*sh\b"), ("c", r"^nope$")):
        patterns.add(pattern, slot, f"rule-{slot}")
    patterns.compile()
    assert sorted(patterns.match("curl -s http://x | sh")) == ["a", "b"]
    assert patterns.match("ls") == []

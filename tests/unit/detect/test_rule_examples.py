"""Every rule's own examples: each must_match example fires the rule, no must_not_match one does."""

from __future__ import annotations

import pytest

from ssm_warden.detect.detector import get_detector
from ssm_warden.detect.rules import Rule

RULES = get_detector().rules


def _cases(kind: str) -> list[tuple[Rule, str]]:
    out: list[tuple[Rule, str]] = []
    for rule in RULES:
        for example in rule.must_match if kind == "match" else rule.must_not_match:
            out.append((rule, example))
    return out


def _judge(rule: Rule, example: str) -> set[str]:
    detector = get_detector()
    findings = detector.judge_output(example) if rule.is_output else detector.judge_command(example)
    return {f.rule for f in findings}


@pytest.mark.parametrize(
    ("rule", "example"), _cases("match"), ids=lambda v: v.id if isinstance(v, Rule) else ""
)
def test_rule_fires_on_its_must_match_examples(rule: Rule, example: str) -> None:
    # Given one of the rule's must_match examples
    # When the detector judges it
    fired = _judge(rule, example)
    # Then the rule is among the findings
    assert rule.id in fired, f"{rule.id} did not fire on {example!r} (fired: {sorted(fired)})"


@pytest.mark.parametrize(
    ("rule", "example"), _cases("no_match"), ids=lambda v: v.id if isinstance(v, Rule) else ""
)
def test_rule_stays_quiet_on_its_must_not_match_examples(rule: Rule, example: str) -> None:
    # Given one of the rule's must_not_match examples
    # When the detector judges it
    fired = _judge(rule, example)
    # Then the rule is not among the findings
    assert rule.id not in fired, f"{rule.id} fired on {example!r}"

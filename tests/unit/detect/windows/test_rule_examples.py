"""Every Windows rule's own examples, replayed: each must-match fires the rule, no must-not-match does.

An example starting ``cmd> `` is typed at a cmd.exe prompt; the others at a PowerShell prompt.
"""

from __future__ import annotations

import pytest

from ssm_warden.detect.windows import windows_detector
from ssm_warden.detect.windows.rules import WindowsRule
from ssm_warden.shells import Shell

DETECTOR = windows_detector(("default",))
RULES = DETECTOR.rules


def _typed(example: str) -> tuple[str, Shell]:
    if example.startswith("cmd> "):
        return example[5:], "cmd"
    return example, "powershell"


def _cases(kind: str) -> list[tuple[WindowsRule, str]]:
    return [(r, e) for r in RULES for e in getattr(r, kind)]


@pytest.mark.parametrize(
    ("rule", "example"), _cases("must_match"), ids=lambda v: getattr(v, "id", str(v)[:40])
)
def test_rule_fires_on_its_must_match_examples(rule: WindowsRule, example: str) -> None:
    # Given a command the rule was written to catch, When it is judged in its shell
    command, shell = _typed(example)
    fired = {f.rule for f in DETECTOR.judge_command(command, shell)}
    # Then the rule is among the findings
    assert rule.id in fired, f"{rule.id} missed {example!r}; fired {sorted(fired)}"


@pytest.mark.parametrize(
    ("rule", "example"), _cases("must_not_match"), ids=lambda v: getattr(v, "id", str(v)[:40])
)
def test_rule_stays_quiet_on_its_must_not_match_examples(rule: WindowsRule, example: str) -> None:
    command, shell = _typed(example)
    fired = {f.rule for f in DETECTOR.judge_command(command, shell)}
    assert rule.id not in fired, f"{rule.id} fired on its hard negative {example!r}"


def test_every_category_of_the_issue_has_rules() -> None:
    categories = {r.category for r in RULES}
    for needed in (
        "defense_evasion",
        "credential_access",
        "persistence",
        "download_exec",
        "destructive",
        "lateral_movement",
        "exfiltration",
        "cloud_metadata",
    ):
        assert needed in categories


def test_every_rule_has_an_attack_id_and_hard_negatives() -> None:
    for rule in RULES:
        assert rule.attack, rule.id
        assert rule.must_not_match, rule.id

"""verdict_for: findings and a severity→action table to allow / alert / terminate."""

from __future__ import annotations

from ssm_warden.detect import verdict_for
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.policy.evaluate import strictest_settings
from ssm_warden.policy.loader import default_policy


def _finding(severity: Severity, rule: str = "r") -> Finding:
    return Finding(rule=rule, title="t", severity=severity, category="c", reason="x", command="c")


def test_no_findings_is_allow() -> None:
    assert verdict_for([], {Severity.LOW: "terminate"}) == "allow"


def test_observe_is_allow_and_the_strongest_action_wins() -> None:
    # Given a table where low is observed, medium alerts and high terminates
    actions = {Severity.LOW: "observe", Severity.MEDIUM: "alert", Severity.HIGH: "terminate"}
    # Then each finding set gets the strongest of its actions
    assert verdict_for([_finding(Severity.LOW)], actions) == "allow"
    assert verdict_for([_finding(Severity.LOW), _finding(Severity.MEDIUM)], actions) == "alert"
    assert verdict_for([_finding(Severity.MEDIUM), _finding(Severity.HIGH)], actions) == "terminate"
    # And a severity missing from the table is observed
    assert verdict_for([_finding(Severity.CRITICAL)], actions) == "allow"


def test_policy_settings_with_rule_overrides_can_be_passed_directly() -> None:
    # Given the default policy's strictest settings (low and medium alert, high and critical terminate)
    settings = strictest_settings(default_policy().policy)
    # Then verdicts follow them
    assert verdict_for([_finding(Severity.LOW)], settings) == "alert"
    assert verdict_for([_finding(Severity.CRITICAL)], settings) == "terminate"

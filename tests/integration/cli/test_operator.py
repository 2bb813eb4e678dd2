"""Policy delivery and the audited fallbacks against the moto server: policy pull/diff/push,
extend, exempt, redrive."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from ssm_warden.audit import read_audit
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.session import Principal, SessionStarted
from tests.integration.cli.conftest import ACCOUNT, REGION, deploy_stack_record

ROOT = Path(__file__).resolve().parents[3]
PARAMETER = "/platform/warden-policy"  # AWS refuses names beginning with "aws" or "ssm"


@pytest.fixture
def with_parameter(stack: Any, boto: Callable[[str], Any]) -> Any:
    """A deployment whose policy lives in an SSM parameter."""
    deploy_stack_record(
        boto,
        {
            "SessionsTableName": stack.tables["SessionsTable"],
            "AuditTableName": stack.tables["AuditTable"],
            "ActionQueueUrl": stack.queues["ActionQueue"],
            "ActionDeadLetterQueueUrl": stack.queues["ActionDeadLetterQueue"],
        },
        {"PolicyParameterName": PARAMETER, "ForceMonitorMode": "true"},
    )
    return stack


def _policy_file(tmp_path: Path, idle: int | None = None) -> Path:
    text = (ROOT / "policies" / "default.yaml").read_text()
    if idle is not None:
        document = yaml.safe_load(text)
        document.setdefault("defaults", {})["idle_minutes"] = idle
        text = yaml.safe_dump(document, sort_keys=False)
    path = tmp_path / f"policy-{idle}.yaml"
    path.write_text(text)
    return path


def test_push_pull_and_diff(
    with_parameter: Any, cli: Callable[..., Any], tmp_path: Path, boto: Callable[[str], Any]
) -> None:
    tuned = _policy_file(tmp_path, idle=17)
    # Before any push, diff says the parameter is missing
    assert cli("policy", "diff", str(tuned)).code == 1
    # When the tuned policy is pushed, the parameter holds it and diff is clean
    push = cli("policy", "push", str(tuned))
    assert push.code == 0 and f"{PARAMETER}: none ->" in push.out
    assert boto("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"] == tuned.read_text()
    assert cli("policy", "diff", str(tuned)).code == 0
    pulled = cli("policy", "pull")
    assert pulled.code == 0 and "idle_minutes: 17" in pulled.out
    # And another file shows as a unified diff, exit 1
    other = cli("policy", "diff", str(_policy_file(tmp_path, idle=5)))
    assert other.code == 1 and "-  idle_minutes: 17" in other.out and "+  idle_minutes: 5" in other.out


def test_push_refuses_an_invalid_policy(
    with_parameter: Any, cli: Callable[..., Any], tmp_path: Path, boto: Callable[[str], Any]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefaults:\n  idle_minutes: -3\n")
    run = cli("policy", "push", str(bad))
    assert run.code == 2
    with pytest.raises(boto("ssm").exceptions.ParameterNotFound):
        boto("ssm").get_parameter(Name=PARAMETER)


def test_push_without_a_parameter_on_a_bundled_deployment(
    deployed: Any, cli: Callable[..., Any], tmp_path: Path
) -> None:
    run = cli("policy", "push", str(_policy_file(tmp_path)))
    assert run.code == 2 and "--parameter NAME" in run.err


def test_extend_records_the_extension_and_who_made_it(with_parameter: Any, cli: Callable[..., Any]) -> None:
    # Given an active session
    SessionRepository().apply_start(
        SessionStarted(
            event_id="ev-1",
            account=ACCOUNT,
            region=REGION,
            at=datetime.now(UTC),
            principal=Principal(arn="arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            session_id="alice-0aaaaaaaaaaaaaaaa",
            target_id="i-0123456789abcdef0",
            document_name="SSM-SessionManagerRunShell",
        ),
        {},
        False,
    )
    # When an operator extends it from the command line
    run = cli("extend", "alice-0aaaaaaaaaaaaaaaa", "30", "--reason", "INC-9 long migration")
    # Then the ledger and the audit trail record it, with the caller
    assert run.code == 0, run.err
    record = SessionRepository().get(ACCOUNT, REGION, "alice-0aaaaaaaaaaaaaaaa")
    assert record is not None and record.extensions[0]["reason"] == "INC-9 long migration"
    audit = read_audit("alice-0aaaaaaaaaaaaaaaa")
    assert audit[-1].action == "extend" and audit[-1].actor.startswith("cli:arn:aws:")
    # A session that is not there is a finding, not a traceback
    missing = cli("extend", "bob-0bbbbbbbbbbbbbbbb", "30", "--reason", "nope nope")
    assert missing.code == 1 and "no session bob-0bbbbbbbbbbbbbbbb" in missing.err
    assert cli("extend", "alice-0aaaaaaaaaaaaaaaa", "0", "--reason", "zero").code == 2


def test_exempt_adds_a_valid_expiring_exemption(
    with_parameter: Any, cli: Callable[..., Any], tmp_path: Path, boto: Callable[[str], Any]
) -> None:
    assert cli("policy", "push", str(_policy_file(tmp_path))).code == 0
    run = cli(
        "exempt",
        "--target",
        "i-0123456789abcdef0",
        "--rule",
        "idle_minutes",
        "--for",
        "4h",
        "--reason",
        "nightly backup",
    )
    assert run.code == 0, run.err
    document = yaml.safe_load(boto("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"])
    exemption = document["exemptions"][-1]
    assert exemption["target"] == "i-0123456789abcdef0" and exemption["rule"] == "idle_minutes"
    assert "nightly backup" in exemption["reason"]
    assert read_audit("-")[-1].action == "exempt"
    assert cli("exempt", "--for", "4h", "--reason", "nothing named").code == 2
    assert cli("exempt", "--target", "i-1", "--for", "90d", "--reason", "too long").code == 2


def test_redrive_moves_dead_lettered_actions_back(
    with_parameter: Any, cli: Callable[..., Any], boto: Callable[[str], Any]
) -> None:
    sqs = boto("sqs")
    for n in range(3):
        sqs.send_message(
            QueueUrl=with_parameter.queues["ActionDeadLetterQueue"], MessageBody=json.dumps({"n": n})
        )
    dry = cli("redrive", "actions-dlq", "--dry-run")
    assert dry.code == 0 and "3 message(s) waiting" in dry.out
    run = cli("redrive", "actions-dlq")
    assert run.code == 0 and "3 message(s) sent back" in run.out
    back = sqs.receive_message(QueueUrl=with_parameter.queues["ActionQueue"], MaxNumberOfMessages=10)[
        "Messages"
    ]
    assert sorted(json.loads(m["Body"])["n"] for m in back) == [0, 1, 2]
    assert read_audit("-")[-1].action == "redrive"

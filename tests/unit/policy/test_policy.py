"""Policy documents: validation errors that name field and line, precedence, exemptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ssm_warden.cli import main as cli
from ssm_warden.errors import PolicyError
from ssm_warden.models.actions import Mode
from ssm_warden.models.findings import Severity
from ssm_warden.policy.evaluate import SessionFacts, active_exemption, effective_settings, strictest_settings
from ssm_warden.policy.loader import bundled_policy_text, default_policy, load_policy_file, load_policy_text
from ssm_warden.policy.model import ResponseAction, policy_json_schema
from tests.conftest import ROOT

POLICY = """\
version: 1
defaults:
  idle_minutes: 60
  max_minutes: 600
  channel: "#all"
scopes:
  - name: prod-dba
    match:
      tags: {Environment: prod}
      roles: [DBA]
    allowed_documents: ["AWS-StartPortForwarding*"]
  - name: prod
    match:
      tags: {Environment: [prod, production]}
    idle_minutes: 15
    mode: monitor
    actions: {high: terminate}
    rules:
      port-scan: {action: observe}
      download-pipe-to-shell: {mode: enforce}
  - name: no-idle-for-batch
    match:
      principals: ["arn:aws:sts::*:assumed-role/Batch/*"]
    idle_minutes: null
exemptions:
  - principal: "arn:aws:sts::*:assumed-role/Ops/*"
    rule: idle_minutes
    expires: 2026-12-01T00:00:00Z
    reason: nightly reindex (CHG-1)
"""


def settings_for(**facts: object) -> object:
    return effective_settings(load_policy_text(POLICY).policy, SessionFacts(**facts))  # type: ignore[arg-type]


def test_the_shipped_policy_is_valid_and_the_bundled_copy_is_the_same_file() -> None:
    assert bundled_policy_text() == (ROOT / "policies" / "default.yaml").read_text()
    assert default_policy().policy.scopes


def test_the_checked_in_json_schema_is_current() -> None:
    checked_in = json.loads((ROOT / "policies" / "policy.schema.json").read_text())
    assert checked_in == json.loads(json.dumps(policy_json_schema())), "run: ssm-warden policy schema"


def test_first_matching_scope_wins_and_inherits_the_rest() -> None:
    # A prod DBA matches the first scope, not the broader prod scope below it
    dba = settings_for(target_tags={"Environment": "prod"}, role_arn="arn:aws:iam::1:role/DBA")
    assert dba.scope == "prod-dba"  # type: ignore[attr-defined]
    assert dba.idle_minutes == 60  # type: ignore[attr-defined]
    assert dba.allows_document("AWS-StartPortForwardingSessionToRemoteHost")  # type: ignore[attr-defined]
    # Anyone else on prod gets the prod scope
    prod = settings_for(target_tags={"Environment": "production"})
    assert prod.scope == "prod"  # type: ignore[attr-defined]
    assert prod.idle_minutes == 15  # type: ignore[attr-defined]
    assert prod.channel == "#all"  # type: ignore[attr-defined]
    # A partial `actions` map overrides one severity and keeps the defaults for the others
    assert prod.actions[Severity.HIGH] is ResponseAction.TERMINATE  # type: ignore[attr-defined]
    assert prod.actions[Severity.MEDIUM] is ResponseAction.ALERT  # type: ignore[attr-defined]
    # Nothing matches a dev host
    assert settings_for(target_tags={"Environment": "dev"}).scope == "defaults"  # type: ignore[attr-defined]


def test_an_explicit_null_limit_disables_it() -> None:
    batch = settings_for(principal_arn="arn:aws:sts::1:assumed-role/Batch/job-7")
    assert batch.idle_minutes is None  # type: ignore[attr-defined]
    assert batch.max_minutes == 600  # type: ignore[attr-defined]


def test_per_rule_mode_and_action_overrides() -> None:
    prod = settings_for(target_tags={"Environment": "prod"})
    assert prod.mode_for("anything") is Mode.MONITOR  # type: ignore[attr-defined]
    assert prod.mode_for("download-pipe-to-shell") is Mode.ENFORCE  # type: ignore[attr-defined]
    assert prod.action_for(Severity.LOW, "port-scan") is ResponseAction.OBSERVE  # type: ignore[attr-defined]


def test_exemptions_match_all_given_fields_and_expire() -> None:
    policy = load_policy_text(POLICY).policy
    before = datetime(2026, 11, 30, tzinfo=UTC)
    after = datetime(2026, 12, 2, tzinfo=UTC)
    ops = "arn:aws:sts::1:assumed-role/Ops/bob"
    assert active_exemption(
        policy, principal_arn=ops, target_id="i-1", rule_or_limit="idle_minutes", now=before
    )
    assert not active_exemption(
        policy, principal_arn=ops, target_id="i-1", rule_or_limit="max_minutes", now=before
    )
    assert not active_exemption(
        policy, principal_arn=ops, target_id="i-1", rule_or_limit="idle_minutes", now=after
    )
    dev = "arn:aws:sts::1:assumed-role/Dev/eve"
    assert not active_exemption(
        policy, principal_arn=dev, target_id="i-1", rule_or_limit="idle_minutes", now=before
    )


def test_strictest_scope_of_the_default_policy_terminates_high_findings() -> None:
    strict = strictest_settings(default_policy().policy)
    assert strict.actions[Severity.HIGH] is ResponseAction.TERMINATE
    assert strict.actions[Severity.LOW] is ResponseAction.ALERT


def test_a_scopes_own_network_is_added_to_the_defaults() -> None:
    policy = load_policy_text(
        "version: 1\n"
        "defaults:\n  own_network: {buckets: [Acme-Backups], domains: [acme.example.]}\n"
        "scopes:\n"
        "  - name: prod\n    match: {tags: {Environment: prod}}\n"
        "    own_network: {buckets: [acme-prod-*]}\n"
    ).policy
    prod = effective_settings(policy, SessionFacts(target_tags={"Environment": "prod"}))
    dev = effective_settings(policy, SessionFacts(target_tags={"Environment": "dev"}))
    assert prod.own_network.buckets == ["acme-backups", "acme-prod-*"]
    assert prod.own_network.domains == dev.own_network.domains == ["acme.example"]
    assert dev.own_network.buckets == ["acme-backups"]
    assert default_policy().policy.defaults.own_network is None  # nothing is ours unless said


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "version: 1\ndefaults:\n  idle_minutes: 0\n",
            ":3: defaults.idle_minutes: Input should be greater than or equal to 1",
        ),
        (
            "version: 1\ndefaults:\n  mode: enforced\n",
            ":3: defaults.mode: Input should be 'monitor' or 'enforce'",
        ),
        (
            "version: 1\nscopes:\n  - name: a\n    match:\n      tagz: {a: b}\n",
            ":5: scopes.0.match.tagz: Extra inputs are not permitted",
        ),
        ("version: 1\nscopes:\n  - name: a\n    idle_minutes: 5\n", ":3: scopes.0.match: Field required"),
        ("version: 2\n", ":1: version: Input should be 1"),
        (
            "version: 1\nscopes:\n  - {name: a, match: {}}\n  - {name: a, match: {}}\n",
            ":3: scopes: Value error, scope name 'a' is used twice",
        ),
        (
            "version: 1\nexemptions:\n  - expires: 2026-12-01T00:00:00Z\n    reason: because\n",
            ":3: exemptions.0: Value error, an exemption must name at least one",
        ),
        (
            "version: 1\ndefaults:\n  actions: {severe: alert}\n",
            ":3: defaults.actions.severe.[key]: Input should be 'low', 'medium', 'high' or 'critical'",
        ),
        (
            "version: 1\ndefaults:\n  own_network: {buckets: [s3://acme/x]}\n",
            ":3: defaults.own_network.buckets: Value error, 's3://acme/x' is not a bucket or domain name",
        ),
        (
            "version: 1\ndefaults:\n  own_network: {bucket: [acme]}\n",
            ":3: defaults.own_network.bucket: Extra inputs are not permitted",
        ),
        ("version: 1\ndefaults: [\n", ":3: not valid YAML"),
        ("- just\n- a list\n", ":1: a policy is a mapping"),
    ],
)
def test_invalid_policies_name_the_field_and_the_line(text: str, expected: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, source="p.yaml")
    assert f"p.yaml{expected}" in str(info.value)


def test_policy_check_and_explain_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(POLICY)
    assert cli(["policy", "check", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefaults:\n  idle_minutes: -1\n")
    assert cli(["policy", "check", str(bad)]) == 1
    assert "bad.yaml:3: defaults.idle_minutes" in capsys.readouterr().err
    assert (
        cli(
            [
                "policy",
                "explain",
                str(good),
                "--tag",
                "Environment=prod",
                "--role",
                "DBA",
                "--document",
                "AWS-StartPortForwardingSession",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["effective"]["scope"] == "prod-dba"
    assert out["document_allowed"] is True


def test_unreadable_policy_file_is_a_policy_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy"):
        load_policy_file(tmp_path / "missing.yaml")

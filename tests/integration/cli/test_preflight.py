"""``ssm-warden preflight`` against the moto server: every missing prerequisite named, with its fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.integration.cli.conftest import (
    ACCOUNT,
    LOG_GROUP,
    REGION,
    Account,
    preferences_content,
    set_up_account,
)

SECRET = ["--slack-secret", "ssm-warden/slack"]


def _statuses(run: Any) -> dict[str, dict[str, Any]]:
    return {r["check"]: r for r in run.json_lines()}


@pytest.fixture
def account(boto: Callable[[str], Any]) -> Account:
    return set_up_account(boto)


def test_empty_account_lists_every_missing_prerequisite_and_exits_1(
    aws: Any, cli: Callable[..., Any]
) -> None:
    # Given an account with nothing set up
    # When preflight runs
    run = cli("preflight")
    # Then it fails, naming the trail, the preferences and the log group, each with a fix
    assert run.code == 1
    for check in ("cloudtrail", "session-preferences", "session-log-group"):
        line = next(line for line in run.out.splitlines() if check in line)
        assert line.startswith("FAIL")
    assert "aws cloudtrail create-trail" in run.out
    assert "aws ssm create-document --name SSM-SessionManagerRunShell" in run.out
    assert f"aws logs create-log-group --log-group-name {LOG_GROUP}" in run.out
    assert "fix them before deploying" in run.out
    results = _statuses(cli("preflight", "--format", "json"))
    for check in ("agent-versions", "instance-roles", "logs-endpoint"):
        assert results[check]["status"] == "warn"  # no nodes yet: nothing to pass
    assert results["slack-secret"]["status"] == "warn"


def test_set_up_account_passes(account: Account, cli: Callable[..., Any]) -> None:
    # Given every prerequisite in place
    run = cli("preflight", *SECRET, "--format", "json")
    # Then every check passes and the exit code is 0
    results = _statuses(run)
    assert {name: r["status"] for name, r in results.items()} == dict.fromkeys(results, "pass"), results
    assert run.code == 0
    assert (
        "judged from the roles' policies" in results["instance-roles"]["found"]
    )  # moto has no policy simulator
    text = cli("preflight", *SECRET)
    assert text.code == 0 and "ready to deploy" in text.out


def test_trail_not_logging(account: Account, cli: Callable[..., Any]) -> None:
    account.client("cloudtrail").stop_logging(Name="org-trail")
    run = cli("preflight", *SECRET, "--format", "json")
    result = _statuses(run)["cloudtrail"]
    assert run.code == 1 and result["status"] == "fail"
    assert result["fix"] == "aws cloudtrail start-logging --name org-trail"


def test_trail_without_management_writes(account: Account, cli: Callable[..., Any]) -> None:
    account.client("cloudtrail").put_event_selectors(
        TrailName="org-trail", EventSelectors=[{"ReadWriteType": "ReadOnly", "IncludeManagementEvents": True}]
    )
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["cloudtrail"]
    assert result["status"] == "fail" and "put-event-selectors" in result["fix"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (preferences_content(streaming=False), "not streamed"),
        (preferences_content(log_group="/other/group"), "logged to /other/group"),
    ],
)
def test_preferences_not_streaming_to_the_group(
    account: Account, cli: Callable[..., Any], content: str, words: str
) -> None:
    ssm = account.client("ssm")
    ssm.update_document(Name="SSM-SessionManagerRunShell", Content=content, DocumentVersion="$LATEST")
    ssm.update_document_default_version(Name="SSM-SessionManagerRunShell", DocumentVersion="2")
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["session-preferences"]
    assert result["status"] == "fail" and words in result["found"]
    assert "aws ssm update-document --name SSM-SessionManagerRunShell" in result["fix"]


def test_log_group_with_both_subscription_slots_taken(account: Account, cli: Callable[..., Any]) -> None:
    kinesis = account.client("kinesis")
    kinesis.create_stream(StreamName="siem", ShardCount=1)
    stream = kinesis.describe_stream(StreamName="siem")["StreamDescription"]["StreamARN"]
    for name in ("siem-a", "siem-b"):
        account.client("logs").put_subscription_filter(
            logGroupName=LOG_GROUP,
            filterName=name,
            filterPattern="",
            destinationArn=stream,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/cwl-to-kinesis",
        )
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["session-log-group"]
    assert result["status"] == "fail" and "siem-a, siem-b" in result["found"]
    assert "aws logs delete-subscription-filter" in result["fix"]


def test_instance_role_without_log_permissions(account: Account, cli: Callable[..., Any]) -> None:
    # Given the node's role has only what AmazonSSMManagedInstanceCore grants (no logs: actions)
    account.client("iam").delete_role_policy(RoleName=account.role_name, PolicyName="session-logs")
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["instance-roles"]
    assert result["status"] == "fail"
    assert account.instance_id in result["found"] and "logs:PutLogEvents" in result["found"]
    assert result["fix"].startswith(f"aws iam put-role-policy --role-name {account.role_name}")
    assert "logs:CreateLogStream" in result["fix"]


def test_old_agent(boto: Callable[[str], Any], cli: Callable[..., Any]) -> None:
    account = set_up_account(boto, agent_version="2.3.1644.0")
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["agent-versions"]
    assert result["status"] == "fail" and "2.3.1644.0" in result["found"]
    assert f"AWS-UpdateSSMAgent --targets Key=InstanceIds,Values={account.instance_id}" in result["fix"]


def test_private_subnet_needs_a_logs_endpoint(account: Account, cli: Callable[..., Any]) -> None:
    # Given the node's subnet loses its internet route
    ec2 = account.client("ec2")
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [account.subnet_id]}]
    )
    ec2.delete_route(RouteTableId=tables["RouteTables"][0]["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["logs-endpoint"]
    assert result["status"] == "fail" and account.vpc_id in result["found"]
    assert f"--service-name com.amazonaws.{REGION}.logs" in result["fix"]
    # When the endpoint is created, the check passes
    ec2.create_vpc_endpoint(
        VpcId=account.vpc_id,
        ServiceName=f"com.amazonaws.{REGION}.logs",
        VpcEndpointType="Interface",
        SubnetIds=[account.subnet_id],
    )
    assert _statuses(cli("preflight", *SECRET, "--format", "json"))["logs-endpoint"]["status"] == "pass"


def test_encrypted_group_whose_key_policy_shuts_out_cloudwatch_logs(
    boto: Callable[[str], Any], cli: Callable[..., Any]
) -> None:
    # Given the session-log group is encrypted with a key whose policy only trusts the account
    own_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ],
    }
    key = boto("kms").create_key(Policy=json.dumps(own_only))["KeyMetadata"]["Arn"]
    set_up_account(boto, kms_key=key)
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["log-group-kms"]
    assert result["status"] == "fail" and f"logs.{REGION}.amazonaws.com" in result["fix"]
    # When the key policy lets CloudWatch Logs use it, the check passes
    own_only["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{REGION}.amazonaws.com"},
            "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"],
            "Resource": "*",
        }
    )
    boto("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(own_only))
    assert _statuses(cli("preflight", *SECRET, "--format", "json"))["log-group-kms"]["status"] == "pass"


def test_lambda_concurrency_quota_of_a_new_account(account: Account, cli: Callable[..., Any]) -> None:
    # Given a new account's concurrency limit of 10
    from ssm_warden_local import moto_nodes

    moto_nodes.set_concurrency_limit(ACCOUNT, REGION, 10)
    result = _statuses(cli("preflight", *SECRET, "--format", "json"))["lambda-concurrency"]
    assert result["status"] == "fail"
    assert "--service-code lambda --quota-code L-B99A9384" in result["fix"]


@pytest.mark.parametrize(
    ("given", "words"),
    [
        (f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ssm-warden/slack-AbCdEf", "is an ARN"),
        ("ssm-warden/nope", "no secret named ssm-warden/nope"),
    ],
)
def test_slack_secret_form(account: Account, cli: Callable[..., Any], given: str, words: str) -> None:
    result = _statuses(cli("preflight", "--slack-secret", given, "--format", "json"))["slack-secret"]
    assert result["status"] == "fail" and words in result["found"]
    if given.startswith("arn:"):
        assert "SlackSecretName=ssm-warden/slack " in result["fix"]

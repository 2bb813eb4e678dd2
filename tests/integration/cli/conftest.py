"""Fixtures for the command line against the moto server: an account with ssm-warden's prerequisites."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ssm_warden.cli import main

ACCOUNT = "123456789012"
REGION = "us-east-1"
LOG_GROUP = "/aws/ssm/sessions"
STREAM_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:*",
        },
        {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
    ],
}
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


@dataclass
class Run:
    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Run ``ssm-warden ARGS`` in-process; returns the exit code and what it printed."""

    def run(*args: str) -> Run:
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse: --help, bad usage
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return Run(code, out, err)

    return run


def preferences_content(log_group: str = LOG_GROUP, streaming: bool = True, encrypted: bool = False) -> str:
    return json.dumps(
        {
            "schemaVersion": "1.0",
            "description": "Session Manager preferences",
            "sessionType": "Standard_Stream",
            "inputs": {
                "cloudWatchLogGroupName": log_group,
                "cloudWatchStreamingEnabled": streaming,
                "cloudWatchEncryptionEnabled": encrypted,
            },
        }
    )


@dataclass
class Account:
    """The prerequisites made in the moto server, and handles to break them one at a time."""

    client: Callable[[str], Any]
    vpc_id: str
    subnet_id: str
    instance_id: str
    role_name: str


def set_up_account(
    client: Callable[[str], Any], *, agent_version: str = "3.3.1142.0", kms_key: str | None = None
) -> Account:
    """Everything ``preflight`` checks, as a careful operator would leave it."""
    from ssm_warden_local import moto_nodes

    client("s3").create_bucket(Bucket="trail-bucket")
    client("cloudtrail").create_trail(Name="org-trail", S3BucketName="trail-bucket", IsMultiRegionTrail=True)
    client("cloudtrail").start_logging(Name="org-trail")
    client("ssm").create_document(
        Name="SSM-SessionManagerRunShell",
        DocumentType="Session",
        DocumentFormat="JSON",
        Content=preferences_content(),
    )
    client("logs").create_log_group(logGroupName=LOG_GROUP, **({"kmsKeyId": kms_key} if kms_key else {}))

    ec2 = client("ec2")
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=table, SubnetId=subnet_id)

    iam = client("iam")
    role_name = "web-node"
    iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.put_role_policy(
        RoleName=role_name, PolicyName="session-logs", PolicyDocument=json.dumps(STREAM_POLICY)
    )
    profile = iam.create_instance_profile(InstanceProfileName="web-node")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName="web-node", RoleName=role_name)
    instance_id = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        SubnetId=subnet_id,
        IamInstanceProfile={"Arn": profile["Arn"]},
    )["Instances"][0]["InstanceId"]
    moto_nodes.register_node(ACCOUNT, REGION, instance_id, agent_version=agent_version)
    client("secretsmanager").create_secret(Name="ssm-warden/slack", SecretString='{"bot_token": "xoxb-test"}')
    return Account(client, vpc_id, subnet_id, instance_id, role_name)


@pytest.fixture
def boto(aws: Any) -> Callable[[str], Any]:
    """Plain boto3 clients on the moto server (for setting the account up)."""
    import boto3

    def make(service: str) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=aws.endpoint_url)

    return make


def deploy_stack_record(
    client: Callable[[str], Any],
    outputs: dict[str, str],
    parameters: dict[str, str] | None = None,
    name: str = "ssm-warden",
) -> None:
    """A CloudFormation stack in moto carrying ssm-warden's outputs and parameters (the resources
    themselves are made by ``create_stack_resources``: moto cannot run the SAM transform)."""
    template = {
        "Parameters": {k: {"Type": "String", "Default": v} for k, v in (parameters or {}).items()},
        "Resources": {
            "Placeholder": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": f"{name}-placeholder"}}
        },
        "Outputs": {k: {"Value": v} for k, v in outputs.items()},
    }
    client("cloudformation").create_stack(StackName=name, TemplateBody=json.dumps(template))


@pytest.fixture
def deployed(stack: Any, boto: Callable[[str], Any]) -> Any:
    """The local stack's tables and queues, and a stack record whose outputs name them."""
    outputs = {
        "SessionsTableName": stack.tables["SessionsTable"],
        "AuditTableName": stack.tables["AuditTable"],
        "ActionQueueUrl": stack.queues["ActionQueue"],
        "ActionDeadLetterQueueUrl": stack.queues["ActionDeadLetterQueue"],
        "SessionEventsDeadLetterQueueUrl": stack.queues["SessionEventsDeadLetterQueue"],
        "CommandMonitorDeadLetterQueueUrl": stack.queues["CommandMonitorDeadLetterQueue"],
        "SessionLogGroupName": LOG_GROUP,
        "Version": "0.1.0",
    }
    deploy_stack_record(boto, outputs, {"ForceMonitorMode": "true", "PolicyParameterName": ""})
    return stack

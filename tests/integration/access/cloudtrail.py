"""CloudTrail records of the JIT access calls and the keyless paths, shaped as AWS documents them.

Where the shape is unconfirmed (aws-facts §9, docs/keyless.md) the builders take ``upper=True`` for
the API's upper camel case instead of CloudTrail's lower camel case: tests run both.
"""

from __future__ import annotations

import itertools
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"
_ids = itertools.count(1)


def identity(user: str, role: str = "Admin") -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role.upper()}:{user}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{user}",
        "accountId": ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "userName": role}
        },
    }


def service_identity() -> dict[str, Any]:
    return identity(
        "SystemsManager",
        role="aws-service-role/ssm.amazonaws.com/AWSServiceRoleForSystemsManagerJustInTimeAccess",
    ) | {"invokedBy": "ssm.amazonaws.com"}


def call(
    source: str,
    name: str,
    who: dict[str, Any],
    at: str,
    request: dict[str, Any] | None,
    response: dict[str, Any] | None = None,
) -> dict[str, Any]:
    n = next(_ids)
    return {
        "version": "0",
        "id": f"evt-{n}",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws." + source.split(".", maxsplit=1)[0],
        "account": ACCOUNT,
        "time": at,
        "region": REGION,
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": who,
            "eventTime": at,
            "eventSource": source,
            "eventName": name,
            "awsRegion": REGION,
            "sourceIPAddress": "203.0.113.10",
            "userAgent": "aws-cli/2.27.0",
            "requestParameters": request,
            "responseElements": response,
            "requestID": f"req-{n}",
            "eventID": f"00000000-0000-4000-9000-{n:012d}",
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT,
            "eventCategory": "Management",
        },
    }


def _case(upper: bool, **fields: Any) -> dict[str, Any]:
    return {(k[0].upper() + k[1:]) if upper else k: v for k, v in fields.items()}


def start_access_request(
    user: str,
    request_id: str,
    instance: str,
    *,
    reason: str = "INC-7 disk full",
    at: str,
    upper: bool = False,
) -> dict[str, Any]:
    target = _case(upper, key="InstanceIds", values=[instance])
    return call(
        "ssm.amazonaws.com",
        "StartAccessRequest",
        identity(user),
        at,
        _case(upper, reason=reason, targets=[target]),
        _case(upper, accessRequestId=request_id),
    )


def get_access_token(
    user: str, request_id: str, *, at: str, status: str | None = "Approved"
) -> dict[str, Any]:
    response: dict[str, Any] = {"credentials": "HIDDEN_DUE_TO_SECURITY_REASONS"}
    if status:
        response["accessRequestStatus"] = status
    return call(
        "ssm.amazonaws.com", "GetAccessToken", identity(user), at, {"accessRequestId": request_id}, response
    )


def update_ops_item(
    request_id: str,
    status: str,
    *,
    at: str,
    by: dict[str, Any] | None = None,
    window_end: str | None = None,
    automation: str | None = None,
    upper: bool = False,
) -> dict[str, Any]:
    request: dict[str, Any] = _case(upper, opsItemId=request_id, status=status)
    if window_end:
        request[("PlannedEndTime" if upper else "plannedEndTime")] = window_end
    if automation:
        request["operationalData"] = {
            "/aws/accessrequest": {
                "Type": "SearchableString",
                "Value": f'{{"automationExecutionId": "{automation}"}}',
            }
        }
    return call("ssm.amazonaws.com", "UpdateOpsItem", by or service_identity(), at, request, None)


def send_automation_signal(execution: str, signal: str, *, by: str, at: str) -> dict[str, Any]:
    return call(
        "ssm.amazonaws.com",
        "SendAutomationSignal",
        identity(by, role="Approver"),
        at,
        {"automationExecutionId": execution, "signalType": signal, "payload": {"Comment": ["ok"]}},
        None,
    )


def jit_start_session(session_id: str, instance: str, *, role_session: str, at: str) -> dict[str, Any]:
    """StartSession made with GetAccessToken's credentials: the JIT token role, the requester's name."""
    who = identity(role_session, role="SSM-JustInTimeAccessTokenRole")
    return call(
        "ssm.amazonaws.com",
        "StartSession",
        who,
        at,
        {"target": instance},
        {
            "sessionId": session_id,
            "tokenValue": "Value hidden due to security reasons.",
            "streamUrl": "wss://x",
        },
    )


def ecs_execute_command(
    user: str, session_id: str, *, cluster: str, task: str, command: str, at: str, upper: bool = False
) -> dict[str, Any]:
    request = _case(upper, cluster=cluster, container="app", command=command, interactive=True, task=task)
    response = {
        "clusterArn": cluster,
        "containerArn": f"{task}/container/app",
        "containerName": "app",
        "interactive": True,
        "session": {
            "sessionId": session_id,
            "streamUrl": "wss://x",
            "tokenValue": "HIDDEN_DUE_TO_SECURITY_REASONS",
        },
        "taskArn": task,
    }
    return call("ecs.amazonaws.com", "ExecuteCommand", identity(user), at, request, response)


def send_ssh_public_key(
    user: str, instance: str, *, at: str, key: str | None, upper: bool = False
) -> dict[str, Any]:
    request = _case(upper, instanceId=instance, instanceOSUser="ec2-user", availabilityZone="us-east-1a")
    if key:
        request["SSHPublicKey" if upper else "sSHPublicKey"] = key
    return call(
        "ec2-instance-connect.amazonaws.com",
        "SendSSHPublicKey",
        identity(user),
        at,
        request,
        {"requestId": "r-1", "success": True},
    )


def open_tunnel(user: str, address: str, port: int, *, at: str) -> dict[str, Any]:
    request = {
        "instanceConnectEndpointId": "eice-0123456789abcdef0",
        "remotePort": port,
        "privateIpAddress": address,
        "maxTunnelDuration": 3600,
    }
    return call("ec2-instance-connect.amazonaws.com", "OpenTunnel", identity(user), at, request, None)


def rdp_start(user: str, instance: str, connection: str, *, at: str) -> dict[str, Any]:
    return call(
        "ssm-guiconnect.amazonaws.com",
        "StartConnection",
        identity(user),
        at,
        {"connectionType": "SessionManager", "targetId": instance},
        {"connectionId": connection},
    )


def rdp_cancel(user: str, connection: str, *, at: str) -> dict[str, Any]:
    return call(
        "ssm-guiconnect.amazonaws.com", "CancelConnection", identity(user), at, {"connectionId": connection}
    )


def rdp_recording_off(user: str, *, at: str) -> dict[str, Any]:
    return call(
        "ssm-guiconnect.amazonaws.com",
        "UpdateConnectionRecordingPreferences",
        identity(user),
        at,
        {"recordingPreferences": {"recordingDestinations": {"s3Buckets": []}}},
        None,
    )

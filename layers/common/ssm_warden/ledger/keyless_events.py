"""CloudTrail calls of the keyless paths onto a node → ledger changes. Pure: no AWS calls, no clock.

Shapes (docs/keyless.md says which are confirmed):
- ``ecs:ExecuteCommand``: ``requestParameters.{cluster, task, container, command, interactive}``,
  ``responseElements.{clusterArn, taskArn, containerName, interactive, session.sessionId}``;
- ``ec2-instance-connect:SendSSHPublicKey``: ``requestParameters.{instanceId, instanceOSUser,
  sSHPublicKey}`` (the key may be left out of the record: then no fingerprint);
- ``ec2-instance-connect:OpenTunnel``: ``requestParameters.{instanceConnectEndpointId, remotePort,
  privateIpAddress, maxTunnelDuration}`` (an address, not an instance id: the instance is looked up);
- ``ssm-guiconnect:StartConnection`` / ``CancelConnection``: a connection id and a target, field
  names unconfirmed (several accepted); ``UpdateConnectionRecordingPreferences`` with no recording
  destination, or ``DeleteConnectionRecordingPreferences``: RDP recording switched off.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.events import principal_from
from ssm_warden.models.access import KeylessAccess, KeylessEnded, KeylessPath, RecordingSwitchedOff
from ssm_warden.models.cloudtrail import (
    CloudTrailDetail,
    EcsExecuteCommandParameters,
    EcsExecuteCommandResponse,
    GuiConnectParameters,
    InstanceConnectParameters,
)

INSTANCE_CONNECT_KEY_SECONDS = 60  # a pushed key is accepted for 60 seconds
DEFAULT_TUNNEL_SECONDS = 3600  # OpenTunnel's maximum duration when the call sets none
DEFAULT_RDP_SECONDS = 3600
ECS_EXEC_DOCUMENT = "AmazonECS-ExecuteInteractiveCommand"

KeylessChange = KeylessAccess | KeylessEnded | RecordingSwitchedOff


def key_fingerprint(public_key: str | None) -> str | None:
    """The key's SHA256 fingerprint as ``ssh-keygen -l`` prints it; None when it cannot be read."""
    if not public_key:
        return None
    parts = public_key.split()
    blob = parts[1] if len(parts) > 1 else parts[0]
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError:
        return None
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def _short(arn_or_name: str | None) -> str | None:
    return arn_or_name.rsplit("/", 1)[-1] if arn_or_name else None


def _recording_off(params: dict[str, Any]) -> bool:
    prefs = GuiConnectParameters.model_validate(params).recording_preferences or {}
    destinations = prefs.get("recordingDestinations") or prefs.get("RecordingDestinations") or {}
    buckets = (
        destinations.get("s3Buckets") or destinations.get("S3Buckets")
        if isinstance(destinations, dict)
        else None
    )
    return not buckets


def keyless_change_from_event(detail: CloudTrailDetail) -> KeylessChange | None:
    """What one keyless-path call means; None for a failed call or one that opens nothing."""
    if detail.error_code:
        return None
    account = detail.recipient_account_id or detail.user_identity.account_id
    if not account:
        raise MalformedEventError(f"event {detail.event_id} names no account")
    common: dict[str, Any] = {
        "event_id": detail.event_id,
        "account": account,
        "region": detail.aws_region,
        "at": detail.event_time,
        "principal": principal_from(detail.user_identity),
    }
    seen: dict[str, Any] = {"source_ip": detail.source_ip_address, "user_agent": detail.user_agent}
    params = detail.request_parameters or {}
    name = detail.event_name
    if detail.event_source == "ecs.amazonaws.com" and name == "ExecuteCommand":
        request = EcsExecuteCommandParameters.model_validate(params)
        response = EcsExecuteCommandResponse.model_validate(detail.response_elements or {})
        session_id = (response.session or {}).get("sessionId") or (response.session or {}).get("SessionId")
        if not session_id:
            raise MalformedEventError(f"ExecuteCommand {detail.event_id} carries no session id")
        task = response.task_arn or request.task
        return KeylessAccess(
            **common,
            **seen,
            path=KeylessPath.ECS_EXEC,
            access_id=str(session_id),
            target_id=task,
            cluster=response.cluster_arn or request.cluster,
            task=task,
            container=response.container_name or request.container,
            command=request.command,
            interactive=response.interactive if response.interactive is not None else request.interactive,
        )
    if detail.event_source == "ec2-instance-connect.amazonaws.com":
        request_ic = InstanceConnectParameters.model_validate(params)
        if name in ("SendSSHPublicKey", "SendSerialConsoleSSHPublicKey"):
            return KeylessAccess(
                **common,
                **seen,
                path=KeylessPath.INSTANCE_CONNECT,
                access_id=detail.event_id,
                target_id=request_ic.instance_id,
                os_user=request_ic.instance_os_user,
                key_fingerprint=key_fingerprint(request_ic.ssh_public_key),
                open_seconds=INSTANCE_CONNECT_KEY_SECONDS,
            )
        if name == "OpenTunnel":
            return KeylessAccess(
                **common,
                **seen,
                path=KeylessPath.ENDPOINT_TUNNEL,
                access_id=detail.event_id,
                target_id=request_ic.instance_id or request_ic.private_ip_address,
                endpoint_id=request_ic.instance_connect_endpoint_id,
                port=request_ic.remote_port,
                max_duration_seconds=request_ic.max_tunnel_duration,
                open_seconds=request_ic.max_tunnel_duration or DEFAULT_TUNNEL_SECONDS,
            )
        return None
    if detail.event_source == "ssm-guiconnect.amazonaws.com":
        request_gui = GuiConnectParameters.model_validate(params)
        response_gui = GuiConnectParameters.model_validate(detail.response_elements or {})
        connection = response_gui.connection_id or request_gui.connection_id
        if name == "StartConnection":
            return KeylessAccess(
                **common,
                **seen,
                path=KeylessPath.FLEET_MANAGER_RDP,
                access_id=connection or detail.event_id,
                target_id=request_gui.target or response_gui.target,
                open_seconds=DEFAULT_RDP_SECONDS,
            )
        if name == "CancelConnection":
            if not connection:
                raise MalformedEventError(f"CancelConnection {detail.event_id} names no connection")
            return KeylessEnded(**common, path=KeylessPath.FLEET_MANAGER_RDP, access_id=connection)
        if name == "DeleteConnectionRecordingPreferences" or (
            name == "UpdateConnectionRecordingPreferences" and _recording_off(params)
        ):
            return RecordingSwitchedOff(**common, detail=f"{name}: RDP connections are no longer recorded")
    return None


def ecs_session_facts(change: KeylessAccess) -> dict[str, Any]:
    """The ECS Exec facts kept on the session record (``SessionRecord.keyless``)."""
    facts = {
        "path": change.path.value,
        "cluster": change.cluster,
        "cluster_name": _short(change.cluster),
        "task": change.task,
        "container": change.container,
        "command": change.command,
        "interactive": change.interactive,
    }
    return {k: v for k, v in facts.items() if v is not None}

"""CloudTrail API-call events as EventBridge delivers them (aws-facts §1).

Only the fields ssm-warden uses are modelled; everything else is allowed and ignored. CloudTrail writes
request fields in lower camel case while the API uses upper camel case: both are accepted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class SessionIssuer(_Lenient):
    type: str | None = None
    arn: str | None = None
    user_name: str | None = Field(default=None, alias="userName")


class SessionContext(_Lenient):
    session_issuer: SessionIssuer | None = Field(default=None, alias="sessionIssuer")


class UserIdentity(_Lenient):
    type: str | None = None
    arn: str | None = None
    account_id: str | None = Field(default=None, alias="accountId")
    principal_id: str | None = Field(default=None, alias="principalId")
    invoked_by: str | None = Field(default=None, alias="invokedBy")
    session_context: SessionContext | None = Field(default=None, alias="sessionContext")


class SessionRequestParameters(_Lenient):
    target: str | None = Field(default=None, validation_alias=AliasChoices("target", "Target"))
    document_name: str | None = Field(
        default=None, validation_alias=AliasChoices("documentName", "DocumentName")
    )
    parameters: dict[str, Any] | None = Field(
        default=None, validation_alias=AliasChoices("parameters", "Parameters")
    )
    reason: str | None = Field(default=None, validation_alias=AliasChoices("reason", "Reason"))
    session_id: str | None = Field(default=None, validation_alias=AliasChoices("sessionId", "SessionId"))


class SessionResponseElements(_Lenient):
    session_id: str | None = Field(default=None, validation_alias=AliasChoices("sessionId", "SessionId"))


class CloudTrailDetail(_Lenient):
    """The ``detail`` of an "AWS API Call via CloudTrail" event."""

    event_version: str | None = Field(default=None, alias="eventVersion")
    user_identity: UserIdentity = Field(alias="userIdentity")
    event_time: datetime = Field(alias="eventTime")
    event_source: str = Field(alias="eventSource")
    event_name: str = Field(alias="eventName")
    aws_region: str = Field(alias="awsRegion")
    source_ip_address: str | None = Field(default=None, alias="sourceIPAddress")
    user_agent: str | None = Field(default=None, alias="userAgent")
    error_code: str | None = Field(default=None, alias="errorCode")
    error_message: str | None = Field(default=None, alias="errorMessage")
    request_parameters: dict[str, Any] | None = Field(default=None, alias="requestParameters")
    response_elements: dict[str, Any] | None = Field(default=None, alias="responseElements")
    event_id: str = Field(alias="eventID")
    recipient_account_id: str | None = Field(default=None, alias="recipientAccountId")

    @field_validator("request_parameters", "response_elements", mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        # CloudTrail writes JSON null for calls without parameters (and for failed calls' responses).
        return value or None


class CloudTrailEvent(EventBridgeModel):
    """EventBridge envelope with a typed CloudTrail ``detail``."""

    detail: CloudTrailDetail


SESSION_EVENT_NAMES = frozenset({"StartSession", "ResumeSession", "TerminateSession"})


# -- just-in-time node access and the other keyless paths (aws-facts §9) ------------------------------
# Where AWS has not published a sample record, both plausible spellings are accepted (CloudTrail's
# lower camel case and the API's upper camel case); docs/keyless.md lists what is unconfirmed.

ACCESS_REQUEST_EVENT_NAMES = frozenset(
    {"StartAccessRequest", "GetAccessToken", "UpdateOpsItem", "SendAutomationSignal"}
)
KEYLESS_EVENTS = frozenset(
    {
        ("ecs.amazonaws.com", "ExecuteCommand"),
        ("ec2-instance-connect.amazonaws.com", "SendSSHPublicKey"),
        ("ec2-instance-connect.amazonaws.com", "SendSerialConsoleSSHPublicKey"),
        ("ec2-instance-connect.amazonaws.com", "OpenTunnel"),
        ("ssm-guiconnect.amazonaws.com", "StartConnection"),
        ("ssm-guiconnect.amazonaws.com", "CancelConnection"),
        ("ssm-guiconnect.amazonaws.com", "UpdateConnectionRecordingPreferences"),
        ("ssm-guiconnect.amazonaws.com", "DeleteConnectionRecordingPreferences"),
    }
)


def _choice(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class AccessTargetFilter(_Lenient):
    key: str | None = Field(default=None, validation_alias=_choice("key", "Key"))
    values: list[str] = Field(default_factory=list, validation_alias=_choice("values", "Values"))


class AccessRequestParameters(_Lenient):
    """StartAccessRequest / GetAccessToken / UpdateOpsItem / SendAutomationSignal request fields."""

    reason: str | None = Field(default=None, validation_alias=_choice("reason", "Reason"))
    targets: list[AccessTargetFilter] = Field(
        default_factory=list, validation_alias=_choice("targets", "Targets")
    )
    access_request_id: str | None = Field(
        default=None, validation_alias=_choice("accessRequestId", "AccessRequestId")
    )
    ops_item_id: str | None = Field(default=None, validation_alias=_choice("opsItemId", "OpsItemId"))
    status: str | None = Field(default=None, validation_alias=_choice("status", "Status"))
    operational_data: dict[str, Any] | None = Field(
        default=None, validation_alias=_choice("operationalData", "OperationalData")
    )
    planned_start_time: datetime | None = Field(
        default=None, validation_alias=_choice("plannedStartTime", "PlannedStartTime")
    )
    planned_end_time: datetime | None = Field(
        default=None, validation_alias=_choice("plannedEndTime", "PlannedEndTime")
    )
    automation_execution_id: str | None = Field(
        default=None, validation_alias=_choice("automationExecutionId", "AutomationExecutionId")
    )
    signal_type: str | None = Field(default=None, validation_alias=_choice("signalType", "SignalType"))

    @field_validator("targets", mode="before")
    @classmethod
    def _null_list(cls, value: Any) -> Any:
        return value or []


class AccessResponseElements(_Lenient):
    access_request_id: str | None = Field(
        default=None, validation_alias=_choice("accessRequestId", "AccessRequestId")
    )
    access_request_status: str | None = Field(
        default=None, validation_alias=_choice("accessRequestStatus", "AccessRequestStatus")
    )


class EcsExecuteCommandParameters(_Lenient):
    cluster: str | None = Field(default=None, validation_alias=_choice("cluster", "Cluster"))
    task: str | None = Field(default=None, validation_alias=_choice("task", "Task"))
    container: str | None = Field(default=None, validation_alias=_choice("container", "Container"))
    command: str | None = Field(default=None, validation_alias=_choice("command", "Command"))
    interactive: bool | None = Field(default=None, validation_alias=_choice("interactive", "Interactive"))


class EcsExecuteCommandResponse(_Lenient):
    cluster_arn: str | None = Field(default=None, validation_alias=_choice("clusterArn", "ClusterArn"))
    task_arn: str | None = Field(default=None, validation_alias=_choice("taskArn", "TaskArn"))
    container_name: str | None = Field(
        default=None, validation_alias=_choice("containerName", "ContainerName")
    )
    interactive: bool | None = Field(default=None, validation_alias=_choice("interactive", "Interactive"))
    session: dict[str, Any] | None = Field(default=None, validation_alias=_choice("session", "Session"))


class InstanceConnectParameters(_Lenient):
    instance_id: str | None = Field(default=None, validation_alias=_choice("instanceId", "InstanceId"))
    instance_os_user: str | None = Field(
        default=None, validation_alias=_choice("instanceOSUser", "InstanceOSUser", "instanceOsUser")
    )
    ssh_public_key: str | None = Field(
        default=None, validation_alias=_choice("sSHPublicKey", "SSHPublicKey", "sshPublicKey")
    )
    # OpenTunnel (query parameters of the WebSocket call)
    instance_connect_endpoint_id: str | None = Field(
        default=None,
        validation_alias=_choice("instanceConnectEndpointId", "InstanceConnectEndpointId"),
    )
    remote_port: int | None = Field(default=None, validation_alias=_choice("remotePort", "RemotePort"))
    private_ip_address: str | None = Field(
        default=None, validation_alias=_choice("privateIpAddress", "PrivateIpAddress")
    )
    max_tunnel_duration: int | None = Field(
        default=None, validation_alias=_choice("maxTunnelDuration", "MaxTunnelDuration")
    )


class GuiConnectParameters(_Lenient):
    connection_id: str | None = Field(default=None, validation_alias=_choice("connectionId", "ConnectionId"))
    target: str | None = Field(
        default=None, validation_alias=_choice("targetId", "TargetId", "target", "Target", "instanceId")
    )
    connection_type: str | None = Field(
        default=None, validation_alias=_choice("connectionType", "ConnectionType")
    )
    recording_preferences: dict[str, Any] | None = Field(
        default=None, validation_alias=_choice("recordingPreferences", "RecordingPreferences")
    )

"""Just-in-time node access requests and the other keyless ways onto a node, as the ledger keeps them.

A JIT access request (aws-facts §9) is an OpsItem ``oi-…``: a requester asks (``StartAccessRequest``),
approval policies or approvers decide, the requester fetches short-lived credentials of
``SSM-JustInTimeAccessTokenRole`` (``GetAccessToken``) and starts sessions with them. The ledger keeps
one item per request and joins each JIT session to it, so that the session is shown and judged as
the requester's.

The keyless paths (ECS Exec, EC2 Instance Connect, Instance Connect Endpoint, Fleet Manager RDP)
each leave one CloudTrail call in another service; each becomes a ``KeylessAccess``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ssm_warden.models.session import Principal, _Change

JIT_TOKEN_ROLE = "SSM-JustInTimeAccessTokenRole"


class AccessStatus(StrEnum):
    """What became of an access request. Later, stronger outcomes win whatever order events arrive in."""

    PENDING = "pending"
    APPROVED = "approved"
    EXPIRED = "expired"
    REJECTED = "rejected"
    REVOKED = "revoked"

    @property
    def rank(self) -> int:
        return _STATUS_RANK[self]

    @property
    def ends_access(self) -> bool:
        return self in (AccessStatus.EXPIRED, AccessStatus.REJECTED, AccessStatus.REVOKED)


_STATUS_RANK = {
    AccessStatus.PENDING: 0,
    AccessStatus.APPROVED: 1,
    AccessStatus.EXPIRED: 2,
    AccessStatus.REJECTED: 3,
    AccessStatus.REVOKED: 3,
}


class AccessRequested(_Change):
    """``ssm:StartAccessRequest``: who asked for which nodes, and why."""

    kind: Literal["access_requested"] = "access_requested"
    request_id: str
    reason: str | None = None
    targets: list[str] = Field(default_factory=list)  # node ids named in Targets
    target_filters: list[dict[str, Any]] = Field(default_factory=list)  # Targets as given


class AccessTokenIssued(_Change):
    """``ssm:GetAccessToken``: the requester fetched JIT credentials (status when CloudTrail shows it)."""

    kind: Literal["access_token"] = "access_token"
    request_id: str
    status: AccessStatus | None = None


class AccessDecided(_Change):
    """An approval outcome: approved, rejected, revoked or expired, with the window when known.

    ``principal`` is who decided (an approver), unless ``by_service``: the decision was recorded by
    Systems Manager itself (an auto-approval, an expiry), and the principal is its role.
    """

    kind: Literal["access_decided"] = "access_decided"
    request_id: str | None = None  # None: only the automation execution id is known so far
    automation_execution_id: str | None = None
    status: AccessStatus
    by_service: bool = False
    window_start: datetime | None = None
    window_end: datetime | None = None
    source: str  # which call said so: UpdateOpsItem, SendAutomationSignal, GetOpsItem


AccessChange = AccessRequested | AccessTokenIssued | AccessDecided


class AccessRequestRecord(BaseModel):
    """One access request item of the sessions table."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    request_id: str
    account: str
    region: str
    requester: Principal | None = None
    requester_name: str | None = None  # the name a JIT session's role-session name is matched on
    reason: str | None = None
    targets: list[str] = Field(default_factory=list)
    requested_at: datetime | None = None
    status: AccessStatus = AccessStatus.PENDING
    status_at: datetime | None = None
    status_by: str | None = None
    approvers: list[str] = Field(default_factory=list)
    window_start: datetime | None = None
    window_end: datetime | None = None
    tokens: int = 0
    last_token_at: datetime | None = None
    automation_execution_id: str | None = None
    session_ids: list[str] = Field(default_factory=list)
    opsitem_read_at: datetime | None = None  # when the sweeper last read the request's OpsItem

    def covers_target(self, target_id: str | None) -> bool:
        """True when the request names the target, or names none that we could read (tag targets)."""
        return not self.targets or (target_id is not None and target_id in self.targets)


class KeylessPath(StrEnum):
    ECS_EXEC = "ecs_exec"
    INSTANCE_CONNECT = "instance_connect"  # ec2-instance-connect:SendSSHPublicKey
    ENDPOINT_TUNNEL = "endpoint_tunnel"  # ec2-instance-connect:OpenTunnel
    FLEET_MANAGER_RDP = "fleet_manager_rdp"  # ssm-guiconnect:StartConnection


class KeylessAccess(_Change):
    """One keyless way onto a node, as its CloudTrail call tells it.

    ``access_id`` is the ledger key of the access: the ECS Exec session id, the RDP connection id, or
    the CloudTrail event id for the calls that open no session of their own (key pushes, tunnels).
    """

    kind: Literal["keyless"] = "keyless"
    path: KeylessPath
    access_id: str
    target_id: str | None = None  # instance id, or the ECS task ARN
    source_ip: str | None = None
    user_agent: str | None = None
    # ECS Exec
    cluster: str | None = None
    task: str | None = None
    container: str | None = None
    command: str | None = None
    interactive: bool | None = None
    # Instance Connect
    os_user: str | None = None
    key_fingerprint: str | None = None
    # Endpoint tunnel
    endpoint_id: str | None = None
    port: int | None = None
    max_duration_seconds: int | None = None
    # How long the access stays open for concurrency counts when nothing says it ended.
    open_seconds: int | None = None


class KeylessEnded(_Change):
    """``ssm-guiconnect:CancelConnection``: an RDP connection was closed."""

    kind: Literal["keyless_ended"] = "keyless_ended"
    path: KeylessPath
    access_id: str


class RecordingSwitchedOff(_Change):
    """Fleet Manager RDP recording turned off: a tamper signal."""

    kind: Literal["rdp_recording_off"] = "rdp_recording_off"
    detail: str

"""What ``ssm-warden preflight`` reads from an account, as plain models (collected by ``collect``).

A fact that could not be read is None, with the reason in ``Facts.unreadable`` under the section's
name: the checks then say "unknown" and why, instead of guessing.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class Trail(BaseModel):
    name: str
    home_region: str | None = None
    multi_region: bool = False
    logging: bool | None = None
    # Whether the trail's selectors include write management events (StartSession is one).
    management_writes: bool | None = None


class Preferences(BaseModel):
    """The Session Manager preferences document (SSM-SessionManagerRunShell)."""

    exists: bool
    log_group: str | None = None
    streaming: bool = False
    encryption_required: bool = False  # cloudWatchEncryptionEnabled: only encrypted groups get logs


class LogGroup(BaseModel):
    name: str
    arn: str | None = None
    exists: bool
    kms_key_id: str | None = None
    filters: list[str] = Field(default_factory=list)  # subscription filter names
    warden_filter: str | None = None  # ours, when the stack is deployed already


class RoleWrite(BaseModel):
    """Whether an instance role may stream session logs to the group."""

    role_arn: str
    missing: list[str] = Field(default_factory=list)  # actions it is not allowed on the group
    method: str = "simulated"  # "simulated" (iam:SimulatePrincipalPolicy) or "policies read"


class Node(BaseModel):
    instance_id: str
    agent_version: str | None = None
    platform: str | None = None
    ping_status: str | None = None
    subnet_id: str | None = None
    vpc_id: str | None = None
    instance_profile_arn: str | None = None
    role: RoleWrite | None = None
    # Whether the subnet routes 0.0.0.0/0 to an internet or NAT gateway (None: unknown).
    internet_route: bool | None = None


class KeyPolicy(BaseModel):
    key_id: str
    allows_logs: bool


class LambdaQuota(BaseModel):
    account_limit: int
    unreserved: int
    template_reserved: int  # reserved concurrency the template asks for
    already_reserved: int = 0  # of that, already held by a deployed stack's functions


class SlackSecret(BaseModel):
    given: str
    exists: bool | None = None
    name: str | None = None  # the secret's name as Secrets Manager reports it


class Facts(BaseModel):
    region: str
    account: str | None = None
    expected_log_group: str
    trails: list[Trail] | None = None
    preferences: Preferences | None = None
    log_group: LogGroup | None = None
    nodes: list[Node] | None = None
    logs_endpoint_vpcs: list[str] = Field(default_factory=list)  # VPCs with a `logs` endpoint
    key_policy: KeyPolicy | None = None
    lambda_quota: LambdaQuota | None = None
    slack: SlackSecret | None = None
    unreadable: dict[str, str] = Field(default_factory=dict)  # section -> why it could not be read

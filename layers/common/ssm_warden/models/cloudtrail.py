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

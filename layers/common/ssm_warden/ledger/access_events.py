"""CloudTrail just-in-time access calls → access-request changes. Pure: no AWS calls, no clock.

Shapes (aws-facts §9; docs/keyless.md says which are unconfirmed and how to check them):
- ``StartAccessRequest``: ``requestParameters.{reason, targets[{key, values}]}``,
  ``responseElements.accessRequestId`` (``oi-…``). The API's upper camel case is accepted too.
- ``GetAccessToken``: ``requestParameters.accessRequestId``; ``responseElements.accessRequestStatus``
  when CloudTrail records it (the credentials themselves are hidden).
- approval outcomes, two plausible records: ``UpdateOpsItem`` of the request's OpsItem with a
  ``status`` (Approved, Rejected, Revoked, ...) and possibly planned start/end times or operational
  data; or ``SendAutomationSignal`` to the approval automation (``signalType`` Approve/Reject/Deny/
  Revoke) that names only the automation execution, joined to the request once the OpsItem told us
  which execution it is.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from ssm_warden.errors import MalformedEventError
from ssm_warden.ledger.events import principal_from
from ssm_warden.models.access import (
    JIT_TOKEN_ROLE,
    AccessChange,
    AccessDecided,
    AccessRequested,
    AccessStatus,
    AccessTokenIssued,
)
from ssm_warden.models.cloudtrail import (
    AccessRequestParameters,
    AccessResponseElements,
    CloudTrailDetail,
)
from ssm_warden.models.session import Principal

REQUEST_ID = re.compile(r"^oi-[0-9a-f]{12}$")
_NODE_ID = re.compile(r"^(?:i-[0-9a-f]{8,17}|mi-[0-9a-f]{8,17})$")
# Service-linked role JIT uses to keep its OpsItems (aws docs: "Using roles to enable just-in-time
# node access"); a decision written by it is the service's own (auto-approval, expiry).
JIT_SERVICE_ROLE = "AWSServiceRoleForSystemsManagerJustInTimeAccess"

_STATUS_WORDS = {
    "approved": AccessStatus.APPROVED,
    "approve": AccessStatus.APPROVED,
    "pending": AccessStatus.PENDING,
    "pendingapproval": AccessStatus.PENDING,
    "rejected": AccessStatus.REJECTED,
    "reject": AccessStatus.REJECTED,
    "deny": AccessStatus.REJECTED,
    "denied": AccessStatus.REJECTED,
    "revoked": AccessStatus.REVOKED,
    "revoke": AccessStatus.REVOKED,
    "expired": AccessStatus.EXPIRED,
    "timedout": AccessStatus.EXPIRED,
}
_WINDOW_START_KEYS = ("startTime", "StartTime", "accessStartTime", "approvedTime", "windowStart")
_WINDOW_END_KEYS = ("endTime", "EndTime", "accessEndTime", "expirationTime", "ExpirationTime", "windowEnd")


def status_from(word: str | None) -> AccessStatus | None:
    """An access status from the words AWS uses for it (``Approved``, ``Approve``, ``TimedOut``, ...)."""
    if not word:
        return None
    return _STATUS_WORDS.get(re.sub(r"[^a-z]", "", word.lower()))


def is_request_id(value: str | None) -> bool:
    return bool(value and REQUEST_ID.match(value))


def is_jit_principal(principal: Principal) -> bool:
    """A session started with the JIT credentials: the principal is SSM-JustInTimeAccessTokenRole."""
    role = principal.role_arn or ""
    arn = principal.arn or ""
    return role.endswith(f"/{JIT_TOKEN_ROLE}") or f":assumed-role/{JIT_TOKEN_ROLE}/" in arn


def requester_name(principal: Principal) -> str | None:
    """The name a JIT session's role-session name is compared with: the requester's role-session name
    (an Identity Center user's is their user name) or IAM user name, lower-cased."""
    name = principal.role_session_name or principal.user_name
    return name.lower() if name else None


def node_targets(filters: list[Any]) -> list[str]:
    """The node ids named in ``Targets`` (tag targets name none: the request then covers any node)."""
    out: list[str] = []
    for flt in filters:
        for value in flt.values:
            if _NODE_ID.match(value) and value not in out:
                out.append(value)
    return out


def _by_service(principal: Principal, detail: CloudTrailDetail) -> bool:
    identity = detail.user_identity
    return (
        identity.type == "AWSService"
        or (identity.invoked_by or "").endswith("amazonaws.com")
        or bool(principal.role_arn and principal.role_arn.endswith(f"/{JIT_SERVICE_ROLE}"))
    )


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, int | float):
        # epoch seconds (or milliseconds: anything past the year 33658 in seconds)
        seconds = value / 1000 if value > 1e12 else value
        from datetime import UTC

        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def window_from_operational_data(data: dict[str, Any] | None) -> tuple[datetime | None, datetime | None]:
    """The approved window from an OpsItem's operational data, where JIT may keep it (unconfirmed):
    any entry whose key mentions the access request, its ``Value`` a JSON object with start/end."""
    start = end = None
    for key, entry in (data or {}).items():
        if "accessrequest" not in key.lower().replace("_", "").replace("-", ""):
            continue
        raw = entry.get("Value", entry.get("value")) if isinstance(entry, dict) else entry
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            continue
        if not isinstance(value, dict):
            continue
        start = start or next((_parse_time(value[k]) for k in _WINDOW_START_KEYS if k in value), None)
        end = end or next((_parse_time(value[k]) for k in _WINDOW_END_KEYS if k in value), None)
    return start, end


def automation_id_from_operational_data(data: dict[str, Any] | None) -> str | None:
    for key, entry in (data or {}).items():
        if "accessrequest" not in key.lower().replace("_", "").replace("-", ""):
            continue
        raw = entry.get("Value", entry.get("value")) if isinstance(entry, dict) else entry
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            continue
        if isinstance(value, dict):
            found = value.get("automationExecutionId") or value.get("AutomationExecutionId")
            if found:
                return str(found)
    return None


def access_change_from_event(detail: CloudTrailDetail) -> AccessChange | None:
    """What one JIT-related CloudTrail call means for the access ledger; None when it means nothing
    (a failed call, an OpsItem update that is no access decision, a signal of another kind).

    Raises ``MalformedEventError`` for a call that should name a request and names none.
    """
    if detail.event_source != "ssm.amazonaws.com":
        return None
    if detail.error_code:
        return None  # a refused request, token or decision changed nothing
    principal = principal_from(detail.user_identity)
    account = detail.recipient_account_id or detail.user_identity.account_id
    if not account:
        raise MalformedEventError(f"event {detail.event_id} names no account")
    request = AccessRequestParameters.model_validate(detail.request_parameters or {})
    response = AccessResponseElements.model_validate(detail.response_elements or {})
    common: dict[str, Any] = {
        "event_id": detail.event_id,
        "account": account,
        "region": detail.aws_region,
        "at": detail.event_time,
        "principal": principal,
    }
    name = detail.event_name
    if name == "StartAccessRequest":
        request_id = response.access_request_id
        if not is_request_id(request_id):
            raise MalformedEventError(f"StartAccessRequest {detail.event_id} carries no access request id")
        return AccessRequested(
            **common,
            request_id=str(request_id),
            reason=request.reason,
            targets=node_targets(request.targets),
            target_filters=[t.model_dump(exclude_none=True) for t in request.targets],
        )
    if name == "GetAccessToken":
        if not is_request_id(request.access_request_id):
            raise MalformedEventError(f"GetAccessToken {detail.event_id} names no access request")
        return AccessTokenIssued(
            **common,
            request_id=str(request.access_request_id),
            status=status_from(response.access_request_status),
        )
    if name == "UpdateOpsItem":
        status = status_from(request.status)
        if status is None or not is_request_id(request.ops_item_id):
            return None
        start, end = window_from_operational_data(request.operational_data)
        return AccessDecided(
            **common,
            request_id=request.ops_item_id,
            automation_execution_id=automation_id_from_operational_data(request.operational_data),
            status=status,
            by_service=_by_service(principal, detail),
            window_start=request.planned_start_time or start,
            window_end=request.planned_end_time or end,
            source="UpdateOpsItem",
        )
    if name == "SendAutomationSignal":
        status = status_from(request.signal_type)
        if status is None or not request.automation_execution_id:
            return None
        return AccessDecided(
            **common,
            automation_execution_id=request.automation_execution_id,
            status=status,
            by_service=_by_service(principal, detail),
            source="SendAutomationSignal",
        )
    return None

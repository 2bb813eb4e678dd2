"""What the access request's OpsItem says (``ssm:GetOpsItem``), when CloudTrail has shown no outcome.

A JIT access request is an OpsItem (``oi-…``); its ``Status`` (PendingApproval, Approved, Rejected,
Revoked, TimedOut, ...), planned start and end, and operational data are read at most every
``REFRESH`` per request, only for requests that have open sessions and no final word yet. Who last
changed the OpsItem decides how far its window is trusted: Systems Manager's own role sets it,
anyone else can only bring it earlier (as for ``UpdateOpsItem`` events, ledger/access_repository.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ssm_warden.ledger.access_events import (
    JIT_SERVICE_ROLE,
    automation_id_from_operational_data,
    status_from,
    window_from_operational_data,
)
from ssm_warden.models.access import AccessRequestRecord, AccessStatus

REFRESH = timedelta(minutes=5)


@dataclass(frozen=True)
class OpsItemView:
    status: AccessStatus | None
    window_start: datetime | None
    window_end: datetime | None
    automation_execution_id: str | None
    last_modified_by: str | None

    @property
    def by_service(self) -> bool:
        return bool(self.last_modified_by and f"/{JIT_SERVICE_ROLE}" in self.last_modified_by)


def needs_refresh(request: AccessRequestRecord, read_at: datetime | None, now: datetime) -> bool:
    """An open question the OpsItem may answer (pending, or approved without a known end), not read
    in the last ``REFRESH``."""
    open_question = request.status is AccessStatus.PENDING or (
        request.status is AccessStatus.APPROVED and request.window_end is None
    )
    return open_question and (read_at is None or now - read_at >= REFRESH)


def view_of(item: dict[str, Any]) -> OpsItemView:
    start, end = window_from_operational_data(item.get("OperationalData"))
    return OpsItemView(
        status=status_from(item.get("Status")),
        window_start=item.get("PlannedStartTime") or item.get("ActualStartTime") or start,
        window_end=item.get("PlannedEndTime") or end,
        automation_execution_id=automation_id_from_operational_data(item.get("OperationalData")),
        last_modified_by=item.get("LastModifiedBy"),
    )


def read_ops_item(request: AccessRequestRecord, ssm: Any = None) -> OpsItemView | None:
    """The request's OpsItem, read in the request's account (the member role in organisation mode);
    None when it cannot be read (logged: the window is then judged on what CloudTrail showed)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from ssm_warden.clients import aws_client_for
    from ssm_warden.errors import ConfigError
    from ssm_warden.observability import logger

    try:
        ssm = ssm or aws_client_for("ssm", request.account, request.region)
        item = ssm.get_ops_item(OpsItemId=request.request_id)["OpsItem"]
    except (ClientError, BotoCoreError, ConfigError) as exc:
        logger().warning(
            "access request OpsItem not read", extra={"request_id": request.request_id, "error": str(exc)}
        )
        return None
    return view_of(item)

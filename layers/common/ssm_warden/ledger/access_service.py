"""The access-request path: a CloudTrail JIT call in, the access ledger and its session joins updated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ssm_warden.clock import iso
from ssm_warden.ledger.access_events import access_change_from_event, requester_name
from ssm_warden.ledger.access_join import join_waiting_sessions
from ssm_warden.ledger.access_repository import AccessRepository
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.access import (
    AccessChange,
    AccessDecided,
    AccessRequested,
    AccessRequestRecord,
    AccessStatus,
    AccessTokenIssued,
)
from ssm_warden.models.cloudtrail import CloudTrailDetail


@dataclass
class AccessResult:
    change: AccessChange | None
    request: AccessRequestRecord | None = None
    applied: bool = False
    status_changed: bool = False
    joined: list[str] = field(default_factory=list)


def _decide(arepo: AccessRepository, change: AccessDecided, request_id: str) -> bool:
    approver = None if change.by_service else (change.principal.arn or change.principal.principal_id)
    by = "Systems Manager" if change.by_service else approver
    return arepo.record_status(
        account=change.account,
        region=change.region,
        request_id=request_id,
        status=change.status,
        at=change.at,
        by=by,
        approver=approver if change.status is not AccessStatus.PENDING else None,
        window_start=change.window_start,
        window_end=change.window_end,
        automation_execution_id=change.automation_execution_id,
        by_service=change.by_service,
    )


def apply_parked_signals(
    arepo: AccessRepository, account: str, region: str, request_id: str, auto: str
) -> bool:
    """Decisions signalled to the approval automation before we knew its request."""
    changed = False
    link = arepo.request_of_automation(account, region, auto)
    for decision in link.get("decisions") or []:
        status = AccessStatus(decision["status"])
        from ssm_warden.clock import parse_time

        changed |= arepo.record_status(
            account=account,
            region=region,
            request_id=request_id,
            status=status,
            at=parse_time(str(decision["at"])),
            by=decision.get("by"),
            approver=decision.get("by") if not decision.get("by_service") else None,
        )
    return changed


def record_access_event(
    detail: CloudTrailDetail,
    repo: SessionRepository | None = None,
    arepo: AccessRepository | None = None,
) -> AccessResult:
    """Apply one JIT access call to the ledger (idempotent, order-independent), then join the JIT
    sessions that were waiting for this request."""
    change = access_change_from_event(detail)
    if change is None:
        return AccessResult(change=None)
    arepo = arepo or AccessRepository()
    applied = False
    status_changed = False
    request_id: str | None = getattr(change, "request_id", None)
    match change:
        case AccessRequested():
            applied = arepo.record_requested(
                account=change.account,
                region=change.region,
                request_id=change.request_id,
                event_id=change.event_id,
                requester=change.principal,
                name=requester_name(change.principal),
                reason=change.reason,
                targets=change.targets,
                at=change.at,
            )
        case AccessTokenIssued():
            applied = arepo.record_token(
                account=change.account,
                region=change.region,
                request_id=change.request_id,
                event_id=change.event_id,
                requester=change.principal,
                name=requester_name(change.principal),
                at=change.at,
            )
            if change.status is not None:
                status_changed = arepo.record_status(
                    account=change.account,
                    region=change.region,
                    request_id=change.request_id,
                    status=change.status,
                    at=change.at,
                    by="Systems Manager",
                )
        case AccessDecided():
            if request_id is None and change.automation_execution_id:
                link = arepo.request_of_automation(
                    change.account, change.region, change.automation_execution_id
                )
                request_id = link.get("request_id")
                if request_id is None:
                    arepo.park_signal(
                        change.account,
                        change.region,
                        change.automation_execution_id,
                        {
                            "status": change.status.value,
                            "at": iso(change.at),
                            "by": change.principal.arn or "unknown",
                            "by_service": change.by_service,
                        },
                        change.at,
                    )
                    return AccessResult(change=change, applied=True)
            if request_id is None:
                return AccessResult(change=change)
            status_changed = _decide(arepo, change, request_id)
            if change.automation_execution_id:
                status_changed |= apply_parked_signals(
                    arepo, change.account, change.region, request_id, change.automation_execution_id
                )
            applied = True
    if request_id is None:
        return AccessResult(change=change, applied=applied)
    request = arepo.get(change.account, change.region, request_id)
    joined = join_waiting_sessions(request, repo=repo, arepo=arepo) if request is not None else []
    return AccessResult(
        change=change, request=request, applied=applied, status_changed=status_changed, joined=joined
    )


def refresh_from_ops_item(
    request: AccessRequestRecord, now: datetime, arepo: AccessRepository | None = None
) -> AccessRequestRecord:
    """Read the request's OpsItem when CloudTrail left its outcome or window open (ledger/ops_item.py)."""
    from ssm_warden.ledger.ops_item import needs_refresh, read_ops_item

    if not needs_refresh(request, request.opsitem_read_at, now):
        return request
    arepo = arepo or AccessRepository()
    arepo.mark_ops_item_read(request.account, request.region, request.request_id, now)
    view = read_ops_item(request)
    if view is None or view.status is None:
        return request
    arepo.record_status(
        account=request.account,
        region=request.region,
        request_id=request.request_id,
        status=view.status,
        at=now,
        by="Systems Manager" if view.by_service else (view.last_modified_by or "unknown"),
        window_start=view.window_start,
        window_end=view.window_end,
        automation_execution_id=view.automation_execution_id,
        by_service=view.by_service,
    )
    return arepo.get(request.account, request.region, request.request_id) or request

"""What Session Manager itself says about sessions (DescribeSessions): the reconciliation source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ssm_warden.clients import aws_client

PAGE_SIZE = 200


@dataclass(frozen=True)
class ServiceSession:
    session_id: str
    target: str | None
    status: str
    start: datetime | None
    end: datetime | None
    document: str | None
    owner: str | None
    reason: str | None
    access_type: str | None = None  # Standard | JustInTime


def _normalise_owner(owner: str | None) -> str | None:
    # DescribeSessions may return the owner without its "arn:" prefix (aws-facts §4).
    if owner and not owner.startswith("arn:") and ":" in owner:
        return f"arn:{owner}" if owner.startswith("aws:") else owner
    return owner


def _session(raw: dict[str, object]) -> ServiceSession:
    return ServiceSession(
        session_id=str(raw["SessionId"]),
        target=raw.get("Target"),  # type: ignore[arg-type]
        status=str(raw.get("Status", "")),
        start=raw.get("StartDate"),  # type: ignore[arg-type]
        end=raw.get("EndDate"),  # type: ignore[arg-type]
        document=raw.get("DocumentName"),  # type: ignore[arg-type]
        owner=_normalise_owner(raw.get("Owner")),  # type: ignore[arg-type]
        reason=raw.get("Reason"),  # type: ignore[arg-type]
        access_type=raw.get("AccessType"),  # type: ignore[arg-type]
    )


def active_sessions(ssm: Any = None) -> list[ServiceSession]:
    """Every active session, through ``ssm`` (default: this account's client; the sweeper passes a
    member account's client in organisation mode)."""
    ssm = ssm or aws_client("ssm")
    out: list[ServiceSession] = []
    kwargs: dict[str, object] = {"State": "Active", "MaxResults": PAGE_SIZE}
    while True:
        page = ssm.describe_sessions(**kwargs)
        out.extend(_session(s) for s in page.get("Sessions", []))
        if not page.get("NextToken"):
            return out
        kwargs["NextToken"] = page["NextToken"]


def ended_session(session_id: str, ssm: Any = None) -> ServiceSession | None:
    """The session from History if it has ended, else None."""
    page = (ssm or aws_client("ssm")).describe_sessions(
        State="History", Filters=[{"key": "SessionId", "value": session_id}], MaxResults=PAGE_SIZE
    )
    found = [_session(s) for s in page.get("Sessions", [])]
    return found[0] if found else None

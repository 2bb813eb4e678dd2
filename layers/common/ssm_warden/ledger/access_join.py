"""Joining just-in-time sessions to their access requests, whatever order the events arrive in.

A JIT session's StartSession names ``SSM-JustInTimeAccessTokenRole``; its role-session name is the
requester's name (or, in the other plausible shape, the request id itself: both are accepted, as
aws-facts §9 marks it unconfirmed). Each side leaves a link item when the other is missing:
- a JIT StartSession looks for requests of that name (or that id) covering its target; finding none
  it waits under the name (and id);
- every access-request change looks for sessions waiting under its id and requester name.

A join by name that more than one request fits is marked ``ambiguous``: what the request's window or
revocation would do to it is then said in an alert, never done (docs/keyless.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ssm_warden.clock import iso
from ssm_warden.ledger.access_events import is_jit_principal, is_request_id
from ssm_warden.ledger.access_repository import AccessRepository
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.access import JIT_TOKEN_ROLE, AccessRequestRecord, AccessStatus
from ssm_warden.models.session import SessionRecord

# A request is made before its sessions; CloudTrail's clocks may differ by a little.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class JoinResult:
    request_id: str | None
    method: str | None = None  # "request_id" or "requester_name"
    ambiguous: bool = False


def jit_hint(record: SessionRecord) -> str | None:
    """The role-session name of a session started with the JIT token role (None otherwise)."""
    principal = record.principal
    if principal is None or principal.access_request_id or not is_jit_principal(principal):
        return None
    name = principal.role_session_name
    return name if is_request_id(name) else (name.lower() if name else None)


def _fits(request: AccessRequestRecord, record: SessionRecord) -> bool:
    if request.status in (AccessStatus.REJECTED,):
        return False
    if not request.covers_target(record.target_id):
        return False
    started = record.started_at
    return not (started and request.requested_at and request.requested_at > started + CLOCK_SKEW)


# GetAccessToken's credentials last 15 minutes: a session is started with a token fetched at most
# that long before it.
TOKEN_LIFETIME = timedelta(minutes=15)


def _pick(
    fitting: list[AccessRequestRecord], record: SessionRecord, method: str
) -> tuple[AccessRequestRecord, bool]:
    """The request a session used, and whether that is uncertain. By id there is one. By name, when
    several fit, the one whose token was fetched in the 15 minutes before the session started is it;
    failing that, the most specific (names the target), then the most recent, marked ambiguous."""
    if len(fitting) == 1 or method == "request_id":
        return fitting[0], False
    started = record.started_at
    if started is not None:
        with_token = [
            r
            for r in fitting
            if r.last_token_at
            and started - TOKEN_LIFETIME - CLOCK_SKEW <= r.last_token_at <= started + CLOCK_SKEW
        ]
        if len(with_token) == 1:
            return with_token[0], False
    best = max(
        fitting,
        key=lambda r: (record.target_id in r.targets, r.requested_at.timestamp() if r.requested_at else 0.0),
    )
    return best, True


def _join(
    arepo: AccessRepository,
    record: SessionRecord,
    request: AccessRequestRecord,
    method: str,
    ambiguous: bool,
) -> bool:
    requester = request.requester
    if requester is None:
        return False  # a request we only know from its token or outcome: wait for StartAccessRequest
    via = record.principal.role_arn if record.principal else None
    principal = requester.model_copy(
        update={"access_request_id": request.request_id, "via_role_arn": via or JIT_TOKEN_ROLE}
    )
    join = {
        "request_id": request.request_id,
        "method": method,
        "ambiguous": ambiguous,
        "token_principal": (record.principal.arn if record.principal else None) or "unknown",
    }
    joined = arepo.join_session(
        account=record.account,
        region=record.region,
        session_id=record.session_id,
        requester=principal,
        join=join,
    )
    if joined:
        arepo.add_session(record.account, record.region, request.request_id, record.session_id)
    return joined


def join_new_session(record: SessionRecord, arepo: AccessRepository | None = None) -> JoinResult:
    """A JIT session was recorded: join it to its request, or leave it waiting for one."""
    hint = jit_hint(record)
    if hint is None:
        return JoinResult(request_id=None)
    arepo = arepo or AccessRepository()
    if is_request_id(hint):
        candidates, method = [hint], "request_id"
    else:
        candidates, method = arepo.requests_named(record.account, record.region, hint), "requester_name"
    fitting = [
        r
        for r in (arepo.get(record.account, record.region, c) for c in candidates)
        if r is not None and r.requester is not None and _fits(r, record)
    ]
    if fitting:
        best, ambiguous = _pick(fitting, record, method)
        if _join(arepo, record, best, method, ambiguous):
            return JoinResult(request_id=best.request_id, method=method, ambiguous=ambiguous)
    at = record.started_at or datetime.now().astimezone()
    arepo.add_waiting(record.account, record.region, hint, record.session_id, at)
    return JoinResult(request_id=None)


def join_waiting_sessions(
    request: AccessRequestRecord,
    repo: SessionRepository | None = None,
    arepo: AccessRepository | None = None,
) -> list[str]:
    """An access request changed: join the JIT sessions that were waiting for it. Returns their ids."""
    repo = repo or SessionRepository()
    arepo = arepo or AccessRepository()
    joined: list[str] = []
    keys = [(request.request_id, "request_id")]
    if request.requester_name:
        keys.append((request.requester_name, "requester_name"))
    for key, method in keys:
        for session_id in arepo.waiting(request.account, request.region, key):
            record = repo.get(request.account, request.region, session_id)
            if record is None or jit_hint(record) is None:
                arepo.remove_waiting(request.account, request.region, key, session_id)
                continue
            if not _fits(request, record):
                continue
            fitting = [request]
            if method == "requester_name":  # other requests of the same name may fit too
                for other_id in arepo.requests_named(request.account, request.region, key):
                    other = (
                        arepo.get(request.account, request.region, other_id)
                        if other_id != request.request_id
                        else None
                    )
                    if other is not None and other.requester is not None and _fits(other, record):
                        fitting.append(other)
            best, ambiguous = _pick(fitting, record, method)
            if _join(arepo, record, best, method, ambiguous):
                joined.append(session_id)
                arepo.remove_waiting(request.account, request.region, key, session_id)
    return joined


def access_summary(
    request: AccessRequestRecord | None, join: dict[str, object] | None = None
) -> dict[str, str]:
    """What a session's Slack thread shows about its access request (strings only)."""
    if request is None:
        return {}
    out = {"request_id": request.request_id, "status": request.status.value}
    if request.requester and request.requester.arn:
        out["requester"] = request.requester.arn
    if request.reason:
        out["reason"] = request.reason
    if request.approvers:
        out["approvers"] = ", ".join(request.approvers)
    if request.window_start:
        out["window_start"] = iso(request.window_start)
    if request.window_end:
        out["window_end"] = iso(request.window_end)
    if join and join.get("ambiguous"):
        out["ambiguous"] = "true"
    return out

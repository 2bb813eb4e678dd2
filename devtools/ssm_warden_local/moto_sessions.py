"""Session Manager's session APIs for moto's SSM backend, which lacks them (aws-facts §4).

``install()`` adds StartSession, ResumeSession, TerminateSession, DescribeSessions (with
``AccessType``) and GetOpsItem (OpsItems seeded with ``seed_ops_item``) to moto's SSM response
class, so the same moto server that serves DynamoDB, SQS and EC2 serves sessions too and a test can
see a session really terminated. Sessions live beside the account/region backend.

It also lets managed nodes (``mi-*``) carry tags, which moto refuses.

Two things AWS does from inside the session have no API: the agent closing a session when the user
types ``exit`` (``end_session_from_host``), and faults the service returns under load
(``inject_faults``). Both are plain functions that work when the server runs in this process.
"""

from __future__ import annotations

import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ACTIVE_STATUSES = ("Connected", "Connecting", "Disconnected")
HISTORY_STATUSES = ("Terminated", "Failed")
_MAX_RESULTS = 200


@dataclass
class FakeSession:
    session_id: str
    target: str
    owner: str
    document_name: str
    reason: str | None
    parameters: dict[str, Any]
    start_date: datetime
    status: str = "Connected"
    end_date: datetime | None = None
    terminate_calls: int = 0
    access_type: str = "Standard"  # Standard | JustInTime (DescribeSessions AccessType)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "SessionId": self.session_id,
            "Target": self.target,
            "Status": self.status,
            "StartDate": self.start_date,
            "DocumentName": self.document_name,
            "Owner": self.owner,
            "AccessType": self.access_type,
        }
        if self.reason:
            out["Reason"] = self.reason
        if self.end_date:
            out["EndDate"] = self.end_date
        return out


@dataclass
class _Store:
    sessions: dict[str, FakeSession] = field(default_factory=dict)
    faults: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ops_items: dict[str, dict[str, Any]] = field(default_factory=dict)


_stores: dict[tuple[str, str], _Store] = defaultdict(_Store)
_lock = threading.Lock()

_FAULT_STATUS = {
    "ThrottlingException": 400,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
    "AccessDeniedException": 400,
}


def store(account: str, region: str) -> _Store:
    return _stores[(account, region)]


def reset() -> None:
    with _lock:
        _stores.clear()


def inject_faults(account: str, region: str, operation: str, errors: list[str]) -> None:
    """The next ``len(errors)`` calls of ``operation`` fail with these error codes, in order."""
    with _lock:
        store(account, region).faults[operation].extend(errors)


def seed_session(account: str, region: str, session: FakeSession) -> None:
    """Put a session into the backend as if someone had started it (for 'missed StartSession' tests)."""
    with _lock:
        store(account, region).sessions[session.session_id] = session


def end_session_from_host(account: str, region: str, session_id: str, when: datetime | None = None) -> None:
    """What the agent does when a user types ``exit``: the session ends without any API call."""
    with _lock:
        sess = store(account, region).sessions[session_id]
        sess.status = "Terminated"
        sess.end_date = when or datetime.now(UTC)


def set_access_type(account: str, region: str, session_id: str, access_type: str) -> None:
    """What AWS records for a session started with JIT credentials: ``AccessType: JustInTime``."""
    with _lock:
        store(account, region).sessions[session_id].access_type = access_type


def seed_ops_item(account: str, region: str, item: dict[str, Any]) -> None:
    """An OpsItem as Systems Manager keeps one (a JIT access request is one): ``GetOpsItem`` returns it."""
    with _lock:
        store(account, region).ops_items[str(item["OpsItemId"])] = dict(item)


def get_session(account: str, region: str, session_id: str) -> FakeSession | None:
    return store(account, region).sessions.get(session_id)


def call_count(account: str, region: str, operation: str) -> int:
    return store(account, region).calls[operation]


def _fault(error_code: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    err = JsonRESTError(error_code, f"injected fault: {error_code}")
    err.code = _FAULT_STATUS.get(error_code, 400)
    return err


def _not_found(session_id: str) -> Exception:
    from moto.core.exceptions import JsonRESTError

    return JsonRESTError("DoesNotExistException", f"Session {session_id} does not exist")


def _begin(resp: Any, operation: str) -> _Store:
    st = store(resp.current_account, resp.region)
    with _lock:
        st.calls[operation] += 1
        if st.faults[operation]:
            raise _fault(st.faults[operation].popleft())
    return st


def _owner_arn(resp: Any) -> str:
    return f"arn:aws:iam::{resp.current_account}:user/moto"


def _start_session(self: Any) -> Any:
    from moto.core.responses import ActionResult

    st = _begin(self, "StartSession")
    target = self._get_param("Target")
    session_id = f"moto-{secrets.token_hex(9)[:17]}"
    sess = FakeSession(
        session_id=session_id,
        target=target,
        owner=_owner_arn(self),
        document_name=self._get_param("DocumentName") or "SSM-SessionManagerRunShell",
        reason=self._get_param("Reason"),
        parameters=self._get_param("Parameters") or {},
        start_date=datetime.now(UTC),
    )
    with _lock:
        st.sessions[session_id] = sess
    return ActionResult(
        {
            "SessionId": session_id,
            "TokenValue": secrets.token_urlsafe(24),
            "StreamUrl": f"wss://ssmmessages.{self.region}.amazonaws.com/v1/data-channel/{session_id}",
        }
    )


def _resume_session(self: Any) -> Any:
    from moto.core.responses import ActionResult

    st = _begin(self, "ResumeSession")
    session_id = self._get_param("SessionId")
    sess = st.sessions.get(session_id)
    if sess is None or sess.status not in ACTIVE_STATUSES:
        raise _not_found(session_id)
    with _lock:
        sess.status = "Connected"
    return ActionResult(
        {
            "SessionId": session_id,
            "TokenValue": secrets.token_urlsafe(24),
            "StreamUrl": f"wss://ssmmessages.{self.region}.amazonaws.com/v1/data-channel/{session_id}",
        }
    )


def _terminate_session(self: Any) -> Any:
    from moto.core.responses import ActionResult

    st = _begin(self, "TerminateSession")
    session_id = self._get_param("SessionId")
    sess = st.sessions.get(session_id)
    # Like the service, terminating a session that is unknown or already over succeeds.
    if sess is not None:
        with _lock:
            sess.terminate_calls += 1
            if sess.status in ACTIVE_STATUSES:
                sess.status = "Terminated"
                sess.end_date = datetime.now(UTC)
    return ActionResult({"SessionId": session_id})


def _matches(sess: FakeSession, filters: list[dict[str, str]]) -> bool:
    for flt in filters:
        key, value = flt.get("key") or flt.get("Key"), flt.get("value") or flt.get("Value") or ""
        if key == "Target" and sess.target != value:
            return False
        if key == "Owner" and sess.owner != value:
            return False
        if key == "Status" and sess.status != value:
            return False
        if key == "SessionId" and sess.session_id != value:
            return False
        if key == "AccessType" and sess.access_type != value:
            return False
        if key == "InvokedAfter" and sess.start_date < datetime.fromisoformat(value.replace("Z", "+00:00")):
            return False
        if key == "InvokedBefore" and sess.start_date > datetime.fromisoformat(value.replace("Z", "+00:00")):
            return False
    return True


def _describe_sessions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    st = _begin(self, "DescribeSessions")
    state = self._get_param("State")
    if state not in ("Active", "History"):
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError("ValidationException", "State must be Active or History")
    statuses = ACTIVE_STATUSES if state == "Active" else HISTORY_STATUSES
    max_results = min(int(self._get_param("MaxResults") or _MAX_RESULTS), _MAX_RESULTS)
    start = int(self._get_param("NextToken") or 0)
    with _lock:
        found = sorted(
            (
                s
                for s in st.sessions.values()
                if s.status in statuses and _matches(s, self._get_param("Filters") or [])
            ),
            key=lambda s: (s.start_date, s.session_id),
        )
    page = found[start : start + max_results]
    result: dict[str, Any] = {"Sessions": [s.describe() for s in page]}
    if start + max_results < len(found):
        result["NextToken"] = str(start + max_results)
    return ActionResult(result)


def _get_ops_item(self: Any) -> Any:
    from moto.core.exceptions import JsonRESTError
    from moto.core.responses import ActionResult

    st = _begin(self, "GetOpsItem")
    item = st.ops_items.get(self._get_param("OpsItemId"))
    if item is None:
        raise JsonRESTError("OpsItemNotFoundException", "OpsItem not found")
    return ActionResult({"OpsItem": item})


def _accept_managed_instances(original: Any) -> Any:
    """moto refuses every ManagedInstance tag call; hybrid nodes (``mi-*``) carry tags in SSM."""

    def validate(self: Any, resource_type: str, resource_id: str) -> str:
        if resource_type == "ManagedInstance" and resource_id.startswith("mi-"):
            return resource_id
        result: str = original(self, resource_type, resource_id)
        return result

    validate.__wrapped__ = original  # type: ignore[attr-defined]
    return validate


def install() -> None:
    """Add the session APIs to moto's SSM responses (idempotent)."""
    from moto.ssm.models import SimpleSystemManagerBackend as Backend
    from moto.ssm.responses import SimpleSystemManagerResponse as Responses

    if not hasattr(Backend._validate_resource_type_and_id, "__wrapped__"):
        validate = _accept_managed_instances(Backend._validate_resource_type_and_id)
        setattr(Backend, "_validate_resource_type_and_id", validate)  # noqa: B010

    for name, method in {
        "start_session": _start_session,
        "resume_session": _resume_session,
        "terminate_session": _terminate_session,
        "describe_sessions": _describe_sessions,
        "get_ops_item": _get_ops_item,
    }.items():
        setattr(Responses, name, method)

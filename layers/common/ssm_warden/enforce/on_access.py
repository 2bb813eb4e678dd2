"""What session_events and the sweeper decide about JIT access beyond the ledger: joins, the
``require_jit`` start check and the approved window. Lookups here; decisions in enforce/jit.py."""

from __future__ import annotations

from datetime import datetime

from ssm_warden.audit import write_audit
from ssm_warden.config import get_settings
from ssm_warden.enforce.decide import Decisions
from ssm_warden.enforce.jit import check_jit_window, check_require_jit, is_jit_session
from ssm_warden.enforce.limits import action_marker
from ssm_warden.enforce.session_ref import session_facts, session_ref
from ssm_warden.enforce.sink import ActionSink
from ssm_warden.ledger.access_join import access_summary, join_new_session
from ssm_warden.ledger.access_repository import AccessRepository
from ssm_warden.ledger.access_service import AccessResult, refresh_from_ops_item
from ssm_warden.ledger.repository import SessionRepository
from ssm_warden.models.access import AccessRequestRecord
from ssm_warden.models.actions import SessionRef
from ssm_warden.models.session import SessionRecord, SessionState
from ssm_warden.policy.evaluate import effective_settings
from ssm_warden.policy.store import PolicyState


def access_ref(record: SessionRecord, request: AccessRequestRecord | None) -> SessionRef:
    """The session reference, with its access request's facts for the Slack thread."""
    ref = session_ref(record, log_group=get_settings().session_log_group)
    summary = access_summary(request, record.access_join)
    return ref.model_copy(update={"access": summary}) if summary else ref


def request_of(record: SessionRecord, arepo: AccessRepository | None = None) -> AccessRequestRecord | None:
    request_id = record.principal.access_request_id if record.principal else None
    if not request_id:
        return None
    return (arepo or AccessRepository()).get(record.account, record.region, request_id)


def jit_window_decisions(
    record: SessionRecord,
    *,
    policy_state: PolicyState,
    now: datetime,
    arepo: AccessRepository | None = None,
    read_ops_item: bool = False,
) -> Decisions:
    """The approved-window decisions for one active session (none unless it is joined to a request).

    ``read_ops_item``: the sweeper also asks the request's OpsItem when CloudTrail left the outcome
    or the window open (the event path does not: it holds no ``ssm:GetOpsItem``)."""
    if record.state is not SessionState.ACTIVE:
        return Decisions()
    request = request_of(record, arepo)
    if request is None:
        return Decisions()
    if read_ops_item:
        request = refresh_from_ops_item(request, now, arepo)
    if record.access_join is None:  # the active-sessions index does not project it: read the item
        record = SessionRepository().get(record.account, record.region, record.session_id) or record
    policy = policy_state.policy
    settings = effective_settings(policy.policy, session_facts(record))
    decisions = check_jit_window(
        record=record,
        request=request,
        session=access_ref(record, request),
        settings=settings,
        policy=policy,
        now=now,
        force_monitor=get_settings().force_monitor_mode,
    )
    decisions.actions = [a for a in decisions.actions if action_marker(a) not in record.warned]
    return decisions


def submit_once(
    record: SessionRecord, decisions: Decisions, sink: ActionSink, repo: SessionRepository
) -> int:
    """Queue the actions and remember them on the session, so the next look does not repeat them."""
    for audit in decisions.audit:
        write_audit(audit)
    if not decisions.actions:
        return 0
    sink.submit(decisions.actions)
    for action in decisions.actions:
        repo.add_warning(record.account, record.region, record.session_id, action_marker(action))
    return len(decisions.actions)


def after_session_start(
    account: str,
    region: str,
    session_id: str,
    *,
    policy_state: PolicyState,
    sink: ActionSink,
    now: datetime,
    repo: SessionRepository | None = None,
) -> Decisions:
    """A StartSession was recorded: join a JIT session to its request, then the JIT start checks."""
    repo = repo or SessionRepository()
    record = repo.get(account, region, session_id)
    if record is None:
        return Decisions()
    arepo = AccessRepository()
    if is_jit_session(record) and not record.access_join and join_new_session(record, arepo).request_id:
        record = repo.get(account, region, session_id) or record
    policy = policy_state.policy
    settings = effective_settings(policy.policy, session_facts(record))
    decisions = check_require_jit(
        record=record,
        session=session_ref(record, log_group=get_settings().session_log_group),
        settings=settings,
        policy=policy,
        now=now,
        force_monitor=get_settings().force_monitor_mode,
    )
    decisions.extend(jit_window_decisions(record, policy_state=policy_state, now=now, arepo=arepo))
    submit_once(record, decisions, sink, repo)
    return decisions


def act_on_access_result(
    result: AccessResult,
    *,
    policy_state: PolicyState,
    sink: ActionSink,
    now: datetime,
    repo: SessionRepository | None = None,
) -> Decisions:
    """An access request changed: its open sessions are judged at once (a revocation ends them now,
    not at the next sweep)."""
    out = Decisions()
    request = result.request
    if request is None:
        return out
    repo = repo or SessionRepository()
    for session_id in sorted(set(request.session_ids) | set(result.joined)):
        record = repo.get(request.account, request.region, session_id)
        if record is None or record.state is not SessionState.ACTIVE:
            continue
        decisions = jit_window_decisions(record, policy_state=policy_state, now=now)
        submit_once(record, decisions, sink, repo)
        out.extend(decisions)
    return out

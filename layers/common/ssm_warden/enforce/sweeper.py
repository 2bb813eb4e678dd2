"""The session sweeper, run every minute: reconcile the ledger with Session Manager, then apply
idle and duration limits and the logging blind-spot check to every active session.

Reconciliation covers this account and, in organisation mode, each account of ``MEMBER_ACCOUNTS``
through the member role (one DescribeSessions(Active) per account, plus one History look-up per
ledger session that the service no longer lists). A member account that is not listed relies on
forwarded events and log inactivity alone (docs/organization.md).

Work per run is bounded: it stops starting new work when ``time_left()`` falls under a margin and
says so (the next run starts again from the top; every decision is keyed so that repeating a
session is harmless).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ssm_warden.audit import write_audit
from ssm_warden.clients import aws_client_for, is_own_account
from ssm_warden.config import get_settings
from ssm_warden.enforce import directory
from ssm_warden.enforce.decide import Decisions
from ssm_warden.enforce.limits import action_marker, check_limits, check_logging_gap, idle_due
from ssm_warden.enforce.session_ref import session_facts, session_ref
from ssm_warden.enforce.sink import ActionSink
from ssm_warden.enforce.start_checks import concurrency_actions
from ssm_warden.enforce.summary import summary_request
from ssm_warden.errors import ConfigError
from ssm_warden.ledger.keys import all_active_shards
from ssm_warden.ledger.repository import SessionRepository, WriteOutcome
from ssm_warden.ledger.tags import lookup_target_tags
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, Trigger, action_id_for
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.models.findings import Severity
from ssm_warden.models.session import SessionRecord
from ssm_warden.observability import logger
from ssm_warden.policy.evaluate import DEFAULTS_SCOPE, effective_settings
from ssm_warden.policy.loader import LoadedPolicy
from ssm_warden.policy.store import PolicyState, ProblemKind, incident_alerted, mark_incident_alerted

SAFETY_MARGIN_SECONDS = 10.0
# A session younger than this may simply not be listed yet by DescribeSessions: don't close it.
RECONCILE_GRACE = timedelta(minutes=2)


@dataclass
class SweepReport:
    active: int = 0
    discovered: int = 0
    closed: int = 0
    # (account, region, session id) of the sessions reconciliation closed: each gets its summary.
    closed_sessions: list[tuple[str, str, str]] = field(default_factory=list)
    actions: int = 0
    complete: bool = True
    by_kind: dict[str, int] = field(default_factory=dict)
    # Accounts reconciled with DescribeSessions, and those that could not be (organisation mode).
    reconciled_accounts: list[str] = field(default_factory=list)
    unreconciled_accounts: list[str] = field(default_factory=list)


def _audit_session(
    record_id: str, session_id: str, account: str, region: str, at: datetime, outcome: str
) -> AuditRecord:
    return AuditRecord(
        session_id=session_id,
        at=at,
        record_id=record_id,
        decision=Decision.SESSION,
        outcome=outcome,
        account=account,
        region=region,
        actor="reconciliation",
    )


def reconcile(
    *,
    account: str,
    region: str,
    now: datetime,
    repo: SessionRepository,
    ledger_active: list[SessionRecord],
    report: SweepReport,
    ssm: Any = None,
) -> None:
    """Make the ledger of one account and region agree with DescribeSessions there (``ssm``: that
    account's client; default this account's)."""
    service = {s.session_id: s for s in directory.active_sessions(ssm)}
    ours = {r.session_id: r for r in ledger_active if r.account == account and r.region == region}
    for session_id in service.keys() - ours.keys():
        found = service[session_id]
        tags = lookup_target_tags(found.target, account, region)
        outcome = repo.record_discovered(
            account=account,
            region=region,
            session_id=session_id,
            target_id=found.target,
            owner_arn=found.owner,
            document_name=found.document,
            started_at=found.start or now,
            reason=found.reason,
            tags=tags.tags,
            tags_failed=tags.failed,
            access_type=found.access_type,
        )
        if outcome is WriteOutcome.APPLIED:
            report.discovered += 1
            write_audit(
                _audit_session(
                    f"discovered:{session_id}",
                    session_id,
                    account,
                    region,
                    now,
                    "discovered by reconciliation: its StartSession event never arrived",
                )
            )
    for session_id in ours.keys() - service.keys():
        record = ours[session_id]
        started = record.started_at or record.last_resumed_at
        if started and now - started < RECONCILE_GRACE:
            continue
        ended = directory.ended_session(session_id, ssm)
        if ended is None:
            continue
        end = ended.end or now
        if (
            repo.mark_ended(
                account, region, session_id, end, f"ended without TerminateSession ({ended.status})"
            )
            is WriteOutcome.APPLIED
        ):
            report.closed += 1
            report.closed_sessions.append((account, region, session_id))
            write_audit(
                _audit_session(
                    f"ended:{session_id}",
                    session_id,
                    account,
                    region,
                    end,
                    f"closed by reconciliation: {ended.status} at {end.isoformat()}",
                )
            )


def accounts_to_reconcile(account: str) -> list[str]:
    """This account, then the member accounts of ``MEMBER_ACCOUNTS`` (organisation mode)."""
    members = get_settings().member_accounts or ""
    out = [account]
    for member in (part.strip() for part in members.split(",")):
        if member and member not in out:
            out.append(member)
    return out


def reconcile_account(
    *,
    account: str,
    region: str,
    now: datetime,
    repo: SessionRepository,
    ledger_active: list[SessionRecord],
    report: SweepReport,
) -> None:
    """Reconcile one account; a member account that cannot be reached (its role cannot be assumed,
    DescribeSessions is denied or failing) is logged and reported, and the sweep goes on."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ssm = None if is_own_account(account) else aws_client_for("ssm", account, region)
        reconcile(
            account=account,
            region=region,
            now=now,
            repo=repo,
            ledger_active=ledger_active,
            report=report,
            ssm=ssm,
        )
    except (ClientError, BotoCoreError, ConfigError) as exc:
        if is_own_account(account):
            raise
        logger().warning(
            "member account not reconciled", extra={"account": account, "region": region, "error": str(exc)}
        )
        report.unreconciled_accounts.append(account)
        return
    report.reconciled_accounts.append(account)


def policy_problem_action(state: PolicyState, now: datetime) -> ActionRequest | None:
    """One critical alert per policy incident (its id is derived from the incident: the executor's
    idempotency folds the sweeps that see the same incident into one). A deleted parameter is a
    tamper signal."""
    if state.problem is None:
        return None
    problem = state.problem
    in_force = f"policy {state.policy.version} ({state.policy.source}) stays in force"
    deleted = problem.kind is ProblemKind.DELETED
    titles = {
        ProblemKind.DELETED: "ssm-warden policy parameter is gone",
        ProblemKind.UNREADABLE: "ssm-warden policy cannot be read",
        ProblemKind.INVALID: "ssm-warden policy is invalid",
    }
    return ActionRequest(
        action_id=action_id_for("policy", problem.source, problem.kind.value, problem.version),
        kind=ActionKind.ALERT,
        mode=Mode.ENFORCE,
        trigger=Trigger.TAMPER if deleted else Trigger.POLICY_ERROR,
        severity=Severity.CRITICAL,
        title=titles[problem.kind],
        rule_or_limit="tamper.policy_parameter_deleted" if deleted else "policy",
        why=f"{problem.source} was not used ({problem.kind.value}); {in_force}. {problem.error}",
        policy_version=state.policy.version,
        scope=DEFAULTS_SCOPE,
        channel=state.policy.policy.defaults.channel,
        created_at=now,
    )


def _correct_concurrency(
    ledger_active: list[SessionRecord],
    policy: LoadedPolicy,
    now: datetime,
    force_monitor: bool,
    sink: ActionSink,
    repo: SessionRepository,
    report: SweepReport,
) -> None:
    """Concurrency limits over the whole ledger: what the start-time check missed (events that arrived
    together, before the index showed each other) is acted on here, once (``warned`` marker)."""
    groups: dict[tuple[str, str], list[SessionRecord]] = defaultdict(list)
    for record in ledger_active:
        if record.principal and record.principal.arn:
            groups[("principal", record.principal.arn)].append(record)
        if record.target_id:
            groups[("target", record.target_id)].append(record)
    queued: set[str] = set()
    for (per, _), group in groups.items():
        if len(group) < 2:
            continue
        for record, action in concurrency_actions(
            group,
            per=per,
            settings_for=lambda r: effective_settings(policy.policy, session_facts(r)),
            policy=policy,
            now=now,
            force_monitor=force_monitor,
        ):
            marker = action_marker(action)
            if action.action_id in queued or marker in record.warned:
                continue
            queued.add(action.action_id)
            sink.submit([action])
            repo.add_warning(record.account, record.region, record.session_id, marker)
            report.actions += 1
            report.by_kind[action.kind.value] = report.by_kind.get(action.kind.value, 0) + 1


def sweep(
    *,
    now: datetime,
    account: str,
    region: str,
    policy_state: PolicyState,
    sink: ActionSink,
    time_left: Callable[[], float],
    repo: SessionRepository | None = None,
    reconcile_with_service: bool = True,
) -> SweepReport:
    repo = repo or SessionRepository()
    report = SweepReport()
    problem = policy_problem_action(policy_state, now)
    if problem and policy_state.problem and not incident_alerted(policy_state.problem):
        sink.submit([problem])
        mark_incident_alerted(policy_state.problem, now)
    ledger_active = list(repo.iter_active(all_active_shards()))
    if reconcile_with_service:
        for each in accounts_to_reconcile(account):
            reconcile_account(
                account=each, region=region, now=now, repo=repo, ledger_active=ledger_active, report=report
            )
        if report.discovered or report.closed:  # the ledger changed: read it again (else once is enough)
            ledger_active = list(repo.iter_active(all_active_shards()))
        summaries = [
            summary_request(session_ref(closed), now=now, policy_version=policy_state.policy.version)
            for closed in (repo.get(*key) for key in report.closed_sessions)
            if closed is not None
        ]
        if summaries:
            sink.submit(summaries)
    report.active = len(ledger_active)
    policy = policy_state.policy
    force_monitor = get_settings().force_monitor_mode
    _correct_concurrency(ledger_active, policy, now, force_monitor, sink, repo, report)
    for listed in ledger_active:
        if time_left() < SAFETY_MARGIN_SECONDS:
            report.complete = False
            break
        settings = effective_settings(policy.policy, session_facts(listed))
        # The index's last output is refreshed every few minutes: before an idle limit acts, the
        # exact time (the watch item), so that a coarse copy never ends an active session early.
        record = repo.with_watch(listed) if idle_due(listed, settings, now) else listed
        ref = session_ref(record)
        decisions = Decisions()
        decisions.extend(
            check_limits(
                record=record,
                session=ref,
                settings=settings,
                policy=policy,
                now=now,
                force_monitor=force_monitor,
            )
        )
        decisions.extend(
            check_logging_gap(
                record=record,
                session=ref,
                settings=settings,
                policy=policy,
                now=now,
                force_monitor=force_monitor,
            )
        )
        if record.principal and record.principal.access_request_id:  # JIT: the approved window
            from ssm_warden.enforce.on_access import jit_window_decisions

            decisions.extend(
                jit_window_decisions(record, policy_state=policy_state, now=now, read_ops_item=True)
            )
        for audit in decisions.audit:
            write_audit(audit)
        if decisions.actions:
            sink.submit(decisions.actions)
            for action in decisions.actions:
                repo.add_warning(record.account, record.region, record.session_id, action_marker(action))
                report.actions += 1
                report.by_kind[action.kind.value] = report.by_kind.get(action.kind.value, 0) + 1
    return report

"""session_events for the JIT access calls and the keyless paths: ledger, joins, decisions, queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ssm_warden.audit import write_audit
from ssm_warden.config import get_settings
from ssm_warden.enforce.decide import Decisions
from ssm_warden.enforce.keyless import check_keyless, keyless_ref, recording_off_action
from ssm_warden.enforce.on_access import act_on_access_result
from ssm_warden.enforce.sink import QueueSink
from ssm_warden.ledger.access_service import record_access_event
from ssm_warden.ledger.keyless_events import (
    ECS_EXEC_DOCUMENT,
    ecs_session_facts,
    keyless_change_from_event,
)
from ssm_warden.ledger.keyless_repository import KeylessRepository, ecs_tags, instance_by_address
from ssm_warden.ledger.repository import SessionRepository, WriteOutcome
from ssm_warden.ledger.tags import TagLookup, lookup_target_tags
from ssm_warden.models.access import KeylessAccess, KeylessEnded, KeylessPath, RecordingSwitchedOff
from ssm_warden.models.cloudtrail import ACCESS_REQUEST_EVENT_NAMES, CloudTrailDetail
from ssm_warden.models.session import SessionStarted
from ssm_warden.observability import logger
from ssm_warden.policy.evaluate import SessionFacts, effective_settings
from ssm_warden.policy.store import current_policy


def _emit(decisions: Decisions) -> None:
    for record in decisions.audit:
        write_audit(record)
    if decisions.actions:
        QueueSink().submit(decisions.actions)


def _judge(command: str | None, packs: list[str]) -> list[Any]:
    if not command:
        return []
    from ssm_warden.detect.detector import get_detector

    return get_detector(tuple(packs)).judge_command(command)


def _record_ecs_session(change: KeylessAccess, tags: TagLookup) -> WriteOutcome:
    """An ECS Exec session is a Session Manager session: it gets a session record like any other."""
    repo = SessionRepository()
    outcome = repo.apply_start(
        SessionStarted(
            event_id=change.event_id,
            account=change.account,
            region=change.region,
            at=change.at,
            principal=change.principal,
            session_id=change.access_id,
            source_ip=change.source_ip,
            user_agent=change.user_agent,
            target_id=change.target_id,
            document_name=ECS_EXEC_DOCUMENT,
            parameters={"command": [change.command]} if change.command else {},
        ),
        tags.tags,
        tags.failed,
    )
    KeylessRepository().record_session_facts(
        change.account, change.region, change.access_id, ecs_session_facts(change)
    )
    return outcome


def _keyless(change: KeylessAccess, now: datetime) -> dict[str, Any]:
    target = change.target_id
    if change.path is KeylessPath.ECS_EXEC:
        tags = ecs_tags(change.cluster, change.task, change.account, change.region)
    elif change.path is KeylessPath.ENDPOINT_TUNNEL:
        target, tags = instance_by_address(change.target_id, change.account, change.region)
        if target and target != change.target_id:
            tags = lookup_target_tags(target, change.account, change.region) if not tags.tags else tags
        target = target or change.target_id
    else:
        tags = lookup_target_tags(target, change.account, change.region)
    repo = KeylessRepository()
    if not repo.record(change, tags.tags, tags.failed):
        return {"status": "duplicate", "kind": change.path.value}
    if change.path is KeylessPath.ECS_EXEC:
        _record_ecs_session(change, tags)
    state = current_policy()
    policy = state.policy
    facts = SessionFacts(
        target_tags=tags.tags,
        target_id=target,
        account=change.account,
        principal_arn=change.principal.arn,
        role_arn=change.principal.role_arn,
        document_name=change.path.value,
    )
    settings = effective_settings(policy.policy, facts)
    open_sessions = SessionRepository().open_sessions_of(principal_arn=change.principal.arn)
    open_keyless = repo.open_accesses_of(change.account, change.region, change.principal.arn, now)
    ids = {r.session_id for r in open_sessions} | set(open_keyless)
    decisions = check_keyless(
        change=change,
        session=keyless_ref(change, target, tags.tags),
        settings=settings,
        policy=policy,
        now=now,
        open_count=len(ids),
        command_findings=_judge(change.command, settings.rule_packs)
        if change.path is KeylessPath.ECS_EXEC
        else [],
        force_monitor=get_settings().force_monitor_mode,
    )
    _emit(decisions)
    return {"status": "applied", "kind": change.path.value, "actions": len(decisions.actions)}


def handle_access_event(detail: CloudTrailDetail, *, now: datetime) -> dict[str, Any]:
    """One JIT access call or keyless-path call. Raises ``MalformedEventError`` for a malformed one."""
    if detail.event_source == "ssm.amazonaws.com" and detail.event_name in ACCESS_REQUEST_EVENT_NAMES:
        result = record_access_event(detail)
        if result.change is None:
            return {"status": "ignored", "kind": detail.event_name}
        decisions = act_on_access_result(result, policy_state=current_policy(), sink=QueueSink(), now=now)
        logger().info(
            "access request event recorded",
            extra={
                "event_name": detail.event_name,
                "request_id": result.request.request_id if result.request else None,
                "joined": result.joined,
                "actions": len(decisions.actions),
            },
        )
        return {
            "status": "applied" if result.applied else "duplicate",
            "kind": result.change.kind,
            "joined": result.joined,
            "actions": len(decisions.actions),
        }
    change = keyless_change_from_event(detail)
    if change is None:
        return {"status": "ignored", "kind": detail.event_name}
    if isinstance(change, KeylessEnded):
        KeylessRepository().record_ended(change)
        return {"status": "applied", "kind": change.kind}
    if isinstance(change, RecordingSwitchedOff):
        policy = current_policy().policy
        settings = effective_settings(policy.policy, SessionFacts(account=change.account))
        action = recording_off_action(change, settings=settings, policy=policy, now=now)
        _emit(Decisions(actions=[action] if action else []))
        return {"status": "tamper", "kind": change.kind, "alerts": 1 if action else 0}
    outcome = _keyless(change, now)
    logger().info("keyless access recorded", extra=outcome)
    return outcome

"""The Security Hub custom action "Terminate SSM session": its EventBridge event → the action queue.

A person selects ssm-warden findings in Security Hub and chooses the custom action; Security Hub
sends one ``Security Hub Findings - Custom Action`` event per finding. In order:

1. the event must come from Security Hub (``source``), for ssm-warden's own action target
   (``resources``), from this account or a member account (organisation mode): else refused;
2. the invoker must be on the allowlist (``SECURITY_HUB_ACTION_PRINCIPALS``, IAM principal ARN
   globs). AWS's documented event names no invoker: an event without one is accepted only when
   the allowlist is ``*`` (anyone who can use the custom action in an allowed account: restrict
   that with IAM), and refused otherwise;
3. the finding must be one of ssm-warden's (its generator and product fields), naming a session
   with ids only, validated like a Slack button's value; a member account's Security Hub may only
   act on its own sessions;
4. the session must be active in the ledger; the terminate request is then queued exactly as the
   Slack "Terminate now" button queues it, and every event, refused ones too, is audited.

Nothing in the finding's free text (title, description) is used: only ids, checked against the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import Any, Protocol

from pydantic import ValidationError

from ssm_warden.clock import iso, utc_now
from ssm_warden.ledger.keys import session_key
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.models.findings import Severity
from ssm_warden.models.session import SessionRecord, SessionState

DETAIL_TYPE = "Security Hub Findings - Custom Action"
ACTION_NAME = "Terminate SSM session"


class Effects(Protocol):
    def session(self, account: str, region: str, session_id: str) -> SessionRecord | None: ...

    def queue(self, action: ActionRequest) -> None: ...

    def audit(self, record: AuditRecord) -> None: ...


@dataclass(frozen=True)
class CustomActionConfig:
    action_target_arn: str
    allowed_principals: tuple[str, ...]
    allowed_accounts: frozenset[str]
    governance_account: str | None


def _invoker(event: dict[str, Any]) -> str | None:
    detail = event.get("detail") or {}
    identity = detail.get("userIdentity") or detail.get("invokedBy") or {}
    arn = identity.get("arn") if isinstance(identity, dict) else identity
    return str(arn) if arn else None


def _allowed(invoker: str | None, patterns: Sequence[str]) -> bool:
    if "*" in patterns:
        return True
    return invoker is not None and any(fnmatchcase(invoker, p) for p in patterns)


def _session_of(finding: dict[str, Any]) -> SessionRef | None:
    """The session an ssm-warden finding names, from ids only (validated), or None."""
    from ssm_warden.slack.button_value import ButtonValue

    fields = finding.get("ProductFields") or {}
    if not str(finding.get("GeneratorId", "")).startswith("ssm-warden/"):
        return None
    resources = finding.get("Resources") or [{}]
    try:
        value = ButtonValue(
            a=str(finding.get("AwsAccountId", "")),
            r=str(resources[0].get("Region", "")),
            s=str(fields.get("ssm-warden/SessionId", "")),
        )
    except (ValidationError, AttributeError):
        return None
    return value.session()


class CustomActionService:
    def __init__(
        self, config: CustomActionConfig, effects: Effects, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.config = config
        self.effects = effects
        self.clock = clock

    def _audit(
        self, event: dict[str, Any], n: int, session: SessionRef | None, outcome: str, actor: str
    ) -> None:
        self.effects.audit(
            AuditRecord(
                session_id=session.session_id if session else "-",
                at=self.clock(),
                record_id=f"securityhub-{str(event.get('id', 'unknown'))[:64]}-{n}",
                decision=Decision.OPERATOR,
                action="terminate",
                outcome=outcome,
                actor=actor,
                account=session.account if session else str(event.get("account", ""))[:12] or None,
                region=session.region if session else None,
                details={
                    "via": "securityhub_custom_action",
                    "event_account": str(event.get("account", ""))[:12],
                    "event_id": str(event.get("id", ""))[:64],
                },
            )
        )

    def handle(self, event: dict[str, Any]) -> dict[str, int]:
        """Queue a termination for each acceptable finding; audit every one. Returns counts."""
        now = self.clock()
        invoker = _invoker(event)
        account = str(event.get("account", ""))
        actor = f"securityhub:{invoker or account or 'unknown'}"
        findings = list((event.get("detail") or {}).get("findings") or [])
        if (
            event.get("source") != "aws.securityhub"
            or event.get("detail-type") != DETAIL_TYPE
            or self.config.action_target_arn not in (event.get("resources") or [])
        ):
            self._audit(event, 0, None, "refused: not ssm-warden's custom action", actor)
            return {"queued": 0, "refused": max(len(findings), 1)}
        if account not in self.config.allowed_accounts:
            self._audit(event, 0, None, f"refused: account {account[:12]} may not use the action", actor)
            return {"queued": 0, "refused": max(len(findings), 1)}
        if not _allowed(invoker, self.config.allowed_principals):
            why = "the event names no invoker" if invoker is None else "invoker not allowed"
            self._audit(event, 0, None, f"denied: {why}", actor)
            return {"queued": 0, "refused": max(len(findings), 1)}
        queued = refused = 0
        for n, finding in enumerate(findings, start=1):
            session = _session_of(finding) if isinstance(finding, dict) else None
            if session is None:
                self._audit(event, n, None, "refused: not an ssm-warden session finding", actor)
                refused += 1
                continue
            if account not in (self.config.governance_account, session.account):
                self._audit(
                    event, n, session, "refused: a member account may act on its own sessions only", actor
                )
                refused += 1
                continue
            record = self.effects.session(session.account, session.region, session.session_id)
            if record is None or record.state is not SessionState.ACTIVE:
                self._audit(event, n, session, "refused: not an active session in the ledger", actor)
                refused += 1
                continue
            from ssm_warden.enforce.session_ref import session_ref

            ref = session_ref(record)
            key = session_key(ref.account, ref.region, ref.session_id)
            self.effects.queue(
                ActionRequest(
                    action_id=action_id_for("operator", "terminate", key, actor, iso(now)),
                    kind=ActionKind.TERMINATE,
                    mode=Mode.ENFORCE,
                    trigger=Trigger.OPERATOR,
                    severity=Severity.HIGH,
                    session=ref,
                    title="Terminate now (requested in Security Hub)",
                    why=f"{actor} chose {ACTION_NAME!r} in Security Hub",
                    rule_or_limit="operator.terminate_now",
                    policy_version="operator",
                    created_at=now,
                )
            )
            self._audit(event, n, ref, "queued for termination", actor)
            queued += 1
        return {"queued": queued, "refused": refused}


class AwsEffects:
    def session(self, account: str, region: str, session_id: str) -> SessionRecord | None:
        from ssm_warden.ledger.repository import SessionRepository

        return SessionRepository().get(account, region, session_id)

    def queue(self, action: ActionRequest) -> None:
        from ssm_warden.enforce.sink import QueueSink

        QueueSink().submit([action])

    def audit(self, record: AuditRecord) -> None:
        from ssm_warden.audit import write_audit

        write_audit(record)


def config_from_settings() -> CustomActionConfig:
    from ssm_warden.config import get_settings

    settings = get_settings()
    accounts = {a.strip() for a in (settings.member_accounts or "").split(",") if a.strip()}
    if settings.account_id:
        accounts.add(settings.account_id)
    principals = tuple(
        p.strip() for p in (settings.security_hub_action_principals or "").split(",") if p.strip()
    )
    return CustomActionConfig(
        action_target_arn=settings.security_hub_action_arn or "",
        allowed_principals=principals,
        allowed_accounts=frozenset(accounts),
        governance_account=settings.account_id,
    )


def handle_custom_action_event(event: dict[str, Any]) -> dict[str, int]:
    return CustomActionService(config_from_settings(), AwsEffects()).handle(event)

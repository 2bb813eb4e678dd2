"""The alert buttons: Terminate now, Extend N minutes, Acknowledge (a Lambda Function URL).

A click arrives as a form-encoded ``payload=`` JSON body (base64-encoded or not). In order:

1. the signature is checked over the raw body (``signature.verify_signature``): 401 if it fails;
2. a replay of an accepted request is refused (401);
3. the clicking user must be in ``SLACK_ALLOWED_USER_IDS`` (directly, or through a user group S…);
4. the button's value is parsed: ids only (account, region, session id, action id), validated;
5. the effect runs through ``InteractionEffects``; every click (refused ones too) is audited;
6. the message is updated through ``response_url`` to show who did what.

Slack expects an answer within three seconds: everything here is one or two small AWS calls.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from ssm_warden.clock import iso, utc_now
from ssm_warden.errors import ConfigError, TransientError, WardenError
from ssm_warden.ledger.keys import session_key
from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger, action_id_for
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.models.findings import Severity
from ssm_warden.slack._aws import aws_errors
from ssm_warden.slack.button_value import ButtonValue
from ssm_warden.slack.messages import (
    ACTION_ACK,
    ACTION_EXTEND_PREFIX,
    ACTION_TERMINATE,
    build_interaction_note,
)
from ssm_warden.slack.redact import plain, sanitize
from ssm_warden.slack.signature import REPLAY_TTL_SECONDS, ReplayGuard, request_id, verify_signature

MAX_EXTEND_MINUTES = 24 * 60
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,20}$")
_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,20}$")
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,20}$")
SLACK_RESPONSE_HOSTS = frozenset({"hooks.slack.com"})


class InteractionEffects(Protocol):
    """What a click does. Each method returns one sentence for the message and the audit record."""

    def terminate_now(self, session: SessionRef, actor: str) -> str: ...

    def extend(self, session: SessionRef, minutes: int, actor: str, reason: str) -> str: ...

    def acknowledge(self, session: SessionRef, actor: str, action_id: str | None) -> str: ...

    def audit(self, record: AuditRecord) -> None: ...


class Responder(Protocol):
    """Updates the clicked message (``response_url``) or tells the clicking user something."""

    def replace(self, response_url: str, text: str, blocks: list[dict[str, Any]]) -> None: ...

    def ephemeral(self, response_url: str, text: str) -> None: ...


class GroupResolver(Protocol):
    def members(self, group_id: str) -> frozenset[str]: ...


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: str = ""

    def to_function_url(self) -> dict[str, Any]:
        return {"statusCode": self.status, "headers": {"content-type": "text/plain"}, "body": self.body}


@dataclass(frozen=True)
class Click:
    user_id: str
    team_id: str | None
    action_id: str
    value: ButtonValue | None
    response_url: str | None
    message_blocks: list[dict[str, Any]]
    channel_id: str | None


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body exactly as Slack sent it (Function URLs may base64-encode it).

    Raises ``ValueError`` when there is no body as bytes to check a signature over."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise ValueError("the body is not text")
    if event.get("isBase64Encoded"):
        return base64.b64decode(body, validate=True)
    return body.encode("utf-8", "surrogateescape")


def _mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (a payload's shape is not trusted)."""
    return value if isinstance(value, dict) else {}


def parse_click(body: bytes) -> Click:
    """The first action of a ``block_actions`` payload. Raises ``ValueError`` when it is not one."""
    form = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    payload = json.loads(form["payload"][0])
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise ValueError("not a block_actions payload")
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise ValueError("a block_actions payload without an action")
    action = actions[0]
    user = _mapping(payload.get("user"))
    user_id = str(user.get("id") or "")
    if not _USER_ID.match(user_id):
        raise ValueError("no valid user id")
    try:
        value: ButtonValue | None = ButtonValue.model_validate_json(str(action.get("value") or ""))
    except ValidationError:
        value = None
    container = _mapping(payload.get("container"))
    channel = str(container.get("channel_id") or _mapping(payload.get("channel")).get("id") or "")
    blocks = _mapping(payload.get("message")).get("blocks")
    team = _mapping(payload.get("team")).get("id")
    response_url = payload.get("response_url")
    return Click(
        user_id=user_id,
        team_id=team if isinstance(team, str) else None,
        action_id=str(action.get("action_id") or ""),
        value=value,
        response_url=response_url if isinstance(response_url, str) else None,
        message_blocks=[b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else [],
        channel_id=channel if _CHANNEL_ID.match(channel) else None,
    )


def _extend_minutes(action_id: str) -> int | None:
    if not action_id.startswith(ACTION_EXTEND_PREFIX):
        return None
    raw = action_id[len(ACTION_EXTEND_PREFIX) :]
    if not raw.isdigit() or not 0 < int(raw) <= MAX_EXTEND_MINUTES:
        return None
    return int(raw)


class InteractionService:
    def __init__(
        self,
        *,
        signing_secret: str,
        allowed_ids: frozenset[str],
        effects: InteractionEffects,
        replay: ReplayGuard,
        responder: Responder,
        groups: GroupResolver | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._signing_secret = signing_secret
        self.allowed_ids = allowed_ids
        self.effects = effects
        self.replay = replay
        self.responder = responder
        self.groups = groups
        self.clock = clock

    def _allowed(self, user_id: str) -> bool:
        if user_id in self.allowed_ids:
            return True
        for group in sorted(i for i in self.allowed_ids if _GROUP_ID.match(i)):
            if self.groups is None:
                _log().warning("a Slack user group is allowed but no bot token can resolve it")
                return False
            try:
                if user_id in self.groups.members(group):
                    return True
            except WardenError:
                _log().warning("could not read a Slack user group's members", extra={"group": group})
        return False

    def handle(self, event: Mapping[str, Any]) -> HttpResponse:
        """Answer one Function URL request. A malformed request gets a 4xx and a log line, never an
        exception: nothing but the raw bytes is looked at before the signature holds."""
        now = self.clock()
        method = _mapping(_mapping(event.get("requestContext")).get("http")).get("method", "POST")
        if method != "POST":
            _log().warning("Slack request refused", extra={"reason": "method not allowed"})
            return HttpResponse(405, "method not allowed")
        try:
            body = raw_body(event)
            given = event.get("headers") or {}
            if not isinstance(given, dict):
                raise ValueError("headers are not a mapping")
            headers = {str(k): str(v) for k, v in given.items()}
        except ValueError as exc:  # binascii.Error included
            _log().warning(
                "Slack request refused", extra={"signature": "unreadable", "reason": str(exc)[:200]}
            )
            return HttpResponse(401, "invalid signature")
        check = verify_signature(self._signing_secret, body, headers, now=now.timestamp())
        if not check.ok or check.timestamp is None or check.signature is None:
            _log().warning("Slack request refused", extra={"signature": check.verdict})
            return HttpResponse(401, "invalid signature")
        req = request_id(check.timestamp, check.signature)
        if not self.replay.first_use(req, expires_at=int(now.timestamp()) + REPLAY_TTL_SECONDS):
            _log().warning("Slack request refused", extra={"signature": "replayed"})
            return HttpResponse(401, "replayed request")
        try:
            click = parse_click(body)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, RecursionError) as exc:
            # Signed by Slack (or by whoever holds the signing secret) but not a click we know.
            _log().warning(
                "Slack request refused", extra={"reason": "unsupported payload", "error": type(exc).__name__}
            )
            return HttpResponse(400, "unsupported payload")
        self._act(click, req, now)
        return HttpResponse(200)

    def _audit(
        self, click: Click, req: str, now: datetime, *, action: str, outcome: str, details: dict[str, Any]
    ) -> None:
        v = click.value
        self.effects.audit(
            AuditRecord(
                session_id=v.s if v else "-",
                at=now,
                record_id=f"slack-{req}",
                decision=Decision.OPERATOR,
                action=action,
                outcome=outcome,
                actor=f"slack:{click.user_id}",
                account=v.a if v else None,
                region=v.r if v else None,
                details={
                    "slack_user": click.user_id,
                    "slack_team": click.team_id,
                    "slack_channel": click.channel_id,
                    "button": click.action_id[:64],
                    "alert_action_id": v.x if v else None,
                    **details,
                },
            )
        )

    def _tell(self, click: Click, text: str) -> None:
        if click.response_url:
            try:
                self.responder.ephemeral(click.response_url, text)
            except WardenError:
                _log().warning("could not answer the Slack user")

    def _act(self, click: Click, req: str, now: datetime) -> None:
        kind = _button_kind(click.action_id)
        if not self._allowed(click.user_id):
            self._audit(click, req, now, action=kind, outcome="denied: user not allowed", details={})
            self._tell(click, "You are not allowed to act on ssm-warden alerts. Nothing was done.")
            return
        if click.value is None or kind == "unknown":
            self._audit(click, req, now, action=kind, outcome="refused: unrecognised button", details={})
            self._tell(click, "This button is not one ssm-warden knows. Nothing was done.")
            return
        session = click.value.session()
        actor = f"slack:{click.user_id}"
        mention = f"<@{click.user_id}>"  # a validated id: safe mrkdwn
        details: dict[str, Any] = {}
        try:
            if kind == "terminate":
                outcome = self.effects.terminate_now(session, actor)
                note = (
                    f":octagonal_sign: Termination requested by {mention} at {iso(now)}: {sanitize(outcome)}"
                )
            elif kind == "extend":
                minutes = _extend_minutes(click.action_id) or 0
                details["minutes"] = minutes
                reason = f"extended from Slack by {actor}"
                outcome = self.effects.extend(session, minutes, actor, reason)
                note = (
                    f":hourglass_flowing_sand: Extended by {minutes} min by {mention} at {iso(now)}: "
                    f"{sanitize(outcome)}"
                )
            else:
                outcome = self.effects.acknowledge(session, actor, click.value.x)
                note = f":white_check_mark: Acknowledged by {mention} at {iso(now)}"
        except WardenError as exc:
            self._audit(
                click, req, now, action=kind, outcome=f"failed: {type(exc).__name__}", details=details
            )
            self._tell(click, f"ssm-warden could not {kind} the session ({type(exc).__name__}). Try again.")
            return
        self._audit(click, req, now, action=kind, outcome=outcome, details=details)
        if click.response_url:
            blocks = build_interaction_note(click.message_blocks, note, remove_buttons=kind == "terminate")
            text = plain(f"{kind} by {click.user_id}: {session.session_id}")
            try:
                self.responder.replace(click.response_url, text, blocks)
            except WardenError:
                _log().warning("could not update the Slack message after a click")


def _button_kind(action_id: str) -> str:
    if action_id == ACTION_TERMINATE:
        return "terminate"
    if action_id == ACTION_ACK:
        return "acknowledge"
    if _extend_minutes(action_id) is not None:
        return "extend"
    return "unknown"


def _log() -> Any:
    from ssm_warden.observability import logger

    return logger()


# ---------------------------------------------------------------------------------------------------
# Implementations on AWS and Slack


class AwsInteractionEffects:
    """Terminate through the action queue, extend on the session's ledger item, audit in DynamoDB."""

    def __init__(self, clock: Callable[[], datetime] = utc_now) -> None:
        self.clock = clock

    def _session(self, session: SessionRef) -> SessionRef:
        """The ledger's view of the session (who, target, tags) when it has one."""
        from ssm_warden.config import get_settings
        from ssm_warden.enforce.session_ref import session_ref
        from ssm_warden.ledger.repository import SessionRepository

        with aws_errors("reading the session"):
            record = SessionRepository().get(session.account, session.region, session.session_id)
        if record is None:
            return session
        return session_ref(record, log_group=get_settings().session_log_group)

    def terminate_now(self, session: SessionRef, actor: str) -> str:
        from ssm_warden.enforce.sink import QueueSink

        now = self.clock()
        session = self._session(session)
        key = session_key(session.account, session.region, session.session_id)
        action = ActionRequest(
            action_id=action_id_for("operator", "terminate", key, actor, iso(now)),
            kind=ActionKind.TERMINATE,
            mode=Mode.ENFORCE,
            trigger=Trigger.OPERATOR,
            severity=Severity.HIGH,
            session=session,
            title="Terminate now (requested in Slack)",
            why=f"{actor} pressed Terminate now in Slack",
            rule_or_limit="operator.terminate_now",
            policy_version="operator",
            created_at=now,
        )
        try:
            with aws_errors("queueing a termination"):
                QueueSink().submit([action])
        except RuntimeError as exc:  # some messages of the batch were not queued
            raise TransientError("the action queue refused the termination; try again") from exc
        return "queued for termination"

    def extend(self, session: SessionRef, minutes: int, actor: str, reason: str) -> str:
        from ssm_warden.ledger.repository import SessionRepository

        until = self.clock() + timedelta(minutes=minutes)
        extension = {"until": iso(until), "by": actor, "reason": reason}
        with aws_errors("recording an extension"):
            recorded = SessionRepository().add_extension(
                session.account, session.region, session.session_id, extension
            )
        if not recorded:
            return "session not found in the ledger: nothing extended"
        return f"limits extended until {iso(until)}"

    def acknowledge(self, session: SessionRef, actor: str, action_id: str | None) -> str:
        return "acknowledged"

    def audit(self, record: AuditRecord) -> None:
        from ssm_warden.audit import write_audit

        write_audit(record)


class WebhookResponder:
    """Answers through ``response_url``, only to Slack's own hosts (and the configured API's host)."""

    def __init__(self, allowed_hosts: frozenset[str] = SLACK_RESPONSE_HOSTS, timeout: int = 3) -> None:
        self.allowed_hosts = allowed_hosts
        self.timeout = timeout

    def _send(self, response_url: str, body: dict[str, Any]) -> None:
        from slack_sdk.webhook import WebhookClient

        parts = urlsplit(response_url)
        local = parts.hostname in ("127.0.0.1", "localhost")
        if parts.hostname not in self.allowed_hosts or (parts.scheme != "https" and not local):
            raise ResponseUrlError("response_url is not a Slack URL")
        try:
            response = WebhookClient(response_url, timeout=self.timeout).send_dict(body)
        except OSError as exc:
            raise ResponseUrlError(f"response_url failed: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ResponseUrlError(f"response_url answered HTTP {response.status_code}")

    def replace(self, response_url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self._send(response_url, {"replace_original": True, "text": text, "blocks": blocks})

    def ephemeral(self, response_url: str, text: str) -> None:
        self._send(response_url, {"response_type": "ephemeral", "replace_original": False, "text": text})


class ResponseUrlError(WardenError):
    """The clicked message could not be updated."""


class BotGroupResolver:
    """User group members through ``usergroups.users.list`` (scope ``usergroups:read``), cached."""

    def __init__(self, transport: Any, ttl_seconds: float = 300.0) -> None:
        self.transport = transport
        self.ttl_seconds = ttl_seconds
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}

    def members(self, group_id: str) -> frozenset[str]:
        cached = self._cache.get(group_id)
        if cached and time.monotonic() - cached[0] < self.ttl_seconds:
            return cached[1]
        members = frozenset(self.transport.usergroup_members(group_id))
        self._cache[group_id] = (time.monotonic(), members)
        return members


_service: tuple[Any, InteractionService] | None = None


def interaction_service() -> InteractionService:
    """The service for this container, from the Slack secret and the settings."""
    global _service
    from ssm_warden.slack.secret import allowed_user_ids, load_slack_secret, slack_api_url
    from ssm_warden.slack.signature import DynamoReplayGuard
    from ssm_warden.slack.transport import BotTransport

    secret = load_slack_secret()
    if _service is not None and _service[0] == secret:
        return _service[1]
    if not secret.signing_secret:
        raise ConfigError("the Slack secret has no signing_secret: interactive buttons cannot be verified")
    hosts = set(SLACK_RESPONSE_HOSTS)
    api = slack_api_url()
    if api:
        hosts.add(urlsplit(api).hostname or "")
    groups = None
    if secret.bot_token:
        groups = BotGroupResolver(BotTransport(secret.bot_token.get_secret_value(), base_url=api))
    service = InteractionService(
        signing_secret=secret.signing_secret.get_secret_value(),
        allowed_ids=allowed_user_ids(),
        effects=AwsInteractionEffects(),
        replay=DynamoReplayGuard(),
        responder=WebhookResponder(frozenset(hosts)),
        groups=groups,
    )
    _service = (secret, service)
    return service


def reset_interaction_service() -> None:
    global _service
    _service = None


def handle_function_url_event(event: Mapping[str, Any]) -> dict[str, Any]:
    """The Function URL entry point: verify, act, answer."""
    return interaction_service().handle(event).to_function_url()

"""Slack request signatures and the button clicks, with in-process effects (no I/O)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode

import pytest

from ssm_warden.errors import TransientError
from ssm_warden.models.actions import SessionRef
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.slack.interactions import ButtonValue, InteractionService
from ssm_warden.slack.messages import build_alert
from ssm_warden.slack.signature import MemoryReplayGuard, sign, verify_signature
from tests.unit.slack.factories import NOW, action

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
RESPONSE_URL = "https://hooks.slack.com/actions/T0001/1234/abcd"


class Effects:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.audits: list[AuditRecord] = []
        self.fail: Exception | None = None

    def terminate_now(self, session: SessionRef, actor: str) -> str:
        if self.fail:
            raise self.fail
        self.calls.append(("terminate", session.session_id, actor))
        return "queued for termination"

    def extend(self, session: SessionRef, minutes: int, actor: str, reason: str) -> str:
        self.calls.append(("extend", session.session_id, minutes, actor, reason))
        return "limits extended"

    def acknowledge(self, session: SessionRef, actor: str, action_id: str | None) -> str:
        self.calls.append(("ack", session.session_id, actor, action_id))
        return "acknowledged"

    def audit(self, record: AuditRecord) -> None:
        self.audits.append(record)


class Responder:
    def __init__(self) -> None:
        self.replaced: list[tuple[str, list[dict[str, Any]]]] = []
        self.told: list[str] = []

    def replace(self, response_url: str, text: str, blocks: list[dict[str, Any]]) -> None:
        self.replaced.append((text, blocks))

    def ephemeral(self, response_url: str, text: str) -> None:
        self.told.append(text)


class Groups:
    def members(self, group_id: str) -> frozenset[str]:
        return frozenset({"U0BOB"}) if group_id == "S0ONCALL" else frozenset()


def service(effects: Effects, responder: Responder) -> InteractionService:
    return InteractionService(
        signing_secret=SECRET,
        allowed_ids=frozenset({"U0ALICE", "S0ONCALL"}),
        effects=effects,
        replay=MemoryReplayGuard(),
        responder=responder,
        groups=Groups(),
        clock=lambda: NOW,
    )


def alert_blocks() -> list[dict[str, Any]]:
    return build_alert(action(), "alert_only", interactive=True).blocks


def click_body(action_id: str, *, user: str = "U0ALICE", value: str | None = None) -> bytes:
    blocks = alert_blocks()
    button = next(
        e
        for b in blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith("ssmw.")
    )
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "<!channel> mallory", "team_id": "T0001"},
        "team": {"id": "T0001"},
        "container": {"type": "message", "channel_id": "C0ALERTS", "message_ts": "1700000000.000001"},
        "channel": {"id": "C0ALERTS"},
        "message": {"ts": "1700000000.000001", "blocks": blocks},
        "response_url": RESPONSE_URL,
        "actions": [{"action_id": action_id, "value": value if value is not None else button["value"]}],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


def event(
    body: bytes, *, at: float | None = None, base64_body: bool = True, secret: str = SECRET
) -> dict[str, Any]:
    headers = {
        k.lower(): v for k, v in sign(secret, body, int(at if at is not None else NOW.timestamp())).items()
    }
    headers["content-type"] = "application/x-www-form-urlencoded"
    return {
        "headers": headers,
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
        "isBase64Encoded": base64_body,
        "requestContext": {"http": {"method": "POST"}},
    }


# -- signatures ---------------------------------------------------------------------------------


def test_a_correctly_signed_request_is_valid() -> None:
    body = b"payload=%7B%7D"
    assert verify_signature(SECRET, body, sign(SECRET, body, 1_700_000_000), now=1_700_000_100).ok


def test_a_request_older_than_five_minutes_is_stale() -> None:
    body = b"payload=%7B%7D"
    check = verify_signature(SECRET, body, sign(SECRET, body, 1_700_000_000), now=1_700_000_301)
    assert check.verdict == "stale"


def test_a_tampered_body_or_another_secret_does_not_match() -> None:
    body = b"payload=%7B%7D"
    headers = sign(SECRET, body, 1_700_000_000)
    assert verify_signature(SECRET, body + b"x", headers, now=1_700_000_000).verdict == "mismatch"
    other = sign("another-secret", body, 1_700_000_000)
    assert verify_signature(SECRET, body, other, now=1_700_000_000).verdict == "mismatch"


def test_missing_or_malformed_headers_are_refused() -> None:
    assert verify_signature(SECRET, b"", {}, now=0).verdict == "missing"
    bad = {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=00"}
    assert verify_signature(SECRET, b"", bad, now=0).verdict == "malformed"


# -- clicks -------------------------------------------------------------------------------------


def test_terminate_now_by_an_allowed_user_acts_audits_and_updates_the_message() -> None:
    effects, responder = Effects(), Responder()
    # When Alice presses Terminate now
    response = service(effects, responder).handle(event(click_body("ssmw.terminate")))
    # Then the termination is requested for the button's session, as her
    assert response.status == 200
    assert effects.calls == [("terminate", "alice-0e34861185201706f", "slack:U0ALICE")]
    # and the click is audited
    (record,) = effects.audits
    assert record.decision is Decision.OPERATOR and record.action == "terminate"
    assert record.actor == "slack:U0ALICE" and record.outcome == "queued for termination"
    assert record.account == "123456789012" and record.session_id == "alice-0e34861185201706f"
    # and the message says who did it, and has no buttons left
    _, blocks = responder.replaced[0]
    assert "Termination requested by <@U0ALICE>" in json.dumps(blocks)
    assert not [b for b in blocks if b["type"] == "actions"]


def test_extend_by_a_member_of_an_allowed_group() -> None:
    effects, responder = Effects(), Responder()
    response = service(effects, responder).handle(event(click_body("ssmw.extend.30", user="U0BOB")))
    assert response.status == 200
    assert effects.calls == [
        ("extend", "alice-0e34861185201706f", 30, "slack:U0BOB", "extended from Slack by slack:U0BOB")
    ]
    _, blocks = responder.replaced[0]
    assert "Extended by 30 min by <@U0BOB>" in json.dumps(blocks)
    assert [b for b in blocks if b["type"] == "actions"]  # still running: buttons stay


def test_acknowledge_keeps_the_buttons_and_says_who() -> None:
    effects, responder = Effects(), Responder()
    service(effects, responder).handle(event(click_body("ssmw.ack"), base64_body=False))
    assert effects.calls[0][0] == "ack" and effects.calls[0][3] == action().action_id
    assert "Acknowledged by <@U0ALICE>" in json.dumps(responder.replaced[0][1])


def test_an_unauthorised_user_changes_nothing_but_is_audited_and_told() -> None:
    effects, responder = Effects(), Responder()
    response = service(effects, responder).handle(event(click_body("ssmw.terminate", user="U0MALLORY")))
    assert response.status == 200
    assert effects.calls == [] and responder.replaced == []
    assert effects.audits[0].outcome == "denied: user not allowed"
    assert effects.audits[0].actor == "slack:U0MALLORY"
    assert "not allowed" in responder.told[0]


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("stale", lambda body: event(body, at=NOW.timestamp() - 301)),
        ("tampered", lambda body: {**event(body), "body": base64.b64encode(body + b"&x=1").decode()}),
        ("wrong secret", lambda body: event(body, secret="not-the-signing-secret")),
        ("unsigned", lambda body: {**event(body), "headers": {}}),
    ],
)
def test_requests_that_fail_the_signature_check_do_nothing(name: str, make: Any) -> None:
    effects, responder = Effects(), Responder()
    response = service(effects, responder).handle(make(click_body("ssmw.terminate")))
    assert response.status == 401
    assert effects.calls == [] and effects.audits == [] and responder.replaced == []


def test_a_replayed_request_is_refused() -> None:
    effects, responder = Effects(), Responder()
    svc = service(effects, responder)
    request = event(click_body("ssmw.terminate"))
    assert svc.handle(request).status == 200
    assert svc.handle(request).status == 401
    assert len(effects.calls) == 1


def test_a_button_value_with_free_text_is_refused() -> None:
    effects, responder = Effects(), Responder()
    value = json.dumps({"a": "123456789012", "r": "us-east-1", "s": "x-1", "note": "<!channel> run this"})
    service(effects, responder).handle(event(click_body("ssmw.terminate", value=value)))
    assert effects.calls == []
    assert effects.audits[0].outcome == "refused: unrecognised button"


@pytest.mark.parametrize(
    "value",
    [
        {"a": "1234", "r": "us-east-1", "s": "alice-1"},
        {"a": "123456789012", "r": "us-east-1; rm", "s": "alice-1"},
        {"a": "123456789012", "r": "us-east-1", "s": "alice 1 <!here>"},
        {"a": "123456789012", "r": "us-east-1", "s": "alice-1", "x": "not hex"},
    ],
)
def test_button_values_hold_ids_only(value: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        ButtonValue.model_validate_json(json.dumps(value))


def test_a_failed_effect_is_audited_and_the_user_told() -> None:
    effects, responder = Effects(), Responder()
    effects.fail = TransientError("queue down")
    assert service(effects, responder).handle(event(click_body("ssmw.terminate"))).status == 200
    assert effects.audits[0].outcome == "failed: TransientError"
    assert "could not terminate" in responder.told[0]
    assert responder.replaced == []


def test_only_post_is_accepted() -> None:
    request = {**event(click_body("ssmw.ack")), "requestContext": {"http": {"method": "GET"}}}
    assert service(Effects(), Responder()).handle(request).status == 405

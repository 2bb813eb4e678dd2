"""Malformed requests to the alert buttons' Function URL: a 4xx answer and a log line, never an
exception (the function's error alarm has threshold 0), and nothing decoded before the signature."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from ssm_warden.slack.signature import sign
from tests.unit.slack.factories import NOW
from tests.unit.slack.test_interactions import SECRET, Effects, Responder, service


def event(
    body: bytes | str, headers: dict[str, str] | None = None, *, b64: bool = True, **extra: Any
) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    return {
        "requestContext": {"http": {"method": "POST"}},
        "headers": headers or {},
        "body": base64.b64encode(raw).decode() if b64 else body,
        "isBase64Encoded": b64,
        **extra,
    }


def signed(body: bytes | str) -> dict[str, Any]:
    raw = body.encode() if isinstance(body, str) else body
    return event(raw, sign(SECRET, raw, int(NOW.timestamp())))


def payload(value: Any) -> str:
    return urlencode({"payload": json.dumps(value) if not isinstance(value, str) else value})


NESTED = "[" * 50_000 + "]" * 50_000


@pytest.mark.parametrize(
    ("name", "request_event", "status"),
    [
        ("unsigned invalid UTF-8", event(b"payload=\xff\xfe\xfd"), 401),
        (
            "invalid UTF-8 with a forged signature",
            event(
                b"\xff\xfe",
                {
                    "X-Slack-Request-Timestamp": str(int(NOW.timestamp())),
                    "X-Slack-Signature": "v0=" + "0" * 64,
                },
            ),
            401,
        ),
        (
            "invalid base64",
            {
                "requestContext": {"http": {"method": "POST"}},
                "headers": {},
                "body": "%%%",
                "isBase64Encoded": True,
            },
            401,
        ),
        (
            "headers not a mapping",
            {"requestContext": {"http": {"method": "POST"}}, "headers": ["x"], "body": ""},
            401,
        ),
        (
            "body not text",
            {"requestContext": {"http": {"method": "POST"}}, "headers": {}, "body": {"a": 1}},
            401,
        ),
        ("request context not a mapping", {"requestContext": "POST", "headers": {}, "body": ""}, 401),
        ("signed invalid UTF-8", signed(b"payload=\xff\xfe"), 400),
        ("signed payload=[]", signed(payload([])), 400),
        ("signed payload=null", signed(payload(None)), 400),
        ("signed payload=7", signed(payload(7)), 400),
        ("signed deeply nested JSON", signed(payload(NESTED)), 400),
        (
            "signed actions not a list",
            signed(payload({"type": "block_actions", "actions": {"a": 1}, "user": {"id": "U0ALICE"}})),
            400,
        ),
        (
            "signed action not a mapping",
            signed(payload({"type": "block_actions", "actions": [7], "user": {"id": "U0ALICE"}})),
            400,
        ),
        (
            "signed user not a mapping",
            signed(payload({"type": "block_actions", "actions": [{}], "user": "U0ALICE"})),
            400,
        ),
        ("signed no payload field", signed("foo=bar"), 400),
        ("signed not a form", signed("\x00\x01"), 400),
    ],
)
def test_malformed_requests_get_a_4xx_and_a_log_line(
    name: str, request_event: dict[str, Any], status: int, caplog: pytest.LogCaptureFixture
) -> None:
    effects, responder = Effects(), Responder()
    with caplog.at_level(logging.INFO):
        response = service(effects, responder).handle(request_event)
    assert response.status == status, name
    assert effects.calls == []
    assert any("Slack request" in r.getMessage() for r in caplog.records), name


def test_the_function_url_entry_point_never_raises_on_a_malformed_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ssm_warden.slack import interactions

    monkeypatch.setattr(interactions, "interaction_service", lambda: service(Effects(), Responder()))
    out = interactions.handle_function_url_event(event(b"\xff"))
    assert out["statusCode"] == 401


def test_a_signed_click_with_odd_fields_is_refused_as_an_unknown_button_and_audited() -> None:
    effects, responder = Effects(), Responder()
    body = payload(
        {
            "type": "block_actions",
            "actions": [{"action_id": "ack"}],
            "user": {"id": "U0ALICE"},
            "container": [1],
            "message": "x",
        }
    )
    response = service(effects, responder).handle(signed(body))
    assert response.status == 200
    assert effects.calls == []
    assert [a.outcome for a in effects.audits] == ["refused: unrecognised button"]

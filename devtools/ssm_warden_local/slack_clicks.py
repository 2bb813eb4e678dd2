"""A person pressing a button on a message of the local Slack sink: the Function URL event Slack
would send to ssm-warden's interactions endpoint, signed with the app's signing secret."""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlencode

from ssm_warden.slack.signature import sign
from ssm_warden_local.slack_sink import SinkMessage, SlackSink


def has_button(message: SinkMessage, action_id: str) -> bool:
    return any(
        e["action_id"] == action_id for b in message.blocks if b["type"] == "actions" for e in b["elements"]
    )


def button_click(
    sink: SlackSink,
    message: SinkMessage,
    action_id: str,
    *,
    signing_secret: str,
    user: str = "U0ALICE",
    username: str = "someone",
) -> dict[str, Any]:
    """The event for ``user`` pressing ``action_id`` on ``message`` (StopIteration: no such button)."""
    button = next(
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == action_id
    )
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": username, "team_id": "T0SINK"},
        "team": {"id": "T0SINK"},
        "container": {"type": "message", "channel_id": message.channel, "message_ts": message.ts},
        "message": {"ts": message.ts, "blocks": message.blocks},
        "response_url": sink.response_url(message),
        "actions": [{"action_id": action_id, "block_id": "b", "value": button["value"], "type": "button"}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {k.lower(): v for k, v in sign(signing_secret, body, int(time.time())).items()}
    return {
        "version": "2.0",
        "headers": {**headers, "content-type": "application/x-www-form-urlencoded"},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
        "requestContext": {"http": {"method": "POST", "path": "/"}},
    }

"""Slack request signatures (v0) and replay protection.

Slack signs ``v0:{timestamp}:{raw body}`` with HMAC-SHA256 and the app's signing secret, and sends the
result in ``X-Slack-Signature`` with the timestamp in ``X-Slack-Request-Timestamp``. A request is
accepted when the timestamp is within five minutes of now and the signature matches (constant-time),
computed over the body's **bytes** exactly as received: nothing is decoded before the signature
holds (slack_sdk's verifier decodes the body as UTF-8 first, so an unauthenticated request with
invalid UTF-8 raised before it was refused). A valid request
is accepted once: its (timestamp, signature) pair is stored with a conditional put and a TTL.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden.slack._aws import aws_errors

MAX_AGE_SECONDS = 300
REPLAY_TTL_SECONDS = 2 * MAX_AGE_SECONDS + 60

Verdict = Literal["valid", "missing", "malformed", "stale", "mismatch"]


@dataclass(frozen=True)
class SignatureCheck:
    verdict: Verdict
    timestamp: str | None = None
    signature: str | None = None

    @property
    def ok(self) -> bool:
        return self.verdict == "valid"


def verify_signature(
    signing_secret: str, body: bytes, headers: Mapping[str, str], *, now: float
) -> SignatureCheck:
    """Check Slack's v0 signature of ``body`` (the raw bytes received) at time ``now`` (epoch)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    timestamp = lowered.get("x-slack-request-timestamp")
    signature = lowered.get("x-slack-signature")
    if not timestamp or not signature:
        return SignatureCheck("missing")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature.startswith(
        "v0="
    ):
        return SignatureCheck("malformed")
    if abs(now - int(timestamp)) > MAX_AGE_SECONDS:
        return SignatureCheck("stale", timestamp, signature)
    expected = _signature(signing_secret, body, timestamp)
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        return SignatureCheck("mismatch", timestamp, signature)
    return SignatureCheck("valid", timestamp, signature)


def sign(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    """The headers Slack would send with ``body`` (the local sink and tests sign with this)."""
    signature = _signature(signing_secret, body, str(timestamp)).decode()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def _signature(signing_secret: str, body: bytes, timestamp: str) -> bytes:
    """``v0=`` and the hex HMAC-SHA256 of ``v0:{timestamp}:`` followed by the body's bytes."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    digest = hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return f"v0={digest}".encode()


def request_id(timestamp: str, signature: str) -> str:
    """A stable id for one signed request (replay key, audit record id)."""
    return hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()[:32]


class ReplayGuard(Protocol):
    def first_use(self, request: str, *, expires_at: int) -> bool:
        """True the first time ``request`` (from ``request_id``) is seen, False afterwards."""
        ...


class MemoryReplayGuard:
    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def first_use(self, request: str, *, expires_at: int) -> bool:
        with self._lock:
            if request in self._seen:
                return False
            self._seen.add(request)
            return True


class DynamoReplayGuard:
    """Seen requests as items ``pk = slackreq#<id>`` of the sessions table, expiring by TTL."""

    def __init__(self, table: str | None = None) -> None:
        self._table = table or get_settings().sessions_table

    def first_use(self, request: str, *, expires_at: int) -> bool:
        client = aws_client("dynamodb")
        try:
            with aws_errors("recording a Slack request"):
                client.put_item(
                    TableName=self._table,
                    Item={"pk": {"S": f"slackreq#{request}"}, "expires_at": {"N": str(expires_at)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        return True

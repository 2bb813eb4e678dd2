"""Where each session's Slack thread is: ``slack_channel`` / ``slack_thread_ts`` on its ledger item.

The first writer wins (a conditional update on ``attribute_not_exists(slack_thread_ts)``); a loser
learns the winner's thread and posts into it. The ``ThreadStore`` protocol keeps the notifier's unit
tests free of DynamoDB; ``MemoryThreadStore`` is the in-process implementation they use.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden.ledger.keys import session_key
from ssm_warden.models.actions import SessionRef
from ssm_warden.slack._aws import aws_errors

_THREAD_ATTRIBUTES = (
    "slack_channel, slack_thread_ts, slack_headline, slack_channel_requested, slack_root_session"
)


@dataclass(frozen=True)
class ThreadRef:
    channel: str  # channel id
    ts: str  # the root message's ts
    headline: str | None = None  # what opened the thread (mrkdwn, already sanitised)
    requested: str | None = None  # the channel the policy asked for (a name or an id)
    # The session as the root shows it, so that later updates of the root keep who/target/tags even
    # when the action that causes them carries a thinner reference (an operator's termination).
    session: SessionRef | None = None


class ThreadStore(Protocol):
    def get(self, session: SessionRef) -> ThreadRef | None: ...

    def claim(self, session: SessionRef, ref: ThreadRef) -> ThreadRef:
        """Record ``ref`` unless a thread is recorded already; return the thread that won."""
        ...


class MemoryThreadStore:
    """Threads in a dict (unit tests, local runs)."""

    def __init__(self) -> None:
        self._refs: dict[str, ThreadRef] = {}
        self._lock = threading.Lock()

    def get(self, session: SessionRef) -> ThreadRef | None:
        return self._refs.get(session_key(session.account, session.region, session.session_id))

    def claim(self, session: SessionRef, ref: ThreadRef) -> ThreadRef:
        key = session_key(session.account, session.region, session.session_id)
        with self._lock:
            return self._refs.setdefault(key, ref)


class DynamoThreadStore:
    """Threads on the session items of the sessions table."""

    def __init__(self, table: str | None = None) -> None:
        self._table = table or get_settings().sessions_table

    def _key(self, session: SessionRef) -> dict[str, dict[str, str]]:
        return {"pk": {"S": session_key(session.account, session.region, session.session_id)}}

    def get(self, session: SessionRef) -> ThreadRef | None:
        with aws_errors("reading the Slack thread"):
            item = (
                aws_client("dynamodb")
                .get_item(
                    TableName=self._table,
                    Key=self._key(session),
                    ConsistentRead=True,
                    ProjectionExpression=_THREAD_ATTRIBUTES,
                )
                .get("Item")
            )
        if not item or "slack_thread_ts" not in item:
            return None
        return ThreadRef(
            channel=item["slack_channel"]["S"],
            ts=item["slack_thread_ts"]["S"],
            headline=item.get("slack_headline", {}).get("S"),
            requested=item.get("slack_channel_requested", {}).get("S"),
            session=_session(item.get("slack_root_session", {}).get("S")),
        )

    def claim(self, session: SessionRef, ref: ThreadRef) -> ThreadRef:
        client = aws_client("dynamodb")
        values: dict[str, dict[str, str]] = {
            ":c": {"S": ref.channel},
            ":t": {"S": ref.ts},
            ":sid": {"S": session.session_id},
            ":acc": {"S": session.account},
            ":reg": {"S": session.region},
        }
        # The session's ids too, so that an item made here before the ledger's own first write (a
        # finding that outran StartSession) still reads as a session record.
        expression = (
            "SET slack_channel = :c, slack_thread_ts = :t, session_id = if_not_exists(session_id, :sid), "
            "account = if_not_exists(account, :acc), #region = if_not_exists(#region, :reg)"
        )
        if ref.headline:
            values[":h"] = {"S": ref.headline}
            expression += ", slack_headline = :h"
        if ref.requested:
            values[":r"] = {"S": ref.requested}
            expression += ", slack_channel_requested = :r"
        if ref.session is not None:
            values[":s"] = {"S": ref.session.model_dump_json(exclude_none=True)}
            expression += ", slack_root_session = :s"
        try:
            with aws_errors("recording the Slack thread"):
                client.update_item(
                    TableName=self._table,
                    Key=self._key(session),
                    UpdateExpression=expression,
                    ConditionExpression="attribute_not_exists(slack_thread_ts)",
                    ExpressionAttributeNames={"#region": "region"},
                    ExpressionAttributeValues=values,
                )
        except client.exceptions.ConditionalCheckFailedException:
            winner = self.get(session)
            if winner is not None:
                return winner
        return ref


def _session(raw: str | None) -> SessionRef | None:
    if not raw:
        return None
    try:
        return SessionRef.model_validate_json(raw)
    except ValueError:
        return None

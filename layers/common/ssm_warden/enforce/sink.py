"""Sending action requests to the action queue: the one seam between deciding and acting."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ssm_warden.clients import aws_client
from ssm_warden.config import get_settings
from ssm_warden.errors import ConfigError
from ssm_warden.models.actions import ActionRequest

_SQS_BATCH = 10


class ActionSink(Protocol):
    def submit(self, actions: Sequence[ActionRequest]) -> None: ...


class QueueSink:
    """Puts each action on the SQS action queue; the executor carries them out."""

    def __init__(self, queue_url: str | None = None) -> None:
        url = queue_url or get_settings().actions_queue_url
        if not url:
            raise ConfigError("ACTIONS_QUEUE_URL is not set: actions have nowhere to go")
        self.queue_url = url

    def submit(self, actions: Sequence[ActionRequest]) -> None:
        sqs = aws_client("sqs")
        for start in range(0, len(actions), _SQS_BATCH):
            batch = actions[start : start + _SQS_BATCH]
            response = sqs.send_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "MessageBody": a.model_dump_json()} for i, a in enumerate(batch)],
            )
            failed = response.get("Failed", [])
            if failed:
                # Raise so the caller's invocation fails and its input is retried: an action is never
                # dropped. Redelivered actions are made harmless by the executor's idempotency.
                raise RuntimeError(f"{len(failed)} actions were not queued: {failed[0].get('Message')}")


class ListSink:
    """Keeps actions in memory (unit tests, the ``classify``/``scan`` commands)."""

    def __init__(self) -> None:
        self.actions: list[ActionRequest] = []

    def submit(self, actions: Sequence[ActionRequest]) -> None:
        self.actions.extend(actions)

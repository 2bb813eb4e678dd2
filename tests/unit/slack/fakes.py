"""In-process stand-ins for Slack (the unit tests' transport)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ssm_warden.errors import WardenError
from ssm_warden.slack.messages import SlackMessage
from ssm_warden.slack.transport import PostResult


@dataclass
class Posted:
    channel: str
    ts: str | None
    message: SlackMessage
    thread_ts: str | None = None
    broadcast: bool = False
    versions: list[SlackMessage] = field(default_factory=list)  # updates, oldest first
    deleted: bool = False

    @property
    def current(self) -> SlackMessage:
        return self.versions[-1] if self.versions else self.message


class FakeTransport:
    """Records posts and updates. ``threads`` chooses bot-token (True) or webhook (False) behaviour."""

    def __init__(self, *, threads: bool = True, channels: dict[str, str] | None = None) -> None:
        self.threads = threads
        self.channels = channels if channels is not None else {"#alerts": "C0ALERTS", "#critical": "C0CRIT"}
        self.posts: list[Posted] = []
        self.failures: list[WardenError] = []  # raised by the next calls, in order
        self._ts = itertools.count(1)

    def _maybe_fail(self) -> None:
        if self.failures:
            raise self.failures.pop(0)

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> PostResult:
        self._maybe_fail()
        if not self.threads:
            self.posts.append(Posted(channel, None, message))
            return PostResult(channel, None)
        channel_id = self.channels.get(channel, channel)
        ts = f"1700000000.{next(self._ts):06d}"
        self.posts.append(Posted(channel_id, ts, message, thread_ts, broadcast))
        return PostResult(channel_id, ts)

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        self._maybe_fail()
        self.get(ts).versions.append(message)

    def delete(self, channel: str, ts: str) -> None:
        self._maybe_fail()
        self.get(ts).deleted = True

    def get(self, ts: str) -> Posted:
        return next(p for p in self.posts if p.ts == ts)

    def top_level(self) -> list[Posted]:
        return [p for p in self.posts if p.thread_ts is None and not p.deleted]

    def replies(self, ts: str | None) -> list[Posted]:
        return [p for p in self.posts if p.thread_ts == ts and ts is not None]

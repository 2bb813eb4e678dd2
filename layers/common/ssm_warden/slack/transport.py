"""The two ways teams connect Slack: an incoming webhook, or a bot token (threads and updates).

Both transports map Slack's failures onto ssm-warden's exceptions:

* a 429 is retried after its ``Retry-After`` by ``RateLimitErrorRetryHandler`` (a wait longer than
  ``max_wait_seconds`` is not waited for in the Lambda: ``TransientError``, and SQS redelivers later);
* a 5xx, a timeout or a connection failure raises ``TransientError`` (the action fails, SQS retries);
* Slack refusing the blocks raises ``InvalidMessageError`` (the notifier resends the text alone);
* an unknown channel raises ``ChannelError`` (the notifier falls back to the default channel);
* anything else Slack refuses (bad token, revoked webhook) raises ``SlackDeliveryError``.

Nothing here logs a URL, a token or a message body.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from ssm_warden.errors import TransientError, WardenError
from ssm_warden.slack.messages import SlackMessage

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_TIMEOUT_SECONDS = 5
# Longest Retry-After waited for inside an invocation (once); beyond it, or on a second 429, SQS's
# redelivery does the waiting. Keeps a delivery well inside the executor's 30-second timeout.
DEFAULT_MAX_WAIT_SECONDS = 15


class SlackDeliveryError(WardenError):
    """Slack refused the request for good (bad token, revoked webhook, missing scope)."""


class InvalidMessageError(SlackDeliveryError):
    """Slack refused the message itself (blocks, length)."""


class ChannelError(SlackDeliveryError):
    """The channel does not exist or the app is not in it."""


_TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout", "timeout"}
)
_INVALID_MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "no_text",
        "too_many_attachments",
        "invalid_payload",
    }
)
_CHANNEL_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "channel_is_archived", "message_not_found"}
)


def _retry_after(response: HttpResponse) -> float | None:
    for key, values in response.headers.items():
        if key.lower() == "retry-after" and values:
            try:
                return float(values[0])
            except ValueError:
                return None
    return None


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


class BoundedRateLimitHandler(RateLimitErrorRetryHandler):
    """``RateLimitErrorRetryHandler`` that sleeps exactly ``Retry-After`` and refuses long waits.

    ``sleep`` is injectable (and the module's ``_sleep`` replaceable) so tests see the wait without
    taking it.
    """

    def __init__(
        self,
        max_retry_count: int = 1,
        max_wait_seconds: float = DEFAULT_MAX_WAIT_SECONDS,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_seconds = max_wait_seconds
        self._sleep = sleep

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = _retry_after(response)
        return wait is None or wait <= self.max_wait_seconds

    def prepare_for_next_attempt(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = _retry_after(response) if response is not None else None
        (self._sleep or _sleep)(1.0 if wait is None else max(wait, 0.0))
        state.next_attempt_requested = True
        state.increment_current_attempt()


def retry_handlers(sleep: Callable[[float], None] | None = None) -> list[RetryHandler]:
    return [ConnectionErrorRetryHandler(max_retry_count=1), BoundedRateLimitHandler(sleep=sleep)]


class SlackTransport(Protocol):
    """Posting, updating and deleting messages. ``threads`` says whether ``ts``/threads exist."""

    @property
    def threads(self) -> bool: ...

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> PostResult: ...

    def update(self, channel: str, ts: str, message: SlackMessage) -> None: ...

    def delete(self, channel: str, ts: str) -> None: ...


@dataclass(frozen=True)
class PostResult:
    channel: str  # the channel id Slack answered with (the name given, for webhooks)
    ts: str | None  # None for webhooks: they return no message id


def _transient(what: str, exc: BaseException | None = None) -> TransientError:
    detail = f": {type(exc).__name__}" if exc is not None else ""
    return TransientError(f"Slack {what} failed{detail}; will be retried")


class WebhookTransport:
    """An incoming webhook: one channel (the webhook's), no threads, no updates."""

    threads = False

    def __init__(
        self,
        url: str,
        *,
        timeout: int = DEFAULT_TIMEOUT_SECONDS,
        handlers: list[RetryHandler] | None = None,
    ) -> None:
        from slack_sdk.webhook import WebhookClient

        self._client = WebhookClient(url, timeout=timeout, retry_handlers=handlers or retry_handlers())

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> PostResult:
        body: dict[str, Any] = {**message.payload(), "unfurl_links": False, "unfurl_media": False}
        try:
            response = self._client.send_dict(body)
        except (URLError, OSError, SlackRequestError) as exc:
            raise _transient("webhook post", exc) from exc
        status, text = response.status_code, str(response.body or "")
        if status == 200:
            return PostResult(channel=channel, ts=None)
        if status == 429 or status >= 500:
            raise _transient(f"webhook post (HTTP {status})")
        error = text.strip()[:64]
        if error in _INVALID_MESSAGE_ERRORS or status == 400:
            raise InvalidMessageError(f"Slack refused the message: {error or status}")
        if error in _CHANNEL_ERRORS:
            raise ChannelError(f"Slack webhook channel error: {error}")
        raise SlackDeliveryError(f"Slack webhook refused the post (HTTP {status}: {error})")

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        raise SlackDeliveryError("an incoming webhook cannot update messages")

    def delete(self, channel: str, ts: str) -> None:
        raise SlackDeliveryError("an incoming webhook cannot delete messages")


class BotTransport:
    """A bot token: ``chat.postMessage`` / ``chat.update`` / ``chat.delete``, threads."""

    threads = True

    def __init__(
        self,
        token: str,
        *,
        base_url: str | None = None,
        timeout: int = DEFAULT_TIMEOUT_SECONDS,
        handlers: list[RetryHandler] | None = None,
    ) -> None:
        from slack_sdk import WebClient

        self._client = WebClient(
            token=token,
            base_url=base_url or SLACK_API_URL,
            timeout=timeout,
            retry_handlers=handlers or retry_handlers(),
        )

    @property
    def client(self) -> Any:
        return self._client

    def _call(self, what: str, fn: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except SlackApiError as exc:
            raise _map_api_error(what, exc) from exc
        except (URLError, OSError, SlackRequestError) as exc:
            raise _transient(what, exc) from exc

    def post(
        self, channel: str, message: SlackMessage, *, thread_ts: str | None = None, broadcast: bool = False
    ) -> PostResult:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "text": message.text,
            "unfurl_links": False,
            "unfurl_media": False,
        }
        if message.blocks:
            kwargs["blocks"] = message.blocks
        if thread_ts:
            kwargs["thread_ts"] = thread_ts
            if broadcast:
                kwargs["reply_broadcast"] = True
        response = self._call("chat.postMessage", self._client.chat_postMessage, **kwargs)
        return PostResult(channel=str(response.get("channel") or channel), ts=str(response["ts"]))

    def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        kwargs: dict[str, Any] = {
            "channel": channel,
            "ts": ts,
            "text": message.text,
            "blocks": message.blocks,
        }
        self._call("chat.update", self._client.chat_update, **kwargs)

    def delete(self, channel: str, ts: str) -> None:
        self._call("chat.delete", self._client.chat_delete, channel=channel, ts=ts)

    def usergroup_members(self, group_id: str) -> list[str]:
        response = self._call("usergroups.users.list", self._client.usergroups_users_list, usergroup=group_id)
        return [str(u) for u in response.get("users") or []]


def _map_api_error(what: str, exc: SlackApiError) -> WardenError:
    status = getattr(exc.response, "status_code", 200)
    error = ""
    data = getattr(exc.response, "data", None)
    if isinstance(data, dict):
        error = str(data.get("error") or "")
    if status == 429 or status >= 500 or error in _TRANSIENT_ERRORS:
        return _transient(f"{what} (HTTP {status} {error})".rstrip())
    if error in _INVALID_MESSAGE_ERRORS:
        return InvalidMessageError(f"Slack refused the message: {error}")
    if error in _CHANNEL_ERRORS:
        return ChannelError(f"Slack {what}: {error}")
    return SlackDeliveryError(f"Slack {what} failed: {error or status}")

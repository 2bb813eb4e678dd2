"""A local Slack: incoming webhooks and the Web API calls ssm-warden makes, on 127.0.0.1.

``SlackSink().start()`` serves, on a free loopback port:

* ``POST /services/T…/B…/…``: the incoming webhook (``sink.webhook_url``);
* ``POST /api/chat.postMessage``, ``/api/chat.update``, ``/api/chat.delete``, ``/api/auth.test``,
  ``/api/usergroups.users.list`` with a bot token (``sink.bot_token``; ``sink.api_url`` is the base);
* ``POST /actions/<channel>/<ts>``: a ``response_url`` for interactive messages (``sink.response_url``).

It refuses what Slack refuses (more than 50 blocks, a section text over 3,000 characters, a header
over 150, a fallback text over 40,000, neither text nor blocks, a bad or missing token, an unknown
channel), can be told to answer 429 with ``Retry-After`` or a 5xx for the next N requests
(``rate_limit_next``, ``fail_next``), and records what it accepted (``messages``, with thread and
update history) for assertions. ``render_html(path)`` draws what it received roughly as Slack would.
"""

from __future__ import annotations

import html
import itertools
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_TEXT = 40_000
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BLOCK_ID = 255

_BLOCK_TYPES = {"header", "section", "context", "actions", "divider", "rich_text", "image"}


@dataclass
class SinkMessage:
    """One message as the sink holds it."""

    channel: str
    ts: str
    text: str | None
    blocks: list[dict[str, Any]]
    via: str  # "webhook" or "api"
    thread_ts: str | None = None
    reply_broadcast: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)  # earlier versions, oldest first
    deleted: bool = False

    @property
    def updated(self) -> bool:
        return bool(self.history)

    def all_text(self) -> str:
        """The fallback text and every text in the blocks, for assertions."""
        return "\n".join([self.text or "", *_texts(self.blocks)])


@dataclass(frozen=True)
class SinkRequest:
    path: str
    status: int
    error: str | None


@dataclass(frozen=True)
class _Fault:
    status: int
    retry_after: int | None = None
    stall_seconds: float = 0.0


class SinkRejection(Exception):
    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


def _texts(value: Any) -> list[str]:
    """Every ``text`` string in a block structure."""
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                out.append(item)
            else:
                out.extend(_texts(item))
    elif isinstance(value, list):
        for item in value:
            out.extend(_texts(item))
    return out


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


def validate_blocks(blocks: Any) -> None:
    """Raise ``SinkRejection("invalid_blocks")`` for what Slack would refuse."""
    if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
        raise SinkRejection("invalid_blocks")
    for block in blocks:
        if not isinstance(block, dict) or block.get("type") not in _BLOCK_TYPES:
            raise SinkRejection("invalid_blocks")
        if len(str(block.get("block_id") or "")) > MAX_BLOCK_ID:
            raise SinkRejection("invalid_blocks")
        kind = block["type"]
        if kind == "header":
            text = block.get("text") or {}
            if text.get("type") != "plain_text" or not 0 < len(_text_of(text)) <= MAX_HEADER_TEXT:
                raise SinkRejection("invalid_blocks")
        elif kind == "section":
            text, fields = block.get("text"), block.get("fields") or []
            if text is None and not fields:
                raise SinkRejection("invalid_blocks")
            if text is not None and not 0 < len(_text_of(text)) <= MAX_SECTION_TEXT:
                raise SinkRejection("invalid_blocks")
            if len(fields) > MAX_FIELDS or any(len(_text_of(f)) > MAX_FIELD_TEXT for f in fields):
                raise SinkRejection("invalid_blocks")
        elif kind == "context":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= MAX_CONTEXT_ELEMENTS:
                raise SinkRejection("invalid_blocks")
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= MAX_ACTIONS_ELEMENTS:
                raise SinkRejection("invalid_blocks")
            for element in elements:
                if element.get("type") == "button" and (
                    len(_text_of(element.get("text"))) > MAX_BUTTON_TEXT
                    or len(str(element.get("value") or "")) > MAX_BUTTON_VALUE
                ):
                    raise SinkRejection("invalid_blocks")


def _validate_message(body: dict[str, Any]) -> None:
    text, blocks = body.get("text"), body.get("blocks")
    if isinstance(blocks, str):  # form-encoded Web API calls send blocks as a JSON string
        blocks = json.loads(blocks)
        body["blocks"] = blocks
    if not text and not blocks:
        raise SinkRejection("no_text")
    if text is not None and len(str(text)) > MAX_TEXT:
        raise SinkRejection("msg_too_long")
    if blocks is not None:
        validate_blocks(blocks)


class SlackSink:
    """The local Slack. Use as a context manager or ``start()`` / ``stop()``."""

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-local-sink-token",
        channels: dict[str, str] | None = None,
        usergroups: dict[str, list[str]] | None = None,
    ) -> None:
        self.bot_token = bot_token
        # Channel name (with #) -> id. Ids are accepted as themselves.
        self.channels: dict[str, str] = dict(channels or {"#ssm-warden": "C0SSMWARDEN"})
        self.webhook_channel = "C0WEBHOOK"
        self.usergroups: dict[str, list[str]] = dict(usergroups or {})
        self.messages: list[SinkMessage] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.requests: list[SinkRequest] = []
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.webhook_path = "/services/T0SINK0001/B0SINK0001/sinkwebhooksecret00000000"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SlackSink:
        sink = self

        class Handler(_Handler):
            owner = sink

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-sink", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.ephemerals.clear()
            self.requests.clear()
            self._faults.clear()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """The Web API base, as ``WebClient(base_url=...)`` and the ``SLACK_API_URL`` setting take it."""
        return f"{self.url}/api/"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}{self.webhook_path}"

    def response_url(self, message: SinkMessage) -> str:
        return f"{self.url}/actions/{message.channel}/{message.ts}"

    def add_channel(self, name: str) -> str:
        channel_id = "C" + re.sub(r"[^A-Z0-9]", "", name.upper())[:10] + "X"
        self.channels[name] = channel_id
        return channel_id

    def channel_id(self, name_or_id: str) -> str | None:
        if name_or_id in self.channels:
            return self.channels[name_or_id]
        if name_or_id in self.channels.values() or name_or_id == self.webhook_channel:
            return name_or_id
        return None

    # -- fault injection ---------------------------------------------------------------------

    def rate_limit_next(self, n: int = 1, retry_after: int = 1) -> None:
        """The next ``n`` requests get 429 with ``Retry-After: retry_after``."""
        with self._lock:
            self._faults.extend(_Fault(429, retry_after) for _ in range(n))

    def stall_next(self, n: int = 1, seconds: float = 2.0) -> None:
        """The next ``n`` requests get no answer for ``seconds`` (a client timeout), then a 504."""
        with self._lock:
            self._faults.extend(_Fault(504, None, seconds) for _ in range(n))

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next ``n`` requests get ``status`` (a 5xx)."""
        with self._lock:
            self._faults.extend(_Fault(status, None) for _ in range(n))

    # -- reading what was received -----------------------------------------------------------

    def live(self) -> list[SinkMessage]:
        return [m for m in self.messages if not m.deleted]

    def top_level(self, channel: str | None = None) -> list[SinkMessage]:
        cid = self.channel_id(channel) if channel else None
        return [m for m in self.live() if m.thread_ts is None and (cid is None or m.channel == cid)]

    def replies(self, ts: str) -> list[SinkMessage]:
        return [m for m in self.live() if m.thread_ts == ts]

    def get(self, ts: str) -> SinkMessage:
        for m in self.messages:
            if m.ts == ts:
                return m
        raise KeyError(ts)

    def received(self, path_prefix: str = "") -> list[SinkRequest]:
        return [r for r in self.requests if r.path.startswith(path_prefix)]

    # -- request handling (called from the server's threads) ---------------------------------

    def _next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._seq):06d}"

    def _take_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _log(self, path: str, status: int, error: str | None) -> None:
        with self._lock:
            self.requests.append(SinkRequest(path, status, error))

    def _post(self, body: dict[str, Any], via: str, channel: str) -> SinkMessage:
        _validate_message(body)
        thread_ts = body.get("thread_ts") or None
        with self._lock:
            if thread_ts and not any(m.ts == thread_ts and m.channel == channel for m in self.messages):
                raise SinkRejection("thread_not_found")
            message = SinkMessage(
                channel=channel,
                ts=self._next_ts(),
                text=body.get("text"),
                blocks=list(body.get("blocks") or []),
                via=via,
                thread_ts=str(thread_ts) if thread_ts else None,
                reply_broadcast=bool(body.get("reply_broadcast")),
            )
            self.messages.append(message)
        return message

    def _find(self, channel: str, ts: str) -> SinkMessage:
        for m in self.messages:
            if m.ts == ts and m.channel == channel and not m.deleted:
                return m
        raise SinkRejection("message_not_found")

    def _update(self, message: SinkMessage, body: dict[str, Any]) -> None:
        _validate_message(body)
        with self._lock:
            message.history.append({"text": message.text, "blocks": message.blocks})
            message.text = body.get("text")
            message.blocks = list(body.get("blocks") or [])

    def handle_api(self, method: str, body: dict[str, Any], token: str | None) -> dict[str, Any]:
        if not token:
            raise SinkRejection("not_authed")
        if token != self.bot_token:
            raise SinkRejection("invalid_auth")
        if method == "auth.test":
            return {"ok": True, "url": self.url, "team": "sink", "user": "ssm-warden", "bot_id": "B0SINK"}
        if method == "usergroups.users.list":
            group = str(body.get("usergroup") or "")
            if group not in self.usergroups:
                raise SinkRejection("no_such_subteam")
            return {"ok": True, "users": self.usergroups[group]}
        channel = self.channel_id(str(body.get("channel") or ""))
        if channel is None:
            raise SinkRejection("channel_not_found")
        if method == "chat.postMessage":
            message = self._post(body, "api", channel)
            return {"ok": True, "channel": channel, "ts": message.ts, "message": {"text": message.text}}
        if method == "chat.update":
            if not str(body.get("channel", "")).startswith(("C", "G", "D")):
                raise SinkRejection("channel_not_found")  # chat.update needs the id, not a name
            message = self._find(channel, str(body.get("ts") or ""))
            self._update(message, body)
            return {"ok": True, "channel": channel, "ts": message.ts}
        if method == "chat.delete":
            message = self._find(channel, str(body.get("ts") or ""))
            with self._lock:
                message.deleted = True
            return {"ok": True, "channel": channel, "ts": message.ts}
        raise SinkRejection("unknown_method", 404)

    def handle_webhook(self, body: dict[str, Any]) -> None:
        self._post({k: v for k, v in body.items() if k != "thread_ts"}, "webhook", self.webhook_channel)

    def handle_response_url(self, channel: str, ts: str, body: dict[str, Any]) -> None:
        if body.get("response_type") == "ephemeral" and not body.get("replace_original"):
            _validate_message(body)
            with self._lock:
                self.ephemerals.append({"channel": channel, "ts": ts, "text": body.get("text")})
            return
        message = self._find(channel, ts)
        if body.get("delete_original"):
            with self._lock:
                message.deleted = True
            return
        self._update(message, body)

    # -- rendering ---------------------------------------------------------------------------

    def render_html(self, path: str | Path, title: str = "ssm-warden: local Slack") -> Path:
        """Write the received messages as an HTML page (threads under their roots)."""
        return render_html(self.messages, path, title=title, channels=self.channels)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (a timeout test) leaves a broken pipe behind: not worth a traceback.
        return


class _Handler(BaseHTTPRequestHandler):
    owner: SlackSink

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _reply(
        self, status: int, body: str, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _json(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._reply(status, json.dumps(payload), "application/json; charset=utf-8", headers)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        if "json" in (self.headers.get("Content-Type") or "") or raw.startswith("{"):
            data = json.loads(raw or "{}")
            return data if isinstance(data, dict) else {}
        return {k: v[0] for k, v in parse_qs(raw).items()}

    def do_GET(self) -> None:
        # Some Web API methods (usergroups.users.list) are GETs with query parameters.
        self._handle(query_only=True)

    def do_POST(self) -> None:
        self._handle(query_only=False)

    def _handle(self, *, query_only: bool) -> None:
        sink = self.owner
        path, _, query = self.path.partition("?")
        is_api = path.startswith("/api/")
        fault = sink._take_fault()
        if fault is not None:
            sink._log(path, fault.status, "injected")
            if fault.stall_seconds:
                time.sleep(fault.stall_seconds)
            if fault.status == 429:
                headers = {"Retry-After": str(fault.retry_after or 1)}
                if is_api:
                    self._json(429, {"ok": False, "error": "ratelimited"}, headers)
                else:
                    self._reply(429, "rate_limited", "text/plain", headers)
            else:
                self._reply(fault.status, "internal_error", "text/plain")
            return
        try:
            body = {k: v[0] for k, v in parse_qs(query).items()} if query_only else self._body()
        except (ValueError, UnicodeDecodeError):
            sink._log(path, 400, "invalid_json")
            self._reply(400, "invalid_payload", "text/plain")
            return
        try:
            if is_api:
                auth = self.headers.get("Authorization") or ""
                token = auth[7:] if auth.startswith("Bearer ") else (body.get("token") or None)
                result = sink.handle_api(path[len("/api/") :], body, token)
                sink._log(path, 200, None)
                self._json(200, result)
            elif path == sink.webhook_path:
                sink.handle_webhook(body)
                sink._log(path, 200, None)
                self._reply(200, "ok", "text/plain")
            elif path.startswith("/actions/"):
                _, _, channel, ts = path.split("/", 3)
                sink.handle_response_url(channel, ts, body)
                sink._log(path, 200, None)
                self._reply(200, "ok", "text/plain")
            else:
                sink._log(path, 404, "no_service")
                self._reply(404, "no_service", "text/plain")
        except SinkRejection as rejection:
            sink._log(path, rejection.status if is_api else 400, rejection.error)
            if is_api:
                self._json(rejection.status, {"ok": False, "error": rejection.error})
            else:
                self._reply(
                    400 if rejection.status == 200 else rejection.status, rejection.error, "text/plain"
                )


# ---------------------------------------------------------------------------------------------------
# HTML rendering of mrkdwn and blocks

_EMOJI = {
    "red_circle": "\U0001f534",
    "large_orange_circle": "\U0001f7e0",
    "large_yellow_circle": "\U0001f7e1",
    "large_blue_circle": "\U0001f535",
    "large_green_circle": "\U0001f7e2",
    "white_circle": "\u26aa",
    "octagonal_sign": "\U0001f6d1",
    "eyes": "\U0001f440",
    "bell": "\U0001f514",
    "hourglass_flowing_sand": "\u23f3",
    "exclamation": "\u2757",
    "warning": "\u26a0\ufe0f",
    "information_source": "\u2139\ufe0f",
    "repeat": "\U0001f501",
    "bar_chart": "\U0001f4ca",
    "desktop_computer": "\U0001f5a5\ufe0f",
    "white_check_mark": "\u2705",
    "grey_question": "\u2754",
}

_ENTITY = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def _slack_unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _emoji(text: str) -> str:
    return re.sub(r":([a-z0-9_+-]+):", lambda m: _EMOJI.get(m.group(1), m.group(0)), text)


def _inline(text: str) -> str:
    """One non-code stretch of mrkdwn as HTML. Input is Slack-escaped; output is HTML-escaped."""
    out: list[str] = []
    pos = 0
    for m in _ENTITY.finditer(text):
        out.append(_format(text[pos : m.start()]))
        target, label = m.group(1), m.group(2)
        if target.startswith(("http://", "https://")):
            href = html.escape(_slack_unescape(target), quote=True)
            out.append(f'<a href="{href}">{_format(label or target)}</a>')
        elif target.startswith("@"):
            out.append(f'<span class="mention">@{html.escape(target[1:])}</span>')
        elif target.startswith("#"):
            out.append(f'<span class="mention">#{html.escape(target[1:])}</span>')
        elif target.startswith("!"):
            out.append(f'<span class="mention">@{html.escape(target[1:])}</span>')
        else:
            out.append(_format(m.group(0)))
        pos = m.end()
    out.append(_format(text[pos:]))
    return "".join(out)


def _format(text: str) -> str:
    escaped = html.escape(_slack_unescape(text), quote=True)
    parts = re.split(r"(`[^`\n]+`)", escaped)
    rendered = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            rendered.append(f"<code>{part[1:-1]}</code>")
            continue
        styled = re.sub(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])", r"<b>\1</b>", part)
        styled = re.sub(r"(?<![\w_])_([^_\n]+)_(?![\w_])", r"<i>\1</i>", styled)
        styled = re.sub(r"(?<![\w~])~([^~\n]+)~(?![\w~])", r"<s>\1</s>", styled)
        rendered.append(_emoji(styled))
    return "".join(rendered).replace("\n", "<br>")


def mrkdwn_to_html(text: str) -> str:
    pieces = re.split(r"(```.*?```)", text, flags=re.DOTALL)
    out = []
    for piece in pieces:
        if piece.startswith("```") and piece.endswith("```") and len(piece) >= 6:
            out.append(f"<pre>{html.escape(_slack_unescape(piece[3:-3]), quote=True)}</pre>")
        else:
            out.append(_inline(piece))
    return "".join(out)


def _text_html(obj: Any) -> str:
    if not isinstance(obj, dict):
        return html.escape(str(obj or ""))
    if obj.get("type") == "plain_text":
        return _emoji(html.escape(str(obj.get("text") or "")))
    return mrkdwn_to_html(str(obj.get("text") or ""))


def _block_html(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "header":
        return f"<h3>{_text_html(block.get('text'))}</h3>"
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(f"<div class='text'>{_text_html(block['text'])}</div>")
        if block.get("fields"):
            cells = "".join(f"<div>{_text_html(f)}</div>" for f in block["fields"])
            parts.append(f"<div class='fields'>{cells}</div>")
        return "<div class='section'>" + "".join(parts) + "</div>"
    if kind == "context":
        items = " &middot; ".join(_text_html(e) for e in block.get("elements") or [])
        return f"<div class='context'>{items}</div>"
    if kind == "actions":
        buttons = "".join(
            f"<button class='{html.escape(str(e.get('style') or ''))}' disabled>"
            f"{_text_html(e.get('text'))}</button>"
            for e in block.get("elements") or []
        )
        return f"<div class='actions'>{buttons}</div>"
    if kind == "divider":
        return "<hr>"
    return f"<div class='unknown'>[{html.escape(str(kind))} block]</div>"


def _message_html(message: SinkMessage, replies: list[SinkMessage]) -> str:
    body = (
        "".join(_block_html(b) for b in message.blocks)
        if message.blocks
        else f"<div class='text'>{mrkdwn_to_html(message.text or '')}</div>"
    )
    meta = f"{html.escape(message.via)} &middot; ts {html.escape(message.ts)}"
    if message.updated:
        meta += f" &middot; edited {len(message.history)}&times;"
    if message.reply_broadcast:
        meta += " &middot; also sent to the channel"
    thread = ""
    if replies:
        thread = "<div class='thread'>" + "".join(_message_html(r, []) for r in replies) + "</div>"
    return f"<div class='message'><div class='meta'>{meta}</div>{body}{thread}</div>"


_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;background:#f8f8f8;margin:2em;
color:#1d1c1d}
.channel{max-width:860px;margin:0 auto 2em}
.message{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin:12px 0}
.thread{border-left:3px solid #ccc;margin:12px 0 0 8px;padding-left:12px}
.meta{color:#888;font-size:12px;margin-bottom:6px}
h3{margin:4px 0 8px}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:8px;margin:8px 0}
.context{color:#616061;font-size:13px;margin:6px 0}
pre{background:#f4f4f4;border:1px solid #e0e0e0;border-radius:4px;padding:8px;white-space:pre-wrap;
word-break:break-all}
code{background:#f4f4f4;border:1px solid #e0e0e0;border-radius:3px;padding:0 3px;color:#c01343}
button{margin-right:8px;padding:4px 12px;border-radius:4px;border:1px solid #bbb;background:#fff}
button.danger{color:#e01e5a;border-color:#e01e5a}button.primary{background:#007a5a;color:#fff}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
"""


def render_html(
    messages: list[SinkMessage],
    path: str | Path,
    *,
    title: str = "ssm-warden: local Slack",
    channels: dict[str, str] | None = None,
) -> Path:
    names = {v: k for k, v in (channels or {}).items()}
    live = [m for m in messages if not m.deleted]
    by_channel: dict[str, list[SinkMessage]] = {}
    for m in live:
        if m.thread_ts is None:
            by_channel.setdefault(m.channel, []).append(m)
    sections = []
    for channel, roots in by_channel.items():
        label = names.get(channel, "incoming webhook" if channel == "C0WEBHOOK" else channel)
        cards = "".join(_message_html(m, [r for r in live if r.thread_ts == m.ts]) for m in roots)
        sections.append(f"<div class='channel'><h2>{html.escape(label)}</h2>{cards}</div>")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>"
    )
    target = Path(path)
    target.write_text(page, encoding="utf-8")
    return target


def main() -> None:
    """Run the sink on its own (``python -m ssm_warden_local.slack_sink``) until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description="a local Slack for ssm-warden")
    parser.add_argument("--html", help="write what was received to this HTML file on exit")
    args = parser.parse_args()
    sink = SlackSink().start()
    print(f"Slack API:   {sink.api_url}  (bot token {sink.bot_token})", flush=True)
    print(f"webhook URL: {sink.webhook_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        if args.html:
            print(f"wrote {sink.render_html(args.html)}")
        sink.stop()


if __name__ == "__main__":
    main()

"""Faults and call counts for a boto3 client, at the HTTP level (botocore's event hooks).

moto has no switch that makes DynamoDB throttle, or a conditional write fail, at a chosen moment.
``ClientFaults`` answers the next N matching HTTP requests of one client with an error response
before they leave the process (a ``before-send`` handler returning an ``AWSResponse``), so the
client parses it, retries it with backoff and finally raises exactly as it would for AWS's own
``ProvisionedThroughputExceededException`` or ``ConditionalCheckFailedException``. Each attempt is
one request: a call retried twice consumes two injected faults.

``CallCounter`` counts the API calls a client makes, by service and operation (``before-call``: one
per call, whatever its retries), and the HTTP attempts (``before-send``).
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

# The JSON protocol's error shape (DynamoDB, SSM, SQS's JSON protocol): ``__type`` names the code.
_STATUS = {
    "ProvisionedThroughputExceededException": 400,
    "ThrottlingException": 400,
    "RequestLimitExceeded": 400,
    "ConditionalCheckFailedException": 400,
    "TransactionConflictException": 400,
    "InternalServerError": 500,
    "ServiceUnavailable": 503,
}


class _Body:
    """The ``raw`` of an ``AWSResponse``: something with ``stream()``."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def error_response(url: str, code: str, message: str | None = None) -> Any:
    """An HTTP response carrying AWS's JSON error ``code``, as botocore would receive it."""
    from botocore.awsrequest import AWSResponse

    body = json.dumps(
        {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": message or f"injected: {code}"}
    ).encode()
    headers = {"Content-Type": "application/x-amz-json-1.0", "x-amzn-RequestId": "injected-fault"}
    return AWSResponse(url, _STATUS.get(code, 400), headers, _Body(body))


@dataclass
class _Rule:
    operation: str
    codes: deque[str]
    when: Callable[[dict[str, Any]], bool] | None


@dataclass
class ClientFaults:
    """Error responses for the next requests of one client's operations (``inject``).

    ``when`` filters on the request's JSON body (``TableName``, ``UpdateExpression``, ...), so that a
    fault can hit one table or one kind of write. ``injected`` counts what was answered, by operation.
    """

    client: Any
    injected: Counter[str] = field(default_factory=Counter)
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        service = self.client.meta.service_model.service_id.hyphenize()
        self.client.meta.events.register(f"before-send.{service}", self._before_send)

    def inject(
        self, operation: str, codes: list[str], when: Callable[[dict[str, Any]], bool] | None = None
    ) -> None:
        """The next ``len(codes)`` requests of ``operation`` (matching ``when``) get these errors."""
        with self._lock:
            self._rules.append(_Rule(operation, deque(codes), when))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(len(rule.codes) for rule in self._rules)

    def remove(self) -> None:
        service = self.client.meta.service_model.service_id.hyphenize()
        self.client.meta.events.unregister(f"before-send.{service}", self._before_send)

    def _before_send(self, request: Any, **kwargs: Any) -> Any:
        operation = str(kwargs.get("event_name", "")).rsplit(".", 1)[-1]
        body: dict[str, Any] | None = None
        with self._lock:
            for rule in self._rules:
                if rule.operation != operation or not rule.codes:
                    continue
                if rule.when is not None:
                    if body is None:
                        body = _json_body(request)
                    if not rule.when(body):
                        continue
                code = rule.codes.popleft()
                self.injected[operation] += 1
                return error_response(request.url, code)
        return None


def _json_body(request: Any) -> dict[str, Any]:
    raw = request.body
    if isinstance(raw, bytes | bytearray):
        raw = raw.decode("utf-8", "replace")
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


@dataclass
class CallCounter:
    """API calls (``calls``) and HTTP attempts (``attempts``) by ``(service, operation)``."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    attempts: Counter[tuple[str, str]] = field(default_factory=Counter)
    _clients: list[Any] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def watch(self, client: Any) -> Any:
        """Count ``client``'s calls from now on (returns the client)."""
        events = client.meta.events
        events.register("before-call", self._before_call)
        events.register("before-send", self._before_send)
        self._clients.append(client)
        return client

    def stop(self) -> None:
        for client in self._clients:
            client.meta.events.unregister("before-call", self._before_call)
            client.meta.events.unregister("before-send", self._before_send)
        self._clients.clear()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts.clear()

    def snapshot(self) -> Counter[tuple[str, str]]:
        with self._lock:
            return Counter(self.calls)

    def by_service(self, service: str) -> dict[str, int]:
        with self._lock:
            return {op: n for (svc, op), n in sorted(self.calls.items()) if svc == service}

    def _before_call(self, model: Any, **_: Any) -> None:
        key = (model.service_model.service_id.hyphenize(), model.name)
        with self._lock:
            self.calls[key] += 1

    def _before_send(self, **kwargs: Any) -> None:
        _, service, operation = str(kwargs.get("event_name", "before-send.?.?")).split(".", 2)
        with self._lock:
            self.attempts[(service, operation)] += 1

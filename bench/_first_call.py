"""One new container's first invocations of one function, timed (run in a fresh interpreter).

``python -m bench._first_call <function> <events.json> <result.json>``. Only the standard library is
imported before the clock starts, so what is timed is what a Lambda container pays:

1. ``import boto3`` (the runtime's SDK; timed on its own so that the SDK's share can be told apart);
2. ``import functions.<function>.app`` (what Lambda's init phase runs);
3. the first invocation: every import it makes, Powertools' logger and metrics, the clients it
   creates (botocore loading their service models; timed on their own), the rules it compiles, the
   settings and policy it reads once per container, and its calls to AWS (the local moto server);
4. a second invocation of the same kind of event (new ids): what every warm invocation pays.

``cold_start_ms`` = 1 + 2 + 3 - 4: what the container pays once. ``sdk_ms`` = 1 + the client creation
inside 3. ``first_call_import_ms`` = ``cold_start_ms`` - ``sdk_ms``: what ssm-warden itself adds to a
cold start (its modules, pydantic, Powertools, slack_sdk, the detector and its rule packs, one-time
reads such as the policy and the Slack secret).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-east-1"


class Context:
    """The attributes of Lambda's context object the handlers and Powertools read."""

    def __init__(self, function_name: str, request_id: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.aws_request_id = request_id
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "2026/12/01/[$LATEST]0000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def run(function: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    import boto3.session

    sdk_import_ms = _ms(start)
    clients: list[str] = []
    client_ms = 0.0
    create = boto3.session.Session.client

    def timed_client(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal client_ms
        began = time.perf_counter()
        try:
            return create(self, *args, **kwargs)
        finally:
            client_ms += _ms(began)
            clients.append(str(args[0] if args else kwargs.get("service_name")))

    boto3.session.Session.client = timed_client

    start = time.perf_counter()
    app = __import__(f"functions.{function}.app", fromlist=["lambda_handler"])
    module_import_ms = _ms(start)
    modules_after_import = len(sys.modules)
    calls: list[float] = []
    results: list[Any] = []
    client_ms_first = 0.0
    for n, event in enumerate(events):
        context = Context(f"ssm-warden-{function}", f"00000000-0000-0000-0000-{n:012d}")
        start = time.perf_counter()
        # The functions' log lines (and EMF metrics) go to stdout, as in Lambda; not to this report.
        with contextlib.redirect_stdout(io.StringIO()):
            results.append(app.lambda_handler(event, context))
        calls.append(_ms(start))
        if n == 0:
            client_ms_first = client_ms
    first, warm = calls[0], min(calls[1:]) if len(calls) > 1 else 0.0
    cold = sdk_import_ms + module_import_ms + first - warm
    sdk = sdk_import_ms + client_ms_first
    return {
        "sdk_import_ms": round(sdk_import_ms, 1),
        "module_import_ms": round(module_import_ms, 1),
        "first_call_ms": round(first, 1),
        "warm_call_ms": round(warm, 1),
        "client_ms": round(client_ms_first, 1),
        "clients": sorted(set(clients)),
        "cold_start_ms": round(cold, 1),
        "sdk_ms": round(sdk, 1),
        "first_call_import_ms": round(cold - sdk, 1),
        "modules_at_import": modules_after_import,
        "modules_after_first_call": len(sys.modules),
        "results": results,
    }


def main(argv: list[str]) -> None:
    function, events_path, result_path = argv
    with open(events_path) as f:
        events = json.load(f)
    report = run(function, events)
    with open(result_path, "w") as f:
        json.dump(report, f, default=str)


if __name__ == "__main__":
    main(sys.argv[1:])

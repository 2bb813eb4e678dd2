"""One new container's first invocations of one function, timed (run in a fresh interpreter).

``python -m bench._first_call <function> <events.json> <result.json>``. Only the standard library is
imported before the clock starts, so what is timed is what a Lambda container pays:

1. ``import boto3`` (the runtime's SDK; timed on its own so that the SDK's share can be told apart);
2. ``import functions.<function>.app`` (what Lambda's init phase runs);
3. the first invocation: every import it makes, Powertools' logger and metrics, the clients it
   creates (botocore loading their service models; timed on their own), the rules it compiles, the
   settings and policy it reads once per container, and its calls to AWS (the local moto server);
   the boto3 session and clients it creates are timed on their own, as the SDK's share;
4. a second invocation of the same kind of event (new ids): what every warm invocation pays.

``cold_start_ms`` = 1 + 2 + 3 - 4: what the container pays once. ``sdk_ms`` = 1 + the session and client
creation inside 3 + the first invocation's extra time inside botocore's ``_make_api_call`` over a warm one
(botocore's per-operation first use). ``first_call_import_ms`` = ``cold_start_ms`` - ``sdk_ms``: what
ssm-warden itself adds to a cold start (its modules, pydantic, Powertools, slack_sdk, the detector
and its rule packs, one-time reads such as the policy and the Slack secret).
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
from typing import Any

# Libraries and parts worth knowing whether a path loads them (reported, not timed).
NOTABLE = (
    "slack_sdk",
    "re2",
    "tree_sitter",
    "yaml",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.parser",
    "ssm_warden.detect.rules",
    "ssm_warden.detect.detector",
    "ssm_warden.detect.windows",
    "ssm_warden.slack.messages",
    "ssm_warden.slack.interactions",
    "ssm_warden.transcript",
)
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


class Clock:
    """Wall and CPU time (this process's) since ``start()``, in ms."""

    def start(self) -> Clock:
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def read(self) -> tuple[float, float]:
        return (time.perf_counter() - self.wall) * 1000, (time.process_time() - self.cpu) * 1000


class Timed:
    """Wraps a method so that the wall and CPU time spent in it add up (not re-entrant)."""

    def __init__(self, owner: type, name: str) -> None:
        self.wall = self.cpu = 0.0
        self.names: list[str] = []
        real = getattr(owner, name)

        def timed(this: Any, *args: Any, **kwargs: Any) -> Any:
            began = Clock().start()
            try:
                return real(this, *args, **kwargs)
            finally:
                wall, cpu = began.read()
                self.wall += wall
                self.cpu += cpu
                self.names.append(str(args[0] if args else kwargs.get("service_name", "")))

        setattr(owner, name, timed)

    def read(self) -> tuple[float, float]:
        return self.wall, self.cpu


def run(function: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    clock = Clock().start()
    import boto3.session
    import botocore.client

    sdk_import, sdk_import_cpu = clock.read()
    # The SDK's own one-time work: creating clients (service models, endpoint rules) and, on each
    # operation's first call, botocore's lazy set-up (shapes, serializers, endpoint resolution).
    clients = Timed(boto3.session.Session, "client")
    # A boto3 session (botocore's session, its loader and event hooks) is made once per container,
    # before its first client: the SDK's work too, counted with client creation.
    sessions = Timed(boto3.session.Session, "__init__")
    api_calls = Timed(botocore.client.BaseClient, "_make_api_call")

    clock.start()
    app = __import__(f"functions.{function}.app", fromlist=["lambda_handler"])
    module_import, module_import_cpu = clock.read()
    modules_after_import = len(sys.modules)
    calls: list[tuple[float, float]] = []
    api: list[tuple[float, float]] = []
    results: list[Any] = []
    client_first = (0.0, 0.0)
    for n, event in enumerate(events):
        context = Context(f"ssm-warden-{function}", f"00000000-0000-0000-0000-{n:012d}")
        api_before = api_calls.read()
        clock.start()
        # The functions' log lines (and EMF metrics) go to stdout, as in Lambda; not to this report.
        with contextlib.redirect_stdout(io.StringIO()):
            results.append(app.lambda_handler(event, context))
        calls.append(clock.read())
        api.append((api_calls.wall - api_before[0], api_calls.cpu - api_before[1]))
        if n == 0:
            client_first = (clients.wall + sessions.wall, clients.cpu + sessions.cpu)
    warm_calls, warm_api = calls[1:] or [(0.0, 0.0)], api[1:] or [(0.0, 0.0)]
    first, first_cpu = calls[0]
    warm, warm_cpu = min(c[0] for c in warm_calls), min(c[1] for c in warm_calls)
    api_once = api[0][0] - min(c[0] for c in warm_api)
    api_once_cpu = api[0][1] - min(c[1] for c in warm_api)
    cold = sdk_import + module_import + first - warm
    cold_cpu = sdk_import_cpu + module_import_cpu + first_cpu - warm_cpu
    sdk = sdk_import + client_first[0] + api_once
    sdk_cpu = sdk_import_cpu + client_first[1] + api_once_cpu
    return {
        "sdk_import_ms": round(sdk_import, 1),
        "module_import_ms": round(module_import, 1),
        "first_call_ms": round(first, 1),
        "warm_call_ms": round(warm, 1),
        "client_ms": round(client_first[0], 1),
        # In AWS calls, first invocation minus a warm one: botocore's first-use work, and (wall
        # only) the local AWS answering its first requests more slowly.
        "api_first_use_ms": round(api_once, 1),
        "clients": sorted(set(clients.names)),
        "cold_start_ms": round(cold, 1),
        "sdk_ms": round(sdk, 1),
        "first_call_import_ms": round(cold - sdk, 1),
        # The same in this process's CPU time: steadier on a shared machine, and free of the time
        # spent waiting for the local AWS.
        "cold_start_cpu_ms": round(cold_cpu, 1),
        "sdk_import_cpu_ms": round(sdk_import_cpu, 1),
        "client_cpu_ms": round(client_first[1], 1),
        "api_first_use_cpu_ms": round(api_once_cpu, 1),
        "sdk_cpu_ms": round(sdk_cpu, 1),
        "first_call_import_cpu_ms": round(cold_cpu - sdk_cpu, 1),
        "modules_at_import": modules_after_import,
        "modules_after_first_call": len(sys.modules),
        "notable_modules_loaded": [m for m in NOTABLE if m in sys.modules],
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

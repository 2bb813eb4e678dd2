"""Carrying out the morning's steps in the local world: hosts in EC2, sessions in Session Manager,
CloudTrail events for the calls people make, terminal output in CloudWatch Logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ssm_warden_local.demo.harness import Person, Pipeline, cloudtrail_event
from ssm_warden_local.demo.scenarios import Denied, Deployment, Exit, Forge, Output, Start, Step
from ssm_warden_local.lambda_runtime import ACCOUNT, REGION

DEFAULT_DOCUMENT = "SSM-SessionManagerRunShell"


@dataclass
class World:
    """What the steps made: instance ids by host name, and per scenario its session (or, for a
    denied attempt, its CloudTrail event id), person and host."""

    pipeline: Pipeline
    hosts: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)
    denied_events: dict[str, str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    host_of: dict[str, str] = field(default_factory=dict)

    def create_hosts(self, hosts: dict[str, dict[str, str]]) -> None:
        ec2 = _client("ec2")
        for name, tags in hosts.items():
            instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
            instance_id = str(instance["InstanceId"])
            ec2.create_tags(Resources=[instance_id], Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
            self.hosts[name] = instance_id

    def subject(self, scenario: str) -> str:
        """What messages about the scenario mention: its session id, else the person's ARN."""
        return self.sessions.get(scenario) or self.people[scenario].arn

    # -- steps ------------------------------------------------------------------------------
    def do(self, step: Start | Denied | Output | Forge | Exit | Deployment) -> None:
        if isinstance(step, Start):
            self.start(step)
        elif isinstance(step, Denied):
            self.denied(step)
        elif isinstance(step, Output):
            self.output(step)
        elif isinstance(step, Forge):
            self.forge(step)
        elif isinstance(step, Exit):
            self.exit(step)
        elif isinstance(step, Deployment):
            self.deploy(step)
        else:  # a step that carries itself out (demo/beyond_scenarios.py)
            step.run(self)

    def start(self, step: Start) -> None:
        target = self.hosts[step.host]
        call: dict[str, Any] = {"Target": target}
        request: dict[str, Any] = {"target": target}
        if step.document:
            call["DocumentName"] = request["documentName"] = step.document
        if step.parameters:
            call["Parameters"] = request["parameters"] = step.parameters
        if step.reason:
            call["Reason"] = request["reason"] = step.reason
        response = _client("ssm").start_session(**call)
        session_id = str(response["SessionId"])
        self.sessions[step.scenario] = session_id
        self.people[step.scenario] = step.person
        self.host_of[step.scenario] = step.host
        what = step.document or "a shell"
        extra = f" {_parameters(step.parameters)}" if step.parameters else ""
        because = f', reason "{step.reason}"' if step.reason else ", no reason given"
        self.pipeline.note(
            "world", f"{step.person.name} starts {what}{extra} on {step.host}{because}: {session_id}"
        )
        self.pipeline.put_event(
            cloudtrail_event(
                person=step.person,
                event_name="StartSession",
                at=self.pipeline.clock.now,
                request=request,
                response={
                    "sessionId": session_id,
                    "tokenValue": "Value hidden due to security reasons.",
                    "streamUrl": str(response["StreamUrl"]),
                },
            )
        )

    def denied(self, step: Denied) -> None:
        target = self.hosts[step.host]
        self.people[step.scenario] = step.person
        self.host_of[step.scenario] = step.host
        event = cloudtrail_event(
            person=step.person,
            event_name="StartSession",
            at=self.pipeline.clock.now,
            request={"target": target},
            response=None,
            error=(
                "AccessDenied",
                f"User: {step.person.arn} is not authorized to perform: ssm:StartSession on resource: "
                f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{target}",
            ),
        )
        self.denied_events[step.scenario] = str(event["detail"]["eventID"])
        self.pipeline.note("world", f"{step.person.name} tries a shell on {step.host}: AccessDenied (IAM)")
        self.pipeline.put_event(event)

    def output(self, step: Output) -> None:
        session_id = self.sessions[step.scenario]
        for line in step.lines:
            self.pipeline.note("terminal", f"{self.host_of[step.scenario]} | {line}")
        self.pipeline.write_output(
            session_id,
            list(step.lines),
            target=self.hosts[self.host_of[step.scenario]],
            principal_arn=self.people[step.scenario].arn,
        )

    def forge(self, step: Forge) -> None:
        victim = self.sessions[step.scenario]
        for line in step.lines:
            self.pipeline.note("forger", f"{step.host} ({step.person.name}) -> stream {victim} | {line}")
        self.pipeline.write_output(
            victim, list(step.lines), target=self.hosts[step.host], principal_arn=step.person.arn
        )

    def exit(self, step: Exit) -> None:
        from ssm_warden_local import moto_sessions

        session_id = self.sessions[step.scenario]
        moto_sessions.end_session_from_host(ACCOUNT, REGION, session_id, when=self.pipeline.clock.now)
        self.pipeline.note("aws", f"{session_id} ends on the host (no API call, no CloudTrail event)")

    def deploy(self, step: Deployment) -> None:
        value = "true" if step.force_monitor else "false"
        self.pipeline.stack.setenv(FORCE_MONITOR_MODE=value)
        self.pipeline.note("deploy", f"ssm-warden redeployed with ForceMonitorMode={value}")


def play(world: World, steps: list[Step], end: str) -> None:
    """Each step at its time (the sweeper running on every minute in between), then on to ``end``."""
    clock = world.pipeline.clock
    for step in steps:
        world.pipeline.advance_to(clock.start + timedelta(seconds=step.seconds))
        world.do(step.do)
    minutes, seconds = end.split(":")
    world.pipeline.advance_to(clock.start + timedelta(minutes=int(minutes), seconds=int(seconds)))


def _parameters(parameters: dict[str, list[str]]) -> str:
    return "(" + ", ".join(f"{k}={','.join(v)}" for k, v in parameters.items()) + ")"


def _client(service: str) -> Any:
    from ssm_warden.clients import aws_client

    return aws_client(service)

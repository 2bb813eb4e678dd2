"""Tamper rules: every call that blinds session logging or ssm-warden raises a signal of the right
severity; ssm-warden's own deployment (CloudFormation on its own resources) raises nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ssm_warden.enforce.own_resources import WardenResources, function_name, parameter_name
from ssm_warden.enforce.tamper import describe_tamper, is_tamper_call
from ssm_warden.models.cloudtrail import CloudTrailDetail
from ssm_warden.models.findings import Severity

GROUP = "/aws/ssm/sessions"
MONITOR = "ssm-warden-CommandMonitorFunction-AbC123"
MONITOR_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{MONITOR}"
SWEEPER = "ssm-warden-SessionSweeperFunction-XyZ789"
RESOURCES = WardenResources(
    session_log_group=GROUP,
    functions=frozenset({MONITOR, SWEEPER, "ssm-warden-SessionEventsFunction-Q1"}),
    command_monitor=MONITOR,
    rules=frozenset({"ssm-warden-session-calls", "ssm-warden-tamper-calls", "ssm-warden-tamper-watch"}),
    schedules=frozenset({"ssm-warden-SessionSweeperFunctionEveryMinute-R2"}),
    log_filter="ssm-warden-CommandMonitorFunctionSessionLogs-F3",
    policy_parameter="/governance/warden-policy",
    stack="ssm-warden",
)
EVE = {"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/eve", "accountId": "123456789012"}
EVE_IDENTITY = CloudTrailDetail.model_validate(
    {
        "userIdentity": EVE,
        "eventTime": "2026-11-28T09:00:00Z",
        "eventSource": "x",
        "eventName": "x",
        "awsRegion": "us-east-1",
        "eventID": "x",
    }
).user_identity
CLOUDFORMATION = {
    "type": "AssumedRole",
    "arn": "arn:aws:sts::123456789012:assumed-role/Deployer/AWSCloudFormation",
    "invokedBy": "cloudformation.amazonaws.com",
}


def call(
    source: str,
    name: str,
    params: dict[str, Any] | None = None,
    *,
    identity: dict[str, Any] | None = None,
    source_ip: str = "203.0.113.7",
    error: str | None = None,
) -> CloudTrailDetail:
    return CloudTrailDetail.model_validate(
        {
            "userIdentity": identity or EVE,
            "eventTime": "2026-11-28T09:00:00Z",
            "eventSource": source,
            "eventName": name,
            "awsRegion": "us-east-1",
            "sourceIPAddress": source_ip,
            "eventID": "e-1",
            "requestParameters": params,
            "errorCode": error,
        }
    )


def severity(detail: CloudTrailDetail, resources: WardenResources = RESOURCES) -> Severity | None:
    found = describe_tamper(detail, resources)
    return None if found is None else found[2]


def preferences(**inputs: object) -> str:
    base: dict[str, object] = {
        "s3BucketName": "",
        "cloudWatchLogGroupName": GROUP,
        "cloudWatchStreamingEnabled": True,
        "idleSessionTimeout": "20",
    }
    base.update(inputs)
    return json.dumps({"schemaVersion": "1.0", "sessionType": "Standard_Stream", "inputs": base})


SSM = "ssm.amazonaws.com"
LOGS = "logs.amazonaws.com"
TRAIL = "cloudtrail.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"
EVENTS = "events.amazonaws.com"
SCHEDULER = "scheduler.amazonaws.com"
PREFS = "SSM-SessionManagerRunShell"
YAML_STREAMING_OFF = """
schemaVersion: '1.0'
description: Session Manager preferences
sessionType: Standard_Stream
inputs:
  cloudWatchLogGroupName: /aws/ssm/sessions
  cloudWatchStreamingEnabled: false
"""


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        # Session Manager preferences: streaming off in every shape, redirected, or deleted
        (
            call(
                SSM,
                "UpdateDocument",
                {"name": PREFS, "content": preferences(cloudWatchStreamingEnabled=False)},
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                SSM,
                "UpdateDocument",
                {"name": PREFS, "content": preferences(cloudWatchStreamingEnabled="false")},
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                SSM,
                "UpdateDocument",
                {"name": PREFS, "content": YAML_STREAMING_OFF, "documentFormat": "YAML"},
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                SSM,
                "UpdateDocument",
                {"name": PREFS, "content": preferences(cloudWatchLogGroupName="/tmp/elsewhere")},
            ),
            Severity.CRITICAL,
        ),
        (
            call(SSM, "UpdateDocument", {"name": PREFS, "content": preferences(cloudWatchLogGroupName="")}),
            Severity.CRITICAL,
        ),
        (
            call(
                SSM,
                "UpdateDocument",
                {
                    "name": PREFS,
                    "content": preferences(shellProfile={"linux": "stty -echo; exec >/dev/null 2>&1"}),
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(SSM, "UpdateDocument", {"name": PREFS, "content": preferences(idleSessionTimeout="30")}),
            Severity.HIGH,
        ),
        (call(SSM, "DeleteDocument", {"name": PREFS}), Severity.CRITICAL),
        (
            call(
                SSM,
                "CreateDocument",
                {
                    "name": PREFS,
                    "documentType": "Session",
                    "content": preferences(cloudWatchStreamingEnabled=False),
                },
            ),
            Severity.CRITICAL,
        ),
        # A Session document that gives a shell without logging: a way around the watch
        (
            call(
                SSM,
                "CreateDocument",
                {
                    "name": "QuietShell",
                    "documentType": "Session",
                    "content": preferences(cloudWatchLogGroupName=""),
                },
            ),
            Severity.HIGH,
        ),
        # The session-log group's subscription: replaced, narrowed, redirected, or another one added
        (
            call(
                LOGS,
                "PutSubscriptionFilter",
                {
                    "logGroupName": GROUP,
                    "filterName": RESOURCES.log_filter,
                    "filterPattern": "",
                    "destinationArn": "arn:aws:lambda:us-east-1:123456789012:function:evil",
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                LOGS,
                "PutSubscriptionFilter",
                {
                    "logGroupName": GROUP,
                    "filterName": RESOURCES.log_filter,
                    "filterPattern": '"zzz-never"',
                    "destinationArn": MONITOR_ARN,
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                LOGS,
                "PutSubscriptionFilter",
                {
                    "logGroupName": GROUP,
                    "filterName": "copy",
                    "filterPattern": "",
                    "destinationArn": "arn:aws:firehose:us-east-1:1:deliverystream/x",
                },
            ),
            Severity.HIGH,
        ),
        (
            call(
                LOGS, "DeleteSubscriptionFilter", {"logGroupName": GROUP, "filterName": RESOURCES.log_filter}
            ),
            Severity.CRITICAL,
        ),
        (
            call(LOGS, "DeleteLogStream", {"logGroupName": GROUP, "logStreamName": "alice-0123"}),
            Severity.HIGH,
        ),
        # CloudTrail: management events dropped, or the trail reconfigured
        (
            call(
                TRAIL,
                "PutEventSelectors",
                {
                    "trailName": "main",
                    "eventSelectors": [{"readWriteType": "ReadOnly", "includeManagementEvents": True}],
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                TRAIL,
                "PutEventSelectors",
                {
                    "trailName": "main",
                    "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": False}],
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                TRAIL,
                "PutEventSelectors",
                {
                    "trailName": "main",
                    "advancedEventSelectors": [
                        {"fieldSelectors": [{"field": "eventCategory", "equals": ["Data"]}]}
                    ],
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                TRAIL,
                "PutEventSelectors",
                {
                    "trailName": "main",
                    "eventSelectors": [{"readWriteType": "All", "includeManagementEvents": True}],
                },
            ),
            Severity.MEDIUM,
        ),
        (call(TRAIL, "UpdateTrail", {"name": "main", "isMultiRegionTrail": False}), Severity.HIGH),
        # ssm-warden's functions (Lambda's event names carry an API version)
        (
            call(
                LAMBDA,
                "PutFunctionConcurrency20171031",
                {"functionName": MONITOR, "reservedConcurrentExecutions": 0},
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                LAMBDA,
                "PutFunctionConcurrency20171031",
                {"functionName": MONITOR_ARN, "reservedConcurrentExecutions": 3},
            ),
            Severity.MEDIUM,
        ),
        (call(LAMBDA, "UpdateFunctionConfiguration20150331v2", {"functionName": SWEEPER}), Severity.CRITICAL),
        (
            call(LAMBDA, "DeleteFunction20150331", {"functionName": f"{MONITOR_ARN}:$LATEST"}),
            Severity.CRITICAL,
        ),
        (
            call(LAMBDA, "RemovePermission20150331v2", {"functionName": MONITOR, "statementId": "logs"}),
            Severity.CRITICAL,
        ),
        # ssm-warden's EventBridge rules
        (call(EVENTS, "DisableRule", {"name": "ssm-warden-session-calls"}), Severity.CRITICAL),
        (call(EVENTS, "DeleteRule", {"name": "ssm-warden-tamper-calls"}), Severity.CRITICAL),
        (call(EVENTS, "RemoveTargets", {"rule": "ssm-warden-tamper-watch", "ids": ["t"]}), Severity.CRITICAL),
        (
            call(
                EVENTS,
                "PutRule",
                {"name": "ssm-warden-session-calls", "eventPattern": '{"source": ["aws.none"]}'},
            ),
            Severity.CRITICAL,
        ),
        # The sweeper's schedule
        (
            call(SCHEDULER, "DeleteSchedule", {"name": "ssm-warden-SessionSweeperFunctionEveryMinute-R2"}),
            Severity.CRITICAL,
        ),
        (
            call(
                SCHEDULER,
                "UpdateSchedule",
                {
                    "name": "ssm-warden-SessionSweeperFunctionEveryMinute-R2",
                    "state": "DISABLED",
                    "scheduleExpression": "rate(1 minute)",
                    "target": {"arn": f"arn:aws:lambda:us-east-1:1:function:{SWEEPER}"},
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                SCHEDULER,
                "UpdateSchedule",
                {
                    "Name": "ssm-warden-SessionSweeperFunctionEveryMinute-R2",
                    "ScheduleExpression": "rate(1 day)",
                    "Target": {"Arn": f"arn:aws:lambda:us-east-1:1:function:{SWEEPER}"},
                },
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                SCHEDULER,
                "UpdateSchedule",
                {
                    "name": "ssm-warden-SessionSweeperFunctionEveryMinute-R2",
                    "scheduleExpression": "rate(1 minute)",
                    "target": {"arn": f"arn:aws:lambda:us-east-1:1:function:{SWEEPER}"},
                },
            ),
            Severity.MEDIUM,
        ),
        # The policy parameter (a name with or without its leading slash, or an ARN)
        (call(SSM, "DeleteParameter", {"name": "/governance/warden-policy"}), Severity.CRITICAL),
        (
            call(
                SSM,
                "DeleteParameters",
                {"names": ["/other", "arn:aws:ssm:us-east-1:1:parameter/governance/warden-policy"]},
            ),
            Severity.CRITICAL,
        ),
        (
            call(
                SSM,
                "PutParameter",
                {"name": "/governance/warden-policy", "type": "String", "overwrite": True},
            ),
            Severity.HIGH,
        ),
        # ssm-warden's stack
        (call("cloudformation.amazonaws.com", "DeleteStack", {"stackName": "ssm-warden"}), Severity.CRITICAL),
    ],
    ids=lambda v: (
        f"{v.event_name}:{json.dumps(v.request_parameters)[:60]}"
        if isinstance(v, CloudTrailDetail)
        else str(v)
    ),
)
def test_every_blinding_call_raises_a_signal_of_the_right_severity(
    detail: CloudTrailDetail, expected: Severity
) -> None:
    # Given a call that blinds session logging or ssm-warden
    # Then it is routed to the tamper rules and judged at the expected severity
    assert is_tamper_call(detail)
    assert severity(detail) is expected


@pytest.mark.parametrize(
    "detail",
    [
        call(SSM, "UpdateDocument", {"name": "MyRunbook", "content": '{"mainSteps": []}'}),
        call(
            SSM,
            "CreateDocument",
            {
                "name": "PortOnly",
                "documentType": "Session",
                "content": json.dumps({"sessionType": "Port", "inputs": {}}),
            },
        ),
        call(
            SSM,
            "CreateDocument",
            {"name": "LoggedShell", "documentType": "Session", "content": preferences()},
        ),
        call(SSM, "DeleteDocument", {"name": "OldRunbook"}),
        call(SSM, "PutParameter", {"name": "/app/db-url"}),
        call(
            LOGS,
            "PutSubscriptionFilter",
            {"logGroupName": "/app/web", "filterName": "x", "destinationArn": "arn:x"},
        ),
        call(LAMBDA, "UpdateFunctionConfiguration20150331v2", {"functionName": "someone-elses-function"}),
        call(EVENTS, "DisableRule", {"name": "nightly-report"}),
        call(SCHEDULER, "DeleteSchedule", {"name": "backup"}),
        call("cloudformation.amazonaws.com", "DeleteStack", {"stackName": "web-app"}),
        # refused calls changed nothing
        call(EVENTS, "DisableRule", {"name": "ssm-warden-session-calls"}, error="AccessDenied"),
    ],
    ids=lambda v: f"{v.event_name}:{json.dumps(v.request_parameters)[:50]}",
)
def test_calls_on_other_resources_raise_nothing(detail: CloudTrailDetail) -> None:
    assert severity(detail) is None


@pytest.mark.parametrize(
    "detail",
    [
        call(
            LAMBDA,
            "UpdateFunctionConfiguration20150331v2",
            {"functionName": MONITOR},
            identity=CLOUDFORMATION,
        ),
        call(
            LAMBDA,
            "PutFunctionConcurrency20171031",
            {"functionName": SWEEPER, "reservedConcurrentExecutions": 1},
            source_ip="cloudformation.amazonaws.com",
        ),
        call(EVENTS, "PutRule", {"name": "ssm-warden-tamper-calls"}, identity=CLOUDFORMATION),
        call(EVENTS, "DeleteRule", {"name": "ssm-warden-tamper-calls"}, identity=CLOUDFORMATION),
        call(
            SCHEDULER,
            "UpdateSchedule",
            {"name": "ssm-warden-SessionSweeperFunctionEveryMinute-R2", "state": "DISABLED"},
            identity=CLOUDFORMATION,
        ),
        call(
            LOGS,
            "PutSubscriptionFilter",
            {
                "logGroupName": GROUP,
                "filterName": RESOURCES.log_filter,
                "filterPattern": "",
                "destinationArn": MONITOR_ARN,
            },
            identity=CLOUDFORMATION,
        ),
    ],
    ids=lambda v: v.event_name,
)
def test_ssm_wardens_own_deployment_is_not_tamper(detail: CloudTrailDetail) -> None:
    # Given CloudFormation (invokedBy / sourceIPAddress, which AWS writes) changing ssm-warden's own resources
    # Then nothing is raised: the deployment itself is reported instead (UpdateStack, below)
    assert severity(detail) is None


def test_a_member_accounts_subscription_to_the_organisation_destination_is_ssm_wardens() -> None:
    # Given a member stack (CloudFormation) subscribing its session-log group to the governance destination
    put = call(
        LOGS,
        "PutSubscriptionFilter",
        {
            "logGroupName": GROUP,
            "filterName": "ssm-warden-member-SessionLogSubscription-K1",
            "filterPattern": "",
            "destinationArn": "arn:aws:logs:us-east-1:999999999999:destination:ssm-warden-session-logs",
        },
        identity=CLOUDFORMATION,
    )
    # Then it is ssm-warden's own deployment; narrowed by a person, it is critical
    assert severity(put) is None
    narrowed = put.model_copy(
        update={
            "user_identity": EVE_IDENTITY,
            "request_parameters": {**(put.request_parameters or {}), "filterPattern": "x"},
        }
    )
    assert severity(narrowed) is Severity.CRITICAL


def test_the_deployment_itself_is_reported_and_a_forged_user_agent_exempts_nothing() -> None:
    assert (
        severity(call("cloudformation.amazonaws.com", "UpdateStack", {"stackName": "ssm-warden"}))
        is Severity.MEDIUM
    )
    # userAgent is the caller's own word: it does not make a call CloudFormation's
    forged = call(EVENTS, "DisableRule", {"name": "ssm-warden-session-calls"}).model_copy(
        update={"user_agent": "cloudformation.amazonaws.com"}
    )
    assert severity(forged) is Severity.CRITICAL


def test_cloudformation_is_not_exempt_on_what_ssm_warden_does_not_own() -> None:
    # Another stack deleting the preferences or the policy parameter is still tamper
    assert (
        severity(call(SSM, "DeleteDocument", {"name": PREFS}, identity=CLOUDFORMATION)) is Severity.CRITICAL
    )
    found = describe_tamper(
        call(SSM, "DeleteParameter", {"name": "governance/warden-policy"}, identity=CLOUDFORMATION), RESOURCES
    )
    assert found is not None
    assert found[2] is Severity.CRITICAL
    assert "through CloudFormation" in found[1]


def test_without_configured_names_a_subscription_change_is_still_high() -> None:
    # Given only the log group is known (names not configured)
    bare = WardenResources(session_log_group=GROUP)
    put = call(
        LOGS, "PutSubscriptionFilter", {"logGroupName": GROUP, "filterName": "f", "destinationArn": "arn:x"}
    )
    delete = call(LOGS, "DeleteSubscriptionFilter", {"logGroupName": GROUP, "filterName": "f"})
    # Then the change is reported, saying why it cannot be told whose filter it was
    assert severity(put, bare) is Severity.HIGH
    assert severity(delete, bare) is Severity.CRITICAL


def test_the_why_names_the_principal_and_what_was_done() -> None:
    found = describe_tamper(
        call(
            SSM,
            "UpdateDocument",
            {"name": PREFS, "content": preferences(cloudWatchLogGroupName="/tmp/elsewhere")},
        ),
        RESOURCES,
    )
    assert found is not None
    _, why, _ = found
    assert "eve" in why
    assert "/tmp/elsewhere" in why


def test_resource_names_are_read_from_names_and_arns() -> None:
    assert function_name("arn:aws:lambda:us-east-1:1:function:fn:prod") == "fn"
    assert function_name("1:function:fn") == "fn"
    assert function_name("fn") == "fn"
    assert parameter_name("arn:aws:ssm:us-east-1:1:parameter/a/b") == "a/b"
    assert parameter_name("/a/b") == "a/b"

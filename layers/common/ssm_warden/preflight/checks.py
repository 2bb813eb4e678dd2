"""The prerequisites ssm-warden needs, as pure checks over collected ``Facts``.

Each check says what it found, and when something is wrong, the exact command that fixes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel

from ssm_warden.preflight.facts import Facts, Node
from ssm_warden.preflight.fixes import (
    key_policy_statement,
    preferences_fix,
    role_policy_fix,
)

# The first agent that streams session logs to CloudWatch Logs (aws/amazon-ssm-agent RELEASENOTES.md,
# 3.0.356.0: "Add support for streaming of logs to CloudWatch for Session Manager").
MIN_STREAMING_AGENT = "3.0.356.0"
# A log group takes at most two subscription filters.
SUBSCRIPTION_SLOTS = 2
# Lambda keeps this much of the account's concurrency unreserved; a reservation that would leave less
# fails the deployment.
LAMBDA_MIN_UNRESERVED = 100
LAMBDA_CONCURRENCY_QUOTA_CODE = "L-B99A9384"


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"  # not blocking, but worth knowing
    UNKNOWN = "unknown"  # could not be read (permissions, API not available)


class CheckResult(BaseModel):
    check: str
    status: Status
    found: str
    fix: str | None = None


def _unknown(facts: Facts, check: str, section: str) -> CheckResult:
    return CheckResult(
        check=check,
        status=Status.UNKNOWN,
        found=f"could not read it: {facts.unreadable.get(section, 'not collected')}",
        fix="run preflight with credentials that may read it (it only reads)",
    )


def check_cloudtrail(facts: Facts) -> CheckResult:
    name = "cloudtrail"
    if facts.trails is None:
        return _unknown(facts, name, "trails")
    covering = [t for t in facts.trails if t.multi_region or t.home_region in (None, facts.region)]
    good = [t for t in covering if t.logging and t.management_writes is not False]
    if good:
        return CheckResult(
            check=name, status=Status.PASS, found=f"trail {good[0].name} logs management events here"
        )
    if not covering:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"no CloudTrail trail covers {facts.region}: "
            "the session ledger would never hear of a session",
            fix="aws cloudtrail create-trail --name ssm-warden-trail --s3-bucket-name <YOUR-TRAIL-BUCKET> "
            "--is-multi-region-trail && aws cloudtrail start-logging --name ssm-warden-trail",
        )
    unread = [t for t in covering if t.logging is None]
    if unread and not [t for t in covering if t.logging is False or t.management_writes is False]:
        return CheckResult(
            check=name,
            status=Status.WARN,
            found=f"trail {unread[0].name} covers {facts.region}; its status could not be read from here",
            fix=f"aws cloudtrail get-trail-status --name {unread[0].name} "
            f"--region {unread[0].home_region or '<ITS HOME REGION>'}",
        )
    stopped = [t for t in covering if t.logging is False]
    if stopped:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"trail {stopped[0].name} covers {facts.region} but is not logging",
            fix=f"aws cloudtrail start-logging --name {stopped[0].name}",
        )
    trail = next(t for t in covering if t.management_writes is False)
    selectors = json.dumps([{"ReadWriteType": "All", "IncludeManagementEvents": True}])
    return CheckResult(
        check=name,
        status=Status.FAIL,
        found=f"trail {trail.name} excludes write management events (StartSession is one)",
        fix=f"aws cloudtrail put-event-selectors --trail-name {trail.name} --event-selectors '{selectors}'",
    )


def check_preferences(facts: Facts) -> CheckResult:
    name = "session-preferences"
    prefs = facts.preferences
    if prefs is None:
        return _unknown(facts, name, "preferences")
    if not prefs.exists:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found="Session Manager preferences were never saved: sessions are not logged anywhere",
            fix=preferences_fix(facts, "create"),
        )
    if prefs.log_group != facts.expected_log_group:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"sessions are logged to {prefs.log_group or 'no log group'}, "
            f"not {facts.expected_log_group}",
            fix=preferences_fix(facts, "update")
            + f" - or deploy with SessionManagerLogGroupName={prefs.log_group}" * bool(prefs.log_group),
        )
    if not prefs.streaming:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found="session logs are uploaded when the session ends, not streamed: commands are seen too late",
            fix=preferences_fix(facts, "update"),
        )
    return CheckResult(check=name, status=Status.PASS, found=f"sessions stream to {prefs.log_group}")


def check_log_group(facts: Facts) -> CheckResult:
    name = "session-log-group"
    group = facts.log_group
    if group is None:
        return _unknown(facts, name, "log_group")
    if not group.exists:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"log group {group.name} does not exist: the deploy fails (the subscription needs it) "
            "and the agent logs nothing into a missing group",
            fix=f"aws logs create-log-group --log-group-name {group.name} && "
            f"aws logs put-retention-policy --log-group-name {group.name} --retention-in-days 365",
        )
    others = [f for f in group.filters if f != group.warden_filter]
    if group.warden_filter is None and len(others) >= SUBSCRIPTION_SLOTS:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"{group.name} has {len(others)} subscription filters ({', '.join(others)}); a group "
            f"takes {SUBSCRIPTION_SLOTS} and ssm-warden needs one",
            fix=f"aws logs delete-subscription-filter --log-group-name {group.name} --filter-name "
            f"{others[-1]} (or send that consumer through a Kinesis stream or Firehose shared with others)",
        )
    taken = "ssm-warden's subscription is in place" if group.warden_filter else "a subscription slot is free"
    return CheckResult(check=name, status=Status.PASS, found=f"{group.name} exists; {taken}")


def check_instance_roles(facts: Facts) -> CheckResult:
    name = "instance-roles"
    if facts.nodes is None:
        return _unknown(facts, name, "nodes")
    if not facts.nodes:
        return CheckResult(check=name, status=Status.WARN, found="no managed nodes in this region yet")
    denied = [n for n in facts.nodes if n.role and n.role.missing]
    unknown = [n for n in facts.nodes if n.role is None]
    method = next((n.role.method for n in facts.nodes if n.role), "simulated")
    how = (
        ""
        if method == "simulated"
        else " (judged from the roles' policies: SimulatePrincipalPolicy unavailable)"
    )
    if denied:
        node = denied[0]
        assert node.role is not None
        roles = sorted({n.role.role_arn for n in denied if n.role})
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"{len(denied)} node(s) ({', '.join(n.instance_id for n in denied[:5])}) cannot stream: "
            f"role {node.role.role_arn} lacks {', '.join(node.role.missing)} on {facts.expected_log_group} "
            f"(AmazonSSMManagedInstanceCore does not grant them){how}; roles: {', '.join(roles)}",
            fix=role_policy_fix(facts, node.role.role_arn),
        )
    if unknown:
        return CheckResult(
            check=name,
            status=Status.WARN,
            found=f"{len(unknown)} node(s) without a readable instance role "
            f"({', '.join(n.instance_id for n in unknown[:5])}): check their roles by hand",
        )
    return CheckResult(
        check=name, status=Status.PASS, found=f"every node's role may stream to the group{how}"
    )


def _version_key(version: str) -> tuple[int, ...]:
    parts = []
    for part in version.split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def agent_streams(version: str | None) -> bool | None:
    if not version:
        return None
    return _version_key(version) >= _version_key(MIN_STREAMING_AGENT)


def check_agent_versions(facts: Facts) -> CheckResult:
    name = "agent-versions"
    if facts.nodes is None:
        return _unknown(facts, name, "nodes")
    if not facts.nodes:
        return CheckResult(check=name, status=Status.WARN, found="no managed nodes in this region yet")
    old = [n for n in facts.nodes if agent_streams(n.agent_version) is False]
    if old:
        ids = ",".join(n.instance_id for n in old[:50])
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"{len(old)} node(s) run an agent older than {MIN_STREAMING_AGENT}, which cannot stream: "
            + ", ".join(f"{n.instance_id} {n.agent_version}" for n in old[:5]),
            fix="aws ssm send-command --document-name AWS-UpdateSSMAgent "
            f"--targets Key=InstanceIds,Values={ids}",
        )
    return CheckResult(
        check=name, status=Status.PASS, found=f"every node's agent is {MIN_STREAMING_AGENT} or newer"
    )


def _private(nodes: list[Node]) -> list[Node]:
    return [n for n in nodes if n.internet_route is False and n.vpc_id]


def check_logs_endpoint(facts: Facts) -> CheckResult:
    name = "logs-endpoint"
    if facts.nodes is None:
        return _unknown(facts, name, "nodes")
    if not facts.nodes:
        return CheckResult(check=name, status=Status.WARN, found="no managed nodes in this region yet")
    needing = [n for n in _private(facts.nodes) if n.vpc_id not in facts.logs_endpoint_vpcs]
    if needing:
        node = needing[0]
        vpcs = sorted({n.vpc_id for n in needing if n.vpc_id})
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"node(s) {', '.join(n.instance_id for n in needing[:5])} have no internet route and "
            f"VPC(s) {', '.join(vpcs)} no CloudWatch Logs endpoint: their sessions cannot stream",
            fix=f"aws ec2 create-vpc-endpoint --vpc-id {node.vpc_id} --vpc-endpoint-type Interface "
            f"--service-name com.amazonaws.{facts.region}.logs --subnet-ids {node.subnet_id} "
            "--security-group-ids <SG-ALLOWING-443-FROM-THE-NODES> --private-dns-enabled",
        )
    unknown = [n for n in facts.nodes if n.internet_route is None and n.vpc_id]
    if unknown:
        return CheckResult(
            check=name,
            status=Status.WARN,
            found=f"could not tell how {', '.join(n.instance_id for n in unknown[:5])} reach the internet "
            "(transit gateway or unread routes): make sure they reach logs.<region>.amazonaws.com",
        )
    return CheckResult(check=name, status=Status.PASS, found="every node can reach CloudWatch Logs")


def check_kms(facts: Facts) -> CheckResult:
    name = "log-group-kms"
    group, prefs = facts.log_group, facts.preferences
    if group is None or not group.exists:
        return CheckResult(check=name, status=Status.PASS, found="no log group to check yet")
    if prefs and prefs.encryption_required and not group.kms_key_id:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found="the preferences require an encrypted log group (cloudWatchEncryptionEnabled) but "
            f"{group.name} has no KMS key: the agent logs nothing",
            fix=f"aws logs associate-kms-key --log-group-name {group.name} --kms-key-id <KEY-ARN> "
            "(key policy as below), or set cloudWatchEncryptionEnabled to false",
        )
    if not group.kms_key_id:
        return CheckResult(check=name, status=Status.PASS, found=f"{group.name} is not KMS-encrypted")
    if facts.key_policy is None:
        return _unknown(facts, name, "key_policy")
    if not facts.key_policy.allows_logs:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"{group.name} is encrypted with {group.kms_key_id}, whose key policy does not let "
            f"logs.{facts.region}.amazonaws.com use it: nothing can be written to the group",
            fix=f"add this statement to the key policy (aws kms get-key-policy --key-id {group.kms_key_id} "
            f"--policy-name default, edit, aws kms put-key-policy ...): {key_policy_statement(facts)}",
        )
    return CheckResult(
        check=name, status=Status.PASS, found="the key policy lets CloudWatch Logs use the key"
    )


def check_lambda_concurrency(facts: Facts) -> CheckResult:
    name = "lambda-concurrency"
    quota = facts.lambda_quota
    if quota is None:
        return _unknown(facts, name, "lambda_quota")
    needed = max(quota.template_reserved - quota.already_reserved, 0)
    left = quota.unreserved - needed
    if left < LAMBDA_MIN_UNRESERVED:
        wanted = max(1000, quota.account_limit + needed + LAMBDA_MIN_UNRESERVED)
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"the template reserves {quota.template_reserved} concurrent executions; the account "
            f"(limit {quota.account_limit}) has {quota.unreserved} unreserved and Lambda keeps "
            f"{LAMBDA_MIN_UNRESERVED} free: the deploy would fail",
            fix="aws service-quotas request-service-quota-increase --service-code lambda --quota-code "
            f"{LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value {wanted}",
        )
    return CheckResult(
        check=name,
        status=Status.PASS,
        found=f"{quota.unreserved} unreserved concurrent executions; ssm-warden reserves {needed} more",
    )


def check_slack_secret(facts: Facts) -> CheckResult:
    name = "slack-secret"
    slack = facts.slack
    if slack is None:
        if "slack" in facts.unreadable:
            return _unknown(facts, name, "slack")
        return CheckResult(
            check=name,
            status=Status.WARN,
            found="no SlackSecretName given: alerts go to the executor's log only",
            fix="pass --slack-secret NAME (the name you will deploy with)",
        )
    if slack.given.startswith("arn:"):
        secret_name = slack.given.split(":secret:", 1)[-1]
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found="SlackSecretName is an ARN: the functions' permission is built from a name, so this "
            "deploys and then every Slack call fails with AccessDenied",
            fix=f"deploy with SlackSecretName={secret_name.rsplit('-', 1)[0]} (the name, without the "
            "ARN prefix or the random six-character suffix)",
        )
    if slack.exists is False:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"no secret named {slack.given} in {facts.region} (it must be in the stack's region)",
            fix=f"aws secretsmanager create-secret --name {slack.given} --secret-string "
            '\'{"bot_token": "xoxb-...", "signing_secret": "...", "default_channel": "#ssm-warden"}\'',
        )
    if slack.name and slack.name != slack.given:
        return CheckResult(
            check=name,
            status=Status.FAIL,
            found=f"{slack.given} finds the secret named {slack.name}: "
            "the permission only matches the exact name",
            fix=f"deploy with SlackSecretName={slack.name}",
        )
    return CheckResult(
        check=name, status=Status.PASS, found=f"secret {slack.given} exists (a name, not an ARN)"
    )


CHECKS: list[Callable[[Facts], CheckResult]] = [
    check_cloudtrail,
    check_preferences,
    check_log_group,
    check_instance_roles,
    check_agent_versions,
    check_logs_endpoint,
    check_kms,
    check_lambda_concurrency,
    check_slack_secret,
]


def run_checks(facts: Facts) -> list[CheckResult]:
    return [check(facts) for check in CHECKS]


def blocking(results: list[CheckResult]) -> bool:
    """A failed check blocks the rollout; unknowns and warnings do not, but are printed."""
    return any(r.status is Status.FAIL for r in results)

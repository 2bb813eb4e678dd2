"""The exact fixes preflight prints: commands and policy documents built from the collected facts."""

from __future__ import annotations

import json

from ssm_warden.preflight.facts import Facts

PREFERENCES_DOCUMENT = "SSM-SessionManagerRunShell"
STREAM_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def preferences_fix(facts: Facts, verb: str) -> str:
    content = json.dumps(
        {
            "schemaVersion": "1.0",
            "description": "Session Manager preferences",
            "sessionType": "Standard_Stream",
            "inputs": {
                "cloudWatchLogGroupName": facts.expected_log_group,
                "cloudWatchStreamingEnabled": True,
                "cloudWatchEncryptionEnabled": False,
                "s3BucketName": "",
                "idleSessionTimeout": "20",
            },
        }
    )
    if verb == "create":
        return (
            f"aws ssm create-document --name {PREFERENCES_DOCUMENT} --document-type Session "
            f"--document-format JSON --content '{content}'"
        )
    return (
        f"aws ssm update-document --name {PREFERENCES_DOCUMENT} --document-version '$LATEST' "
        f"--document-format JSON --content '{content}' (keep your other inputs; then "
        f"aws ssm update-document-default-version --name {PREFERENCES_DOCUMENT} --document-version <NEW>)"
    )


def role_policy_fix(facts: Facts, role_arn: str) -> str:
    arn = (facts.log_group.arn if facts.log_group else None) or (
        f"arn:aws:logs:{facts.region}:{facts.account or '<ACCOUNT>'}:log-group:{facts.expected_log_group}"
    )
    document = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": list(STREAM_ACTIONS),
                    "Resource": f"{arn.removesuffix(':*')}:*",
                },
                {"Effect": "Allow", "Action": ["logs:DescribeLogGroups"], "Resource": "*"},
            ],
        }
    )
    role_name = role_arn.rsplit("/", 1)[-1]
    return (
        f"aws iam put-role-policy --role-name {role_name} --policy-name ssm-session-logs "
        f"--policy-document '{document}'"
    )


def key_policy_statement(facts: Facts) -> str:
    statement = {
        "Sid": "CloudWatchLogsUseOfTheKey",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{facts.region}.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{facts.region}:"
                f"{facts.account or '<ACCOUNT>'}:log-group:{facts.expected_log_group}"
            }
        },
    }
    return json.dumps(statement)

"""preflight's instance-role check through IAM's policy simulator (which moto lacks): the SDK's own
Stubber plays IAM, answering as the real API does."""

from __future__ import annotations

import boto3
from botocore.stub import Stubber

from ssm_warden.preflight.collect import _role_write

PROFILE = "arn:aws:iam::123456789012:instance-profile/web-node"
ROLE = "arn:aws:iam::123456789012:role/web-node"
GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/ssm/sessions"


def test_the_simulator_decides_which_actions_are_missing() -> None:
    # Given a role the simulator allows CreateLogStream but denies PutLogEvents (e.g. by an SCP)
    iam = boto3.client("iam", region_name="us-east-1")
    stub = Stubber(iam)
    stub.add_response(
        "get_instance_profile",
        {
            "InstanceProfile": {
                "Path": "/",
                "InstanceProfileName": "web-node",
                "InstanceProfileId": "AIPAEXAMPLE0000000000",
                "Arn": PROFILE,
                "CreateDate": "2026-01-01T00:00:00Z",
                "Roles": [
                    {
                        "Path": "/",
                        "RoleName": "web-node",
                        "RoleId": "AROAEXAMPLE0000000000",
                        "Arn": ROLE,
                        "CreateDate": "2026-01-01T00:00:00Z",
                    }
                ],
            }
        },
        {"InstanceProfileName": "web-node"},
    )
    stub.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [
                {"EvalActionName": "logs:CreateLogStream", "EvalDecision": "allowed"},
                {"EvalActionName": "logs:PutLogEvents", "EvalDecision": "explicitDeny"},
            ]
        },
    )
    with stub:
        result = _role_write(lambda service: iam, PROFILE, GROUP)
    # Then the check names the denied action and says the simulator decided
    assert result is not None
    assert result.missing == ["logs:PutLogEvents"] and result.method == "simulated"

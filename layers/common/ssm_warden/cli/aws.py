"""AWS access for the command line: the caller's profile and region, the deployed stack's outputs,
and SDK errors turned into one-line messages.

The Lambda functions use ``ssm_warden.clients`` (configured by the template's environment); the
command line runs with a person's credentials instead, so it makes its own clients here. Tests and the
local stack point them at moto with ``SSM_WARDEN_ENDPOINT_URL`` (or the SDK's own ``AWS_ENDPOINT_URL``).
"""

from __future__ import annotations

import argparse
import os
from functools import cached_property
from typing import Any

from ssm_warden.cli.options import EXIT_USAGE, CliError

# Stack output names (template.yaml Outputs) the commands read.
OUTPUT_SESSIONS_TABLE = "SessionsTableName"
OUTPUT_AUDIT_TABLE = "AuditTableName"


class AwsContext:
    """One boto3 session for one command run."""

    def __init__(
        self, region: str | None = None, profile: str | None = None, stack: str | None = None
    ) -> None:
        self.requested_region = region
        self.profile = profile
        self.stack = stack
        self._clients: dict[str, Any] = {}

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> AwsContext:
        return cls(
            getattr(args, "region", None), getattr(args, "profile", None), getattr(args, "stack", None)
        )

    @cached_property
    def session(self) -> Any:
        import boto3
        from botocore.exceptions import ProfileNotFound

        try:
            return boto3.session.Session(profile_name=self.profile, region_name=self.requested_region)
        except ProfileNotFound as exc:
            raise CliError(f"{exc}: pass an existing --profile (see ~/.aws/config)") from exc

    @property
    def region(self) -> str:
        region: str | None = self.session.region_name
        if not region:
            raise CliError("no AWS region: pass --region, set AWS_REGION, or give your profile a region")
        return region

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from botocore.config import Config

            # Standard retries (throttling, 5xx); attempts from AWS_MAX_ATTEMPTS when set, else 3.
            config = Config(retries={"mode": "standard"}, connect_timeout=5, read_timeout=20)
            self._clients[service] = self.session.client(
                service,
                region_name=self.region,
                endpoint_url=os.environ.get("SSM_WARDEN_ENDPOINT_URL") or None,
                config=config,
            )
        return self._clients[service]

    # -- the deployed stack ------------------------------------------------------------------

    @cached_property
    def _stack_description(self) -> dict[str, Any]:
        if not self.stack:
            raise CliError("no stack name: pass --stack NAME")
        cfn = self.client("cloudformation")
        try:
            stacks = cfn.describe_stacks(StackName=self.stack)["Stacks"]
        except cfn.exceptions.ClientError as exc:
            if "does not exist" in str(exc):
                raise CliError(
                    f"no stack named {self.stack!r} in {self.region}: pass --stack with the name you "
                    "deployed (sam deploy's stack_name) or --region with its region"
                ) from exc
            raise
        if not stacks:
            raise CliError(f"no stack named {self.stack!r} in {self.region}")
        stack: dict[str, Any] = stacks[0]
        return stack

    def stack_outputs(self) -> dict[str, str]:
        return {o["OutputKey"]: o["OutputValue"] for o in self._stack_description.get("Outputs", [])}

    def stack_parameters(self) -> dict[str, str]:
        return {
            p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
            for p in self._stack_description.get("Parameters", [])
        }

    def stack_output(self, key: str, *, explicit: str | None = None, env: str | None = None) -> str:
        """``explicit`` (a command-line option), else ``$env``, else the stack's output ``key``."""
        if explicit:
            return explicit
        if env and os.environ.get(env):
            return os.environ[env]
        outputs = self.stack_outputs()
        if key not in outputs:
            raise CliError(
                f"stack {self.stack!r} has no output {key}: deploy the current template (its Outputs "
                "name every table, queue and log group) or pass the name explicitly"
            )
        return outputs[key]


def describe_aws_error(exc: BaseException) -> CliError | None:
    """A one-line message for an SDK error, or None when ``exc`` is not one."""
    try:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            NoRegionError,
            PartialCredentialsError,
        )
    except ImportError:  # pragma: no cover - botocore is always installed with the CLI
        return None
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CliError(
            "no AWS credentials: pass --profile, run `aws sso login`, "
            "or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, NoRegionError):
        return CliError("no AWS region: pass --region, set AWS_REGION, or give your profile a region")
    if isinstance(exc, EndpointConnectionError):
        return CliError(f"cannot reach AWS: {exc}")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "Error"), error.get("Message", "")
        operation = getattr(exc, "operation_name", "the call")
        hint = ""
        if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}:
            hint = " (your credentials lack this permission)"
        elif code in {"ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId"}:
            hint = " (refresh your credentials, e.g. `aws sso login`)"
        elif code == "ResourceNotFoundException":
            hint = " (wrong --region, --stack or name?)"
        return CliError(f"{operation} failed: {code}: {message}{hint}", EXIT_USAGE)
    if isinstance(exc, BotoCoreError):
        return CliError(f"AWS SDK error: {exc}")
    return None

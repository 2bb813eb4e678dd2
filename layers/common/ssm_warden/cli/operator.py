"""What the audited fallback commands (``extend``, ``exempt``, ``redrive``) share: who is calling,
and the domain's own repository and audit paths pointed at the deployment for the command's run.

The Lambda functions' code reads its tables from the environment (``ssm_warden.config``); ``domain``
sets those variables from the stack's outputs for the duration of a ``with`` block and restores them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from ssm_warden.cli.aws import OUTPUT_AUDIT_TABLE, AwsContext


def caller_arn(ctx: AwsContext) -> str:
    arn: str = ctx.client("sts").get_caller_identity()["Arn"]
    return arn


@contextmanager
def domain(ctx: AwsContext, **extra: str) -> Iterator[None]:
    """``ssm_warden.clients``/``config`` aimed at the deployment: region, profile, tables."""
    from ssm_warden.cli.deployment import sessions_table
    from ssm_warden.clients import reset_clients
    from ssm_warden.config import reset_settings

    values = {
        "AWS_REGION": ctx.region,
        "SESSIONS_TABLE": sessions_table(ctx),
        "AUDIT_TABLE": ctx.stack_output(OUTPUT_AUDIT_TABLE, env="AUDIT_TABLE"),
        **extra,
    }
    if ctx.profile:
        values["AWS_PROFILE"] = ctx.profile
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    reset_settings()
    reset_clients()
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()
        reset_clients()


def operator_record(
    *,
    session_id: str,
    actor: str,
    action: str,
    outcome: str,
    account: str | None = None,
    region: str | None = None,
    details: dict[str, Any] | None = None,
) -> Any:
    """An audit record of a person acting through the command line (as Slack buttons record theirs)."""
    import uuid

    from ssm_warden.models.audit import AuditRecord, Decision

    return AuditRecord(
        session_id=session_id,
        at=datetime.now(UTC),
        record_id=f"cli-{uuid.uuid4()}",
        decision=Decision.OPERATOR,
        action=action,
        outcome=outcome,
        actor=f"cli:{actor}",
        account=account,
        region=region,
        details={"via": "ssm-warden CLI", **(details or {})},
    )

"""The policy in force at run time, and what happens when the configured one cannot be used.

Source, first that is configured: the SSM parameter ``POLICY_PARAMETER`` (read through Powertools
Parameters, cached for a minute, so an update takes effect within a minute without a deploy), the file
``POLICY_FILE``, or the policy bundled in the layer (``policies/default.yaml`` at build time).

Nothing about the configured policy may switch the watch off. When it is **invalid** (refused by the
one validation ``policy check`` also runs), **unreadable** (no permission, throttled, the SDK failing)
or **deleted** (the parameter does not exist: renamed, or removed), the last valid policy of this
container stays in force, or the bundled one when there was none. The problem is logged once per
incident per container, counted (metric ``PolicyLoadFailures``, alarmed) and returned so that the
sweeper raises one critical alert for it (a tamper signal when the parameter is gone), once: an
item ``policyincident#<kind>#<incident>`` in the sessions table (30-day TTL) records that it did.
A failed read is not retried for ``PARAMETER_MAX_AGE_SECONDS``: a deleted parameter costs one
GetParameter a minute per container, not one per event.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from ssm_warden.config import get_settings
from ssm_warden.errors import PolicyError
from ssm_warden.policy.loader import (
    LoadedPolicy,
    default_policy,
    load_policy_file,
    load_policy_text,
    policy_version,
)

PARAMETER_MAX_AGE_SECONDS = 60


class ProblemKind(StrEnum):
    INVALID = "invalid"  # the document was read and refused
    UNREADABLE = "unreadable"  # the read failed: no permission, throttling, the SDK
    DELETED = "deleted"  # the parameter does not exist (deleted or renamed): a tamper signal


@dataclass(frozen=True)
class PolicyProblem:
    source: str
    version: str  # identifies the incident: the refused document's hash, or the failure and the policy kept
    error: str
    kind: ProblemKind = ProblemKind.INVALID


@dataclass(frozen=True)
class PolicyState:
    policy: LoadedPolicy
    problem: PolicyProblem | None = None


_last_valid: LoadedPolicy | None = None
_failed: tuple[float, PolicyProblem] | None = None  # (monotonic time of the failed read, its problem)
_logged: set[tuple[str, str]] = set()  # incidents and warnings already logged by this container
_alerted: set[str] = set()  # incidents whose alert this container queued
_monotonic: Callable[[], float] = time.monotonic


class _ReadFailed(Exception):
    def __init__(self, kind: ProblemKind, error: str) -> None:
        super().__init__(error)
        self.kind = kind


def _error_code(exc: BaseException) -> str | None:
    """The AWS error code behind ``exc`` (Powertools wraps the SDK's error without ``from``)."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            break
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            if code:
                return str(code)
        seen = seen.__cause__ or seen.__context__
    return None


def _read_parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    from ssm_warden.clients import aws_client

    provider = parameters.SSMProvider(boto3_client=aws_client("ssm"))
    try:
        value = provider.get(name, max_age=PARAMETER_MAX_AGE_SECONDS)
    except Exception as exc:  # GetParameterError wraps whatever the SDK raised
        code = _error_code(exc) or ("ParameterNotFound" if "ParameterNotFound" in str(exc) else None)
        kind = ProblemKind.DELETED if code == "ParameterNotFound" else ProblemKind.UNREADABLE
        detail = code or type(exc).__name__
        raise _ReadFailed(kind, f"ssm:{name}: the policy parameter cannot be read ({detail})") from exc
    if not isinstance(value, str):
        raise PolicyError(f"ssm:{name}: the parameter holds no text")
    return value


def _load_configured() -> LoadedPolicy:
    settings = get_settings()
    if settings.policy_parameter:
        text = _read_parameter(settings.policy_parameter)
        return load_policy_text(text, source=f"ssm:{settings.policy_parameter}")
    if settings.policy_file:
        return load_policy_file(settings.policy_file)
    return default_policy()


def current_policy() -> PolicyState:
    """The policy to apply now, and the problem with the configured one when it cannot be used.

    Never raises for the policy's sake: every event is judged under some valid policy."""
    global _last_valid, _failed
    settings = get_settings()
    source = settings.policy_parameter or settings.policy_file or "bundled"
    if _failed is not None and _monotonic() - _failed[0] < PARAMETER_MAX_AGE_SECONDS:
        return PolicyState(_last_valid or default_policy(), _failed[1])
    try:
        loaded = _load_configured()
    except (PolicyError, _ReadFailed) as exc:
        fallback = _last_valid or default_policy()
        kind = exc.kind if isinstance(exc, _ReadFailed) else ProblemKind.INVALID
        # An invalid document is one incident per refusal (its problems name the text); a failed
        # read one per failure and policy kept in force (a later outage, or one that leaves another
        # policy in force, is a new incident).
        kept = "" if kind is ProblemKind.INVALID else fallback.version
        incident = policy_version(f"{kind.value}\x1f{exc}\x1f{kept}")
        problem = PolicyProblem(source=source, version=incident, error=str(exc), kind=kind)
        _failed = (_monotonic(), problem)
        _report(problem, fallback)
        return PolicyState(fallback, problem)
    _failed = None
    _last_valid = loaded
    _warn(loaded)
    return PolicyState(loaded)


def _report(problem: PolicyProblem, fallback: LoadedPolicy) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from ssm_warden.observability import logger, metrics

    metrics().add_metric(name="PolicyLoadFailures", unit=MetricUnit.Count, value=1)
    if ("problem", problem.version) in _logged:
        return
    _logged.add(("problem", problem.version))
    logger().error(
        "policy cannot be used; the last valid policy stays in force",
        extra={
            "source": problem.source,
            "kind": problem.kind.value,
            "error": problem.error,
            "in_force": fallback.version,
            "in_force_source": fallback.source,
        },
    )


def _warn(loaded: LoadedPolicy) -> None:
    if not loaded.warnings or ("warnings", loaded.version) in _logged:
        return
    _logged.add(("warnings", loaded.version))
    from ssm_warden.observability import logger

    logger().warning(
        "policy in force weakens the watch",
        extra={"source": loaded.source, "version": loaded.version, "warnings": list(loaded.warnings)},
    )


INCIDENT_TTL_DAYS = 30


def _incident_key(problem: PolicyProblem) -> str:
    return f"policyincident#{problem.kind.value}#{problem.version}"


def incident_alerted(problem: PolicyProblem) -> bool:
    """True when an alert for this incident was already queued (by any container, any function).

    A read that fails says False: a second alert is better than none."""
    from ssm_warden.clients import aws_client

    if problem.version in _alerted:
        return True
    try:
        item = aws_client("dynamodb").get_item(
            TableName=get_settings().sessions_table,
            Key={"pk": {"S": _incident_key(problem)}},
            ConsistentRead=True,
        )
    except Exception:  # the ledger table failing must not hide the policy incident
        return False
    return "Item" in item


def mark_incident_alerted(problem: PolicyProblem, now: datetime) -> None:
    """Remember that the incident's alert is queued: item ``policyincident#...`` with a TTL."""
    from ssm_warden.clients import aws_client

    _alerted.add(problem.version)
    expires = int((now + timedelta(days=INCIDENT_TTL_DAYS)).timestamp())
    try:
        # UpdateItem, not PutItem: the sweeper's role may update ledger items, not put them.
        aws_client("dynamodb").update_item(
            TableName=get_settings().sessions_table,
            Key={"pk": {"S": _incident_key(problem)}},
            UpdateExpression="SET record_type = :t, #s = :s, expires_at = :e",
            ExpressionAttributeNames={"#s": "source"},
            ExpressionAttributeValues={
                ":t": {"S": "policy_incident"},
                ":s": {"S": problem.source[:500]},
                ":e": {"N": str(expires)},
            },
        )
    except Exception:  # at worst the next sweep alerts again; the executor's idempotency folds it
        from ssm_warden.observability import logger

        logger().warning(
            "could not record that a policy incident was alerted", extra={"kind": problem.kind.value}
        )


def reset_policy_cache() -> None:
    """Forget the last valid policy and any failed read (tests)."""
    global _last_valid, _failed
    _last_valid = None
    _failed = None
    _logged.clear()
    _alerted.clear()

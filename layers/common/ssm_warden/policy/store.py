"""The policy in force at run time, and what happens when a new one is invalid.

Source, first that is configured: the SSM parameter ``POLICY_PARAMETER`` (read through Powertools
Parameters, cached for a minute, so an update takes effect within a minute without a deploy), the file
``POLICY_FILE``, or the policy bundled in the layer (``policies/default.yaml`` at build time).

An invalid document never fails open: the last valid policy stays in force (the bundled one if none
was valid yet), and the problem is logged, counted (metric ``PolicyLoadFailures``, alarmed) and
returned so that the caller can alert on it once per bad version.
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True)
class PolicyProblem:
    source: str
    version: str
    error: str


@dataclass(frozen=True)
class PolicyState:
    policy: LoadedPolicy
    problem: PolicyProblem | None = None


_last_valid: LoadedPolicy | None = None


def _read_parameter(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    from ssm_warden.clients import aws_client

    provider = parameters.SSMProvider(boto3_client=aws_client("ssm"))
    try:
        value = provider.get(name, max_age=PARAMETER_MAX_AGE_SECONDS)
    except parameters.exceptions.GetParameterError as exc:
        # A deleted (or unreadable) parameter must not stop every function: the last valid policy
        # stays in force, like an invalid one (and the deletion itself is a tamper alert).
        raise PolicyError(f"ssm:{name}: cannot read the policy parameter: {exc}") from exc
    if not isinstance(value, str):
        raise PolicyError(f"ssm:{name}: the parameter holds no text")
    return value


def current_policy() -> PolicyState:
    """The policy to apply now, and the problem with the configured one if it is invalid."""
    global _last_valid
    settings = get_settings()
    try:
        if settings.policy_parameter:
            text = _read_parameter(settings.policy_parameter)
            loaded = load_policy_text(text, source=f"ssm:{settings.policy_parameter}")
        elif settings.policy_file:
            loaded = load_policy_file(settings.policy_file)
        else:
            loaded = default_policy()
    except PolicyError as exc:
        source = settings.policy_parameter or settings.policy_file or "bundled"
        fallback = _last_valid or default_policy()
        _report(source, str(exc))
        return PolicyState(
            fallback, PolicyProblem(source=source, version=policy_version(str(exc)), error=str(exc))
        )
    _last_valid = loaded
    return PolicyState(loaded)


def _report(source: str, error: str) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    from ssm_warden.observability import logger, metrics

    logger().error(
        "policy is invalid; the last valid policy stays in force", extra={"source": source, "error": error}
    )
    metrics().add_metric(name="PolicyLoadFailures", unit=MetricUnit.Count, value=1)


def reset_policy_cache() -> None:
    """Forget the last valid policy (tests)."""
    global _last_valid
    _last_valid = None

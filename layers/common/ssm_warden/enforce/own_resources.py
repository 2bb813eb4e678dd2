"""The names of ssm-warden's own resources, which the tamper rules protect.

Read from the environment the template gives the session_events function, on first use and cached
(the pattern of ``ssm_warden.config``). A name that is not configured is simply not protected by
name: the rules that need it fall back to what the call itself says (e.g. a subscription filter's
destination), and say so.

- ``WARDEN_FUNCTIONS``: comma-separated names of the other functions; the function's own name comes
  from ``AWS_LAMBDA_FUNCTION_NAME``, which Lambda sets (the template cannot name a function in its
  own environment without a circular reference).
- ``COMMAND_MONITOR_FUNCTION``: the function the session-log subscription delivers to.
- ``WARDEN_RULES``: the EventBridge rule names (the template names them after the stack).
- ``WARDEN_SCHEDULES``: the sweeper's schedule name(s).
- ``SESSION_LOG_FILTER``: the session-log group's subscription filter (CloudFormation's ``Ref`` of
  it; a ``name|group`` form is accepted).
- ``WARDEN_STACK_NAME``: the CloudFormation stack (its deletion and redeployments are reported).
- the policy parameter and the session-log group come from ``ssm_warden.config``.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from ssm_warden.config import Settings, get_settings


class WardenResources(BaseModel):
    """What ssm-warden is made of, by name, as the tamper rules compare it."""

    model_config = ConfigDict(frozen=True)

    session_log_group: str = "/aws/ssm/sessions"
    functions: frozenset[str] = frozenset()
    command_monitor: str | None = None
    rules: frozenset[str] = frozenset()
    schedules: frozenset[str] = frozenset()
    log_filter: str | None = None
    policy_parameter: str | None = None
    stack: str | None = None

    def is_function(self, name_or_arn: object) -> bool:
        name = function_name(name_or_arn)
        return bool(name) and name in self.functions

    def is_command_monitor(self, arn: object) -> bool:
        name = function_name(arn)
        return bool(name) and name == self.command_monitor

    def is_session_log_destination(self, arn: object) -> bool:
        """The organisation-mode Logs destination the stack creates (``<stack>-session-logs``)."""
        return bool(self.stack) and str(arn or "").endswith(f":destination:{self.stack}-session-logs")

    def is_policy_parameter(self, name_or_arn: object) -> bool:
        return bool(self.policy_parameter) and parameter_name(name_or_arn) == parameter_name(
            self.policy_parameter
        )


def function_name(value: object) -> str:
    """A Lambda function's name from a name, a full or partial ARN, with or without a qualifier."""
    text = str(value or "").strip()
    if ":function:" in text:
        text = text.split(":function:", 1)[1]
    return text.split(":", 1)[0]


def parameter_name(value: object) -> str:
    """An SSM parameter's name without its ARN prefix or leading slash (``/a/b`` and ``a/b`` alike)."""
    text = str(value or "").strip()
    if ":parameter/" in text:
        text = text.split(":parameter/", 1)[1]
    return text.lstrip("/")


def _names(value: str | None) -> frozenset[str]:
    return frozenset(n.strip() for n in (value or "").split(",") if n.strip())


def _filter_name(value: str | None, log_group: str) -> str | None:
    parts = [p for p in (value or "").split("|") if p.strip() and p != log_group]
    return parts[0].strip() if parts else None


def warden_resources() -> WardenResources:
    """ssm-warden's resource names for this container (built once per configuration)."""
    return _build(get_settings())


@lru_cache(maxsize=4)
def _build(settings: Settings) -> WardenResources:
    functions = set(_names(settings.warden_functions))
    monitor = settings.command_monitor_function or None
    for extra in (settings.function_name, monitor):
        if extra:
            functions.add(extra)
    return WardenResources(
        session_log_group=settings.session_log_group,
        functions=frozenset(functions),
        command_monitor=monitor,
        rules=_names(settings.warden_rules),
        schedules=_names(settings.warden_schedules),
        log_filter=_filter_name(settings.session_log_filter, settings.session_log_group),
        policy_parameter=settings.policy_parameter,
        stack=settings.warden_stack_name or None,
    )

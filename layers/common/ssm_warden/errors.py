"""Domain exceptions. SDK exceptions are translated into these at the edge (repositories, executors)."""


class WardenError(Exception):
    """Base class of every error ssm-warden raises on purpose."""


class MalformedEventError(WardenError):
    """An incoming event cannot be understood. Reported and skipped, never retried forever."""


class PolicyError(WardenError):
    """A policy document is invalid. The message names the field and the line."""


class ConfigError(WardenError):
    """The function's configuration (environment) is missing or invalid."""


class TransientError(WardenError):
    """A downstream call failed in a way that a retry may fix (throttling, 5xx, timeout)."""

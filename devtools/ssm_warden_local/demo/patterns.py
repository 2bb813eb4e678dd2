"""EventBridge event patterns: the subset template.yaml uses, matched the way EventBridge matches.

A pattern is a JSON object whose leaves are lists. An event matches when every key of the pattern
matches:

- a nested object matches the event's object at that key, recursively;
- a list matches when the event's value (or, for a list value, any of its elements) equals one of
  the list's plain values or satisfies one of its content filters: ``{"prefix": "..."}``,
  ``{"suffix": "..."}``, ``{"exists": true|false}``, ``{"anything-but": value or [values]}``.

Keys the pattern does not name are ignored; a key it names that the event lacks fails the match
(except ``{"exists": false}``). Matching is case-sensitive, as EventBridge's is. A filter this module
does not know raises ``UnsupportedPatternError`` rather than guess.
"""

from __future__ import annotations

from typing import Any

_MISSING = object()


class UnsupportedPatternError(ValueError):
    """The pattern uses a content filter that this matcher does not implement."""


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """True when ``event`` matches ``pattern``."""
    if not isinstance(event, dict):
        return False
    for key, wanted in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(wanted, dict):
            if value is _MISSING or not matches(wanted, value):
                return False
        elif isinstance(wanted, list):
            if not _matches_list(wanted, value):
                return False
        else:
            raise UnsupportedPatternError(f"pattern value at {key!r} must be a list or an object")
    return True


def _matches_list(wanted: list[Any], value: Any) -> bool:
    if value is _MISSING:
        return any(_is_exists(entry, False) for entry in wanted)
    candidates = value if isinstance(value, list) else [value]
    return any(_matches_entry(entry, candidate) for entry in wanted for candidate in candidates)


def _is_exists(entry: Any, expected: bool) -> bool:
    return isinstance(entry, dict) and entry.get("exists") is expected


def _matches_entry(entry: Any, value: Any) -> bool:
    if not isinstance(entry, dict):
        # Plain values: exact match; a number never equals its string form, nor True equals 1.
        return type(entry) is type(value) and bool(entry == value)
    if len(entry) != 1:
        raise UnsupportedPatternError(f"a content filter has exactly one key: {entry!r}")
    ((name, argument),) = entry.items()
    if name == "exists":
        return bool(argument)  # the key is present (a missing key is handled by the caller)
    if name == "prefix":
        return isinstance(value, str) and isinstance(argument, str) and value.startswith(argument)
    if name == "suffix":
        return isinstance(value, str) and isinstance(argument, str) and value.endswith(argument)
    if name == "anything-but":
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_matches_entry(each, value) for each in excluded)
    raise UnsupportedPatternError(f"content filter {name!r} is not supported by the local matcher")


def matching_rules(patterns: dict[str, dict[str, Any]], event: dict[str, Any]) -> list[str]:
    """The names of the rules whose pattern ``event`` matches, in the order given."""
    return [name for name, pattern in patterns.items() if matches(pattern, event)]

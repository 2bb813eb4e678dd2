"""Loading a policy from YAML with errors that name the field and the line.

One validation serves ``ssm-warden policy check`` and every function that loads a policy: bounded
YAML (``bounded_yaml``: no alias bombs, no duplicate keys), the schema (``model``: types, numbers in
sane ranges, no unknown fields), then names and weakening choices (``checks``).

An invalid document raises ``PolicyError``; the message lists every problem as
``<source>:<line>: <field.path>: <what is wrong>``. Warnings (weakening choices) do not refuse the
document; they come back in ``LoadedPolicy.warnings`` in the same form.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ssm_warden.errors import PolicyError
from ssm_warden.policy.checks import check_policy
from ssm_warden.policy.model import Policy

if TYPE_CHECKING:
    import yaml

BUNDLED_POLICY = "default.yaml"


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    version: str  # sha256 of the document's bytes, shortened: recorded with every decision
    source: str
    # Weakening choices, each "<source>:<line>: <field.path>: <what>" (logged when loaded at run time).
    warnings: tuple[str, ...] = field(default=(), compare=False)


def policy_version(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _line_index(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    """Map every path in the document (keys and list positions) to its 1-based line."""
    import yaml

    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[(*path, key)] = key_node.start_mark.line + 1
            _line_index(value_node, (*path, key), out)
            # Remember where the key itself stands, for "unknown field" and "missing" errors.
            out.setdefault((*path, key), key_node.start_mark.line + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _line_index(item, (*path, index), out)


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int:
    # Pydantic locations may carry extra parts (e.g. a union member name); walk back to a known path.
    for end in range(len(loc), -1, -1):
        key = tuple(loc[:end])
        if key in lines:
            return lines[key]
    return 1


def _where(source: str, loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int], message: str) -> str:
    field_path = ".".join(str(part) for part in loc) or "(document)"
    return f"{source}:{_line_for(loc, lines)}: {field_path}: {message}"


def load_policy_text(text: str, source: str = "<policy>", *, now: datetime | None = None) -> LoadedPolicy:
    """Validate ``text`` and return the policy with its warnings; ``PolicyError`` lists every problem.

    ``now`` dates the exemption warnings (default: the current time)."""
    from ssm_warden.clock import utc_now

    now = now or utc_now()
    known = _precompiled(text, source, now)
    if known is not None:
        return known
    from ssm_warden.policy.bounded_yaml import YamlRefused, parse_bounded

    try:
        parsed = parse_bounded(text)
    except YamlRefused as exc:
        p = exc.problem
        raise PolicyError(f"invalid policy:\n  {source}:{p.line}: {p.message}") from exc
    data = parsed.data
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise PolicyError(f"{source}:1: a policy is a mapping (version, defaults, scopes, exemptions)")
    lines: dict[tuple[Any, ...], int] = {}
    if parsed.node is not None:
        _line_index(parsed.node, (), lines)
    problems = [f"{source}:{p.line}: {p.field}: {p.message}" for p in parsed.problems]
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        problems += [_where(source, tuple(e["loc"]), lines, e["msg"]) for e in exc.errors()]
        raise PolicyError("invalid policy:\n  " + "\n  ".join(problems)) from exc
    refused, weakening = check_policy(policy, now)
    problems += [_where(source, f.path, lines, f.message) for f in refused]
    if problems:
        raise PolicyError("invalid policy:\n  " + "\n  ".join(problems))
    warnings = tuple(_where(source, f.path, lines, f.message) for f in weakening)
    return LoadedPolicy(policy=policy, version=policy_version(text), source=source, warnings=warnings)


def _precompiled(text: str, source: str, now: datetime) -> LoadedPolicy | None:
    """The policy from the build's bounded parse of ``text`` (``compiled_yaml``: the bundled policy)
    when it is valid and weakens nothing; None otherwise, so that the full path parses the text and
    names every problem and warning with its line (the lines are what the shortcut does not keep)."""
    from ssm_warden import compiled_yaml

    data = compiled_yaml.bounded_load(text)
    if data is None:
        return None
    try:
        policy = Policy.model_validate(data)
    except ValidationError:
        return None
    refused, weakening = check_policy(policy, now)
    if refused or weakening:
        return None
    return LoadedPolicy(policy=policy, version=policy_version(text), source=source)


def load_policy_file(path: str | Path) -> LoadedPolicy:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc.strerror}") from exc
    return load_policy_text(text, source=str(path))


def bundled_policy_text() -> str:
    return resources.files("ssm_warden.policy").joinpath(BUNDLED_POLICY).read_text()


@lru_cache(maxsize=1)
def default_policy() -> LoadedPolicy:
    """The policy shipped inside the layer (a copy of ``policies/default.yaml``)."""
    return load_policy_text(bundled_policy_text(), source=f"bundled:{BUNDLED_POLICY}")

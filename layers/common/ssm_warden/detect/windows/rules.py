"""Windows rule packs: conditions over facts, with Falco-style lists and macros, as YAML data.

A pack is ``packs/windows-<name>.yaml``; shared ``lists`` and ``macros`` live in ``packs/_lists.yaml``
and any pack may add its own::

    pack: windows-credential-access
    description: …
    lists:
      sensitive_hives: [hklm\\sam, hklm\\security, hklm\\system]
    macros:
      reg_export: '^reg(?:\\.exe)? (?:save|export) '
    rules:
      - id: win-reg-save-hive
        title: …
        category: credential_access
        severity: high
        attack: T1003.002
        when:                                # every condition holds (``any:`` — one of them)
          - command: ['${reg_export}${sensitive_hives}\\b']
            unless: ['…']                    # … and none of these in the same fact
        unless:                              # the rule is off if any of these holds anywhere
          - program: ['^get-help$']
        examples:
          must_match: [reg save HKLM\\SAM C:\\t\\sam]
          must_not_match: [reg export HKCU\\Software\\App app.reg]

A condition names one fact field (see ``facts.FIELDS``) and RE2 patterns, matched
case-insensitively against each value of that field. ``${name}`` in a pattern is a macro (a regex
fragment) or a list (its items, regex-escaped, as one alternation group); macros may use lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ssm_warden import compiled_yaml
from ssm_warden.detect.rules import RulePackError
from ssm_warden.detect.windows.facts import FIELDS
from ssm_warden.models.findings import Severity

SHARED_LISTS = "_lists"
_REFERENCE = re.compile(r"\$\{([a-z0-9_]+)\}")


class ConditionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    field: str
    match: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _field_key(cls, data: Any) -> Any:
        """``{command: [...], unless: [...]}`` → ``{field: command, match: [...], unless: [...]}``."""
        if isinstance(data, dict) and "field" not in data:
            keys = [k for k in data if k in FIELDS]
            if len(keys) != 1:
                raise ValueError(f"a condition names exactly one fact field of {FIELDS}, got {list(data)}")
            data = {"field": keys[0], "match": data[keys[0]], "unless": data.get("unless", [])}
        return data


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    must_match: list[str] = Field(min_length=1)
    must_not_match: list[str] = Field(min_length=1)
    shell: Literal["powershell", "cmd"] = "powershell"


class RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^win-[a-z0-9][a-z0-9-]*$")
    title: str
    description: str
    category: str
    severity: Severity
    attack: str | None = Field(default=None, pattern=r"^T\d{4}(?:\.\d{3})?$")
    when: list[ConditionSpec] = Field(default_factory=list)
    any: list[ConditionSpec] = Field(default_factory=list)
    unless: list[ConditionSpec] = Field(default_factory=list)
    examples: Examples

    @model_validator(mode="after")
    def _has_conditions(self) -> RuleSpec:
        if bool(self.when) == bool(self.any):
            raise ValueError(f"rule {self.id}: give exactly one of `when` (all) or `any`")
        return self


class PackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str = Field(pattern=r"^windows-[a-z0-9-]+$")
    description: str
    lists: dict[str, list[str]] = Field(default_factory=dict)
    macros: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleSpec]


class SharedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    lists: dict[str, list[str]] = Field(default_factory=dict)
    macros: dict[str, str] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    match: tuple[str, ...]
    unless: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WindowsRule:
    id: str
    title: str
    description: str
    category: str
    severity: Severity
    attack: str | None
    combine: Literal["all", "any"]
    conditions: tuple[Condition, ...]
    exceptions: tuple[Condition, ...]
    pack: str
    must_match: tuple[str, ...]
    must_not_match: tuple[str, ...]
    example_shell: Literal["powershell", "cmd"]


def _pack_dir() -> Any:
    return resources.files("ssm_warden.detect.windows").joinpath("packs")


def available_windows_packs() -> list[str]:
    return sorted(
        e.name.removesuffix(".yaml")
        for e in _pack_dir().iterdir()
        if e.name.startswith("windows-") and e.name.endswith(".yaml")
    )


# Windows packs with no Linux namesake, brought by the Linux pack whose concern they share: the
# SSM agent's blind spots are defence evasion; what a remote party reaches next is lateral movement.
_ALSO_BROUGHT: dict[str, tuple[str, ...]] = {
    "defense-evasion": ("windows-ssm-agent",),
    "reverse-shell": ("windows-lateral-movement",),
    "exfiltration": ("windows-collection",),
}


def expand_windows_packs(packs: tuple[str, ...]) -> tuple[str, ...]:
    """The Windows packs a policy's pack list stands for.

    ``default`` (or an empty list) is every ``windows-*`` pack; a ``windows-*`` name is itself; a
    Linux pack name ``X`` brings ``windows-X`` when one exists (``credential-access`` judges Windows
    credential theft too), and ``defense-evasion`` also brings ``windows-ssm-agent`` (see
    ``_ALSO_BROUGHT``), so a policy written before Windows support keeps its meaning.
    """
    shipped = available_windows_packs()
    if not packs:
        return tuple(shipped)
    out: list[str] = []
    for name in packs:
        if name == "default":
            candidates = shipped
        elif name.startswith("windows-"):
            if name not in shipped:
                raise RulePackError(f"unknown rule pack {name!r} (Windows packs: {', '.join(shipped)})")
            candidates = [name]
        else:
            twins = [f"windows-{name}", *_ALSO_BROUGHT.get(name, ())]
            candidates = [t for t in twins if t in shipped]
        out.extend(c for c in candidates if c not in out)
    return tuple(out)


def _load_yaml(name: str) -> Any:
    entry = _pack_dir().joinpath(f"{name}.yaml")
    if not entry.is_file():
        raise RulePackError(f"unknown rule pack {name!r}")
    try:
        return compiled_yaml.safe_load(entry.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RulePackError(f"rule pack {name}.yaml: {exc}") from exc


def _expander(lists: dict[str, list[str]], macros: dict[str, str], source: str) -> Any:
    def expand(pattern: str, depth: int = 0) -> str:
        if depth > 8:
            raise RulePackError(f"{source}: macros nest too deep in {pattern!r}")

        def sub(m: re.Match[str]) -> str:
            name = m.group(1)
            if name in macros:
                return "(?:" + expand(macros[name], depth + 1) + ")"
            if name in lists:
                return "(?:" + "|".join(re.escape(item.lower()) for item in lists[name]) + ")"
            raise RulePackError(f"{source}: unknown list or macro ${{{name}}}")

        return _REFERENCE.sub(sub, pattern)

    return expand


def load_windows_rules(packs: tuple[str, ...]) -> list[WindowsRule]:
    try:
        shared = SharedSpec.model_validate(_load_yaml(SHARED_LISTS))
    except ValidationError as exc:
        raise RulePackError(f"{SHARED_LISTS}.yaml: {exc}") from exc
    rules: list[WindowsRule] = []
    seen: set[str] = set()
    for name in packs:
        try:
            spec = PackSpec.model_validate(_load_yaml(name))
        except ValidationError as exc:
            raise RulePackError(f"rule pack {name}.yaml: {exc}") from exc
        if spec.pack != name:
            raise RulePackError(f"rule pack {name}.yaml declares pack {spec.pack!r}")
        expand = _expander({**shared.lists, **spec.lists}, {**shared.macros, **spec.macros}, name)
        for r in spec.rules:
            if r.id in seen:
                raise RulePackError(f"rule id {r.id} appears twice")
            seen.add(r.id)
            rules.append(_build(r, name, expand))
    return rules


def _condition(spec: ConditionSpec, expand: Any) -> Condition:
    # A script is many lines: there ``.`` crosses line ends, so a pattern can join two statements.
    # Other fields hold one line per value; several values are matched joined by line ends (m).
    flags = "(?is)" if spec.field == "script" else "(?im)"
    return Condition(
        spec.field,
        tuple(flags + expand(p) for p in spec.match),
        tuple(flags + expand(p) for p in spec.unless),
    )


def _build(spec: RuleSpec, pack: str, expand: Any) -> WindowsRule:
    combine: Literal["all", "any"] = "all" if spec.when else "any"
    return WindowsRule(
        id=spec.id,
        title=spec.title,
        description=" ".join(spec.description.split()),
        category=spec.category,
        severity=spec.severity,
        attack=spec.attack,
        combine=combine,
        conditions=tuple(_condition(c, expand) for c in (spec.when or spec.any)),
        exceptions=tuple(_condition(c, expand) for c in spec.unless),
        pack=pack,
        must_match=tuple(spec.examples.must_match),
        must_not_match=tuple(spec.examples.must_not_match),
        example_shell=spec.examples.shell,
    )

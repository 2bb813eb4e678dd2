"""Rules as data: the YAML rule-pack model, the registry of rule kinds, and pack loading.

A pack is one file ``packs/<name>.yaml``::

    pack: reverse-shell
    description: …
    rules:
      - id: revshell-dev-tcp
        title: …
        description: …
        category: reverse_shell
        severity: high                 # low | medium | high | critical
        severity_if_privileged: critical   # optional: when the text ran under sudo/doas/su
        attack: T1059.004
        kind: regex                    # a name from RULE_KINDS; regex is the default
        scope: segment                 # segment | pipeline | snippet | output
        match: [RE2 pattern, …]        # any of these …
        unless: [RE2 pattern, …]       # … and none of these, in the same unit
        examples:
          must_match: [command, …]
          must_not_match: [command, …]

Kinds: ``regex`` (the fields above), ``all_of`` and ``any_of`` (a list of ``clauses``, each with
its own ``scope`` / ``match`` / ``unless`` / ``privileged``; all, or any, must hold somewhere in
the judged text), and ``facts``: a ``condition`` over the facts of each program run, in Falco's
style (``fd.write glob (ssh_key_locations) and not harmless_context``; grammar and fields in
``detect.conditions``), with the shared ``- list:`` / ``- macro:`` entries of ``detect/lists.yaml``
and a pack's own ``lists:`` / ``macros:``. A facts rule may ``escalate`` its severity in context::

        escalate:
          - when: text.unknown          # the text also sends to a host that is not ours
            severity: high

Regex and facts rules live side by side in one pack; a regex pack needs no change.
Patterns are RE2 syntax (no look-around, no back-references), matched
case-insensitively unless ``case_sensitive: true``.

Scopes: ``segment`` is one simple command after normalisation (``curl -s http://x``; a leading
assignment is its own segment, ``HISTSIZE=0``), ``pipeline`` the segments of one pipeline joined by
`` | ``, ``snippet`` all pipelines of the judged text joined by `` ; ``, ``raw`` the text exactly as
typed (for syntax that normalisation takes apart, such as a fork bomb), and ``output`` one line a
terminal printed (output rules only).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ssm_warden import compiled_yaml
from ssm_warden.detect.conditions import ConditionError, Gate, Predicate, compile_condition
from ssm_warden.detect.pack_files import DEFAULT_PACK_ALIAS, available_packs, pack_dir
from ssm_warden.errors import WardenError
from ssm_warden.models.findings import Severity

Scope = Literal["segment", "pipeline", "snippet", "raw", "output"]
COMMAND_SCOPES: tuple[Scope, ...] = ("segment", "pipeline", "snippet", "raw")


class RulePackError(WardenError):
    """A rule pack is missing or invalid. The message names the pack and the rule."""


OUTPUT_PACKS = ("output-secrets",)


class Examples(BaseModel):
    model_config = ConfigDict(extra="forbid")

    must_match: list[str] = Field(min_length=1)
    must_not_match: list[str] = Field(default_factory=list)


class ClauseSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope = "segment"
    match: list[str] = Field(min_length=1)
    unless: list[str] = Field(default_factory=list)
    privileged: bool = False  # the unit must have run under sudo / doas / su
    # segment scope: the unit must run in the session's own shell, not in a shell the command starts
    # (bash -c, su -c, ssh host cmd): for what a shell does to itself, such as redirecting its output
    session_shell: bool = False


class EscalationSpec(BaseModel):
    """A context that makes a fact rule's finding worse: ``when`` (a condition) → ``severity``."""

    model_config = ConfigDict(extra="forbid")

    when: str
    severity: Severity


class RuleSpec(BaseModel):
    """One rule as written in a pack."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    description: str
    category: str
    severity: Severity
    severity_if_privileged: Severity | None = None
    attack: str | None = None
    kind: str = "regex"
    scope: Scope = "segment"
    match: list[str] = Field(default_factory=list)
    unless: list[str] = Field(default_factory=list)
    privileged: bool = False
    session_shell: bool = False  # as ClauseSpec.session_shell
    clauses: list[ClauseSpec] = Field(default_factory=list)
    case_sensitive: bool = False
    condition: str | None = None  # kind facts: a condition over facts (see detect.conditions)
    escalate: list[EscalationSpec] = Field(default_factory=list)  # kind facts: worse in context
    examples: Examples

    @field_validator("attack")
    @classmethod
    def _attack_id(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("T"):
            raise ValueError("attack must be an ATT&CK technique id such as T1059.004")
        return value


class PackSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pack: str
    description: str
    lists: dict[str, list[str]] = Field(default_factory=dict)
    macros: dict[str, str] = Field(default_factory=dict)
    rules: list[RuleSpec]


@dataclass(frozen=True, slots=True)
class Clause:
    """One compiled condition: any ``match`` and no ``unless`` pattern in one unit of ``scope``."""

    scope: Scope
    match: tuple[str, ...]
    unless: tuple[str, ...]
    privileged: bool
    session_shell: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """A loaded rule: what the detector evaluates and what docs and tests read."""

    id: str
    title: str
    description: str
    category: str
    severity: Severity
    severity_if_privileged: Severity | None
    attack: str | None
    kind: str
    combine: Literal["all", "any"]
    clauses: tuple[Clause, ...]
    pack: str
    must_match: tuple[str, ...]
    must_not_match: tuple[str, ...]
    condition: str | None = None
    predicate: Predicate | None = field(default=None, compare=False, repr=False)
    gate: Gate | None = field(default=None, compare=False, repr=False)
    escalations: tuple[tuple[Predicate, Severity], ...] = field(default=(), compare=False, repr=False)

    @property
    def is_output(self) -> bool:
        return self.predicate is None and all(c.scope == "output" for c in self.clauses)

    @property
    def is_facts(self) -> bool:
        return self.predicate is not None


def _flags(spec: RuleSpec, pattern: str) -> str:
    return pattern if spec.case_sensitive else "(?i)" + pattern


def _regex_kind(spec: RuleSpec) -> tuple[Literal["all", "any"], tuple[Clause, ...]]:
    if not spec.match:
        raise ValueError(f"rule {spec.id}: kind regex needs match patterns")
    clause = Clause(
        spec.scope,
        tuple(_flags(spec, p) for p in spec.match),
        tuple(_flags(spec, p) for p in spec.unless),
        spec.privileged,
        spec.session_shell,
    )
    return "any", (clause,)


def _clauses(spec: RuleSpec) -> tuple[Clause, ...]:
    if not spec.clauses:
        raise ValueError(f"rule {spec.id}: kind {spec.kind} needs clauses")
    return tuple(
        Clause(
            c.scope,
            tuple(_flags(spec, p) for p in c.match),
            tuple(_flags(spec, p) for p in c.unless),
            c.privileged,
            c.session_shell,
        )
        for c in spec.clauses
    )


def _facts_kind(spec: RuleSpec) -> tuple[Literal["all", "any"], tuple[Clause, ...]]:
    if not spec.condition:
        raise ValueError(f"rule {spec.id}: kind facts needs a condition")
    return "any", ()


def _all_of_kind(spec: RuleSpec) -> tuple[Literal["all", "any"], tuple[Clause, ...]]:
    return "all", _clauses(spec)


def _any_of_kind(spec: RuleSpec) -> tuple[Literal["all", "any"], tuple[Clause, ...]]:
    return "any", _clauses(spec)


# Rule kinds by name: a pack names its kind, the registry turns the spec into clauses.
RULE_KINDS: dict[str, Callable[[RuleSpec], tuple[Literal["all", "any"], tuple[Clause, ...]]]] = {
    "regex": _regex_kind,
    "all_of": _all_of_kind,
    "any_of": _any_of_kind,
    "facts": _facts_kind,
}


def build_rule(
    spec: RuleSpec,
    pack: str,
    lists: dict[str, tuple[str, ...]] | None = None,
    macros: dict[str, str] | None = None,
) -> Rule:
    kind = RULE_KINDS.get(spec.kind)
    if kind is None:
        raise RulePackError(f"rule {spec.id}: unknown kind {spec.kind!r} (known: {sorted(RULE_KINDS)})")
    try:
        combine, clauses = kind(spec)
    except ValueError as exc:
        raise RulePackError(str(exc)) from exc
    predicate = None
    gate = None
    escalations: list[tuple[Predicate, Severity]] = []
    if spec.condition is not None:
        try:
            predicate, gate = compile_condition(spec.condition, lists or {}, macros or {})
            for esc in spec.escalate:
                escalations.append((compile_condition(esc.when, lists or {}, macros or {})[0], esc.severity))
        except ConditionError as exc:
            raise RulePackError(f"rule {spec.id}: {exc}") from exc
    return Rule(
        id=spec.id,
        title=spec.title,
        description=" ".join(spec.description.split()),
        category=spec.category,
        severity=spec.severity,
        severity_if_privileged=spec.severity_if_privileged,
        attack=spec.attack,
        kind=spec.kind,
        combine=combine,
        clauses=clauses,
        pack=pack,
        must_match=tuple(spec.examples.must_match),
        must_not_match=tuple(spec.examples.must_not_match),
        condition=spec.condition,
        predicate=predicate,
        gate=gate,
        escalations=tuple(escalations),
    )


def default_packs() -> tuple[str, ...]:
    """What the pack name ``default`` stands for: every shipped pack."""
    return tuple(available_packs())


def expand_pack_names(names: Iterable[str] | None) -> tuple[str, ...]:
    """Resolve ``default`` and drop duplicates, keeping order."""
    if names is None:
        return default_packs()
    out: list[str] = []
    for name in names:
        for resolved in default_packs() if name == DEFAULT_PACK_ALIAS else (name,):
            if resolved not in out:
                out.append(resolved)
    return tuple(out)


def load_pack_text(text: str, source: str) -> list[Rule]:
    """Parse and validate one pack's YAML text."""
    try:
        data = compiled_yaml.safe_load(text)
        spec = PackSpec.model_validate(data)
    except (yaml.YAMLError, ValidationError) as exc:
        raise RulePackError(f"rule pack {source}: {exc}") from exc
    lists, macros = shared_lists_and_macros()
    lists = {**lists, **{k: tuple(v) for k, v in spec.lists.items()}}
    macros = {**macros, **spec.macros}
    return [build_rule(r, spec.pack, lists, macros) for r in spec.rules]


class _ListSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(alias="list")
    items: list[str]


class _MacroSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    macro: str
    condition: str


@functools.cache
def shared_lists_and_macros() -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """The lists and macros of ``detect/lists.yaml`` (Falco-shaped: ``- list:`` / ``- macro:``)."""
    text = resources.files("ssm_warden.detect").joinpath("lists.yaml").read_text(encoding="utf-8")
    lists: dict[str, tuple[str, ...]] = {}
    macros: dict[str, str] = {}
    try:
        for entry in compiled_yaml.safe_load(text) or []:
            if "list" in entry:
                item = _ListSpec.model_validate(entry)
                lists[item.name] = tuple(item.items)
            else:
                macro = _MacroSpec.model_validate(entry)
                macros[macro.macro] = " ".join(macro.condition.split())
    except (yaml.YAMLError, ValidationError, TypeError) as exc:
        raise RulePackError(f"lists.yaml: {exc}") from exc
    return lists, macros


def load_pack(name: str) -> list[Rule]:
    """Load a shipped pack by name."""
    entry = pack_dir().joinpath(f"{name}.yaml")
    if not entry.is_file():
        raise RulePackError(f"unknown rule pack {name!r} (shipped: {', '.join(available_packs())})")
    rules = load_pack_text(entry.read_text(encoding="utf-8"), f"{name}.yaml")
    for rule in rules:
        if rule.pack != name:
            raise RulePackError(f"rule pack {name}.yaml declares pack {rule.pack!r}")
    return rules


def load_rules(packs: Iterable[str] | None = None) -> list[Rule]:
    """Every rule of the named packs (``None`` or ``default``: every shipped pack)."""
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for name in expand_pack_names(packs):
        for rule in load_pack(name):
            if rule.id in seen:
                raise RulePackError(f"rule id {rule.id} is in packs {seen[rule.id]} and {name}")
            seen[rule.id] = name
            rules.append(rule)
    return rules

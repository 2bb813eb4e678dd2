"""Conditions over facts, written the way Falco writes them, compiled once into Python predicates.

Grammar::

    condition := or ;  or := and ("or" and)* ;  and := not ("and" not)* ;
    not := "not" not | "(" condition ")" | MACRO | FIELD [OP VALUE]
    OP    := = | != | in | startswith | endswith | contains | glob | pmatch | icontains
    VALUE := "(" item ("," item)* ")" | item      item := LIST-NAME | "quoted" | bare-word

A list name inside a value stands for its items (``proc.name in (shell_binaries, busybox)``); a
macro name stands for its condition. A field that holds several values (``fd.read``) satisfies an
operator when any value does; a field alone is true when it is non-empty. ``glob`` and ``pmatch``
use shell patterns (``*/.ssh/*``); paths are compared with ``~``, ``$HOME`` and ``/home/<user>``
read as ``~`` and ``/root`` as both.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ssm_warden.detect.facts import ExecFacts, TextFacts

Predicate = Callable[[ExecFacts, TextFacts], bool]


@dataclass(frozen=True, slots=True)
class Gate:
    """What a program must have for a condition to be able to hold: one of ``names`` (None: any
    program) and a non-empty value in each of ``needs``. Checked before the condition itself, so
    most rules cost a set lookup for most programs. ``alternatives`` (when set) are the gates of
    the branches of an ``or``: the condition can hold when one of them does."""

    names: frozenset[str] | None = None
    needs: frozenset[str] = frozenset()
    alternatives: tuple[Gate, ...] = ()

    def branches(self) -> tuple[Gate, ...]:
        return self.alternatives or (self,)


_ANY = Gate()
_MAX_BRANCHES = 16
_SET_FIELDS = frozenset(
    {
        "fd.read",
        "fd.write",
        "fd.append",
        "fd.delete",
        "fd.any",
        "net.dest",
        "net.unknown",
        "pipe.from",
        "pipe.to",
        "proc.flags",
        "proc.operands",
    }
)


def _and_two(a: Gate, b: Gate) -> Gate:
    if a.names is None or b.names is None:
        return Gate(a.names if b.names is None else b.names, a.needs | b.needs)
    return Gate(a.names & b.names, a.needs | b.needs)


def _and_gate(gates: list[Gate]) -> Gate:
    branches: tuple[Gate, ...] = (_ANY,)
    for g in gates:
        branches = tuple(_and_two(x, y) for x in branches for y in g.branches())
        if len(branches) > _MAX_BRANCHES:
            return _ANY
    return _from_branches(branches)


def _or_gate(gates: list[Gate]) -> Gate:
    branches = tuple(b for g in gates for b in g.branches())
    if len(branches) > _MAX_BRANCHES or any(b.names is None and not b.needs for b in branches):
        return _ANY
    return _from_branches(branches)


def _from_branches(branches: tuple[Gate, ...]) -> Gate:
    if len(branches) == 1:
        return branches[0]
    names: frozenset[str] | None = frozenset()
    for b in branches:
        names = None if b.names is None or names is None else names | b.names
    return Gate(names, frozenset(), branches)


class ConditionError(ValueError):
    """A condition that does not parse, or names an unknown field, list or macro."""


def _home(path: str) -> tuple[str, ...]:
    if path.startswith("$HOME"):
        path = "~" + path[5:]
    elif path.startswith("${HOME}"):
        path = "~" + path[7:]
    m = re.match(r"^/home/[^/]+", path)
    if m:
        return ("~" + path[m.end() :], path)
    if path.startswith("/root"):
        return ("~" + path[5:], path)
    return (path,)


def _paths(values: Any) -> list[str]:
    return [p for v in values for p in _home(v)]


def _memo(name: str, fn: Callable[[ExecFacts, TextFacts], Any]) -> Callable[[ExecFacts, TextFacts], Any]:
    def get(e: ExecFacts, t: TextFacts) -> Any:
        try:
            return e.memo[name]
        except KeyError:
            value = e.memo[name] = fn(e, t)
            return value

    return get


FIELDS: dict[str, Callable[[ExecFacts, TextFacts], Any]] = {
    "proc.name": lambda e, t: e.name,
    "proc.path": lambda e, t: e.path,
    "proc.args": lambda e, t: e.args,
    "proc.cmdline": _memo("proc.cmdline", lambda e, t: e.cmdline),
    "proc.flags": lambda e, t: e.flags,
    "proc.operands": lambda e, t: e.operands,
    "proc.sudo": lambda e, t: e.sudo,
    "proc.nested": lambda e, t: e.depth > 0,
    "proc.dry_run": lambda e, t: e.dry_run,
    "proc.help": lambda e, t: e.help,
    "fd.read": _memo("fd.read", lambda e, t: _paths(e.reads)),
    "fd.write": _memo("fd.write", lambda e, t: _paths(e.writes | e.appends)),
    "fd.append": _memo("fd.append", lambda e, t: _paths(e.appends)),
    "fd.delete": _memo("fd.delete", lambda e, t: _paths(e.deletes)),
    "fd.any": _memo(
        "fd.any", lambda e, t: _paths(e.reads | e.writes | e.appends | e.deletes | set(e.operands))
    ),
    "net.dest": lambda e, t: e.dests,
    "net.unknown": lambda e, t: e.unknown_dests,
    "pipe.from": lambda e, t: e.pipe_from,
    "pipe.to": lambda e, t: e.pipe_to,
    "text.names": lambda e, t: t.names,
    "text.read": _memo("text.read", lambda e, t: _paths(t.reads)),
    "text.unknown": lambda e, t: t.unknown_dests,
    "text.sudo": lambda e, t: t.sudo,
}

_TOKEN = re.compile(r"""\s*(?:(\()|(\))|(,)|"((?:[^"\\]|\\.)*)"|'([^']*)'|(!=|=)|([^\s(),"'=!]+))""")
_OPS = frozenset({"=", "!=", "in", "startswith", "endswith", "contains", "icontains", "glob", "pmatch"})


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ConditionError(f"cannot read condition at {text[pos : pos + 20]!r}")
        pos = m.end()
        if m.group(1):
            out.append(("(", "("))
        elif m.group(2):
            out.append((")", ")"))
        elif m.group(3):
            out.append((",", ","))
        elif m.group(4) is not None:
            out.append(("str", m.group(4).replace('\\"', '"')))
        elif m.group(5) is not None:
            out.append(("str", m.group(5)))
        elif m.group(6):
            out.append(("op", m.group(6)))
        elif m.group(7):
            out.append(("word", m.group(7)))
    return out


class _Compiler:
    def __init__(
        self,
        text: str,
        lists: Mapping[str, tuple[str, ...]],
        macros: Mapping[str, str],
        seen: tuple[str, ...],
    ) -> None:
        self.toks = _tokens(text)
        self.i = 0
        self.lists = lists
        self.macros = macros
        self.seen = seen
        self.text = text

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise ConditionError(f"condition ends early: {self.text!r}")
        self.i += 1
        return tok

    def compile(self) -> tuple[Predicate, Gate]:
        compiled = self.or_()
        if self.peek() is not None:
            raise ConditionError(f"unexpected {self.peek()} in {self.text!r}")
        return compiled

    def or_(self) -> tuple[Predicate, Gate]:
        terms = [self.and_()]
        while self.peek() == ("word", "or"):
            self.take()
            terms.append(self.and_())
        if len(terms) == 1:
            return terms[0]
        return _any_of(tuple(p for p, _ in terms)), _or_gate([g for _, g in terms])

    def and_(self) -> tuple[Predicate, Gate]:
        terms = [self.not_()]
        while self.peek() == ("word", "and"):
            self.take()
            terms.append(self.not_())
        if len(terms) == 1:
            return terms[0]
        return _all_of(tuple(p for p, _ in terms)), _and_gate([g for _, g in terms])

    def not_(self) -> tuple[Predicate, Gate]:
        tok = self.take()
        if tok == ("word", "not"):
            inner, _ = self.not_()
            return (lambda e, t: not inner(e, t)), _ANY
        if tok[0] == "(":
            inner_gate = self.or_()
            if self.take()[0] != ")":
                raise ConditionError(f"missing ) in {self.text!r}")
            return inner_gate
        if tok[0] != "word":
            raise ConditionError(f"unexpected {tok[1]!r} in {self.text!r}")
        name = tok[1]
        if name in self.macros:
            if name in self.seen:
                raise ConditionError(f"macro {name} refers to itself")
            return _Compiler(self.macros[name], self.lists, self.macros, (*self.seen, name)).compile()
        getter = FIELDS.get(name)
        if getter is None:
            raise ConditionError(f"unknown field or macro {name!r} in {self.text!r}")
        nxt = self.peek()
        needs = frozenset({name}) if name in _SET_FIELDS else frozenset()
        if nxt is None or nxt[1] not in _OPS:
            return (lambda e, t: bool(getter(e, t))), Gate(None, needs)
        op = self.take()[1]
        values = self.values()
        gate = Gate(frozenset(values) if name == "proc.name" and op in ("=", "in") else None)
        if op != "!=":
            gate = Gate(gate.names, needs)
        return _comparison(getter, op, values, name), gate

    def values(self) -> tuple[str, ...]:
        tok = self.take()
        if tok[0] == "(":
            items: list[str] = []
            while True:
                item = self.take()
                if item[0] == ")":
                    break
                if item[0] == ",":
                    continue
                items.extend(self.item(item))
            return tuple(items)
        return tuple(self.item(tok))

    def item(self, tok: tuple[str, str]) -> tuple[str, ...]:
        if tok[0] == "word" and tok[1] in self.lists:
            return self.lists[tok[1]]
        return (tok[1],)


def _any_of(preds: tuple[Predicate, ...]) -> Predicate:
    def any_holds(e: ExecFacts, t: TextFacts) -> bool:
        # In order, stopping at the first that holds; a loop, not any(): no generator per call.
        for p in preds:  # noqa: SIM110
            if p(e, t):
                return True
        return False

    return any_holds


def _all_of(preds: tuple[Predicate, ...]) -> Predicate:
    def all_hold(e: ExecFacts, t: TextFacts) -> bool:
        for p in preds:  # noqa: SIM110 - as above
            if not p(e, t):
                return False
        return True

    return all_hold


# Fields holding one string: compared directly, not as a collection of one (the same result).
_STRING_FIELDS = frozenset({"proc.name", "proc.path", "proc.cmdline"})


def _comparison(
    getter: Callable[[ExecFacts, TextFacts], Any], op: str, values: tuple[str, ...], field: str = ""
) -> Predicate:
    match: Callable[[str], bool]
    single = field in _STRING_FIELDS
    if op in ("=", "in"):
        wanted = frozenset(values)
        if single:
            return lambda e, t: getter(e, t) in wanted
        return lambda e, t: not wanted.isdisjoint(_many(getter(e, t)))
    if op == "!=":
        wanted = frozenset(values)
        if single:
            return lambda e, t: getter(e, t) not in wanted
        return lambda e, t: wanted.isdisjoint(_many(getter(e, t)))
    if op == "startswith":
        prefixes = tuple(values)
        match = lambda v: v.startswith(prefixes)  # noqa: E731
    elif op == "endswith":
        suffixes = tuple(values)
        match = lambda v: v.endswith(suffixes)  # noqa: E731
    elif op == "contains":
        match = lambda v: any(x in v for x in values)  # noqa: E731
    elif op == "icontains":
        lowered = tuple(x.lower() for x in values)
        match = lambda v: any(x in v.lower() for x in lowered)  # noqa: E731
    else:  # glob, pmatch: shell patterns, translated and compiled on the comparison's first use
        match = _lazy_glob(op, values)
    if single:
        return lambda e, t: match(getter(e, t))

    def any_value(e: ExecFacts, t: TextFacts) -> bool:
        for v in _many(getter(e, t)):  # noqa: SIM110 - a loop, not any(): no generator per call
            if match(v):
                return True
        return False

    return any_value


def _lazy_glob(op: str, values: tuple[str, ...]) -> Callable[[str], bool]:
    """``_glob(op, values)``, built the first time it is asked about a value: translating and
    compiling every rule's shell patterns is most of the detector's build (a cold start's), while a
    container's commands reach few of these comparisons (the rules' gates skip the rest)."""
    built: list[Callable[[str], bool]] = []

    def match(value: str) -> bool:
        if not built:
            built.append(_glob(op, values))
        return built[0](value)

    return match


def _glob(op: str, values: tuple[str, ...]) -> Callable[[str], bool]:
    """Shell patterns (``fnmatch``); ``pmatch`` also matches anything under a listed directory."""
    patterns = [fnmatch.translate(p) for p in values]
    if op == "pmatch":
        patterns += [fnmatch.translate(p.rstrip("/") + "/*") for p in values]
    regex = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    return (lambda v: regex.match(v) is not None) if regex else (lambda v: False)


def _many(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, bool):
        return ("true",) if value else ()
    return value


def compile_condition(
    text: str, lists: Mapping[str, tuple[str, ...]], macros: Mapping[str, str]
) -> tuple[Predicate, Gate]:
    """The predicate of ``text`` and its gate; raises ConditionError on anything it cannot read."""
    return _Compiler(text, lists, macros, ()).compile()

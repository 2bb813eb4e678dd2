"""The detector: rules compiled once into RE2 sets, commands and output lines in, findings out.

Every pattern of every rule is added to one RE2 set per scope, so judging a unit of text is one
linear-time pass whatever the number of rules; only the rules that matched are searched again, to
quote the matching text in the finding's reason. RE2 never backtracks, so a megabyte line costs
milliseconds, not minutes.

A command's segments, pipelines, snippet and raw text are mostly the same few strings (``ls -la``
is all four), so a text up to ``_ONE_PASS_LIMIT`` long is searched once against the match patterns
of every command scope together (each slot says its scope), and against the unless patterns only
when something matched. Fact rules are evaluated only for programs that pass their gate (program
name and non-empty fields, ``conditions.Gate``). tests/unit/detect/test_evaluation_shortcuts.py
compares each shortcut with the exhaustive evaluation.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import re2

from ssm_warden.detect.conditions import Gate
from ssm_warden.detect.context import inert
from ssm_warden.detect.facts import NO_OWN_NETWORK, READS_OR_WRITES, ExecFacts, OwnNetwork, derive
from ssm_warden.detect.normalize import FULL_PARSE_LIMIT, Normalized, normalize
from ssm_warden.detect.pattern_set import PatternSet, re2_options
from ssm_warden.detect.rules import Rule, Scope, expand_pack_names, load_rules
from ssm_warden.detect.shell.syntax import Pipeline
from ssm_warden.encodable import encodable
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.shells import Shell
from ssm_warden.slack.redact import redact

_EXCERPT = 160
_REDACT_WHOLE = 8192  # texts up to this long are masked whole before an excerpt is cut
_REDACT_MARGIN = 4096
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


@dataclass(frozen=True, slots=True)
class _Slot:
    rule: int
    clause: int
    negative: bool
    scope: Scope = "segment"


# Texts up to this long are matched once against every command scope's patterns together (one RE2
# pass per distinct text, not one per scope); longer ones against each scope's own set, as RE2's
# lazy DFA over a big set and a long text is where its memory budget could run out.
_ONE_PASS_LIMIT = 8192


# One text a rule's clause can be matched in: (text, privileged, child). ``child``: a segment run by
# a shell the command starts (views.Segment.child). Plain tuples: several are built per command.
_Unit = tuple[str, bool, bool]


class Detector:
    """Judges commands (and output lines) against a fixed list of rules."""

    def __init__(self, rules: Sequence[Rule], own: OwnNetwork = NO_OWN_NETWORK) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.own = own
        self.packs: tuple[str, ...] = tuple(dict.fromkeys(r.pack for r in self.rules))
        self.fact_rules = tuple(r for r in self.rules if r.is_facts)
        # Fact rules by the program names their condition can hold for (see conditions.Gate).
        self._facts_by_name: dict[str, list[Rule]] = {}
        self._facts_any_name: list[Rule] = []
        self._gate_cache: dict[tuple[str | bool, ...], tuple[Rule, ...]] = {}
        for rule in self.fact_rules:
            names = rule.gate.names if rule.gate is not None else None
            if names is None:
                self._facts_any_name.append(rule)
            for name in names or ():
                self._facts_by_name.setdefault(name, []).append(rule)
        self._fact_relevant = _relevance(self._facts_by_name, self._facts_any_name)
        self._scopes: dict[Scope, PatternSet[_Slot]] = {
            s: PatternSet[_Slot]() for s in ("segment", "pipeline", "snippet", "raw", "output")
        }
        # Every command scope's patterns in two sets (match and unless), each slot tagged with its
        # scope: the unless set is searched only in a text that the match set found something in.
        self._command_match = PatternSet[_Slot]()
        self._command_unless = PatternSet[_Slot]()
        for r_index, rule in enumerate(self.rules):
            for c_index, clause in enumerate(rule.clauses):
                matcher = self._scopes[clause.scope]
                for negative, patterns in ((False, clause.match), (True, clause.unless)):
                    for pattern in patterns:
                        slot = _Slot(r_index, c_index, negative, clause.scope)
                        matcher.add(pattern, slot, rule.id)
                        if clause.scope != "output":
                            (self._command_unless if negative else self._command_match).add(
                                pattern, slot, rule.id
                            )
        # The per-scope command sets serve only texts too long for the one pass over the two command
        # sets: each is compiled on first use (the segment set alone is ~20 ms of a cold start). Their
        # patterns are all in the command sets, compiled here, so an invalid one still fails the build.
        self._uncompiled: set[str] = {s for s in self._scopes if s != "output"}
        for matcher in (self._scopes["output"], self._command_match, self._command_unless):
            matcher.compile()
        # (rule, clause) -> (the clause needs a privileged unit, it needs the session's own shell)
        self._clause_guards: dict[tuple[int, int], tuple[bool, bool]] = {
            (r, c): (clause.privileged, clause.session_shell)
            for r, rule in enumerate(self.rules)
            for c, clause in enumerate(rule.clauses)
        }
        self.command_rules = tuple(r for r in self.rules if not r.is_output)
        self.output_rules = tuple(r for r in self.rules if r.is_output)

    # -- public -------------------------------------------------------------------------------------
    def judge_command(self, command: str, shell: Shell = "posix") -> list[Finding]:
        """Findings for one command line or a pasted multi-line snippet (one per rule at most).

        A snippet is judged as a whole and line by line; a rule that fires either way is reported.
        ``shell`` is the shell the command was typed in: PowerShell and cmd commands go to the
        Windows detector when it is installed, else they are judged with these rules.
        """
        command = encodable(command)
        if shell != "posix":
            windows = self._windows()
            if windows is not None:
                return list(windows.judge_command(command, shell))
        texts = [command]
        lines = [line for line in command.splitlines() if line.strip()]
        if len(lines) > 1 and len(command) <= FULL_PARSE_LIMIT:
            texts.extend(lines)
        best: dict[str, Finding] = {}
        masked: dict[str, str] = {}  # redact() of each text quoted, once per call (it is pure)
        # What each text matched, by scope: a snippet's lines are mostly its own segments again.
        matched: dict[str, dict[str, set[tuple[int, int]]]] = {}
        parsed: dict[str, list[Pipeline]] = {}  # parse results by text, shared the same way
        for text in texts:
            views = normalize(text, parsed)
            for finding in self._judge_normalized(text, views, command, masked, matched):
                current = best.get(finding.rule)
                if current is None or finding.severity.rank > current.severity.rank:
                    best[finding.rule] = finding
        return _ordered(best.values())

    def _windows(self) -> Any:
        try:
            from ssm_warden.detect.windows import windows_detector  # type: ignore[import-not-found,unused-ignore]
        except ImportError:
            return None
        return windows_detector(self.packs)

    def judge_output(self, line: str) -> list[Finding]:
        """Findings of the output rules (secrets shown on screen) for one line a terminal printed."""
        line = encodable(line)
        clean = _ANSI_ESCAPE.sub("", line)
        units: tuple[tuple[Scope, list[_Unit]], ...] = (("output", [(clean, False, False)]),)
        return _ordered(self._evaluate(units, False, line, output=True, masked={}))

    # -- internals ----------------------------------------------------------------------------------
    def _judge_normalized(
        self,
        text: str,
        views: Normalized,
        original: str,
        masked: dict[str, str],
        matched: dict[str, dict[str, set[tuple[int, int]]]] | None = None,
    ) -> list[Finding]:
        privileged = views.privileged
        units: tuple[tuple[Scope, list[_Unit]], ...] = (
            ("segment", [(s.text, s.privileged, s.child) for s in views.segments]),
            ("pipeline", [(p, privileged, False) for p in views.pipelines]),
            ("snippet", [(views.snippet, privileged, False)] if views.snippet_parts else []),
            ("raw", [(text, privileged, False)]),
        )
        findings = self._evaluate(units, privileged, original, output=False, masked=masked, matched=matched)
        if self.fact_rules and views.execs:
            findings.extend(self._judge_facts(views, original, {f.rule for f in findings}, masked))
        if findings and inert(views):
            # Every program in the text only prints, or runs with a dry-run or help flag:
            # nothing in it acts, whatever the words it prints look like.
            return []
        return findings

    def _candidates(self, e: ExecFacts) -> tuple[Rule, ...]:
        """The fact rules whose gate this program passes (remembered by name and shape)."""
        key = (  # "not x": which fields are empty (no call to bool() per field)
            e.name,
            not e.reads,
            not e.writes,
            not e.appends,
            not e.deletes,
            not e.dests,
            not e.unknown_dests,
            not e.pipe_from,
            not e.pipe_to,
            not e.flags,
            not e.operands,
        )
        found = self._gate_cache.get(key)
        if found is None:
            shape = frozenset(n for n, nonempty in _NONEMPTY.items() if nonempty(e))
            pool = (*self._facts_by_name.get(e.name, ()), *self._facts_any_name)
            found = tuple(r for r in pool if r.gate is None or _passes(r.gate, e.name, shape))
            if len(self._gate_cache) > 8192:
                self._gate_cache.clear()
            self._gate_cache[key] = found
        return found

    def _judge_facts(
        self, views: Normalized, original: str, already: set[str], masked: dict[str, str] | None = None
    ) -> list[Finding]:
        relevant = self._fact_relevant
        if relevant is not None:
            for run in views.execs:
                if run.redirs or run.argv[0] in relevant:
                    break
            else:
                return []  # no program here can satisfy any fact rule's gate
        execs, text = derive(views.execs, self.own)
        hits: dict[str, tuple[Rule, ExecFacts]] = {}
        for e in execs:
            for rule in self._candidates(e):
                if rule.id in hits or rule.id in already or rule.predicate is None:
                    continue
                if rule.predicate(e, text):
                    hits[rule.id] = (rule, e)
        findings: list[Finding] = []
        for rule, hit in hits.values():
            severity = rule.severity
            if (hit.sudo or views.privileged) and rule.severity_if_privileged is not None:
                severity = rule.severity_if_privileged
            for when, worse in rule.escalations:
                if worse.rank > severity.rank and when(hit, text):
                    severity = worse
            excerpt = _cut(_masked(hit.cmdline, {} if masked is None else masked), 0, 0)
            findings.append(
                Finding(
                    rule=rule.id,
                    title=rule.title,
                    severity=severity,
                    category=rule.category,
                    attack=rule.attack,
                    reason=f"{rule.title}: {excerpt}",
                    pack=rule.pack,
                    command=original,
                )
            )
        return findings

    def _scope_set(self, scope: str) -> PatternSet[_Slot]:
        matcher = self._scopes[scope]  # type: ignore[index]
        if scope in self._uncompiled:
            self._uncompiled.discard(scope)
            matcher.compile()
        return matcher

    def _met_by_scope(self, text: str) -> dict[str, set[tuple[int, int]]]:
        """The (rule, clause) pairs ``text`` meets in each command scope: a match and no unless."""
        slots = self._command_match.match(text)
        if not slots:
            return {}
        met: dict[str, set[tuple[int, int]]] = {}
        for slot in slots:
            met.setdefault(slot.scope, set()).add((slot.rule, slot.clause))
        for slot in self._command_unless.match(text):
            keys = met.get(slot.scope)
            if keys is not None:
                keys.discard((slot.rule, slot.clause))
        return met

    def _evaluate(
        self,
        units: tuple[tuple[Scope, list[_Unit]], ...],
        privileged: bool,
        original: str,
        output: bool,
        masked: dict[str, str],
        matched: dict[str, dict[str, set[tuple[int, int]]]] | None = None,
    ) -> list[Finding]:
        # (rule, clause) -> first unit that satisfies it, and whether any satisfying unit is privileged
        satisfied: dict[tuple[int, int], tuple[_Unit, bool]] = {}
        # text -> the clauses it meets, by scope (pure: shared by the texts of one judge_command)
        one_pass: dict[str, dict[str, set[tuple[int, int]]]] = {} if matched is None else matched
        guards = self._clause_guards
        for scope, scope_units in units:
            seen_texts: set[_Unit] = set()
            for unit in scope_units:
                if unit in seen_texts:
                    continue
                seen_texts.add(unit)
                text, unit_privileged, child = unit
                if output or len(text) > _ONE_PASS_LIMIT:
                    met: set[tuple[int, int]] | None = _met(self._scope_set(scope).match(text))
                else:
                    by_scope = one_pass.get(text)
                    if by_scope is None:
                        by_scope = one_pass[text] = self._met_by_scope(text)
                    met = by_scope.get(scope)
                if not met:
                    continue
                for key in met:
                    needs_privilege, session_shell = guards[key]
                    if (needs_privilege and not unit_privileged) or (session_shell and child):
                        continue
                    prior = satisfied.get(key)
                    if prior is None:
                        satisfied[key] = (unit, unit_privileged)
                    elif unit_privileged and not prior[1]:
                        satisfied[key] = (prior[0], True)
        if not satisfied:
            return []
        findings: list[Finding] = []
        for r_index in sorted({k[0] for k in satisfied}):
            rule = self.rules[r_index]
            if rule.is_output != output:
                continue
            hits = [satisfied.get((r_index, c)) for c in range(len(rule.clauses))]
            present = [h for h in hits if h is not None]
            if rule.combine == "all" and len(present) != len(rule.clauses):
                continue
            if not present:
                continue
            elevated = privileged or any(h[1] for h in present)
            severity = rule.severity
            if elevated and rule.severity_if_privileged is not None:
                severity = rule.severity_if_privileged
            excerpts = [_excerpt(rule, c, h[0][0], masked) for c, h in enumerate(hits) if h is not None]
            findings.append(
                Finding(
                    rule=rule.id,
                    title=rule.title,
                    severity=severity,
                    category=rule.category,
                    attack=rule.attack,
                    reason=f"{rule.title}: " + " … ".join(excerpts),
                    pack=rule.pack,
                    command=original,
                )
            )
        return findings


_NONEMPTY: dict[str, Callable[[ExecFacts], bool]] = {
    "fd.read": lambda e: bool(e.reads),
    "fd.write": lambda e: bool(e.writes or e.appends),
    "fd.append": lambda e: bool(e.appends),
    "fd.delete": lambda e: bool(e.deletes),
    "net.dest": lambda e: bool(e.dests),
    "net.unknown": lambda e: bool(e.unknown_dests),
    "pipe.from": lambda e: bool(e.pipe_from),
    "pipe.to": lambda e: bool(e.pipe_to),
    "fd.any": lambda e: bool(e.operands or e.reads or e.writes or e.appends or e.deletes),
    "proc.flags": lambda e: bool(e.flags),
    "proc.operands": lambda e: bool(e.operands),
}


def _met(slots: list[_Slot]) -> set[tuple[int, int]]:
    """The (rule, clause) pairs of ``slots`` (one scope's matches in one text) with a match and no unless."""
    positive: set[tuple[int, int]] = set()
    negative: set[tuple[int, int]] = set()
    for slot in slots:
        (negative if slot.negative else positive).add((slot.rule, slot.clause))
    return positive - negative


def _relevance(by_name: dict[str, list[Rule]], any_name: list[Rule]) -> frozenset[str] | None:
    """Program names that can make a fact rule hold, when that can be known from the name and
    redirections alone; None when some rule could hold for any program."""
    names = set(by_name) | READS_OR_WRITES | {"busybox"}
    for rule in any_name:
        for branch in rule.gate.branches() if rule.gate is not None else (Gate(),):
            if branch.names is None and not branch.needs & {"fd.read", "fd.write", "fd.append"}:
                return None
            names |= branch.names or set()
    return frozenset(names)


def _passes(gate: Gate, name: str, shape: frozenset[str]) -> bool:
    return any((b.names is None or name in b.names) and b.needs <= shape for b in gate.branches())


def _masked(text: str, memo: dict[str, str]) -> str:
    found = memo.get(text)
    if found is None:
        found = memo[text] = redact(text)
    return found


def _excerpt(rule: Rule, clause_index: int, text: str, memo: dict[str, str]) -> str:
    """The text around what the clause matched, masked BEFORE it is cut: a cut never shows the
    beginning of a secret that redaction would have recognised whole."""
    clause = rule.clauses[clause_index]
    if len(text) > _REDACT_WHOLE:
        # A long text: mask a wide window around the match, then cut within it. A secret that
        # crosses the window's edge is thousands of characters from the excerpt.
        for pattern in clause.match:
            m = _compiled(pattern).search(text)
            if m is not None:
                lo = max(0, m.start() - _REDACT_MARGIN)
                text = text[lo : m.start() + _EXCERPT + _REDACT_MARGIN]  # _cut keeps ≤ _EXCERPT
                break
        else:
            text = text[:_REDACT_MARGIN]
    masked = _masked(text, memo)
    for pattern in clause.match:
        m = _compiled(pattern).search(masked)
        if m is not None:
            return _cut(masked, *m.span())
    return _cut(masked, 0, 0)


def _cut(text: str, start: int, end: int) -> str:
    lo = max(0, start - 30)
    hi = min(len(text), max(end, start + 1) + 30)
    if start == 0 and end == 0:
        lo, hi = 0, min(len(text), _EXCERPT)
    if hi - lo > _EXCERPT:
        hi = lo + _EXCERPT
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    return f"`{prefix}{text[lo:hi]}{suffix}`"


@functools.lru_cache(maxsize=2048)
def _compiled(pattern: str) -> re2._Regexp:
    return re2.compile(pattern, re2_options())


def _ordered(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (-f.severity.rank, f.rule))


@functools.lru_cache(maxsize=16)
def _detector_for(packs: tuple[str, ...], own: OwnNetwork) -> Detector:
    return Detector(load_rules(packs), own)


def get_detector(packs: tuple[str, ...] | None = None, own: OwnNetwork | None = None) -> Detector:
    """The detector for these packs (``None`` or ``("default",)``: every shipped pack).

    ``own`` says which buckets and domains are the account's own (from the policy); private
    address ranges are always ours. Rules are loaded and compiled once per process (a Lambda
    container) and per packs tuple.
    """
    return _detector_for(expand_pack_names(packs), own or NO_OWN_NETWORK)


def max_severity(findings: Iterable[Finding]) -> Severity | None:
    """The highest severity among ``findings``, or None when there are none."""
    top: Severity | None = None
    for finding in findings:
        if top is None or finding.severity.rank > top.rank:
            top = finding.severity
    return top

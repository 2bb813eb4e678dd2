"""The detector's shortcuts change no verdict: each is compared with the exhaustive evaluation it
replaces, on every rule example and on generated shell text (hypothesis).

- one RE2 pass per distinct text over every command scope (match and unless sets apart) against one
  pass per scope and text;
- fact rules picked by their gate (program name and non-empty fields) and the early return when no
  program can satisfy any gate, against evaluating every fact rule on every program;
- the cheap pre-checks in expansion and fact derivation against the functions they skip.
"""

from __future__ import annotations

import functools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ssm_warden.detect import detector as detector_module
from ssm_warden.detect.detector import Detector, get_detector
from ssm_warden.detect.facts import _DASH_N_DRY, _DRY_RUN, _EMBEDDED_COMMAND, _HELP, _HELP_ALONE, derive
from ssm_warden.detect.facts import _split as split_flags
from ssm_warden.detect.facts import exec_facts as derive_one
from ssm_warden.detect.normalize import normalize
from ssm_warden.detect.rules import load_rules
from ssm_warden.detect.shell.views import Exec
from ssm_warden.detect.shell.words import canonical_hosts
from ssm_warden.models.findings import Finding

_WORDS = [
    "curl",
    "wget",
    "sh",
    "bash",
    "-c",
    "sudo",
    "env",
    "cat",
    "tee",
    "-a",
    "cp",
    "rm",
    "-rf",
    "grep",
    "find",
    "-exec",
    "{}",
    ";",
    "xargs",
    "busybox",
    "nc",
    "-e",
    "/bin/sh",
    "python3",
    "-m",
    "aws",
    "s3",
    "cp",
    "s3://bucket/x",
    "--dry-run",
    "-n",
    "-h",
    "--help",
    "rsync",
    "/etc/shadow",
    "~/.ssh/authorized_keys",
    "/tmp/x",
    "./run.sh",
    "http://203.0.113.5/a",
    "10.0.0.1",
    "example.com",
    "base64",
    "-d",
    "echo",
    "printf",
    "crontab",
    "-",
    "x=1",
    "HISTFILE=/dev/null",
    "sysctl",
    "-w",
    "kernel.randomize_va_space=0",
    "chmod",
    "+s",
    "/usr/bin/find",
    "ssh",
    "user@host.example",
    "docker",
    "run",
    "-v",
    "/:/host",
    "kubectl",
    "get",
    "secret",
    "-o",
    "yaml",
    "history",
    "-c",
]
_GLUE = [
    " ",
    " | ",
    " ; ",
    " && ",
    " || ",
    "\n",
    " > /tmp/o ",
    " >> ~/.bashrc ",
    " 2>&1 ",
    " $(",
    ") ",
    "'",
    '"',
]


@functools.cache
def _examples() -> list[str]:
    return [text for rule in load_rules() for text in (*rule.must_match, *rule.must_not_match)]


_shell_text = st.lists(
    st.one_of(st.sampled_from(_WORDS), st.sampled_from(_GLUE)), min_size=1, max_size=14
).map("".join)


def _dump(findings: list[Finding]) -> list[tuple[str, str, str]]:
    return [(f.rule, f.severity.value, f.reason) for f in findings]


def _per_scope(detector: Detector, monkeypatch: pytest.MonkeyPatch, text: str) -> list[Finding]:
    with monkeypatch.context() as patch:
        patch.setattr(detector_module, "_ONE_PASS_LIMIT", -1)  # every text: one pass per scope
        return detector.judge_command(text)


def test_one_pass_over_all_scopes_finds_what_one_pass_per_scope_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detector = get_detector()
    differing = [
        text
        for text in _examples()
        if _dump(detector.judge_command(text)) != _dump(_per_scope(detector, monkeypatch, text))
    ]
    assert differing == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_shell_text)
def test_one_pass_matches_per_scope_on_generated_text(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    detector = get_detector()
    assert _dump(detector.judge_command(text)) == _dump(_per_scope(detector, monkeypatch, text))


def _every_fact_rule_that_holds(detector: Detector, text: str) -> set[str]:
    views = normalize(text)
    execs, facts = derive(views.execs, detector.own)
    return {
        rule.id
        for e in execs
        for rule in detector.fact_rules
        if rule.predicate is not None and rule.predicate(e, facts)
    }


def _gated_fact_rules(detector: Detector, text: str) -> set[str]:
    views = normalize(text)
    return {f.rule for f in detector._judge_facts(views, text, set())} if views.execs else set()


def test_gates_pick_every_fact_rule_that_holds_on_the_rule_examples() -> None:
    detector = get_detector()
    for text in _examples():
        assert _gated_fact_rules(detector, text) == _every_fact_rule_that_holds(detector, text), text


@settings(max_examples=400, deadline=None)
@given(text=_shell_text)
def test_gates_pick_every_fact_rule_that_holds_on_generated_text(text: str) -> None:
    detector = get_detector()
    assert _gated_fact_rules(detector, text) == _every_fact_rule_that_holds(detector, text)


@settings(max_examples=400, deadline=None)
@given(text=_shell_text)
def test_candidates_hold_every_rule_whose_predicate_holds(text: str) -> None:
    detector = get_detector()
    execs, facts = derive(normalize(text).execs, detector.own)
    for e in execs:
        holding = {r.id for r in detector.fact_rules if r.predicate is not None and r.predicate(e, facts)}
        assert holding <= {r.id for r in detector._candidates(e)}


_arg = st.one_of(
    st.sampled_from(["-", "--", "-n", "-rn", "--dry-run", "--dry-run=yes", "--dry-runs", "--help", "-h"]),
    st.sampled_from(["--version", "help", "a=b", "@file", "--x=y=z", "=x", "sh", "'sh -c x'", "/bin/true"]),
    st.text(alphabet="-=@abn/sh .'\"", max_size=8),
)


def _reference_split(argv: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    import re

    flags: set[str] = set()
    operands: list[str] = []
    for arg in argv[1:]:
        if arg.startswith("-") and len(arg) > 1:
            flags.add(arg.split("=", 1)[0])
            if "=" in arg:
                operands.append(arg.split("=", 1)[1])
        elif not re.match(r"^[A-Za-z_]\w*=", arg):
            operands.append(arg.lstrip("@"))
    return frozenset(flags), tuple(operands)


@given(name=st.sampled_from(["rsync", "make", "certbot", "ls", "terraform"]), args=st.lists(_arg, max_size=6))
def test_flag_split_and_dry_run_reading_are_unchanged(name: str, args: list[str]) -> None:
    argv = (name, *args)
    assert split_flags(argv) == _reference_split(argv)
    flags, _ = _reference_split(argv)
    dry = bool(flags & _DRY_RUN) or (
        name in _DASH_N_DRY
        and any(f.startswith("-") and not f.startswith("--") and "n" in f[1:] for f in flags)
    )
    dry = dry or any(a.startswith("--dry-run") for a in argv[1:])
    helped = bool(flags & _HELP) or (len(argv) == 2 and argv[1] in _HELP_ALONE)
    if any(_EMBEDDED_COMMAND.search(a) for a in argv[1:]):
        dry = helped = False
    facts = derive_one(Exec(argv, name, (), False, 0, 1, 0), detector_module.NO_OWN_NETWORK)
    assert (facts.dry_run, facts.help) == (dry, helped)


@given(word=st.one_of(st.text(alphabet="0123456789xXabcdef.:/[]", max_size=24), st.text(max_size=12)))
def test_host_canonicalisation_is_skipped_only_where_it_changes_nothing(word: str) -> None:
    may_change = "://" in word or word[:2] in ("0x", "0X") or (len(word) >= 8 and word.isdigit())
    if not may_change:
        assert canonical_hosts(word) == word

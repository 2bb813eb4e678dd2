"""What the detector builds on first use instead of at its build (shell-pattern comparisons, the
per-scope pattern sets of long texts) gives the same findings as building everything up front, and
every shipped pattern still compiles when the rules are built."""

from __future__ import annotations

import pytest

from ssm_warden.detect import conditions
from ssm_warden.detect import detector as detector_module
from ssm_warden.detect.detector import Detector, get_detector
from ssm_warden.detect.pack_files import available_packs
from ssm_warden.detect.rules import load_rules


@pytest.fixture
def eager_detector(monkeypatch: pytest.MonkeyPatch) -> Detector:
    """The detector with every shell pattern translated and compiled while the rules are built."""
    monkeypatch.setattr(conditions, "_lazy_glob", conditions._glob)
    eager = Detector(load_rules(available_packs()))
    for scope in list(eager._uncompiled):
        eager._scope_set(scope)
    assert not eager._uncompiled
    return eager


def test_the_rule_examples_get_the_same_findings_as_with_every_pattern_compiled_up_front(
    eager_detector: Detector,
) -> None:
    lazy = Detector(load_rules(available_packs()))
    examples = [e for rule in get_detector().rules for e in (*rule.must_match, *rule.must_not_match)]
    assert len(examples) > 300
    # Long texts are judged scope by scope (the per-scope sets), short ones in one pass.
    filler = "a" * (detector_module._ONE_PASS_LIMIT + 1)
    long_texts = [f"{e} {filler}" for e in examples] + [f"{e} | cat {filler}\necho ok" for e in examples]
    for text in [*examples, *long_texts]:
        assert lazy.judge_command(text) == eager_detector.judge_command(text), text
        assert lazy.judge_output(text) == eager_detector.judge_output(text), text
    assert lazy._uncompiled == set()  # the long texts needed every scope's set


def test_a_pattern_is_compiled_once_on_first_use_and_answers_as_fnmatch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: list[tuple[str, tuple[str, ...]]] = []
    real = conditions._glob

    def counting(op: str, values: tuple[str, ...]):  # type: ignore[no-untyped-def]
        built.append((op, values))
        return real(op, values)

    monkeypatch.setattr(conditions, "_glob", counting)
    match = conditions._lazy_glob("pmatch", ("/etc/ssh", "*.pem"))
    assert built == []
    assert match("/etc/ssh/sshd_config") and match("key.pem") and not match("/etc/sshd")
    assert match("/etc/ssh")
    assert built == [("pmatch", ("/etc/ssh", "*.pem"))]
    assert not conditions._lazy_glob("glob", ())("anything")

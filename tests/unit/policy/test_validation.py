"""One validation for `policy check` and the loader: what is refused (with field and line) and what is
warned about. Each case once loaded fine and then broke or loosened the functions at run time."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ssm_warden.cli import main as cli
from ssm_warden.enforce.start_checks import has_visible_text
from ssm_warden.errors import PolicyError
from ssm_warden.policy.bounded_yaml import MAX_ALIASES
from ssm_warden.policy.loader import load_policy_text

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def refused(text: str) -> str:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, source="p.yaml", now=NOW)
    return str(info.value)


def warnings_of(text: str) -> list[str]:
    return list(load_policy_text(text, source="p.yaml", now=NOW).warnings)


def test_an_unknown_rule_pack_is_refused_with_its_line() -> None:
    # Given a pack name with a typo in the prod scope
    text = "version: 1\nscopes:\n  - name: prod\n    match: {tags: {Environment: prod}}\n    rule_packs: [default, reverse-shel]\n"
    # Then the document is refused, naming the field, the line and the pack
    assert "p.yaml:5: scopes.0.rule_packs.1: unknown rule pack 'reverse-shel'" in refused(text)


def test_an_unknown_rule_id_in_an_override_or_exemption_is_refused() -> None:
    text = (
        "version: 1\ndefaults:\n  rules:\n    download-pipe-to-shel: {action: observe}\n"
        "exemptions:\n  - rule: revshell-dev-tcpp\n    expires: 2026-12-20T00:00:00Z\n    reason: typo here\n"
    )
    error = refused(text)
    assert "p.yaml:4: defaults.rules.download-pipe-to-shel: unknown rule id" in error
    assert "p.yaml:6: exemptions.0.rule: unknown rule id or limit 'revshell-dev-tcpp'" in error


def test_real_rule_ids_limits_and_globs_are_accepted() -> None:
    text = (
        "version: 1\ndefaults:\n  rules:\n    download-pipe-to-shell: {action: terminate}\n"
        "    idle_minutes: {mode: monitor}\n"
        "exemptions:\n  - rule: 'imds-*'\n    principal: 'arn:aws:sts::*:assumed-role/Ops/*'\n"
        "    expires: 2026-12-20T00:00:00Z\n    reason: metadata probe job\n"
    )
    assert load_policy_text(text, now=NOW).policy.exemptions


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("idle_minutes", "99999999999999999999"),
        ("max_minutes", "10000000"),
        ("warn_before_minutes", "100000"),
        ("log_stream_grace_minutes", "1e400"),
    ],
)
def test_numbers_out_of_sane_ranges_are_refused(field: str, value: str) -> None:
    # A 20-digit idle_minutes once made the sweeper raise OverflowError every minute
    assert f"p.yaml:3: defaults.{field}:" in refused(f"version: 1\ndefaults:\n  {field}: {value}\n")


def test_concurrency_limits_have_a_ceiling() -> None:
    text = "version: 1\ndefaults:\n  max_concurrent_sessions:\n    per_principal: 10000000000\n"
    assert "p.yaml:4: defaults.max_concurrent_sessions.per_principal:" in refused(text)


def test_an_alias_bomb_is_refused_before_it_expands() -> None:
    # Given a few hundred bytes that expand to 10^9 list items
    levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 9):
        prev = chr(ord("a") + n - 1)
        levels.append(f"{chr(ord('a') + n)}: &{chr(ord('a') + n)} [{', '.join(['*' + prev] * 10)}]")
    bomb = "version: 1\ndescription: x\n" + "\n".join(levels) + "\n"
    assert len(bomb) < 1000
    tracemalloc.start()
    try:
        error = refused(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Then it is refused, with the line of the alias over the limit, in a few MB at most
    assert f"more than {MAX_ALIASES} YAML aliases" in error
    assert "p.yaml:5:" in error  # the eleventh alias, first of the third level
    assert peak < 20_000_000


def test_a_few_aliases_are_still_allowed() -> None:
    text = "version: 1\ndefaults:\n  allowed_documents: &docs [SSM-SessionManagerRunShell]\nscopes:\n  - name: a\n    match: {}\n    allowed_documents: *docs\n"
    assert load_policy_text(text, now=NOW).policy.scopes[0].allowed_documents == [
        "SSM-SessionManagerRunShell"
    ]


def test_a_duplicate_key_is_refused_naming_both_lines() -> None:
    # Given a paste error: the second idle_minutes would silently loosen prod
    text = (
        "version: 1\nscopes:\n  - name: prod\n    match: {tags: {Environment: prod}}\n"
        "    idle_minutes: 15\n    idle_minutes: 600\n"
    )
    assert "p.yaml:6: scopes.0.idle_minutes: duplicate key 'idle_minutes' (first on line 5)" in refused(text)


def test_deep_nesting_and_unreadable_values_are_refused_not_raised() -> None:
    assert "nested deeper than" in refused("version: 1\ndescription: " + "[" * 200 + "]" * 200 + "\n")
    assert "a value cannot be read" in refused("version: 1\nexemptions:\n  - expires: 2026-02-30\n")


def test_no_rule_packs_on_a_terminating_scope_is_warned_about() -> None:
    text = (
        "version: 1\nscopes:\n  - name: prod\n    match: {tags: {Environment: prod}}\n"
        "    rule_packs: []\n    actions: {high: terminate}\n"
    )
    found = warnings_of(text)
    assert any(w.startswith("p.yaml:5: scopes.0.rule_packs: scope 'prod' has no rule packs") for w in found)
    assert any("terminate" in w for w in found)


def test_monitor_mode_on_prod_is_warned_about() -> None:
    text = "version: 1\nscopes:\n  - name: live\n    match: {tags: {Environment: [production]}}\n    mode: monitor\n"
    assert any("p.yaml:5: scopes.0.mode:" in w and "monitor mode" in w for w in warnings_of(text))
    # a dev scope in monitor mode is a normal choice
    dev = "version: 1\nscopes:\n  - name: dev\n    match: {tags: {Environment: dev}}\n    mode: monitor\n"
    assert warnings_of(dev) == []


def test_exemptions_without_an_end_within_90_days_are_warned_about() -> None:
    text = (
        "version: 1\nexemptions:\n  - principal: 'arn:aws:sts::*:assumed-role/Batch/*'\n    rule: idle_minutes\n"
        "    expires: 2030-01-01T00:00:00Z\n    reason: nightly job\n"
    )
    assert any(
        "p.yaml:5: exemptions.0.expires: exemption does not end within 90 days" in w
        for w in warnings_of(text)
    )
    soon = text.replace("2030-01-01", "2026-12-31")
    assert warnings_of(soon) == []


def test_the_bundled_policy_has_no_warnings() -> None:
    from ssm_warden.policy.loader import bundled_policy_text

    assert load_policy_text(bundled_policy_text(), now=NOW).warnings == ()


def test_policy_check_prints_warnings_and_strict_fails_on_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weak = tmp_path / "weak.yaml"
    weak.write_text(
        "version: 1\nscopes:\n  - name: prod\n    match: {tags: {Environment: prod}}\n    rule_packs: []\n"
    )
    assert cli(["policy", "check", str(weak)]) == 0
    assert f"WARNING {weak}:5: scopes.0.rule_packs" in capsys.readouterr().err
    assert cli(["policy", "check", "--strict", str(weak)]) == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\ndefaults:\n  idle_minutes: 15\n  idle_minutes: 600\n")
    assert cli(["policy", "check", str(bad)]) == 1
    assert f"{bad}:4: defaults.idle_minutes: duplicate key" in capsys.readouterr().err


@pytest.mark.parametrize(
    "reason",
    ["\u200b", "\u200b\u200c\u200d\u2060", " \t ", "\u202e\u200f\u200e", "\ufeff", "\u3164", "\u2800 ", ""],
)
def test_invisible_reasons_are_no_reason(reason: str) -> None:
    assert not has_visible_text(reason)


@pytest.mark.parametrize("reason", ["INC-1", "\u200bx", "変更", "#", "\u202e1"])
def test_visible_reasons_count(reason: str) -> None:
    assert has_visible_text(reason)


def test_an_exemption_reason_of_invisible_characters_is_refused() -> None:
    text = (
        "version: 1\nexemptions:\n  - principal: 'arn:aws:sts::*:assumed-role/Ops/*'\n    rule: idle_minutes\n"
        '    expires: 2026-12-20T00:00:00Z\n    reason: "\\u200b\\u200b\\u200b"\n'
    )
    assert "exemptions.0.reason: the reason shows no visible character" in refused(text)

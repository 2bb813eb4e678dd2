"""The de-obfuscation, applied to the parse tree: each command's words are expanded the way a shell
would, as far as that can be known without running anything, and what it runs is followed.

Transformations (each has its own tests in tests/unit/detect/test_expand.py):

* quotes and escapes are gone already (the parser read them); ``$'…'`` is decoded;
* variables assigned earlier in the same text (``a=cu;b=rl;$a$b``), ``${IFS}``, ``$@``,
  ``${PATH:0:1}``; unquoted expansions split into words as a shell splits them;
* ``$(echo …)`` / ``$(printf …)`` / ``$(echo … | base64 -d)`` / ``| rev`` / ``| tr`` pipelines of
  pure text filters, and base64 / hex literals in a text that asks for decoding;
* brace expansion used to avoid spaces (``{curl,-s,http://x}``), globs that name one well-known
  path (``/???/c?t /???/s??d?w``), numeric host forms (``http://0x7f000001``);
* wrappers (``sudo``, ``env``, ``nohup``, ``timeout``, ``nice``, ``command``, ``exec``, …) are
  dropped, remembering that ``sudo`` was used, and a program path is cut to its base name;
* payloads that are shell text themselves (``bash -c``, ``eval``, ``su -c``, ``find -exec``,
  ``ssh host CMD``, here-documents and here-strings fed to a shell, command substitutions, decoded
  text, cron lines written by ``echo``/``crontab``) are read again, to a bounded depth.

Every step is linear in the input (with bounded recursion and payload counts).
"""

from __future__ import annotations

import re

from ssm_warden.detect.shell.decode import (
    B64_TOKEN,
    DECODE_HINT,
    HEX_TOKEN,
    b64_text,
    evaluate_filters,
    hex_text,
    literal_output,
)
from ssm_warden.detect.shell.substitution import evaluate_substitution
from ssm_warden.detect.shell.syntax import Command, Pipeline, Redir, Word
from ssm_warden.detect.shell.tree import parse
from ssm_warden.detect.shell.views import Exec, Normalized, Segment
from ssm_warden.detect.shell.words import (
    SYSTEM_BIN_DIRS,
    canonical_hosts,
    command_name,
    quote,
    resolve_glob,
)

MAX_DEPTH = 4  # nested payloads (bash -c "eval $(echo … | base64 -d)") followed this deep
MAX_PAYLOADS = 64  # nested payloads followed per judged text
MAX_VAR_VALUE = 4096  # a variable value longer than this is not substituted (blow-up guard)
MAX_DECODED = 1 << 20  # bytes of decoded payload kept per text

SHELLS = frozenset(
    {"sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", "yash", "csh", "tcsh", "fish", "rbash", "pdksh"}
)

# Words that start or shape a compound command; dropped where a command name would stand.
_KEYWORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "coproc", "time"}
)
_SKIP_SEGMENT_KEYWORDS = frozenset({"for", "select", "case", "in", "esac", "function"})
# Programs whose arguments can hold shell text that they run (what Expander._recurse reads).
_RUNS_SHELL_TEXT = (
    SHELLS
    | {"busybox", "eval", "su", "runuser", "sudo", "doas", "find", "ssh"}
    | {"xargs", "watch", "nsenter", "unshare", "flock", "chroot", "script"}
)

# Prefix programs that run the rest of the line as the command: name -> (options taking a value,
# number of positional arguments before the command, whether it raises privilege).
_WRAPPERS: dict[str, tuple[frozenset[str], int, bool]] = {
    "sudo": (frozenset({"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "-R"}), 0, True),
    "doas": (frozenset({"-u", "-C"}), 0, True),
    "pkexec": (frozenset({"--user"}), 0, True),
    "run0": (frozenset({"-u", "--user", "-g", "--group", "-D", "--chdir"}), 0, True),
    "env": (frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string"}), 0, False),
    "nohup": (frozenset(), 0, False),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1, False),
    "command": (frozenset(), 0, False),
    "builtin": (frozenset(), 0, False),
    "exec": (frozenset({"-a"}), 0, False),
    "nice": (frozenset({"-n", "--adjustment"}), 0, False),
    "ionice": (frozenset({"-c", "-n", "-p", "-t"}), 0, False),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0, False),
    "setsid": (frozenset(), 0, False),
    "time": (frozenset({"-f", "-o"}), 0, False),
    "chronic": (frozenset(), 0, False),
    "caffeinate": (frozenset(), 0, False),
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASSIGN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\[[^\]]*\])?\+?=")

_CRON_SCHEDULE = re.compile(r"^\s*(?:@\w+|(?:[\d*/,-]+\s+){5})")

_SPLIT = "\x00"  # marks where an unquoted expansion splits a word


_HEX = ("0x", "0X")  # with "://" and long digit strings: what words.canonical_hosts may rewrite
_DIGITS8 = re.compile(r"[0-9]{8}")


def _may_name_host(joined: str) -> bool:
    """False when no word of ``joined`` can be one canonical_hosts rewrites (a URL, a 0x… or an
    all-digit word of 8 or more: ``str.isdigit`` also takes non-ASCII digits, hence isascii)."""
    return (
        "://" in joined
        or "0x" in joined
        or "0X" in joined
        or not joined.isascii()
        or _DIGITS8.search(joined) is not None
    )


def _canonical_hosts_in(words: list[str], joined: str | None = None) -> list[str]:
    """``words`` with each host canonical_hosts may rewrite written canonically; ``joined`` (the words
    joined by NUL, when the caller has it) is looked at first, so most commands cost one check."""
    if not words or not _may_name_host("\x00".join(words) if joined is None else joined):
        return words
    return [canonical_hosts(w) if _may_be_host(w) else w for w in words]


def _may_be_host(word: str) -> bool:
    """A word canonical_hosts may rewrite: a URL, a 0x… number or an all-digit word of 8 or more."""
    return "://" in word or word[:2] in _HEX or (len(word) >= 8 and word.isdigit())


class Expander:
    def __init__(self, parsed: dict[str, list[Pipeline]] | None = None) -> None:
        self.vars: dict[str, str] = {}
        self.out = Normalized()
        self.payloads = 0
        self.decoded_bytes = 0
        self.seen_payloads: set[str] = set()
        self.expansion_budget = 0
        self.stage = 0
        self.child = False  # inside a shell the command starts (views.Segment.child)
        # Parse results by text, for this one judged text (and the lines of the same snippet): a
        # command substitution is read as a payload and again to evaluate its output
        # (``$(echo … | base64 -d)``); it is parsed once.
        self.parsed: dict[str, list[Pipeline]] = {} if parsed is None else parsed

    def parse(self, text: str) -> list[Pipeline]:
        found = self.parsed.get(text)
        if found is None:
            found = self.parsed[text] = parse(text)
        return found

    # -- public -------------------------------------------------------------------------------------
    def run(self, text: str, depth: int = 0, privileged: bool = False) -> None:
        if depth == 0:
            self.expansion_budget = 4 * len(text) + 65536
        if depth > MAX_DEPTH:
            self.out.truncated = True
            return
        try:
            pipelines = self.parse(text)
        except RecursionError:  # pragma: no cover - the lexer is iterative; defensive
            pipelines = []
        for pipeline in pipelines:
            self._pipeline(pipeline, depth, privileged)
        self._decode_literals(text, depth, privileged)

    def child_payload(self, text: str, depth: int, privileged: bool) -> None:
        """Judge the text a shell started by the command runs (``bash -c``, ``su -c``, ssh)."""
        outer, self.child = self.child, True
        try:
            self.payload(text, depth, privileged)
        finally:
            self.child = outer

    def payload(self, text: str, depth: int, privileged: bool) -> None:
        text = text.strip()
        # The same text run by a child shell and by this one are two things to judge.
        seen = "\x01" + text if self.child else text
        if not text or seen in self.seen_payloads:
            return
        if self.payloads >= MAX_PAYLOADS:
            self.out.truncated = True
            return
        self.seen_payloads.add(seen)
        self.payloads += 1
        self.run(text, depth + 1, privileged)

    # -- pipelines ----------------------------------------------------------------------------------
    def _pipeline(self, pipeline: Pipeline, depth: int, privileged: bool) -> None:
        texts: list[str] = []
        argvs: list[list[str]] = []
        self.out.pipeline_count += 1
        self.stage = 0
        for command in pipeline:
            argv, seg_priv = self._command(command, depth, privileged)
            self.stage += 1
            if argv:
                text = " ".join(argv)
                texts.append(text)
                argvs.append(argv)
                self.out.segments.append(Segment(text, seg_priv, depth, self.child))
                if seg_priv:
                    self.out.privileged = True
        if not texts:
            return
        joined = " | ".join(texts)
        self.out.pipelines.append(joined)
        self.out.snippet_parts.append(joined)
        if len(argvs) > 1:
            decoded = evaluate_filters(argvs)
            if decoded is not None and decoded.strip():
                self._add_decoded(decoded, depth, privileged)
            if argvs[-1][0] in ("crontab", "at", "batch") or (
                argvs[-1][0] == "tee" and any("cron" in a for a in argvs[-1][1:])
            ):
                # A job installed from a literal: judge the command it schedules.
                self._schedule_payload(literal_output(argvs[0]), depth, privileged)

    # -- commands -----------------------------------------------------------------------------------
    def _command(self, command: Command, depth: int, privileged: bool) -> tuple[list[str], bool]:
        words: list[str] = []
        redirs: list[str] = []
        for item in command.items:
            if isinstance(item, Redir):
                target = self._expand(item.target, depth, privileged) if item.target else []
                redirs.append((item.op + " " + " ".join(target)).strip())
                if item.heredoc:
                    self.payload(item.heredoc, depth, privileged)
                continue
            parts = item.parts
            if len(parts) == 1:  # _expand's first case, inline: most words are one literal
                only = parts[0].text
                if parts[0].kind == "lit" and "{" not in only and _SPLIT not in only:
                    words.append(only)
                    continue
            words.extend(self._expand(item, depth, privileged))
        # Leading assignments.
        assignments: list[tuple[str, str]] = []
        i = 0
        while i < len(command.items) and i < len(words):
            item = command.items[i]
            if not isinstance(item, Word):
                break
            m = _ASSIGN.match(item.raw) if "=" in item.raw else None
            if not m:
                break
            name = m.group(1)
            value = words[i][len(m.group(0)) :] if words[i].startswith(m.group(0)) else ""
            if not words[i].startswith(name):
                break
            assignments.append((name, value))
            i += 1
        rest = words[i:]
        for name, value in assignments:
            self._emit_assignment(name, value, depth, privileged, set_var=not rest)
        if not rest:
            if redirs:  # e.g. "exec 3<>/dev/tcp/…" reduced to its redirections, or "> file"
                self.out.execs.append(
                    Exec(
                        (":",),
                        ":",
                        tuple([_split_redir(r) for r in redirs]) if redirs else (),
                        privileged,
                        depth,
                        self.out.pipeline_count,
                        self.stage,
                    )
                )
                return [":", *redirs], privileged
            return [], privileged
        argv, seg_priv = self._strip(rest, depth, privileged)
        if (
            argv
            and len(argv) < len(rest)
            and argv[0].startswith("/")
            and command_name(argv[0]) in SHELLS
            and all(a.startswith("-") for a in argv[1:])
        ):
            # "env /bin/sh", "time /bin/sh -p": a shell launched through another program.
            self._emit_launcher(rest[: len(rest) - len(argv)], argv, depth, seg_priv)
        if not argv:
            return ([":", *redirs] if redirs else []), seg_priv
        # Each word is looked at only when the words together hold what a rewrite needs.
        joined = "\x00".join(argv)
        if "*" in joined or "?" in joined or "[" in joined:
            argv = [resolve_glob(a) if ("*" in a or "?" in a or "[" in a) and "/" in a else a for a in argv]
        redirs = _canonical_hosts_in(redirs)
        argv = _canonical_hosts_in(argv, joined)
        if argv[0] in ("echo", "printf") and any("cron" in r or "/init.d/" in r for r in redirs):
            # A scheduled job written with echo: judge the command it schedules.
            self._schedule_payload(literal_output(argv), depth, seg_priv)
        path = argv[0]
        argv[0] = command_name(path)
        if argv[0] != path and not path.startswith(SYSTEM_BIN_DIRS):
            # Keep the path too: running something from /tmp or ./ is itself worth a rule.
            self.out.segments.append(
                Segment(" ".join([path, *argv[1:], *redirs]), seg_priv, depth, self.child)
            )
        self.out.execs.append(
            Exec(
                tuple(argv),
                path,
                tuple([_split_redir(r) for r in redirs]) if redirs else (),
                seg_priv,
                depth,
                self.out.pipeline_count,
                self.stage,
            )
        )
        if argv[0] in _RUNS_SHELL_TEXT:
            self._recurse(argv, depth, seg_priv)
        if argv[0] in SHELLS:  # sh <<< 'cmd': the here-string is the script
            for redir in redirs:
                if redir.startswith("<<< "):
                    self.payload(redir[4:], depth, seg_priv)
        return argv + redirs, seg_priv

    def _schedule_payload(self, literal: str | None, depth: int, privileged: bool) -> None:
        for line in (literal or "").splitlines():
            job = _CRON_SCHEDULE.sub("", line, count=1)
            if job.strip():
                self.payload(job, depth, privileged)
                # System crontabs (/etc/crontab, /etc/cron.d) have a user field first.
                user, _, rest = job.strip().partition(" ")
                if rest and _NAME.fullmatch(user):
                    self.payload(rest, depth, privileged)

    def _emit_launcher(self, launcher: list[str], argv: list[str], depth: int, privileged: bool) -> None:
        while launcher and command_name(launcher[0]) in ("sudo", "doas", "pkexec", "run0"):
            launcher = launcher[1:]
            while launcher and launcher[0].startswith("-"):
                launcher = launcher[1:]
        if launcher:
            text = " ".join([command_name(launcher[0]), *launcher[1:], *argv])
            self.out.segments.append(Segment(text, privileged, depth, self.child))

    def _emit_assignment(self, name: str, value: str, depth: int, privileged: bool, set_var: bool) -> None:
        text = f"{name}={value}"
        self.out.segments.append(Segment(text, privileged, depth, self.child))
        if set_var:
            self.vars[name] = value

    def _strip(self, argv: list[str], depth: int, privileged: bool) -> tuple[list[str], bool]:
        """Drop keywords and wrapper programs from the front; note privilege."""
        i = 0
        n = len(argv)
        while i < n:
            word = argv[i]
            base = command_name(word)
            if word in _KEYWORDS:
                i += 1
                continue
            if word in _SKIP_SEGMENT_KEYWORDS:
                return [], privileged
            if base in ("export", "declare", "typeset", "local", "readonly"):
                j = i + 1
                while j < n and argv[j].startswith("-"):
                    j += 1
                for assignment in argv[j:]:
                    m = _ASSIGN.match(assignment)
                    if m:
                        self._emit_assignment(
                            m.group(1), assignment[len(m.group(0)) :], depth, privileged, set_var=True
                        )
                return [], privileged
            spec = _WRAPPERS.get(base)
            if spec is None:
                break
            if base == "command" and i + 1 < n and argv[i + 1] in ("-v", "-V"):
                break
            if i + 1 >= n:  # bare "exec" / "sudo" / "env": nothing to strip to
                break
            value_opts, positional, raises = spec
            if raises:
                privileged = True
                if i + 1 < n and argv[i + 1] in ("-l", "--list", "-v", "--validate", "-k", "-K"):
                    break
            j = i + 1
            while j < n:
                arg = argv[j]
                if arg == "--":
                    j += 1
                    break
                if base == "env" and _ASSIGN.match(arg):
                    m = _ASSIGN.match(arg)
                    assert m is not None
                    self._emit_assignment(m.group(1), arg[len(m.group(0)) :], depth, privileged, False)
                    j += 1
                    continue
                if base in ("sudo", "doas", "run0") and _ASSIGN.match(arg):
                    m = _ASSIGN.match(arg)
                    assert m is not None
                    self._emit_assignment(m.group(1), arg[len(m.group(0)) :], depth, privileged, False)
                    j += 1
                    continue
                if arg.startswith("-") and len(arg) > 1:
                    j += 2 if (arg in value_opts and "=" not in arg) else 1
                    continue
                break
            j += positional
            if j >= n:
                return argv[i:], privileged
            i = j
        return argv[i:], privileged

    def _recurse(self, argv: list[str], depth: int, privileged: bool) -> None:
        """Judge the shell text that this command will run."""
        name = argv[0]
        n = len(argv)
        if name in SHELLS or (name == "busybox" and n > 1 and argv[1] in SHELLS):
            args = argv[1:] if name != "busybox" else argv[2:]
            for k, arg in enumerate(args):
                if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
                    if k + 1 < len(args):
                        self.child_payload(args[k + 1], depth, privileged)
                    return
                if not arg.startswith("-") and not arg.startswith("+"):
                    return
            return
        if name == "eval":
            self.payload(" ".join(argv[1:]), depth, privileged)
            return
        if name in ("su", "runuser", "sudo", "doas"):
            for k in range(1, n - 1):
                if argv[k] in ("-c", "--command", "--session-command", "-s") and name != "su":
                    self.child_payload(" ".join(argv[k + 1 :]), depth, True)
                    return
                if argv[k] in ("-c", "--command", "--session-command"):
                    self.child_payload(argv[k + 1], depth, True)
                    return
            return
        if name == "find":
            for k in range(1, n - 1):
                if argv[k] in ("-exec", "-execdir", "-ok", "-okdir"):
                    end = k + 1
                    while end < n and argv[end] not in (";", "+", "\\;"):
                        end += 1
                    self.payload(" ".join(quote(a) for a in argv[k + 1 : end]), depth, privileged)
            return
        if name in ("ssh",):
            host_seen = False
            k = 1
            while k < n:
                arg = argv[k]
                if arg.startswith("-"):
                    k += 2 if arg in _SSH_VALUE_OPTS else 1
                    continue
                if not host_seen:
                    host_seen = True
                    k += 1
                    continue
                self.child_payload(" ".join(argv[k:]), depth, privileged)  # run on the remote host
                return
            return
        if name in ("xargs", "watch", "nsenter", "unshare", "flock", "chroot", "script"):
            # Programs that run another command given on their command line.
            for k in range(1, n):
                if argv[k] in ("-c", "--command") and name in ("script", "flock") and k + 1 < n:
                    self.payload(argv[k + 1], depth, privileged)
                    return

    def _expand(self, word: Word | None, depth: int, privileged: bool) -> list[str]:
        """Expand one word into zero or more argument strings."""
        if word is None:
            return []
        parts = word.parts
        if len(parts) == 1 and parts[0].kind == "lit" and "{" not in (only := parts[0].text):
            # One literal part (most words): nothing to substitute, split or brace-expand.
            return [w for w in only.split(_SPLIT) if w] if _SPLIT in only else [only]
        buf: list[str] = []
        for part in word.parts:
            kind = part.kind
            if kind == "lit":
                buf.append(part.text)
            elif kind == "param":
                value = self._param(part.text)
                if value is None:
                    plain = _NAME.fullmatch(part.text) or len(part.text) == 1
                    buf.append("$" + (part.text if plain else "{" + part.text + "}"))
                elif part.quoted:
                    buf.append(value)
                else:
                    buf.append(_SPLIT.join(value.split()) if value.strip() else value.replace(" ", _SPLIT))
                    if value and value.isspace():
                        buf[-1] = _SPLIT
            elif kind == "subst":
                self.payload(part.text, depth, privileged)
                value = evaluate_substitution(part.text, self.parse)
                if value is not None:
                    buf.append(value if part.quoted else _SPLIT.join(value.split()))
                else:
                    buf.append("$(" + " ".join(part.text.split()) + ")")
            elif kind == "procsub":
                self.payload(part.text, depth, privileged)
                buf.append(word.raw[0] + "(" + " ".join(part.text.split()) + ")")
            else:  # arith
                buf.append("$((" + part.text + ")")
        value = "".join(buf)
        if _SPLIT in value:
            return [w for w in value.split(_SPLIT) if w]
        if not value and not word.parts:
            return []
        # Brace expansion used to avoid spaces: {curl,-s,http://x} -> curl -s http://x
        if (
            value.startswith("{")
            and value.endswith("}")
            and "," in value
            and " " not in value
            and "{" not in value[1:-1]
            and not any(p.quoted for p in word.parts)
        ):
            return [w for w in value[1:-1].split(",") if w]
        return [value]

    def _param(self, expr: str) -> str | None:
        if expr in ("IFS", "IFS%??", "IFS%?"):
            return " "
        if expr.startswith("IFS"):
            return " "
        if expr in ("@", "*", "#@", "!@"):
            return ""
        name_m = _NAME.match(expr)
        if name_m is None:
            return None
        name = name_m.group(0)
        rest = expr[name_m.end() :]
        if name == "PATH" and rest.startswith(":0:1"):
            return "/"
        if name == "HOME" and rest.startswith(":0:1"):
            return "/"
        value = self.vars.get(name)
        if value is None or len(value) > MAX_VAR_VALUE or len(value) > self.expansion_budget:
            if name == "IFS":
                return " "
            if value is not None:
                self.out.truncated = True
            return None
        self.expansion_budget -= len(value)
        if not rest:
            return value
        m = re.fullmatch(r":(\d+)(?::(\d+))?", rest)
        if m:
            start = int(m.group(1))
            length = int(m.group(2)) if m.group(2) is not None else None
            return value[start : start + length] if length is not None else value[start:]
        if rest.startswith((":-", "-", ":=", "=")):
            return value
        return None

    # -- decoded payloads ---------------------------------------------------------------------------
    def _add_decoded(self, text: str, depth: int, privileged: bool) -> None:
        if self.decoded_bytes + len(text) > MAX_DECODED:
            self.out.truncated = True
            return
        self.decoded_bytes += len(text)
        self.payload(text, depth, privileged)

    def _decode_literals(self, text: str, depth: int, privileged: bool) -> None:
        """Decode base64 / hex literals when the text also asks for decoding."""
        if not DECODE_HINT.search(text):
            return
        seen = 0
        for m in B64_TOKEN.finditer(text):
            if seen >= 8:
                break
            decoded = b64_text(m.group(0))
            if decoded is not None:
                seen += 1
                self._add_decoded(decoded, depth, privileged)
        for m in HEX_TOKEN.finditer(text):
            if seen >= 8:
                break
            decoded = hex_text(m.group(0))
            if decoded is not None:
                seen += 1
                self._add_decoded(decoded, depth, privileged)


_SSH_VALUE_OPTS = frozenset(
    {
        "-b",
        "-c",
        "-D",
        "-E",
        "-e",
        "-F",
        "-I",
        "-i",
        "-J",
        "-L",
        "-l",
        "-m",
        "-O",
        "-o",
        "-p",
        "-Q",
        "-R",
        "-S",
        "-W",
        "-w",
        "-B",
    }
)


def _split_redir(text: str) -> tuple[str, str]:
    op, _, target = text.partition(" ")
    return op, target

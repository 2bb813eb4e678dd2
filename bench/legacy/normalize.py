"""Shell text in, normalised views out: what the rules match against.

The point is that trivial evasion must not change what a rule sees. A typed command goes through:

* a lexer that understands quoting (``'…'``, ``"…"``, ``$'…'`` ANSI-C strings, backslashes),
  command and process substitution, here-documents and the list / pipeline operators, and that
  never fails: an unbalanced quote is read as a literal character;
* expansion of what can be known without running anything: variables assigned earlier in the
  same text (``a=cu;b=rl;$a$b``), ``${IFS}``, ``$@``, ``${PATH:0:1}``, ``$(echo …)`` /
  ``$(printf …)`` and ``echo … | base64 -d`` style pipelines of pure text filters;
* per simple command: keywords (``if``, ``then``, …) and wrappers (``sudo``, ``env``, ``nohup``,
  ``timeout``, ``command``, ``exec``, …) are dropped, remembering that ``sudo`` was used, and the
  program's path is cut to its base name (``/usr/bin/curl`` → ``curl``);
* payloads that are themselves shell text (``bash -c``, ``sh -c``, ``eval``, ``su -c``,
  ``find -exec``, ``ssh host CMD``, here-documents, command substitutions, text decoded from
  base64 or hex) are normalised recursively, to a bounded depth.

The result keeps three views: each simple command (*segment*), each pipeline, and the whole text.
Everything here runs in time linear in the input (with bounded recursion), so a megabyte line is
cheap; the rules themselves are matched with RE2.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fnmatch
import re
import zlib
from dataclasses import dataclass, field

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
_SPACE = re.compile(r"[ \t\r\f\v]+")
# A run of plain characters and simple quoted strings, read in one step (the common case).
_FAST_WORD = re.compile(r"""(?:[^\s'"\\$`;&|()<>]+|'[^']*'|"[^"\\$`]*")+""")
_FAST_PARTS = re.compile(r"""'([^']*)'|"([^"\\$`]*)\"""")
_REDIR = re.compile(r"(?:\d+|&|\{[A-Za-z_]\w*\})?(?:>>|>&|<&|<<<|<<-|<<|<>|>\||&>>|&>|>|<)")
_OPERATOR = re.compile(r"&&|\|\||;;&|;;|;&|\|&|[;&|()\n]")
_ANSI_C = re.compile(r"\\(x[0-9A-Fa-f]{1,2}|u[0-9A-Fa-f]{1,4}|U[0-9A-Fa-f]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL)
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_B64_TOKEN = re.compile(r"[A-Za-z0-9+/_-]{16,}={0,2}")
_CRON_SCHEDULE = re.compile(r"^\s*(?:@\w+|(?:[\d*/,-]+\s+){5})")
_HEX_TOKEN = re.compile(r"(?:[0-9A-Fa-f]{2}){8,}")
_DECODE_HINT = re.compile(
    r"base64|b64decode|b64_decode|atob|frombase64|decode64|unpack|base32|xxd|fromhex|unhexlify"
)


def ansi_c_decode(body: str) -> str:
    """Decode the body of a ``$'…'`` string (also used for ``echo -e`` and ``printf``)."""

    def repl(m: re.Match[str]) -> str:
        esc = m.group(1)
        head = esc[0]
        try:
            if head == "x":
                return chr(int(esc[1:], 16))
            if head in "uU":
                return chr(int(esc[1:], 16))
            if head.isdigit():
                return chr(int(esc, 8) & 0xFF)
        except (ValueError, OverflowError):
            return esc
        if head == "c" and len(esc) == 2:
            return chr(ord(esc[1]) & 0x1F)
        return _ANSI_SIMPLE.get(esc, "\\" + esc)

    return _ANSI_C.sub(repl, body)


# --------------------------------------------------------------------------------------------------
# Words


@dataclass(slots=True)
class _Part:
    kind: str  # lit | param | subst | arith | procsub
    text: str
    quoted: bool


@dataclass(slots=True)
class _Word:
    parts: list[_Part]
    raw: str


@dataclass(slots=True)
class _Redir:
    op: str
    target: _Word | None
    heredoc: str | None = None


@dataclass(slots=True)
class _Command:
    items: list[_Word | _Redir] = field(default_factory=list)


# A parsed list: pipelines of commands. Separators other than | end a pipeline.
_Pipeline = list[_Command]


class _Lexer:
    """Reads shell text into pipelines of commands. Never raises on malformed input."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.n = len(text)
        self.pending_heredocs: list[tuple[_Redir, str, bool]] = []

    # -- entry point --------------------------------------------------------------------------------
    def parse(self) -> list[_Pipeline]:
        pipelines: list[_Pipeline] = []
        pipeline: _Pipeline = []
        command = _Command()
        text, n = self.text, self.n
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\f\v":
                m = _SPACE.match(text, self.pos)
                self.pos = m.end() if m else self.pos + 1
                continue
            if ch == "\\" and text.startswith("\\\n", self.pos):
                self.pos += 2
                continue
            if ch == "#" and not command.items:
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
                continue
            if ch == "#" and self.pos > 0 and text[self.pos - 1] in " \t":
                end = text.find("\n", self.pos)
                self.pos = n if end < 0 else end
                continue
            # Process substitution <( … ) / >( … ) is a word, not a redirection.
            if ch in "<>" and text.startswith("(", self.pos + 1):
                inner, end = self._read_balanced(self.pos + 2)
                self.pos = end
                command.items.append(_Word([_Part("procsub", inner, False)], ch + "(" + inner + ")"))
                continue
            m = _REDIR.match(text, self.pos)
            if m and (ch in "<>&" or ch.isdigit() or ch == "{"):
                op = m.group(0)
                # "&" alone is an operator, digits are a word unless followed by < or >.
                self.pos = m.end()
                redir = self._read_redirection(op)
                command.items.append(redir)
                continue
            m = _OPERATOR.match(text, self.pos)
            if m:
                op = m.group(0)
                self.pos = m.end()
                if op == "\n" and self.pending_heredocs:
                    self._read_heredoc_bodies()
                if op in ("|", "|&"):
                    pipeline.append(command)
                    command = _Command()
                    continue
                if command.items:
                    pipeline.append(command)
                command = _Command()
                if pipeline:
                    pipelines.append(pipeline)
                pipeline = []
                continue
            word = self._read_word()
            if word is None:  # pragma: no cover - defensive: always consume something
                self.pos += 1
                continue
            command.items.append(word)
        if command.items:
            pipeline.append(command)
        if pipeline:
            pipelines.append(pipeline)
        return pipelines

    # -- pieces -------------------------------------------------------------------------------------
    def _read_redirection(self, op: str) -> _Redir:
        text = self.text
        m = _SPACE.match(text, self.pos)
        if m:
            self.pos = m.end()
        if self.pos >= self.n or text[self.pos] in "\n;&|()<>":
            return _Redir(op, None)
        word = self._read_word()
        redir = _Redir(op, word)
        if op in ("<<", "<<-") and word is not None:
            delim = "".join(p.text for p in word.parts)
            self.pending_heredocs.append((redir, delim, op == "<<-"))
        return redir

    def _read_heredoc_bodies(self) -> None:
        text = self.text
        for redir, delim, strip_tabs in self.pending_heredocs:
            lines: list[str] = []
            while self.pos < self.n:
                end = text.find("\n", self.pos)
                line = text[self.pos : self.n if end < 0 else end]
                self.pos = self.n if end < 0 else end + 1
                check = line.lstrip("\t") if strip_tabs else line
                if check == delim:
                    break
                lines.append(line)
            redir.heredoc = "\n".join(lines)
        self.pending_heredocs = []

    def _read_balanced(self, start: int) -> tuple[str, int]:
        """From just inside ``$(`` / ``<(``: the inner text and the position after the ``)``."""
        text, n = self.text, self.n
        depth = 1
        i = start
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "'":
                end = text.find("'", i + 1)
                i = n if end < 0 else end + 1
                continue
            if ch == '"':
                i = self._skip_dquote(i + 1)
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return text[start:i], i + 1
            i += 1
        return text[start:n], n

    def _skip_dquote(self, i: int) -> int:
        text, n = self.text, self.n
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == '"':
                return i + 1
            if ch == "$" and text.startswith("(", i + 1):
                _, i = self._read_balanced(i + 2)
                continue
            i += 1
        return n

    def _read_word(self) -> _Word | None:
        text, n = self.text, self.n
        start = self.pos
        parts: list[_Part] = []
        while self.pos < n:
            ch = text[self.pos]
            if ch in " \t\r\n\f\v;&|()<>":
                break
            m = _FAST_WORD.match(text, self.pos)
            if m and m.end() > self.pos:
                chunk = m.group(0)
                if "'" in chunk or '"' in chunk:
                    quoted = True
                    value = _FAST_PARTS.sub(
                        lambda q: q.group(1) if q.group(1) is not None else q.group(2), chunk
                    )
                else:
                    quoted = False
                    value = chunk
                parts.append(_Part("lit", value, quoted))
                self.pos = m.end()
                continue
            if ch == "\\":
                if self.pos + 1 < n:
                    nxt = text[self.pos + 1]
                    if nxt != "\n":
                        parts.append(_Part("lit", nxt, True))
                    self.pos += 2
                else:
                    self.pos += 1
                continue
            if ch == "'":
                end = text.find("'", self.pos + 1)
                if end < 0:  # unbalanced: a literal quote
                    parts.append(_Part("lit", "'", False))
                    self.pos += 1
                else:
                    parts.append(_Part("lit", text[self.pos + 1 : end], True))
                    self.pos = end + 1
                continue
            if ch == '"':
                if text.find('"', self.pos + 1) < 0:
                    parts.append(_Part("lit", '"', False))
                    self.pos += 1
                else:
                    self._read_dquote(parts)
                continue
            if ch == "`":
                end = self._find_backtick(self.pos + 1)
                if end < 0:
                    parts.append(_Part("lit", "`", False))
                    self.pos += 1
                else:
                    inner = text[self.pos + 1 : end].replace("\\`", "`").replace("\\\\", "\\")
                    parts.append(_Part("subst", inner, False))
                    self.pos = end + 1
                continue
            if ch == "$":
                self._read_dollar(parts, quoted=False)
                continue
            # Anything else (should not happen): take the character.
            parts.append(_Part("lit", ch, False))
            self.pos += 1
        if self.pos == start:
            return None
        return _Word(parts, text[start : self.pos])

    def _find_backtick(self, i: int) -> int:
        text, n = self.text, self.n
        while i < n:
            ch = text[i]
            if ch == "\\":
                i += 2
                continue
            if ch == "`":
                return i
            i += 1
        return -1

    def _read_dquote(self, parts: list[_Part]) -> None:
        text, n = self.text, self.n
        self.pos += 1
        buf: list[str] = []
        while self.pos < n:
            ch = text[self.pos]
            if ch == '"':
                self.pos += 1
                break
            if ch == "\\" and self.pos + 1 < n:
                nxt = text[self.pos + 1]
                if nxt in '"\\$`':
                    buf.append(nxt)
                elif nxt != "\n":
                    buf.append("\\" + nxt)
                self.pos += 2
                continue
            if ch == "$":
                if buf:
                    parts.append(_Part("lit", "".join(buf), True))
                    buf = []
                self._read_dollar(parts, quoted=True)
                continue
            if ch == "`":
                end = self._find_backtick(self.pos + 1)
                if end > 0:
                    if buf:
                        parts.append(_Part("lit", "".join(buf), True))
                        buf = []
                    parts.append(_Part("subst", text[self.pos + 1 : end], True))
                    self.pos = end + 1
                    continue
            j = self.pos + 1
            while j < n and text[j] not in '"\\$`':
                j += 1
            buf.append(text[self.pos : j])
            self.pos = j
        if buf:
            parts.append(_Part("lit", "".join(buf), True))
        if not parts:
            parts.append(_Part("lit", "", True))

    def _read_dollar(self, parts: list[_Part], quoted: bool) -> None:
        text, n = self.text, self.n
        i = self.pos + 1
        nxt = text[i] if i < n else ""
        if nxt == "'" and not quoted:
            j = i + 1
            while j < n and text[j] != "'":
                j += 2 if text[j] == "\\" else 1
            body = text[i + 1 : min(j, n)]
            parts.append(_Part("lit", ansi_c_decode(body), True))
            self.pos = min(j + 1, n)
            return
        if nxt == '"' and not quoted:  # $"…" locale string: same as "…"
            self.pos = i
            self._read_dquote(parts)
            return
        if nxt == "(":
            if text.startswith("((", i):
                inner, end = self._read_balanced(i + 1)
                parts.append(_Part("arith", inner, quoted))
                self.pos = end
                return
            inner, end = self._read_balanced(i + 1)
            parts.append(_Part("subst", inner, quoted))
            self.pos = end
            return
        if nxt == "{":
            end = text.find("}", i + 1)
            if end < 0:
                parts.append(_Part("lit", "$", quoted))
                self.pos = i
                return
            parts.append(_Part("param", text[i + 1 : end], quoted))
            self.pos = end + 1
            return
        m = _NAME.match(text, i)
        if m:
            parts.append(_Part("param", m.group(0), quoted))
            self.pos = m.end()
            return
        if nxt and nxt in "@*#?$!-0123456789":
            parts.append(_Part("param", nxt, quoted))
            self.pos = i + 1
            return
        parts.append(_Part("lit", "$", quoted))
        self.pos = i


# --------------------------------------------------------------------------------------------------
# Expansion and segments


@dataclass(frozen=True, slots=True)
class Segment:
    """One simple command after normalisation: ``argv0 arg1 … [redirections]``."""

    text: str
    privileged: bool
    depth: int


@dataclass(slots=True)
class Normalized:
    """Every view of one judged text that rules can match."""

    segments: list[Segment] = field(default_factory=list)
    pipelines: list[str] = field(default_factory=list)
    snippet_parts: list[str] = field(default_factory=list)
    privileged: bool = False
    truncated: bool = False  # a nesting or payload limit was reached
    coarse: bool = False  # too long for the full parse: normalize_coarse() was used

    @property
    def snippet(self) -> str:
        return " ; ".join(self.snippet_parts)


_SPLIT = "\x00"  # marks where an unquoted expansion splits a word


class _Normalizer:
    def __init__(self) -> None:
        self.vars: dict[str, str] = {}
        self.out = Normalized()
        self.payloads = 0
        self.decoded_bytes = 0
        self.seen_payloads: set[str] = set()
        self.expansion_budget = 0

    # -- public -------------------------------------------------------------------------------------
    def run(self, text: str, depth: int = 0, privileged: bool = False) -> None:
        if depth == 0:
            self.expansion_budget = 4 * len(text) + 65536
        if depth > MAX_DEPTH:
            self.out.truncated = True
            return
        try:
            pipelines = _Lexer(text).parse()
        except RecursionError:  # pragma: no cover - the lexer is iterative; defensive
            pipelines = []
        for pipeline in pipelines:
            self._pipeline(pipeline, depth, privileged)
        if depth == 0 or _DECODE_HINT.search(text):
            self._decode_literals(text, depth, privileged)

    def payload(self, text: str, depth: int, privileged: bool) -> None:
        text = text.strip()
        if not text or text in self.seen_payloads:
            return
        if self.payloads >= MAX_PAYLOADS:
            self.out.truncated = True
            return
        self.seen_payloads.add(text)
        self.payloads += 1
        self.run(text, depth + 1, privileged)

    # -- pipelines ----------------------------------------------------------------------------------
    def _pipeline(self, pipeline: _Pipeline, depth: int, privileged: bool) -> None:
        texts: list[str] = []
        argvs: list[list[str]] = []
        for command in pipeline:
            argv, seg_priv = self._command(command, depth, privileged)
            if argv:
                text = " ".join(argv)
                texts.append(text)
                argvs.append(argv)
                self.out.segments.append(Segment(text, seg_priv, depth))
                if seg_priv:
                    self.out.privileged = True
        if not texts:
            return
        joined = " | ".join(texts)
        self.out.pipelines.append(joined)
        self.out.snippet_parts.append(joined)
        if len(argvs) > 1:
            decoded = _evaluate_filters(argvs)
            if decoded is not None and decoded.strip():
                self._add_decoded(decoded, depth, privileged)
            if argvs[-1][0] in ("crontab", "at", "batch") or (
                argvs[-1][0] == "tee" and any("cron" in a for a in argvs[-1][1:])
            ):
                # A job installed from a literal: judge the command it schedules.
                self._schedule_payload(_literal_output(argvs[0]), depth, privileged)

    # -- commands -----------------------------------------------------------------------------------
    def _command(self, command: _Command, depth: int, privileged: bool) -> tuple[list[str], bool]:
        words: list[str] = []
        redirs: list[str] = []
        for item in command.items:
            if isinstance(item, _Redir):
                target = self._expand(item.target, depth, privileged) if item.target else []
                redirs.append((item.op + " " + " ".join(target)).strip())
                if item.heredoc:
                    self.payload(item.heredoc, depth, privileged)
                continue
            words.extend(self._expand(item, depth, privileged))
        # Leading assignments.
        assignments: list[tuple[str, str]] = []
        i = 0
        while i < len(command.items) and i < len(words):
            item = command.items[i]
            if not isinstance(item, _Word):
                break
            m = _ASSIGN.match(item.raw)
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
                return [":", *redirs], privileged
            return [], privileged
        argv, seg_priv = self._strip(rest, depth, privileged)
        if (
            argv
            and len(argv) < len(rest)
            and argv[0].startswith("/")
            and _command_name(argv[0]) in SHELLS
            and all(a.startswith("-") for a in argv[1:])
        ):
            # "env /bin/sh", "time /bin/sh -p": a shell launched through another program.
            self._emit_launcher(rest[: len(rest) - len(argv)], argv, depth, seg_priv)
        if not argv:
            return ([":", *redirs] if redirs else []), seg_priv
        argv = [_resolve_glob(a) if ("*" in a or "?" in a or "[" in a) and "/" in a else a for a in argv]
        redirs = [_canonical_hosts(r) for r in redirs]
        argv = [_canonical_hosts(a) for a in argv]
        if argv[0] in ("echo", "printf") and any("cron" in r or "/init.d/" in r for r in redirs):
            # A scheduled job written with echo: judge the command it schedules.
            self._schedule_payload(_literal_output(argv), depth, seg_priv)
        path = argv[0]
        argv[0] = _command_name(path)
        if argv[0] != path and not path.startswith(_SYSTEM_BIN_DIRS):
            # Keep the path too: running something from /tmp or ./ is itself worth a rule.
            self.out.segments.append(Segment(" ".join([path, *argv[1:], *redirs]), seg_priv, depth))
        self._recurse(argv, depth, seg_priv)
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
        while launcher and _command_name(launcher[0]) in ("sudo", "doas", "pkexec", "run0"):
            launcher = launcher[1:]
            while launcher and launcher[0].startswith("-"):
                launcher = launcher[1:]
        if launcher:
            text = " ".join([_command_name(launcher[0]), *launcher[1:], *argv])
            self.out.segments.append(Segment(text, privileged, depth))

    def _emit_assignment(self, name: str, value: str, depth: int, privileged: bool, set_var: bool) -> None:
        text = f"{name}={value}"
        self.out.segments.append(Segment(text, privileged, depth))
        if set_var:
            self.vars[name] = value

    def _strip(self, argv: list[str], depth: int, privileged: bool) -> tuple[list[str], bool]:
        """Drop keywords and wrapper programs from the front; note privilege."""
        i = 0
        n = len(argv)
        while i < n:
            word = argv[i]
            base = _command_name(word)
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
                        self.payload(args[k + 1], depth, privileged)
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
                    self.payload(" ".join(argv[k + 1 :]), depth, True)
                    return
                if argv[k] in ("-c", "--command", "--session-command"):
                    self.payload(argv[k + 1], depth, True)
                    return
            return
        if name == "find":
            for k in range(1, n - 1):
                if argv[k] in ("-exec", "-execdir", "-ok", "-okdir"):
                    end = k + 1
                    while end < n and argv[end] not in (";", "+", "\\;"):
                        end += 1
                    self.payload(" ".join(_quote(a) for a in argv[k + 1 : end]), depth, privileged)
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
                self.payload(" ".join(argv[k:]), depth, privileged)
                return
            return
        if name in ("xargs", "watch", "nsenter", "unshare", "flock", "chroot", "script"):
            # Programs that run another command given on their command line.
            for k in range(1, n):
                if argv[k] in ("-c", "--command") and name in ("script", "flock") and k + 1 < n:
                    self.payload(argv[k + 1], depth, privileged)
                    return

    def _expand(self, word: _Word | None, depth: int, privileged: bool) -> list[str]:
        """Expand one word into zero or more argument strings."""
        if word is None:
            return []
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
                value = _evaluate_substitution(part.text)
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
        if not _DECODE_HINT.search(text):
            return
        seen = 0
        for m in _B64_TOKEN.finditer(text):
            if seen >= 8:
                break
            decoded = _b64_text(m.group(0))
            if decoded is not None:
                seen += 1
                self._add_decoded(decoded, depth, privileged)
        for m in _HEX_TOKEN.finditer(text):
            if seen >= 8:
                break
            decoded = _hex_text(m.group(0))
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


def _quote(arg: str) -> str:
    if not arg or any(c in arg for c in " \t\n'\"\\$`;&|()<>"):
        return "'" + arg.replace("'", "'\\''") + "'"
    return arg


_SYSTEM_BIN_DIRS = (
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/usr/libexec/",
    "/snap/bin/",
)

# Paths a glob may be written to reach without naming them (/???/c?t /???/s??d?w).
_GLOB_TARGETS = (
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/passwd",
    "/etc/sudoers",
    "/etc/crontab",
    "/bin/sh",
    "/bin/bash",
    "/bin/dash",
    "/bin/cat",
    "/bin/nc",
    "/bin/netcat",
    "/usr/bin/nc",
    "/usr/bin/ncat",
    "/usr/bin/curl",
    "/usr/bin/wget",
    "/usr/bin/python3",
    "/usr/bin/perl",
    "/usr/bin/base64",
    "/usr/bin/socat",
    "~/.aws/credentials",
    "~/.ssh/id_rsa",
    "~/.ssh/id_ed25519",
    "~/.bash_history",
    "/root/.ssh/id_rsa",
    "/root/.ssh/id_ed25519",
    "/root/.aws/credentials",
    "/root/.bash_history",
    "/dev/tcp",
    "/proc/sysrq-trigger",
    "/var/log/auth.log",
    "/var/log/secure",
    "/var/log/syslog",
    "/var/log/messages",
    "/var/log/wtmp",
    "/var/log/btmp",
    "/var/log/lastlog",
)


def _resolve_glob(word: str) -> str:
    """A glob that names one well-known sensitive path stands for that path."""
    if len(word) > 256 or word.startswith(("$(", "<(", ">(")):
        return word
    for target in _GLOB_TARGETS:
        if len(target) < len(word) - word.count("*") * 64 or not target.startswith(word[:1]):
            continue
        if fnmatch.fnmatchcase(target, word) and word != target and not word.endswith("/*"):
            return target
    return word


_URL_HOST = re.compile(r"(://(?:[^/@\s]*@)?)(?:\[([0-9a-fA-F:.]+)\]|([0-9a-fA-Fx.]+))(?=[:/?#\s]|$)")


def _ipv4_value(token: str) -> int | None:
    parts = token.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values: list[int] = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                values.append(int(part, 16))
            elif len(part) > 1 and part.startswith("0"):
                values.append(int(part, 8))
            else:
                values.append(int(part, 10))
        except ValueError:
            return None
    limits = {1: [1 << 32], 2: [256, 1 << 24], 3: [256, 256, 1 << 16], 4: [256] * 4}[len(values)]
    if any(v >= lim for v, lim in zip(values, limits, strict=True)):
        return None
    total = 0
    for v, lim in zip(values, limits, strict=True):
        total = total * lim + v
    return total


def _dotted(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _canonical_host(host: str) -> str | None:
    if ":" in host:
        lowered = host.lower()
        if lowered.startswith("::ffff:"):
            rest = lowered[7:]
            if "." in rest:
                return rest
            halves = rest.split(":")
            if len(halves) == 2:
                try:
                    return _dotted((int(halves[0], 16) << 16) | int(halves[1], 16))
                except ValueError:
                    return None
        return None
    value = _ipv4_value(host)
    if value is None:
        return None
    canonical = _dotted(value)
    return canonical if canonical != host else None


def _canonical_hosts(word: str) -> str:
    """Rewrite numeric host forms (decimal, hex, octal, short, IPv4-mapped IPv6) to dotted quads."""
    if "://" in word:

        def url_repl(m: re.Match[str]) -> str:
            canonical = _canonical_host(m.group(2) or m.group(3))
            return m.group(1) + canonical if canonical else m.group(0)

        word = _URL_HOST.sub(url_repl, word)
    if (word.isdigit() and len(word) >= 8) or (word[:2].lower() == "0x" and "/" not in word):
        canonical = _canonical_host(word)
        if canonical:
            return canonical
    return word


def _command_name(word: str) -> str:
    """``/usr/bin/curl`` → ``curl``; ``\\curl`` was already unescaped by the lexer."""
    if "/" in word and not word.endswith("/") and not word.startswith(("$(", "<(", ">(", "!")):
        return word.rsplit("/", 1)[1]
    return word


def _printable(text: str) -> bool:
    if not text:
        return False
    good = sum(1 for c in text if c.isprintable() or c in "\n\t\r")
    return good >= 0.95 * len(text)


def _b64_text(token: str) -> str | None:
    stripped = token.rstrip("=")
    if len(stripped) < 12:
        return None
    for alt in (None, b"-_"):
        try:
            padded = stripped + "=" * (-len(stripped) % 4)
            raw = base64.b64decode(padded, altchars=alt, validate=True)
        except (binascii.Error, ValueError):
            continue
        text = _bytes_text(raw)
        if text is not None:
            return text
    return None


def _hex_text(token: str) -> str | None:
    try:
        raw = bytes.fromhex(token)
    except ValueError:
        return None
    return _bytes_text(raw)


def _bytes_text(raw: bytes) -> str | None:
    if raw[:2] == b"\x1f\x8b" or raw[:1] == b"\x78":
        with contextlib.suppress(zlib.error):
            raw = zlib.decompress(raw, 47)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _printable(text) or not any(c in text for c in " /;|.=("):
        return None
    return text


# Pure text filters a pipeline can feed a literal through.
def _evaluate_filters(argvs: list[list[str]]) -> str | None:
    """``echo X | base64 -d | …``: the text the first stages produce, when they are all pure."""
    first = argvs[0]
    value = _literal_output(first)
    if value is None:
        return None
    changed = False
    for argv in argvs[1:]:
        step = _apply_filter(argv, value)
        if step is None:
            break
        if step != value:
            changed = True
        value = step
    return value if changed else None


def _literal_output(argv: list[str]) -> str | None:
    if not argv:
        return None
    name = argv[0]
    here = next((a[4:] for a in argv if a.startswith("<<< ")), None)
    if here is not None:
        return here
    if name == "echo":
        args = argv[1:]
        interpret = False
        while args and args[0].startswith("-") and set(args[0][1:]) <= set("neE") and len(args[0]) > 1:
            interpret = interpret or "e" in args[0]
            args = args[1:]
        text = " ".join(a for a in args if not a.startswith((">", "<", "2>")))
        return ansi_c_decode(text) if interpret else text
    if name == "printf":
        args = [a for a in argv[1:] if not a.startswith((">", "<", "2>"))]
        if args and args[0] == "--":
            args = args[1:]
        if not args:
            return None
        fmt = args[0]
        if "%" in fmt:
            rest = args[1:]
            fmt = fmt.replace("%s", "\x01").replace("%b", "\x01")
            out = ansi_c_decode(fmt)
            for value in rest:
                out = out.replace("\x01", value, 1)
            return out.replace("\x01", "")
        return ansi_c_decode(fmt)
    return None


def _apply_filter(argv: list[str], value: str) -> str | None:
    name = argv[0]
    args = argv[1:]
    if name in ("base64", "base32", "basenc") or (name == "openssl" and "base64" in args):
        if not any(
            a in ("-d", "--decode", "-D", "--base64", "-di", "-id") or a.startswith("-d") for a in args
        ):
            return None
        if name == "base32" or "--base32" in args:
            try:
                raw = base64.b32decode("".join(value.split()) + "=" * (-len("".join(value.split())) % 8))
            except (binascii.Error, ValueError):
                return None
        else:
            compact = "".join(value.split())
            try:
                raw = base64.b64decode(compact + "=" * (-len(compact) % 4))
            except (binascii.Error, ValueError):
                return None
        return raw.decode("utf-8", "replace")
    if name == "xxd" and "-r" in " ".join(args):
        compact = re.sub(r"[^0-9A-Fa-f]", "", value)
        try:
            return bytes.fromhex(compact).decode("utf-8", "replace")
        except ValueError:
            return None
    if name == "rev":
        return "\n".join(line[::-1] for line in value.split("\n"))
    if name in ("gunzip", "zcat") or (name == "gzip" and "-d" in args):
        return None
    if name == "tr" and len(args) == 2 and not args[0].startswith("-"):
        src, dst = _tr_set(args[0]), _tr_set(args[1])
        if src and dst:
            dst = dst + dst[-1] * max(0, len(src) - len(dst))
            return value.translate(str.maketrans(src, dst[: len(src)]))
        return None
    return None


def _tr_set(spec: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(spec):
        if i + 2 < len(spec) and spec[i + 1] == "-":
            a, b = ord(spec[i]), ord(spec[i + 2])
            if a <= b and b - a < 256:
                out.extend(chr(c) for c in range(a, b + 1))
            i += 3
            continue
        out.append(spec[i])
        i += 1
    return "".join(out)


def _evaluate_substitution(inner: str) -> str | None:
    """``$(echo cu)`` → ``cu``; ``$(echo … | base64 -d)`` → decoded; else None."""
    inner = inner.strip()
    if not inner or len(inner) > 65536:
        return None
    try:
        pipelines = _Lexer(inner).parse()
    except RecursionError:  # pragma: no cover
        return None
    located = _located_program(pipelines)
    if located is not None:
        return located
    if len(pipelines) != 1:
        return None
    argvs: list[list[str]] = []
    for command in pipelines[0]:
        argv: list[str] = []
        for item in command.items:
            if isinstance(item, _Redir):
                if item.op == "<<<" and item.target is not None:
                    argv.append("<<< " + "".join(p.text for p in item.target.parts if p.kind == "lit"))
                continue
            if any(p.kind != "lit" for p in item.parts):
                return None
            argv.append("".join(p.text for p in item.parts))
        if not argv:
            return None
        argv[0] = _command_name(argv[0])
        argvs.append(argv)
    if not argvs:
        return None
    value = _literal_output(argvs[0])
    if value is None:
        return None
    for argv in argvs[1:]:
        step = _apply_filter(argv, value)
        if step is None:
            return None
        value = step
    return value.rstrip("\n")


def _located_program(pipelines: list[_Pipeline]) -> str | None:
    """``$(which python3 || which python)`` / ``$(command -v gpg)`` → the program's name."""
    first = pipelines[0][0] if pipelines and pipelines[0] else None
    if first is None or len(pipelines[0]) != 1:
        return None
    words = ["".join(p.text for p in item.parts) for item in first.items if isinstance(item, _Word)]
    if (len(words) == 2 and words[0] == "which") or (
        len(words) == 3 and words[0] in ("command", "type") and words[1] in ("-v", "-p", "-P")
    ):
        return _command_name(words[-1])
    return None


FULL_PARSE_LIMIT = 64 * 1024  # longer texts get the coarse (C-speed) normalisation

_COARSE_IFS = re.compile(r"\$\{IFS[^}]*\}|\$IFS\b")
_COARSE_QUOTES = re.compile(r"\\(.)|['\"]", re.DOTALL)
_COARSE_PIPELINES = re.compile(r"\n|;|&&|\|\||(?<![>&])&(?![>&])")
_COARSE_SEGMENTS = re.compile(r"\|&?")
_COARSE_ARGV0 = re.compile(r"^\S*/(?=\S)")


def normalize_coarse(text: str) -> Normalized:
    """Normalisation for very long input: quotes, escapes and ${IFS} removed and the text split
    into pipelines and segments by regular expressions only. Nothing is skipped — every byte
    still reaches the rules — but variables, wrappers and nested payloads are not followed
    (base64 / hex literals still are, when the text asks for decoding)."""
    out = Normalized(coarse=True)
    flat = _COARSE_QUOTES.sub(lambda m: m.group(1) or "", _COARSE_IFS.sub(" ", text))
    seen_segments: set[str] = set()
    seen_pipelines: set[str] = set()
    for chunk in _COARSE_PIPELINES.split(flat):
        segments: list[str] = []
        for piece in _COARSE_SEGMENTS.split(chunk):
            words = piece.split()
            if not words:
                continue
            segment = _COARSE_ARGV0.sub("", " ".join(words), count=1)
            segments.append(segment)
            if segment not in seen_segments:
                seen_segments.add(segment)
                out.segments.append(Segment(segment, False, 0))
        if segments:
            pipeline = " | ".join(segments)
            if pipeline not in seen_pipelines:
                seen_pipelines.add(pipeline)
                out.pipelines.append(pipeline)
                out.snippet_parts.append(pipeline)
    normalizer = _Normalizer()
    normalizer._decode_literals(text, 0, False)
    decoded = normalizer.out
    out.segments.extend(decoded.segments)
    out.pipelines.extend(decoded.pipelines)
    out.snippet_parts.extend(decoded.snippet_parts)
    return out


def normalize(text: str) -> Normalized:
    """All the views of ``text`` (one command line or a pasted multi-line snippet)."""
    if len(text) > FULL_PARSE_LIMIT:
        return normalize_coarse(text)
    normalizer = _Normalizer()
    normalizer.run(text)
    return normalizer.out

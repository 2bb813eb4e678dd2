"""Read cmd.exe command lines in cmd's own order: percent expansion, then carets, then the parser.

cmd expands ``%VAR%`` and ``%VAR:~start,length%`` / ``%VAR:old=new%`` first (so ``%COMSPEC:~-7,1%``
is a letter an attacker borrowed), then removes carets outside double quotes (``c^e^r^t^u^t^i^l``),
then splits on ``&``, ``&&``, ``||`` and ``|``. The split is tree-sitter-batch's. ``set NAME=value``
on one line is seen by the lines after it, as in a pasted batch.
"""

from __future__ import annotations

import functools
import re

import tree_sitter_batch
from tree_sitter import Language, Node, Parser

from ssm_warden.detect.windows.fold import ENVIRONMENT, text_of
from ssm_warden.detect.windows.programs import canonical_program
from ssm_warden.detect.windows.reading import Command, Reading

_PERCENT = re.compile(
    r"%([A-Za-z_][A-Za-z0-9_#$'()*+,\-.?@\[\]`{}~ ]*?)(?::(~-?\d+(?:,-?\d+)?|[^%=]*=[^%]*))?%"
)
_EXTRA_ENV = {
    "username": "ssm-user",
    "userprofile": "C:\\Users\\ssm-user",
    "appdata": "C:\\Users\\ssm-user\\AppData\\Roaming",
    "localappdata": "C:\\Users\\ssm-user\\AppData\\Local",
    "temp": "C:\\Users\\ssm-user\\AppData\\Local\\Temp",
    "tmp": "C:\\Users\\ssm-user\\AppData\\Local\\Temp",
    "computername": "EC2AMAZ-0000000",
    "homedrive": "C:",
}


MAX_LINE = 8191  # cmd.exe's own limit on a command line
MAX_GROUPING = 256  # "(" and "@" in one line beyond which it is read word by word
_OPERATOR = re.compile(r"""(?:"[^"]*"|[^&|"])+""")
_WORDS = re.compile(r"""(?:"[^"]*"|[^\s"])+""")
_FIRST_WORD = re.compile(rb"""(?:"[^"]*"|[^\s"&|<>])+""")
_CARET_IN_WORD = re.compile(r"[A-Za-z0-9]\^[A-Za-z0-9]")
_ENV_SUBSTRING = re.compile(r"%[A-Za-z_]+:~-?\d+(?:,-?\d+)?%")


@functools.cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_batch.language()))


def expand_percent(line: str, env: dict[str, str]) -> str:
    """``%NAME%``, ``%NAME:~s,l%`` and ``%NAME:a=b%`` expanded as cmd does; unknown names stay."""

    def sub(m: re.Match[str]) -> str:
        name, modifier = m.group(1).lower(), m.group(2)
        value = env.get(name)
        if value is None:
            return m.group(0)
        if modifier is None:
            return value
        if modifier.startswith("~"):
            return _substring(value, modifier[1:])
        old, _, new = modifier.partition("=")
        if not old:
            return value
        if old.startswith("*"):
            idx = value.lower().find(old[1:].lower())
            return value if idx < 0 else new + value[idx + len(old) - 1 :]
        return re.sub(re.escape(old), lambda _m: new, value, flags=re.IGNORECASE)

    return _PERCENT.sub(sub, line)


def _substring(value: str, spec: str) -> str:
    parts = spec.split(",")
    try:
        start = int(parts[0])
        length = int(parts[1]) if len(parts) > 1 else None
    except ValueError:
        return value
    if start < 0:
        start = max(0, len(value) + start)
    if length is None:
        return value[start:]
    end = len(value) + length if length < 0 else start + length
    return value[start:end]


def remove_carets(line: str) -> str:
    """Carets escape the next character outside double quotes; inside quotes they are literal."""
    if "^" not in line:
        return line
    out: list[str] = []
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == '"':
            quoted = not quoted
        elif ch == "^" and not quoted and i + 1 < len(line):
            i += 1
            out.append(line[i])
            i += 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def cmd_environment() -> dict[str, str]:
    return {**ENVIRONMENT, **_EXTRA_ENV}


def read_cmd(text: str, reading: Reading, depth: int = 0, via: str = "typed") -> None:
    """Add what ``text`` runs, read as cmd.exe (line by line, as a pasted batch), to ``reading``."""
    env = cmd_environment()
    for raw_line in text.splitlines() or [text]:
        # Carets and percent signs are what these three steps look for: most lines have neither.
        percent = "%" in raw_line
        if "^" in raw_line and _CARET_IN_WORD.search(raw_line):
            reading.obfuscation.append("caret")
        if percent and _ENV_SUBSTRING.search(raw_line):
            reading.obfuscation.append("env-substring")
        line = remove_carets(expand_percent(raw_line, env) if percent else raw_line)
        reading.texts.append(line.lower())
        if not line.strip():
            continue
        if len(line) > MAX_LINE:
            line = line[:MAX_LINE]  # cmd.exe itself reads no more of a line
            reading.truncated = True
        if line.count("(") + line.count("@") > MAX_GROUPING:
            # tree-sitter-batch takes quadratic time on runs of "(" or "@"; read word by word
            reading.obfuscation.append("deep-nesting")
            _read_loosely(line, reading, depth, via)
            continue
        # The grammar wants a line end after the last command (a bare "whoami" is an error without).
        root = _parser().parse((line + "\n").encode("utf-8", "replace")).root_node
        _walk(root, reading, depth, via, env)


def _walk(root: Node, reading: Reading, depth: int, via: str, env: dict[str, str]) -> None:
    stack: list[tuple[Node, int]] = [(root, 0)]
    while stack:
        node, pipeline = stack.pop()
        kind = node.type
        if kind == "pipe_stmt" or pipeline == 0:
            pipeline = reading.next_pipeline()
        if kind == "cmd":
            reading.add(_command(node, pipeline, depth, via))
            continue
        if kind == "redirect_stmt":
            _redirected(node, reading, pipeline or reading.next_pipeline(), depth, via)
            continue
        if kind == "variable_assignment":
            _assign(node, env)
            reading.add(Command("set", (text_of(node)[3:].strip(),), "cmd", pipeline, depth, via))
            continue
        if kind in ("command_sep", "cond_exec", "pipe_stmt", "redirect_stmt") or node.type == "program":
            stack.extend((c, pipeline if kind == "pipe_stmt" else 0) for c in reversed(node.children))
            continue
        if node.child_count and kind not in ("string", "comment"):
            stack.extend((c, pipeline) for c in reversed(node.children))


def _read_loosely(line: str, reading: Reading, depth: int, via: str) -> None:
    """Split on cmd's operators outside quotes and read words: for lines the grammar cannot take."""
    for part in _OPERATOR.findall(line):
        words = [_unquote(w) for w in _WORDS.findall(part)]
        if words:
            name = words[0].lstrip("@(")
            reading.add(
                Command(
                    canonical_program(name, "cmd"),
                    tuple(words[1:]),
                    "cmd",
                    reading.next_pipeline(),
                    depth,
                    via,
                )
            )


def _redirected(node: Node, reading: Reading, pipeline: int, depth: int, via: str) -> None:
    """``echo x > C:\\…\\Startup\\a.bat``: the target is an argument of what writes it."""
    targets = [text_of(c) for c in node.named_children if c.type == "redirection"]
    for child in node.named_children:
        if child.type == "cmd":
            command = _command(child, pipeline, depth, via)
            reading.add(Command(command.program, (*command.args, *targets), "cmd", pipeline, depth, via))
        elif child.type != "redirection":
            _walk(child, reading, depth, via, {})


def _assign(node: Node, env: dict[str, str]) -> None:
    text = text_of(node)
    body = text[3:].strip().strip('"')
    if body.lower().startswith("/a") or body.lower().startswith("/p"):
        return
    name, _, value = body.partition("=")
    if name.strip():
        env[name.strip().lower()] = value


def _command(node: Node, pipeline: int, depth: int, via: str) -> Command:
    # The program is the first word as cmd reads it (quotes kept together): the grammar cuts
    # "C:\Windows\x.exe" at the colon and a quoted "C:\Program Files\…" at the space.
    raw = node.text or b""
    stripped = raw.lstrip()
    m = _FIRST_WORD.match(stripped)
    word = m.group(0) if m else b""
    name_end = node.start_byte + (len(raw) - len(stripped)) + len(word)
    args: list[str] = []
    for child in node.named_children:
        parts = child.named_children if child.type == "argument_list" else [child]
        for part in parts:
            if part.start_byte >= name_end:
                args.append(_unquote(text_of(part)))
    name = _unquote(word.decode("utf-8", "replace"))
    # "cmd/c" and "certutil.exe/urlcache" are one word to the parser but two to cmd.
    if "/" in name and not name.startswith(("/", "\\\\")) and ":" not in name[:3]:
        head, _, rest = name.partition("/")
        name, args = head, ["/" + rest, *args]
    return Command(canonical_program(name, "cmd"), tuple(args), "cmd", pipeline, depth, via)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    return text

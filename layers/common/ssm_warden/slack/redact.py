"""Redaction and sanitising of attacker-controlled text before it leaves AWS.

Session text (commands, output, StartSession reasons, tag values) is typed by the person being watched.
Two things are done to it before it is put into a Slack message:

* ``redact`` masks secrets: AWS keys, passwords on command lines, tokens of well-known services,
  credentials in URLs and connection strings, private-key blocks. Masking errs on the side of hiding
  too much: the full transcript stays in CloudWatch Logs for whoever may read it.
* ``sanitize`` (redact, then escape) makes the text inert in Slack mrkdwn: ``&``, ``<`` and ``>`` are
  escaped as Slack documents, which defeats ``<!channel>``, ``<@U…>``, ``<#C…>`` and ``<url|text>``
  links; invisible and bidirectional control characters, which can hide or reorder text, are shown
  as ``[U+XXXX]``.

``code_block`` and ``inline_code`` put sanitised text in code formatting with backticks replaced by a
look-alike (U+02CB MODIFIER LETTER GRAVE ACCENT), so a command cannot close its own code block and
smuggle mrkdwn out of it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

MASK = "[REDACTED]"


def _label(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# A value that has already been masked is left alone, so ``redact`` is idempotent.
_NOT_MASKED = r"(?!\[REDACTED)"
# An unquoted value: stops at whitespace, quotes and the separators of connection strings and URLs.
_VALUE = r"(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s\"';&,<>]+)"

Replace = Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class _Rule:
    source: str
    replace: Replace
    # The rule runs only on text containing one of these (lower case): a cheap filter that keeps
    # redaction fast on long transcripts. None: always runs.
    triggers: tuple[str, ...] | None = None
    # Keyed rules match any ``key=value``; ``replace`` returns None when the key is not a secret's,
    # and the scan resumes right after the key so that the value is looked at again.
    keyed: bool = False
    flags: int = 0

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """The rule's expression, compiled the first time a text calls for it: compiling them all
        is most of this module's import (~20 ms of every function's cold start), and most texts
        trigger few rules."""
        return re.compile(self.source, self.flags)


def _whole(kind: str) -> Replace:
    """Replace the whole match by a labelled mask."""
    label = _label(kind)
    return lambda _m: label


def _keep_group(keep: str = "keep") -> Replace:
    """Keep the named group (the context: a flag, a key name) and mask the rest."""
    return lambda m: f"{m.group(keep)}{MASK}"


def _masked_value(m: re.Match[str]) -> str:
    value = m.group("value")
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    return f"{m.group('keep')}{quote}{MASK}{quote}"


# Key names that mark the value after them as a secret: anywhere in the name ...
_CONTAINS = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"private[_-]?key|credential|signature|x-amz-credential"
)
# ... or as the whole name or its last part (``MYSQL_PWD``, ``--pass``, ``sig=``).
_EXACT = r"pass|pwd|pw|auth|sig|storepass|keypass|srcstorepass|deststorepass|newpass|oldpass"
_SECRET_KEY = re.compile(
    r"-*(?:[\w.-]*(?:" + _CONTAINS + r")[\w.-]*|(?:[\w.]*[_.-])?(?:" + _EXACT + r"))", re.IGNORECASE
)
# Flags that name where a secret comes from rather than the secret (``--password-stdin``).
_SOURCES = ("stdin", "file", "prompt", "-env")


def _keyed_value(m: re.Match[str]) -> str | None:
    key = m.group("key")
    if not _SECRET_KEY.fullmatch(key) or key.lower().endswith(_SOURCES):
        return None
    return _masked_value(m)


def _words(text: str) -> list[str]:
    return text.split()


# Programs whose -p / -P / -k / -w / -a means something other than a password (a port, a path,
# a regex, keep-going, a width). Every other program's value after these flags is masked.
_SHORT_FLAG_NOT_SECRET: dict[str, frozenset[str]] = {
    "-p": frozenset(
        _words(
            "mkdir cp install ssh scp sftp mosh nc ncat netcat socat telnet docker podman nerdctl "
            "kubectl ps pgrep pkill pidof lsof kill strace ltrace gdb perf patch git tar rsync xargs "
            "perl python python3 ruby node sed read ip ss netstat nmap iperf iperf3 ping hping3 chmod "
            "chown mount umount df du ls tree find date touch file stat watch top htop pstree prlimit "
            "taskset renice ionice gcore unshare nsenter sysctl setfacl getfacl mktemp rm mv ln tee cat "
            "head tail less more sort uniq cut paste printf echo journalctl systemctl apt apt-get dpkg "
            "rpm yum dnf pip pip3 npm make cmake gcc cc ld go cargo rustc javac java mvn gradle "
            "terraform helm gcloud jq yq crontab passwd at timeout nice ssh-keygen ssh-copy-id "
            "autossh sshfs openvpn wg tcpdump tshark iptables nft ufw firewall-cmd curl wget http grep "
            "egrep fgrep rg ag zip unzip mysql mysqldump mysqladmin mysqlimport mysqlcheck mysqlsh "
            "mariadb mariadb-dump mycli "
        )
    ),
    "-P": frozenset(
        _words(
            "grep egrep fgrep rg pcregrep scp sftp rsync curl wget cp ls ps du df find xargs nmap ping "
            "iptables ip6tables docker cd pwd ln mount sort make git ssh-keygen pip pip3 hping3 tar "
        )
    ),
    "-k": frozenset(
        _words(
            "curl wget sort kill pkill ls du df make ssh-keygen systemctl ip ps gpg keytool nc ncat "
            "tail ssh timeout kubectl git apt-get dpkg "
        )
    ),
    "-w": frozenset(
        _words(
            "curl wget grep egrep fgrep rg ping wc sort uniq diff sed xargs fold fmt column nc ncat "
            "tcpdump iptables ip6tables nft watch stty tail dmesg journalctl who w ls git timeout "
            "base64 openssl sysctl strace ss tar zip jq "
        )
    ),
    "-a": frozenset(
        _words(
            "ls cp mv rsync tar ps df du git grep sort uniq tee touch diff uname who w cat head tail "
            "xargs ip docker kubectl apt-get dpkg curl wget file netstat ss lsof top free iostat date "
            "env nc ncat chmod chown sed awk jq umount mount swapon swapoff sysctl hostname ssh "
            "systemctl zip unzip gpg journalctl pip pip3 npm make strace last lastlog useradd usermod "
            "exportfs ln "
        )
    ),
}
_NOT_A_SECRET_VALUE = re.compile(r"^(?:\d+(?:[:.-]\d+)*|[/~.$-].*|\S*[/\\]\S*|[A-Za-z]|\{\}|%\S*)$")


_WRAPPERS = frozenset({"sudo", "doas", "env", "nohup", "time", "nice", "command", "exec", "xargs", "watch"})
_SEGMENT_START = re.compile(r".*[;|&\n(]", re.DOTALL)


def _program_before(text: str, end: int) -> str:
    """The program whose argument list reaches ``end``: the first word of the simple command,
    past wrappers (``sudo``, ``env``), their options and variable assignments."""
    window = text[max(0, end - 512) : end]
    start = _SEGMENT_START.match(window)
    words = window[start.end() if start else 0 :].split()
    for word in words:
        if word.startswith("-") or "=" in word or word.isdigit() or word.rsplit("/", 1)[-1] in _WRAPPERS:
            continue
        return word.rsplit("/", 1)[-1]
    return ""


def _short_flag_value(m: re.Match[str]) -> str:
    program = _program_before(m.string, m.start())
    flag = m.group("flag")
    value = m.group("value")
    bare = value.strip("'\"")
    if (
        program in _SHORT_FLAG_NOT_SECRET.get(flag, frozenset())
        or _NOT_A_SECRET_VALUE.match(bare)
        or not bare
    ):
        return m.group(0)
    return _masked_value(m)


def _secretish(value: str) -> bool:
    """A word that could be a password: six or more characters mixing at least three of lower
    case, upper case, digits and symbols (``hunter2`` is not; ``Hunter2!`` is), and not a path."""
    bare = value.strip("'\"")
    if len(bare) < 6 or bare.startswith(("/", "./", "~", "$", "-", "[REDACTED")):
        return False
    kinds = (
        any(c.islower() for c in bare)
        + any(c.isupper() for c in bare)
        + any(c.isdigit() for c in bare)
        + any(not c.isalnum() for c in bare)
    )
    return kinds >= 3


def _entropy(token: str) -> float:
    counts: dict[str, int] = {}
    for char in token:
        counts[char] = counts.get(char, 0) + 1
    n = len(token)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


_HEX = re.compile(r"^(?:sha\d*[:=])?[0-9a-f]+$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _high_entropy(m: re.Match[str]) -> str:
    """A long token of mixed letters and digits with the entropy of random bytes is a key.
    Lower-case hex (commit ids, digests), UUIDs, dotted names and words joined by - or _ are not."""
    token = m.group(0)
    if _HEX.match(token) or _UUID.match(token) or token.count(".") > 1 or token.startswith("[REDACTED"):
        return token
    core = token.strip("=")
    if not (
        any(c.isdigit() for c in core) and any(c.isupper() for c in core) and any(c.islower() for c in core)
    ):
        return token
    pieces = re.split(r"[-_./]", core)
    if len(pieces) > 2 and all(p.isalpha() or p.isdigit() for p in pieces):  # kebab/snake names, versions
        return token
    if _entropy(core) < (4.0 if len(core) < 40 else 4.3):
        return token
    return _label("high-entropy")


def _aws_secret(m: re.Match[str]) -> str:
    token = m.group(0)
    if (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    ):
        return _label("aws-secret")
    return token


_SCHEMES = r"bearer|basic|token|digest|negotiate|aws4-hmac-sha256"
# One shell argument, quoted or not.
_ARG = r"\"[^\"\n]*\"|'[^'\n]*'|\S+"


def _segment(commands: str) -> str:
    """A command (one of ``commands``) and its arguments, up to the end of the simple command."""
    return r"\b(?:" + commands + r")\b(?:\"[^\"\n]*\"|'[^'\n]*'|[^\n|;&\"'])*"


def _in_segment(inner: str, replace: Replace) -> Replace:
    """Apply ``inner`` everywhere inside a matched command segment (every ``-p`` of a command)."""
    compiled: list[re.Pattern[str]] = []  # compiled on first use, as the rules are

    def apply(m: re.Match[str]) -> str:
        if not compiled:
            compiled.append(re.compile(inner))
        return compiled[0].sub(replace, m.group(0))

    return apply


def _rule(pattern: str, replace: Replace, triggers: tuple[str, ...] | None, flags: int = 0) -> _Rule:
    return _Rule(pattern, replace, triggers, flags=flags)


_RULES: list[_Rule] = [
    # Private keys: the whole block, or everything after an unterminated BEGIN line.
    _rule(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
        r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
        _whole("private-key"),
        ("private key",),
        re.DOTALL,
    ),
    # Tokens with a recognisable shape, whatever surrounds them.
    _rule(
        r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])",
        _whole("aws-key-id"),
        ("akia", "asia", "abia", "acca"),
    ),
    _rule(
        r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+=]{16,}",
        _whole("aws-session-token"),
        ("iqojb3jpz2lu", "fwogzxivyxdz", "fqogzxivyxdz"),
    ),
    _rule(r"\bgh[pousr]_[A-Za-z0-9]{20,}", _whole("github-token"), ("gh",)),
    _rule(r"\bgithub_pat_[A-Za-z0-9_]{20,}", _whole("github-token"), ("github_pat_",)),
    _rule(r"\bglpat-[A-Za-z0-9_-]{16,}", _whole("gitlab-token"), ("glpat-",)),
    _rule(r"\bxox[abposrec]-[A-Za-z0-9-]{8,}", _whole("slack-token"), ("xox",)),
    _rule(r"\bxapp-[A-Za-z0-9-]{8,}", _whole("slack-token"), ("xapp-",)),
    _rule(
        r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+",
        lambda _m: f"hooks.slack.com/{_label('slack-webhook')}",
        ("hooks.slack.com",),
    ),
    _rule(r"\bAIza[0-9A-Za-z_-]{30,}", _whole("google-api-key"), ("aiza",)),
    _rule(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}", _whole("stripe-key"), ("k_live_", "k_test_")),
    _rule(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}", _whole("api-key"), ("sk-",)),
    _rule(r"\bnpm_[A-Za-z0-9]{30,}", _whole("npm-token"), ("npm_",)),
    _rule(r"\bpypi-[A-Za-z0-9_-]{30,}", _whole("pypi-token"), ("pypi-",)),
    _rule(r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}", _whole("vault-token"), ("hvs.", "hvb.", "hvr.")),
    _rule(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}", _whole("sendgrid-key"), ("sg.",)),
    _rule(r"\bdop_v1_[a-f0-9]{40,}", _whole("digitalocean-token"), ("dop_v1_",)),
    _rule(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*", _whole("jwt"), ("eyj",)),
    # Credentials in URLs: scheme://user:password@host keeps the user; a long bare user part is a token.
    _rule(
        r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)" + _NOT_MASKED + r"[^\s'\"]+(?=@)",
        _keep_group(),
        ("://",),
    ),
    _rule(
        r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://)" + _NOT_MASKED + r"[^\s:/@'\"]{20,}(?=@)",
        _keep_group(),
        ("://",),
    ),
    # HTTP headers that carry credentials.
    _rule(
        r"(?P<keep>\b(?:proxy-)?authorization\s*:\s*(?:(?:"
        + _SCHEMES
        + r")\s+)?)"
        + _NOT_MASKED
        + r"(?!(?:"
        + _SCHEMES
        + r")\s)"
        + r"[^\s'\"]+(?:[^\n'\"]*)",
        _keep_group(),
        ("authorization",),
        re.IGNORECASE,
    ),
    _rule(
        r"(?P<keep>\bbearer\s+)" + _NOT_MASKED + r"[A-Za-z0-9._~+/=-]{8,}",
        _keep_group(),
        ("bearer",),
        re.IGNORECASE,
    ),
    _rule(
        r"(?P<keep>\b(?:x-api-key|api-key|x-auth-token|private-token|x-vault-token|x-amz-security-token|"
        r"cookie|set-cookie)\s*:\s*)" + _NOT_MASKED + r"[^\s'\"][^\n'\"]*",
        _keep_group(),
        ("api-key", "auth-token", "private-token", "vault-token", "security-token", "cookie"),
        re.IGNORECASE,
    ),
    # curl/wget user:password, smbclient user%password.
    _rule(
        _segment(r"curl|wget|http|https"),
        _in_segment(
            r"(?P<keep>\s(?:-u\s*|--user[=\s]+)['\"]?[^\s:'\"]+:)" + _NOT_MASKED + r"[^\s'\"]+", _keep_group()
        ),
        ("curl", "wget", "http"),
    ),
    _rule(r"(?P<keep>\s-U\s*['\"]?[^\s%'\"]+%)" + _NOT_MASKED + r"[^\s'\"]+", _keep_group(), ("-u",)),
    # mysql -pSECRET (the password glued to -p); and tools that take a password after a flag.
    _rule(
        _segment(r"mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb|mariadb-dump|mycli"),
        _in_segment(r"(?P<keep>\s-p)" + _NOT_MASKED + r"(?P<value>" + _ARG + ")", _masked_value),
        ("mysql", "mariadb", "mycli"),
    ),
    _rule(
        _segment(r"sshpass|docker\s+login|podman\s+login|helm\s+registry\s+login"),
        _in_segment(r"(?P<keep>\s-p\s+)" + _NOT_MASKED + r"(?P<value>" + _ARG + ")", _masked_value),
        ("sshpass", "login"),
    ),
    _rule(
        _segment(r"redis-cli"),
        _in_segment(r"(?P<keep>\s-a\s+)" + _NOT_MASKED + r"(?P<value>" + _ARG + ")", _masked_value),
        ("redis-cli",),
    ),
    # openssl -pass pass:SECRET, -passin pass:SECRET
    _rule(r"(?P<keep>\bpass:)" + _NOT_MASKED + r"[^\s'\"]+", _keep_group(), ("pass:",)),
    # echo SECRET | sudo -S ; echo user:SECRET | chpasswd
    _rule(
        r"(?P<keep>\b(?:echo|printf)\s+)"
        + _NOT_MASKED
        + r"(?P<value>"
        + _VALUE
        + r")(?=\s*\|\s*sudo\s+(?:-\w+\s+)*-S)",
        _masked_value,
        ("sudo",),
    ),
    _rule(
        r"(?P<keep>\b(?:echo|printf)\s+['\"]?[^\s:'\"]+:)"
        + _NOT_MASKED
        + r"[^\s'\"]+(?=['\"]?\s*\|\s*chpasswd)",
        _keep_group(),
        ("chpasswd",),
    ),
    # PowerShell: ConvertTo-SecureString 'SECRET' -AsPlainText
    _rule(
        r"(?P<keep>\bConvertTo-SecureString\s+(?:-String\s+)?)" + _NOT_MASKED + r"(?P<value>" + _VALUE + ")",
        _masked_value,
        ("convertto-securestring",),
        re.IGNORECASE,
    ),
    # aws configure set aws_secret_access_key SECRET
    _rule(
        r"(?P<keep>\baws\s+configure\s+set\s+(?:\S+\.)?(?:aws_secret_access_key|aws_session_token)\s+)"
        + _NOT_MASKED
        + r"\S+",
        _keep_group(),
        ("configure",),
    ),
    # .netrc: machine HOST login USER password SECRET
    _rule(r"(?P<keep>\blogin\s+\S+\s+password\s+)" + _NOT_MASKED + r"\S+", _keep_group(), ("password",)),
    # Command-line flags: --password SECRET, --password=SECRET, --token ..., -pass ...
    _Rule(
        (
            r"(?P<keep>(?<![\w-])(?P<key>--?[\w.-]+)(?:=|[ \t]+))"
            + _NOT_MASKED
            + r"(?P<value>(?!-)"
            + _VALUE
            + ")"
        ),
        _masked_value,
        ("-",),
        keyed=True,
    ),
    # key=value and "key": "value": environment variables, config lines, JSON, query strings,
    # connection strings (Password=...;), libpq keyword strings (password=...).
    _Rule(
        (
            r"(?P<keep>(?<![\w-])[\"']?(?P<key>[\w.-]+)[\"']?[ \t]*[=:][ \t]*)"
            + _NOT_MASKED
            + r"(?P<value>(?!//)"
            + _VALUE
            + ")"
        ),
        _masked_value,
        ("=", ":"),
        keyed=True,
    ),
    # Environment variables named like *_KEY=..., *_PASS=... (STRIPE_KEY, SMTP_PASS).
    _rule(
        r"(?P<keep>\b[A-Z][A-Z0-9_]*_(?:KEY|PASS|PW|CREDS?)\s*=\s*)"
        + _NOT_MASKED
        + r"(?P<value>"
        + _VALUE
        + ")",
        _masked_value,
        ("_key", "_pass", "_pw", "_cred"),
    ),
    # By shape, whatever the program: the value after a short password flag (-p / -P / -k / -w),
    # unless this program's flag means something else (mkdir -p, ssh -p PORT, grep -P REGEX).
    _Rule(
        (
            r"(?P<keep>(?<=[ \t])(?P<flag>-[pPkwa])(?:[ \t]+|(?<=-p)(?=[^\s-])))"
            + _NOT_MASKED
            + r"(?P<value>"
            + _VALUE
            + ")"
        ),
        _short_flag_value,
        ("-p", "-k", "-w", "-a"),
    ),
    # Positional secrets of known shapes: htpasswd -b FILE USER PASS, mysqladmin … password NEW,
    # vault login TOKEN, smbpasswd/net user USER PASS.
    _rule(
        r"(?P<keep>\bhtpasswd\s+(?:-\w+\s+)*-\w*b\w*\s+(?:-\w+\s+)*(?!-)\S+\s+(?!-)\S+\s+)"
        + _NOT_MASKED
        + r"(?P<value>"
        + _VALUE
        + ")",
        _masked_value,
        ("htpasswd",),
    ),
    _rule(
        r"(?P<keep>\b(?:mysqladmin\b[^\n|;&]*?\s(?:password)|vault\s+login(?:\s+-\S+)*|net\s+user\s+\S+)\s+)"
        + _NOT_MASKED
        + r"(?P<value>(?!-)"
        + _VALUE
        + ")",
        _masked_value,
        ("mysqladmin", "vault", "net user"),
    ),
    # A secret-looking word after a password keyword (nmcli … password X, rclone … secret_access_key X,
    # bw unlock X, consul acl set-agent-token agent X) or as the last two words of mc alias set.
    _rule(
        r"(?P<keep>(?<![\w-])(?:password|passwd|passphrase|[\w-]*secret[\w-]*|[\w-]*token|unlock)"
        r"[ \t]+(?:[A-Za-z][\w-]{0,20}[ \t]+)?)" + _NOT_MASKED + r"(?P<value>(?!-)" + _VALUE + ")",
        lambda m: _masked_value(m) if _secretish(m.group("value")) else m.group(0),
        ("pass", "secret", "token", "unlock"),
        re.IGNORECASE,
    ),
    _rule(
        r"(?P<keep>\bmc\s+alias\s+set\s+\S+\s+\S+\s+\S+\s+)" + _NOT_MASKED + r"(?P<value>" + _VALUE + ")",
        _masked_value,
        ("alias",),
    ),
    # Glued archive passwords: 7z -pSECRET, rar -pSECRET, unrar -pSECRET.
    _rule(
        r"(?P<keep>\b(?:7z|7za|7zr|rar|unrar)\b[^\n|;&]*?\s-p)" + _NOT_MASKED + r"(?P<value>" + _ARG + ")",
        _masked_value,
        ("7z", "rar"),
    ),
    # A bare AWS secret access key: 40 characters of base64 with upper case, lower case and a digit.
    _rule(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])", _aws_secret, None),
    # Anything else that looks like a key by its shape and entropy (see _high_entropy).
    _rule(r"(?<![\w/+.-])[A-Za-z0-9_+/.-]{24,}={0,2}(?![\w/+=.-])", _high_entropy, None),
]


def _sub_keyed(rule: _Rule, text: str) -> str:
    """Apply a keyed rule: mask the values of secret keys; rescan the values of other keys."""
    out: list[str] = []
    pos = 0
    while True:
        m = rule.pattern.search(text, pos)
        if m is None:
            break
        replaced = _keyed_value(m)
        if replaced is None:
            out.append(text[pos : m.end("key")])
            pos = m.end("key")
            continue
        out.append(text[pos : m.start()])
        out.append(replaced)
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """Mask every secret ``text`` appears to contain. Idempotent: ``redact(redact(t)) == redact(t)``."""
    lowered = text.lower()
    for rule in _RULES:
        triggers = rule.triggers
        if triggers is not None:
            # A plain loop, not any(<generator>): this check runs for every rule on every text.
            for trigger in triggers:
                if trigger in lowered:
                    break
            else:
                continue
        masked = _sub_keyed(rule, text) if rule.keyed else rule.pattern.sub(rule.replace, text)
        if masked != text:
            text = masked
            lowered = text.lower()
    return text


# Characters that hide or reorder text: zero-width, bidirectional overrides and isolates, BOM.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad]")
# Control characters other than newline and tab.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _show_codepoint(m: re.Match[str]) -> str:
    return f"[U+{ord(m.group()):04X}]"


def strip_invisible(text: str) -> str:
    """Show characters that hide or reorder text as ``[U+XXXX]``; drop other control characters."""
    text = _INVISIBLE.sub(_show_codepoint, text)
    return _CONTROL.sub("", text)


def escape(text: str) -> str:
    """Escape the three characters Slack reserves for its markup (``&``, ``<``, ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sanitize(text: str) -> str:
    """Redact, show invisible characters, and escape: safe to put in Slack mrkdwn or ``text``."""
    return escape(strip_invisible(redact(unicodedata.normalize("NFC", text))))


_BACKTICK_LOOKALIKE = "\u02cb"  # MODIFIER LETTER GRAVE ACCENT


def _neutralise_backticks(text: str) -> str:
    return text.replace("`", _BACKTICK_LOOKALIKE)


def code_block(text: str) -> str:
    """``text`` sanitised in a mrkdwn code block that it cannot close."""
    body = _neutralise_backticks(sanitize(text)).strip("\n") or " "
    return f"```{body}```"


def inline_code(text: str) -> str:
    """One line of ``text``, sanitised, in inline code (no mrkdwn formatting can apply inside)."""
    one_line = " ".join(text.split())
    body = _neutralise_backticks(sanitize(one_line)) or " "
    return f"`{body}`"


def plain(text: str) -> str:
    """``text`` for a ``plain_text`` object (headers, button labels): redacted, one line, no markup."""
    one_line = " ".join(strip_invisible(redact(text)).split())
    return one_line.replace("<", "\u2039").replace(">", "\u203a")

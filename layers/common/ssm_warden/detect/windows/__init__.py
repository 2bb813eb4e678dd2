"""The Windows detector: PowerShell and cmd.exe read as their parsers do, judged as facts.

``windows_detector(packs).judge_command(command, shell)`` → findings; the Linux detector delegates
here for commands the terminal model tagged ``powershell`` or ``cmd``.
"""

from ssm_warden.detect.windows.detector import WindowsDetector, windows_detector

__all__ = ["WindowsDetector", "windows_detector"]

"""What the detector says about a command or a line of output."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class Finding(BaseModel):
    """One rule that matched one command (or one output line)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    rule: str
    title: str
    severity: Severity
    category: str
    attack: str | None = None
    reason: str
    pack: str = "default"
    # The command as the person typed it (before normalisation); redacted before it leaves AWS.
    command: str

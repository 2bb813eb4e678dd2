"""What an alert button carries (ids, never free text), in a module of its own: the Security Hub
custom action reads the same ids from a finding without importing the Slack side (Block Kit models,
the interaction service)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ssm_warden.models.actions import SessionRef


class ButtonValue(BaseModel):
    """What an alert button carries: ids, never free text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    a: str = Field(pattern=r"^\d{12}$")  # account
    r: str = Field(pattern=r"^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$")  # region
    s: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@=,+-]{0,95}$")  # session id
    x: str | None = Field(default=None, pattern=r"^[0-9a-f]{1,64}$")  # the alert's action id

    def session(self) -> SessionRef:
        return SessionRef(session_id=self.s, account=self.a, region=self.r)

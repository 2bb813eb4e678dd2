"""The enforcement fixtures (``warden``) for the access tests, and a policy with a prod scope."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssm_warden.config import reset_settings
from ssm_warden.policy.store import reset_policy_cache
from tests.integration.enforce.conftest import warden  # noqa: F401  (the fixture)

POLICY = """
version: 1
defaults:
  warn_before_minutes: 5
  idle_minutes: 600
  max_minutes: 1440
scopes:
  - name: prod
    match:
      tags: {Environment: prod}
    require_jit: true
    jit_window: JIT_WINDOW
    keyless: {instance_connect: alert, ecs_exec: observe, endpoint_tunnel: observe}
    denied_tunnel_ports: [22]
  - name: payments-ecs
    match:
      tags: {Team: payments}
    keyless: {ecs_exec: alert}
"""


@pytest.fixture
def prod_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    def use(jit_window: str = "enforce") -> None:
        path = tmp_path / "policy.yaml"
        path.write_text(POLICY.replace("JIT_WINDOW", jit_window))
        monkeypatch.setenv("POLICY_FILE", str(path))
        reset_settings()
        reset_policy_cache()

    use()
    return use

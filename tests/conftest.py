"""Fixtures shared by every test tier.

Every test runs with fake AWS credentials and no route to a real endpoint: clients made through
``ssm_warden.clients`` go to the moto server started here (integration and e2e), and a client made
any other way would carry credentials no account accepts.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ssm_warden.clients import reset_clients
from ssm_warden.config import reset_settings

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events"
ACCOUNT = "123456789012"
REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _fake_aws_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in list(os.environ):
        if key.startswith(("AWS_", "SSM_WARDEN_")):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    # Two attempts per call keep retry-with-backoff paths fast in tests.
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
    # Any client that escaped the factory would try this and fail fast instead of reaching AWS.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "SSMWardenTest")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "ssm-warden-test")
    reset_settings()
    reset_clients()
    yield
    reset_settings()
    reset_clients()


def load_event(name: str) -> dict[str, Any]:
    """A sample event from ``events/`` (the same files ``sam local invoke -e`` takes)."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return data


class LambdaContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name = "ssm-warden-test"
    memory_limit_in_mb = 256
    invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ssm-warden-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 300_000


@pytest.fixture
def lambda_context() -> LambdaContext:
    return LambdaContext()

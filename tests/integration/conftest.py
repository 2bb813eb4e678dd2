"""Integration fixtures: one moto server (with SSM sessions) per test session, reset per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ssm_warden.clients import reset_clients
from ssm_warden.config import reset_settings
from ssm_warden_local.resources import LocalStack, create_stack_resources
from ssm_warden_local.server import LocalAws


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    aws = LocalAws().start()
    yield aws
    aws.stop()


@pytest.fixture
def aws(local_aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAws]:
    """The moto server, empty, with every ssm-warden client pointed at it."""
    local_aws.reset()
    monkeypatch.setenv("SSM_WARDEN_ENDPOINT_URL", local_aws.endpoint_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL", local_aws.endpoint_url)
    reset_settings()
    reset_clients()
    yield local_aws
    reset_clients()


@pytest.fixture
def stack(aws: LocalAws, monkeypatch: pytest.MonkeyPatch) -> LocalStack:
    """Tables and queues created from template.yaml in the moto server; functions' env set to them."""
    from ssm_warden.clients import aws_client

    created = create_stack_resources(aws_client)
    for key, value in created.environment().items():
        monkeypatch.setenv(key, value)
    reset_settings()
    return created

"""The only place AWS clients are made: cached per service, pointed at a local endpoint in tests.

Domain code never imports this module; repositories and executors do.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ssm_warden.config import get_settings


@cache
def aws_client(service: str) -> Any:
    """A boto3 client for ``service``, created on first use and reused for the container's life."""
    import boto3  # imported here so that importing a handler stays cheap
    from botocore.config import Config

    settings = get_settings()
    # Standard retry mode backs off on throttling and 5xx; the number of attempts comes from
    # AWS_MAX_ATTEMPTS when set (botocore's default is 3).
    config = Config(retries={"mode": "standard"}, connect_timeout=3, read_timeout=10)
    return boto3.session.Session().client(
        service,
        region_name=settings.region,
        endpoint_url=settings.endpoint_url,
        config=config,
    )


def reset_clients() -> None:
    """Drop every cached client (tests point the factory at a new endpoint)."""
    aws_client.cache_clear()

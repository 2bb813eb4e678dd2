"""Target tags for a session: EC2 tags for instances, SSM resource tags for managed nodes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ssm_warden.clients import aws_client, aws_client_for, is_own_account
from ssm_warden.config import get_settings
from ssm_warden.observability import logger


@dataclass(frozen=True)
class TagLookup:
    tags: dict[str, str] = field(default_factory=dict)
    failed: bool = False


def lookup_target_tags(
    target_id: str | None, account: str | None = None, region: str | None = None
) -> TagLookup:
    """The target's tags. A failed lookup is logged and reported, never raised: the session is
    recorded without tags rather than dropped. A target in a member account (organisation mode) is
    looked up there, through the member role."""
    if not target_id:
        return TagLookup()
    try:
        if target_id.startswith("i-"):
            ec2 = _client("ec2", account, region)
            tags: dict[str, str] = {}
            for page in ec2.get_paginator("describe_tags").paginate(
                Filters=[{"Name": "resource-id", "Values": [target_id]}]
            ):
                tags.update({t["Key"]: t["Value"] for t in page["Tags"]})
            return TagLookup(tags)
        if target_id.startswith("mi-"):
            response = _client("ssm", account, region).list_tags_for_resource(
                ResourceType="ManagedInstance", ResourceId=target_id
            )
            return TagLookup({t["Key"]: t["Value"] for t in response.get("TagList", [])})
    except Exception as exc:  # any SDK or network failure: record the session without tags
        logger().warning("target tag lookup failed", extra={"target_id": target_id, "error": str(exc)})
        return TagLookup(failed=True)
    return TagLookup()


def _client(service: str, account: str | None, region: str | None) -> Any:
    if is_own_account(account) and region in (None, get_settings().region):
        return aws_client(service)
    return aws_client_for(service, account, region)

"""Target tags for a session: EC2 tags for instances, SSM resource tags for managed nodes."""

from __future__ import annotations

from dataclasses import dataclass, field

from ssm_warden.clients import aws_client
from ssm_warden.observability import logger


@dataclass(frozen=True)
class TagLookup:
    tags: dict[str, str] = field(default_factory=dict)
    failed: bool = False


def lookup_target_tags(target_id: str | None) -> TagLookup:
    """The target's tags. A failed lookup is logged and reported, never raised: the session is
    recorded without tags rather than dropped."""
    if not target_id:
        return TagLookup()
    try:
        if target_id.startswith("i-"):
            ec2 = aws_client("ec2")
            tags: dict[str, str] = {}
            for page in ec2.get_paginator("describe_tags").paginate(
                Filters=[{"Name": "resource-id", "Values": [target_id]}]
            ):
                tags.update({t["Key"]: t["Value"] for t in page["Tags"]})
            return TagLookup(tags)
        if target_id.startswith("mi-"):
            response = aws_client("ssm").list_tags_for_resource(
                ResourceType="ManagedInstance", ResourceId=target_id
            )
            return TagLookup({t["Key"]: t["Value"] for t in response.get("TagList", [])})
    except Exception as exc:  # any SDK or network failure: record the session without tags
        logger().warning("target tag lookup failed", extra={"target_id": target_id, "error": str(exc)})
        return TagLookup(failed=True)
    return TagLookup()

"""Keyless accesses in the sessions table, and the lookups they need (ECS tags, an instance by address).

- ``keyless#<account>#<region>#<access id>``: one access (put once: a redelivered event is a
  duplicate). An ECS Exec session is also a session record (``SessionRepository.apply_start``) so the
  command watch, limits and termination treat it like any Session Manager session.
- ``keylessby#<account>#<region>#<principal>#<hour>``: the principal's keyless accesses of that hour
  with the time each stays open, for concurrency counts (key pushes and tunnels open no session of
  their own).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ssm_warden.clients import aws_client
from ssm_warden.clock import iso, parse_time
from ssm_warden.config import get_settings
from ssm_warden.ledger.dynamo import from_item, to_attrs
from ssm_warden.ledger.tags import TagLookup, _client
from ssm_warden.models.access import KeylessAccess, KeylessEnded
from ssm_warden.observability import logger

_KEEP_RECENT = 200
# Accesses stay open at most an hour (a tunnel's maximum duration, an RDP connection's assumed one):
# the lists of this hour and the one before hold every access that can still be open.
OPEN_HOURS_LOOKED_BACK = 1


def _recent_key(account: str, region: str, principal_arn: str, at: datetime) -> str:
    return f"keylessby#{account}#{region}#{principal_arn}#{at:%Y%m%d%H}"


class KeylessRepository:
    def __init__(self, table: str | None = None, retention_days: int | None = None) -> None:
        settings = get_settings()
        self.table = table or settings.sessions_table
        self.retention_days = retention_days or settings.ended_retention_days
        self._client = aws_client("dynamodb")

    def _expires(self, at: datetime) -> int:
        return int((at + timedelta(days=self.retention_days)).timestamp())

    def record(self, change: KeylessAccess, tags: dict[str, str], tags_failed: bool) -> bool:
        """Put the access once; False when this access was recorded before."""
        item = {
            "pk": f"keyless#{change.account}#{change.region}#{change.access_id}",
            "record_type": "keyless_access",
            **change.model_dump(mode="json", exclude_none=True),
            "target_tags": tags,
            "tags_lookup_failed": tags_failed,
            "expires_at": self._expires(change.at),
        }
        try:
            self._client.put_item(
                TableName=self.table, Item=to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        if change.principal.arn and change.open_seconds:
            self._remember_open(change)
        return True

    def _remember_open(self, change: KeylessAccess) -> None:
        """Add the access to the principal's list for its hour. A failure (an hour with so many
        accesses that the item is full) is logged, never raised: the access is recorded and judged
        all the same, it only stops counting towards concurrency."""
        until = change.at + timedelta(seconds=change.open_seconds or 0)
        try:
            self._client.update_item(
                TableName=self.table,
                Key={
                    "pk": {
                        "S": _recent_key(change.account, change.region, str(change.principal.arn), change.at)
                    }
                },
                UpdateExpression="SET record_type = :rt, expires_at = :exp, "
                "recent = list_append(if_not_exists(recent, :empty), :r)",
                ExpressionAttributeValues=to_attrs(
                    {
                        ":rt": "keyless_link",
                        ":exp": self._expires(until),
                        ":empty": [],
                        ":r": [{"id": change.access_id, "path": change.path.value, "until": iso(until)}],
                    }
                ),
            )
        except Exception as exc:  # the item is full or the write failed: counting is best effort
            logger().warning(
                "keyless access not counted for concurrency",
                extra={"access_id": change.access_id, "error": str(exc)},
            )

    def record_session_facts(self, account: str, region: str, session_id: str, facts: dict[str, Any]) -> None:
        """The container facts of an ECS Exec session, on its session record (``SessionRecord.keyless``)."""
        from ssm_warden.ledger.keys import session_key

        self._client.update_item(
            TableName=self.table,
            Key={"pk": {"S": session_key(account, region, session_id)}},
            UpdateExpression="SET keyless = :k",
            ExpressionAttributeValues=to_attrs({":k": facts}),
        )

    def record_ended(self, change: KeylessEnded) -> bool:
        try:
            self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": f"keyless#{change.account}#{change.region}#{change.access_id}"}},
                UpdateExpression="SET ended_at = if_not_exists(ended_at, :at), ended_by = :by, "
                "record_type = if_not_exists(record_type, :rt), expires_at = if_not_exists(expires_at, :exp)",
                ExpressionAttributeValues=to_attrs(
                    {
                        ":at": iso(change.at),
                        ":by": change.principal.arn or "unknown",
                        ":rt": "keyless_access",
                        ":exp": self._expires(change.at),
                    }
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:  # pragma: no cover - no condition
            return False
        return True

    def open_accesses_of(
        self, account: str, region: str, principal_arn: str | None, now: datetime
    ) -> list[str]:
        """Ids of the principal's keyless accesses still open at ``now`` (ended RDP connections out)."""
        if not principal_arn:
            return []
        recent: list[dict[str, Any]] = []
        for hours_ago in range(OPEN_HOURS_LOOKED_BACK + 1):
            key = _recent_key(account, region, principal_arn, now - timedelta(hours=hours_ago))
            response = self._client.get_item(
                TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
            )
            if response.get("Item"):
                recent.extend(from_item(response["Item"]).get("recent", []))
        out = []
        for entry in recent[-_KEEP_RECENT:]:
            if parse_time(str(entry["until"])) > now and not self._ended(account, region, str(entry["id"])):
                out.append(str(entry["id"]))
        return out

    def _ended(self, account: str, region: str, access_id: str) -> bool:
        response = self._client.get_item(
            TableName=self.table,
            Key={"pk": {"S": f"keyless#{account}#{region}#{access_id}"}},
            ProjectionExpression="ended_at",
        )
        return "ended_at" in (response.get("Item") or {})


def ecs_tags(cluster: str | None, task: str | None, account: str, region: str) -> TagLookup:
    """The cluster's tags overlaid with the task's (``ecs:ListTagsForResource``): scopes match them."""
    tags: dict[str, str] = {}
    try:
        ecs = _client("ecs", account, region)
        for arn in (cluster, task):
            if arn and arn.startswith("arn:"):
                response = ecs.list_tags_for_resource(resourceArn=arn)
                tags.update({t["key"]: t["value"] for t in response.get("tags", [])})
    except Exception as exc:  # any SDK or network failure: record the access without tags
        logger().warning("ECS tag lookup failed", extra={"task": task, "error": str(exc)})
        return TagLookup(tags, failed=True)
    return TagLookup(tags)


def instance_by_address(address: str | None, account: str, region: str) -> tuple[str | None, TagLookup]:
    """The instance behind an Instance Connect Endpoint tunnel's private address, with its tags."""
    if not address or address.startswith(("i-", "mi-")):
        return address, TagLookup()
    try:
        ec2 = _client("ec2", account, region)
        reservations = ec2.describe_instances(
            Filters=[{"Name": "private-ip-address", "Values": [address]}]
        ).get("Reservations", [])
    except Exception as exc:
        logger().warning("instance lookup by address failed", extra={"address": address, "error": str(exc)})
        return None, TagLookup(failed=True)
    for reservation in reservations:
        for instance in reservation.get("Instances", []):
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            return str(instance["InstanceId"]), TagLookup(tags)
    return None, TagLookup()


def facts_of(item: dict[str, Any]) -> dict[str, Any]:
    return from_item(item)

"""The sessions table. Every write is a single conditional UpdateItem or PutItem: no read-modify-write.

Order independence comes from two rules the expressions enforce:
- a closed session (terminated or ended) is never reopened: the writes that make a session active
  are conditional on it not being closed, and a late StartSession only fills in the facts it carries;
- each CloudTrail event id is applied once: ``event_ids`` holds the ids seen, and every event write
  is conditional on its id not being there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from ssm_warden.clients import aws_client
from ssm_warden.clock import iso, parse_time
from ssm_warden.config import get_settings
from ssm_warden.ledger.dynamo import from_item, to_attr, to_attrs
from ssm_warden.ledger.keys import (
    ACTIVE_INDEX,
    PRINCIPAL_INDEX,
    TARGET_INDEX,
    active_shard,
    session_key,
    watch_key,
)
from ssm_warden.models.session import (
    DeniedAttempt,
    SessionRecord,
    SessionResumed,
    SessionStarted,
    SessionState,
    SessionTerminated,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Closing a session takes it out of every sparse index of open sessions.
_CLOSE = "REMOVE active_shard, active_principal, active_target"
# A watch item lives this long after its last batch (a stream no session owns leaves nothing behind).
WATCH_TTL = timedelta(days=2)


class WriteOutcome(StrEnum):
    APPLIED = "applied"
    APPLIED_TO_CLOSED = "applied_to_closed"  # a late event filled in facts of a closed session
    DUPLICATE = "duplicate"  # this event was applied before: nothing changed
    SKIPPED = "skipped"  # a condition made the write unnecessary (e.g. already ended)


@dataclass(frozen=True)
class ActivePage:
    records: list[SessionRecord]
    next_token: dict[str, Any] | None


def _principal_name(principal: Any) -> str:
    return str(principal.arn or principal.principal_id or "unknown")


class SessionRepository:
    """Reads and conditional writes of session items."""

    def __init__(self, table: str | None = None, retention_days: int | None = None) -> None:
        settings = get_settings()
        self.table = table or settings.sessions_table
        self.retention_days = retention_days or settings.ended_retention_days
        self._client = aws_client("dynamodb")

    # -- writes from CloudTrail events -------------------------------------------------------

    def _update(
        self, key: str, expression: str, condition: str, names: dict[str, str], values: dict[str, Any]
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": {"S": key}},
            "UpdateExpression": expression,
            "ConditionExpression": condition,
            "ExpressionAttributeValues": to_attrs(values),
        }
        if names:  # DynamoDB rejects an empty names map
            kwargs["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _expires(self, ended_at: datetime) -> int:
        return int((ended_at + timedelta(days=self.retention_days)).timestamp())

    def _open_or_fill(
        self,
        key: str,
        event_id: str,
        facts: dict[str, Any],
        extra_set: str = "",
        extra_add: str = "",
        extra_values: dict[str, Any] | None = None,
        active_keys: dict[str, str] | None = None,
    ) -> WriteOutcome:
        """Apply an event that implies the session is live: activate it unless it is closed.

        ``active_keys`` (principal, target) are written only with the activation: they feed the sparse
        indexes that count a principal's and a target's open sessions.
        """
        fill = ", ".join(f"#f{i} = if_not_exists(#f{i}, :f{i})" for i in range(len(facts)))
        names = {f"#f{i}": name for i, name in enumerate(facts)}
        names["#state"] = "state"
        values: dict[str, Any] = {f":f{i}": value for i, value in enumerate(facts.values())}
        values.update({":one": 1, ":eids": {event_id}, ":eid": event_id}, **(extra_values or {}))
        sets = ", ".join(part for part in (fill, extra_set) if part)
        adds = ", ".join(part for part in ("version :one", "event_ids :eids", extra_add) if part)
        activate_values = {**values, ":active": SessionState.ACTIVE.value, ":shard": active_shard(key)}
        activate_sets = f"{sets}, #state = :active, active_shard = :shard"
        for attr, value in (active_keys or {}).items():
            activate_sets += f", {attr} = :{attr}"
            activate_values[f":{attr}"] = value
        if self._update(
            key,
            f"SET {activate_sets} ADD {adds}",
            "(attribute_not_exists(#state) OR #state = :active) AND NOT contains(event_ids, :eid)",
            names,
            activate_values,
        ):
            return WriteOutcome.APPLIED
        names.pop("#state")
        if self._update(key, f"SET {sets} ADD {adds}", "NOT contains(event_ids, :eid)", names, values):
            return WriteOutcome.APPLIED_TO_CLOSED
        return WriteOutcome.DUPLICATE

    def apply_start(self, change: SessionStarted, tags: dict[str, str], tags_failed: bool) -> WriteOutcome:
        key = session_key(change.account, change.region, change.session_id)
        facts = {
            "record_type": "session",
            "session_id": change.session_id,
            "account": change.account,
            "region": change.region,
            "principal": change.principal.model_dump(mode="json", exclude_none=True),
            "source_ip": change.source_ip,
            "user_agent": change.user_agent,
            "target_id": change.target_id,
            "target_tags": tags,
            "tags_lookup_failed": tags_failed,
            "document_name": change.document_name,
            "parameters": change.parameters,
            "reason": change.reason,
            "started_at": iso(change.at),
            "start_event_id": change.event_id,
        }
        facts = {k: v for k, v in facts.items() if v is not None}
        return self._open_or_fill(
            key, change.event_id, facts, active_keys=_active_keys(change.principal.arn, change.target_id)
        )

    def apply_resume(self, change: SessionResumed) -> WriteOutcome:
        key = session_key(change.account, change.region, change.session_id)
        facts = {
            "record_type": "session",
            "session_id": change.session_id,
            "account": change.account,
            "region": change.region,
        }
        return self._open_or_fill(
            key,
            change.event_id,
            facts,
            extra_set="last_resumed_at = :resumed",
            extra_add="resumes :one",
            extra_values={":resumed": iso(change.at)},
        )

    def apply_terminate(self, change: SessionTerminated) -> WriteOutcome:
        key = session_key(change.account, change.region, change.session_id)
        by = "ssm-warden" if change.by_warden else _principal_name(change.principal)
        ok = self._update(
            key,
            "SET #state = :terminated, record_type = if_not_exists(record_type, :rt), "
            "session_id = if_not_exists(session_id, :sid), account = if_not_exists(account, :acct), "
            "#region = if_not_exists(#region, :region), ended_at = if_not_exists(ended_at, :at), "
            "ended_by = if_not_exists(ended_by, :by), end_reason = if_not_exists(end_reason, :why), "
            f"expires_at = :exp {_CLOSE} ADD version :one, event_ids :eids",
            "NOT contains(event_ids, :eid)",
            {"#state": "state", "#region": "region"},
            {
                ":terminated": SessionState.TERMINATED.value,
                ":rt": "session",
                ":sid": change.session_id,
                ":acct": change.account,
                ":region": change.region,
                ":at": iso(change.at),
                ":by": by,
                ":why": "TerminateSession called",
                ":exp": self._expires(change.at),
                ":one": 1,
                ":eids": {change.event_id},
                ":eid": change.event_id,
            },
        )
        return WriteOutcome.APPLIED if ok else WriteOutcome.DUPLICATE

    def record_denied(self, change: DeniedAttempt) -> WriteOutcome:
        item = {
            "pk": f"denied#{change.account}#{change.region}#{change.event_id}",
            "record_type": "denied_attempt",
            **change.model_dump(mode="json", exclude_none=True),
            "expires_at": self._expires(change.at),
        }
        try:
            self._client.put_item(
                TableName=self.table, Item=to_attrs(item), ConditionExpression="attribute_not_exists(pk)"
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return WriteOutcome.DUPLICATE
        return WriteOutcome.APPLIED

    # -- writes from ssm-warden's own decisions ----------------------------------------------

    def mark_ended(
        self, account: str, region: str, session_id: str, ended_at: datetime, reason: str
    ) -> WriteOutcome:
        """Close a session that ended without a TerminateSession event (reconciliation)."""
        key = session_key(account, region, session_id)
        ok = self._update(
            key,
            "SET #state = :ended, ended_at = :at, ended_by = :by, end_reason = :why, expires_at = :exp "
            f"{_CLOSE} ADD version :one",
            "#state = :active",
            {"#state": "state"},
            {
                ":ended": SessionState.ENDED.value,
                ":active": SessionState.ACTIVE.value,
                ":at": iso(ended_at),
                ":by": "reconciliation",
                ":why": reason,
                ":exp": self._expires(ended_at),
                ":one": 1,
            },
        )
        return WriteOutcome.APPLIED if ok else WriteOutcome.SKIPPED

    def record_discovered(
        self,
        *,
        account: str,
        region: str,
        session_id: str,
        target_id: str | None,
        owner_arn: str | None,
        document_name: str | None,
        started_at: datetime,
        reason: str | None,
        tags: dict[str, str],
        tags_failed: bool,
        access_type: str | None = None,
    ) -> WriteOutcome:
        """A live session whose StartSession event never arrived (reconciliation)."""
        key = session_key(account, region, session_id)
        facts = {
            "record_type": "session",
            "session_id": session_id,
            "account": account,
            "region": region,
            "target_id": target_id,
            "principal": {"arn": owner_arn} if owner_arn else None,
            "document_name": document_name,
            "started_at": iso(started_at),
            "reason": reason,
            "target_tags": tags,
            "tags_lookup_failed": tags_failed,
            "discovered": True,
            "access_type": access_type,
        }
        facts = {k: v for k, v in facts.items() if v is not None}
        return self._open_or_fill(
            key, f"discovered:{session_id}", facts, active_keys=_active_keys(owner_arn, target_id)
        )

    def touch_output(
        self, account: str, region: str, session_id: str, at: datetime, min_interval: timedelta
    ) -> bool:
        """Record session output at ``at``, unless a write less than ``min_interval`` ago did."""
        key = session_key(account, region, session_id)
        return self._update(
            key,
            "SET last_output_at = :at",
            "attribute_exists(pk) AND (attribute_not_exists(last_output_at) OR last_output_at < :before)",
            {},
            {":at": iso(at), ":before": iso(at - min_interval)},
        )

    def record_termination(
        self, account: str, region: str, session_id: str, termination: dict[str, Any], at: datetime
    ) -> WriteOutcome:
        """ssm-warden terminated the session: say why on the item (rule or limit, policy, mode, time)."""
        key = session_key(account, region, session_id)
        ok = self._update(
            key,
            "SET #state = :terminated, termination = :t, ended_at = if_not_exists(ended_at, :at), "
            f"ended_by = :by, end_reason = :why, expires_at = :exp {_CLOSE} ADD version :one",
            "attribute_not_exists(termination)",
            {"#state": "state"},
            {
                ":terminated": SessionState.TERMINATED.value,
                ":t": termination,
                ":at": iso(at),
                ":by": "ssm-warden",
                ":why": termination.get("why", "policy"),
                ":exp": self._expires(at),
                ":one": 1,
            },
        )
        return WriteOutcome.APPLIED if ok else WriteOutcome.DUPLICATE

    def add_warning(self, account: str, region: str, session_id: str, warning: str) -> bool:
        """Remember that a limit was warned about, once (returns False if it already was)."""
        key = session_key(account, region, session_id)
        return self._update(
            key,
            "SET warned = list_append(if_not_exists(warned, :empty), :w) ADD version :one",
            "attribute_exists(pk) AND NOT contains(warned, :wv)",
            {},
            {":w": [warning], ":wv": warning, ":empty": [], ":one": 1},
        )

    def add_extension(self, account: str, region: str, session_id: str, extension: dict[str, Any]) -> bool:
        key = session_key(account, region, session_id)
        return self._update(
            key,
            "SET extensions = list_append(if_not_exists(extensions, :empty), :e) ADD version :one",
            "attribute_exists(pk)",
            {},
            {":e": [extension], ":empty": [], ":one": 1},
        )

    # -- reads -------------------------------------------------------------------------------

    def get(self, account: str, region: str, session_id: str) -> SessionRecord | None:
        response = self._client.get_item(
            TableName=self.table,
            Key={"pk": {"S": session_key(account, region, session_id)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return record_from_item(item) if item else None

    def list_active(self, shard: str, limit: int = 500, start: dict[str, Any] | None = None) -> ActivePage:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": ACTIVE_INDEX,
            "KeyConditionExpression": "active_shard = :s",
            "ExpressionAttributeValues": {":s": {"S": shard}},
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        response = self._client.query(**kwargs)
        return ActivePage(
            records=[record_from_item(i) for i in response.get("Items", [])],
            next_token=response.get("LastEvaluatedKey"),
        )

    def open_sessions_of(
        self, *, principal_arn: str | None = None, target_id: str | None = None
    ) -> list[SessionRecord]:
        """The open sessions of a principal or on a target, oldest first (sparse indexes)."""
        index, attr, value = (
            (PRINCIPAL_INDEX, "active_principal", principal_arn)
            if principal_arn
            else (TARGET_INDEX, "active_target", target_id)
        )
        if not value:
            return []
        records: list[SessionRecord] = []
        start: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": index,
                "KeyConditionExpression": f"{attr} = :v",
                "ExpressionAttributeValues": {":v": {"S": value}},
            }
            if start:
                kwargs["ExclusiveStartKey"] = start
            response = self._client.query(**kwargs)
            records.extend(record_from_item(i) for i in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        return sorted(records, key=lambda r: (r.started_at or r.last_resumed_at or _EPOCH, r.session_id))

    def iter_active(self, shards: list[str]) -> Iterator[SessionRecord]:
        for shard in shards:
            start: dict[str, Any] | None = None
            while True:
                page = self.list_active(shard, start=start)
                yield from page.records
                if not page.next_token:
                    break
                start = page.next_token

    # -- command watch (functions/command_monitor) --------------------------------------------

    def get_with_watch(
        self, account: str, region: str, session_id: str
    ) -> tuple[SessionRecord | None, dict[str, Any] | None, dict[str, Any] | None]:
        """The session, its command-watch item and (deployed before the watch item existed) the
        ``command_watch`` map on the session item. Both are read eventually consistently (half a read
        unit each): a stale watch item fails the conditional write of ``save_watch``, and the batch
        is retried from the stored state; a session item not found (or not yet with its
        StartSession) is read again consistently, so a StartSession written a moment ago still
        makes the stream verified. What else changes on a session item (its state, its warnings)
        the watch does not read."""
        key = {"pk": {"S": session_key(account, region, session_id)}}
        own = {"pk": {"S": watch_key(account, region, session_id)}}
        found = self._get_both(key, own)  # one round trip for the two
        session, watch = found.get(key["pk"]["S"]), found.get(own["pk"]["S"])
        if not session or "state" not in session:
            session = self._client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        record: SessionRecord | None = None
        legacy: dict[str, Any] | None = None
        if session:
            native = from_item(session)
            record = SessionRecord.model_validate(native)
            old = native.get("command_watch")
            legacy = old if isinstance(old, dict) else None
        return record, from_item(watch) if watch else None, legacy

    def _get_both(self, *keys: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Items by key, eventually consistent, in one BatchGetItem (keys it leaves unprocessed are
        read one by one)."""
        response = self._client.batch_get_item(RequestItems={self.table: {"Keys": list(keys)}})
        items = {i["pk"]["S"]: i for i in response.get("Responses", {}).get(self.table, [])}
        for left in response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", []):
            item = self._client.get_item(TableName=self.table, Key=left).get("Item")
            if item:
                items[left["pk"]["S"]] = item
        return items

    def save_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        values: dict[str, Any],
        previous_batches: int | None,
        now: datetime,
    ) -> bool:
        """Store the command-watch item after a batch (one conditional PutItem), only if the stored
        item is still the one the batch started from (``previous_batches`` is its ``n``; None: no
        item yet): False when another invocation got there first. The item expires ``WATCH_TTL``
        after its last batch, so streams no session owns leave nothing behind for long."""
        item = {
            **values,
            "pk": watch_key(account, region, session_id),
            "record_type": "watch",
            "expires_at": int((now + WATCH_TTL).timestamp()),
        }
        kwargs: dict[str, Any] = {"TableName": self.table, "Item": to_attrs(item)}
        if previous_batches is None:
            kwargs["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            kwargs["ConditionExpression"] = "n = :prev"
            kwargs["ExpressionAttributeValues"] = to_attrs({":prev": previous_batches})
        try:
            self._client.put_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def flush_watch(
        self,
        account: str,
        region: str,
        session_id: str,
        *,
        batches: int,
        commands: int,
        findings: int,
        output_at: datetime | None,
    ) -> bool:
        """Bring the session item up to date with the watch: its command and finding counts and
        ``last_output_at`` (absolute values of batch ``batches``; never an older batch's, never on a
        session the ledger does not hold). Removes a legacy ``command_watch`` map."""
        sets = "commands_seen = :c, findings_seen = :f, watch_batches = :n"
        values: dict[str, Any] = {":c": commands, ":f": findings, ":n": batches}
        if output_at is not None:
            sets += ", last_output_at = :at"
            values[":at"] = iso(output_at)
        return self._update(
            session_key(account, region, session_id),
            f"SET {sets} REMOVE command_watch",
            "attribute_exists(pk) AND (attribute_not_exists(watch_batches) OR watch_batches < :n)",
            {},
            values,
        )

    def with_watch(self, record: SessionRecord) -> SessionRecord:
        """The session with what its command-watch item knows exactly: the arrival of its last
        output and its command and finding counts (the session item is brought up to date only
        every few minutes). For the sweeper's idle limit and the end-of-session summary."""
        item = self._client.get_item(
            TableName=self.table,
            Key={"pk": {"S": watch_key(record.account, record.region, record.session_id)}},
            ProjectionExpression="#out, c, f",
            ExpressionAttributeNames={"#out": "out"},
        ).get("Item")
        if not item:
            return record
        native = from_item(item)
        update: dict[str, Any] = {}
        try:
            out = parse_time(str(native["out"])) if isinstance(native.get("out"), str) else None
        except ValueError:
            out = None
        if out is not None and (record.last_output_at is None or out > record.last_output_at):
            update["last_output_at"] = out
        for name, attr in (("commands_seen", "c"), ("findings_seen", "f")):
            value = native.get(attr)
            if isinstance(value, int) and value > getattr(record, name):
                update[name] = value
        return record.model_copy(update=update) if update else record

    def claim_termination_slot(
        self, account: str, region: str, minute: datetime, action_id: str, cap: int
    ) -> bool:
        """Take one of the ``cap`` log-driven terminations allowed in ``minute`` (account and region)
        for ``action_id``: True if it got one (or had it already: a retried batch is not counted
        twice). One item per minute, shared by every concurrent invocation (a conditional add to a
        string set of action ids), gone a day later (TTL)."""
        if cap <= 0:
            return False
        start = minute.replace(second=0, microsecond=0)
        key = f"termcap#{account}#{region}#{iso(start)}"
        try:
            self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": key}},
                UpdateExpression="SET record_type = :rt, expires_at = :exp ADD ids :one",
                ConditionExpression="attribute_not_exists(ids) OR size(ids) < :cap OR contains(ids, :aid)",
                ExpressionAttributeValues=to_attrs(
                    {
                        ":rt": "termination_cap",
                        ":exp": int((start + timedelta(days=1)).timestamp()),
                        ":one": {action_id},
                        ":cap": cap,
                        ":aid": action_id,
                    }
                ),
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _active_keys(principal_arn: str | None, target_id: str | None) -> dict[str, str]:
    keys = {}
    if principal_arn:
        keys["active_principal"] = principal_arn
    if target_id:
        keys["active_target"] = target_id
    return keys


def record_from_item(item: dict[str, Any]) -> SessionRecord:
    return SessionRecord.model_validate(from_item(item))


__all__ = ["ActivePage", "SessionRepository", "WriteOutcome", "record_from_item", "to_attr"]

"""Access-request items of the sessions table, and the small link items that join JIT sessions to them.

Items (all in the sessions table, ``record_type`` tells them apart; none carries ``active_shard``, so
the sweeper's index of active sessions never lists them):
- ``access#<account>#<region>#<oi-…>``: one access request (``AccessRequestRecord``);
- ``accessname#<account>#<region>#<name>``: the request ids of one requester name;
- ``accesswait#<account>#<region>#<name or oi-…>``: JIT sessions whose request has not been seen yet;
- ``accessauto#<account>#<region>#<execution id>``: the request of an approval automation, and a
  decision signalled to that automation before we knew which request it was.

Every write is one conditional UpdateItem. A status only ever moves to a stronger one (pending →
approved → expired → rejected/revoked), so the events may arrive in any order.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ssm_warden.clients import aws_client
from ssm_warden.clock import iso
from ssm_warden.config import get_settings
from ssm_warden.ledger.dynamo import from_item, to_attrs
from ssm_warden.ledger.keys import session_key
from ssm_warden.models.access import AccessRequestRecord, AccessStatus
from ssm_warden.models.session import Principal

# The longest approved window JIT allows (336 hours): requests are kept at least that long.
MAX_WINDOW = timedelta(hours=336)


def request_key(account: str, region: str, request_id: str) -> str:
    return f"access#{account}#{region}#{request_id}"


def _key(kind: str, account: str, region: str, value: str) -> str:
    return f"{kind}#{account}#{region}#{value}"


class AccessRepository:
    def __init__(self, table: str | None = None, retention_days: int | None = None) -> None:
        settings = get_settings()
        self.table = table or settings.sessions_table
        self.retention_days = retention_days or settings.ended_retention_days
        self._client = aws_client("dynamodb")

    def _expires(self, at: datetime) -> int:
        return int((at + MAX_WINDOW + timedelta(days=self.retention_days)).timestamp())

    def _update(
        self,
        key: str,
        expression: str,
        values: dict[str, Any],
        condition: str | None = None,
        names: dict[str, str] | None = None,
    ) -> bool:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "Key": {"pk": {"S": key}},
            "UpdateExpression": expression,
            "ExpressionAttributeValues": to_attrs(values),
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        if names:
            kwargs["ExpressionAttributeNames"] = names
        try:
            self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _base(self, account: str, region: str, request_id: str, at: datetime) -> tuple[str, dict[str, Any]]:
        sets = (
            "record_type = :rt, request_id = :rid, account = :acct, #region = :region, "
            "expires_at = if_not_exists(expires_at, :exp)"
        )
        return sets, {
            ":rt": "access_request",
            ":rid": request_id,
            ":acct": account,
            ":region": region,
            ":exp": self._expires(at),
        }

    # -- writes from CloudTrail ------------------------------------------------------------------

    def record_requested(
        self,
        *,
        account: str,
        region: str,
        request_id: str,
        event_id: str,
        requester: Principal,
        name: str | None,
        reason: str | None,
        targets: list[str],
        at: datetime,
    ) -> bool:
        """StartAccessRequest. False when this event was applied before."""
        sets, values = self._base(account, region, request_id, at)
        facts: dict[str, Any] = {
            "requester": requester.model_dump(mode="json", exclude_none=True),
            "requested_at": iso(at),
            "targets": targets,
            "reason": reason,
            "requester_name": name,
        }
        for i, (attr, value) in enumerate(f for f in facts.items() if f[1] is not None):
            sets += f", {attr} = :v{i}"
            values[f":v{i}"] = value
        sets += (
            ", #status = if_not_exists(#status, :pending), status_rank = if_not_exists(status_rank, :zero)"
        )
        values.update(
            {":pending": AccessStatus.PENDING.value, ":zero": 0, ":eids": {event_id}, ":eid": event_id}
        )
        applied = self._update(
            request_key(account, region, request_id),
            f"SET {sets} ADD event_ids :eids",
            values,
            "NOT contains(event_ids, :eid)",
            {"#region": "region", "#status": "status"},
        )
        if applied and name:
            self._update(
                _key("accessname", account, region, name),
                "SET record_type = :rt, expires_at = :exp ADD request_ids :ids",
                {":rt": "access_link", ":exp": self._expires(at), ":ids": {request_id}},
            )
        return applied

    def record_token(
        self,
        *,
        account: str,
        region: str,
        request_id: str,
        event_id: str,
        requester: Principal,
        name: str | None,
        at: datetime,
    ) -> bool:
        """GetAccessToken: the requester fetched credentials (counted, the last time kept)."""
        sets, values = self._base(account, region, request_id, at)
        sets += (
            ", requester = if_not_exists(requester, :who), last_token_at = :at, "
            "#status = if_not_exists(#status, :pending), status_rank = if_not_exists(status_rank, :zero)"
        )
        values.update(
            {
                ":who": requester.model_dump(mode="json", exclude_none=True),
                ":at": iso(at),
                ":pending": AccessStatus.PENDING.value,
                ":zero": 0,
                ":one": 1,
                ":eids": {event_id},
                ":eid": event_id,
            }
        )
        if name:
            sets += ", requester_name = if_not_exists(requester_name, :name)"
            values[":name"] = name
        applied = self._update(
            request_key(account, region, request_id),
            f"SET {sets} ADD tokens :one, event_ids :eids",
            values,
            "NOT contains(event_ids, :eid)",
            {"#region": "region", "#status": "status"},
        )
        if applied and name:
            self._update(
                _key("accessname", account, region, name),
                "SET record_type = :rt, expires_at = :exp ADD request_ids :ids",
                {":rt": "access_link", ":exp": self._expires(at), ":ids": {request_id}},
            )
        return applied

    def record_status(
        self,
        *,
        account: str,
        region: str,
        request_id: str,
        status: AccessStatus,
        at: datetime,
        by: str | None,
        approver: str | None = None,
        window_start: datetime | None = None,
        window_end: datetime | None = None,
        automation_execution_id: str | None = None,
        by_service: bool = False,
    ) -> bool:
        """An outcome. The status moves only to a stronger one; approvers and the window are kept
        whatever the order. True when the status changed.

        The window's end is Systems Manager's to set; anyone else (an approver, or a requester allowed
        to update OpsItems) can only bring it earlier, never push it later."""
        key = request_key(account, region, request_id)
        sets, values = self._base(account, region, request_id, at)
        extra: list[str] = []
        if window_start:
            extra.append("window_start = if_not_exists(window_start, :ws)")
            values[":ws"] = iso(window_start)
        if window_end and by_service:
            extra.append("window_end = :we")
            values[":we"] = iso(window_end)
        elif window_end:
            self._update(
                key,
                "SET window_end = :we",
                {":we": iso(window_end)},
                "attribute_not_exists(window_end) OR window_end > :we",
            )
        if automation_execution_id:
            extra.append("automation_execution_id = if_not_exists(automation_execution_id, :auto)")
            values[":auto"] = automation_execution_id
        add = ""
        if approver:
            add = " ADD approvers :appr"
            values[":appr"] = {approver}
        self._update(
            key,
            "SET " + ", ".join([sets, *extra]) + add,
            values,
            names={"#region": "region"},
        )
        changed = self._update(
            key,
            "SET #status = :s, status_rank = :r, status_at = :at, status_by = :by",
            {":s": status.value, ":r": status.rank, ":at": iso(at), ":by": by or "unknown"},
            "attribute_not_exists(status_rank) OR status_rank < :r",
            {"#status": "status"},
        )
        if automation_execution_id:
            self._update(
                _key("accessauto", account, region, automation_execution_id),
                "SET record_type = :rt, request_id = :rid, expires_at = :exp",
                {":rt": "access_link", ":rid": request_id, ":exp": self._expires(at)},
            )
        return changed

    def mark_ops_item_read(self, account: str, region: str, request_id: str, at: datetime) -> None:
        self._update(
            request_key(account, region, request_id),
            "SET opsitem_read_at = :at",
            {":at": iso(at)},
            "attribute_exists(pk)",
        )

    def request_of_automation(self, account: str, region: str, execution_id: str) -> dict[str, Any]:
        item = self._get(_key("accessauto", account, region, execution_id))
        return item or {}

    def park_signal(
        self, account: str, region: str, execution_id: str, decision: dict[str, Any], at: datetime
    ) -> None:
        """A decision signalled to an automation we cannot tie to a request yet: kept for later."""
        self._update(
            _key("accessauto", account, region, execution_id),
            "SET record_type = :rt, expires_at = :exp, "
            "decisions = list_append(if_not_exists(decisions, :empty), :d)",
            {
                ":rt": "access_link",
                ":exp": self._expires(at),
                ":empty": [],
                ":d": [decision],
            },
        )

    # -- links between sessions and requests --------------------------------------------------

    def add_waiting(self, account: str, region: str, key: str, session_id: str, at: datetime) -> None:
        self._update(
            _key("accesswait", account, region, key),
            "SET record_type = :rt, expires_at = :exp ADD session_ids :ids",
            {":rt": "access_link", ":exp": self._expires(at), ":ids": {session_id}},
        )

    def waiting(self, account: str, region: str, key: str) -> list[str]:
        item = self._get(_key("accesswait", account, region, key)) or {}
        return list(item.get("session_ids") or [])

    def remove_waiting(self, account: str, region: str, key: str, session_id: str) -> None:
        self._update(
            _key("accesswait", account, region, key),
            "DELETE session_ids :ids",
            {":ids": {session_id}},
        )

    def requests_named(self, account: str, region: str, name: str) -> list[str]:
        item = self._get(_key("accessname", account, region, name)) or {}
        return list(item.get("request_ids") or [])

    def add_session(self, account: str, region: str, request_id: str, session_id: str) -> None:
        self._update(request_key(account, region, request_id), "ADD session_ids :ids", {":ids": {session_id}})

    def join_session(
        self,
        *,
        account: str,
        region: str,
        session_id: str,
        requester: Principal,
        join: dict[str, Any],
    ) -> bool:
        """Make a JIT session the requester's: its principal becomes the requester (with the request
        id and the token role it really used), and open-session counts move to the requester.
        A session already joined is left alone (False)."""
        key = session_key(account, region, session_id)
        joined = self._update(
            key,
            "SET principal = :p, access_type = :jit, access_join = :j",
            {
                ":p": requester.model_dump(mode="json", exclude_none=True),
                ":jit": "JustInTime",
                ":j": join,
            },
            "attribute_exists(pk) AND attribute_not_exists(access_join)",
        )
        if joined and requester.arn:
            self._update(
                key,
                "SET active_principal = :a",
                {":a": requester.arn},
                "attribute_exists(active_principal)",
            )
        return joined

    # -- reads ----------------------------------------------------------------------------------

    def _get(self, key: str) -> dict[str, Any] | None:
        response = self._client.get_item(TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True)
        item = response.get("Item")
        return from_item(item) if item else None

    def get(self, account: str, region: str, request_id: str) -> AccessRequestRecord | None:
        item = self._get(request_key(account, region, request_id))
        return AccessRequestRecord.model_validate(item) if item else None

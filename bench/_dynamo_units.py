"""DynamoDB request units estimated from the items themselves (moto's ``ConsumedCapacity`` is a
constant, not a function of item size).

Sizes follow DynamoDB's documented rules, approximately: an item is the sum of its attribute names'
UTF-8 lengths and its values' sizes (a string its UTF-8 length, a number about one byte per two
significant digits plus one, a binary its length, a boolean or null one byte, a list or map three
bytes plus its elements and one byte per element). Reads are rounded up to 4 KB per request (an
eventually consistent read, a query included, costs half), writes to 1 KB per item.

``DynamoUnits.watch(client)`` records, per table and operation, the calls, the bytes read and the
read units of every response, and the write units of every put whose item is in the request. An
``UpdateItem`` carries no item: its write units are estimated afterwards from the table's items
(``estimate_update_units``).
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024


def attr_size(value: dict[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = str(raw).lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in raw)
    if kind == "NS":
        return sum(attr_size({"N": n}) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    if kind == "L":
        return 3 + sum(attr_size(v) + 1 for v in raw)
    if kind == "M":
        return 3 + sum(len(k.encode()) + attr_size(v) + 1 for k, v in raw.items())
    return 0


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attr_size(value) for name, value in item.items())


def read_units(total_bytes: int, consistent: bool) -> float:
    units = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


@dataclass
class DynamoUnits:
    """Calls, bytes read, read units and known write units, by (table, operation)."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    bytes_read: Counter[tuple[str, str]] = field(default_factory=Counter)
    read_units: dict[tuple[str, str], float] = field(default_factory=lambda: defaultdict(float))
    write_units: Counter[tuple[str, str]] = field(default_factory=Counter)
    items_read: Counter[tuple[str, str]] = field(default_factory=Counter)
    # UpdateItem calls and PutItem write units by (table, item kind): see ``item_kind``
    updates_by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)
    put_units_by_kind: Counter[tuple[str, str]] = field(default_factory=Counter)
    reported_capacity: list[float] = field(default_factory=list)

    def watch(self, client: Any) -> Any:
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)
        return client

    def reset(self) -> None:
        for counter in (
            self.calls,
            self.bytes_read,
            self.write_units,
            self.items_read,
            self.updates_by_kind,
            self.put_units_by_kind,
        ):
            counter.clear()
        self.read_units.clear()

    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        request = json.loads(body.decode() if isinstance(body, bytes | bytearray) else body)
        table = str(request.get("TableName") or "")
        operation = model.name
        context["bench_request"] = (table, operation, request)
        self.calls[(table, operation)] += 1
        if operation == "PutItem":
            item = request.get("Item") or {}
            self.write_units[(table, operation)] += write_units(item_size(item))
            self.put_units_by_kind[(table, item_kind(item.get("pk", {}).get("S", "")))] += write_units(
                item_size(item)
            )
        elif operation == "UpdateItem":
            self.updates_by_kind[
                (table, item_kind((request.get("Key") or {}).get("pk", {}).get("S", "")))
            ] += 1
        elif operation == "BatchWriteItem":
            for name, writes in (request.get("RequestItems") or {}).items():
                for write in writes:
                    item = (write.get("PutRequest") or {}).get("Item") or (
                        (write.get("DeleteRequest") or {}).get("Key") or {}
                    )
                    self.write_units[(name, operation)] += write_units(item_size(item))
        elif operation == "DeleteItem":
            self.write_units[(table, operation)] += 1

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        table, operation, request = context.get("bench_request", ("", "", {}))
        key = (table, operation)
        capacity = parsed.get("ConsumedCapacity")
        if isinstance(capacity, dict) and "CapacityUnits" in capacity:
            self.reported_capacity.append(float(capacity["CapacityUnits"]))
        if operation in ("Query", "Scan"):
            items = parsed.get("Items") or []
            size = sum(item_size(i) for i in items)
            self.items_read[key] += len(items)
            self.bytes_read[key] += size
            # Index queries are always eventually consistent; ConsistentRead is for the table.
            self.read_units[key] += read_units(size, bool(request.get("ConsistentRead")))
        elif operation == "BatchGetItem":
            for name, items in (parsed.get("Responses") or {}).items():
                consistent = bool(((request.get("RequestItems") or {}).get(name) or {}).get("ConsistentRead"))
                for item in items:  # each item is rounded up to 4 KB on its own
                    size = item_size(item)
                    self.items_read[(name, operation)] += 1
                    self.bytes_read[(name, operation)] += size
                    self.read_units[(name, operation)] += read_units(size, consistent)
        elif operation == "GetItem":
            item = parsed.get("Item") or {}
            size = item_size(item)
            self.items_read[key] += 1 if item else 0
            self.bytes_read[key] += size
            self.read_units[key] += read_units(size, bool(request.get("ConsistentRead")))

    def by_table(self, counter: dict[tuple[str, str], float] | Counter[tuple[str, str]]) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for (table, _), value in counter.items():
            out[table] += value
        return dict(out)


def estimate_update_units(client: Any, table: str, sample: int = 200) -> float:
    """The mean write units of an UpdateItem on ``table``: the mean of its items' sizes rounded up
    per item (a first page of ``sample`` items)."""
    items = client.scan(TableName=table, Limit=sample).get("Items", [])
    sizes = [item_size(i) for i in items]
    return sum(write_units(s) for s in sizes) / len(sizes) if sizes else 1.0


def item_kind(pk: str) -> str:
    """What an item of the sessions table is, from its key: ``watch#…``, ``termcap#…`` and the like
    carry their kind first; a session's key starts with its account id."""
    head = pk.split("#", 1)[0]
    return "session" if not head or head.isdigit() else head


def estimate_update_units_by_kind(
    client: Any, table: str, index_attributes: tuple[str, ...] = (), sample: int = 3000
) -> dict[str, float]:
    """The mean write units of an UpdateItem on each kind of item of ``table`` (item sizes after
    the run, rounded up per item). An item in the sparse index (it has ``active_shard``) is written
    to the index too: plus the units of its projection (``index_attributes``)."""
    items: list[dict[str, Any]] = []
    start: dict[str, Any] | None = None
    while len(items) < sample:
        kwargs: dict[str, Any] = {"TableName": table, "Limit": 500}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = client.scan(**kwargs)
        items.extend(page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    units: dict[str, list[int]] = defaultdict(list)
    for item in items:
        n = write_units(item_size(item))
        if "active_shard" in item and index_attributes:
            projected = {k: v for k, v in item.items() if k in index_attributes}
            n += write_units(item_size(projected))
        units[item_kind(item.get("pk", {}).get("S", ""))].append(n)
    return {kind: sum(v) / len(v) for kind, v in units.items()}

"""Small helpers to move between Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def _deserializer() -> Any:
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


def to_attr(value: Any) -> dict[str, Any]:
    out: dict[str, Any] = _serializer().serialize(_plain(value))
    return out


def to_attrs(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    serializer = _serializer()
    return {key: serializer.serialize(_plain(value)) for key, value in values.items()}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    deserializer = _deserializer()
    return {key: _native(deserializer.deserialize(value)) for key, value in item.items()}


def _plain(value: Any) -> Any:
    # DynamoDB takes Decimal, not float; empty strings in sets are not allowed (none are written).
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _native(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, set):
        return sorted(_native(v) for v in value)
    return value

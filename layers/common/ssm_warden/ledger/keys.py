"""Keys of the sessions table. Sessions are keyed by account and region as well as id, so that one
governance account can hold the sessions of many member accounts without collisions."""

from __future__ import annotations

import zlib

ACTIVE_INDEX = "active-sessions"
# Sparse indexes of open sessions by principal and by target, for concurrency limits.
PRINCIPAL_INDEX = "open-by-principal"
TARGET_INDEX = "open-by-target"
# The active-sessions index is spread over a few partition values so that a sweeper at 10,000
# concurrent sessions reads several small partitions instead of one hot one.
ACTIVE_SHARDS = 4


def session_key(account: str, region: str, session_id: str) -> str:
    return f"{account}#{region}#{session_id}"


def split_session_key(key: str) -> tuple[str, str, str]:
    account, region, session_id = key.split("#", 2)
    return account, region, session_id


def active_shard(key: str) -> str:
    return f"active#{zlib.crc32(key.encode()) % ACTIVE_SHARDS}"


def all_active_shards() -> list[str]:
    return [f"active#{n}" for n in range(ACTIVE_SHARDS)]


def watch_key(account: str, region: str, session_id: str) -> str:
    """The command watch's own small item for a session's log stream (same table)."""
    return f"watch#{session_key(account, region, session_id)}"

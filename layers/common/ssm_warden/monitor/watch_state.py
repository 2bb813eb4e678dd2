"""The command watch's memory of a stream, in its own small item of the sessions table
(``watch#<account>#<region>#<session>``, ``ledger.keys.watch_key``), written once per batch.

The item holds the extractor's ``WatchState`` (prompts learned, a command still being typed) and:

- ``s``: fingerprints of the last ``SEEN_BATCHES`` batches processed (6 bytes each, one binary
  value). A batch is skipped only when its own fingerprint is there, so a batch that was never
  processed is never skipped: not one that arrives after a newer batch, not one after a
  future-dated event. A redelivery older than the window is processed again; its actions carry the
  same ids, so the executor drops them, and its audit records the same keys;
- ``n``: batches processed, the condition of the next conditional write (optimistic concurrency);
- ``out``: the arrival time of the last batch with accepted output: the exact time the sweeper's
  idle limit counts from (the session item's ``last_output_at`` is refreshed only every
  ``SESSION_FLUSH_INTERVAL``);
- ``c``, ``f``: the stream's command and finding counts, copied onto the session item (absolute
  values, so a flush done twice counts nothing twice);
- ``fa``, ``fn``: when, and by which batch ``n``, the session item was last brought up to date: a
  retry of that batch finds ``fn == n`` and writes the session item again (conditional on its
  ``watch_batches``, so a plain redelivery changes nothing);
- ``u``: present (true) while the stream is unverified (the ledger does not know its session). The
  terminal state built from unverified events is dropped when the session is confirmed.

What is capped to keep the item under 1 KB in the common case: a command still being typed is
judged once its text passes ``STORED_PENDING_CHARS`` (the rest of it is read as output, as the
terminal model does at its own ``MAX_PENDING_CHARS``) and its parsed text is kept to its tail of
that length; the fingerprints window is ``SEEN_BATCHES``; the terminal state is stored as compact
JSON without its default values.

Before the upgrade the same memory was a ``command_watch`` map on the session item: a stream with
no watch item starts from that map once (``legacy``), and the first flush removes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ssm_warden.clock import iso, parse_time
from ssm_warden.transcript.extract import WatchState

if TYPE_CHECKING:
    from ssm_warden.models.session import SessionRecord

SEEN_BATCHES = 32
STORED_PENDING_CHARS = 512
# How often the session item's counts and last_output_at are brought up to date. The sweeper reads
# the watch item's exact ``out`` before acting on an idle limit, so this only makes the index coarse.
SESSION_FLUSH_INTERVAL = timedelta(minutes=10)
_LEGACY_KEYS = ("n", "seen", "out", "u")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def _packed(fingerprint: str) -> bytes:
    try:
        return bytes.fromhex(fingerprint) if len(fingerprint) == 12 else b""
    except ValueError:
        return b""  # not one of ours (a legacy map written by hand): not kept


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class WatchMemory:
    terminal: WatchState | None = None
    batches: int | None = None  # n of the stored watch item; None: no watch item yet
    base: int = 0  # the count to go on from when there is no watch item (a legacy map, a flushed session)
    seen: list[str] = field(default_factory=list)  # oldest first
    output_at: datetime | None = None
    unverified: bool = False  # the stored terminal state was built while the stream was unverified
    unreadable: str | None = None  # why the terminal state could not be read (started afresh)
    commands: int = 0
    findings: int = 0
    flushed_at: datetime | None = None
    flushed_n: int | None = None
    legacy: bool = False  # started from the session item's ``command_watch`` map

    @classmethod
    def load(
        cls,
        item: dict[str, Any] | None,
        record: SessionRecord | None = None,
        legacy: dict[str, Any] | None = None,
    ) -> WatchMemory:
        """From the watch item (native values); without one, from the session item's legacy map or
        its counts."""
        if item is not None:
            return cls._from_item(item)
        memory = cls._from_legacy(legacy) if legacy is not None else cls()
        if record is not None:
            memory.commands, memory.findings = record.commands_seen, record.findings_seen
            memory.base = max(memory.base, record.watch_batches)
            if memory.output_at is None:
                memory.output_at = record.last_output_at
        return memory

    @classmethod
    def _from_item(cls, item: dict[str, Any]) -> WatchMemory:
        raw = item.get("s")
        raw = getattr(raw, "value", raw)  # boto3 reads a binary value as ``Binary``
        seen = bytes(raw) if isinstance(raw, bytes | bytearray) else b""
        memory = cls(
            batches=_int(item.get("n")),
            seen=[seen[i : i + 6].hex() for i in range(0, len(seen) - 5, 6)][-SEEN_BATCHES:],
            output_at=_time(item.get("out")),
            unverified=item.get("u") is True,
            commands=_int(item.get("c")) or 0,
            findings=_int(item.get("f")) or 0,
            flushed_at=_time(item.get("fa")),
            flushed_n=_int(item.get("fn")),
        )
        try:
            memory.terminal = WatchState.model_validate_json(str(item.get("t") or "{}"))
        except ValidationError as exc:
            memory.unreadable = str(exc)  # a state this version cannot read: prompts are relearned
        return memory

    @classmethod
    def _from_legacy(cls, stored: dict[str, Any]) -> WatchMemory:
        seen = stored.get("seen")
        memory = cls(
            legacy=True,
            unverified=stored.get("u") is True,
            base=_int(stored.get("n")) or 0,
            seen=[s for s in seen if isinstance(s, str)][-SEEN_BATCHES:] if isinstance(seen, list) else [],
            output_at=_time(stored.get("out")),
        )
        try:
            memory.terminal = WatchState.model_validate(
                {k: v for k, v in stored.items() if k not in _LEGACY_KEYS}
            )
        except ValidationError as exc:
            memory.unreadable = str(exc)
        return memory

    @property
    def next_batch(self) -> int:
        return (self.batches if self.batches is not None else self.base) + 1

    def has_seen(self, fingerprint: str) -> bool:
        return fingerprint in self.seen

    def terminal_for(self, verified: bool) -> WatchState | None:
        """The terminal state to carry on from: none when the session was just confirmed."""
        return None if verified and self.unverified else self.terminal

    def flush_due(self, now: datetime, output: bool = False) -> bool:
        """Is the session item to be brought up to date by this batch? On the stream's first batch,
        on its first output (the sweeper's logging-gap check waits for one), then every interval."""
        if self.legacy or self.flushed_at is None or (output and self.output_at is None):
            return True
        return now - self.flushed_at >= SESSION_FLUSH_INTERVAL

    def after(
        self,
        terminal: WatchState,
        fingerprint: str,
        output_at: datetime | None,
        *,
        verified: bool,
        commands: int,
        findings: int,
        flush_at: datetime | None,
    ) -> WatchMemory:
        """What to store once this batch is processed (``flush_at``: this batch flushes the session)."""
        n = self.next_batch
        return WatchMemory(
            terminal=terminal,
            batches=n,
            seen=[*(s for s in self.seen if s != fingerprint), fingerprint][-SEEN_BATCHES:],
            output_at=output_at or self.output_at,
            unverified=not verified,
            commands=self.commands + commands,
            findings=self.findings + findings,
            flushed_at=flush_at or self.flushed_at,
            flushed_n=n if flush_at is not None else self.flushed_n,
        )

    def item_values(self) -> dict[str, Any]:
        """The watch item's own attributes (native values; the repository adds key, type and TTL)."""
        values: dict[str, Any] = {
            "n": self.batches or 0,
            "s": b"".join(_packed(s) for s in self.seen),
            "t": self.terminal.model_dump_json(exclude_defaults=True) if self.terminal else "{}",
            "c": self.commands,
            "f": self.findings,
        }
        for name, at in (("out", self.output_at), ("fa", self.flushed_at)):
            if at is not None:
                values[name] = iso(at)
        if self.flushed_n is not None:
            values["fn"] = self.flushed_n
        if self.unverified:
            values["u"] = True
        return values

"""The command watch's memory of a stream, stored on the session's ledger item (``command_watch``).

Two parts in one small map: the extractor's ``WatchState`` (prompts learned, a command still being
typed) and what recognises a redelivery:

- ``seen``: fingerprints of the last ``SEEN_BATCHES`` batches processed (12 hex characters each).
  A batch is skipped only when its own fingerprint is there, so a batch that was never processed is
  never skipped: not one that arrives after a newer batch, not one after a future-dated event (the
  old rule, "ids above the last id", skipped both). A redelivery older than the window is processed
  again; its actions carry the same ids, so the executor drops them, and its audit records the same
  keys, so the trail keeps one of each;
- ``n``: batches processed, the condition of the next conditional write (optimistic concurrency);
- ``out``: the arrival time of the last batch with accepted output, written again when a redelivery
  of that batch finds the output write missing;
- ``u``: present (true) while the stream is unverified (the ledger does not know its session). The
  terminal state built from unverified events is dropped when the session is confirmed: whoever
  wrote them cannot leave a half-typed command or a learned prompt behind for the real session.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from ssm_warden.clock import iso, parse_time
from ssm_warden.transcript.extract import WatchState

SEEN_BATCHES = 32
_OWN_KEYS = ("n", "seen", "out", "u")


@dataclass
class WatchMemory:
    terminal: WatchState | None = None
    batches: int | None = None  # None: nothing stored with a count yet
    seen: list[str] = field(default_factory=list)  # oldest first
    output_at: datetime | None = None
    unverified: bool = False  # the stored terminal state was built while the stream was unverified
    unreadable: str | None = None  # why the terminal state could not be read (started afresh)

    @classmethod
    def load(cls, stored: dict[str, Any] | None) -> WatchMemory:
        if stored is None:
            return cls()
        n = stored.get("n")
        seen = stored.get("seen")
        out = stored.get("out")
        memory = cls(
            unverified=stored.get("u") is True,
            batches=n if isinstance(n, int) and not isinstance(n, bool) else None,
            seen=[s for s in seen if isinstance(s, str)][-SEEN_BATCHES:] if isinstance(seen, list) else [],
        )
        if isinstance(out, str):
            try:
                memory.output_at = parse_time(out)
            except ValueError:
                memory.output_at = None
        terminal = {k: v for k, v in stored.items() if k not in _OWN_KEYS}
        try:
            memory.terminal = WatchState.model_validate(terminal)
        except ValidationError as exc:
            # A state this version cannot read: start afresh (prompts are relearned).
            memory.unreadable = str(exc)
        return memory

    def has_seen(self, fingerprint: str) -> bool:
        return fingerprint in self.seen

    def terminal_for(self, verified: bool) -> WatchState | None:
        """The terminal state to carry on from: none when the session was just confirmed."""
        return None if verified and self.unverified else self.terminal

    def after(
        self, terminal: WatchState, fingerprint: str, output_at: datetime | None, *, verified: bool
    ) -> dict[str, Any]:
        """What to store once this batch is processed."""
        seen = [*(s for s in self.seen if s != fingerprint), fingerprint][-SEEN_BATCHES:]
        out = output_at or self.output_at
        stored: dict[str, Any] = {
            **terminal.model_dump(mode="json"),
            "n": (self.batches or 0) + 1,
            "seen": seen,
        }
        if out is not None:
            stored["out"] = iso(out)
        if not verified:
            stored["u"] = True
        return stored

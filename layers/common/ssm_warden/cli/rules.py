"""``ssm-warden rules list|doc``: the detector's rules, as a table or as docs/rules.md."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ssm_warden.cli.options import EXIT_FINDING, EXIT_OK, add_format, emit_json


def register(sub: Any) -> None:
    parser = sub.add_parser("rules", help="list the detection rules or render docs/rules.md")
    actions = parser.add_subparsers(dest="rules_command", required=True, metavar="ACTION")

    listing = actions.add_parser("list", help="one line per rule: id, pack, severity, category, title")
    listing.add_argument("--pack", action="append", help="only these packs (repeatable)")
    add_format(listing)
    listing.set_defaults(run=_list)

    doc = actions.add_parser("doc", help="render docs/rules.md from the rule packs")
    doc.add_argument("--output", "-o", help="write here instead of standard output")
    doc.add_argument("--check", action="store_true", help="exit 1 if --output is not current")
    doc.set_defaults(run=_doc)


def _list(args: argparse.Namespace) -> int:
    from ssm_warden.detect.rules import load_rules

    # An unknown pack raises RulePackError, which the command prints as one line (exit 2).
    for rule in load_rules(args.pack):
        if args.format == "json":
            emit_json(
                {
                    "id": rule.id,
                    "pack": rule.pack,
                    "severity": rule.severity.value,
                    "category": rule.category,
                    "title": rule.title,
                }
            )
        else:
            print(f"{rule.id}\t{rule.pack}\t{rule.severity.value}\t{rule.category}\t{rule.title}")
    return EXIT_OK


def _doc(args: argparse.Namespace) -> int:
    from ssm_warden.detect.docs import current_rules_markdown

    text = current_rules_markdown()
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    path = Path(args.output)
    if args.check:
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            print(f"{path} is not current: run ssm-warden rules doc --output {path}", file=sys.stderr)
            return EXIT_FINDING
        return EXIT_OK
    path.write_text(text, encoding="utf-8")
    return EXIT_OK

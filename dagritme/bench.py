"""`dagritme bench TARGET --json`: run one benchmark and print its figures as one JSON object.

Each target lives in its own package as `<package>.bench` with `configure(parser)` and
`measure(args) -> dict`; this module only dispatches and prints.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from typing import Any

TARGETS = {
    "detector": "detector.bench",
    "gateway": "gateway.bench",
    "dashboard": "dashboard.bench",
    "store": "store.bench",
    "system": "dagritme.bench_system",
}


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", choices=sorted(TARGETS), help="what to measure")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--quick", action="store_true", help="smaller run (tests, CI)")


def run(args: argparse.Namespace) -> int:
    module = importlib.import_module(TARGETS[args.target])
    figures: dict[str, Any] = module.measure(args)
    if args.json:
        print(json.dumps(figures, sort_keys=True, default=str))
    else:
        for key, value in sorted(figures.items()):
            print(f"{key:32} {value}")
    return 0 if not figures.get("failed") else 1


if __name__ == "__main__":
    sys.exit(run(argparse.Namespace(target=sys.argv[1], json=True, quick=False)))

"""The one command line: `dagritme <command>`.

Each command lives in the package that owns it and exposes two functions:
`configure(parser)` adds its arguments and `run(args) -> int` does the work. They are
imported lazily, so the light gateway install never imports FastAPI or numpy.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any, Protocol, cast

from dagritme.config import ConfigError

COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("dagritme.demo", "run everything on embedded defaults with simulated homes"),
    "gateway": ("gateway.cli", "home gateway: Zigbee2MQTT in, canonical events upstream"),
    "detector": ("detector.cli", "learn each household's rhythm and raise alerts"),
    "dashboard": ("dashboard.cli", "web dashboard and JSON API for residents, carers, nurses"),
    "store": ("store.cli", "persist events from the broker into the event store"),
    "simulate": ("firmware_sim.cli", "simulated homes publishing Zigbee2MQTT payloads"),
    "replay": ("detector.replay", "replay a dataset through the detector, alerts to JSONL"),
    "evaluate": (
        "detector.evaluate",
        "score the detector: injected anomalies, or a simulation's own scenarios",
    ),
    "bench": ("dagritme.bench", "benchmarks: detector|gateway|dashboard|store|system"),
}


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def _load(module_name: str) -> CommandModule:
    module: ModuleType = importlib.import_module(module_name)
    return cast(CommandModule, module)


def _selected_command(argv: Sequence[str]) -> str | None:
    """The command named on the line, found without importing any command module."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def build_parser(selected: str | None = None) -> argparse.ArgumentParser:
    """The parser; only the selected command's module is imported (the Pi stays light)."""
    parser = argparse.ArgumentParser(prog="dagritme", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.set_defaults(_module=module_name)
        if name != selected:
            continue
        try:
            _load(module_name).configure(command)
        except ModuleNotFoundError as err:
            command.set_defaults(_missing=f"{err} (install the matching extra)")
    return parser


def setup_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # APScheduler logs every job run at INFO: with ticks each second that drowns the rest.
    logging.getLogger("apscheduler").setLevel(logging.DEBUG if verbose else logging.WARNING)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True, default=str))


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_selected_command(arguments))
    args = parser.parse_args(arguments)
    setup_logging(args.verbose)
    missing = getattr(args, "_missing", None)
    if missing:
        print(f"dagritme {args.command}: not available: {missing}", file=sys.stderr)
        return 2
    try:
        return _load(args._module).run(args)
    except ConfigError as err:
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""`python -m gateway --config FILE`: the gateway alone, without loading the other commands.

The systemd unit uses this entry point: it imports only the gateway and the shared contract,
which keeps a Raspberry Pi's memory for the gateway's own work.
"""

from __future__ import annotations

import argparse
import sys

from dagritme.cli import setup_logging
from gateway import cli


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m gateway", description=cli.__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    cli.configure(parser)
    args = parser.parse_args()
    setup_logging(args.verbose)
    return cli.run(args)


if __name__ == "__main__":
    sys.exit(main())

"""`python -m gateway --config FILE`: the same as `dagritme gateway`, without the CLI table.

Both import only the gateway and the shared contract (the systemd unit uses `dagritme
gateway`); this entry point is kept for installs without the console script.
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

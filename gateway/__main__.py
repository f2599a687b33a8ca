"""`python -m gateway --config FILE`: the same as `dagritme gateway`.

For installs without the console script; the CLI imports only the gateway and the shared
contract either way (the systemd unit uses `dagritme gateway`).
"""

from __future__ import annotations

import sys

from dagritme.cli import main

if __name__ == "__main__":
    sys.exit(main(["gateway", *sys.argv[1:]]))

"""`dagritme demo`: the whole system on embedded defaults, with three simulated homes.

An in-process broker (mosquitto when installed, else amqtt), SQLite for state and events,
three simulated households on an accelerated clock (two weeks of learned history first),
gateway, detector, event store and the dashboard on http://127.0.0.1:8000. Household
hh-0001 has a scripted fall shortly after the live part starts; the consented carer's
notification e-mails go to a local mail catcher and are echoed in the terminal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import socket
import sys
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from dagritme import system
from dagritme.embedded_broker import embedded_broker
from dagritme.mailcatcher import MailCatcher

DEMO_TZ = "Europe/Amsterdam"
DEMO_HOMES = (
    system.HomeSpec("hh-0001", "Demo household A (scripted fall)", "typical", ("fall@0T08:40",)),
    system.HomeSpec("hh-0002", "Demo household B", "early_riser"),
    system.HomeSpec("hh-0003", "Demo household C (4 sensors)", "sparse"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--speed",
        type=float,
        default=120.0,
        help="simulated seconds per real second (default 120: a minute is two hours)",
    )
    parser.add_argument("--port", type=int, default=8000, help="dashboard port")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path("var/demo"),
        help="where the demo keeps its SQLite files (wiped at start)",
    )
    parser.add_argument(
        "--warmup-days",
        type=int,
        default=14,
        help="days of simulated history learned before the live part",
    )
    parser.add_argument("--start", default="07:30", help="local data time of the live start")
    parser.add_argument(
        "--broker",
        choices=("auto", "mosquitto", "amqtt"),
        default="auto",
        help="embedded broker: mosquitto when installed (auto), or amqtt in-process",
    )


def _banner(url: str, logins: dict[str, str], speed: float) -> str:
    lines = [
        "",
        "Dagritme demo is running.",
        f"  Dashboard: {url}",
        f"  Time runs {speed:g}x: one real minute is {speed:g} simulated minutes.",
        "  Household hh-0001 has a scripted fall at 08:40 (data time); its alert appears on",
        "  the dashboard and is e-mailed to the consented carer (shown here as 'mail for').",
        "  Log in with:",
    ]
    lines += [f"    {user:24} {password}" for user, password in sorted(logins.items())]
    lines += ["  Stop with Ctrl-C.", ""]
    return "\n".join(lines)


def _spec(args: argparse.Namespace, contacts: tuple[tuple[str, str], ...]) -> system.SystemSpec:
    tz = ZoneInfo(DEMO_TZ)
    hour, minute = (int(part) for part in args.start.split(":"))
    start = datetime.combine(datetime.now(tz).date(), time(hour, minute), tzinfo=tz)
    return system.SystemSpec(
        homes=DEMO_HOMES,
        start=start,
        speed=args.speed,
        data_dir=args.data_dir,
        http_port=args.port,
        timezone=DEMO_TZ,
        warmup_days=args.warmup_days,
        contacts=contacts,
    )


async def _main(args: argparse.Namespace) -> None:
    if args.data_dir.exists():
        shutil.rmtree(args.data_dir)
    with MailCatcher() as mail:
        spec = _spec(args, (("carer", mail.apprise_url("carer@demo.invalid")),))
        async with embedded_broker(kind=args.broker) as broker:
            print("Learning two weeks of simulated history first ...", flush=True)
            running = system.build(spec, broker)
            try:
                task = asyncio.create_task(system.run(running))
                await asyncio.wait_for(running.dashboard.wait_started(), timeout=60)
                print(_banner(running.dashboard_url, running.logins, args.speed), flush=True)
                await task
            finally:
                system.close(running)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on the dashboard's port (another demo, often)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def run(args: argparse.Namespace) -> int:
    if port_in_use(args.port):
        # Checked first: the web server would only log its bind error, and the rest of the
        # demo would run on without a dashboard to look at.
        print(
            f"demo: port {args.port} is already in use (is another demo running?); "
            "stop it or choose another with --port",
            file=sys.stderr,
        )
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_main(args))
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    configure(parser)
    sys.exit(run(parser.parse_args()))

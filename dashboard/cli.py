"""`dagritme dashboard`: serve the web dashboard and ingest alerts from the broker."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import os
import sys

from dagritme.clock import WallClock
from dagritme.config import add_config_arguments, load_config
from dashboard.accounts import AccountError, Role, create_user
from dashboard.config import DashboardConfig
from dashboard.db import Database
from dashboard.households import HouseholdError, create_household

DEMO_HOUSEHOLDS = [
    ("hh-001", "Mrs Jansen", "Europe/Amsterdam"),
    ("hh-002", "Mr de Vries", "Europe/Amsterdam"),
    ("hh-003", "Mrs Bakker", "Europe/Amsterdam"),
]


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_arguments(parser, "dashboard config")
    parser.add_argument(
        "--seed-demo", action="store_true", help="create demo households and accounts, print logins"
    )
    parser.add_argument(
        "--create-household", nargs=3, metavar=("ID", "NAME", "TZ"), help="add a household"
    )
    parser.add_argument("--create-user", metavar="USERNAME", help="add an account and exit")
    parser.add_argument("--role", choices=[r.value for r in Role], help="role of --create-user")
    parser.add_argument("--household", help="household of a resident (--create-user)")


def _password() -> str:
    from_env = os.environ.get("DAGRITME_PASSWORD")
    if from_env:
        return from_env
    return getpass.getpass("password for the new account: ")


def run(args: argparse.Namespace) -> int:
    config = load_config(args.config, DashboardConfig)
    if args.validate_config:
        print(f"{args.config or 'defaults'}: configuration is valid")
        return 0
    clock = WallClock()
    if args.seed_demo or args.create_user or args.create_household:
        return _admin_commands(args, config, clock)
    from dashboard.service import DashboardService
    from store import open_store

    event_store = open_store(config.store)
    service = DashboardService(config, event_store, clock)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(service.run())
    finally:
        event_store.close()
        service.db.close()
    return 0


def _admin_commands(args: argparse.Namespace, config: DashboardConfig, clock: WallClock) -> int:
    db = Database(config.database)
    try:
        if args.create_household:
            household_id, name, tz = args.create_household
            create_household(db, household_id, name, tz, clock.now())
            print(f"household {household_id} created")
        if args.seed_demo:
            from dashboard.seed import seed_demo

            for username, password in seed_demo(db, DEMO_HOUSEHOLDS, clock).items():
                print(f"{username:24} {password}")
        if args.create_user:
            if not args.role:
                print("--create-user needs --role", file=sys.stderr)
                return 2
            create_user(
                db,
                username=args.create_user,
                password=_password(),
                role=Role(args.role),
                now=clock.now(),
                household=args.household,
            )
            print(f"user {args.create_user} created")
    except (AccountError, HouseholdError) as err:
        print(err, file=sys.stderr)
        return 2
    finally:
        db.close()
    return 0

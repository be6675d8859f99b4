"""The ``mayday`` command: ``mayday server``, ``mayday agents add|set|set-role|unlock|list|remove``,
``mayday sites add|list|remove``, ``mayday canned add|list|remove``, ``mayday device``,
``mayday db upgrade``, ``mayday forecast``.

Each subcommand lives in a small function; heavy imports happen inside them so that
``mayday --help`` stays instant.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from server.settings import Settings
from signaling import ACCOUNT_ROLES

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["main"]

SHUTDOWN_TIMEOUT_S = 3.0
"""After the drain, how long aiohttp waits for requests still being handled before cancelling."""


def _csv(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


DISPLAY_NAME_HELP = 'the name customers see, e.g. "Anna K." (default: the login name)'
ROLE_HELP = (
    "agent (serves customers, reads its own sessions), supervisor (also the wallboard, every "
    "session, watch and join, reports) or admin (also accounts, sites and devices)"
)
CANNED_MAX_CHARS = 2000
"""A canned reply goes into the chat as it is: no longer than a chat line."""


def _display_name(value: str) -> str:
    """A display name as given, trimmed: 1 to 80 characters (argparse's type check)."""
    name = " ".join(value.split())
    if not 1 <= len(name) <= 80 or "\x00" in name:
        raise argparse.ArgumentTypeError("a display name has 1 to 80 characters")
    return name


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mayday", description="Self-hostable remote support: help button to agent on screen."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    server = commands.add_parser("server", help="run a server process")
    server.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    server.add_argument("--port", type=int, help="port to listen on (default 8080)")
    server.add_argument("--data-dir", help="where the SQLite database lives (default .mayday)")

    demo = commands.add_parser(
        "demo", help="a server, a demo agent and a simulated tablet with its customer preview"
    )
    demo.add_argument(
        "--host", default="127.0.0.1", help="address of the console (default 127.0.0.1)"
    )
    demo.add_argument(
        "--port", type=int, default=8080, help="the agent console's port (default 8080)"
    )
    demo.add_argument(
        "--preview-port", type=int, default=None, help="the customer's tablet (default: port + 1)"
    )
    demo.add_argument(
        "--shop-port", type=int, default=None, help="the customer's web shop (default: port + 2)"
    )
    demo.add_argument("--data-dir", default=".mayday", help="where the demo keeps its SQLite file")
    demo.add_argument("--locale", default="en", help="the tablet's language, en or de (default en)")

    device = commands.add_parser(
        "device", help="run a customer's device (a simulated tablet or X11)"
    )
    from device_agent.cli import add_arguments as add_device_arguments

    add_device_arguments(device)

    agents = commands.add_parser("agents", help="manage support agent accounts")
    agent_commands = agents.add_subparsers(dest="agents_command", required=True, metavar="ACTION")
    add = agent_commands.add_parser("add", help="create an agent (password prompted or on stdin)")
    add.add_argument("name")
    add.add_argument("--languages", type=_csv, default=["en"], help="e.g. de,en (default en)")
    add.add_argument(
        "--skills", type=_csv, default=[], help="topics the agent handles, e.g. kindle"
    )
    add.add_argument("--display-name", type=_display_name, help=DISPLAY_NAME_HELP)
    add.add_argument("--role", choices=ACCOUNT_ROLES, default="agent", help=ROLE_HELP)
    add.add_argument("--data-dir")
    change = agent_commands.add_parser(
        "set", help="change an agent (signed-in agents: from their next sign-in)"
    )
    change.add_argument("name")
    names = change.add_mutually_exclusive_group(required=True)
    names.add_argument("--display-name", type=_display_name, help=DISPLAY_NAME_HELP)
    names.add_argument(
        "--no-display-name", action="store_true", help="customers see the login name again"
    )
    change.add_argument("--data-dir")
    set_role = agent_commands.add_parser(
        "set-role", help="give an account a role (it is signed out everywhere, to sign in again)"
    )
    set_role.add_argument("name")
    set_role.add_argument("role", choices=ACCOUNT_ROLES, help=ROLE_HELP)
    set_role.add_argument("--data-dir")
    unlock = agent_commands.add_parser(
        "unlock", help="let an agent locked out by failed sign-ins try again from every address"
    )
    unlock.add_argument("name")
    unlock.add_argument("--data-dir")
    listing = agent_commands.add_parser("list", help="list agents")
    listing.add_argument("--data-dir")
    remove = agent_commands.add_parser("remove", help="delete an agent")
    remove.add_argument("name")
    remove.add_argument("--data-dir")

    sites = commands.add_parser(
        "sites", help="manage the web sites whose pages embed the co-browsing widget"
    )
    site_commands = sites.add_subparsers(dest="sites_command", required=True, metavar="ACTION")
    add_site = site_commands.add_parser(
        "add", help="register a site; its public key is the last line printed"
    )
    add_site.add_argument("name")
    add_site.add_argument(
        "--origin",
        action="append",
        required=True,
        dest="origins",
        metavar="ORIGIN",
        help="scheme://host[:port] its pages are served from, e.g. https://shop.example "
        "(repeat for each)",
    )
    add_site.add_argument("--json", action="store_true", help='print {"name", "key", "origins"}')
    add_site.add_argument("--data-dir")
    list_sites = site_commands.add_parser("list", help="list sites with their keys and origins")
    list_sites.add_argument("--json", action="store_true", help="print one JSON array")
    list_sites.add_argument("--data-dir")
    remove_site = site_commands.add_parser(
        "remove", help="delete a site; its web visitors can no longer connect"
    )
    remove_site.add_argument("name")
    remove_site.add_argument("--data-dir")

    canned = commands.add_parser(
        "canned", help="manage the desk's canned replies (agents insert them into the chat)"
    )
    canned_commands = canned.add_subparsers(dest="canned_command", required=True, metavar="ACTION")
    add_canned = canned_commands.add_parser(
        "add", help="add a reply at the end of the list; its id is printed"
    )
    add_canned.add_argument("text", help="the reply as the customer will read it")
    add_canned.add_argument("--data-dir")
    list_canned = canned_commands.add_parser("list", help="list the replies with their ids")
    list_canned.add_argument("--json", action="store_true", help='print [{"id", "text"}]')
    list_canned.add_argument("--data-dir")
    remove_canned = canned_commands.add_parser("remove", help="delete a reply by its id")
    remove_canned.add_argument("id")
    remove_canned.add_argument("--data-dir")

    db = commands.add_parser("db", help="manage the database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_commands.add_parser(
        "upgrade", help="migrate to the newest schema (servers also do this when they start)"
    )
    upgrade.add_argument("--data-dir")

    forecast = commands.add_parser(
        "forecast", help="agents needed per hour of a coming week, from the recorded history"
    )
    from .forecast.cli import add_arguments as add_forecast_arguments

    add_forecast_arguments(forecast)

    sim = commands.add_parser("sim", help="run support sessions from scenario files, measure them")
    from sim.cli import add_arguments as add_sim_arguments

    add_sim_arguments(sim)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    for name in ("host", "port", "data_dir"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)  # type: ignore[arg-type]


def _read_password(name: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"password for {name}: ")
        if first != getpass.getpass("again: "):
            raise SystemExit("the passwords differ; nothing was changed")
        return first
    return sys.stdin.readline().rstrip("\r\n")


async def _agents(args: argparse.Namespace) -> int:
    from server.auth import hash_password
    from server.records import open_records

    records = await open_records(_settings(args))
    try:
        if args.agents_command == "add":
            if await records.agent_by_name(args.name):
                print(f"agent {args.name!r} exists already", file=sys.stderr)
                return 1
            password = _read_password(args.name)
            if len(password) < 8:
                print("the password needs at least 8 characters", file=sys.stderr)
                return 1
            row = await records.add_agent(
                args.name,
                hash_password(password),
                args.languages,
                args.skills,
                display_name=args.display_name,
                role=args.role,
            )
            print(
                f"added {row.role} {row.name} ({row.id}) languages={row.languages}"
                f" skills={row.skills} display name {row.shown_name!r}"
            )
        elif args.agents_command == "set-role":
            changed = await records.set_role(args.name, args.role)
            if changed is None:
                print(f"no agent {args.name!r}", file=sys.stderr)
                return 1
            print(f"{changed.name} is now {changed.role}; signed out everywhere to sign in again")
        elif args.agents_command == "unlock":
            changed = await records.unlock_agent(args.name)
            if changed is None:
                print(f"no agent {args.name!r}", file=sys.stderr)
                return 1
            print(f"{changed.name} may sign in again from every address")
        elif args.agents_command == "set":
            changed = await records.set_display_name(args.name, args.display_name)
            if changed is None:
                print(f"no agent {args.name!r}", file=sys.stderr)
                return 1
            print(f"agent {changed.name}: customers see {changed.shown_name!r}")
        elif args.agents_command == "list":
            for row in await records.list_agents():
                languages, skills = ",".join(row.languages), ",".join(row.skills) or "-"
                print(
                    f"{row.name}\t{row.id}\tlanguages={languages}\tskills={skills}"
                    f"\tdisplay_name={row.shown_name}\trole={row.role}"
                )
        elif args.agents_command == "remove":
            if not await records.remove_agent(args.name):
                print(f"no agent {args.name!r}", file=sys.stderr)
                return 1
            print(f"removed agent {args.name}")
        return 0
    finally:
        await records.close()


async def _sites(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import IntegrityError

    from server.logs import configure_logging
    from server.origins import normalise_origin
    from server.records import SiteRow, open_records

    # Logs to stderr, warnings only: stdout is the answer (the key last, or one JSON document).
    configure_logging(level="warning")

    def described(row: SiteRow) -> dict[str, object]:
        return {"name": row.name, "key": row.key, "origins": list(row.origins)}

    origins: list[str] = []
    if args.sites_command == "add":
        if not 1 <= len(args.name) <= 80:
            print("a site's name has 1 to 80 characters", file=sys.stderr)
            return 1
        try:
            # Each origin once, in the order given, as browsers write them in Origin headers.
            origins = list(dict.fromkeys(normalise_origin(origin) for origin in args.origins))
        except ValueError as error:
            print(f"not an origin: {error}; nothing was changed", file=sys.stderr)
            return 1
    records = await open_records(_settings(args))
    try:
        if args.sites_command == "add":
            try:
                row = await records.add_site(args.name, origins)
            except IntegrityError:
                print(f"site {args.name!r} exists already", file=sys.stderr)
                return 1
            if args.json:
                print(json.dumps(described(row)))
            else:
                print(f"added site {row.name} ({row.id}) origins={','.join(row.origins)}")
                tag = f'<script src="https://SERVER/widget.js" data-site-key="{row.key}" async>'
                print(f"embed on its pages: {tag}</script>")
                print(row.key)
        elif args.sites_command == "list":
            rows = await records.list_sites()
            if args.json:
                print(json.dumps([described(row) for row in rows]))
            else:
                for row in rows:
                    print(f"{row.name}\t{row.key}\torigins={','.join(row.origins)}")
        elif args.sites_command == "remove":
            if not await records.remove_site(args.name):
                print(f"no site {args.name!r}", file=sys.stderr)
                return 1
            print(f"removed site {args.name} and its web visitors")
        return 0
    finally:
        await records.close()


async def _canned(args: argparse.Namespace) -> int:
    from server.logs import configure_logging
    from server.records import open_records

    configure_logging(level="warning")
    text = ""
    if args.canned_command == "add":
        text = args.text.strip()
        if not 1 <= len(text) <= CANNED_MAX_CHARS or "\x00" in text:
            print(f"a canned reply has 1 to {CANNED_MAX_CHARS} characters", file=sys.stderr)
            return 1
    records = await open_records(_settings(args))
    try:
        if args.canned_command == "add":
            row = await records.add_canned_reply(text)
            print(f"added canned reply {row.id}")
            print(row.id)
        elif args.canned_command == "list":
            rows = await records.canned_replies()
            if args.json:
                print(json.dumps([{"id": row.id, "text": row.text} for row in rows]))
            else:
                for row in rows:
                    print(f"{row.id}\t{' '.join(row.text.split())}")
        elif args.canned_command == "remove":
            if not await records.remove_canned_reply(args.id):
                print(f"no canned reply {args.id!r}", file=sys.stderr)
                return 1
            print(f"removed canned reply {args.id}")
        return 0
    finally:
        await records.close()


async def _db(args: argparse.Namespace) -> int:
    from server.records import open_records

    records = await open_records(_settings(args))
    await records.close()
    print(f"the {records.engine.dialect.name} database is at the newest schema")
    return 0


def _server(args: argparse.Namespace) -> int:
    from server.app import create_app
    from server.logs import configure_logging

    settings = _settings(args)
    configure_logging(settings.log_format, settings.log_level)
    return asyncio.run(_serve(create_app(settings), settings.host, settings.port))


async def _serve(app: web.Application, host: str, port: int) -> int:
    """Serve until SIGTERM or SIGINT, then stop gracefully (docs/deploy.md §9).

    The drain comes first, while the process still listens (so ``/readyz`` answers 503 and new
    sockets are refused rather than left hanging): every client is sent to another process. Then
    aiohttp stops listening and finishes what it serves, and the resources close. A second signal
    cuts the drain short. While serving, the oldest generation of the cycle collector is
    collected on a timer (``server/collector.py``).
    """
    from aiohttp import web

    from server.collector import collected_on_a_timer

    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        print(f"mayday server on http://{host}:{port}", flush=True)
        async with collected_on_a_timer():
            await _until_signalled_then_drain(app)
    finally:
        await runner.cleanup()
    return 0


async def _until_signalled_then_drain(app: web.Application) -> None:
    import signal

    import structlog

    from server.app import DRAIN, drain

    log = structlog.get_logger("mayday.cli")
    loop = asyncio.get_running_loop()
    signals = asyncio.Queue[int]()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, signals.put_nowait, number)
    received = await signals.get()
    log.info("server.stopping", signal=signal.Signals(received).name)
    draining = asyncio.create_task(drain(app))
    second = asyncio.create_task(signals.get())
    await asyncio.wait({draining, second}, return_when=asyncio.FIRST_COMPLETED)
    if not draining.done():
        log.warning("server.drain_abandoned")
        app[DRAIN].abandon()
    for task in (draining, second):
        task.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "server":
        return _server(args)
    if args.command == "agents":
        return asyncio.run(_agents(args))
    if args.command == "sites":
        return asyncio.run(_sites(args))
    if args.command == "canned":
        return asyncio.run(_canned(args))
    if args.command == "db":
        return asyncio.run(_db(args))
    if args.command == "demo":
        from pathlib import Path

        from server.logs import configure_logging

        from .demo import run_demo

        configure_logging(level="warning")
        preview_port = args.preview_port if args.preview_port is not None else args.port + 1
        shop_port = args.shop_port if args.shop_port is not None else args.port + 2
        return asyncio.run(
            run_demo(
                args.host, args.port, preview_port, shop_port, Path(args.data_dir), args.locale
            )
        )
    if args.command == "forecast":
        from .forecast.cli import run as run_forecast

        return run_forecast(args)
    if args.command == "sim":
        from sim.cli import run as run_sim

        return run_sim(args)
    if args.command == "device":
        from device_agent.cli import run as run_device
        from server.logs import configure_logging

        configure_logging(level="info")
        return run_device(args)
    raise AssertionError(args.command)


if __name__ == "__main__":
    raise SystemExit(main())

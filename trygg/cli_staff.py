"""``trygg staff``: staff accounts for the dashboard, from the command line.

``create-user`` is how the first admin comes to exist; after that, admins manage
accounts on the dashboard's Användare page. The password is asked for (hidden, twice),
or read from standard input with ``--password-stdin`` for scripts. Never as an argument:
it would stay in the shell history and be visible to every user in ``ps``.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storage import staff as staff_store
from storage.database import migrate
from trygg.cli_service import runtime_or_exit
from trygg.service.runtime import Runtime
from trygg.staff.accounts import AccountError, create_user
from trygg.staff.roles import ROLES

staff_app = typer.Typer(help="Staff accounts for the dashboard (/staff).", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no name for this uid, e.g. in a container
        return "cli"


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    second = typer.prompt("Password again", hide_input=True)
    if first != second:
        err.print("The two passwords differ; nothing was created.")
        raise typer.Exit(1)
    return str(first)


@staff_app.command("create-user")
def create_user_command(
    username: Annotated[str, typer.Argument(help="Log-in name, e.g. anna.svensson")],
    role: Annotated[str, typer.Option("--role", help="admin, analyst or viewer.")] = "admin",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Create a staff account (the first admin, typically)."""
    if role not in ROLES:
        err.print(f"unknown role '{role}'; choose one of: {', '.join(ROLES)}", markup=False)
        raise typer.Exit(2)
    password = _read_password(password_stdin)
    runtime = runtime_or_exit()

    async def run(runtime: Runtime) -> None:
        try:
            await migrate(runtime.database)
            await create_user(
                runtime, username=username, password=password, role=role, actor=_actor()
            )
        finally:
            await runtime.close()

    try:
        asyncio.run(run(runtime))
    except AccountError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None
    out.print(f"Created {role} '{username.lower()}'. Log in at /staff.", markup=False)


@staff_app.command("list")
def list_users() -> None:
    """List staff accounts (never their passwords)."""
    runtime = runtime_or_exit()

    async def run(runtime: Runtime) -> list[tuple[str, str, bool, str]]:
        try:
            await migrate(runtime.database)
            async with runtime.database.sessions() as session:
                return [
                    (u.username, u.role, u.active, u.created_at.date().isoformat())
                    for u in await staff_store.users(session)
                ]
        finally:
            await runtime.close()

    table = Table("user", "role", "active", "created")
    for name, role, active, created in asyncio.run(run(runtime)):
        table.add_row(name, role, "yes" if active else "no", created)
    out.print(table)

"""How ``trygg broadcast`` commands run: reading their arguments, talking to the database
with every failure as one clear message, and following a send as it goes out.

Kept apart from the commands themselves (``trygg.cli_broadcast``) so each stays short.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import getpass
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy.exc import SQLAlchemyError

from storage.database import migrate
from storage.models import OutboxMessage
from trygg import cli_broadcast_views as views
from trygg.broadcast_file import BroadcastFileError, parse
from trygg.cli_service import runtime_or_exit
from trygg.invitation_list import find_language
from trygg.service.broadcast_report import Report, report
from trygg.service.broadcast_spec import CHANNELS, BroadcastSpec
from trygg.service.broadcasts import BroadcastError, Broadcasts
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.runtime import Runtime

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
STALL_SECONDS = 30.0  # nothing moved this long while only watching: no worker is running
POLL_SECONDS = 0.5
T = TypeVar("T")


def run(work: Callable[[Runtime, Broadcasts], Awaitable[T]], runtime: Runtime | None = None) -> T:
    """Run one command's database work and return its result; a refusal or a database
    problem is one clear message and exit code 1, never a traceback."""
    runtime = runtime or runtime_or_exit()

    async def main() -> T:
        try:
            await migrate(runtime.database)
            return await work(runtime, Broadcasts(runtime))
        finally:
            await runtime.close()

    try:
        return asyncio.run(main())
    except BroadcastError as exc:
        fail(str(exc))
    except (SQLAlchemyError, OSError) as exc:
        fail(
            f"the database cannot be used ({type(exc).__name__}): check TRYGG_DATABASE_URL "
            "and that the database is running"
        )


def fail(message: str) -> NoReturn:
    err.print(message, style="red", markup=False, highlight=False)
    raise typer.Exit(1)


def actor() -> str:
    """Who did it, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name (some containers): still say where from
        return "cli:unknown"


# -- arguments -------------------------------------------------------------------------


def spec_from_file(runtime: Runtime, file: Path, campaign: str | None) -> BroadcastSpec:
    """The file as a broadcast, checked as the service will check it: nothing is created
    from a file with problems, and every problem is named at once."""
    service = Broadcasts(runtime)
    try:
        found = parse(file)
        campaign_id = campaign_of(runtime, campaign, found.campaign)
        spec = found.spec(campaign_id, service.languages_of(campaign_id))
    except BroadcastFileError as exc:
        fail(str(exc))
    problems = service.check(spec)
    if problems:
        fail(f"{file}: nothing was created:\n" + "\n".join(f"  {p}" for p in problems))
    return spec


def campaign_of(runtime: Runtime, wanted: str | None, from_file: str | None = None) -> str:
    known = [campaign.id for campaign in runtime.library.campaigns]
    chosen = wanted or from_file
    if chosen is None:
        if len(known) == 1:
            return known[0]
        fail(f"name the campaign with --campaign or campaign: in the file ({', '.join(known)})")
    if chosen not in known:
        fail(f"there is no campaign {chosen!r}; there is: {', '.join(known)}")
    return chosen


def language(wanted: str, offered: Sequence[str]) -> str:
    """A code or a name (arabiska, Arabic, العربية), as in the file of texts."""
    code = find_language(wanted, tuple(offered))
    if code is None:
        fail(f"{wanted!r} is not one of the campaign's languages ({', '.join(offered)})")
    return code


def channel(wanted: str) -> str:
    name = wanted.strip().lower()
    if name not in CHANNELS:
        fail(f"{wanted!r} is not a channel; the channels are {', '.join(CHANNELS)}")
    return name


def parse_at(text: str | None, now: dt.datetime) -> dt.datetime | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        fail(f"--at {text!r} is not a time; write it like 2026-11-30T18:00 (your local time)")
    if moment.tzinfo is None:
        moment = moment.astimezone()  # staff write their local time
    if moment <= now:
        # A typo in the date must not turn into "send to everyone now".
        fail(f"--at {text}: that time has passed; leave out --at to send now")
    return moment


# -- sending from here and following ---------------------------------------------------


@contextlib.asynccontextmanager
async def delivering(runtime: Runtime, *, on: bool) -> AsyncIterator[None]:
    """A delivery worker in this process while the block runs (``--deliver``)."""
    if not on:
        yield
        return
    stop = asyncio.Event()
    worker = DeliveryWorker(runtime, build_senders(runtime.settings))
    task = asyncio.create_task(worker.run(stop, idle_seconds=POLL_SECONDS / 2))
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def follow(runtime: Runtime, service: Broadcasts, broadcast_id: int, deliver: bool) -> None:
    """A progress bar of finished copies until none is left to send. Ctrl-C stops the
    watching (and the sending from here), never the broadcast."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    async with delivering(runtime, on=deliver):
        with Progress(*columns, console=err) as progress:
            task = progress.add_task(f"broadcast {broadcast_id}", total=None)
            current = await _watch(service, broadcast_id, deliver, progress, task)
    if current is not None:
        out.print(views.summary(current), highlight=False)


async def _watch(
    service: Broadcasts, broadcast_id: int, deliver: bool, progress: Progress, task: TaskID
) -> Report | None:
    """The last report, or None when nothing moves without a worker (said why)."""
    moved_at, last, warned = time.monotonic(), -1, False
    while True:
        if deliver:
            await service.tick()  # closes it when all is sent: no other process will here
        current = await report(service, broadcast_id)
        total = current.total
        finished = total.queued - total.pending  # sent, delivered, failed, waiting, skipped
        progress.update(task, total=total.queued, completed=finished)
        if total.pending == 0 or current.state in ("done", "cancelled", "paused"):
            if deliver and current.state == "sending":
                await service.tick()
                current = await report(service, broadcast_id)
            return current
        if finished != last:
            moved_at, last = time.monotonic(), finished
        elif time.monotonic() - moved_at > STALL_SECONDS and not warned:
            warned = True
            err.print(views.stalled(broadcast_id, deliver, STALL_SECONDS), highlight=False)
            if not deliver:
                return None
        await asyncio.sleep(POLL_SECONDS)


async def wait_for(runtime: Runtime, outbox_id: int, seconds: float = 60) -> OutboxMessage:
    """The outbox row once it is no longer on its way (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while True:
        async with runtime.database.sessions() as session:
            row = await session.get(OutboxMessage, outbox_id, populate_existing=True)
        assert row is not None  # written by this command a moment ago
        if row.status not in ("pending", "sending") or time.monotonic() > deadline:
            return row
        await asyncio.sleep(POLL_SECONDS / 2)

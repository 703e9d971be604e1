"""One broadcast, measured: a database, ``trygg worker`` processes, the fake providers.

The fakes (Telegram's Bot API, Twilio's REST API, Meta's Graph API, from tests/bots) run
in this process, each enforcing its documented rate over a sliding second and answering
over-limit sends with the provider's own 429. The workers are separate processes
started before the broadcast, so their start-up is not timed. ``Broadcasts.send`` (the
transaction that fixes the audience and writes one outbox copy per person) is timed on
its own. Rates are measured from each provider's arrival log: the units after the first
arrival over the time from the first to the last, which is the rate the channel ran at.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from benchmarks.broadcast.workers import Workers, environment
from storage.database import migrate
from tests.benchmarks.broadcast_setup import (
    CAMPAIGN,
    FALLBACK,
    LINK,
    PROVIDER_CHANNELS,
    TEXTS,
    Audience,
    Fakes,
    delivery_problems,
    report_problems,
    seed,
)
from tests.bots.local_server import Arrival, duplicates
from tests.service_helpers import SECRET
from trygg.service.broadcast_spec import BroadcastSpec
from trygg.service.broadcasts import Broadcasts
from trygg.service.runtime import Runtime, build_runtime
from trygg.settings import Settings


@dataclass(frozen=True)
class Setup:
    database: str  # "sqlite", or a PostgreSQL URL (a database of its own is made in it)
    workers: int
    people: Audience
    limits: dict[str, float]  # what the fakes enforce, per channel, in the provider's units


@dataclass(frozen=True)
class Channel:
    copies: int  # accepted by the provider
    units: int  # messages, or SMS segments
    rate: float  # units a second from the first arrival to the last
    rejected: int  # answered 429
    duplicates: int


@dataclass
class Outcome:
    prepare_seconds: float  # Broadcasts.send: the audience fixed and its copies written
    total_seconds: float  # from send() committed to the last copy accepted
    cpu_seconds: float  # the workers', from send() to done
    channels: dict[str, Channel]
    problems: list[str] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return sum(channel.copies for channel in self.channels.values())


def channel_figures(arrivals: list[Arrival], rejected: int) -> Channel:
    ordered = sorted(arrivals, key=lambda arrival: arrival.at)
    units = sum(arrival.units for arrival in ordered)
    rate = 0.0
    if len(ordered) > 1 and ordered[-1].at > ordered[0].at:
        rate = (units - ordered[0].units) / (ordered[-1].at - ordered[0].at)
    return Channel(len(ordered), units, rate, rejected, duplicates(ordered))


async def measure(setup: Setup, folder: Path) -> Outcome:
    with Fakes() as fakes:
        async with database(setup.database, folder) as url:
            ours = {channel: limit / setup.workers for channel, limit in setup.limits.items()}
            fields = fakes.settings() | {
                "database_url": url,
                "secret_key": SECRET,
                "twilio_segments_per_second": ours["sms"],
                "facebook_messages_per_second": ours["facebook"],
                "telegram_messages_per_second": ours["telegram"],
            }
            runtime = build_runtime(Settings(**fields))
            try:
                await migrate(runtime.database)
                await seed(runtime, setup.people, fakes.graph)
                fakes.enforce(setup.limits)
                env = environment(fields)
                with Workers(setup.workers, env, folder) as workers:
                    return await broadcast(runtime, fakes, workers, setup)
            finally:
                await runtime.close()


async def broadcast(runtime: Runtime, fakes: Fakes, workers: Workers, setup: Setup) -> Outcome:
    people = setup.people
    service = Broadcasts(runtime)
    spec = BroadcastSpec(CAMPAIGN, "Återkoppling december", dict(TEXTS), LINK)
    broadcast_id = await service.create(spec, "benchmark")
    cpu_before = workers.cpu_seconds()
    started = time.monotonic()
    await service.send(broadcast_id, "benchmark", fallback=FALLBACK)
    sent = time.monotonic()
    expected = sum(len(people.at_provider(channel)) for channel in PROVIDER_CHANNELS)
    # Generous: three times what the slowest channel needs at its limit (two SMS segments
    # a message at most), plus a minute.
    slowest = max(len(people.at_provider(c)) * 2 / setup.limits[c] for c in PROVIDER_CHANNELS)
    deadline = sent + 60 + 3 * slowest
    while (await service.get(broadcast_id)).state != "done":
        if time.monotonic() > deadline:
            raise RuntimeError(f"not done: {fakes.accepted()} of {expected} accepted")
        await asyncio.sleep(0.25)
    cpu = workers.cpu_seconds() - cpu_before
    channels = {
        name: channel_figures(fake.arrivals, fake.rejected)
        for name, fake in fakes.by_channel.items()
    }
    last = max((a.at for fake in fakes.by_channel.values() for a in fake.arrivals), default=sent)
    problems = delivery_problems(fakes, people)
    problems += await report_problems(runtime, broadcast_id, people)
    problems += workers.errors()[:5]
    return Outcome(sent - started, last - sent, cpu, channels, problems)


@contextlib.asynccontextmanager
async def database(kind: str, folder: Path) -> AsyncIterator[str]:
    """A fresh database: a SQLite file in ``folder``, or a PostgreSQL database made for
    this run (the workers are other processes, so a schema on a connection will not do)
    and dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'trygg.db'}"
        return
    name = "bench_broadcast_" + uuid.uuid4().hex[:10]
    admin = create_async_engine(kind, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f"CREATE DATABASE {name}"))
        try:
            yield make_url(kind).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        await admin.dispose()

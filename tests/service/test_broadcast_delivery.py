"""A broadcast delivered through the real senders to the fake providers, end to end.

Every test checks the same two things at the end: each person got the broadcast exactly
once at the provider (counted per address by the fake; Messenger people whose window is
closed got nothing and wait), and the report adds up with nobody pending, failed or
skipped. Counts, never timings: the figures for throughput are the benchmark's
(benchmarks/broadcast/).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, make_url, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.database import migrate, open_database
from storage.models import OutboxMessage
from tests.benchmarks.broadcast_setup import (
    DOCUMENTED,
    Fakes,
    ScaledClock,
    audience,
    delivery_problems,
    outbox_counts,
    report_problems,
    seed,
    start_broadcast,
    wait_done,
)
from tests.bots.local_server import busiest_window, eventually
from tests.service_helpers import SECRET, drop_runtime, make_runtime, sqlite_url
from trygg.service.broadcasts import Broadcasts
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.runtime import Runtime, build_runtime
from trygg.settings import Settings

# Our Telegram sender reads RetryAfter.retry_after, which PTB 22 warns about on each 429
# (it is to become a timedelta; the sender handles both): noise in these tests.
pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*:DeprecationWarning")

# Our sender's rate, the fake provider's (slightly lower) limit, and how much faster than
# real time the runtime's clock runs. Messenger: a 613 holds the channel for 60 s.
PUSHBACK = {
    "telegram": (30.0, 27.0, 1.0),
    "sms": (10.0, 9.0, 1.0),
    "facebook": (30.0, 27.0, 20.0),
}


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    with Fakes() as started:
        yield started


@contextlib.asynccontextmanager
async def running(worker: DeliveryWorker) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop, idle_seconds=0.1))
    try:
        yield
    finally:
        stop.set()
        await task


def worker_for(runtime: Runtime, *, rates: dict[str, float] | None = None) -> DeliveryWorker:
    senders = build_senders(runtime.settings)
    for channel, rate in (rates or {}).items():
        senders[channel].rate_per_second = rate
    # A lease far longer than any test: no message is taken over from a live worker.
    return DeliveryWorker(runtime, senders, lease=dt.timedelta(hours=1))


@pytest.mark.parametrize("channel", sorted(PUSHBACK))
async def test_provider_push_back_loses_nothing_and_repeats_nothing(
    database_url: str, fakes: Fakes, channel: str
) -> None:
    """The provider allows a little less than our sender sends, so it answers some sends
    with its "too many requests" (Telegram 429 with retry_after, Twilio 429/20429 counted
    in segments, Messenger 613). The worker retries those, and the broadcast completes."""
    ours, limit, speed = PUSHBACK[channel]
    runtime = await make_runtime(
        database_url, ScaledClock(speed), **fakes.settings([channel]),
        twilio_segments_per_second=ours, facebook_messages_per_second=ours,
    )  # fmt: skip
    try:
        # Enough for the first batch (a second's worth at our rate) to exceed the limit.
        counts = {"telegram": 45, "sms": 20, "facebook": 40}
        people = audience(**{channel: counts[channel]}, web=5,
                          closed=5 if channel == "facebook" else 0)  # fmt: skip
        await seed(runtime, people, fakes.graph)
        fakes.enforce({channel: limit})
        worker = worker_for(runtime, rates={channel: ours})
        broadcast_id = await start_broadcast(runtime)
        async with running(worker):
            await wait_done(runtime, broadcast_id, timeout=120)
        fake = fakes.by_channel[channel]
        assert fake.rejected > 0  # the provider did push back
        assert delivery_problems(fakes, people) == []
        assert await report_problems(runtime, broadcast_id, people) == []
        assert busiest_window(fake.arrivals) <= limit  # what it accepted kept to its limit
    finally:
        await drop_runtime(runtime)


async def test_pause_holds_every_copy_and_resume_sends_each_once(
    database_url: str, fakes: Fakes
) -> None:
    runtime = await make_runtime(
        database_url, ScaledClock(), **fakes.settings(),
        twilio_segments_per_second=4.0, facebook_messages_per_second=4.0,
    )  # fmt: skip
    try:
        people = audience(telegram=16, sms=16, facebook=16, closed=2, web=4)
        await seed(runtime, people, fakes.graph)
        worker = worker_for(runtime, rates={"telegram": 4.0})  # slow, to pause mid-way
        service = Broadcasts(runtime)
        broadcast_id = await start_broadcast(runtime)
        async with running(worker):
            await eventually(lambda: min(fakes.accepted().values()) >= 5, timeout=30)
            await service.pause(broadcast_id, "test")
            # The batches claimed before the pause still go out; then nothing does.
            await asyncio.sleep(0.5)
            await settled(runtime, broadcast_id)
            before = fakes.accepted()
            await asyncio.sleep(1.5)
            assert fakes.accepted() == before
            assert sum(before.values()) < 48  # some were still to go
            await service.resume(broadcast_id, "test")
            await wait_done(runtime, broadcast_id, timeout=60)
        assert delivery_problems(fakes, people) == []
        assert await report_problems(runtime, broadcast_id, people) == []
    finally:
        await drop_runtime(runtime)


async def settled(runtime: Runtime, broadcast_id: int) -> None:
    """Until no copy of the broadcast is being sent."""
    for _ in range(300):
        if not await outbox_counts(runtime, broadcast_id, "sending"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("copies are still being sent")


async def test_two_workers_share_one_broadcast_on_postgresql(
    postgres_url: str, fakes: Fakes
) -> None:
    """Two workers, each with its own database connections and senders, claim side by
    side (FOR UPDATE SKIP LOCKED). Both at our default rates, so together they send
    twice what the providers allow: the providers push back, and still nobody gets the
    broadcast twice."""
    first = await make_runtime(postgres_url, ScaledClock(), **fakes.settings())
    second = build_runtime(first.settings, clock=first.clock)
    await second.database.dispose()
    second.database = open_database(postgres_url, schema=first.test_schema)  # type: ignore[attr-defined]
    try:
        people = audience(telegram=60, sms=20, facebook=60, closed=4, web=6)
        await seed(first, people, fakes.graph)
        fakes.enforce(DOCUMENTED)
        workers = [worker_for(first), worker_for(second)]
        broadcast_id = await start_broadcast(first)
        async with running(workers[0]), running(workers[1]):
            await wait_done(first, broadcast_id, timeout=120)
        assert all(worker.last_sent for worker in workers)  # both took part
        assert delivery_problems(fakes, people) == []
        assert await report_problems(first, broadcast_id, people) == []
    finally:
        await second.close()
        await drop_runtime(first)


# ---------------------------------------------------------------------- a killed worker


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
async def test_a_killed_worker_restarted_sends_each_copy_exactly_once(
    database: str, fakes: Fakes, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``trygg worker`` is SIGKILLed in the middle of a broadcast and started again.

    The kill is made deterministic: the fakes first stop answering (``hold``: requests
    are parked unprocessed); the test waits until every send they did answer is recorded
    in the database; then SIGKILL, with sends in flight (parked). Those never reached the
    provider: their rows stay ``sending`` under a lease, and once it runs out the new
    worker sends them. So this proves that a crash loses nobody and that whatever was
    recorded is not sent again.

    It cannot cover the one window no provider lets us close: the provider accepted a
    send and the worker died before its commit recorded that. Such a person gets the
    broadcast twice (at most once more), because neither Telegram, Twilio nor the Send
    API takes an idempotency key. The worker keeps that window to one commit per send.
    """
    if database == "sqlite":
        url = sqlite_url(tmp_path)
    else:
        url = await fresh_postgres_database(request.getfixturevalue("postgres_url"))
    fields = {**fakes.settings(), "database_url": url, "secret_key": SECRET,
              "outbox_lease_seconds": LEASE_SECONDS}  # fmt: skip
    runtime = build_runtime(Settings(**fields))
    workers: list[subprocess.Popen[bytes]] = []
    try:
        await migrate(runtime.database)
        people = audience(telegram=60, sms=30, facebook=40, closed=4, web=6)
        await seed(runtime, people, fakes.graph)
        fakes.enforce(DOCUMENTED)
        broadcast_id = await start_broadcast(runtime)
        environment = worker_environment(fields)
        workers.append(start_worker(environment, tmp_path / "first.log"))
        await eventually(lambda: sum(fakes.accepted().values()) >= 40, timeout=60)

        fakes.hold()
        await recorded(runtime, broadcast_id, fakes)
        await eventually(lambda: any(fake.parked for fake in fakes.by_channel.values()))
        workers[0].kill()
        workers[0].wait(timeout=30)
        # The parked requests' connections died with the worker: dropped, never processed.
        await eventually(lambda: not any(fake.parked for fake in fakes.by_channel.values()))
        fakes.release()
        assert sum(fake.abandoned for fake in fakes.by_channel.values()) >= 1
        assert await outbox_counts(runtime, broadcast_id, "sending")  # claimed, in flight

        await leases_expired(runtime, broadcast_id)  # so the new worker takes them at once
        workers.append(start_worker(environment, tmp_path / "second.log"))
        await wait_done(runtime, broadcast_id, timeout=120, tick=False)
        assert delivery_problems(fakes, people) == []
        assert await report_problems(runtime, broadcast_id, people) == []
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        await runtime.close()
        if database == "postgresql":
            await drop_postgres_database(url)


LEASE_SECONDS = 8.0  # longer than a claimed batch takes to send, even paced and retried


def worker_environment(fields: dict[str, Any]) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("TRYGG_")}
    return {**inherited, **{f"TRYGG_{key.upper()}": str(value) for key, value in fields.items()}}


def start_worker(environment: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [trygg_command(), "worker"], env=environment, stdin=subprocess.DEVNULL,
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def trygg_command() -> str:
    beside_python = Path(sys.executable).parent / "trygg"
    return str(beside_python if beside_python.exists() else shutil.which("trygg") or "trygg")


async def recorded(runtime: Runtime, broadcast_id: int, fakes: Fakes) -> None:
    """Until every send a provider accepted is recorded as sent."""
    for _ in range(600):
        sent = await outbox_counts(runtime, broadcast_id, "sent")
        if all(sent.get(channel, 0) == count for channel, count in fakes.accepted().items()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"accepted {fakes.accepted()}, recorded {sent}")


async def leases_expired(runtime: Runtime, broadcast_id: int) -> None:
    query = select(func.max(OutboxMessage.lease_until)).where(
        OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == "sending"
    )
    async with runtime.database.sessions() as session:
        until = (await session.execute(query)).scalar_one()
    if until is not None:
        until = until if until.tzinfo else until.replace(tzinfo=dt.UTC)  # SQLite: naive UTC
        await asyncio.sleep(max(0.0, (until - runtime.clock()).total_seconds()) + 0.2)


async def fresh_postgres_database(server_url: str) -> str:
    """A database of its own: the worker process cannot be given a test schema."""
    name = "trygg_kill_" + uuid.uuid4().hex[:10]
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f"CREATE DATABASE {name}"))
    await engine.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


async def drop_postgres_database(url: str) -> None:
    parsed = make_url(url)
    engine = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with engine.connect() as connection:
        await connection.execute(text(f"DROP DATABASE IF EXISTS {parsed.database} WITH (FORCE)"))
    await engine.dispose()

"""``Database.reading()``: a long read (a dashboard page, an export) is one snapshot, and
on SQLite it does not hold the write lock, so incoming messages are stored meanwhile."""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import func, select

from storage import repositories as repo
from storage.models import AuditEntry
from trygg.service.runtime import Runtime

WHEN = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


async def entries(runtime: Runtime) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count(AuditEntry.id)))).scalar_one())


async def write_one(runtime: Runtime) -> None:
    async with runtime.database.sessions() as session, session.begin():
        await repo.audit(session, "test", "written", {}, WHEN)


async def test_a_write_goes_through_while_a_read_is_open(runtime: Runtime) -> None:
    await write_one(runtime)
    async with runtime.database.reading() as reader:
        count = select(func.count(AuditEntry.id))
        before = int((await reader.execute(count)).scalar_one())
        # An IMMEDIATE read on SQLite would hold the write lock: this would wait for the
        # 30 s busy timeout and fail with "database is locked" (the limit only stops a
        # hang from hanging the suite).
        await asyncio.wait_for(write_one(runtime), timeout=20)
        again = int((await reader.execute(count)).scalar_one())
    assert before == again == 1  # one snapshot: the reader does not see the new row
    assert await entries(runtime) == 2

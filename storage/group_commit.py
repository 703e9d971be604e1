"""Group commit for SQLite: the writers of one process share a transaction, each in a
savepoint of its own, and the transaction commits once for all of them.

SQLite has a single writer, and with ``synchronous=FULL`` each commit waits for an fsync
(about 4.5 ms on our disks). One transaction per incoming message makes that fsync the
ceiling of the whole service, paid while every other writer waits. Here, writers that
arrive while one is busy join its transaction instead of queueing for a transaction of
their own; the last writer in line (or the one that fills the batch) commits, and every
writer of the batch returns only after that commit. So a webhook is still acknowledged
only once its changes are durable, and a writer that fails rolls back its savepoint, not
the others' work. If the commit itself fails, every writer of the batch gets the error,
and nothing of any of them was stored: each provider retries its own message.

PostgreSQL does not use this: its concurrent commits already share WAL flushes, and a
transaction holding many people's row locks could deadlock against another process's.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# A batch takes no more writers once it has this many, or once it has been open this long.
# Each writer waits for the ones after it, so these bound the latency a batch adds, while
# a handful of writers per commit already makes the fsync a small part of each one's cost.
MAX_BATCH = 16
MAX_BATCH_SECONDS = 0.015


@dataclass
class _Batch:
    session: AsyncSession
    committed: asyncio.Future[None]
    opened_at: float
    writers: int = 0
    broken: BaseException | None = None  # a savepoint failed: the transaction is unusable


class GroupCommit:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_batch: int = MAX_BATCH,
        max_seconds: float = MAX_BATCH_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._max_seconds = max_seconds
        self._lock = asyncio.Lock()
        self._queued = 0  # writers waiting for the lock: they will join the open batch
        self._batch: _Batch | None = None
        self._ending: set[asyncio.Task[None]] = set()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A savepoint in the shared transaction; returns once the transaction committed."""
        self._queued += 1
        try:
            await self._lock.acquire()
        finally:
            self._queued -= 1
        try:
            batch = await self._join()
        except BaseException:
            self._lock.release()
            raise
        try:
            savepoint = await batch.session.begin_nested()
        except BaseException as error:
            batch.broken = error
            await self._hand_over(batch)
            raise
        try:
            yield batch.session
        except BaseException:
            try:
                await savepoint.rollback()  # this writer's changes only
            except BaseException as error:
                batch.broken = batch.broken or error
            await self._hand_over(batch)
            raise
        try:
            await savepoint.commit()  # RELEASE: kept until the batch commits
        except BaseException as error:
            batch.broken = error
            await self._hand_over(batch)
            raise
        await self._hand_over(batch)
        # shield: a cancelled request must not cancel the outcome the others wait for
        await asyncio.shield(batch.committed)

    async def _join(self) -> _Batch:
        if self._batch is None:
            session = self._sessions()
            try:
                await session.begin()
                await session.connection()  # BEGIN IMMEDIATE: take the write lock now
            except BaseException:
                await session.close()
                raise
            loop = asyncio.get_running_loop()
            self._batch = _Batch(session, loop.create_future(), loop.time())
        self._batch.writers += 1
        return self._batch

    async def _hand_over(self, batch: _Batch) -> None:
        """Let the next writer in: into this transaction while writers queue (up to the
        batch's size), otherwise after committing it. The lock stays held through the
        commit, so the next batch begins after it, as SQLite's own lock would have it."""
        if self._queued and batch.broken is None and not self._full(batch):
            self._lock.release()
            return
        self._batch = None
        # The commit runs to its end even if this writer's request is cancelled.
        ending = asyncio.create_task(self._end(batch))
        self._ending.add(ending)
        ending.add_done_callback(self._ending.discard)
        await asyncio.shield(ending)

    def _full(self, batch: _Batch) -> bool:
        age = asyncio.get_running_loop().time() - batch.opened_at
        return batch.writers >= self._max_batch or age >= self._max_seconds

    async def _end(self, batch: _Batch) -> None:
        try:
            if batch.broken is not None:
                await batch.session.rollback()
                failure = RuntimeError("a savepoint of this group commit failed")
                failure.__cause__ = batch.broken
                batch.committed.set_exception(failure)
            else:
                await batch.session.commit()
                batch.committed.set_result(None)
        except BaseException as error:
            if not batch.committed.done():
                batch.committed.set_exception(error)
            # SQLite may keep the transaction open after a failed COMMIT (a deferred
            # constraint, a full disk), and the session cannot roll it back from here:
            # close the connection itself, which discards the transaction with it.
            await batch.session.invalidate()
        finally:
            # Retrieved here: a writer that raised on its own does not wait for it.
            if batch.committed.done() and not batch.committed.cancelled():
                batch.committed.exception()
            try:
                await batch.session.close()
            finally:
                self._lock.release()

"""Group commit on SQLite (storage/group_commit.py): writers that arrive together share one
transaction and one commit, each returns only once that commit is durable, a writer that
fails loses only its own changes, and a failed commit loses everyone's, never half."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError

from storage.database import Database, open_database
from storage.group_commit import GroupCommit


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'group.db'}")
    async with database.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        # Checked at COMMIT, not at the statement: a way to make a real commit fail.
        await connection.execute(
            text(
                "CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER "
                "REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
            )
        )
    yield database
    await database.dispose()


def commits_of(database: Database) -> list[int]:
    commits: list[int] = []

    @event.listens_for(database.engine.sync_engine, "commit")
    def counted(_connection: Any) -> None:
        commits.append(1)

    return commits


def stored(database: Database, table: str = "parent") -> set[int]:
    """What another connection sees: only what was committed."""
    path = database.engine.url.database
    assert path is not None
    with closing(sqlite3.connect(path)) as connection:
        return {row[0] for row in connection.execute(f"SELECT id FROM {table}")}


def patient(database: Database, **limits: Any) -> None:
    """Batches that do not close by age, so a test decides who arrives together."""
    database.group_commit = GroupCommit(database.sessions, **({"max_seconds": 60.0} | limits))


async def insert(database: Database, row: int, *, hold: float = 0.0, fail: bool = False) -> None:
    async with database.writing() as session:
        await session.execute(text("INSERT INTO parent (id) VALUES (:id)"), {"id": row})
        await asyncio.sleep(hold)  # the others queue meanwhile
        if fail:
            raise ValueError(f"writer {row} failed")


async def test_writers_that_arrive_together_share_one_commit(database: Database) -> None:
    patient(database)
    commits = commits_of(database)
    await asyncio.gather(*(insert(database, row, hold=0.01) for row in range(10)))
    assert stored(database) == set(range(10))
    # One transaction per writer would be 10 commits (and 10 fsyncs).
    assert len(commits) == 1


async def test_a_batch_is_bounded_by_size_and_by_age(database: Database) -> None:
    patient(database, max_batch=3)
    commits = commits_of(database)
    await asyncio.gather(*(insert(database, row, hold=0.01) for row in range(9)))
    assert len(commits) == 3
    database.group_commit = GroupCommit(database.sessions, max_seconds=0.0)
    await asyncio.gather(*(insert(database, row, hold=0.01) for row in range(10, 14)))
    assert len(commits) == 3 + 4  # every batch was already too old for the next writer
    assert stored(database) == set(range(9)) | set(range(10, 14))


async def test_a_writer_returns_only_after_its_batch_is_committed(database: Database) -> None:
    patient(database)
    seen_when_first_returned: set[int] = set()

    async def first() -> None:
        await insert(database, 1, hold=0.01)
        seen_when_first_returned.update(stored(database))

    # The second writer joins the first's transaction and is still working when the first
    # is done with its part: the first must wait for the shared commit to acknowledge.
    await asyncio.gather(first(), insert(database, 2, hold=0.05))
    assert seen_when_first_returned == {1, 2}


async def test_a_failing_writer_loses_only_its_own_changes(database: Database) -> None:
    patient(database)
    commits = commits_of(database)
    outcomes = await asyncio.gather(
        insert(database, 1, hold=0.01),
        insert(database, 2, hold=0.01, fail=True),
        insert(database, 3, hold=0.01),
        return_exceptions=True,
    )
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], ValueError)
    assert stored(database) == {1, 3}
    assert len(commits) == 1


async def test_a_failed_commit_fails_every_writer_of_the_batch(database: Database) -> None:
    patient(database)

    async def orphan() -> None:
        async with database.writing() as session:
            await session.execute(text("INSERT INTO child (id, parent_id) VALUES (1, 404)"))
            await asyncio.sleep(0.01)

    outcomes = await asyncio.gather(
        insert(database, 1, hold=0.01), orphan(), insert(database, 3), return_exceptions=True
    )
    # The orphan's foreign key is checked at COMMIT: the whole batch is refused, and each
    # writer says so (its webhook answers 5xx and the provider retries it).
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes), outcomes
    assert stored(database) == set()
    assert stored(database, "child") == set()
    await insert(database, 4)  # the next batch starts clean
    assert stored(database) == {4}


async def test_a_cancelled_writer_does_not_undo_the_others(database: Database) -> None:
    patient(database)
    second_started = asyncio.Event()

    async def second() -> None:
        async with database.writing() as session:
            second_started.set()
            await session.execute(text("INSERT INTO parent (id) VALUES (2)"))
            await asyncio.sleep(0.05)

    first = asyncio.create_task(insert(database, 1, hold=0.01))
    other = asyncio.create_task(second())
    await second_started.wait()
    first.cancel()  # its request went away while it waited for the shared commit
    await other
    with pytest.raises(asyncio.CancelledError):
        await first
    # Its changes were already part of the batch, which committed for the second writer.
    assert stored(database) == {1, 2}


async def test_postgresql_has_no_group_commit(tmp_path: Path) -> None:
    database = open_database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    assert database.group_commit is None  # one transaction per writer (see the module)
    await database.dispose()

"""Engines for SQLite (embedded default) and PostgreSQL (production), and migrations.

SQLite runs in WAL mode, so readers never wait for the writer, and every transaction
begins IMMEDIATE: it takes the write lock up front, so two transactions on one contact
queue instead of failing part-way with "database is locked". Long reads (the dashboard,
exports) use ``Database.reading()`` instead: a deferred transaction on SQLite, which is a
WAL snapshot that never holds the write lock, so incoming messages do not wait for a
report; one REPEATABLE READ snapshot on PostgreSQL, so the tables of a page add up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.group_commit import GroupCommit

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
READ_ONLY = "trygg_read_only"  # an execution option: begin SQLite's transaction DEFERRED


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    # SQLite has one writer at a time. This process's writers share one transaction and
    # one commit (see group_commit.py) instead of each waiting for the lock, which SQLite's
    # busy handler polls in sleeps of up to 100 ms, and then for its own fsync. (Other
    # processes still meet at SQLite's lock.) None on PostgreSQL.
    group_commit: GroupCommit | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A write transaction, committed at the end (rolled back on an exception). On
        SQLite, a savepoint in a transaction shared with this process's other writers."""
        if self.group_commit is not None:
            async with self.group_commit.writing() as session:
                yield session
            return
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for reading only, every query in it from one snapshot."""
        async with self.sessions() as session:
            options = (
                {READ_ONLY: True} if self.is_sqlite else {"isolation_level": "REPEATABLE READ"}
            )
            await session.connection(execution_options=options)
            yield session


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database:
        return None
    return Path(parsed.database)


def open_database(url: str, *, echo: bool = False, schema: str | None = None) -> Database:
    """``schema`` (PostgreSQL) puts every table in that schema: tests use one each."""
    parsed = make_url(url)
    options: dict[str, Any] = {"echo": echo}
    if parsed.drivername.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    else:
        options.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
        if schema is not None:
            options["connect_args"] = {"server_settings": {"search_path": schema}}
    engine = create_async_engine(url, **options)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    if engine.dialect.name != "sqlite":
        return Database(url, engine, sessions)
    return Database(url, engine, sessions, GroupCommit(sessions))


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below own transactions (pysqlite's own BEGIN is
        # deferred, which turns lock upgrades into SQLITE_BUSY errors).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged answer survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection: Connection) -> None:
        reading = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def migrate(database: Database) -> None:
    """Bring the schema to the newest migration. Safe to run at every start."""

    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with database.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several processes may start at once; one migrates, the others wait for it.
            await connection.execute(text("SELECT pg_advisory_xact_lock(774411)"))
        await connection.run_sync(upgrade)


def migrate_blocking(url: str) -> None:
    async def run() -> None:
        database = open_database(url)
        try:
            await migrate(database)
        finally:
            await database.dispose()

    asyncio.run(run())

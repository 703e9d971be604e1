"""Building a real runtime (flows, database, vault) on SQLite or PostgreSQL for tests."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from storage.database import migrate, open_database
from storage.models import Base
from trygg.service.runtime import Runtime, build_runtime
from trygg.settings import Settings

SECRET = "test-secret-key-0123456789abcdef"


class Clock:
    """A clock tests can move; starts at a fixed, timezone-aware moment."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / ('trygg-' + uuid.uuid4().hex[:8] + '.db')}"


async def make_runtime(
    url: str, clock: Callable[[], dt.datetime] | None = None, **settings_fields: object
) -> Runtime:
    settings = Settings(database_url=url, secret_key=SECRET, **settings_fields)  # type: ignore[arg-type]
    runtime = build_runtime(settings, clock=clock or Clock())
    if runtime.database.engine.dialect.name == "postgresql":
        # One database serves every test (and every run at once): each test gets a schema.
        schema = "test_" + uuid.uuid4().hex[:12]
        async with runtime.database.engine.begin() as connection:
            await connection.execute(text(f"CREATE SCHEMA {schema}"))
        await runtime.database.dispose()
        runtime.database = open_database(url, schema=schema)
        runtime.test_schema = schema  # type: ignore[attr-defined]
    await migrate(runtime.database)
    return runtime


async def drop_runtime(runtime: Runtime) -> None:
    schema = getattr(runtime, "test_schema", None)
    if schema is not None:
        async with runtime.database.engine.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    await runtime.close()


__all__ = ["SECRET", "Base", "Clock", "drop_runtime", "make_runtime", "sqlite_url"]

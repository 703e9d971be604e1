"""The migrations build exactly the schema the models describe, on both databases, so a
hand-written migration cannot drift from ``storage/models.py``."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.models import Base
from trygg.service.runtime import Runtime


def differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_schemas": False}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_the_migrated_schema_matches_the_models(runtime: Runtime) -> None:
    # The ``runtime`` fixture has run every migration (on PostgreSQL, in its own schema).
    async with runtime.database.engine.connect() as connection:
        found = await connection.run_sync(differences)
    assert found == []

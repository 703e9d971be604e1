"""The throwaway PostgreSQL cluster from scripts/postgres-cluster is there and usable."""

from __future__ import annotations

import uuid

import asyncpg


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def test_postgres_15_accepts_tables(postgres_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(postgres_url), timeout=30)
    try:
        version = await conn.fetchval("SELECT version()")
        assert "PostgreSQL 15" in version
        assert await conn.fetchval("SHOW server_encoding") == "UTF8"

        table = f"cluster_check_{uuid.uuid4().hex[:12]}"
        await conn.execute(f"CREATE TABLE {table} (id integer PRIMARY KEY, name text NOT NULL)")
        await conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", 1, "Åsa Öberg")
        assert await conn.fetchval(f"SELECT name FROM {table} WHERE id = 1") == "Åsa Öberg"
        await conn.execute(f"DROP TABLE {table}")
        assert await conn.fetchval("SELECT to_regclass($1)", table) is None
    finally:
        await conn.close()

"""Fast bulk seeding of respondents, answers, contacts and dialogs (``people.py``).

A million respondents are about 12 million answer rows: the service's own inserts would
take hours, so this writes straight to the tables, with PostgreSQL ``COPY``
(asyncpg ``copy_records_to_table``) and, on SQLite, ``executemany`` in big transactions
with durability off for this connection only (the seed is not what is measured, and the
app's own connections set ``synchronous=FULL`` again). The indexes stay in place while
seeding, so the database ends as the app would have left it.

``seed(url, n)`` adds ``n`` respondents to what is there, so a run grows one database
0 -> 100 000 -> 1 000 000 instead of seeding three. PostgreSQL is vacuumed, analysed and
checkpointed afterwards, as autovacuum and the checkpointer would have done some minutes
later in production; SQLite's WAL is checkpointed, but it is not analysed, because the
app never runs ANALYZE there and its plans must be the ones production gets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

from benchmarks.scale.people import Rows, make_rows
from storage.crypto import AddressVault
from storage.database import migrate, open_database, sqlite_path

SECRET = "benchmark-secret-key-0123456789abcdef"  # also the served processes' key
BATCH = 20_000  # respondents per transaction: about 240 000 answers
COLUMNS = {
    "respondents": ("id", "campaign_id", "flow_id", "flow_version", "channel", "language",
                    "source", "started_at", "completed_at", "ended_at", "status", "last_step"),
    "answers": ("respondent_id", "question_id", "value", "answered_at"),
    "contacts": ("id", "channel", "address_hash", "address_enc", "campaign_id", "source",
                 "language", "feedback_wanted", "unreachable", "last_inbound_at", "created_at",
                 "ended_state"),
    "dialogs": ("contact_id", "respondent_id", "state", "updated_at"),
}  # fmt: skip
JSON_COLUMN = {"answers": 2, "contacts": 11, "dialogs": 2}


@dataclass(frozen=True)
class SeedReport:
    respondents: int  # added
    answers: int
    contacts: int
    seconds: float
    total_respondents: int  # in the database afterwards


def seed(database_url: str, respondents: int, *, end: dt.datetime | None = None) -> SeedReport:
    """Add ``respondents`` Karlslund respondents (migrating the database first)."""
    return asyncio.run(seed_async(database_url, respondents, end=end))


async def seed_async(
    database_url: str, respondents: int, *, end: dt.datetime | None = None
) -> SeedReport:
    database = open_database(database_url)
    try:
        await migrate(database)
    finally:
        await database.dispose()
    end = end or dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)
    vault = AddressVault(SECRET)
    # A pool of real ciphertexts: the rows are the size the app's are, and decrypt.
    encrypted = [vault.encrypt(f"+4670{number:07d}") for number in range(256)]
    started = time.monotonic()
    if make_url(database_url).drivername.startswith("sqlite"):
        counts = _seed_sqlite(database_url, respondents, end, encrypted)
    else:
        counts = await _seed_postgres(database_url, respondents, end, encrypted)
    return SeedReport(respondents, counts[1], counts[2], time.monotonic() - started, counts[0])


def _batches(
    count: int, existing: int, first_contact: int, end: dt.datetime, encrypted: list[str]
) -> Iterator[Rows]:
    done = 0
    while done < count:
        size = min(BATCH, count - done)
        rows = make_rows(
            size, offset=existing + done, end=end, encrypted=encrypted,
            first_contact_id=first_contact,
        )  # fmt: skip
        first_contact += len(rows.contacts)
        done += size
        yield rows


def _tables(rows: Rows) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "respondents": rows.respondents,
        "answers": rows.answers,
        "contacts": rows.contacts,
        "dialogs": rows.dialogs,
    }


# -- SQLite --------------------------------------------------------------------------------


def _sqlite_value(value: Any) -> Any:
    """What SQLAlchemy would store: naive UTC text with microseconds, JSON as text."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return int(value)
    return value


def _seed_sqlite(
    url: str, count: int, end: dt.datetime, encrypted: list[str]
) -> tuple[int, int, int]:
    path = sqlite_path(url)
    if path is None:
        raise ValueError(f"not a SQLite file: {url}")
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA synchronous=OFF")  # this connection only
        connection.execute("PRAGMA cache_size=-512000")  # 500 MiB: the indexes stay in it
        existing = connection.execute("SELECT count(*) FROM respondents").fetchone()[0]
        first = connection.execute("SELECT coalesce(max(id), 0) + 1 FROM contacts").fetchone()[0]
        answers = contacts = 0
        for rows in _batches(count, existing, first, end, encrypted):
            connection.execute("BEGIN")
            for table, records in _tables(rows).items():
                names = COLUMNS[table]
                statement = (
                    f"INSERT INTO {table} ({', '.join(names)}) "
                    f"VALUES ({', '.join('?' for _ in names)})"
                )
                connection.executemany(
                    statement, ([_sqlite_value(v) for v in record] for record in records)
                )
            connection.execute("COMMIT")
            answers += len(rows.answers)
            contacts += len(rows.contacts)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return existing + count, answers, contacts
    finally:
        connection.close()


# -- PostgreSQL ----------------------------------------------------------------------------


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL as libpq/asyncpg take it."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_record(table: str, record: tuple[Any, ...]) -> tuple[Any, ...]:
    position = JSON_COLUMN.get(table)
    if position is None or record[position] is None:
        return record
    # The column is JSON (not JSONB): its text is kept as given, and SQLAlchemy's is
    # json.dumps; the dashboard groups answers by that text.
    return (*record[:position], json.dumps(record[position]), *record[position + 1 :])


async def _seed_postgres(
    url: str, count: int, end: dt.datetime, encrypted: list[str]
) -> tuple[int, int, int]:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        existing = await connection.fetchval("SELECT count(*) FROM respondents")
        first = await connection.fetchval("SELECT coalesce(max(id), 0) + 1 FROM contacts")
        answers = contacts = 0
        for rows in _batches(count, existing, first, end, encrypted):
            async with connection.transaction():
                for table, records in _tables(rows).items():
                    if records:
                        await connection.copy_records_to_table(
                            table,
                            records=[_postgres_record(table, r) for r in records],
                            columns=COLUMNS[table],
                        )
            answers += len(rows.answers)
            contacts += len(rows.contacts)
        # The ids were given explicitly: the sequence must continue after them.
        await connection.execute(
            "SELECT setval(pg_get_serial_sequence('contacts', 'id'), "
            "(SELECT coalesce(max(id), 1) FROM contacts))"
        )
        # What a database that has been running a while is like: statistics, the
        # visibility map and hint bits set, and the bulk load's pages written out. Without
        # this, the autovacuum and checkpoint the load sets off run during the measurement.
        await connection.execute("VACUUM (ANALYZE)")
        await connection.execute("CHECKPOINT")
        return existing + count, answers, contacts
    finally:
        await connection.close()

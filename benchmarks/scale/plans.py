"""Query plans of the inbound path's and the dashboard's queries, checked for full scans.

The statements are the ones the code runs (compiled from the same SQLAlchemy queries
where they are importable, otherwise written out as the repositories build them), with
sample values from the seeded rows. A plan "scans" when SQLite says ``SCAN <table>``
without an index, or PostgreSQL shows a ``Seq Scan``, on a table of at least
``SMALL_TABLE`` rows. The
dashboard's counts read a campaign's every respondent by design (a GROUP BY over them);
their plans are reported, and a full scan there is expected rather than a fault.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import open_database

# The inbound path, one message (storage/repositories.py, storage/outbox.py).
INBOUND = {
    "claim_delivery": "INSERT INTO inbound_keys (channel, delivery_id, received_at) "
    "VALUES ('telegram', 'bench-plan', CURRENT_TIMESTAMP) ON CONFLICT DO NOTHING",
    "find_contact": "SELECT * FROM contacts WHERE channel = :channel AND address_hash = :hash",
    "get_dialog": "SELECT * FROM dialogs WHERE contact_id = :contact",
    "get respondent": "SELECT * FROM respondents WHERE id = :respondent",
    "save_answer": "INSERT INTO answers (respondent_id, question_id, value, answered_at) "
    "VALUES (:respondent, 'more', '{\"v\": \"x\"}', CURRENT_TIMESTAMP) "
    "ON CONFLICT (respondent_id, question_id) DO UPDATE SET value = excluded.value",
    "outbox claim": "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= "
    "CURRENT_TIMESTAMP AND channel IN ('telegram', 'sms') AND NOT EXISTS (SELECT 1 FROM "
    "outbox AS e WHERE e.recipient_key = outbox.recipient_key AND e.id < outbox.id AND "
    "e.status IN ('pending', 'sending', 'waiting') AND e.priority <= outbox.priority) "
    "ORDER BY priority, id LIMIT 20",
    # The reminder loop asks for dialogs idle longer than reminder_after (20 h).
    "idle dialogs (reminders)": "SELECT * FROM dialogs WHERE updated_at < {20 hours ago} "
    "ORDER BY updated_at LIMIT 500",
}
DASHBOARD = {
    "results: profile": "SELECT source, channel, language, status, count(*) FROM respondents "
    "WHERE campaign_id = 'karlslund' AND status != 'restarted' "
    "GROUP BY source, channel, language, status",
    "results: choices": "SELECT a.question_id, CAST(a.value AS TEXT), count(*) FROM answers a "
    "JOIN respondents r ON r.id = a.respondent_id WHERE r.campaign_id = 'karlslund' "
    "AND a.question_id IN ('where', 'told', 'place_1') GROUP BY 1, 2",
    "free text: first page": "SELECT a.respondent_id FROM answers a JOIN respondents r "
    "ON r.id = a.respondent_id WHERE r.campaign_id = 'karlslund' AND a.question_id IN "
    "('problems', 'more') ORDER BY a.answered_at DESC, a.respondent_id LIMIT 50",
}
AGO = {True: "datetime('now', '-20 hours')", False: "CURRENT_TIMESTAMP - interval '20 hours'"}
# A sequential scan of a small table is the right plan (the outbox is empty in this
# benchmark, the few live dialogs fit a page or two); only bigger ones count.
SMALL_TABLE = 10_000
SQLITE_SCAN = re.compile(r"\bSCAN (\w+)(?! USING (?:COVERING )?INDEX)")
POSTGRES_SCAN = re.compile(r"Seq Scan on (\w+)")


@dataclass(frozen=True)
class Plan:
    name: str
    inbound: bool
    scans: list[str]  # tables read in full
    plan: str


async def explain_all(database_url: str) -> list[Plan]:
    database = open_database(database_url)
    sqlite = database.is_sqlite
    plans = []
    try:
        async with database.engine.connect() as connection:
            sample = (
                await connection.execute(
                    text(
                        "SELECT c.channel, c.address_hash, d.contact_id, d.respondent_id "
                        "FROM dialogs d JOIN contacts c ON c.id = d.contact_id LIMIT 1"
                    )
                )
            ).first()
            values = {"channel": "sms", "hash": "0" * 64, "contact": 1, "respondent": "0" * 32}
            if sample is not None:
                values = dict(zip(values, sample, strict=True))
            for group, inbound in ((INBOUND, True), (DASHBOARD, False)):
                for name, template in group.items():
                    prefix = "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN "
                    sql = template.replace("{20 hours ago}", AGO[sqlite])
                    rows = await connection.execute(text(prefix + sql), values)
                    lines = [str(row[-1]) for row in rows]
                    found = (SQLITE_SCAN if sqlite else POSTGRES_SCAN).findall("\n".join(lines))
                    big = [t for t in set(found) if await _rows(connection, t) >= SMALL_TABLE]
                    plans.append(Plan(name, inbound, sorted(big), "\n".join(lines)))
            await connection.rollback()  # the EXPLAINed inserts ran nothing; be sure
    finally:
        await database.dispose()
    return plans


async def _rows(connection: AsyncConnection, table: str) -> int:
    if not table.isidentifier():
        return 0
    found = await connection.execute(text(f"SELECT count(*) FROM {table}"))
    return int(found.scalar_one())


def explain(database_url: str) -> list[Plan]:
    return asyncio.run(explain_all(database_url))

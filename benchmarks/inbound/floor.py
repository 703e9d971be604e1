"""The second reference: the same durable writes per message, through the bare driver.

Where ``bare.py`` is the ceiling of the HTTP stack, this is the floor of the work every
message needs on PostgreSQL: it parses the same bodies, then, in one transaction on our
real schema, runs the statements our inbound path runs for a person mid-questionnaire
(dedup key, opt-out lookup, the contact locked, the dialog, the reply in the outbox, the
respondent, the answer, and the three updates), as hand-written SQL on a plain asyncpg
pool, and answers 200 after the commit. It leaves out everything else: the signature
check, the provider's parser, the engine, encryption and SQLAlchemy. So ours against it
shows what our own layers cost, and it against ``bare`` what the database work costs.

``TRYGG_DATABASE_URL=postgresql+asyncpg://... python -m benchmarks.inbound.floor --port N``
(the database migrated first).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request, Response

POOL: dict[str, Any] = {}
STATE = json.dumps({"flow_id": "karlslund", "step": "where", "answers": {}})
REPLY = json.dumps({"text": "Var känner du dig otrygg?", "language": "sv", "options": []})


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    dsn = os.environ["TRYGG_DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://")
    POOL["pool"] = await asyncpg.create_pool(dsn, min_size=10, max_size=20)
    yield
    await POOL["pool"].close()


app = FastAPI(docs_url=None, redoc_url=None, lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> Response:
    return Response(status_code=200)


@app.post("/webhooks/telegram")
async def telegram(request: Request) -> Response:
    update = json.loads(await request.body())
    event = update.get("message") or update.get("callback_query") or {}
    await handle("telegram", str(update["update_id"]), str(event["from"]["id"]))
    return Response(status_code=200)


@app.post("/webhooks/sms")
async def sms(request: Request) -> Response:
    form = await request.form()
    fields = {key: value for key, value in form.multi_items() if isinstance(value, str)}
    await handle("sms", fields["MessageSid"], fields["From"])
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', 200)


@app.post("/webhooks/facebook")
async def facebook(request: Request) -> Response:
    event = json.loads(await request.body())["entry"][0]["messaging"][0]
    sender = str(event["sender"]["id"])
    delivery = (event.get("message") or {}).get("mid") or f"{sender}:{event['timestamp']}"
    await handle("facebook", delivery, sender)
    return Response("EVENT_RECEIVED", 200)


async def handle(channel: str, delivery_id: str, sender: str) -> None:
    """The statements of one answer, as our inbound path runs them (see the module)."""
    key = hashlib.sha256(f"{channel}\x00{sender}".encode()).hexdigest()
    async with POOL["pool"].acquire() as db, db.transaction():
        fresh = await db.execute(
            "INSERT INTO inbound_keys (channel, delivery_id, received_at) "
            "VALUES ($1, $2, now()) ON CONFLICT DO NOTHING",
            channel,
            delivery_id,
        )
        if fresh.endswith(" 0"):
            return  # a retry
        await db.fetchrow(
            "SELECT language, notified_at FROM opt_outs WHERE channel = $1 AND address_hash = $2",
            channel,
            key,
        )
        contact = await _contact(db, channel, key)
        dialog = await db.fetchrow(
            "SELECT respondent_id, state FROM dialogs WHERE contact_id = $1", contact
        )
        await db.execute(
            "INSERT INTO outbox (channel, recipient_key, address_enc, message, status, priority,"
            " attempts, next_attempt_at, created_at, window_opened_at) "
            "VALUES ($1, $2, $3, $4, 'pending', 0, 0, now(), now(), now())",
            channel,
            key,
            "x" * 100,  # an encrypted address is about this long
            REPLY,
        )
        if dialog is None:
            respondent = secrets.token_hex(16)
            await db.execute(
                "INSERT INTO respondents (id, campaign_id, flow_id, flow_version, channel,"
                " language, started_at, status) "
                "VALUES ($1, 'karlslund', 'karlslund', 1, $2, 'sv', now(), 'active')",
                respondent,
                channel,
            )
            await db.execute(
                "INSERT INTO dialogs (contact_id, respondent_id, state, updated_at) "
                "VALUES ($1, $2, $3, now())",
                contact,
                respondent,
                STATE,
            )
        else:
            respondent = dialog["respondent_id"]
        await db.fetchrow("SELECT status, ended_at FROM respondents WHERE id = $1", respondent)
        await db.execute(
            "INSERT INTO answers (respondent_id, question_id, value, answered_at) "
            "VALUES ($1, $2, $3, now()) ON CONFLICT (respondent_id, question_id) "
            "DO UPDATE SET value = excluded.value, answered_at = excluded.answered_at",
            respondent,
            delivery_id[-12:],  # a new question each time, as answers go forward
            json.dumps({"v": "green"}),
        )
        await db.execute(
            "UPDATE contacts SET last_inbound_at = now(), language = 'sv' WHERE id = $1", contact
        )
        await db.execute(
            "UPDATE dialogs SET state = $2, updated_at = now() WHERE contact_id = $1",
            contact,
            STATE,
        )
        await db.execute("UPDATE respondents SET last_step = $2 WHERE id = $1", respondent, "where")
        await db.execute(
            "UPDATE outbox SET status = 'pending', next_attempt_at = now() "
            "WHERE recipient_key = $1 AND status = 'waiting'",
            key,
        )


async def _contact(db: Any, channel: str, key: str) -> int:
    query = "SELECT id FROM contacts WHERE channel = $1 AND address_hash = $2 FOR UPDATE"
    found = await db.fetchval(query, channel, key)
    if found is not None:
        return int(found)
    await db.execute(
        "INSERT INTO contacts (channel, address_hash, campaign_id, language, feedback_wanted,"
        " unreachable, created_at) VALUES ($1, $2, 'karlslund', 'sv', false, false, now()) "
        "ON CONFLICT DO NOTHING",
        channel,
        key,
    )
    return int(await db.fetchval(query, channel, key))


def main(argv: list[str] | None = None) -> None:
    import uvicorn  # noqa: PLC0415

    parser = argparse.ArgumentParser(prog="python -m benchmarks.inbound.floor")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    options = parser.parse_args(argv)
    uvicorn.run(app, host=options.host, port=options.port, log_level="info")


if __name__ == "__main__":
    main()

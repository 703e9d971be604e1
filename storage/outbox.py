"""Claiming and finishing outbox messages, for one worker or several.

A worker claims due messages in one short transaction (``pending`` -> ``sending``, with a
lease), sends them outside any transaction, and records each outcome in another. On
PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several workers claim side by side without
taking the same row. A message is claimable only when no earlier message to the same
person is still unfinished, so each person's messages arrive in order.

A worker that dies between sending and recording leaves a ``sending`` row whose lease
runs out; it is tried again. The provider may then deliver it twice: the one case of
"at most once more" that no provider here lets us rule out (docs/operations.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import OutboxMessage

UNFINISHED = ("pending", "sending", "waiting")


@dataclass(frozen=True)
class Claimed:
    id: int
    channel: str
    recipient_key: str
    address_enc: str | None
    message: dict[str, Any]
    attempts: int
    priority: int


async def recover_expired_leases(session: AsyncSession, now: dt.datetime) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.lease_until < now)
        .values(status="pending", lease_until=None, next_attempt_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_due(
    session: AsyncSession,
    channels: Collection[str],
    now: dt.datetime,
    *,
    limit: int,
    lease: dt.timedelta,
) -> list[Claimed]:
    earlier = aliased(OutboxMessage)
    blocked = exists().where(
        earlier.recipient_key == OutboxMessage.recipient_key,
        earlier.id < OutboxMessage.id,
        earlier.status.in_(UNFINISHED),
    )
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(list(channels)),
            ~blocked,
        )
        .order_by(OutboxMessage.priority, OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=OutboxMessage)
    rows = (await session.execute(query)).scalars().all()
    claimed = []
    for row in rows:
        row.status = "sending"
        row.lease_until = now + lease
        row.attempts += 1
        claimed.append(
            Claimed(row.id, row.channel, row.recipient_key, row.address_enc, row.message,
                    row.attempts, row.priority)
        )  # fmt: skip
    return claimed


async def mark_sent(
    session: AsyncSession, message_id: int, provider_id: str | None, now: dt.datetime
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="sent", provider_message_id=provider_id, sent_at=now, address_enc=None,
                lease_until=None, last_error=None)
    )  # fmt: skip


async def mark_retry(
    session: AsyncSession, message_id: int, when: dt.datetime, error: str | None
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="pending", next_attempt_at=when, lease_until=None, last_error=error)
    )


async def mark_failed(session: AsyncSession, message_id: int, error: str | None) -> None:
    # Only a message this worker holds: one whose lease ran out may since have been sent
    # by another worker, and a late report must not undo that.
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="failed", address_enc=None, lease_until=None, last_error=error)
    )


async def mark_waiting(session: AsyncSession, message_id: int, error: str | None) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "sending")
        .values(status="waiting", lease_until=None, last_error=error)
    )


async def update_delivery_status(
    session: AsyncSession, provider_id: str, status: str, error: str | None = None
) -> bool:
    """A provider's later report (Twilio's status callback): delivered or undelivered."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.provider_message_id == provider_id)
        .values(status=status, last_error=error)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]

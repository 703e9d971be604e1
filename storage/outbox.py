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

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.broadcasts import DELIVERING
from storage.models import Broadcast, OutboxMessage

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
    window_opened_at: dt.datetime | None = None
    broadcast_id: int | None = None


async def recover_expired_leases(
    session: AsyncSession, now: dt.datetime, *, max_attempts: int = 8
) -> int:
    """Messages whose worker died mid-send go back to pending, unless they already used
    every attempt: a message that kills its worker each time must not do so forever."""
    expired = (OutboxMessage.status == "sending", OutboxMessage.lease_until < now)
    await session.execute(
        update(OutboxMessage)
        .where(*expired, OutboxMessage.attempts >= max_attempts)
        .values(status="failed", address_enc=None, lease_until=None,
                last_error="the worker stopped while sending, too many times")
    )  # fmt: skip
    result = await session.execute(
        update(OutboxMessage)
        .where(*expired)
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
    # In order per person, within a priority: a reply to a live dialog does not wait
    # behind the person's copy of a broadcast that sits far back in the bulk queue.
    blocked = exists().where(
        earlier.recipient_key == OutboxMessage.recipient_key,
        earlier.id < OutboxMessage.id,
        earlier.status.in_(UNFINISHED),
        earlier.priority <= OutboxMessage.priority,
    )
    # A paused (or not yet finished starting) broadcast's copies stay where they are.
    delivering = select(Broadcast.id).where(Broadcast.state.in_(DELIVERING))
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            OutboxMessage.channel.in_(list(channels)),
            or_(OutboxMessage.broadcast_id.is_(None), OutboxMessage.broadcast_id.in_(delivering)),
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
                    row.attempts, row.priority, row.window_opened_at, row.broadcast_id)
        )  # fmt: skip
    return claimed


def _held(message_id: int, attempts: int | None) -> tuple[Any, ...]:
    """The row this worker claimed: still sending, and (when given) still on the attempt
    it claimed. A worker whose lease ran out and reports late matches nothing, whatever
    the worker that took the message over has done with it since."""
    held = (OutboxMessage.id == message_id, OutboxMessage.status == "sending")
    return held if attempts is None else (*held, OutboxMessage.attempts == attempts)


async def mark_sent(
    session: AsyncSession,
    message_id: int,
    provider_id: str | None,
    now: dt.datetime,
    *,
    attempts: int | None = None,
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(*_held(message_id, attempts))
        .values(status="sent", provider_message_id=provider_id, sent_at=now, address_enc=None,
                lease_until=None, last_error=None)
    )  # fmt: skip


async def mark_retry(
    session: AsyncSession,
    message_id: int,
    when: dt.datetime,
    error: str | None,
    *,
    attempts: int | None = None,
) -> None:
    await session.execute(
        update(OutboxMessage)
        .where(*_held(message_id, attempts))
        .values(status="pending", next_attempt_at=when, lease_until=None, last_error=error)
    )


async def mark_failed(
    session: AsyncSession, message_id: int, error: str | None, *, attempts: int | None = None
) -> None:
    # Only a message this worker holds: one whose lease ran out may since have been sent
    # by another worker, and a late report must not undo that.
    await session.execute(
        update(OutboxMessage)
        .where(*_held(message_id, attempts))
        .values(status="failed", address_enc=None, lease_until=None, last_error=error)
    )


async def mark_waiting(
    session: AsyncSession, message_id: int, error: str | None, *, attempts: int | None = None
) -> None:
    # Held for a closed messaging window is not a failed attempt: give the attempt back.
    await session.execute(
        update(OutboxMessage)
        .where(*_held(message_id, attempts))
        .values(
            status="waiting",
            lease_until=None,
            last_error=error,
            attempts=OutboxMessage.attempts - 1,
        )
    )


async def update_delivery_status(
    session: AsyncSession,
    provider_id: str,
    status: str,
    error: str | None = None,
    *,
    channel: str | None = None,
) -> bool:
    """A provider's later report (Twilio's status callback): delivered or undelivered.
    Pass ``channel`` where provider ids are unique only within it."""
    conditions = [OutboxMessage.provider_message_id == provider_id]
    if channel is not None:
        conditions.append(OutboxMessage.channel == channel)
    result = await session.execute(
        update(OutboxMessage).where(*conditions).values(status=status, last_error=error)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]

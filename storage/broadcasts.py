"""Broadcasts (återkoppling) in the database: the audience, the copies, the counts.

A broadcast's copies are ordinary outbox rows carrying its id, so they share the
worker's pacing, retries, leases and messaging windows with everything else. They are
written in the same transaction that moves the broadcast to ``sending``: the audience is
fixed at that moment, all or nothing, and a unique index keeps it to one copy a person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import opt_outs
from storage.models import Broadcast, Contact, OutboxMessage

# Where a broadcast's copies may be claimed by the worker. "done" too: a copy that waited
# for a closed messaging window still goes when the person writes again.
DELIVERING = ("sending", "done")
# Where RESULTAT finds the latest återkoppling: sending started, so it is public.
PUBLISHED = ("sending", "paused", "done")
INSERT_CHUNK = 1000
# Why a copy was not sent (the outbox row's last_error), as its report shows it.
OPTED_OUT = "opted out"
ERASED = "erased"
UNREACHABLE = "unreachable: blocked the bot or opted out at the provider"
CANCELLED = "broadcast cancelled"


@dataclass(frozen=True)
class Recipient:
    channel: str
    address_hash: str
    address_enc: str
    language: str
    source: str | None


@dataclass(frozen=True)
class CountRow:
    channel: str
    language: str
    status: str
    reason: str | None
    count: int


async def get(session: AsyncSession, broadcast_id: int, *, lock: bool = False) -> Broadcast | None:
    return await session.get(
        Broadcast, broadcast_id, with_for_update=lock or None, populate_existing=True
    )


async def listed(session: AsyncSession, campaign_id: str | None = None) -> Sequence[Broadcast]:
    query = select(Broadcast).order_by(Broadcast.id.desc())
    if campaign_id is not None:
        query = query.where(Broadcast.campaign_id == campaign_id)
    return (await session.execute(query)).scalars().all()


async def audience(
    session: AsyncSession,
    campaign_id: str,
    *,
    channels: Iterable[str],
    sources: Sequence[str] = (),
    languages: Sequence[str] = (),
) -> list[Recipient]:
    """Everyone who asked for the campaign's återkoppling and can still be reached on one
    of these channels, minus the opt-out list (checked again, whatever the contact says)."""
    query = (
        select(Contact)
        .where(
            Contact.campaign_id == campaign_id,
            Contact.feedback_wanted.is_(True),
            Contact.unreachable.is_(False),
            Contact.address_enc.is_not(None),
            Contact.channel.in_(list(channels)),
        )
        .order_by(Contact.id)
    )
    if sources:
        query = query.where(Contact.source.in_(list(sources)))
    if languages:
        query = query.where(Contact.language.in_(list(languages)))
    contacts = (await session.execute(query)).scalars().all()
    by_channel: dict[str, list[str]] = {}
    for contact in contacts:
        by_channel.setdefault(contact.channel, []).append(contact.address_hash)
    suppressed = {
        (channel, key)
        for channel, keys in by_channel.items()
        for key in await opt_outs.suppressed_among(session, channel, keys)
    }
    return [
        Recipient(c.channel, c.address_hash, c.address_enc, c.language, c.source)
        for c in contacts
        if c.address_enc is not None and (c.channel, c.address_hash) not in suppressed
    ]


async def claim_for_sending(
    session: AsyncSession, broadcast_id: int, from_states: Sequence[str], now: dt.datetime
) -> bool:
    """Move the broadcast to ``sending``; False when another process already did, or it
    is in a state that cannot start. This UPDATE is what makes the fan-out happen once."""
    result = await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.state.in_(list(from_states)))
        .values(state="sending", started_at=now, scheduled_at=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def add_copies(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert outbox rows for a broadcast, in chunks (one statement each, executemany)."""
    for start in range(0, len(rows), INSERT_CHUNK):
        await session.execute(insert(OutboxMessage), list(rows[start : start + INSERT_CHUNK]))


async def cancel_copies(session: AsyncSession, broadcast_id: int, reason: str) -> int:
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.broadcast_id == broadcast_id,
            OutboxMessage.status.in_(("pending", "waiting")),
        )
        .values(status="cancelled", address_enc=None, last_error=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def counts(session: AsyncSession, broadcast_id: int) -> list[CountRow]:
    query = (
        select(
            OutboxMessage.channel,
            OutboxMessage.language,
            OutboxMessage.status,
            OutboxMessage.last_error,
            func.count(),
        )
        .where(OutboxMessage.broadcast_id == broadcast_id)
        .group_by(
            OutboxMessage.channel,
            OutboxMessage.language,
            OutboxMessage.status,
            OutboxMessage.last_error,
        )
    )
    rows = (await session.execute(query)).all()
    return [
        CountRow(channel, language or "", status, reason, int(count))
        for channel, language, status, reason, count in rows
    ]


async def unfinished(session: AsyncSession, broadcast_id: int) -> int:
    """Copies still to go out now (a copy waiting for a messaging window is not one)."""
    query = select(func.count()).where(
        OutboxMessage.broadcast_id == broadcast_id,
        OutboxMessage.status.in_(("pending", "sending")),
    )
    return int((await session.execute(query)).scalar_one())


async def in_state(session: AsyncSession, state: str) -> Sequence[Broadcast]:
    query = select(Broadcast).where(Broadcast.state == state).order_by(Broadcast.id)
    return (await session.execute(query)).scalars().all()


async def latest_published(session: AsyncSession, campaign_id: str) -> Broadcast | None:
    query = (
        select(Broadcast)
        .where(Broadcast.campaign_id == campaign_id, Broadcast.state.in_(PUBLISHED))
        .order_by(Broadcast.started_at.desc(), Broadcast.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def web_inbox(session: AsyncSession, recipient_key: str) -> Sequence[OutboxMessage]:
    """Broadcast copies for a web chat visitor that their page has not shown yet."""
    query = (
        select(OutboxMessage)
        .where(
            OutboxMessage.channel == "web",
            OutboxMessage.recipient_key == recipient_key,
            OutboxMessage.broadcast_id.is_not(None),
            OutboxMessage.status == "sent",
        )
        .order_by(OutboxMessage.id)
    )
    return (await session.execute(query)).scalars().all()

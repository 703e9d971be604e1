"""Repository functions over one ``AsyncSession``. The caller owns the transaction.

They are small and explicit so the inbound path reads as the list of steps it is, and so
one contract test suite can run every function against SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
    AnswerTag,
    AuditEntry,
    Contact,
    Dialog,
    FlowSnapshot,
    InboundKey,
    OutboxMessage,
    Respondent,
)

ACTIVE_OUTBOX = ("pending", "sending", "waiting")


def dialect_insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def in_chunks(values: Sequence[str], size: int = 500) -> list[Sequence[str]]:
    """A long ``IN (...)`` list in parts, within every database's parameter limit."""
    return [values[start : start + size] for start in range(0, len(values), size)]


def _is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


# -- inbound dedup -------------------------------------------------------------------------


async def claim_delivery(
    session: AsyncSession, channel: str, delivery_id: str, now: dt.datetime
) -> bool:
    """Record a provider's delivery id. False when it was seen before (a retry)."""
    statement = (
        dialect_insert(session, InboundKey)
        .values(channel=channel, delivery_id=delivery_id, received_at=now)
        .on_conflict_do_nothing()
    )
    result = await session.execute(statement)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def forget_deliveries_before(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Providers retry for hours (Meta up to 36); keys older than that can go."""
    result = await session.execute(delete(InboundKey).where(InboundKey.received_at < cutoff))
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- contacts ------------------------------------------------------------------------------


async def lock_contact(
    session: AsyncSession, channel: str, address_hash: str, defaults: dict[str, Any]
) -> Contact:
    """Find or create the contact and hold its row lock until the transaction ends, so two
    messages from one person are handled one after the other. Most messages come from
    someone we know, so the row is looked for first: one round trip, not two."""
    query = select(Contact).where(Contact.channel == channel, Contact.address_hash == address_hash)
    if _is_postgres(session):
        query = query.with_for_update()
    query = query.execution_options(populate_existing=True)
    contact = (await session.execute(query)).scalar_one_or_none()
    if contact is not None:
        return contact
    # New (or being created by a message of theirs in another transaction: the insert
    # then waits for it and does nothing, and the row is read as before).
    await session.execute(
        dialect_insert(session, Contact)
        .values(channel=channel, address_hash=address_hash, **defaults)
        .on_conflict_do_nothing()
    )
    return (await session.execute(query)).scalar_one()


async def find_contact(session: AsyncSession, channel: str, address_hash: str) -> Contact | None:
    query = select(Contact).where(Contact.channel == channel, Contact.address_hash == address_hash)
    return (await session.execute(query)).scalar_one_or_none()


async def contacts_among(
    session: AsyncSession, channel: str, address_hashes: Sequence[str]
) -> set[str]:
    """Which of these hashes are known contacts of the channel."""
    found: set[str] = set()
    for chunk in in_chunks(address_hashes):
        query = select(Contact.address_hash).where(
            Contact.channel == channel, Contact.address_hash.in_(chunk)
        )
        found.update((await session.execute(query)).scalars())
    return found


async def delete_contact(session: AsyncSession, contact: Contact) -> None:
    """Erasure and opt-out: the address and preferences go at once."""
    await session.execute(delete(Dialog).where(Dialog.contact_id == contact.id))
    await session.execute(delete(Contact).where(Contact.id == contact.id))


async def erase_contacts_of_campaign(session: AsyncSession, campaign_id: str) -> int:
    ids = select(Contact.id).where(Contact.campaign_id == campaign_id)
    await session.execute(delete(Dialog).where(Dialog.contact_id.in_(ids)))
    result = await session.execute(delete(Contact).where(Contact.campaign_id == campaign_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


# -- dialogs and respondents ---------------------------------------------------------------


async def get_dialog(session: AsyncSession, contact_id: int) -> Dialog | None:
    return await session.get(Dialog, contact_id, populate_existing=True)


async def idle_dialogs(
    session: AsyncSession, before: dt.datetime, limit: int = 500
) -> Sequence[Dialog]:
    query = (
        select(Dialog).where(Dialog.updated_at < before).order_by(Dialog.updated_at).limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def end_dialog(session: AsyncSession, contact_id: int, status: str, now: dt.datetime) -> None:
    """End the contact's dialog in progress, if any, leaving its answers anonymous."""
    dialog = await session.get(Dialog, contact_id)
    if dialog is None:
        return
    respondent = await session.get(Respondent, dialog.respondent_id)
    if respondent is not None and respondent.ended_at is None:
        respondent.status, respondent.ended_at = status, now
    await session.delete(dialog)


def new_respondent_id() -> str:
    return secrets.token_hex(16)  # random: derived from nothing about the person


async def save_answer(
    session: AsyncSession, respondent_id: str, question_id: str, value: Any, now: dt.datetime
) -> None:
    statement = dialect_insert(session, Answer).values(
        respondent_id=respondent_id, question_id=question_id, value={"v": value}, answered_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["respondent_id", "question_id"],
        set_={"value": statement.excluded.value, "answered_at": statement.excluded.answered_at},
    )
    await session.execute(statement)


async def delete_respondent(session: AsyncSession, respondent_id: str) -> None:
    await session.execute(delete(AnswerTag).where(AnswerTag.respondent_id == respondent_id))
    await session.execute(delete(Answer).where(Answer.respondent_id == respondent_id))
    await session.execute(delete(Respondent).where(Respondent.id == respondent_id))


async def respondents_with_answers(
    session: AsyncSession, campaign_id: str | None = None
) -> list[tuple[Respondent, dict[str, Any]]]:
    query = select(Respondent).order_by(Respondent.started_at, Respondent.id)
    if campaign_id is not None:
        query = query.where(Respondent.campaign_id == campaign_id)
    respondents = (await session.execute(query)).scalars().all()
    answers: dict[str, dict[str, Any]] = {respondent.id: {} for respondent in respondents}
    rows = await session.execute(select(Answer).order_by(Answer.respondent_id, Answer.answered_at))
    for row in rows.scalars():
        if row.respondent_id in answers:
            answers[row.respondent_id][row.question_id] = row.value["v"]
    return [(respondent, answers[respondent.id]) for respondent in respondents]


# -- flow snapshots ------------------------------------------------------------------------


async def remember_flow(
    session: AsyncSession, flow_id: str, version: int, source_text: str, now: dt.datetime
) -> None:
    await session.execute(
        dialect_insert(session, FlowSnapshot)
        .values(flow_id=flow_id, version=version, source_text=source_text, first_seen_at=now)
        .on_conflict_do_nothing()
    )


async def flow_snapshot(session: AsyncSession, flow_id: str, version: int) -> str | None:
    snapshot = await session.get(FlowSnapshot, (flow_id, version))
    return snapshot.source_text if snapshot else None


# -- outbox --------------------------------------------------------------------------------


async def enqueue(
    session: AsyncSession,
    *,
    channel: str,
    recipient_key: str,
    address_enc: str | None,
    message: dict[str, Any],
    now: dt.datetime,
    priority: int = 0,
    status: str = "pending",
    window_opened_at: dt.datetime | None = None,
) -> int:
    result = await session.execute(
        insert(OutboxMessage)
        .values(
            channel=channel,
            recipient_key=recipient_key,
            address_enc=address_enc,
            message=message,
            status=status,
            priority=priority,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            sent_at=now if status == "sent" else None,
            window_opened_at=window_opened_at,
        )
        .returning(OutboxMessage.id)
    )
    return int(result.scalar_one())


async def cancel_pending(
    session: AsyncSession,
    recipient_key: str,
    except_ids: Sequence[int] = (),
    *,
    reason: str | None = None,
) -> int:
    """Opt-out, erasure, a blocked bot: nothing more goes to this person. The reason is
    what a broadcast's report shows for its copy."""
    result = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.recipient_key == recipient_key,
            OutboxMessage.status.in_(("pending", "waiting")),
            OutboxMessage.id.not_in(except_ids),
        )
        .values(status="cancelled", address_enc=None, last_error=reason)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def release_waiting(session: AsyncSession, recipient_key: str, now: dt.datetime) -> int:
    """The person wrote: messages held for a closed messaging window may go now."""
    result = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.recipient_key == recipient_key, OutboxMessage.status == "waiting")
        .values(status="pending", next_attempt_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def outbox_counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    return {status: int(count) for status, count in rows.all()}


# -- audit ---------------------------------------------------------------------------------


async def audit(
    session: AsyncSession, actor: str, action: str, detail: dict[str, Any], now: dt.datetime
) -> None:
    session.add(AuditEntry(at=now, actor=actor, action=action, detail=detail))

"""The suppression list: who must not be contacted again until they opt back in.

Kept apart from contacts on purpose. Opt-out deletes the contact (address, preferences,
the dialog link), but "never write to this number again" must outlive it, so the list
holds only the channel-scoped keyed hash of the address (see ``storage.crypto``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OptOut
from storage.repositories import dialect_insert, in_chunks


async def suppress(session: AsyncSession, channel: str, address_hash: str, language: str) -> None:
    statement = dialect_insert(session, OptOut).values(
        channel=channel, address_hash=address_hash, language=language, notified_at=None
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["channel", "address_hash"],
            set_={"language": statement.excluded.language},
        )
    )


async def find(session: AsyncSession, channel: str, address_hash: str) -> OptOut | None:
    return await session.get(OptOut, (channel, address_hash), populate_existing=True)


async def lift(session: AsyncSession, channel: str, address_hash: str) -> bool:
    """They opted back in. False when they were not on the list."""
    result = await session.execute(
        delete(OptOut).where(OptOut.channel == channel, OptOut.address_hash == address_hash)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def suppressed_among(
    session: AsyncSession, channel: str, address_hashes: Collection[str]
) -> set[str]:
    """Which of these hashes are on the list (for an invitation list)."""
    found: set[str] = set()
    for chunk in in_chunks(list(address_hashes)):
        query = select(OptOut.address_hash).where(
            OptOut.channel == channel, OptOut.address_hash.in_(chunk)
        )
        found.update((await session.execute(query)).scalars())
    return found


def notice_due(entry: OptOut, now: dt.datetime, every: dt.timedelta) -> bool:
    return entry.notified_at is None or now - entry.notified_at >= every

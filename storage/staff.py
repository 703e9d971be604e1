"""Staff accounts, their sessions and the failed-login counts, over one ``AsyncSession``.

Hashing passwords and deciding what a role may do live in ``trygg/staff``; this module
only reads and writes rows. The caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LoginThrottle, StaffSession, StaffUser

# -- users ---------------------------------------------------------------------------------


async def user_by_name(session: AsyncSession, username: str) -> StaffUser | None:
    query = select(StaffUser).where(StaffUser.username == username.lower())
    return (await session.execute(query)).scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: int) -> StaffUser | None:
    return await session.get(StaffUser, user_id)


async def users(session: AsyncSession) -> Sequence[StaffUser]:
    return (await session.execute(select(StaffUser).order_by(StaffUser.username))).scalars().all()


async def add_user(
    session: AsyncSession,
    *,
    username: str,
    password_hash: str,
    role: str,
    created_by: str,
    now: dt.datetime,
) -> StaffUser:
    user = StaffUser(
        username=username.lower(),
        password_hash=password_hash,
        role=role,
        active=True,
        created_at=now,
        created_by=created_by,
    )
    session.add(user)
    await session.flush()
    return user


async def count_admins(session: AsyncSession) -> int:
    query = select(StaffUser.id).where(StaffUser.role == "admin", StaffUser.active.is_(True))
    return len((await session.execute(query)).all())


# -- sessions ------------------------------------------------------------------------------


async def add_session(
    session: AsyncSession,
    *,
    token_hash: str,
    user_id: int,
    csrf_token: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    session.add(
        StaffSession(
            token_hash=token_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
            last_seen_at=now,
        )
    )


async def session_with_user(
    session: AsyncSession, token_hash: str
) -> tuple[StaffSession, StaffUser] | None:
    query = (
        select(StaffSession, StaffUser)
        .join(StaffUser, StaffUser.id == StaffSession.user_id)
        .where(StaffSession.token_hash == token_hash)
    )
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row[0], row[1])


async def touch_session(session: AsyncSession, token_hash: str, now: dt.datetime) -> None:
    statement = (
        update(StaffSession).where(StaffSession.token_hash == token_hash).values(last_seen_at=now)
    )
    await session.execute(statement)


async def end_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))


async def end_sessions_of(session: AsyncSession, user_id: int) -> None:
    await session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))


async def end_expired_sessions(session: AsyncSession, now: dt.datetime) -> int:
    result = await session.execute(delete(StaffSession).where(StaffSession.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


# -- failed logins -------------------------------------------------------------------------


async def throttles(session: AsyncSession, keys: Sequence[str]) -> dict[str, LoginThrottle]:
    # populate_existing: the counts change by UPDATE statements in the same session, and
    # the rows it loaded before would otherwise be handed back unchanged.
    query = (
        select(LoginThrottle)
        .where(LoginThrottle.key.in_(list(keys)))
        .execution_options(populate_existing=True)
    )
    return {row.key: row for row in (await session.execute(query)).scalars()}


async def forget_old_failures(session: AsyncSession, cutoff: dt.datetime) -> int:
    """Failed-login counts that neither lock nor count any more."""
    statement = delete(LoginThrottle).where(
        LoginThrottle.first_failure_at < cutoff,
        (LoginThrottle.locked_until.is_(None)) | (LoginThrottle.locked_until < cutoff),
    )
    result = await session.execute(statement)
    return int(getattr(result, "rowcount", 0) or 0)


async def clear_throttle(session: AsyncSession, key: str) -> None:
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))

"""Staff accounts: creating them, logging in (with rate limiting and lockout), sessions.

Every change is written to the audit log in the same transaction as the change itself,
so the log can never miss one.

Failed logins are counted per user name and per client address, in the database so
that every web process sees one count. After ``USER_LIMIT`` failures for one name, or
``ADDRESS_LIMIT`` from one address, within ``WINDOW``, logins for it are refused for
``LOCK`` without looking at the password. A name that does not exist is counted like
one that does, so the answers do not tell which names exist.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import repositories as repo
from storage import staff as staff_store
from storage.models import LoginThrottle, StaffUser
from trygg.service.runtime import Runtime
from trygg.staff.passwords import hash_password, needs_rehash, password_problem, verify_password
from trygg.staff.roles import is_role

USER_LIMIT = 5
ADDRESS_LIMIT = 20
WINDOW = dt.timedelta(minutes=15)
LOCK = dt.timedelta(minutes=15)
SESSION_LIFETIME = dt.timedelta(hours=8)
IDLE_TIMEOUT = dt.timedelta(hours=1)
TOUCH_EVERY = dt.timedelta(minutes=1)  # how stale last_seen_at may get before a write
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-@")

WRONG = "Fel användarnamn eller lösenord."
LOCKED = "För många misslyckade inloggningar. Vänta 15 minuter och försök igen."


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the staff page."""


@dataclass(frozen=True)
class Staff:
    """The logged-in member of staff, as every staff page sees them."""

    user_id: int
    username: str
    role: str
    csrf_token: str
    token_hash: str

    @property
    def actor(self) -> str:
        """Their name in the audit log."""
        return f"staff:{self.username}"


@dataclass(frozen=True)
class LoginResult:
    token: str | None  # the new session's cookie value, when the login worked
    problem: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def username_problem(username: str) -> str | None:
    if not 2 <= len(username) <= 64:
        return "Användarnamnet ska ha 2 till 64 tecken."
    if not set(username.lower()) <= USERNAME_CHARS:
        return "Användarnamnet får bara ha a-z, siffror och . _ - @"
    return None


async def create_user(
    runtime: Runtime, *, username: str, password: str, role: str, actor: str
) -> StaffUser:
    problem = username_problem(username) or password_problem(password, username)
    if problem is None and not is_role(role):
        problem = f"Okänd roll '{role}'."
    if problem:
        raise AccountError(problem)
    now = runtime.clock()
    async with runtime.database.sessions() as session, session.begin():
        if await staff_store.user_by_name(session, username) is not None:
            raise AccountError(f"Det finns redan en användare som heter '{username.lower()}'.")
        user = await staff_store.add_user(
            session,
            username=username,
            password_hash=hash_password(password),
            role=role,
            created_by=actor,
            now=now,
        )
        detail = {"user": user.username, "role": role}
        await repo.audit(session, actor, "staff.user_created", detail, now)
        return user


async def change_user(
    runtime: Runtime,
    user_id: int,
    *,
    actor: str,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> StaffUser:
    """Change one account. Leaves at least one active admin, and ends the person's
    sessions when their rights shrink or their password changes."""
    now = runtime.clock()
    async with runtime.database.sessions() as session, session.begin():
        user = await staff_store.user_by_id(session, user_id)
        if user is None:
            raise AccountError("Det finns ingen sådan användare.")
        changes: dict[str, object] = {}
        if role is not None and role != user.role:
            if not is_role(role):
                raise AccountError(f"Okänd roll '{role}'.")
            changes["role"] = role
        if active is not None and active != user.active:
            changes["active"] = active
        if password is not None:
            problem = password_problem(password, user.username)
            if problem:
                raise AccountError(problem)
            user.password_hash = hash_password(password)
            changes["password"] = "changed"  # never the password itself
        if not changes:
            return user
        was_admin = user.role == "admin" and user.active
        user.role = str(changes.get("role", user.role))
        user.active = bool(changes.get("active", user.active))
        if was_admin and not (user.role == "admin" and user.active):
            await session.flush()
            if await staff_store.count_admins(session) == 0:
                raise AccountError("Det måste finnas minst en aktiv administratör.")
        # A new password or fewer rights: sessions opened before the change end now.
        await staff_store.end_sessions_of(session, user.id)
        detail = {"user": user.username, **changes}
        await repo.audit(session, actor, "staff.user_changed", detail, now)
        return user


# -- logging in ----------------------------------------------------------------------------


async def log_in(runtime: Runtime, username: str, password: str, address: str) -> LoginResult:
    name = username.strip().lower()[:64]
    keys = [f"user:{name}", f"ip:{address}"]
    now = runtime.clock()
    async with runtime.database.sessions() as session, session.begin():
        counts = await staff_store.throttles(session, keys)
        if any(row.locked_until is not None and row.locked_until > now for row in counts.values()):
            await repo.audit(session, f"staff:{name}", "staff.login_refused", {}, now)
            return LoginResult(None, LOCKED)
        user = await staff_store.user_by_name(session, name)
        stored = user.password_hash if user is not None and user.active else None
        if not verify_password(stored, password) or user is None:
            locked = await _count_failure(session, keys, now)
            detail = {"locked": locked}
            await repo.audit(session, f"staff:{name}", "staff.login_failed", detail, now)
            return LoginResult(None, LOCKED if locked else WRONG)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        await staff_store.clear_throttle(session, keys[0])
        token = secrets.token_urlsafe(32)
        await staff_store.add_session(
            session,
            token_hash=token_hash(token),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            now=now,
            expires_at=now + SESSION_LIFETIME,
        )
        await repo.audit(session, f"staff:{name}", "staff.login", {"role": user.role}, now)
        return LoginResult(token, None)


async def _count_failure(session: AsyncSession, keys: list[str], now: dt.datetime) -> bool:
    """Count one failure against each key; True when that locks any of them."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stale = LoginThrottle.first_failure_at < now - WINDOW
    locked = False
    for key in keys:
        statement = insert(LoginThrottle).values(
            key=key, failures=1, first_failure_at=now, locked_until=None
        )
        statement = statement.on_conflict_do_update(
            index_elements=[LoginThrottle.key],
            set_={
                "failures": case((stale, 1), else_=LoginThrottle.failures + 1),
                "first_failure_at": case((stale, now), else_=LoginThrottle.first_failure_at),
            },
        )
        await session.execute(statement)
    rows = await staff_store.throttles(session, keys)
    for key, row in rows.items():
        limit = USER_LIMIT if key.startswith("user:") else ADDRESS_LIMIT
        if row.failures >= limit:
            row.locked_until = now + LOCK
            row.failures = 0
            row.first_failure_at = now
            locked = True
    return locked


# -- sessions ------------------------------------------------------------------------------


async def staff_for(runtime: Runtime, token: str) -> Staff | None:
    """The member of staff a session cookie belongs to, or None when the session is
    unknown, expired, idle too long or its account was switched off."""
    hashed = token_hash(token)
    now = runtime.clock()
    async with runtime.database.sessions() as session, session.begin():
        found = await staff_store.session_with_user(session, hashed)
        if found is None:
            return None
        row, user = found
        if row.expires_at <= now or row.last_seen_at + IDLE_TIMEOUT <= now or not user.active:
            await staff_store.end_session(session, hashed)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            await staff_store.touch_session(session, hashed, now)
        return Staff(user.id, user.username, user.role, row.csrf_token, hashed)


async def log_out(runtime: Runtime, staff: Staff) -> None:
    async with runtime.database.sessions() as session, session.begin():
        await staff_store.end_session(session, staff.token_hash)
        await repo.audit(session, staff.actor, "staff.logout", {}, runtime.clock())

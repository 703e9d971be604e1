"""Tables. People (contacts) and answers (respondents) are kept apart on purpose.

- A **contact** is a channel address, encrypted, found by a keyed hash. It carries what
  the channel and the återkoppling (feedback of results) need: language, opt-in, the time
  of the last inbound message (messaging windows).
- A **respondent** is a random id with the answers of one dialog. While the dialog runs, a
  **dialog** row links the two; when it ends, that row is deleted and nothing links them.
- The **outbox** holds every message to send, with its own encrypted copy of the address,
  wiped once the message is finished, so an erased contact's last confirmation still
  goes out and nothing lingers after.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# SQLite's INTEGER PRIMARY KEY is 64-bit and autoincrements only under that exact name.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on both databases. SQLite has no
    time zones and would hand back naive values that cannot be compared with aware ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: use an aware UTC time")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012 (SQLAlchemy reads this class attribute)
        dict[str, Any]: JSON,
        dt.datetime: UtcDateTime(),
    }


class FlowSnapshot(Base):
    """Each flow version's source as first served, so a session started on it can finish
    on it after the files change."""

    __tablename__ = "flow_snapshots"
    flow_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_text: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime]


class Contact(Base):
    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("channel", "address_hash"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    address_hash: Mapped[str] = mapped_column(String(64))
    address_enc: Mapped[str | None] = mapped_column(Text)
    campaign_id: Mapped[str] = mapped_column(String(40))
    source: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    feedback_wanted: Mapped[bool] = mapped_column(default=False)
    unreachable: Mapped[bool] = mapped_column(default=False)
    last_inbound_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
    # The ended dialog's state without answers or source (SessionState.ended), so a
    # person who writes again after finishing is told so instead of starting over.
    ended_state: Mapped[dict[str, Any] | None]


class OptOut(Base):
    """A person who wrote STOPP or RADERA, or opted out at the provider: never contacted
    again (no invitation, reminder or återkoppling) until they opt back in with START.
    Only the keyed address hash and the language of the reply are kept: no time, no
    source, nothing that ties it to the respondent whose dialog the opt-out ended."""

    __tablename__ = "opt_outs"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(16))
    # When we last answered "you opted out; write START to join again", so a chatty
    # phone or an auto-responder gets that reply at most once a day.
    notified_at: Mapped[dt.datetime | None]


class Dialog(Base):
    """A dialog in progress: the only link between a contact and a respondent."""

    __tablename__ = "dialogs"
    contact_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    respondent_id: Mapped[str] = mapped_column(String(32), index=True)
    state: Mapped[dict[str, Any]]
    updated_at: Mapped[dt.datetime] = mapped_column(index=True)


class Respondent(Base):
    __tablename__ = "respondents"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(String(40), index=True)
    flow_id: Mapped[str] = mapped_column(String(40))
    flow_version: Mapped[int]
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]
    ended_at: Mapped[dt.datetime | None]
    status: Mapped[str] = mapped_column(String(16), default="active")
    last_step: Mapped[str | None] = mapped_column(String(40))  # where people drop out


class Answer(Base):
    __tablename__ = "answers"
    respondent_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict[str, Any]]  # {"v": ...}: a choice id, a list of ids, text or a number
    answered_at: Mapped[dt.datetime]
    # The dashboard reads one question's answers at a time (free text, distributions).
    __table_args__ = (Index("ix_answers_question_answered", "question_id", "answered_at"),)


class InboundKey(Base):
    """A provider's delivery id (update_id, MessageSid, mid): acted on once."""

    __tablename__ = "inbound_keys"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(index=True)


class Broadcast(Base):
    """Återkoppling to a campaign's participants: the results and the medborgarlöfte (the
    promise that came out of them), one text per language. Its outbox rows (one per
    person, written when sending starts) are its fixed audience and its report."""

    __tablename__ = "broadcasts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(200))
    texts: Mapped[dict[str, Any]]  # language -> the staff's text
    link: Mapped[str | None] = mapped_column(String(500))
    image: Mapped[str | None] = mapped_column(String(500))
    # {"sources": [...], "channels": [...], "languages": [...]}; empty lists: everyone
    audience: Mapped[dict[str, Any]]
    # Languages staff confirmed may receive the Swedish text, for want of a translation.
    fallbacks: Mapped[list[str]] = mapped_column(JSON)
    # draft -> scheduled -> sending <-> paused -> done; cancelled from any but done
    state: Mapped[str] = mapped_column(String(16), default="draft")
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]
    scheduled_at: Mapped[dt.datetime | None]
    started_at: Mapped[dt.datetime | None]  # also when it was published, for RESULTAT
    finished_at: Mapped[dt.datetime | None]
    audience_size: Mapped[int | None]


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "priority", "next_attempt_at"),
        Index("ix_outbox_recipient", "recipient_key", "id"),
        # One copy of a broadcast per person, whatever happens (live rows have NULL here,
        # and NULLs never collide).
        Index("ix_outbox_broadcast", "broadcast_id", "channel", "recipient_key", unique=True),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(16))
    recipient_key: Mapped[str] = mapped_column(String(64))  # the contact's address hash
    address_enc: Mapped[str | None] = mapped_column(Text)  # wiped when finished
    message: Mapped[dict[str, Any]]  # the neutral Outgoing, as JSON
    # pending -> sending -> sent (-> delivered) | failed | cancelled; waiting: a closed window
    status: Mapped[str] = mapped_column(String(16), default="pending")
    priority: Mapped[int] = mapped_column(default=0)  # 0: live dialogs, 10: broadcasts
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime]
    lease_until: Mapped[dt.datetime | None]
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # A reply: when the inbound message it answers arrived. That opened the person's
    # messaging window (WhatsApp, Messenger), even if STOPP has since deleted the contact.
    window_opened_at: Mapped[dt.datetime | None]
    broadcast_id: Mapped[int | None] = mapped_column(BigId)
    language: Mapped[str | None] = mapped_column(String(16))  # a broadcast copy's language


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]]


# -- staff (the dashboard) -----------------------------------------------------------------


class StaffUser(Base):
    """A member of staff who logs in to the dashboard; the role decides what they see."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)  # stored lower-case
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id, with its parameters
    role: Mapped[str] = mapped_column(String(16))  # admin, analyst or viewer
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime]
    created_by: Mapped[str] = mapped_column(String(128))


class StaffSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored,
    so a copy of the database lets nobody in."""

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigId, index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    last_seen_at: Mapped[dt.datetime]


class LoginThrottle(Base):
    """Failed logins per user name and per client address, for rate limiting and lockout.
    Kept in the database so that every web process sees the same count."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "user:NAME", "ip:ADDR"
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[dt.datetime]
    locked_until: Mapped[dt.datetime | None]


class AnswerTag(Base):
    """A theme an analyst gave one free-text answer ("belysning", "narkotika"), so what
    people write can be counted across languages. Deleted with the respondent."""

    __tablename__ = "answer_tags"
    respondent_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    question_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime]

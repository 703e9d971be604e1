"""One contract for the repositories and the outbox claim, run on SQLite and PostgreSQL.

Every test takes the ``runtime`` fixture, which is parametrized over both databases, so
each behaviour below is checked twice: the embedded default and production.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import StatementError

from dialog_flows.session import Outgoing, outgoing_to_dict
from storage import opt_outs, outbox
from storage import repositories as repo
from storage.models import (
    Answer,
    AuditEntry,
    Contact,
    Dialog,
    InboundKey,
    OutboxMessage,
    Respondent,
)
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.service.runtime import Runtime

LEASE = dt.timedelta(seconds=60)
STOCKHOLM_WINTER = dt.timezone(dt.timedelta(hours=1))


def clock_of(runtime: Runtime) -> Clock:
    clock = runtime.clock
    assert isinstance(clock, Clock)
    return clock


def message(text: str = "Hej") -> dict[str, Any]:
    """An outbox message as it comes back from the JSON column (tuples become lists)."""
    data: dict[str, Any] = json.loads(
        json.dumps(outgoing_to_dict(Outgoing(text=text, language="sv", direction="ltr")))
    )
    return data


def contact_defaults(now: dt.datetime, **fields: Any) -> dict[str, Any]:
    return {"campaign_id": "karlslund", "language": "sv", "created_at": now, **fields}


async def put(
    runtime: Runtime,
    recipient: str = "r1",
    *,
    channel: str = "sms",
    priority: int = 0,
    status: str = "pending",
    address_enc: str | None = "enc-address",
) -> int:
    async with runtime.database.sessions() as session, session.begin():
        return await repo.enqueue(
            session,
            channel=channel,
            recipient_key=recipient,
            address_enc=address_enc,
            message=message(f"to {recipient}"),
            now=runtime.clock(),
            priority=priority,
            status=status,
        )


async def claim(
    runtime: Runtime, channels: tuple[str, ...] = ("sms",), limit: int = 100
) -> list[outbox.Claimed]:
    async with runtime.database.sessions() as session, session.begin():
        return await outbox.claim_due(session, channels, runtime.clock(), limit=limit, lease=LEASE)


async def claimed_ids(runtime: Runtime, channels: tuple[str, ...] = ("sms",)) -> list[int]:
    return [item.id for item in await claim(runtime, channels)]


async def outbox_row(runtime: Runtime, message_id: int) -> OutboxMessage:
    async with runtime.database.sessions() as session:
        row = await session.get(OutboxMessage, message_id)
        assert row is not None
        return row


async def add_respondent(
    runtime: Runtime, respondent_id: str, campaign_id: str = "karlslund", minutes: int = 0
) -> None:
    async with runtime.database.sessions() as session, session.begin():
        session.add(
            Respondent(
                id=respondent_id,
                campaign_id=campaign_id,
                flow_id="karlslund",
                flow_version=1,
                channel="sms",
                language="sv",
                source=None,
                started_at=runtime.clock() + dt.timedelta(minutes=minutes),
                status="active",
            )
        )


class TestRepositoryContract:
    # -- inbound dedup -----------------------------------------------------------------

    async def test_claim_delivery_is_true_once_per_channel_and_id(self, runtime: Runtime) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.claim_delivery(session, "telegram", "1001", now) is True
            assert await repo.claim_delivery(session, "telegram", "1001", now) is False
            assert await repo.claim_delivery(session, "sms", "1001", now) is True
        async with runtime.database.sessions() as session, session.begin():
            # Remembered across transactions: a provider's retry hours later is a duplicate.
            assert await repo.claim_delivery(session, "telegram", "1001", now) is False
            assert await repo.claim_delivery(session, "telegram", "1002", now) is True

    async def test_forget_deliveries_before_drops_only_older_keys(self, runtime: Runtime) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            await repo.claim_delivery(session, "facebook", "old", now - dt.timedelta(hours=48))
            await repo.claim_delivery(session, "facebook", "new", now - dt.timedelta(hours=1))
        async with runtime.database.sessions() as session, session.begin():
            forgotten = await repo.forget_deliveries_before(session, now - dt.timedelta(hours=36))
            assert forgotten == 1
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.claim_delivery(session, "facebook", "old", now) is True
            assert await repo.claim_delivery(session, "facebook", "new", now) is False

    # -- contacts ----------------------------------------------------------------------

    async def test_lock_contact_creates_once_then_finds_the_same_row(
        self, runtime: Runtime
    ) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            created = await repo.lock_contact(session, "sms", "hash-1", contact_defaults(now))
            first_id = created.id
            assert (created.channel, created.address_hash) == ("sms", "hash-1")
            assert (created.campaign_id, created.language) == ("karlslund", "sv")
            assert created.feedback_wanted is False and created.unreachable is False
        async with runtime.database.sessions() as session, session.begin():
            # The defaults of a later call never overwrite the stored contact.
            again = await repo.lock_contact(
                session, "sms", "hash-1", contact_defaults(now, language="ar", campaign_id="x")
            )
            assert again.id == first_id
            assert (again.language, again.campaign_id) == ("sv", "karlslund")
            other = await repo.lock_contact(session, "telegram", "hash-1", contact_defaults(now))
            assert other.id != first_id
        async with runtime.database.sessions() as session:
            count = len((await session.execute(select(Contact))).scalars().all())
            assert count == 2

    async def test_find_contact(self, runtime: Runtime) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            created = await repo.lock_contact(session, "sms", "hash-1", contact_defaults(now))
        async with runtime.database.sessions() as session:
            found = await repo.find_contact(session, "sms", "hash-1")
            assert found is not None and found.id == created.id
            assert await repo.find_contact(session, "telegram", "hash-1") is None
            assert await repo.find_contact(session, "sms", "hash-2") is None

    async def test_delete_contact_removes_the_contact_and_its_dialog(
        self, runtime: Runtime
    ) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            gone = await repo.lock_contact(session, "sms", "hash-1", contact_defaults(now))
            kept = await repo.lock_contact(session, "sms", "hash-2", contact_defaults(now))
            session.add(
                Dialog(contact_id=gone.id, respondent_id="a" * 32, state={}, updated_at=now)
            )
            session.add(
                Dialog(contact_id=kept.id, respondent_id="b" * 32, state={}, updated_at=now)
            )
        async with runtime.database.sessions() as session, session.begin():
            await repo.delete_contact(session, gone)
        async with runtime.database.sessions() as session:
            assert await repo.find_contact(session, "sms", "hash-1") is None
            assert await repo.get_dialog(session, gone.id) is None
            assert await repo.find_contact(session, "sms", "hash-2") is not None
            assert await repo.get_dialog(session, kept.id) is not None

    async def test_erase_contacts_of_campaign(self, runtime: Runtime) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            ids = {}
            for address, campaign in [("h1", "karlslund"), ("h2", "karlslund"), ("h3", "other")]:
                contact = await repo.lock_contact(
                    session, "sms", address, contact_defaults(now, campaign_id=campaign)
                )
                ids[address] = contact.id
                session.add(
                    Dialog(contact_id=contact.id, respondent_id=address, state={}, updated_at=now)
                )
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.erase_contacts_of_campaign(session, "karlslund") == 2
        async with runtime.database.sessions() as session:
            remaining = (await session.execute(select(Contact))).scalars().all()
            assert [contact.address_hash for contact in remaining] == ["h3"]
            dialogs = (await session.execute(select(Dialog))).scalars().all()
            assert [dialog.contact_id for dialog in dialogs] == [ids["h3"]]

    # -- answers and respondents -------------------------------------------------------

    async def test_save_answer_upserts(self, runtime: Runtime) -> None:
        clock = clock_of(runtime)
        async with runtime.database.sessions() as session, session.begin():
            await repo.save_answer(session, "resp-1", "where", "kopparangen", clock())
        clock.advance(minutes=5)
        async with runtime.database.sessions() as session, session.begin():
            await repo.save_answer(session, "resp-1", "where", "pilangen", clock())
        async with runtime.database.sessions() as session:
            [row] = (await session.execute(select(Answer))).scalars().all()
            assert row.value == {"v": "pilangen"}
            assert row.answered_at == clock()

    async def test_answer_values_round_trip(self, runtime: Runtime) -> None:
        values: dict[str, Any] = {
            "choice": "kopparangen",
            "number": 42,
            "several": ["kopparangen", "pilangen"],
            "text_ar": "الظلام قرب الكشك",
            "text_sv": "Mörkt vid kiosken, åäö",
        }
        async with runtime.database.sessions() as session, session.begin():
            for question, value in values.items():
                await repo.save_answer(session, "resp-1", question, value, runtime.clock())
        async with runtime.database.sessions() as session:
            rows = (await session.execute(select(Answer))).scalars().all()
            stored = {row.question_id: row.value["v"] for row in rows}
        assert stored == values
        assert type(stored["number"]) is int

    async def test_delete_respondent_removes_its_answers(self, runtime: Runtime) -> None:
        await add_respondent(runtime, "resp-1")
        await add_respondent(runtime, "resp-2")
        async with runtime.database.sessions() as session, session.begin():
            await repo.save_answer(session, "resp-1", "q1", "a", runtime.clock())
            await repo.save_answer(session, "resp-1", "q2", "b", runtime.clock())
            await repo.save_answer(session, "resp-2", "q1", "c", runtime.clock())
        async with runtime.database.sessions() as session, session.begin():
            await repo.delete_respondent(session, "resp-1")
        async with runtime.database.sessions() as session:
            answers = (await session.execute(select(Answer))).scalars().all()
            assert [(row.respondent_id, row.value["v"]) for row in answers] == [("resp-2", "c")]
            respondents = (await session.execute(select(Respondent))).scalars().all()
            assert [respondent.id for respondent in respondents] == ["resp-2"]

    async def test_respondents_with_answers_groups_and_filters_by_campaign(
        self, runtime: Runtime
    ) -> None:
        await add_respondent(runtime, "resp-a", "karlslund", minutes=0)
        await add_respondent(runtime, "resp-b", "karlslund", minutes=1)
        await add_respondent(runtime, "resp-c", "other", minutes=2)
        async with runtime.database.sessions() as session, session.begin():
            now = runtime.clock()
            await repo.save_answer(session, "resp-a", "q1", "x", now)
            await repo.save_answer(session, "resp-c", "q1", "z", now)
            await repo.save_answer(session, "resp-a", "q2", ["y1", "y2"], now)
            await repo.save_answer(session, "resp-orphan", "q1", "lost", now)
        async with runtime.database.sessions() as session:
            everyone = await repo.respondents_with_answers(session)
            karlslund = await repo.respondents_with_answers(session, "karlslund")
        assert [(r.id, answers) for r, answers in everyone] == [
            ("resp-a", {"q1": "x", "q2": ["y1", "y2"]}),
            ("resp-b", {}),
            ("resp-c", {"q1": "z"}),
        ]
        assert [(r.id, answers) for r, answers in karlslund] == [
            ("resp-a", {"q1": "x", "q2": ["y1", "y2"]}),
            ("resp-b", {}),
        ]

    # -- flow snapshots ----------------------------------------------------------------

    async def test_remember_flow_is_idempotent(self, runtime: Runtime) -> None:
        now = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            await repo.remember_flow(session, "karlslund", 1, "flow: karlslund\n# v1", now)
        async with runtime.database.sessions() as session, session.begin():
            # The first text served wins: a session started on it finishes on it.
            await repo.remember_flow(session, "karlslund", 1, "changed on disk", now)
            await repo.remember_flow(session, "karlslund", 2, "flow: karlslund\n# v2", now)
        async with runtime.database.sessions() as session:
            assert await repo.flow_snapshot(session, "karlslund", 1) == "flow: karlslund\n# v1"
            assert await repo.flow_snapshot(session, "karlslund", 2) == "flow: karlslund\n# v2"
            assert await repo.flow_snapshot(session, "karlslund", 3) is None
            assert await repo.flow_snapshot(session, "unknown", 1) is None

    # -- outbox: repositories ----------------------------------------------------------

    async def test_enqueue_returns_increasing_ids(self, runtime: Runtime) -> None:
        ids = [await put(runtime, f"r{i % 2}") for i in range(4)]
        async with runtime.database.sessions() as session, session.begin():
            for _ in range(2):
                ids.append(
                    await repo.enqueue(
                        session,
                        channel="sms",
                        recipient_key="r9",
                        address_enc=None,
                        message=message(),
                        now=runtime.clock(),
                    )
                )
        assert ids == sorted(ids) and len(set(ids)) == len(ids)
        first = await outbox_row(runtime, ids[0])
        assert (first.status, first.attempts, first.priority) == ("pending", 0, 0)
        assert first.next_attempt_at == first.created_at == runtime.clock()
        assert first.sent_at is None and first.message == message("to r0")
        already_sent = await outbox_row(runtime, await put(runtime, status="sent"))
        assert already_sent.status == "sent" and already_sent.sent_at == runtime.clock()

    async def test_cancel_pending_cancels_pending_and_waiting_only(self, runtime: Runtime) -> None:
        sent = await put(runtime, "r1", status="sent")
        sending = await put(runtime, "r1")
        assert await claimed_ids(runtime) == [sending]
        pending = await put(runtime, "r1")
        waiting = await put(runtime, "r1", status="waiting")
        kept = await put(runtime, "r1")
        someone_else = await put(runtime, "r2")
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.cancel_pending(session, "r1", except_ids=[kept]) == 2
        every = [sent, sending, pending, waiting, kept, someone_else]
        statuses = {i: (await outbox_row(runtime, i)).status for i in every}
        assert statuses == {
            sent: "sent",
            sending: "sending",
            pending: "cancelled",
            waiting: "cancelled",
            kept: "pending",
            someone_else: "pending",
        }
        assert (await outbox_row(runtime, pending)).address_enc is None
        assert (await outbox_row(runtime, waiting)).address_enc is None
        assert (await outbox_row(runtime, kept)).address_enc == "enc-address"
        assert (await outbox_row(runtime, sending)).address_enc == "enc-address"
        assert (await outbox_row(runtime, someone_else)).address_enc == "enc-address"
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.cancel_pending(session, "r1") == 1  # without exceptions: kept
        assert (await outbox_row(runtime, kept)).status == "cancelled"

    async def test_release_waiting(self, runtime: Runtime) -> None:
        clock = clock_of(runtime)
        held = await put(runtime, "r1", status="waiting")
        other = await put(runtime, "r2", status="waiting")
        clock.advance(hours=30)
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.release_waiting(session, "r1", clock()) == 1
        released = await outbox_row(runtime, held)
        assert released.status == "pending" and released.next_attempt_at == clock()
        assert (await outbox_row(runtime, other)).status == "waiting"
        assert await claimed_ids(runtime) == [held]

    async def test_outbox_counts(self, runtime: Runtime) -> None:
        async with runtime.database.sessions() as session:
            assert await repo.outbox_counts(session) == {}
        for status in ["pending", "pending", "sent", "waiting", "sent", "sent"]:
            await put(runtime, status=status)
        async with runtime.database.sessions() as session:
            assert await repo.outbox_counts(session) == {"pending": 2, "sent": 3, "waiting": 1}

    async def test_audit_writes_an_entry(self, runtime: Runtime) -> None:
        async with runtime.database.sessions() as session, session.begin():
            await repo.audit(
                session, "staff@polisen.se", "erase", {"campaign": "karlslund"}, runtime.clock()
            )
        async with runtime.database.sessions() as session:
            [entry] = (await session.execute(select(AuditEntry))).scalars().all()
        assert (entry.actor, entry.action, entry.detail) == (
            "staff@polisen.se",
            "erase",
            {"campaign": "karlslund"},
        )
        assert entry.at == runtime.clock() and entry.id is not None

    # -- the opt-out list --------------------------------------------------------------

    async def test_suppress_find_and_lift(self, runtime: Runtime) -> None:
        async with runtime.database.sessions() as session, session.begin():
            assert await opt_outs.find(session, "sms", "h1") is None
            await opt_outs.suppress(session, "sms", "h1", "ar")
            await opt_outs.suppress(session, "sms", "h1", "so")  # again: one row, newest language
        async with runtime.database.sessions() as session, session.begin():
            entry = await opt_outs.find(session, "sms", "h1")
            assert entry is not None and (entry.language, entry.notified_at) == ("so", None)
            assert await opt_outs.find(session, "telegram", "h1") is None  # per channel
            assert await opt_outs.lift(session, "sms", "h1") is True
            assert await opt_outs.lift(session, "sms", "h1") is False
            assert await opt_outs.find(session, "sms", "h1") is None

    async def test_suppressed_among_checks_long_lists_in_chunks(self, runtime: Runtime) -> None:
        hashes = [f"h{number}" for number in range(1234)]
        async with runtime.database.sessions() as session, session.begin():
            for key in ("h3", "h777", "h1233", "elsewhere"):
                await opt_outs.suppress(session, "sms", key, "sv")
            await opt_outs.suppress(session, "telegram", "h5", "sv")
        async with runtime.database.sessions() as session:
            found = await opt_outs.suppressed_among(session, "sms", hashes)
        assert found == {"h3", "h777", "h1233"}

    async def test_notice_due_once_per_interval(self, runtime: Runtime) -> None:
        now, day = runtime.clock(), dt.timedelta(days=1)
        async with runtime.database.sessions() as session, session.begin():
            await opt_outs.suppress(session, "sms", "h1", "sv")
            entry = await opt_outs.find(session, "sms", "h1")
            assert entry is not None and opt_outs.notice_due(entry, now, day)
            entry.notified_at = now
        async with runtime.database.sessions() as session:
            entry = await opt_outs.find(session, "sms", "h1")
            assert entry is not None and entry.notified_at == now
            assert not opt_outs.notice_due(entry, now + day / 2, day)
            assert opt_outs.notice_due(entry, now + day, day)

    # -- datetimes ---------------------------------------------------------------------

    async def test_datetimes_come_back_aware_utc(self, runtime: Runtime) -> None:
        utc = runtime.clock()
        local = utc.astimezone(STOCKHOLM_WINTER)  # the same moment, written as 13:00+01:00
        async with runtime.database.sessions() as session, session.begin():
            await repo.claim_delivery(session, "sms", "SM1", local)
            await repo.lock_contact(session, "sms", "hash-1", contact_defaults(local))
        async with runtime.database.sessions() as session:
            key = (await session.execute(select(InboundKey))).scalar_one()
            contact = await repo.find_contact(session, "sms", "hash-1")
        assert contact is not None
        for value in (key.received_at, contact.created_at):
            assert value.tzinfo is dt.UTC
            assert value == utc and (value.hour, value.minute) == (12, 0)
        assert contact.last_inbound_at is None

    async def test_comparisons_use_the_moment_not_the_written_offset(
        self, runtime: Runtime
    ) -> None:
        utc = runtime.clock()
        async with runtime.database.sessions() as session, session.begin():
            await repo.claim_delivery(session, "sms", "SM1", utc)
        # 12:30+01:00 is 11:30 UTC: before the key, so nothing is older than it.
        cutoff = (utc - dt.timedelta(minutes=30)).astimezone(STOCKHOLM_WINTER)
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.forget_deliveries_before(session, cutoff) == 0
        cutoff = (utc + dt.timedelta(minutes=30)).astimezone(STOCKHOLM_WINTER)
        async with runtime.database.sessions() as session, session.begin():
            assert await repo.forget_deliveries_before(session, cutoff) == 1

    async def test_a_naive_datetime_is_refused(self, runtime: Runtime) -> None:
        naive = runtime.clock().replace(tzinfo=None)
        async with runtime.database.sessions() as session:
            with pytest.raises(StatementError, match="naive datetime"):
                await repo.claim_delivery(session, "sms", "SM1", naive)
            await session.rollback()
            with pytest.raises(StatementError, match="naive datetime"):
                await repo.forget_deliveries_before(session, naive)
            await session.rollback()
        async with runtime.database.sessions() as session:
            assert (await session.execute(select(InboundKey))).scalars().all() == []

    # -- outbox: claiming (storage.outbox) ---------------------------------------------

    async def test_claim_due_returns_due_pending_rows_of_the_channels_by_priority_then_id(
        self, runtime: Runtime
    ) -> None:
        clock = clock_of(runtime)
        broadcast = await put(runtime, "r1", priority=10)
        live = await put(runtime, "r2", priority=0)
        telegram = await put(runtime, "r3", channel="telegram")
        await put(runtime, "r4", status="waiting")
        await put(runtime, "r5", status="sent")
        later_broadcast = await put(runtime, "r6", priority=10)
        later_live = await put(runtime, "r7", priority=0)
        clock.advance(seconds=10)
        future = await put(runtime, "r8")  # made due at 12:00:10, so due from then
        clock.now -= dt.timedelta(seconds=5)  # not yet due at 12:00:05
        assert await claimed_ids(runtime, ("sms", "facebook")) == [
            live,
            later_live,
            broadcast,
            later_broadcast,
        ]
        assert await claimed_ids(runtime, ("sms",)) == []  # claimed rows are not claimed again
        assert await claimed_ids(runtime, ("telegram",)) == [telegram]
        clock.advance(seconds=5)
        assert await claimed_ids(runtime, ("sms",)) == [future]

    async def test_claim_due_respects_the_limit_in_order(self, runtime: Runtime) -> None:
        ids = [await put(runtime, f"r{i}", priority=10 if i % 2 else 0) for i in range(5)]
        first = [item.id for item in await claim(runtime, limit=2)]
        assert first == [ids[0], ids[2]]
        rest = [item.id for item in await claim(runtime, limit=10)]
        assert rest == [ids[4], ids[1], ids[3]]

    async def test_a_later_message_waits_for_an_earlier_pending_one(self, runtime: Runtime) -> None:
        first = await put(runtime, "r1")
        second = await put(runtime, "r1")
        other = await put(runtime, "r2")
        assert await claimed_ids(runtime) == [first, other]
        assert (await outbox_row(runtime, second)).status == "pending"

    async def test_a_later_message_waits_while_the_earlier_is_sending(
        self, runtime: Runtime
    ) -> None:
        first = await put(runtime, "r1")
        second = await put(runtime, "r1")
        assert await claimed_ids(runtime) == [first]
        assert await claimed_ids(runtime) == []  # first is "sending"
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_sent(session, first, "P1", runtime.clock())
        assert await claimed_ids(runtime) == [second]

    async def test_a_later_message_waits_while_the_earlier_is_waiting(
        self, runtime: Runtime
    ) -> None:
        first = await put(runtime, "r1")
        second = await put(runtime, "r1")
        assert await claimed_ids(runtime) == [first]
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_waiting(session, first, "window closed")
        assert await claimed_ids(runtime) == []
        async with runtime.database.sessions() as session, session.begin():
            await repo.release_waiting(session, "r1", runtime.clock())
        assert await claimed_ids(runtime) == [first]
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_sent(session, first, "P1", runtime.clock())
        assert await claimed_ids(runtime) == [second]

    async def test_a_later_message_waits_while_the_earlier_awaits_its_retry(
        self, runtime: Runtime
    ) -> None:
        clock = clock_of(runtime)
        first = await put(runtime, "r1")
        second = await put(runtime, "r1")
        assert await claimed_ids(runtime) == [first]
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_retry(session, first, clock() + dt.timedelta(minutes=1), "503")
        clock.advance(seconds=30)
        assert await claimed_ids(runtime) == []  # first is pending but not due: second holds
        clock.advance(seconds=30)
        assert await claimed_ids(runtime) == [first]
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_failed(session, first, "rejected")
        assert await claimed_ids(runtime) == [second]  # a failed message no longer holds

    async def test_messages_to_different_recipients_are_claimed_together(
        self, runtime: Runtime
    ) -> None:
        ids = [await put(runtime, f"r{i}") for i in range(4)]
        assert await claimed_ids(runtime) == ids

    async def test_claimed_rows_are_sending_with_a_lease_and_one_more_attempt(
        self, runtime: Runtime
    ) -> None:
        message_id = await put(runtime, "r1", priority=10)
        [item] = await claim(runtime)
        assert item == outbox.Claimed(
            id=message_id,
            channel="sms",
            recipient_key="r1",
            address_enc="enc-address",
            message=message("to r1"),
            attempts=1,
            priority=10,
        )
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.attempts) == ("sending", 1)
        assert row.lease_until == runtime.clock() + LEASE

    async def test_recover_expired_leases(self, runtime: Runtime) -> None:
        clock = clock_of(runtime)
        message_id = await put(runtime, "r1")
        assert await claimed_ids(runtime) == [message_id]
        clock.advance(seconds=59)
        async with runtime.database.sessions() as session, session.begin():
            assert await outbox.recover_expired_leases(session, clock()) == 0
        assert (await outbox_row(runtime, message_id)).status == "sending"
        clock.advance(seconds=2)
        async with runtime.database.sessions() as session, session.begin():
            assert await outbox.recover_expired_leases(session, clock()) == 1
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.lease_until, row.next_attempt_at) == ("pending", None, clock())
        [again] = await claim(runtime)
        assert (again.id, again.attempts) == (message_id, 2)

    async def test_mark_sent_wipes_the_address_and_keeps_the_provider_id(
        self, runtime: Runtime
    ) -> None:
        clock = clock_of(runtime)
        message_id = await put(runtime, "r1")
        await claim(runtime)
        clock.advance(seconds=3)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_sent(session, message_id, "SM123", clock())
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.provider_message_id, row.address_enc) == ("sent", "SM123", None)
        assert row.sent_at == clock() and row.lease_until is None and row.last_error is None

    async def test_mark_sent_only_finishes_a_sending_row(self, runtime: Runtime) -> None:
        message_id = await put(runtime, "r1")
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_sent(session, message_id, "SM123", runtime.clock())
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.provider_message_id, row.address_enc) == (
            "pending",
            None,
            "enc-address",
        )

    async def test_mark_retry(self, runtime: Runtime) -> None:
        clock = clock_of(runtime)
        message_id = await put(runtime, "r1")
        await claim(runtime)
        when = clock() + dt.timedelta(seconds=90)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_retry(session, message_id, when, "429 Too Many Requests")
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.next_attempt_at, row.lease_until) == ("pending", when, None)
        assert row.last_error == "429 Too Many Requests" and row.address_enc == "enc-address"
        clock.advance(seconds=89)
        assert await claimed_ids(runtime) == []
        clock.advance(seconds=1)
        assert await claimed_ids(runtime) == [message_id]

    async def test_mark_failed(self, runtime: Runtime) -> None:
        message_id = await put(runtime, "r1")
        await claim(runtime)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_failed(session, message_id, "21211 invalid number")
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.address_enc, row.lease_until) == ("failed", None, None)
        assert row.last_error == "21211 invalid number"
        assert await claimed_ids(runtime) == []

    async def test_a_late_mark_failed_leaves_a_sent_message_alone(self, runtime: Runtime) -> None:
        clock = clock_of(runtime)
        message_id = await put(runtime, "r1")
        await claim(runtime)  # worker A claims, then hangs past its lease
        clock.advance(seconds=61)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.recover_expired_leases(session, clock())
        await claim(runtime)  # worker B claims it again and sends it
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_sent(session, message_id, "SM2", clock())
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_failed(session, message_id, "A: timeout")  # A reports, late
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.provider_message_id, row.last_error) == ("sent", "SM2", None)

    async def test_mark_waiting_keeps_the_address_for_later(self, runtime: Runtime) -> None:
        message_id = await put(runtime, "r1")
        await claim(runtime)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_waiting(session, message_id, "outside the 24 hour window")
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.address_enc, row.lease_until) == ("waiting", "enc-address", None)
        assert row.last_error == "outside the 24 hour window"
        assert await claimed_ids(runtime) == []

    async def test_update_delivery_status_by_provider_id(self, runtime: Runtime) -> None:
        message_id = await put(runtime, "r1")
        other = await put(runtime, "r2")
        await claim(runtime)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.mark_sent(session, message_id, "SM1", runtime.clock())
            await outbox.mark_sent(session, other, "SM2", runtime.clock())
        async with runtime.database.sessions() as session, session.begin():
            assert await outbox.update_delivery_status(session, "SM1", "delivered") is True
            assert await outbox.update_delivery_status(session, "SM2", "undelivered", "30003")
            assert await outbox.update_delivery_status(session, "SM-unknown", "delivered") is False
        delivered = await outbox_row(runtime, message_id)
        undelivered = await outbox_row(runtime, other)
        assert (delivered.status, delivered.last_error) == ("delivered", None)
        assert (undelivered.status, undelivered.last_error) == ("undelivered", "30003")


@pytest.fixture
async def pg_runtime(postgres_url: str) -> AsyncIterator[Runtime]:
    built = await make_runtime(postgres_url, Clock())
    try:
        yield built
    finally:
        await drop_runtime(built)


async def test_concurrent_claims_on_postgresql_never_take_the_same_row(pg_runtime: Runtime) -> None:
    """PostgreSQL only: FOR UPDATE SKIP LOCKED. SQLite begins every transaction IMMEDIATE,
    so there a second claim waits for the first instead of running beside it."""
    runtime = pg_runtime
    same_first = await put(runtime, "same")
    others = [await put(runtime, f"r{i}") for i in range(5)]
    same_second = await put(runtime, "same")
    now = runtime.clock()
    async with runtime.database.sessions() as one, runtime.database.sessions() as two:
        await one.begin()
        await two.begin()
        # Both claim before either commits; a claim that waited on a lock would time out.
        first = await asyncio.wait_for(
            outbox.claim_due(one, ["sms"], now, limit=3, lease=LEASE), timeout=10
        )
        second = await asyncio.wait_for(
            outbox.claim_due(two, ["sms"], now, limit=100, lease=LEASE), timeout=10
        )
        await one.commit()
        await two.commit()
    first_ids = [item.id for item in first]
    second_ids = [item.id for item in second]
    assert first_ids == [same_first, others[0], others[1]]
    # The rows the first holds are skipped, and the second message to "same" stays
    # behind the first one, which is unfinished, though locked by the other session.
    assert second_ids == others[2:]
    for message_id in [*first_ids, *second_ids]:
        row = await outbox_row(runtime, message_id)
        assert (row.status, row.attempts) == ("sending", 1)
    assert (await outbox_row(runtime, same_second)).status == "pending"


async def test_a_late_report_from_a_lost_lease_changes_nothing(runtime: Runtime) -> None:
    """The claim's attempt number is a token: a worker whose lease ran out, while another
    worker holds the message again, cannot record anything for it."""
    message_id = await put(runtime)
    [stale] = await claim(runtime)
    clock_of(runtime).advance(seconds=LEASE.total_seconds() + 1)
    async with runtime.database.sessions() as session, session.begin():
        await outbox.recover_expired_leases(session, runtime.clock())
    [current] = await claim(runtime)
    assert (stale.attempts, current.attempts) == (1, 2)
    async with runtime.database.sessions() as session, session.begin():
        await outbox.mark_failed(session, message_id, "late", attempts=stale.attempts)
        await outbox.mark_retry(
            session, message_id, runtime.clock(), "late", attempts=stale.attempts
        )
    assert (await outbox_row(runtime, message_id)).status == "sending"
    async with runtime.database.sessions() as session, session.begin():
        await outbox.mark_sent(
            session, message_id, "P2", runtime.clock(), attempts=current.attempts
        )
    assert (await outbox_row(runtime, message_id)).provider_message_id == "P2"


async def test_a_message_that_keeps_killing_its_worker_fails_at_the_attempt_limit(
    runtime: Runtime,
) -> None:
    message_id = await put(runtime)
    for attempt in (1, 2, 3):
        [claimed] = await claim(runtime)
        assert claimed.attempts == attempt
        clock_of(runtime).advance(seconds=LEASE.total_seconds() + 1)
        async with runtime.database.sessions() as session, session.begin():
            await outbox.recover_expired_leases(session, runtime.clock(), max_attempts=3)
    row = await outbox_row(runtime, message_id)
    assert (row.status, row.address_enc) == ("failed", None)
    assert await claimed_ids(runtime) == []


async def test_waiting_for_a_window_does_not_use_up_an_attempt(runtime: Runtime) -> None:
    message_id = await put(runtime)
    [claimed] = await claim(runtime)
    async with runtime.database.sessions() as session, session.begin():
        await outbox.mark_waiting(session, message_id, "window closed", attempts=claimed.attempts)
    row = await outbox_row(runtime, message_id)
    assert (row.status, row.attempts) == ("waiting", 0)


async def test_a_delivery_status_can_be_limited_to_its_channel(runtime: Runtime) -> None:
    telegram = await put(runtime, "t", channel="telegram")
    sms = await put(runtime, "s", channel="sms")
    claimed = await claim(runtime, ("telegram", "sms"))
    assert sorted(item.id for item in claimed) == sorted([telegram, sms])
    async with runtime.database.sessions() as session, session.begin():
        for item in claimed:  # both providers happen to use the id "42"
            await outbox.mark_sent(session, item.id, "42", runtime.clock(), attempts=item.attempts)
    async with runtime.database.sessions() as session, session.begin():
        assert await outbox.update_delivery_status(session, "42", "delivered", channel="sms")
    assert (await outbox_row(runtime, sms)).status == "delivered"
    assert (await outbox_row(runtime, telegram)).status == "sent"

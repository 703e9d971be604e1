"""The delivery worker on SQLite and PostgreSQL, against a scripted fake provider.

The fake implements ``bots.contract.ChannelSender`` for a made-up channel, "testchan".
Each address has a script of results (or exceptions) handed out one per send; once the
script is used up, a send succeeds. The test clock decides when retries are due.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import select

from bots.contract import Outcome, SendResult
from dialog_flows.session import Option, Outgoing, outgoing_from_dict, outgoing_to_dict
from storage import outbox
from storage import repositories as repo
from storage.models import Contact, Dialog, OutboxMessage
from tests.service_helpers import Clock
from trygg.service.delivery import MAX_ATTEMPTS, MAX_BACKOFF_SECONDS, DeliveryWorker
from trygg.service.runtime import Runtime

CHANNEL = "testchan"

Scripted = SendResult | Exception


class FakeSender:
    """A provider whose answers the test writes in advance, per address."""

    channel = CHANNEL
    rate_per_second = 10_000.0
    recipient_interval = 0.0

    def __init__(self) -> None:
        self.calls: list[tuple[str, Outgoing]] = []
        self.scripts: dict[str, list[Scripted]] = {}

    def script(self, address: str, *results: Scripted) -> None:
        self.scripts.setdefault(address, []).extend(results)

    async def send(self, address: str, message: Outgoing) -> SendResult:
        self.calls.append((address, message))
        queue = self.scripts.get(address)
        result = queue.pop(0) if queue else None
        if isinstance(result, Exception):
            raise result
        if result is None:
            return SendResult(Outcome.SENT, provider_message_id=f"P-{len(self.calls)}")
        return result

    def texts(self) -> list[str]:
        return [message.text for _address, message in self.calls]


def clock_of(runtime: Runtime) -> Clock:
    clock = runtime.clock
    assert isinstance(clock, Clock)
    return clock


def key(runtime: Runtime, address: str) -> str:
    return runtime.vault.lookup_hash(CHANNEL, address)


def plain(text: str) -> Outgoing:
    return Outgoing(text=text, language="sv", direction="ltr")


async def put(
    runtime: Runtime,
    address: str,
    message: Outgoing | str,
    *,
    priority: int = 0,
    status: str = "pending",
) -> int:
    outgoing = plain(message) if isinstance(message, str) else message
    async with runtime.database.sessions() as session, session.begin():
        return await repo.enqueue(
            session,
            channel=CHANNEL,
            recipient_key=key(runtime, address),
            address_enc=runtime.vault.encrypt(address),
            message=outgoing_to_dict(outgoing),
            now=runtime.clock(),
            priority=priority,
            status=status,
        )


async def add_contact(runtime: Runtime, address: str, *, with_dialog: bool = False) -> int:
    now = runtime.clock()
    async with runtime.database.sessions() as session, session.begin():
        contact = await repo.lock_contact(
            session,
            CHANNEL,
            key(runtime, address),
            {
                "campaign_id": "karlslund",
                "language": "sv",
                "address_enc": runtime.vault.encrypt(address),
                "feedback_wanted": True,
                "created_at": now,
            },
        )
        if with_dialog:
            session.add(
                Dialog(contact_id=contact.id, respondent_id=address, state={}, updated_at=now)
            )
        return contact.id


async def row(runtime: Runtime, message_id: int) -> OutboxMessage:
    async with runtime.database.sessions() as session:
        found = await session.get(OutboxMessage, message_id)
        assert found is not None
        return found


async def contact_of(runtime: Runtime, address: str) -> Contact | None:
    async with runtime.database.sessions() as session:
        return await repo.find_contact(session, CHANNEL, key(runtime, address))


async def round_texts(worker: DeliveryWorker, fake: FakeSender) -> list[str]:
    """One round; the texts the fake was asked to send in it."""
    before = len(fake.calls)
    claimed = await worker.run_once()
    texts = fake.texts()[before:]
    assert claimed == len(texts)
    return texts


async def test_a_sent_message_is_recorded_and_its_address_wiped(runtime: Runtime) -> None:
    fake = FakeSender()
    question = Outgoing(
        text="Hur trygg känner du dig på kvällen?",
        language="sv",
        direction="ltr",
        options=(
            Option(id="safe", label="Trygg", payload="evening:safe", number=1, symbol="🟢"),
            Option(id="unsafe", label="Otrygg", payload="evening:unsafe", number=2),
        ),
        input="single",
        step_id="evening",
        text_hint="Svara med en siffra",
    )
    message_id = await put(runtime, "addr-1", question)
    async with runtime.database.sessions() as session:
        stored = (await session.execute(select(OutboxMessage.message))).scalar_one()
    assert await DeliveryWorker(runtime, {CHANNEL: fake}).run_once() == 1
    assert fake.calls == [("addr-1", outgoing_from_dict(stored))]
    assert fake.calls[0][1] == question
    sent = await row(runtime, message_id)
    assert (sent.status, sent.provider_message_id, sent.address_enc) == ("sent", "P-1", None)
    assert (sent.attempts, sent.lease_until, sent.sent_at) == (1, None, runtime.clock())
    assert await DeliveryWorker(runtime, {CHANNEL: fake}).run_once() == 0
    assert len(fake.calls) == 1


async def test_only_channels_with_a_sender_are_claimed(runtime: Runtime) -> None:
    fake = FakeSender()
    async with runtime.database.sessions() as session, session.begin():
        other = await repo.enqueue(
            session,
            channel="otherchan",
            recipient_key="k",
            address_enc=runtime.vault.encrypt("x"),
            message=outgoing_to_dict(plain("not ours")),
            now=runtime.clock(),
        )
    assert await DeliveryWorker(runtime, {CHANNEL: fake}).run_once() == 0
    assert fake.calls == [] and (await row(runtime, other)).status == "pending"


async def test_a_retry_is_sent_again_after_its_backoff_and_not_before(runtime: Runtime) -> None:
    clock = clock_of(runtime)
    fake = FakeSender()
    fake.script("addr-1", SendResult(Outcome.RETRY, error="503 Service Unavailable"))
    message_id = await put(runtime, "addr-1", "one")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert await worker.run_once() == 1
    retried = await row(runtime, message_id)
    assert (retried.status, retried.attempts, retried.lease_until) == ("pending", 1, None)
    assert retried.last_error == "503 Service Unavailable"
    assert retried.address_enc is not None
    delay = (retried.next_attempt_at - clock()).total_seconds()
    assert 0.8 * 2 <= delay <= 1.2 * 2  # 2 ** attempts seconds, with jitter
    assert await worker.run_once() == 0
    clock.now = retried.next_attempt_at - dt.timedelta(milliseconds=1)
    assert await worker.run_once() == 0
    assert len(fake.calls) == 1
    clock.now = retried.next_attempt_at
    assert await worker.run_once() == 1
    sent = await row(runtime, message_id)
    assert (sent.status, sent.attempts, sent.provider_message_id) == ("sent", 2, "P-2")
    assert fake.texts() == ["one", "one"]


async def test_a_retry_honours_the_providers_retry_after(runtime: Runtime) -> None:
    clock = clock_of(runtime)
    fake = FakeSender()
    fake.script("addr-1", SendResult(Outcome.RETRY, retry_after=300, error="429"))
    message_id = await put(runtime, "addr-1", "one")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    start = clock()
    assert await worker.run_once() == 1
    assert (await row(runtime, message_id)).next_attempt_at == start + dt.timedelta(seconds=300)
    clock.advance(seconds=299)
    assert await worker.run_once() == 0
    clock.advance(seconds=1)
    assert await worker.run_once() == 1
    assert (await row(runtime, message_id)).status == "sent"
    assert len(fake.calls) == 2


async def test_a_message_fails_after_max_attempts(runtime: Runtime) -> None:
    clock = clock_of(runtime)
    fake = FakeSender()
    fake.script("addr-1", *[SendResult(Outcome.RETRY, error="timeout")] * (MAX_ATTEMPTS + 5))
    first = await put(runtime, "addr-1", "first")
    second = await put(runtime, "addr-1", "second")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    for attempt in range(1, MAX_ATTEMPTS):
        assert await worker.run_once() == 1
        retried = await row(runtime, first)
        assert (retried.status, retried.attempts) == ("pending", attempt)
        delay = (retried.next_attempt_at - clock()).total_seconds()
        expected = min(MAX_BACKOFF_SECONDS, 2**attempt)
        assert 0.8 * expected <= delay <= 1.2 * expected  # exponential backoff
        clock.now = retried.next_attempt_at
    assert await worker.run_once() == 1
    failed = await row(runtime, first)
    assert (failed.status, failed.attempts, failed.address_enc) == ("failed", MAX_ATTEMPTS, None)
    assert failed.last_error == "timeout"
    assert fake.texts() == ["first"] * MAX_ATTEMPTS
    # A failed message no longer holds the next one to the same person.
    fake.scripts.clear()
    assert await round_texts(worker, fake) == ["second"]
    assert (await row(runtime, second)).status == "sent"
    clock.advance(days=1)
    assert await worker.run_once() == 0


async def test_unreachable_marks_the_contact_and_cancels_the_rest(runtime: Runtime) -> None:
    fake = FakeSender()
    fake.script("addr-1", SendResult(Outcome.UNREACHABLE, error="403 bot was blocked"))
    fake.script("addr-3", SendResult(Outcome.UNREACHABLE, error="403 bot was blocked"))
    await add_contact(runtime, "addr-1", with_dialog=True)
    await add_contact(runtime, "addr-2")
    blocked = await put(runtime, "addr-1", "a1")
    other = await put(runtime, "addr-2", "b1")
    later = await put(runtime, "addr-1", "a2")
    held = await put(runtime, "addr-1", "a3", status="waiting")
    no_contact = await put(runtime, "addr-3", "c1")  # no contact row: erased already
    no_contact_later = await put(runtime, "addr-3", "c2")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert sorted(await round_texts(worker, fake)) == ["a1", "b1", "c1"]
    failed = await row(runtime, blocked)
    assert (failed.status, failed.address_enc) == ("failed", None)
    assert failed.last_error == "403 bot was blocked"
    for message_id in (later, held, no_contact_later):
        cancelled = await row(runtime, message_id)
        assert (cancelled.status, cancelled.address_enc) == ("cancelled", None)
    assert (await row(runtime, no_contact)).status == "failed"
    assert (await row(runtime, other)).status == "sent"
    contact = await contact_of(runtime, "addr-1")
    assert contact is not None
    assert (contact.unreachable, contact.feedback_wanted) == (True, False)
    bystander = await contact_of(runtime, "addr-2")
    assert bystander is not None
    assert (bystander.unreachable, bystander.feedback_wanted) == (False, True)
    assert await worker.run_once() == 0


async def test_opted_out_erases_the_contact_and_cancels_the_rest(runtime: Runtime) -> None:
    fake = FakeSender()
    fake.script("addr-1", SendResult(Outcome.OPTED_OUT, error="21610 unsubscribed"))
    opted_out_id = await add_contact(runtime, "addr-1", with_dialog=True)
    await add_contact(runtime, "addr-2", with_dialog=True)
    first = await put(runtime, "addr-1", "a1")
    other = await put(runtime, "addr-2", "b1")
    later = await put(runtime, "addr-1", "a2")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert sorted(await round_texts(worker, fake)) == ["a1", "b1"]
    failed = await row(runtime, first)
    assert (failed.status, failed.address_enc, failed.last_error) == (
        "failed",
        None,
        "21610 unsubscribed",
    )
    cancelled = await row(runtime, later)
    assert (cancelled.status, cancelled.address_enc) == ("cancelled", None)
    assert (await row(runtime, other)).status == "sent"
    assert await contact_of(runtime, "addr-1") is None
    assert await contact_of(runtime, "addr-2") is not None
    async with runtime.database.sessions() as session:
        assert await repo.get_dialog(session, opted_out_id) is None
        dialogs = (await session.execute(select(Dialog))).scalars().all()
        assert [dialog.respondent_id for dialog in dialogs] == ["addr-2"]
    assert await worker.run_once() == 0


async def test_waiting_holds_the_message_and_the_later_ones_until_released(
    runtime: Runtime,
) -> None:
    clock = clock_of(runtime)
    fake = FakeSender()
    fake.script("addr-1", SendResult(Outcome.WAITING, error="outside the 24 hour window"))
    first = await put(runtime, "addr-1", "a1")
    await put(runtime, "addr-1", "a2")
    await put(runtime, "addr-1", "a3")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert await round_texts(worker, fake) == ["a1"]
    waiting = await row(runtime, first)
    assert (waiting.status, waiting.lease_until) == ("waiting", None)
    assert waiting.address_enc is not None  # kept: it goes once the person writes
    assert waiting.last_error == "outside the 24 hour window"
    clock.advance(hours=30)
    assert await worker.run_once() == 0  # neither the waiting one nor those behind it
    async with runtime.database.sessions() as session, session.begin():
        assert await repo.release_waiting(session, key(runtime, "addr-1"), clock()) == 1
    assert await round_texts(worker, fake) == ["a1"]
    assert await round_texts(worker, fake) == ["a2"]
    assert await round_texts(worker, fake) == ["a3"]
    assert await worker.run_once() == 0
    assert (await row(runtime, first)).status == "sent"


async def test_an_exception_from_the_sender_counts_as_a_retry(runtime: Runtime) -> None:
    clock = clock_of(runtime)
    fake = FakeSender()
    fake.script("addr-1", ConnectionResetError("connection reset by peer"))
    failing = await put(runtime, "addr-1", "a1")
    other = await put(runtime, "addr-2", "b1")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert sorted(await round_texts(worker, fake)) == ["a1", "b1"]
    retried = await row(runtime, failing)
    assert (retried.status, retried.attempts) == ("pending", 1)
    assert retried.last_error == "ConnectionResetError: connection reset by peer"
    assert retried.next_attempt_at > clock()
    assert (await row(runtime, other)).status == "sent"  # the rest of the batch went
    assert await worker.run_once() == 0
    clock.now = retried.next_attempt_at
    assert await round_texts(worker, fake) == ["a1"]
    assert (await row(runtime, failing)).status == "sent"


async def test_one_persons_messages_go_in_order_one_per_round(runtime: Runtime) -> None:
    fake = FakeSender()
    ids = {}
    for address, text in [
        ("addr-1", "a1"),
        ("addr-2", "b1"),
        ("addr-1", "a2"),
        ("addr-3", "c1"),
        ("addr-1", "a3"),
    ]:
        ids[text] = await put(runtime, address, text)
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert sorted(await round_texts(worker, fake)) == ["a1", "b1", "c1"]
    assert (await row(runtime, ids["a2"])).status == "pending"
    assert await round_texts(worker, fake) == ["a2"]
    assert await round_texts(worker, fake) == ["a3"]
    assert await worker.run_once() == 0
    to_one = [message.text for address, message in fake.calls if address == "addr-1"]
    assert to_one == ["a1", "a2", "a3"]
    for message_id in ids.values():
        assert (await row(runtime, message_id)).status == "sent"


async def test_live_replies_are_claimed_before_broadcasts(runtime: Runtime) -> None:
    fake = FakeSender()
    await put(runtime, "addr-1", "broadcast", priority=10)
    await put(runtime, "addr-2", "live", priority=0)
    await put(runtime, "addr-3", "live later", priority=0)
    worker = DeliveryWorker(runtime, {CHANNEL: fake}, batch_size=1)
    assert await round_texts(worker, fake) == ["live"]
    assert await round_texts(worker, fake) == ["live later"]
    assert await round_texts(worker, fake) == ["broadcast"]
    assert await worker.run_once() == 0


async def test_a_message_whose_lease_expired_is_sent_again(runtime: Runtime) -> None:
    """A worker claimed the message and died before recording the outcome. Whether it
    sent it, nobody knows: the next round sends it again (at most once more)."""
    clock = clock_of(runtime)
    fake = FakeSender()
    message_id = await put(runtime, "addr-1", "a1")
    lease = dt.timedelta(seconds=120)
    async with runtime.database.sessions() as session, session.begin():
        [dead] = await outbox.claim_due(session, [CHANNEL], clock(), limit=10, lease=lease)
    assert dead.id == message_id
    worker = DeliveryWorker(runtime, {CHANNEL: fake}, lease=lease)
    assert await worker.run_once() == 0  # the lease still runs: the other may be sending
    clock.advance(seconds=119)
    assert await worker.run_once() == 0
    clock.advance(seconds=2)
    assert await round_texts(worker, fake) == ["a1"]
    assert fake.calls[0][0] == "addr-1"
    sent = await row(runtime, message_id)
    assert (sent.status, sent.attempts, sent.address_enc) == ("sent", 2, None)
    assert await worker.run_once() == 0


async def test_a_channel_slower_than_one_message_a_second_still_sends(
    runtime: Runtime,
) -> None:
    fake = FakeSender()
    fake.rate_per_second = 0.5  # e.g. an SMS number allowed one message every two seconds
    await put(runtime, "addr-1", "a1")
    worker = DeliveryWorker(runtime, {CHANNEL: fake})
    assert await asyncio.wait_for(worker.run_once(), timeout=4) == 1
    assert fake.texts() == ["a1"]


async def test_an_opt_out_at_the_provider_ends_the_dialog_as_stopped(runtime: Runtime) -> None:
    from storage.models import Respondent

    fake = FakeSender()
    fake.script("addr-1", SendResult(Outcome.OPTED_OUT, error="21610"))
    await add_contact(runtime, "addr-1", with_dialog=True)  # its respondent id is "addr-1"
    async with runtime.database.sessions() as session, session.begin():
        session.add(
            Respondent(id="addr-1", campaign_id="karlslund", flow_id="karlslund", flow_version=1,
                       channel=CHANNEL, language="sv", source=None, started_at=runtime.clock(),
                       status="active")
        )  # fmt: skip
    await put(runtime, "addr-1", "a1")
    await DeliveryWorker(runtime, {CHANNEL: fake}).run_once()
    async with runtime.database.sessions() as session:
        respondent = await session.get(Respondent, "addr-1")
    assert respondent is not None
    assert (respondent.status, respondent.ended_at) == ("stopped", runtime.clock())

"""A broadcast against the local fake providers, for tests and the throughput benchmark.

The three fakes (Telegram, Twilio, Messenger) and the settings or environment that point
the service at them; opted-in contacts inserted in bulk; the broadcast itself; and the
two checks that matter afterwards: every person got it exactly once at the provider (or
waits, when their Messenger window is closed), and the report adds up.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from sqlalchemy import func, insert, select

from storage.models import Contact, OutboxMessage
from tests.bots.facebook.fake_graph_api import FakeGraphApi
from tests.bots.facebook.signing import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN
from tests.bots.local_server import FakeProvider
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.signing import ACCOUNT_SID, AUTH_TOKEN, TWILIO_NUMBER
from tests.bots.telegram.fake_bot_api import DEFAULT_TOKEN, FakeBotApi
from trygg.service.broadcast_report import report
from trygg.service.broadcast_spec import BroadcastSpec
from trygg.service.broadcasts import Broadcasts
from trygg.service.runtime import Runtime

CAMPAIGN = "karlslund"
LINK = "https://karlslund.example.se/resultat"
# One SMS segment in Swedish and English, two in Arabic (UCS-2), with the framing line.
TEXTS = {
    "sv": "Tack för att ni svarade! Belysningen på gångvägen vid skolan byts i december.",
    "en": "Thank you for answering! The path lights by the school are replaced in December.",
    "ar": "شكرا على إجاباتكم! سيتم تغيير إضاءة الممر بجانب المدرسة في ديسمبر.",
}
# The audience's languages by weight. Those without a text get the Swedish one: staff
# confirmed that (the broadcast's fallback).
LANGUAGES = ("sv", "sv", "sv", "sv", "sv", "en", "en", "ar", "ar", "so", "fa", "uk")
FALLBACK = ("so", "fa", "uk", "pl", "tr", "bs")
PROVIDER_CHANNELS = ("telegram", "sms", "facebook")
# The rates the providers document (shared/PROVIDERS.md), each in its own units:
# Telegram messages (and one a second to one chat), Twilio segments, Messenger sends.
DOCUMENTED = {"telegram": 30.0, "sms": 10.0, "facebook": 300.0}
TELEGRAM_PER_CHAT = 1.0


class Fakes:
    """The three fake providers, started together."""

    def __init__(self) -> None:
        self.telegram = FakeBotApi(DEFAULT_TOKEN)
        self.twilio = FakeTwilio(ACCOUNT_SID, AUTH_TOKEN)
        self.graph = FakeGraphApi(PAGE_TOKEN, APP_SECRET)

    @property
    def by_channel(self) -> dict[str, FakeProvider]:
        return {"telegram": self.telegram, "sms": self.twilio, "facebook": self.graph}

    def start(self) -> Self:
        for fake in self.by_channel.values():
            fake.start()
        return self

    def stop(self) -> None:
        for fake in self.by_channel.values():
            fake.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def enforce(self, rates: Mapping[str, float]) -> None:
        """Each provider's limit, per channel (Telegram also one a second per chat)."""
        for channel, rate in rates.items():
            per_chat = TELEGRAM_PER_CHAT if channel == "telegram" else None
            self.by_channel[channel].enforce_rate(rate, per_recipient=per_chat)

    def hold(self) -> None:
        for fake in self.by_channel.values():
            fake.hold()

    def release(self) -> None:
        for fake in self.by_channel.values():
            fake.release()

    def settings(self, channels: Iterable[str] = PROVIDER_CHANNELS) -> dict[str, Any]:
        """Settings fields that switch these channels on, pointed at the fakes."""
        wanted = set(channels)
        fields: dict[str, Any] = {}
        if "telegram" in wanted:
            fields["telegram_token"] = self.telegram.token
            fields["telegram_secret"] = "fake-webhook-secret"
            fields["telegram_api"] = self.telegram.root
        if "sms" in wanted:
            fields["twilio_account_sid"] = ACCOUNT_SID
            fields["twilio_auth_token"] = AUTH_TOKEN
            fields["twilio_from"] = TWILIO_NUMBER
            fields["twilio_api"] = self.twilio.root
        if "facebook" in wanted:
            fields["facebook_page_token"] = PAGE_TOKEN
            fields["facebook_app_secret"] = APP_SECRET
            fields["facebook_verify_token"] = VERIFY_TOKEN
            fields["facebook_api"] = self.graph.root
        return fields

    def accepted(self) -> dict[str, int]:
        return {channel: len(fake.arrivals) for channel, fake in self.by_channel.items()}


@dataclass(frozen=True)
class Audience:
    """Who is in the broadcast, per channel. ``closed``: Messenger people whose 24-hour
    window is closed, so their copy waits and never reaches the provider."""

    addresses: dict[str, list[str]]
    closed: list[str]

    @property
    def size(self) -> int:
        return sum(len(found) for found in self.addresses.values()) + len(self.closed)

    def at_provider(self, channel: str) -> list[str]:
        return list(self.addresses.get(channel, ()))


def audience(
    *, telegram: int = 0, sms: int = 0, facebook: int = 0, closed: int = 0, web: int = 0
) -> Audience:
    return Audience(
        {
            "telegram": [str(6_100_000_000 + i) for i in range(telegram)],
            "sms": [f"+4670{i:07d}" for i in range(sms)],
            "facebook": [str(7_100_000_000_000_000 + i) for i in range(facebook)],
            "web": [f"web-visitor-{i}" for i in range(web)],
        },
        [str(7_900_000_000_000_000 + i) for i in range(closed)],
    )


def spread(people: int) -> Audience:
    """``people`` across the channels: 40 % Telegram, 20 % SMS, 25 % Messenger (a tenth
    of them outside their window), 15 % web chat."""
    telegram, sms, messenger = people * 40 // 100, people * 20 // 100, people * 25 // 100
    closed = messenger // 10
    web = people - telegram - sms - messenger
    return audience(telegram=telegram, sms=sms, facebook=messenger - closed, closed=closed,
                    web=web)  # fmt: skip


async def seed(runtime: Runtime, people: Audience, graph: FakeGraphApi | None = None) -> None:
    """Opted-in contacts for everyone, inserted in bulk. Messenger people in their window
    wrote an hour ago (and the fake Graph API knows it); the others 30 hours ago."""
    now = runtime.clock()
    rows: list[dict[str, Any]] = []
    entries = [(channel, a) for channel, found in people.addresses.items() for a in found]
    entries += [("facebook", psid) for psid in people.closed]
    closed = set(people.closed)
    for number, (channel, address) in enumerate(entries):
        last_inbound = None
        if channel == "facebook":
            last_inbound = now - dt.timedelta(hours=30 if address in closed else 1)
        rows.append(
            {
                "channel": channel,
                "address_hash": runtime.vault.lookup_hash(channel, address),
                "address_enc": runtime.vault.encrypt(address),
                "campaign_id": CAMPAIGN,
                "source": None,
                "language": LANGUAGES[number % len(LANGUAGES)],
                "feedback_wanted": True,
                "unreachable": False,
                "last_inbound_at": last_inbound,
                "created_at": now - dt.timedelta(days=3),
            }
        )
    async with runtime.database.sessions() as session, session.begin():
        for start in range(0, len(rows), 1000):
            await session.execute(insert(Contact), rows[start : start + 1000])
    if graph is not None:
        for psid in people.at_provider("facebook"):
            graph.user_wrote(psid)


async def start_broadcast(runtime: Runtime) -> int:
    service = Broadcasts(runtime)
    spec = BroadcastSpec(CAMPAIGN, "Återkoppling december", dict(TEXTS), LINK)
    broadcast_id = await service.create(spec, "benchmark")
    await service.send(broadcast_id, "benchmark", fallback=FALLBACK)
    return broadcast_id


async def wait_done(
    runtime: Runtime, broadcast_id: int, timeout: float, *, tick: bool = True
) -> None:
    """Until the broadcast is done. ``tick``: run the broadcast rounds here (no worker
    process does it)."""
    service = Broadcasts(runtime)
    deadline = time.monotonic() + timeout
    while True:
        if tick:
            await service.tick()
        if (await service.get(broadcast_id)).state == "done":
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"broadcast {broadcast_id} not done after {timeout} s")
        await asyncio.sleep(0.1)


async def outbox_counts(runtime: Runtime, broadcast_id: int, status: str) -> dict[str, int]:
    """The broadcast's copies in ``status``, per channel."""
    query = (
        select(OutboxMessage.channel, func.count())
        .where(OutboxMessage.broadcast_id == broadcast_id, OutboxMessage.status == status)
        .group_by(OutboxMessage.channel)
    )
    async with runtime.database.sessions() as session:
        return {channel: int(count) for channel, count in (await session.execute(query)).all()}


def delivery_problems(fakes: Fakes, people: Audience) -> list[str]:
    """What is wrong at the providers: anyone who got it twice, or not at all, or who
    should not have got it (outside their window, or not in the audience)."""
    problems = []
    for channel, fake in fakes.by_channel.items():
        got = fake.accepted_per_recipient()
        wanted = set(people.at_provider(channel))
        twice = sorted(address for address, count in got.items() if count > 1)
        missing = sorted(wanted - got.keys())
        unexpected = sorted(got.keys() - wanted)
        for what, found in (("twice", twice), ("missing", missing), ("unexpected", unexpected)):
            if found:
                problems.append(f"{channel}: {len(found)} {what}, e.g. {found[:3]}")
    return problems


async def report_problems(runtime: Runtime, broadcast_id: int, people: Audience) -> list[str]:
    """What is wrong with the report: it must add up, everyone sent, the closed-window
    Messenger people waiting, nobody pending, failed or skipped."""
    total = (await report(Broadcasts(runtime), broadcast_id)).total
    expected = {
        "queued": people.size,
        "sent": people.size - len(people.closed),
        "waiting": len(people.closed),
        "pending": 0,
        "failed": 0,
        "skipped": 0,
    }
    problems = [] if total.adds_up() else [f"does not add up: {total}"]
    for column, count in expected.items():
        if getattr(total, column) != count:
            problems.append(f"{column}: {getattr(total, column)}, expected {count}")
    return problems


class ScaledClock:
    """The runtime's clock running ``speed`` times faster than real time. The waits the
    worker decides by it (a provider's retry-after, backoff, holds) pass sooner, while
    its pacing and the fakes' limits stay in real time."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self.start = dt.datetime.now(dt.UTC)
        self.started = time.monotonic()

    def __call__(self) -> dt.datetime:
        elapsed = (time.monotonic() - self.started) * self.speed
        return self.start + dt.timedelta(seconds=elapsed)

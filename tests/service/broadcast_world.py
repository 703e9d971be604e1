"""A campaign's people on every channel, and the fake providers they are reached through,
for the broadcast tests.

``BroadcastWorld`` takes the fake Telegram, Twilio and Graph APIs (``Fakes``, shared with
the delivery tests and the benchmark), a runtime whose channels point at them, and
helpers to make opted-in contacts directly or through real dialogs, run the worker until
the outbox is quiet, and read what each person received.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bots.contract import InboundMessage
from storage.models import Contact
from tests.benchmarks.broadcast_setup import Fakes
from tests.bots.facebook.fake_graph_api import FakeGraphApi
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.telegram.fake_bot_api import FakeBotApi
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.service.broadcasts import Broadcasts
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime

# Answers to the Karlslund flow in Swedish, up to the återkoppling question: problems,
# where (nowhere), told, the four places, more, age group, gender.
UP_TO_FEEDBACK = ["hoppa över", "6", "hoppa över", "hoppa över", "1", "1", "1", "1",
                  "hoppa över", "2"]  # fmt: skip
FEEDBACK_HERE = "1"
FEEDBACK_NO = "3"


@dataclass
class BroadcastWorld:
    runtime: Runtime
    telegram: FakeBotApi
    twilio: FakeTwilio
    graph: FakeGraphApi

    @property
    def clock(self) -> Clock:
        assert isinstance(self.runtime.clock, Clock)
        return self.runtime.clock

    @property
    def dialogs(self) -> DialogService:
        return DialogService(self.runtime)

    @property
    def broadcasts(self) -> Broadcasts:
        return Broadcasts(self.runtime)

    def worker(self, **options: object) -> DeliveryWorker:
        return DeliveryWorker(self.runtime, build_senders(self.runtime.settings), **options)  # type: ignore[arg-type]

    async def deliver_all(self, worker: DeliveryWorker | None = None, rounds: int = 200) -> None:
        """Run the worker until nothing more is claimed, then close finished broadcasts."""
        worker = worker or self.worker()
        try:
            for _ in range(rounds):
                if not await worker.run_once():
                    break
        finally:
            await worker.aclose()
        await self.broadcasts.tick()

    async def contact(
        self,
        channel: str,
        address: str,
        language: str = "sv",
        *,
        feedback: bool = True,
        source: str | None = None,
        last_inbound: dt.timedelta | None = dt.timedelta(hours=1),
        unreachable: bool = False,
        campaign: str = "karlslund",
    ) -> None:
        """A contact as a finished dialog leaves it (its address kept for återkoppling)."""
        vault = self.runtime.vault
        now = self.clock()
        async with self.runtime.database.sessions() as session, session.begin():
            session.add(
                Contact(
                    channel=channel,
                    address_hash=vault.lookup_hash(channel, address),
                    address_enc=vault.encrypt(address),
                    campaign_id=campaign,
                    source=source,
                    language=language,
                    feedback_wanted=feedback,
                    unreachable=unreachable,
                    last_inbound_at=None if last_inbound is None else now - last_inbound,
                    created_at=now - dt.timedelta(days=3),
                )
            )

    async def answer_dialog(self, channel: str, address: str, feedback_answer: str) -> None:
        """A whole Swedish dialog through the service, with this answer to återkoppling."""

        def message(text: str = "", **fields: object) -> InboundMessage:
            return InboundMessage(channel=channel, address=address, text=text, **fields)  # type: ignore[arg-type]

        await self.dialogs.handle(message(start=True, language="sv"))
        for answer in [*UP_TO_FEEDBACK, feedback_answer]:
            await self.dialogs.handle(message(answer))

    async def says(self, channel: str, address: str, text: str) -> tuple[str, ...]:
        handled = await self.dialogs.handle(
            InboundMessage(channel=channel, address=address, text=text)
        )
        return tuple(message.text for message in handled.messages)

    def received(self, channel: str, address: str) -> list[str]:
        """Every text the fake provider accepted for this person."""
        if channel == "telegram":
            return [
                str(p.get("text") or p.get("caption") or "") for p in self.telegram.sent_to(address)
            ]
        if channel == "sms":
            return self.twilio.bodies_to(address)
        if channel == "facebook":
            return self.graph.texts_to(address)
        raise ValueError(channel)

    def copies(self, channel: str, address: str, marker: str) -> int:
        return sum(marker in text for text in self.received(channel, address))


@asynccontextmanager
async def broadcast_world(database_url: str, **settings: object) -> AsyncIterator[BroadcastWorld]:
    with Fakes() as fakes:
        # Our worker decides who is inside their Messenger window (from the contacts'
        # last message); the fake takes every send as in time.
        fakes.graph.enforce_window = False
        runtime = await make_runtime(
            database_url,
            Clock(),
            public_url="https://dialog.example.se",
            **fakes.settings(),
            **settings,
        )
        try:
            yield BroadcastWorld(runtime, fakes.telegram, fakes.twilio, fakes.graph)
        finally:
            await drop_runtime(runtime)

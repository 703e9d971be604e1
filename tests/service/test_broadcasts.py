"""Återkoppling broadcasts on SQLite and PostgreSQL, through the fake providers: who gets
it, in which language, what the report says, and what staff can and cannot do."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest
from sqlalchemy import select

from storage.models import AuditEntry, Broadcast, OutboxMessage
from tests.service.broadcast_world import FEEDBACK_HERE, FEEDBACK_NO, broadcast_world
from trygg.service.broadcast_reach import web_inbox
from trygg.service.broadcast_report import dry_run, report
from trygg.service.broadcast_spec import BroadcastSpec
from trygg.service.broadcasts import BroadcastError, Broadcasts
from trygg.web.app import create_app

SV = "Tack för att ni svarade. Belysningen vid Kopparängen byts i mars. [sv-1]"
EN = "Thank you for answering. The lights at Kopparängen are replaced in March. [en-1]"
AR = "شكرا لإجاباتكم. سيتم تغيير الإضاءة في كوبارانغن في مارس. [ar-1]"
LINK = "https://karlslund.example.se/resultat"


def spec(**changes: object) -> BroadcastSpec:
    fields: dict[str, object] = {
        "campaign_id": "karlslund",
        "name": "Återkoppling hösten 2026",
        "texts": {"sv": SV, "en": EN, "ar": AR},
        "link": LINK,
    }
    fields.update(changes)
    return BroadcastSpec(**fields)  # type: ignore[arg-type]


async def outbox_rows(broadcasts: Broadcasts, broadcast_id: int) -> list[OutboxMessage]:
    async with broadcasts.runtime.database.sessions() as session:
        query = select(OutboxMessage).where(OutboxMessage.broadcast_id == broadcast_id)
        return list((await session.execute(query)).scalars())


async def test_a_broadcast_reaches_exactly_the_people_who_asked_in_their_language(
    database_url: str,
) -> None:
    async with broadcast_world(database_url) as world:
        # Real dialogs: one web visitor and one SMS number ask for it here, one declines.
        await world.answer_dialog("web", "visitor-yes-0000000000", FEEDBACK_HERE)
        await world.answer_dialog("web", "visitor-no-00000000000", FEEDBACK_NO)
        await world.answer_dialog("sms", "+46701111111", FEEDBACK_HERE)
        # Others as finished dialogs leave them.
        await world.contact("telegram", "1001", "en")
        await world.contact("telegram", "1002", "ar")
        await world.contact("telegram", "1003", "sv", feedback=False)
        await world.contact("telegram", "1004", "sv")  # writes STOPP below
        await world.contact("sms", "+46702222222", "ar")  # writes RADERA below
        await world.contact("sms", "+46703333333", "so")  # Somali: gets the Swedish text
        await world.contact("facebook", "7001", "sv", last_inbound=dt.timedelta(hours=2))
        await world.contact("facebook", "7002", "ar", last_inbound=dt.timedelta(days=3))
        await world.contact("facebook", "7003", "sv", unreachable=True)
        await world.contact("telegram", "1009", "sv", campaign="another-campaign")
        await world.says("telegram", "1004", "STOPP")
        await world.says("sms", "+46702222222", "RADERA")
        await world.deliver_all()  # the dialogs' own messages go first
        before = {addr: len(world.received(ch, addr)) for ch, addr in
                  [("telegram", "1004"), ("sms", "+46702222222")]}  # fmt: skip

        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        with pytest.raises(BroadcastError, match=r"no text in so \(1 people\)"):
            await broadcasts.send(broadcast_id, "staff@test")
        assert await broadcasts.send(broadcast_id, "staff@test", fallback=["so"]) == 7
        await world.deliver_all()

        assert world.copies("telegram", "1001", "[en-1]") == 1
        assert world.copies("telegram", "1002", "[ar-1]") == 1
        assert world.copies("sms", "+46701111111", "[sv-1]") == 1
        assert world.copies("sms", "+46703333333", "[sv-1]") == 1
        assert world.copies("facebook", "7001", "[sv-1]") == 1
        nobody = [("telegram", "1003"), ("telegram", "1009"), ("facebook", "7002"),
                  ("facebook", "7003")]  # fmt: skip
        for channel, address in nobody:
            assert not any("-1]" in text for text in world.received(channel, address))
        assert len(world.received("telegram", "1004")) == before["1004"]
        assert len(world.received("sms", "+46702222222")) == before["+46702222222"]
        assert LINK in world.received("telegram", "1001")[-1]

        # The web visitor sees it when they next open the chat: then it is delivered.
        visitor = world.runtime.vault.lookup_hash("web", "visitor-yes-0000000000")
        [news] = await web_inbox(world.runtime, visitor)
        assert "[sv-1]" in news.text
        assert await web_inbox(world.runtime, visitor) == []

        result = await report(broadcasts, broadcast_id)
        assert result.total.queued == 7 and result.total.adds_up()
        assert result.rows[("facebook", "ar")].waiting == 1
        assert result.rows[("web", "sv")].delivered == 1
        assert result.rows[("sms", "so")].sent == 1
        assert result.total.sent + result.total.delivered == 6
        assert result.state == "done"

        # The closed-window person writes: their copy goes right after the reply.
        await world.says("facebook", "7002", "hej")
        await world.deliver_all()
        assert world.copies("facebook", "7002", "[ar-1]") == 1
        assert (await report(broadcasts, broadcast_id)).total.waiting == 0


async def test_an_opt_out_or_erasure_during_sending_drops_that_copy(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        for n in range(3):
            await world.contact("telegram", f"20{n}", "sv")
        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        assert await broadcasts.send(broadcast_id, "staff@test") == 3
        await world.says("telegram", "200", "STOPP")
        await world.says("telegram", "201", "RADERA")
        await world.deliver_all()
        assert world.copies("telegram", "202", "[sv-1]") == 1
        assert world.copies("telegram", "200", "[sv-1]") == 0
        assert world.copies("telegram", "201", "[sv-1]") == 0
        result = await report(broadcasts, broadcast_id)
        assert result.total.skipped == 2 and result.total.adds_up()
        assert dict(result.total.skips) == {"opted out": 1, "erased": 1}


async def test_resultat_gives_the_latest_published_text_on_any_channel(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        await world.contact("telegram", "300", "en", feedback=False)
        before = await world.says("telegram", "300", "RESULTAT")
        assert not any("[en-1]" in text for text in before)
        broadcasts = world.broadcasts
        draft = await broadcasts.create(spec(), "staff@test")
        assert not any("[en-1]" in t for t in await world.says("telegram", "300", "RESULTAT"))
        await broadcasts.send(draft, "staff@test")  # nobody opted in: published all the same
        [reply] = await world.says("telegram", "300", "RESULTAT")
        assert "[en-1]" in reply and LINK in reply
        [reply] = await world.says("sms", "+46704444444", "RESULTAT")
        assert "[sv-1]" in reply
        newer = await broadcasts.create(spec(texts={"sv": "Nytt besked. [sv-2]"}), "staff@test")
        await broadcasts.send(newer, "staff@test")
        [reply] = await world.says("telegram", "300", "RESULTAT")
        assert "[sv-2]" in reply  # no English text in the newer one: Swedish


async def test_pause_holds_the_copies_and_resume_sends_each_once(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        for n in range(6):
            await world.contact("facebook", f"710{n}", "sv")
        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        await broadcasts.send(broadcast_id, "staff@test")
        await broadcasts.pause(broadcast_id, "staff@test")
        worker = world.worker()
        assert await worker.run_once() == 0
        assert sum(world.copies("facebook", f"710{n}", "[sv-1]") for n in range(6)) == 0
        with pytest.raises(BroadcastError, match="paused"):
            await broadcasts.pause(broadcast_id, "staff@test")
        await broadcasts.tick()
        assert (await broadcasts.get(broadcast_id)).state == "paused"  # not done while held
        await broadcasts.resume(broadcast_id, "staff@test")
        await world.deliver_all(worker)
        assert [world.copies("facebook", f"710{n}", "[sv-1]") for n in range(6)] == [1] * 6
        assert (await broadcasts.get(broadcast_id)).state == "done"


async def test_cancel_drops_what_is_not_yet_sent(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        for n in range(4):
            await world.contact("sms", f"+4670555000{n}", "sv")
        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        await broadcasts.send(broadcast_id, "staff@test")
        assert await broadcasts.cancel(broadcast_id, "staff@test") == 4
        await world.deliver_all()
        assert world.twilio.sends() == []
        result = await report(broadcasts, broadcast_id)
        assert dict(result.total.skips) == {"broadcast cancelled": 4}
        with pytest.raises(BroadcastError, match="cancelled"):
            await broadcasts.resume(broadcast_id, "staff@test")
        async with world.runtime.database.sessions() as session:
            actions = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert {"broadcast.create", "broadcast.send", "broadcast.cancel"} <= set(actions)


async def test_live_replies_go_before_a_queued_broadcast(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        for n in range(40):
            await world.contact("telegram", f"40{n:02d}", "sv")
        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        await broadcasts.send(broadcast_id, "staff@test")
        # One of them writes after the broadcast was queued: the reply is not held behind
        # their own copy, nor behind anyone else's.
        await world.says("telegram", "4039", "HJÄLP")
        worker = world.worker()
        await worker.run_once()  # one round: about a second of Telegram's rate
        first = world.received("telegram", "4039")
        assert first and "[sv-1]" not in first[0]
        await world.deliver_all(worker)
        assert world.copies("telegram", "4039", "[sv-1]") == 1


async def test_a_scheduled_broadcast_starts_when_due(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        await world.contact("telegram", "500", "sv")
        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        at = world.clock() + dt.timedelta(hours=2)
        assert await broadcasts.send(broadcast_id, "staff@test", at=at) == 0
        await broadcasts.tick()
        assert (await broadcasts.get(broadcast_id)).state == "scheduled"
        await world.contact("telegram", "501", "sv")  # joins before it starts: included
        world.clock.advance(hours=2)
        await broadcasts.tick()
        assert (await broadcasts.get(broadcast_id)).audience_size == 2
        await world.deliver_all()
        assert world.copies("telegram", "500", "[sv-1]") == 1
        assert world.copies("telegram", "501", "[sv-1]") == 1


async def test_a_broadcast_starts_once_when_two_processes_try(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        for n in range(5):
            await world.contact("telegram", f"60{n}", "sv")
        broadcast_id = await world.broadcasts.create(spec(), "staff@test")
        outcomes = await asyncio.gather(
            Broadcasts(world.runtime).send(broadcast_id, "a"),
            Broadcasts(world.runtime).send(broadcast_id, "b"),
            return_exceptions=True,
        )
        assert sorted(str(o) if isinstance(o, Exception) else "5" for o in outcomes)[0] == "5"
        assert sum(isinstance(o, BroadcastError) for o in outcomes) == 1
        assert len(await outbox_rows(world.broadcasts, broadcast_id)) == 5


async def test_drafts_with_empty_or_placeholder_texts_are_refused(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        broadcasts = world.broadcasts
        bad = {
            "sv": "   ",
            "en": "TODO: translate",
            "ar": "{{text}}",
            "xx": "Hello",
        }
        with pytest.raises(BroadcastError) as refused:
            await broadcasts.create(spec(texts=bad, link="ftp://x"), "staff@test")
        message = str(refused.value)
        for expected in ["text sv: the text is empty", "text en: the text still holds",
                         "text ar: the text still holds", "text xx: the campaign has no such",
                         "link 'ftp://x'"]:  # fmt: skip
            assert expected in message
        with pytest.raises(BroadcastError, match="text sv: missing"):
            await broadcasts.create(spec(texts={"en": EN}), "staff@test")
        async with world.runtime.database.sessions() as session:
            assert (await session.execute(select(Broadcast))).first() is None


async def test_dry_run_counts_people_and_sms_cost_without_writing(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        await world.contact("sms", "+46706000001", "sv")
        await world.contact("sms", "+46706000002", "ar")
        await world.contact("sms", "+46706000003", "pl")
        await world.contact("telegram", "700", "en")
        await world.contact("whatsapp", "whatsapp:+46706000009", "sv")  # WhatsApp is off here
        broadcasts = world.broadcasts
        broadcast_id = await broadcasts.create(spec(), "staff@test")
        planned = await dry_run(broadcasts, broadcast_id)
        assert planned.people == 4
        assert planned.rows[("sms", "pl")].no_text == 1
        assert planned.missing == {"pl": 1}
        assert planned.disabled == {"whatsapp": 1}
        # Swedish twice (GSM-7, Polish falls back to it) and Arabic once (UCS-2).
        assert planned.rows[("sms", "ar")].sms_segments > planned.rows[("sms", "sv")].sms_segments
        assert planned.sms_cost == round(planned.sms_segments * 0.07, 2) > 0
        assert await outbox_rows(broadcasts, broadcast_id) == []


async def test_a_broadcast_goes_only_to_its_campaigns_opted_in_contacts(
    database_url: str,
) -> None:
    """Whatever mix of contacts: the copies are exactly the opted-in, reachable ones."""
    async with broadcast_world(database_url) as world:
        wanted = set()
        for n in range(30):
            channel = ("telegram", "sms", "facebook", "web")[n % 4]
            address = f"+4670700{n:04d}" if channel == "sms" else f"90{n:03d}"
            feedback, unreachable = n % 3 != 0, n % 7 == 0
            campaign = "karlslund" if n % 5 else "other"
            await world.contact(channel, address, ("sv", "en", "ar")[n % 3], feedback=feedback,
                                unreachable=unreachable, campaign=campaign)  # fmt: skip
            if feedback and not unreachable and campaign == "karlslund":
                wanted.add((channel, world.runtime.vault.lookup_hash(channel, address)))
        broadcast_id = await world.broadcasts.create(spec(), "staff@test")
        await world.broadcasts.send(broadcast_id, "staff@test")
        rows = await outbox_rows(world.broadcasts, broadcast_id)
        assert {(row.channel, row.recipient_key) for row in rows} == wanted
        assert len(rows) == len(wanted)


async def test_a_web_visitor_sees_the_broadcast_on_their_next_visit(database_url: str) -> None:
    async with broadcast_world(database_url) as world:
        await world.answer_dialog("web", "visitor-web-000000000000", FEEDBACK_HERE)
        broadcast_id = await world.broadcasts.create(spec(), "staff@test")
        await world.broadcasts.send(broadcast_id, "staff@test")
        app = create_app(world.runtime, run_worker=False)
        transport = httpx.ASGITransport(app=app)
        cookies = {"trygg_chat": "visitor-web-000000000000"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as http:
            first = (await http.get("/chat/api/current")).json()
            again = (await http.get("/chat/api/current")).json()
        assert any("[sv-1]" in message["text"] for message in first["messages"])
        assert not any("[sv-1]" in message["text"] for message in again["messages"])
        assert (await report(world.broadcasts, broadcast_id)).total.delivered == 1

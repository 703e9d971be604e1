"""Messenger end to end: Meta's signed deliveries -> webhook -> service -> outbox ->
worker -> a local fake Graph API. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import Contact, InboundKey, OutboxMessage
from tests.bots.facebook.fake_graph_api import FakeGraphApi
from tests.bots.facebook.signing import (
    APP_SECRET,
    OTHER_PERSON,
    PAGE_TOKEN,
    PERSON,
    VERIFY_TOKEN,
    attachment_event,
    delivery,
    delivery_event,
    echo_event,
    encode,
    entry,
    postback_event,
    quick_reply_event,
    read_event,
    referral_event,
    signed_headers,
    text_event,
)
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.export import export_rows
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime
from trygg.web.app import create_app

PUBLIC = "https://dialog.example.se"
Messenger = tuple[Runtime, httpx.AsyncClient]


@pytest.fixture
async def messenger(database_url: str, fake_graph: FakeGraphApi) -> AsyncIterator[Messenger]:
    runtime = await make_runtime(
        database_url, Clock(), public_url=PUBLIC, facebook_page_token=PAGE_TOKEN,
        facebook_app_secret=APP_SECRET, facebook_verify_token=VERIFY_TOKEN,
        facebook_api=fake_graph.root,
    )  # fmt: skip
    fake_graph.clock = lambda: runtime.clock().timestamp()  # one clock for both sides
    app = create_app(runtime, run_worker=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://backend:8000") as http:
        yield runtime, http
    await drop_runtime(runtime)


class Person:
    """Someone on Messenger: posts signed deliveries, reads what the fake Graph API got."""

    def __init__(self, setup: Messenger, fake: FakeGraphApi, psid: str = PERSON) -> None:
        self.runtime, self.http = setup
        self.fake, self.psid = fake, psid

    async def post(self, payload: dict[str, Any], *, secret: str = APP_SECRET) -> httpx.Response:
        body = encode(payload)  # as Meta sends it: non-ASCII escaped, signed over these bytes
        self.fake.record_inbound(payload)
        response = await self.http.post(
            "/webhooks/facebook", content=body, headers=signed_headers(body, secret)
        )
        await self.deliver()
        return response

    async def event(self, event: dict[str, Any]) -> httpx.Response:
        return await self.post(delivery(entry(event)))

    async def say(self, text: str) -> httpx.Response:
        return await self.event(text_event(self.psid, text))

    async def tap(self, title: str) -> httpx.Response:
        """Tap the quick reply titled ``title`` on the last message."""
        replies = self.quick_replies()
        payload = next(r["payload"] for r in replies if r["title"] == title)
        return await self.event(quick_reply_event(self.psid, title, payload))

    async def deliver(self) -> None:
        worker = DeliveryWorker(self.runtime, build_senders(self.runtime.settings))
        try:
            while await worker.run_once():
                pass
        finally:
            await worker.aclose()

    def received(self) -> list[str]:
        return self.fake.texts_to(self.psid)

    def quick_replies(self) -> list[dict[str, str]]:
        sent = self.fake.sent_to(self.psid)
        replies: list[dict[str, str]] = sent[-1].get("quick_replies", []) if sent else []
        return replies


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def statuses(runtime: Runtime) -> list[str]:
    async with runtime.database.sessions() as session:
        rows = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row.status for row in rows.scalars()]


def clock_of(runtime: Runtime) -> Clock:
    assert isinstance(runtime.clock, Clock)
    return runtime.clock


# -- verification ---------------------------------------------------------------------------


async def test_verification_echoes_the_challenge_only_for_our_token(messenger: Messenger) -> None:
    _, http = messenger
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    good = await http.get("/webhooks/facebook", params=params)
    assert (good.status_code, good.text) == (200, "1158201444")
    bad = await http.get("/webhooks/facebook", params=params | {"hub.verify_token": "guess"})
    wrong_mode = await http.get("/webhooks/facebook", params=params | {"hub.mode": "x"})
    missing = await http.get("/webhooks/facebook")
    assert [r.status_code for r in (bad, wrong_mode, missing)] == [403, 403, 403]


async def test_the_paths_are_404_while_messenger_is_off(database_url: str) -> None:
    runtime = await make_runtime(database_url, Clock())
    transport = httpx.ASGITransport(app=create_app(runtime, run_worker=False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        codes = [(await http.get("/webhooks/facebook")).status_code,
                 (await http.post("/webhooks/facebook", content=b"{}")).status_code]  # fmt: skip
    await drop_runtime(runtime)
    assert codes == [404, 404]


# -- whole dialogs ----------------------------------------------------------------------------


async def answer_everything(person: Person, language_title: str) -> None:
    """Go through the whole questionnaire by tapping, as people do: the language, then for
    each question its first choice (for a multiple choice, one choice and then Done), and
    words where a question wants text (its only quick reply is Skip)."""
    await person.tap(language_title)
    chosen: set[str] = set()
    for _ in range(40):
        replies = person.quick_replies()
        choices = [r for r in replies if not r["payload"].endswith(("_skip", "_done"))]
        done = next((r for r in replies if r["payload"].endswith("_done")), None)
        if not replies:
            rows = await export_rows(person.runtime)
            if rows and rows[0]["completed_at"]:
                return
            raise AssertionError(f"stuck at: {person.received()[-1]!r}")
        if not choices:
            await person.say("Det är mörkt vid kiosken")
        elif done is not None and done["payload"].split(":")[0] in chosen:
            await person.tap(done["title"])
        else:
            chosen.add(choices[0]["payload"].split(":")[0])
            await person.tap(choices[0]["title"])
    raise AssertionError("the questionnaire did not finish")


@pytest.mark.parametrize(("language", "menu_title"), [("sv", "Svenska"), ("ar", "العربية")])
async def test_a_whole_dialog_with_quick_replies_reaches_the_export(
    messenger: Messenger, fake_graph: FakeGraphApi, language: str, menu_title: str
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    started = await person.event(
        postback_event(PERSON, "GET_STARTED", "Kom igång", referral="badet")
    )
    assert (started.status_code, started.text) == (200, "EVENT_RECEIVED")
    titles = [reply["title"] for reply in person.quick_replies()]
    assert "Svenska" in titles and "العربية" in titles and "English" in titles
    await answer_everything(person, menu_title)
    [row] = await export_rows(runtime)
    assert (row["channel"], row["language"], row["source"]) == ("facebook", language, "badet")
    assert row["completed_at"] is not None and len(row["answers"]) >= 8
    sends = fake_graph.sends()
    assert sends and all(call.body["messaging_type"] == "RESPONSE" for call in sends)
    assert all(
        len(r["title"]) <= 20
        for call in sends
        for r in call.body["message"].get("quick_replies", [])
    )
    if language == "ar":
        assert any("الشرطة" in text for text in person.received())


async def test_escaped_non_ascii_text_is_stored_as_written(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    await person.say("TRYGG")
    await person.tap("Svenska")
    text = "Mörkt vid kiosken 🌙 – الإضاءة سيئة"
    assert b"\\u00f6" in encode(delivery(entry(text_event(PERSON, text))))
    await person.say(text)
    [row] = await export_rows(runtime)
    assert row["answers"]["problems"] == text


# -- deliveries ---------------------------------------------------------------------------------


async def test_a_batched_delivery_handles_every_event_of_every_entry(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    payload = delivery(
        entry(text_event(PERSON, "TRYGG"), read_event(PERSON, 1)),
        entry(referral_event(OTHER_PERSON, "badet"), echo_event(OTHER_PERSON, "Hej")),
    )
    response = await person.post(payload)
    assert response.status_code == 200
    assert fake_graph.texts_to(PERSON) and fake_graph.texts_to(OTHER_PERSON)
    async with runtime.database.sessions() as session:
        contacts = {c.address_hash: c for c in (await session.execute(select(Contact))).scalars()}
    other = contacts[runtime.vault.lookup_hash("facebook", OTHER_PERSON)]
    assert other.source == "badet" and len(contacts) == 2


async def test_a_duplicate_mid_is_acted_on_once(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    person = Person(messenger, fake_graph)
    payload = delivery(entry(text_event(PERSON, "TRYGG", mid="m_the-same-one")))
    assert (await person.post(payload)).status_code == 200
    assert (await person.post(payload)).status_code == 200
    assert len(person.received()) == 1


async def test_forged_and_missing_signatures_get_403_and_nothing_is_stored(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, http = messenger
    person = Person(messenger, fake_graph)
    forged = await person.post(delivery(entry(text_event(PERSON, "TRYGG"))), secret="not-it")
    body = encode(delivery(entry(text_event(PERSON, "TRYGG"))))
    missing = await http.post("/webhooks/facebook", content=body)
    # A signature for one body does not cover another.
    other = encode(delivery(entry(text_event(PERSON, "TRYGG BADET"))))
    replayed = await http.post("/webhooks/facebook", content=other, headers=signed_headers(body))
    assert [forged.status_code, missing.status_code, replayed.status_code] == [403, 403, 403]
    assert await count(runtime, InboundKey) == 0 and await count(runtime, Contact) == 0
    assert fake_graph.sends() == []


@pytest.mark.parametrize(
    "event",
    [
        referral_event(PERSON, "badet"),
        postback_event(PERSON, "GET_STARTED", "Start", referral="badet"),
    ],
    ids=["existing-thread", "new-thread"],
)
async def test_referral_sources(
    messenger: Messenger, fake_graph: FakeGraphApi, event: dict[str, Any]
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    await person.event(event)
    await person.tap("Svenska")
    await person.say("Inget särskilt")
    [row] = await export_rows(runtime)
    assert (row["channel"], row["source"]) == ("facebook", "badet")


async def test_echoes_deliveries_reads_and_attachments_are_handled_sensibly(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    await person.say("TRYGG")
    [mid] = fake_graph.message_ids_to(PERSON)
    for event in (
        echo_event(PERSON, "Välj språk"),
        read_event(PERSON, 1),
        delivery_event(PERSON, [mid], 1),
    ):
        assert (await person.event(event)).status_code == 200
    assert await statuses(runtime) == ["delivered"]  # the delivery report was recorded
    assert len(person.received()) == 1  # and none of them was answered
    await person.tap("Svenska")
    await person.event(attachment_event(PERSON))
    assert person.received()[-1].startswith("Jag kan bara läsa text.")


async def test_menu_postbacks_mean_their_keywords(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    person = Person(messenger, fake_graph)
    await person.say("TRYGG")
    await person.tap("English")
    await person.event(postback_event(PERSON, "MENU:STOP", "Stop messages"))
    assert "Write START if you want to take part again." in person.received()[-1]
    await person.event(postback_event(PERSON, "MENU:START", "Take part"))
    confirmation, *beginning = person.received()[-3:]
    assert confirmation.startswith("Welcome back!") and beginning


# -- the 24-hour window ---------------------------------------------------------------------


async def test_outside_the_window_a_reminder_waits_then_goes_after_the_next_message(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    await person.say("TRYGG")
    await person.tap("Svenska")
    sent = len(fake_graph.sends())
    clock_of(runtime).advance(hours=25)
    await DialogService(runtime).tick_idle()
    await person.deliver()
    assert len(fake_graph.sends()) == sent  # the outbox did not even try
    assert (await statuses(runtime))[-1] == "waiting"
    await person.say("RESULTAT")  # they write: the window opens
    texts = person.received()
    assert any(text.startswith("Hej igen!") for text in texts[-3:])
    assert "waiting" not in await statuses(runtime)


async def test_metas_outside_window_error_makes_a_message_wait(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    fake_graph.fail_next(400, 10, "(#10) This message is sent outside of allowed window.",
                         subcode=2018278)  # fmt: skip
    await person.say("TRYGG")
    assert await statuses(runtime) == ["waiting"]
    await person.say("hej")
    assert "waiting" not in await statuses(runtime)
    assert "Choose language" in person.received()[0]


# -- errors by kind ----------------------------------------------------------------------------


async def test_a_rate_limit_is_retried_with_backoff(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    fake_graph.rate_limit_next()
    await person.say("TRYGG")
    assert person.received() == [] and await statuses(runtime) == ["pending"]
    clock_of(runtime).advance(minutes=2)
    fake_graph.server_error_next()
    await person.deliver()
    assert person.received() == []
    clock_of(runtime).advance(minutes=5)
    await person.deliver()
    assert len(person.received()) == 1


async def test_an_unavailable_person_is_marked_unreachable(
    messenger: Messenger, fake_graph: FakeGraphApi
) -> None:
    runtime, _ = messenger
    person = Person(messenger, fake_graph)
    await person.say("TRYGG")
    fake_graph.blocked(PERSON)
    await person.tap("Svenska")
    async with runtime.database.sessions() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert contact.unreachable
    assert "pending" not in await statuses(runtime)


# -- one captured delivery per event kind ---------------------------------------------------

# fixture -> how many people are answered (each message, postback or referral starts or
# continues a dialog; echoes, deliveries and reads are acknowledged without a reply)
CAPTURED = {
    "text_sv": 1, "text_arabic": 1, "quick_reply": 1, "postback_get_started": 1,
    "postback_menu": 1, "referral_existing_thread": 1, "attachment_image": 1, "sticker": 1,
    "batch_two_entries": 2, "echo": 0, "delivery": 0, "read": 0,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(CAPTURED))
async def test_each_captured_delivery_kind(
    messenger: Messenger,
    fake_graph: FakeGraphApi,
    facebook_payload: Callable[[str], dict[str, Any]],
    name: str,
) -> None:
    person = Person(messenger, fake_graph)
    response = await person.post(facebook_payload(name))
    assert (response.status_code, response.text) == (200, "EVENT_RECEIVED")
    answered = {call.body["recipient"]["id"] for call in fake_graph.sends()}
    assert len(answered) == CAPTURED[name]
    # Replaying the same delivery (Meta retries) answers nobody again.
    before = len(fake_graph.sends())
    assert (await person.post(facebook_payload(name))).status_code == 200
    assert len(fake_graph.sends()) == before

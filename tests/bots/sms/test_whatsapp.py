"""WhatsApp through the SMS adapter, end to end: ``whatsapp:`` addresses in Twilio's signed
form, replies through the same REST API, and the 24-hour window: outside it a message
waits for the person's next one, unless an approved template can carry it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy import select

from storage.models import Contact, InboundKey, OutboxMessage
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.phone import PUBLIC, Phone
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.export import export_rows
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime
from trygg.web.app import create_app

WHATSAPP_NUMBER = "whatsapp:+46701234567"
OUR_WHATSAPP = "whatsapp:+46769999998"
TEMPLATE_SID = "HX" + "ab" * 16
TEMPLATE = "Trygghetsdialogen i Karlslund: {{1}} Svara när du vill."

Start = Callable[..., Awaitable[tuple[Runtime, Phone]]]


@pytest.fixture
async def start_whatsapp(database_url: str, fake_twilio: FakeTwilio) -> AsyncIterator[Start]:
    """The service with SMS and WhatsApp on; returns it and a WhatsApp phone."""
    made: list[tuple[Runtime, httpx.AsyncClient]] = []

    async def start(**settings: object) -> tuple[Runtime, Phone]:
        runtime = await make_runtime(
            database_url, Clock(), public_url=PUBLIC, twilio_account_sid=fake_twilio.account_sid,
            twilio_auth_token=fake_twilio.auth_token, twilio_from="+46769999999",
            twilio_api=fake_twilio.root, **({"twilio_whatsapp_from": OUR_WHATSAPP} | settings),
        )  # fmt: skip
        app = create_app(runtime, run_worker=False)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://b")
        made.append((runtime, http))
        return runtime, Phone(http, fake_twilio, runtime, WHATSAPP_NUMBER, to=OUR_WHATSAPP)

    yield start
    for runtime, http in made:
        await http.aclose()
        await drop_runtime(runtime)


def clock_of(runtime: Runtime) -> Clock:
    assert isinstance(runtime.clock, Clock)
    return runtime.clock


async def statuses(runtime: Runtime) -> list[str]:
    async with runtime.database.sessions() as session:
        rows = await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))
        return [row.status for row in rows.scalars()]


SWEDISH = ["1", "Mörkt vid kiosken – “farligt”", "1, 3", "Gångtunneln", "2", "3", "hoppa över",
           "3", "1", "2", "3", "hoppa över", "3", "1", "1"]  # fmt: skip


async def test_a_whole_dialog_on_whatsapp_reaches_the_export(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    runtime, phone = await start_whatsapp()
    await phone.send("TRYGG BADET")
    for answer in SWEDISH:
        assert (await phone.send(answer)).status_code == 200
    [row] = await export_rows(runtime)
    assert (row["channel"], row["via"], row["language"], row["source"]) == (
        "sms", "whatsapp", "sv", "badet"
    )  # fmt: skip
    assert row["completed_at"] is not None
    assert row["answers"]["problems"] == "Mörkt vid kiosken – “farligt”"  # kept as written
    sends = fake_twilio.sent_to(WHATSAPP_NUMBER)
    assert len(sends) > len(SWEDISH)
    assert {send["From"] for send in sends} == {OUR_WHATSAPP}
    assert fake_twilio.sent_to("+46701234567") == []  # nothing went as a plain SMS
    # WhatsApp is not paid per segment: the language menu keeps its own scripts.
    assert "العربية" in sends[0]["Body"]


async def test_outside_the_window_a_reminder_waits_for_the_next_message(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    runtime, phone = await start_whatsapp()
    await phone.send("TRYGG")
    await phone.send("1")
    sent_before = len(phone.received())
    clock_of(runtime).advance(hours=25)  # past the reminder time and the 24-hour window
    await DialogService(runtime).tick_idle()
    await phone.deliver()
    assert len(phone.received()) == sent_before  # nothing was even tried
    assert (await statuses(runtime))[-1] == "waiting"
    await phone.send("Mörkt vid kiosken")  # they write: the window opens again
    after = phone.received()[sent_before:]
    assert after[0].startswith("Hej igen!")  # the reminder, first, in its order
    assert "waiting" not in await statuses(runtime)


async def test_an_approved_template_carries_a_message_outside_the_window(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.add_template(TEMPLATE_SID, TEMPLATE)
    runtime, phone = await start_whatsapp(twilio_whatsapp_templates={"sv": TEMPLATE_SID})
    await phone.send("TRYGG")
    await phone.send("1")
    clock_of(runtime).advance(hours=25)
    await DialogService(runtime).tick_idle()
    await phone.deliver()
    last = fake_twilio.sent_to(WHATSAPP_NUMBER)[-1]
    assert last["ContentSid"] == TEMPLATE_SID and "Body" not in last
    assert phone.received()[-1].startswith("Trygghetsdialogen i Karlslund: Hej igen!")
    assert (await statuses(runtime))[-1] == "sent"


async def test_no_template_for_the_language_means_waiting(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.add_template(TEMPLATE_SID, TEMPLATE)
    runtime, phone = await start_whatsapp(twilio_whatsapp_templates={"sv": TEMPLATE_SID})
    await phone.send("TRYGG")
    await phone.send("2")  # English: no English template is configured
    clock_of(runtime).advance(hours=25)
    await DialogService(runtime).tick_idle()
    await phone.deliver()
    assert (await statuses(runtime))[-1] == "waiting"


async def test_twilios_outside_window_error_makes_the_message_wait(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    runtime, phone = await start_whatsapp()
    fake_twilio.fail_next(
        status=400, code=63016, message="Failed to send freeform message because you are "
        "outside the allowed window."
    )  # fmt: skip
    await phone.send("TRYGG")
    assert await statuses(runtime) == ["waiting"]
    await phone.send("1")
    assert "waiting" not in await statuses(runtime)
    assert "Choose language" in phone.received()[0]


async def test_whatsapp_while_off_is_acknowledged_and_nothing_is_kept(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    runtime, phone = await start_whatsapp(twilio_whatsapp_from=None)
    form = phone.form("TRYGG")
    response = await phone.post(form)
    assert response.status_code == 200 and response.text.endswith("<Response></Response>")
    async with runtime.database.sessions() as session:
        assert (await session.execute(select(Contact))).first() is None
        assert (await session.execute(select(InboundKey))).first() is not None
    assert fake_twilio.calls == []


async def test_whatsapp_status_callbacks_update_its_messages(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    runtime, phone = await start_whatsapp()
    await phone.send("TRYGG")
    [sent] = fake_twilio.sent_to(WHATSAPP_NUMBER)
    async with runtime.database.sessions() as session:
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    status = {"MessageSid": row.provider_message_id or "", "MessageStatus": "read",
              "AccountSid": fake_twilio.account_sid, "From": OUR_WHATSAPP,
              "To": WHATSAPP_NUMBER, "ApiVersion": "2010-04-01"}  # fmt: skip
    assert (await phone.post(status, path="/webhooks/sms/status")).status_code == 204
    assert await statuses(runtime) == ["delivered"]
    assert sent["To"] == WHATSAPP_NUMBER


async def test_captured_whatsapp_forms_through_the_webhook(
    start_whatsapp: Start,
    fake_twilio: FakeTwilio,
    twilio_form: Callable[[str], dict[str, str]],
) -> None:
    runtime, phone = await start_whatsapp()
    text = twilio_form("whatsapp_text") | {"AccountSid": fake_twilio.account_sid}
    assert (await phone.post(text)).status_code == 200
    async with runtime.database.sessions() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        row = (await session.execute(select(OutboxMessage))).scalar_one()
    assert (contact.channel, contact.source) == ("whatsapp", "badet")
    [sent] = fake_twilio.sent_to("whatsapp:+46701740606")
    assert sent["From"] == OUR_WHATSAPP
    read = twilio_form("whatsapp_status_read") | {"MessageSid": row.provider_message_id or ""}
    assert (await phone.post(read, path="/webhooks/sms/status")).status_code == 204
    assert await statuses(runtime) == ["delivered"]


async def test_the_stop_confirmation_goes_out_though_the_contact_is_gone(
    start_whatsapp: Start, fake_twilio: FakeTwilio
) -> None:
    runtime, phone = await start_whatsapp()
    await phone.send("TRYGG")
    await phone.send("STOPP")
    assert "Skriv START" in phone.received()[-1]
    assert await statuses(runtime) == ["sent", "sent"]

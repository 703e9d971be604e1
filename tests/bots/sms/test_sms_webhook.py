"""The SMS channel end to end: Twilio's signed form -> webhook -> service -> outbox ->
worker -> a local fake Twilio REST server. On SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from storage.models import Contact, InboundKey, OutboxMessage
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.phone import PHONE, PUBLIC, Phone
from tests.service_helpers import Clock, drop_runtime, make_runtime
from trygg.export import export_rows
from trygg.service.runtime import Runtime
from trygg.web.app import create_app


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


SWEDISH = ["1", "Mörkt vid kiosken", "1, 3", "Gångtunneln", "2", "3", "hoppa över", "3", "1",
           "2", "3", "hoppa över", "3", "1", "1"]  # fmt: skip
ARABIC = ["3", "الإضاءة سيئة 🌙", "١،٣", "قرب المدرسة", "٢", "٣", "تخطي", "٣", "١", "٢", "٣",
          "تخطي", "٣", "١", "١"]  # fmt: skip


@pytest.mark.parametrize(("language", "answers"), [("sv", SWEDISH), ("ar", ARABIC)])
async def test_a_whole_dialog_by_sms_reaches_the_export(
    sms: tuple[Runtime, httpx.AsyncClient],
    fake_twilio: FakeTwilio,
    language: str,
    answers: list[str],
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    response = await phone.send("TRYGG BADET")
    assert response.status_code == 200 and response.text.endswith("<Response></Response>")
    assert "Choose language" in phone.received()[0]
    for answer in answers:
        assert (await phone.send(answer)).status_code == 200
    [row] = await export_rows(runtime)
    assert (row["channel"], row["language"], row["source"]) == ("sms", language, "badet")
    assert row["completed_at"] is not None
    assert row["answers"]["where"] == ["kopparangen", "pilangen"]
    assert row["answers"]["feedback"] == "here"
    # Every send carried the status callback, and no reply went in the webhook's response.
    calls = fake_twilio.calls
    assert calls and all(
        call.params["StatusCallback"] == PUBLIC + "/webhooks/sms/status" for call in calls
    )
    if language == "sv":  # Swedish stays in the cheaper GSM-7 encoding
        assert all(
            not any(ord(c) > 0x7F and c not in "åäöÅÄÖéÉüÜ" for c in body)
            for body in phone.received()[1:]
        )


async def test_forged_and_missing_signatures_get_403_and_nothing_is_stored(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    forged = await phone.post(phone.form("TRYGG"), token="not-the-token")
    missing = await http.post("/webhooks/sms", data=phone.form("TRYGG"))
    assert (forged.status_code, missing.status_code) == (403, 403)
    assert await count(runtime, InboundKey) == 0 and await count(runtime, Contact) == 0
    assert fake_twilio.calls == []


async def test_a_repeated_message_sid_is_acted_on_once(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    form = phone.form("TRYGG")
    assert (await phone.post(form)).status_code == 200
    assert (await phone.post(dict(form))).status_code == 200
    assert len(phone.received()) == 1


async def test_an_opt_out_at_twilio_erases_the_contact(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await phone.send("TRYGG")
    fake_twilio.opted_out(PHONE)
    await phone.send("1")
    assert await count(runtime, Contact) == 0
    async with runtime.database.sessions() as session:
        statuses = [row.status for row in (await session.execute(select(OutboxMessage))).scalars()]
    assert statuses.count("failed") == 1 and "pending" not in statuses


async def test_429_and_5xx_are_retried(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    clock = runtime.clock
    assert isinstance(clock, Clock)
    phone = Phone(http, fake_twilio, runtime)
    fake_twilio.rate_limit_next()
    await phone.send("TRYGG")
    assert phone.received() == []
    clock.advance(minutes=1)
    fake_twilio.server_error_next()
    await phone.deliver()
    assert phone.received() == []
    clock.advance(minutes=5)
    await phone.deliver()
    assert len(phone.received()) == 1


async def test_status_callbacks_update_the_outbox(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await phone.send("TRYGG")
    async with runtime.database.sessions() as session:
        sent = (await session.execute(select(OutboxMessage))).scalar_one()
    status = {"MessageSid": sent.provider_message_id or "", "MessageStatus": "undelivered",
              "ErrorCode": "30003", "AccountSid": fake_twilio.account_sid, "From": "+46769999999",
              "To": PHONE, "ApiVersion": "2010-04-01"}  # fmt: skip
    assert (await phone.post(status, path="/webhooks/sms/status")).status_code == 204
    async with runtime.database.sessions() as session:
        updated = (await session.execute(select(OutboxMessage))).scalar_one()
    assert (updated.status, updated.last_error) == ("undelivered", "30003")
    forged = await http.post(
        "/webhooks/sms/status", data=status, headers={"X-Twilio-Signature": "x"}
    )
    assert forged.status_code == 403


async def test_an_mms_without_text_gets_a_kind_reask(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await phone.send("TRYGG")
    await phone.send("1")
    form = phone.form("") | {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/m/1",
                             "MediaContentType0": "image/jpeg"}  # fmt: skip
    await phone.post(form)
    assert phone.received()[-1].startswith("Jag kan bara läsa text.")


async def test_the_sms_paths_are_404_while_sms_is_off(database_url: str) -> None:
    runtime = await make_runtime(database_url, Clock())
    app = create_app(runtime, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as http:
        codes = [(await http.post(path, data={"a": "b"})).status_code
                 for path in ("/webhooks/sms", "/webhooks/sms/status")]  # fmt: skip
    await drop_runtime(runtime)
    assert codes == [404, 404]


def test_twilio_published_signature_vector() -> None:
    params = {"CallSid": "CA1234567890ABCDE", "Digits": "1234", "From": "+14158675309",
              "To": "+18005551212", "Caller": "+14158675309"}  # fmt: skip
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    from bots.sms.inbound import is_valid

    assert is_valid("12345", url, params, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid("12345", url, params | {"Digits": "4321"}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not is_valid("12345", url, params, None)


async def test_free_text_is_kept_as_written_emoji_arabic_and_several_lines(
    sms: tuple[Runtime, httpx.AsyncClient], fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await phone.send("TRYGG")
    await phone.send("1")
    text = "Mörkt vid kiosken 🌙\nOch i gångtunneln – “läskigt”…\nالإضاءة سيئة"
    await phone.send(text)
    [row] = await export_rows(runtime)
    assert row["answers"]["problems"] == text

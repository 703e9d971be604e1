"""Opt-out and opt-in by SMS, end to end: STOPP and its Swedish, English, Arabic and
Twilio-default siblings put the number on the opt-out list with one confirmation that
says how to come back; START (and its siblings) takes it off. On SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from dialog_flows.sms_encoding import sms_cost
from storage.models import Contact, OptOut
from tests.bots.sms.fake_twilio import FakeTwilio
from tests.bots.sms.phone import Phone
from tests.service_helpers import Clock
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime

SMS = tuple[Runtime, httpx.AsyncClient]
# What the confirmation must say to come back, in the language the person used.
HOW_TO_COME_BACK = {"sv": "Skriv START", "en": "Write START", "ar": "اكتب START"}


async def opted_out_rows(runtime: Runtime) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(OptOut))).scalar_one())


async def contacts(runtime: Runtime) -> int:
    async with runtime.database.sessions() as session:
        query = select(func.count()).select_from(Contact)
        return int((await session.execute(query)).scalar_one())


def clock_of(runtime: Runtime) -> Clock:
    assert isinstance(runtime.clock, Clock)
    return runtime.clock


async def start_in(phone: Phone, language: str) -> None:
    """TRYGG, then the language from the menu (1 svenska, 2 English, 3 Arabic)."""
    await phone.send("TRYGG")
    await phone.send({"sv": "1", "en": "2", "ar": "3"}[language])


@pytest.mark.parametrize(
    ("word", "language"),
    [("STOPP", "sv"), ("avsluta", "sv"), ("Sluta", "sv"), ("STOP", "en"), ("unsubscribe", "en"),
     ("END", "en"), ("Quit", "en"), ("STOPALL", "en"), ("REVOKE", "en"), ("OPTOUT", "en"),
     ("CANCEL", "en"), ("توقف", "ar"), ("إيقاف", "ar")],
)  # fmt: skip
async def test_each_opt_out_word_is_confirmed_once_with_how_to_opt_in(
    sms: SMS, fake_twilio: FakeTwilio, word: str, language: str
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, language)
    before = len(phone.received())
    await phone.send(word)
    [confirmation] = phone.received()[before:]
    assert HOW_TO_COME_BACK[language] in confirmation
    assert sms_cost(confirmation).segments == (1 if language != "ar" else 2)  # short
    assert await opted_out_rows(runtime) == 1 and await contacts(runtime) == 0
    # The opt-out stops reminders too: nothing more goes out, however long we wait.
    clock_of(runtime).advance(hours=30)
    await runtime_tick(runtime)
    await phone.deliver()
    assert len(phone.received()) == before + 1


async def runtime_tick(runtime: Runtime) -> None:
    await DialogService(runtime).tick_idle()


@pytest.mark.parametrize(
    ("word", "language", "greeting"),
    [("START", "sv", "Välkommen tillbaka!"), ("start", "en", "Welcome back!"),
     ("YES", "sv", "Välkommen tillbaka!"), ("unstop", "en", "Welcome back!"),
     ("ابدأ", "ar", "أهلًا بعودتك!")],
)  # fmt: skip
async def test_an_opt_in_word_confirms_and_starts_again_in_their_language(
    sms: SMS, fake_twilio: FakeTwilio, word: str, language: str, greeting: str
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, language)
    await phone.send("STOP")
    before = len(phone.received())
    await phone.send(word)
    confirmation, *beginning = phone.received()[before:]
    assert confirmation.startswith(greeting)
    assert await opted_out_rows(runtime) == 0 and await contacts(runtime) == 1
    # The dialog starts again in the language they had, without the language menu.
    assert beginning and not any("Choose language" in text for text in beginning)
    assert all(greeting not in text for text in beginning)


async def test_writing_after_opting_out_gets_one_notice_a_day_and_is_not_answered(
    sms: SMS, fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, "sv")
    await phone.send("STOPP")
    before = len(phone.received())
    await phone.send("1")
    await phone.send("hej?")  # a chatty phone, or an auto-reply: no second notice today
    [notice] = phone.received()[before:]
    assert notice == (
        "Du har avslutat och får inga meddelanden från oss. Skriv START om du vill vara med igen."
    )
    assert await contacts(runtime) == 0  # nothing was stored as an answer or a dialog
    clock_of(runtime).advance(hours=25)
    await phone.send("hallå")
    assert len(phone.received()) == before + 2


async def test_the_campaign_keyword_also_opts_in_with_its_source(
    sms: SMS, fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, "en")
    await phone.send("STOP")
    before = len(phone.received())
    await phone.send("TRYGG BADET")
    confirmation, *beginning = phone.received()[before:]
    assert confirmation.startswith("Welcome back!") and "STOP" in confirmation
    assert await opted_out_rows(runtime) == 0
    async with runtime.database.sessions() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert (contact.source, contact.language) == ("badet", "en")
    assert beginning and not any("Choose language" in text for text in beginning)


async def test_yes_is_an_answer_for_everyone_not_on_the_list(
    sms: SMS, fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, "en")
    before = len(phone.received())
    await phone.send("yes")  # not a number: the first question asks again, no opt-in talk
    [reask] = phone.received()[before:]
    assert "Welcome back" not in reask


async def test_erasure_also_puts_the_number_on_the_list(sms: SMS, fake_twilio: FakeTwilio) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, "sv")
    await phone.send("RADERA")
    assert "Skriv START" in phone.received()[-1]
    assert await opted_out_rows(runtime) == 1 and await contacts(runtime) == 0


async def test_an_opt_out_at_twilio_puts_the_number_on_the_list(
    sms: SMS, fake_twilio: FakeTwilio
) -> None:
    runtime, http = sms
    phone = Phone(http, fake_twilio, runtime)
    await start_in(phone, "sv")
    fake_twilio.opted_out(phone.number)  # 21610 from now on
    await phone.send("1")
    assert await opted_out_rows(runtime) == 1
    # Twilio's own START (Advanced Opt-Out) comes in flagged, and opts in here as well.
    fake_twilio.opt_in(phone.number)
    before = len(phone.received())
    await phone.post(phone.form("START") | {"OptOutType": "START"})
    assert phone.received()[before].startswith("Välkommen tillbaka!")
    assert await opted_out_rows(runtime) == 0

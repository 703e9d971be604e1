"""The inbound path on SQLite and PostgreSQL: one message, one transaction, never half."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bots.contract import InboundMessage
from storage import opt_outs
from storage import repositories as repo
from storage.models import (
    Answer,
    Contact,
    Dialog,
    FlowSnapshot,
    InboundKey,
    OutboxMessage,
    Respondent,
)
from tests.service_helpers import Clock
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime


def web(text: str = "", address: str = "visitor-1", **fields: object) -> InboundMessage:
    return InboundMessage(channel="web", address=address, text=text, **fields)  # type: ignore[arg-type]


def sms(text: str, address: str = "+46701234567", delivery_id: str | None = None) -> InboundMessage:
    return InboundMessage(channel="sms", address=address, text=text, delivery_id=delivery_id)


async def count(runtime: Runtime, model: type) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def rows(runtime: Runtime, model: type) -> list:  # type: ignore[type-arg]
    async with runtime.database.sessions() as session:
        return list((await session.execute(select(model))).scalars().all())


async def test_a_dialog_stores_answers_by_id_with_language_and_source(runtime: Runtime) -> None:
    service = DialogService(runtime)
    handled = await service.handle(web(start=True, start_source="badet", language="ar"))
    assert handled.messages[0].direction == "rtl"
    await service.handle(web("الظلام قرب الكشك"))
    await service.handle(web("١، ٣"))
    [respondent] = await rows(runtime, Respondent)
    assert (respondent.channel, respondent.language, respondent.source) == ("web", "ar", "badet")
    assert (respondent.flow_id, respondent.flow_version) == ("karlslund", 1)
    answers = {row.question_id: row.value["v"] for row in await rows(runtime, Answer)}
    assert answers == {"problems": "الظلام قرب الكشك", "where": ["kopparangen", "pilangen"]}
    [snapshot] = await rows(runtime, FlowSnapshot)
    assert snapshot.flow_id == "karlslund" and "flow: karlslund" in snapshot.source_text


async def test_a_repeated_delivery_is_acted_on_once(runtime: Runtime) -> None:
    service = DialogService(runtime)
    await service.handle(sms("TRYGG BADET", delivery_id="SM1"))
    first = await service.handle(sms("1", delivery_id="SM2"))  # Svenska, from the language menu
    again = await service.handle(sms("1", delivery_id="SM2"))
    assert not first.duplicate and again.duplicate and again.messages == ()
    assert await count(runtime, InboundKey) == 2
    outbox = await rows(runtime, OutboxMessage)
    assert len(outbox) == 3  # menu; intro and first question, once
    [respondent] = await rows(runtime, Respondent)
    assert respondent.source == "badet"


async def test_the_sms_keyword_starts_with_a_source_and_a_bare_keyword_without(
    runtime: Runtime,
) -> None:
    service = DialogService(runtime)
    await service.handle(sms("trygg badet", address="+46701111111"))
    await service.handle(sms("TRYGG", address="+46702222222"))
    sources = sorted((r.source or "-") for r in await rows(runtime, Respondent))
    assert sources == ["-", "badet"]


async def test_a_crash_before_commit_stores_nothing_and_the_retry_handles_it(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Simulates the process dying between receiving and replying: the transaction never
    commits, so the provider's retry of the same delivery finds nothing half-done."""
    service = DialogService(runtime)
    await service.handle(web(start=True, language="sv"))
    real_enqueue = repo.enqueue

    async def dying_enqueue(*args: object, **kwargs: object) -> int:
        raise ConnectionResetError("killed mid-way")

    monkeypatch.setattr(repo, "enqueue", dying_enqueue)
    with pytest.raises(ConnectionResetError):
        await service.handle(web("Mörkt vid kiosken", delivery_id="web-1"))
    assert await count(runtime, Answer) == 0
    assert await count(runtime, InboundKey) == 0
    monkeypatch.setattr(repo, "enqueue", real_enqueue)
    retried = await service.handle(web("Mörkt vid kiosken", delivery_id="web-1"))
    assert not retried.duplicate
    answers = {row.question_id: row.value["v"] for row in await rows(runtime, Answer)}
    assert answers == {"problems": "Mörkt vid kiosken"}


async def test_messages_from_one_person_close_together_are_handled_in_turn(
    runtime: Runtime,
) -> None:
    service = DialogService(runtime)
    await service.handle(web(start=True, language="sv"))
    await service.handle(web("hoppa över"))  # now at the multiple choice 'where'
    results = await asyncio.gather(
        *(service.handle(web("1", delivery_id=f"burst-{n}")) for n in range(8))
    )
    assert not any(result.duplicate for result in results)
    [dialog] = await rows(runtime, Dialog)
    # Eight answers of "1", one after the other, each to the question then current.
    assert dialog.state["status"] == "active"
    answered = {row.question_id for row in await rows(runtime, Answer)}
    assert {"where", "where_detail", "when", "told"} <= answered


async def test_the_link_between_person_and_answers_goes_when_the_dialog_ends(
    runtime: Runtime,
) -> None:
    service = DialogService(runtime)
    await service.handle(web(start=True, language="sv"))
    assert await count(runtime, Dialog) == 1
    await service.handle(web("STOPP"))
    assert await count(runtime, Dialog) == 0
    [respondent] = await rows(runtime, Respondent)
    assert respondent.status == "stopped" and respondent.ended_at is not None
    assert await count(runtime, Contact) == 0  # opt-out removes address and preferences


async def test_erasure_removes_the_address_and_unfinished_answers(runtime: Runtime) -> None:
    service = DialogService(runtime)
    await service.handle(sms("TRYGG"))
    await service.handle(sms("1"))
    await service.handle(sms("Mörkt"))
    assert await count(runtime, Answer) == 1
    erased = await service.handle(sms("RADERA"))
    assert erased.messages[0].text.startswith("Dina kontaktuppgifter")
    assert await count(runtime, Contact) == 0
    assert await count(runtime, Answer) == 0 and await count(runtime, Respondent) == 0
    [confirmation] = [row for row in await rows(runtime, OutboxMessage) if row.status == "pending"]
    # The confirmation still has its own copy of the number, to be wiped once sent.
    assert runtime.vault.decrypt(confirmation.address_enc or "") == "+46701234567"


async def test_addresses_are_never_stored_in_plain_text(runtime: Runtime, tmp_path: Path) -> None:
    service = DialogService(runtime)
    phone = "+46709998877"
    await service.handle(sms("TRYGG BADET", address=phone))
    async with runtime.database.sessions() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
    assert phone not in contact.address_hash and phone not in (contact.address_enc or "")
    assert runtime.vault.decrypt(contact.address_enc or "") == phone
    path = runtime.database.engine.url.database
    if runtime.database.is_sqlite and path:
        await runtime.database.engine.dispose()  # flush WAL into the file we read
        data = Path(path).read_bytes() + (
            Path(path + "-wal").read_bytes() if Path(path + "-wal").exists() else b""
        )
        assert phone.encode() not in data and phone[1:].encode() not in data


async def test_feedback_by_sms_keeps_the_number_with_a_new_contact_not_the_answers(
    runtime: Runtime,
) -> None:
    service = DialogService(runtime)
    await service.handle(web(start=True, start_source="ungdomshuset", language="sv"))
    # problems, where (nowhere), told, the four places, more, age group, gender
    for answer in ["hoppa över", "6", "hoppa över", "hoppa över", "1", "1", "1", "1",
                   "hoppa över", "2"]:  # fmt: skip
        await service.handle(web(answer))
    handled = await service.handle(web("2"))  # Ja, via sms
    assert "mobilnummer" in handled.messages[0].text
    done = await service.handle(web("070-123 45 67"))
    assert done.state is not None and done.state.status == "completed"
    contacts = {contact.channel: contact for contact in await rows(runtime, Contact)}
    assert contacts["sms"].feedback_wanted and contacts["sms"].source == "ungdomshuset"
    assert runtime.vault.decrypt(contacts["sms"].address_enc or "") == "+46701234567"
    answers = {row.question_id: row.value["v"] for row in await rows(runtime, Answer)}
    assert answers["feedback"] == "sms"
    assert "+46701234567" not in repr(answers) and "070" not in repr(answers)
    # The web contact did not ask for results here, so its address (the cookie) is gone.
    assert contacts["web"].address_enc is None and not contacts["web"].feedback_wanted


async def test_a_number_on_the_opt_out_list_is_not_kept_for_feedback_by_sms(
    runtime: Runtime,
) -> None:
    async with runtime.database.sessions() as session, session.begin():
        key = runtime.vault.lookup_hash("sms", "+46701234567")
        await opt_outs.suppress(session, "sms", key, "sv")
    service = DialogService(runtime)
    await service.handle(web(start=True, start_source="ungdomshuset", language="sv"))
    for answer in ["hoppa över", "6", "hoppa över", "hoppa över", "1", "1", "1", "1",
                   "hoppa över", "2", "2"]:  # fmt: skip
        await service.handle(web(answer))
    done = await service.handle(web("070-123 45 67"))
    assert done.state is not None and done.state.status == "completed"
    assert [contact.channel for contact in await rows(runtime, Contact)] == ["web"]


async def test_web_chat_stop_then_notice_then_start(runtime: Runtime) -> None:
    service = DialogService(runtime)
    await service.handle(web(start=True, language="en"))
    stopped = await service.handle(web("STOP"))
    assert "Write START if you want to take part again." in stopped.messages[-1].text
    notice = await service.handle(web("hello?"))
    assert [m.text for m in notice.messages] == [
        "You have stopped and get no messages from us. Write START if you want to take part again."
    ]
    assert (await service.handle(web("hello?"))).messages == ()  # once a day at most
    back = await service.handle(web("START"))
    assert back.messages[0].text.startswith("Welcome back!")
    assert back.state is not None and back.state.active and back.state.language == "en"


async def test_start_over_ends_the_old_respondent_and_begins_a_new_one(runtime: Runtime) -> None:
    service = DialogService(runtime)
    await service.handle(web(start=True, language="sv"))
    await service.handle(web("BÖRJA OM"))
    respondents = await rows(runtime, Respondent)
    assert sorted(r.status for r in respondents) == ["active", "restarted"]


async def test_a_session_finishes_on_its_version_after_the_files_change(
    runtime: Runtime,
) -> None:
    service = DialogService(runtime)
    await service.handle(web(start=True, language="sv"))
    # Deploy version 2 with a changed first question; version 1 leaves the files.
    library = runtime.library
    old = library.flows.pop(("karlslund", 1))
    changed = library.sources[("karlslund", 1)].replace("version: 1", "version: 2")
    from dialog_flows.loader import load_flow_text

    library.flows[("karlslund", 2)] = load_flow_text(
        changed.replace("Var känner du dig otrygg?", "NY FRÅGA?"), "v2"
    )
    try:
        handled = await service.handle(web("hoppa över"))
        assert handled.messages[-1].text.startswith("Var känner du dig otrygg?")
        assert handled.state is not None and handled.state.flow_version == 1
        fresh = await service.handle(web(start=True, language="sv", address="visitor-2"))
        assert fresh.state is not None and fresh.state.flow_version == 2
    finally:
        library.flows.pop(("karlslund", 2))
        library.flows[("karlslund", 1)] = old


async def test_reminder_then_expiry_through_the_worker_tick(runtime: Runtime) -> None:
    service = DialogService(runtime)
    await service.handle(sms("TRYGG"))
    await service.handle(sms("1"))
    clock = runtime.clock
    assert isinstance(clock, Clock)
    clock.advance(hours=21)
    assert await service.tick_idle() == 1
    reminders = [
        row
        for row in await rows(runtime, OutboxMessage)
        if row.message["text"].startswith("Hej igen!")
    ]
    assert len(reminders) == 1
    clock.advance(days=7)
    await service.tick_idle()
    [respondent] = await rows(runtime, Respondent)
    assert respondent.status == "expired"
    assert await count(runtime, Dialog) == 0

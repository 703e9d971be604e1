"""Contact data goes when the campaign ends; answers stay."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from bots.contract import InboundMessage
from storage.models import Answer, AuditEntry, Contact, InboundKey
from tests.service_helpers import Clock
from trygg.service.dialogs import DialogService
from trygg.service.retention import run_retention
from trygg.service.runtime import Runtime

PASSWORD = "a password long enough"


async def total(runtime: Runtime, model: type) -> int:
    async with runtime.database.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_contacts_are_erased_after_the_campaign_ends(runtime: Runtime) -> None:
    service = DialogService(runtime)
    for number, phone in enumerate(["+46701111111", "+46702222222"]):
        await service.handle(InboundMessage("sms", phone, f"a{number}", text="TRYGG"))
        await service.handle(InboundMessage("sms", phone, f"b{number}", text="1"))
        await service.handle(InboundMessage("sms", phone, f"c{number}", text="Mörkt"))
    assert await total(runtime, Contact) == 2
    clock = runtime.clock
    assert isinstance(clock, Clock)

    before_end = await run_retention(runtime)
    assert before_end.campaigns_ended == [] and await total(runtime, Contact) == 2

    clock.now = dt.datetime(2027, 7, 1, 9, 0, tzinfo=dt.UTC)  # karlslund ends 2027-06-30
    dry = await run_retention(runtime, dry_run=True)
    assert dry.contacts_erased == 2 and await total(runtime, Contact) == 2

    report = await run_retention(runtime)
    assert report.campaigns_ended == ["karlslund"] and report.contacts_erased == 2
    assert await total(runtime, Contact) == 0
    assert await total(runtime, Answer) == 2  # anonymous answers are public records
    assert report.delivery_ids_forgotten == 6 and await total(runtime, InboundKey) == 0
    async with runtime.database.sessions() as session:
        entries = (await session.execute(select(AuditEntry))).scalars().all()
    assert [entry.action for entry in entries] == ["retention", "retention"]
    assert entries[-1].detail["contacts_erased"] == 2


async def test_expired_staff_sessions_and_old_failed_logins_go(runtime: Runtime) -> None:
    from storage.models import LoginThrottle, StaffSession
    from trygg.staff.accounts import create_user, log_in

    await create_user(runtime, username="anna", password=PASSWORD, role="admin", actor="t")
    assert (await log_in(runtime, "anna", PASSWORD, "10.0.0.1")).token
    assert (await log_in(runtime, "anna", "wrong password!", "10.0.0.1")).token is None
    assert await total(runtime, StaffSession) == 1 and await total(runtime, LoginThrottle) == 2
    clock = runtime.clock
    assert isinstance(clock, Clock)
    clock.advance(hours=7)
    assert (await run_retention(runtime)).staff_sessions_ended == 0  # still valid
    clock.advance(hours=18)
    report = await run_retention(runtime)
    assert report.staff_sessions_ended == 1 and await total(runtime, StaffSession) == 0
    assert await total(runtime, LoginThrottle) == 0

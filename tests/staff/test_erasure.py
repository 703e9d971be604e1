"""Erasing a campaign's contact data from the dashboard (admin): confirmed by typing the
campaign's id, refused while its återkoppling is under way, logged; answers stay."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.models import AuditEntry, Broadcast, Contact
from tests.staff.staff_helpers import staff_client
from trygg.service.runtime import Runtime


async def add_contacts(runtime: Runtime, count: int, campaign: str = "karlslund") -> None:
    async with runtime.database.sessions() as session, session.begin():
        session.add_all(
            Contact(channel="sms", address_hash=f"{campaign}-{n}", address_enc=None,
                    campaign_id=campaign, language="sv", feedback_wanted=n % 2 == 0,
                    created_at=runtime.clock())
            for n in range(count)
        )  # fmt: skip


async def contacts(runtime: Runtime, campaign: str = "karlslund") -> int:
    async with runtime.database.sessions() as session:
        query = select(func.count()).where(Contact.campaign_id == campaign)
        return int((await session.execute(query)).scalar_one())


async def test_erasure_needs_the_campaign_id_and_no_broadcast_under_way(
    runtime: Runtime,
) -> None:
    await add_contacts(runtime, 6)
    await add_contacts(runtime, 2, "another")
    async with staff_client(runtime, "admin") as admin:
        page = await admin.http.get("/staff/campaigns/karlslund/erasure")
        assert "<strong>6</strong>" in page.text and "3 av dem" in page.text
        wrong = await admin.post_form("/staff/campaigns/karlslund/erasure", {"confirm": "ja"})
        assert wrong.status_code == 422 and await contacts(runtime) == 6
        async with runtime.database.sessions() as session, session.begin():
            session.add(Broadcast(campaign_id="karlslund", name="b", texts={"sv": "t"},
                                  audience={}, fallbacks=[], state="sending",
                                  created_by="test", created_at=runtime.clock()))  # fmt: skip
        busy = await admin.post_form("/staff/campaigns/karlslund/erasure", {"confirm": "karlslund"})
        assert busy.status_code == 409 and await contacts(runtime) == 6
        async with runtime.database.sessions() as session, session.begin():
            broadcast = (await session.execute(select(Broadcast))).scalar_one()
            broadcast.state = "done"
        done = await admin.post_form("/staff/campaigns/karlslund/erasure", {"confirm": "karlslund"})
        assert done.status_code == 303
        assert "6 kontakter är raderade" in (await admin.http.get(done.headers["location"])).text
    assert await contacts(runtime) == 0
    assert await contacts(runtime, "another") == 2
    async with runtime.database.sessions() as session:
        entry = (
            await session.execute(select(AuditEntry).where(AuditEntry.action == "erasure.contacts"))
        ).scalar_one()
    assert entry.actor == "staff:admin-user"
    assert entry.detail == {"campaign": "karlslund", "contacts_erased": 6}

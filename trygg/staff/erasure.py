"""Erasing a campaign's contact data now (admin), before its end date would.

This is what ``trygg retention`` does when a campaign ends: every address, language and
preference of the campaign's contacts goes, with their dialogs still in progress. The
answers stay; they were never linked to anyone. Staff do this once the återkoppling has
gone out, so it is refused while a broadcast of the campaign is still under way: its
copies need the addresses. Typing the campaign's id confirms it, because it cannot be
undone.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select

from storage import repositories as repo
from storage.models import Broadcast, Contact
from trygg.staff.auth import Admin, runtime_of
from trygg.staff.pages import campaign_or_404, render

router = APIRouter()
UNDER_WAY = ("scheduled", "sending", "paused")


async def _counts(request: Request, campaign_id: str) -> tuple[int, int, int]:
    async with runtime_of(request).database.sessions() as session:
        contacts = select(func.count()).where(Contact.campaign_id == campaign_id)
        wanting = contacts.where(Contact.feedback_wanted.is_(True))
        busy = select(func.count()).where(
            Broadcast.campaign_id == campaign_id, Broadcast.state.in_(UNDER_WAY)
        )
        return (
            int((await session.execute(contacts)).scalar_one()),
            int((await session.execute(wanting)).scalar_one()),
            int((await session.execute(busy)).scalar_one()),
        )


async def _page(
    request: Request, staff: Admin, campaign_id: str, *, notice: str | None = None,
    problem: str | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    campaign = campaign_or_404(request, campaign_id)
    contacts, wanting, busy = await _counts(request, campaign.id)
    return render(
        request, "erasure.html", staff, title=f"Radera kontaktuppgifter: {campaign.title}",
        campaign=campaign, contacts=contacts, wanting=wanting, busy=busy, notice=notice,
        problem=problem, status_code=status_code,
    )  # fmt: skip


@router.get("/staff/campaigns/{campaign_id}/erasure", response_class=HTMLResponse)
async def erasure_page(
    request: Request, staff: Admin, campaign_id: str, erased: int | None = None
) -> Response:
    notice = None if erased is None else f"{erased} kontakter är raderade."
    return await _page(request, staff, campaign_id, notice=notice)


@router.post("/staff/campaigns/{campaign_id}/erasure", response_class=HTMLResponse)
async def erase(
    request: Request, staff: Admin, campaign_id: str, confirm: str = Form(default="", max_length=80)
) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    if confirm.strip() != campaign.id:
        problem = f"Skriv kampanjens id, {campaign.id}, för att bekräfta. Inget raderades."
        return await _page(request, staff, campaign.id, problem=problem, status_code=422)
    runtime = runtime_of(request)
    async with runtime.database.sessions() as session, session.begin():
        busy = select(func.count()).where(
            Broadcast.campaign_id == campaign.id, Broadcast.state.in_(UNDER_WAY)
        )
        if int((await session.execute(busy)).scalar_one()):
            problem = (
                "En återkoppling skickas eller väntar. Vänta tills den är klar eller avbryt den."
            )
            await session.rollback()
            return await _page(request, staff, campaign.id, problem=problem, status_code=409)
        erased = await repo.erase_contacts_of_campaign(session, campaign.id)
        detail = {"campaign": campaign.id, "contacts_erased": erased}
        await repo.audit(session, staff.actor, "erasure.contacts", detail, runtime.clock())
    return RedirectResponse(
        f"/staff/campaigns/{campaign.id}/erasure?erased={erased}", status_code=303
    )

"""Återkoppling pages: compose per language, preview, test send, send, progress, report (admin).

A thin layer over the broadcast service (``request.app.state.broadcasts``), like the JSON
staff API beside it: the service checks drafts, fixes the audience and writes every
audit entry (create, update, send or schedule, pause, resume, cancel, test), with
``staff.actor`` as the actor. Every change is a POST form with the session's CSRF token
(the ``Admin`` dependency checks it) and answers 303 to the broadcast's page with a
notice; a refusal is shown on the page it came from, in Swedish, with what was entered
kept, as 422 (the content) or 409 (the broadcast's state does not allow it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Collection
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dialog_flows.model import Campaign
from storage.models import Broadcast
from trygg.service.broadcast_reach import test_send
from trygg.service.broadcast_spec import CHANNELS, BroadcastSpec
from trygg.service.broadcasts import BroadcastError, Broadcasts
from trygg.staff import broadcast_views as views
from trygg.staff import broadcast_words as words
from trygg.staff.accounts import Staff
from trygg.staff.auth import Admin, StaffRefused, runtime_of
from trygg.staff.broadcast_forms import Problems, SendForm, TestForm, one, read_spec, text_field
from trygg.staff.pages import campaign_or_404, render

router = APIRouter()
EDITABLE = ("draft", "scheduled")
# Each move: where it may start (as the service has it) and the notice it leaves.
MOVES = {
    "pause": (("sending",), "paused"),
    "resume": (("paused",), "resumed"),
    "cancel": (("draft", "scheduled", "sending", "paused"), "cancelled"),
}
LARGEST_ID = 2**63 - 1
Entered = SendForm | TestForm


# -- the campaign's broadcasts -------------------------------------------------------------


@router.get("/staff/campaigns/{campaign_id}/broadcasts", response_class=HTMLResponse)
async def broadcast_list(request: Request, campaign_id: str, staff: Admin) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    service = _service(request)
    return render(
        request, "broadcasts.html", staff, title="Återkoppling", campaign=campaign, w=words,
        asked=await views.campaign_audience(service, campaign),
        rows=await views.listed(service, await service.listed(campaign.id)),
    )  # fmt: skip


@router.get("/staff/campaigns/{campaign_id}/broadcasts/new", response_class=HTMLResponse)
async def new_form(request: Request, campaign_id: str, staff: Admin) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    return _form_page(request, staff, campaign, BroadcastSpec(campaign.id, "", {}))


@router.post("/staff/campaigns/{campaign_id}/broadcasts/new", response_class=HTMLResponse)
async def create(request: Request, campaign_id: str, staff: Admin) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    service = _service(request)
    spec = read_spec(await request.form(), campaign.id, service.languages_of(campaign.id))
    problems = service.check(spec)
    if problems:
        return _form_page(request, staff, campaign, spec, Problems.of(problems), 422)
    try:
        broadcast_id = await service.create(spec, staff.actor)
    except BroadcastError as error:
        return _form_page(request, staff, campaign, spec, _problems(error), 422)
    return _to_detail(broadcast_id, "created")


# -- one broadcast ---------------------------------------------------------------------------


@router.get("/staff/broadcasts/{broadcast_id}", response_class=HTMLResponse)
async def detail_page(
    request: Request, broadcast_id: str, staff: Admin, notice: str | None = None
) -> Response:
    broadcast = await _broadcast(request, broadcast_id)
    return await _detail(request, staff, broadcast, notice=words.NOTICES.get(notice or ""))


@router.get("/staff/broadcasts/{broadcast_id}/edit", response_class=HTMLResponse)
async def edit_form(request: Request, broadcast_id: str, staff: Admin) -> Response:
    broadcast = await _broadcast(request, broadcast_id)
    if broadcast.state not in EDITABLE:
        return await _too_late(request, staff, broadcast)
    spec = _service(request).spec_of(broadcast)
    return _form_page(request, staff, _campaign(request, broadcast), spec, broadcast=broadcast)


@router.post("/staff/broadcasts/{broadcast_id}/edit", response_class=HTMLResponse)
async def update(request: Request, broadcast_id: str, staff: Admin) -> Response:
    broadcast = await _broadcast(request, broadcast_id)
    campaign = _campaign(request, broadcast)
    service = _service(request)
    if broadcast.state not in EDITABLE:
        return await _too_late(request, staff, broadcast)
    spec = read_spec(await request.form(), campaign.id, service.languages_of(campaign.id))
    problems = service.check(spec)
    if problems:
        return _form_page(request, staff, campaign, spec, Problems.of(problems), 422, broadcast)
    try:
        await service.update(broadcast.id, spec, staff.actor)
    except BroadcastError as error:  # it started sending meanwhile
        return await _refused(request, staff, broadcast.id, error, EDITABLE)
    return _to_detail(broadcast.id, "updated")


@router.post("/staff/broadcasts/{broadcast_id}/send", response_class=HTMLResponse)
async def send(request: Request, broadcast_id: str, staff: Admin) -> Response:
    broadcast = await _broadcast(request, broadcast_id)
    entered = SendForm.read(await request.form())
    at, problem = entered.when(runtime_of(request).clock())
    if problem is not None:
        return await _detail(request, staff, broadcast, 422, problem=problem, entered=entered)
    service = _service(request)
    action = service.send(broadcast.id, staff.actor, fallback=entered.fallback, at=at)
    refused = await _attempt(request, staff, broadcast.id, action, EDITABLE, entered)
    return refused or _to_detail(broadcast.id, "scheduled" if at else "sent")


@router.post("/staff/broadcasts/{broadcast_id}/test", response_class=HTMLResponse)
async def send_test(request: Request, broadcast_id: str, staff: Admin) -> Response:
    """The message to staff's own address on one channel, to see it as people will."""
    broadcast = await _broadcast(request, broadcast_id)
    entered = TestForm.read(await request.form())
    action = test_send(_service(request), broadcast.id, entered.channel, entered.to,
                       entered.language, staff.actor)  # fmt: skip
    refused = await _attempt(request, staff, broadcast.id, action, words.STATES, entered)
    return refused or _to_detail(broadcast.id, "test_sent")


@router.post("/staff/broadcasts/{broadcast_id}/{action}", response_class=HTMLResponse)
async def move(request: Request, broadcast_id: str, action: str, staff: Admin) -> Response:
    """Pause, resume or cancel (cancelling only with its box ticked)."""
    if action not in MOVES:
        raise StaffRefused(404, "Den sidan finns inte.")
    broadcast = await _broadcast(request, broadcast_id)
    allowed, notice = MOVES[action]
    form = await request.form()
    if action == "cancel" and one(form, "confirm") != "yes":
        problem = "Kryssa i att du vill avbryta utskicket. Inget har ändrats."
        return await _detail(request, staff, broadcast, 422, problem=problem)
    service = _service(request)
    moves = {"pause": service.pause, "resume": service.resume, "cancel": service.cancel}
    moving: Awaitable[Any] = moves[action](broadcast.id, staff.actor)
    refused = await _attempt(request, staff, broadcast.id, moving, allowed)
    return refused or _to_detail(broadcast.id, notice)


# -- helpers ---------------------------------------------------------------------------------


def _service(request: Request) -> Broadcasts:
    service: Broadcasts = request.app.state.broadcasts
    return service


async def _broadcast(request: Request, raw_id: str) -> Broadcast:
    """The broadcast, or the 404 page (for a number that is none, too)."""
    number = int(raw_id) if raw_id.isascii() and raw_id.isdigit() else 0
    if 1 <= number <= LARGEST_ID:
        try:
            return await _service(request).get(number)
        except BroadcastError:
            pass
    raise StaffRefused(404, "Det finns inget sådant utskick.")


def _campaign(request: Request, broadcast: Broadcast) -> Campaign:
    return campaign_or_404(request, broadcast.campaign_id)


def _to_detail(broadcast_id: int, notice: str) -> Response:
    return RedirectResponse(f"/staff/broadcasts/{broadcast_id}?notice={notice}", 303)


def _problems(error: BroadcastError) -> Problems:
    return Problems.of(str(error).split("; "))


async def _attempt(
    request: Request,
    staff: Staff,
    broadcast_id: int,
    action: Awaitable[object],
    allowed: Collection[str],
    entered: Entered | None = None,
) -> Response | None:
    """Run a service call: None when done, or the page saying why it was refused."""
    try:
        await action
    except BroadcastError as error:
        return await _refused(request, staff, broadcast_id, error, allowed, entered)
    return None


async def _refused(
    request: Request,
    staff: Staff,
    broadcast_id: int,
    error: BroadcastError,
    allowed: Collection[str],
    entered: Entered | None = None,
) -> Response:
    """The broadcast's page with the refusal: 409 when its state (as it is now) does not
    allow the move, 422 when it does and the content was refused (as the JSON API)."""
    broadcast = await _broadcast(request, str(broadcast_id))
    status = 422 if broadcast.state in allowed else 409
    problem = words.swedish(str(error))
    return await _detail(request, staff, broadcast, status, problem=problem, entered=entered)


async def _too_late(request: Request, staff: Staff, broadcast: Broadcast) -> Response:
    problem = f"Utskicket är {words.state_name(broadcast.state).lower()}: det går inte att ändra."
    return await _detail(request, staff, broadcast, 409, problem=problem)


async def _detail(
    request: Request,
    staff: Staff,
    broadcast: Broadcast,
    status_code: int = 200,
    *,
    notice: str | None = None,
    problem: str | None = None,
    entered: Entered | None = None,
) -> Response:
    """The broadcast's page; ``entered``: the send or test form as typed, to show again."""
    campaign = _campaign(request, broadcast)
    sending = entered if isinstance(entered, SendForm) else SendForm()
    testing = entered if isinstance(entered, TestForm) else TestForm()
    shown = await views.detail(_service(request), broadcast, campaign)
    return render(
        request, "broadcast.html", staff, title=f"Återkoppling: {broadcast.name}",
        status_code=status_code, d=shown, campaign=campaign, w=words, notice=notice,
        problem=problem, sending=sending, testing=testing,
        label=views.language_label, now=runtime_of(request).clock(),
    )  # fmt: skip


def _form_page(
    request: Request,
    staff: Staff,
    campaign: Campaign,
    spec: BroadcastSpec,
    problems: Problems | None = None,
    status_code: int = 200,
    broadcast: Broadcast | None = None,
) -> Response:
    languages = _service(request).languages_of(campaign.id)
    title = "Ändra återkopplingen" if broadcast else "Ny återkoppling"
    return render(
        request, "broadcast_form.html", staff, title=title, status_code=status_code,
        campaign=campaign, spec=spec, problems=problems or Problems(), broadcast=broadcast,
        languages=languages, options=_options(campaign, languages), w=words,
        label=views.language_label, text_field=text_field,
    )  # fmt: skip


def _options(campaign: Campaign, languages: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The audience checkboxes: (value, what staff read) per group."""
    return {
        "sources": [(source.id, source.name) for source in campaign.sources],
        "channels": [(channel, words.channel_name(channel)) for channel in CHANNELS],
        "languages": [(language, words.language_name(language)) for language in languages],
    }

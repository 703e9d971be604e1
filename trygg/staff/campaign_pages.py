"""The campaign overview: flows, languages, sources, entry points, posters (viewer up).

Everything on it comes from the campaign and flow files and the settings; it reads no
answers, so every role may see it. The links are built here rather than asked of the
providers (no Telegram getMe while a page renders): a setting that is missing is named.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dialog_flows.languages import autonym, direction
from dialog_flows.library import Library
from dialog_flows.model import Campaign, Flow, Source
from trygg.staff.auth import StaffRefused, Viewer, runtime_of
from trygg.staff.entry_points import EntryPoint, channel_states, entry_points
from trygg.staff.pages import campaign_or_404, render
from trygg.staff.posters import poster_for, poster_svg

router = APIRouter()


@dataclass(frozen=True)
class LanguageView:
    code: str
    name: str  # in the language itself, as the language menus show it
    swedish: str  # for staff
    direction: str
    draft: bool  # its catalog awaits review by a native speaker


@dataclass(frozen=True)
class FlowView:
    flow: Flow
    questions: int
    languages: tuple[LanguageView, ...]
    used_by: tuple[Source, ...]


@dataclass(frozen=True)
class SourceView:
    source: Source
    flow: Flow
    own_flow: bool  # another flow than the campaign's, e.g. easy-read Swedish
    points: tuple[EntryPoint, ...]
    posters: tuple[tuple[LanguageView, str], ...]  # language, download address


def swedish_name(code: str) -> str:
    try:
        return Locale.parse(code.replace("-", "_")).get_display_name("sv") or code
    except (UnknownLocaleError, ValueError):
        return code


def language_view(library: Library, code: str) -> LanguageView:
    return LanguageView(
        code, autonym(code), swedish_name(code), direction(code),
        library.translations.is_draft(code),
    )  # fmt: skip


def flow_views(library: Library, campaign: Campaign) -> list[FlowView]:
    """The campaign's flow first, then each other flow a source starts."""
    ids = [campaign.flow] + [s.flow for s in campaign.sources if s.flow]
    views: list[FlowView] = []
    for flow_id in dict.fromkeys(ids):
        flow = library.flow(flow_id)
        if flow is None:
            continue  # the loader refuses such a campaign; nothing to show if it ever slips
        used_by = tuple(s for s in campaign.sources if campaign.flow_for(s.id) == flow_id)
        languages = tuple(language_view(library, code) for code in flow.languages)
        questions = sum(1 for step in flow.steps if step.answers)
        views.append(FlowView(flow, questions, languages, used_by))
    return views


def source_views(request: Request, campaign: Campaign, flows: list[FlowView]) -> list[SourceView]:
    settings = runtime_of(request).settings
    by_id = {view.flow.id: view for view in flows}
    views: list[SourceView] = []
    for source in campaign.sources:
        flow_view = by_id.get(campaign.flow_for(source.id))
        if flow_view is None:
            continue
        base = f"/staff/campaigns/{campaign.id}/posters/{source.id}"
        posters = tuple((lang, f"{base}/{lang.code}.svg") for lang in flow_view.languages)
        points = tuple(entry_points(settings, campaign, source))
        own = flow_view.flow.id != campaign.flow
        views.append(SourceView(source, flow_view.flow, own, points, posters))
    return views


def ended(campaign: Campaign, today: dt.date) -> bool:
    if not campaign.ends:
        return False
    try:
        return dt.date.fromisoformat(campaign.ends) < today
    except ValueError:
        return False


@router.get("/staff/campaigns/{campaign_id}", response_class=HTMLResponse)
async def overview(request: Request, campaign_id: str, staff: Viewer) -> Response:
    campaign = campaign_or_404(request, campaign_id)
    runtime = runtime_of(request)
    flows = flow_views(runtime.library, campaign)
    return render(
        request, "campaign.html", staff, title=campaign.title, campaign=campaign,
        flows=flows, sources=source_views(request, campaign, flows),
        channels=channel_states(runtime.settings),
        default_language=language_view(runtime.library, campaign.default_language),
        ended=ended(campaign, runtime.clock().date()),
    )  # fmt: skip


@router.get("/staff/campaigns/{campaign_id}/posters/{source}/{language}.svg")
async def poster(
    request: Request, campaign_id: str, source: str, language: str, staff: Viewer
) -> Response:
    """An A4 poster to print, as a download: ``karlslund-badet-ar.svg``."""
    campaign = campaign_or_404(request, campaign_id)
    runtime = runtime_of(request)
    found = poster_for(runtime.library, runtime.settings, campaign, source, language)
    if found is None:
        raise StaffRefused(404, f"Kampanjen har ingen källa '{source}' med språket '{language}'.")
    return Response(
        poster_svg(found),
        media_type="image/svg+xml",
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )

"""Choosing what an inbound message means: its campaign and source (an entry link or
keyword), the engine event, and the flow version to run it on.

A session stays on the exact flow version it started on, even after the files change:
each version's source is stored when first served, and loaded from there when the
folder no longer has it.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from bots.contract import InboundMessage
from dialog_flows.campaigns import Entry, parse_keyword_entry, resolve_source
from dialog_flows.library import Library
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Campaign, Flow
from dialog_flows.session import Inbound, SessionState, Start, UserMessage
from storage import repositories as repo

log = logging.getLogger(__name__)


def campaign_or_default(library: Library, campaign_id: str) -> Campaign:
    try:
        return library.campaign(campaign_id)
    except KeyError:  # a campaign removed from the files: its contacts join the default
        return library.campaign()


def entry_of(library: Library, message: InboundMessage) -> Entry | None:
    """The campaign and source an entry link (/start, ref) or keyword (TRYGG BADET) names."""
    campaigns = library.campaigns
    if message.start:
        entry = resolve_source(message.start_source, campaigns)
        if message.start_source and entry is None:
            log.info("unknown source in an entry link on %s", message.channel)
        return entry
    if message.payload is None:
        entry = parse_keyword_entry(message.text, campaigns)
        if entry is not None and entry.unknown_source:
            log.info("unknown source after the keyword %s", entry.campaign.keyword)
        return entry
    return None


def event_of(message: InboundMessage, entry: Entry | None) -> Inbound:
    if message.start or entry is not None:
        source = entry.source.id if entry and entry.source else None
        return Start(source, message.language)
    return UserMessage(message.text, message.payload, message.has_attachment)


async def flow_for_turn(
    session: AsyncSession,
    library: Library,
    state: SessionState | None,
    campaign: Campaign,
    event: Inbound,
    now: dt.datetime,
) -> Flow:
    """The running session's own version, or the campaign's current flow for a new one."""
    if state is not None and state.active:
        return await pinned_flow(session, library, state)
    source = event.source if isinstance(event, Start) else None
    flow = library.flow(campaign.flow_for(source))
    if flow is None:  # the library checked campaigns against flows at load
        raise RuntimeError(f"campaign {campaign.id} has no flow")
    text = library.sources.get((flow.id, flow.version))
    if text is not None:
        await repo.remember_flow(session, flow.id, flow.version, text, now)
    return flow


async def pinned_flow(session: AsyncSession, library: Library, state: SessionState) -> Flow:
    """The exact version the session started on, even after the files changed."""
    flow = library.flow(state.flow_id, state.flow_version)
    if flow is not None:
        return flow
    text = await repo.flow_snapshot(session, state.flow_id, state.flow_version)
    if text is not None:
        return load_flow_text(text, f"{state.flow_id} v{state.flow_version} (stored)")
    newest = library.flow(state.flow_id)
    if newest is None:
        raise RuntimeError(f"flow {state.flow_id} is gone")
    return newest  # the engine restarts a state it cannot place

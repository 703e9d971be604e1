"""The inbound path: one neutral message in, one transaction, replies in the outbox.

In that transaction the service records the delivery id, locks the contact, runs the
engine, stores answers and state, and writes the replies to the outbox. The webhook
answers 2xx only after the commit. If the process dies before, nothing was stored and
the provider's retry handles the message; after, the retry is recognised as a duplicate.
Never half.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bots.contract import InboundMessage
from dialog_flows.campaigns import Entry, parse_keyword_entry, resolve_source
from dialog_flows.engine import current_prompt, respond
from dialog_flows.loader import load_flow_text
from dialog_flows.model import Campaign, Flow
from dialog_flows.session import (
    Context,
    Inbound,
    Outgoing,
    SessionState,
    Start,
    Tick,
    Turn,
    UserMessage,
    outgoing_to_dict,
)
from storage import repositories as repo
from storage.models import Contact, Dialog
from trygg.service.outcomes import apply_turn
from trygg.service.runtime import Runtime

log = logging.getLogger(__name__)

# Our own channels show replies in the page or terminal that asked, within the same
# request; their outbox rows are the durable record, already delivered.
INLINE_CHANNELS = frozenset({"web", "console"})


@dataclass(frozen=True)
class Handled:
    duplicate: bool
    messages: tuple[Outgoing, ...] = ()
    state: SessionState | None = None


class DialogService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.library = runtime.library

    async def handle(self, message: InboundMessage) -> Handled:
        now = self.runtime.clock()
        vault = self.runtime.vault
        address_hash = vault.lookup_hash(message.channel, message.address)
        async with self.runtime.database.sessions() as session, session.begin():
            if message.delivery_id is not None and not await repo.claim_delivery(
                session, message.channel, message.delivery_id, now
            ):
                return Handled(duplicate=True)
            entry = self._entry(message)
            entry_campaign = entry.campaign if entry else self.library.campaign()
            contact = await repo.lock_contact(
                session,
                message.channel,
                address_hash,
                {
                    "campaign_id": entry_campaign.id,
                    "language": entry_campaign.default_language,
                    "feedback_wanted": False,
                    "unreachable": False,
                    "created_at": now,
                },
            )
            dialog = await repo.get_dialog(session, contact.id)
            state = _current_state(contact, dialog)
            campaign = self._campaign(contact.campaign_id)
            event = self._event(message, entry)
            flow = await self._flow(session, state, campaign, event, now)
            context = Context(
                now=now.timestamp(),
                channel=message.channel,
                translations=self.library.translations,
                language_hint=message.language_hint,
                default_language=campaign.default_language,
            )
            turn = respond(flow, state, event, context)
            for control in message.controls:  # e.g. answer the tapped button first
                await repo.enqueue(
                    session,
                    channel=message.channel,
                    recipient_key=address_hash,
                    address_enc=vault.encrypt(message.address),
                    message={"control": dict(control)},
                    now=now,
                )
            await self._store(session, contact, dialog, campaign, turn, message.address, now)
            await repo.release_waiting(session, address_hash, now)
        return Handled(False, turn.messages, turn.state)

    async def set_reachable(
        self, channel: str, address: str, reachable: bool, delivery_id: str | None
    ) -> bool:
        """The person blocked (or unblocked) us on the provider's side. Returns False for a
        repeated delivery."""
        now = self.runtime.clock()
        address_hash = self.runtime.vault.lookup_hash(channel, address)
        async with self.runtime.database.sessions() as session, session.begin():
            if delivery_id is not None and not await repo.claim_delivery(
                session, channel, delivery_id, now
            ):
                return False
            contact = await repo.find_contact(session, channel, address_hash)
            if contact is not None:
                contact.unreachable = not reachable
            if not reachable:
                await repo.cancel_pending(session, address_hash)
        return True

    async def acknowledge(self, channel: str, delivery_id: str | None) -> bool:
        """Record a delivery we act on by doing nothing, so its retries are known too."""
        if delivery_id is None:
            return True
        async with self.runtime.database.sessions() as session, session.begin():
            return await repo.claim_delivery(session, channel, delivery_id, self.runtime.clock())

    async def prompt(self, channel: str, address: str) -> tuple[Outgoing, ...]:
        """The question this person's dialog waits on (for a reloaded web chat page)."""
        address_hash = self.runtime.vault.lookup_hash(channel, address)
        async with self.runtime.database.sessions() as session:
            contact = await repo.find_contact(session, channel, address_hash)
            dialog = await repo.get_dialog(session, contact.id) if contact else None
            if contact is None or dialog is None:
                return ()
            state = SessionState.from_dict(dialog.state)
            flow = await self._pinned_flow(session, state)
            context = Context(
                now=self.runtime.clock().timestamp(),
                channel=channel,
                translations=self.library.translations,
            )
            return current_prompt(flow, state, context)

    async def tick_idle(self, limit: int = 200) -> int:
        """Send reminders and end expired dialogs. Returns how many dialogs were looked at."""
        now = self.runtime.clock()
        hours = min(flow.reminder_after_hours for flow in self.library.flows.values())
        async with self.runtime.database.sessions() as session:
            idle = await repo.idle_dialogs(session, now - dt.timedelta(hours=hours), limit)
            contact_ids = [dialog.contact_id for dialog in idle]
        for contact_id in contact_ids:
            await self._tick_one(contact_id, now)
        return len(contact_ids)

    async def _tick_one(self, contact_id: int, now: dt.datetime) -> None:
        async with self.runtime.database.sessions() as session, session.begin():
            contact = await session.get(Contact, contact_id, with_for_update=True)
            dialog = await repo.get_dialog(session, contact_id)
            if contact is None or dialog is None or contact.address_enc is None:
                return
            state = SessionState.from_dict(dialog.state)
            flow = await self._pinned_flow(session, state)
            context = Context(
                now=now.timestamp(),
                channel=contact.channel,
                translations=self.library.translations,
            )
            turn = respond(flow, state, Tick(), context)
            if turn.state == state:
                return
            address = self.runtime.vault.decrypt(contact.address_enc)
            campaign = self._campaign(contact.campaign_id)
            # A reminder is not activity: keep the dialog's clock where the person left it.
            await self._store(session, contact, dialog, campaign, turn, address, now, touch=False)

    # -- choosing the campaign, event and flow ---------------------------------------------

    def _campaign(self, campaign_id: str) -> Campaign:
        try:
            return self.library.campaign(campaign_id)
        except KeyError:  # a campaign removed from the files: its contacts join the default
            return self.library.campaign()

    def _entry(self, message: InboundMessage) -> Entry | None:
        """The campaign and source an entry link (/start, ref) or keyword (TRYGG BADET) names."""
        campaigns = self.library.campaigns
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

    @staticmethod
    def _event(message: InboundMessage, entry: Entry | None) -> Inbound:
        if message.start or entry is not None:
            source = entry.source.id if entry and entry.source else None
            return Start(source, message.language)
        return UserMessage(message.text, message.payload, message.has_attachment)

    async def _flow(
        self,
        session: AsyncSession,
        state: SessionState | None,
        campaign: Campaign,
        event: Inbound,
        now: dt.datetime,
    ) -> Flow:
        if state is not None and state.active:
            return await self._pinned_flow(session, state)
        source = event.source if isinstance(event, Start) else None
        flow = self.library.flow(campaign.flow_for(source))
        if flow is None:  # the library checked campaigns against flows at load
            raise RuntimeError(f"campaign {campaign.id} has no flow")
        text = self.library.sources.get((flow.id, flow.version))
        if text is not None:
            await repo.remember_flow(session, flow.id, flow.version, text, now)
        return flow

    async def _pinned_flow(self, session: AsyncSession, state: SessionState) -> Flow:
        """The exact version the session started on, even after the files changed."""
        flow = self.library.flow(state.flow_id, state.flow_version)
        if flow is not None:
            return flow
        text = await repo.flow_snapshot(session, state.flow_id, state.flow_version)
        if text is not None:
            return load_flow_text(text, f"{state.flow_id} v{state.flow_version} (stored)")
        newest = self.library.flow(state.flow_id)
        if newest is None:
            raise RuntimeError(f"flow {state.flow_id} is gone")
        return newest  # the engine restarts a state it cannot place

    # -- storing a turn --------------------------------------------------------------------

    async def _store(
        self,
        session: AsyncSession,
        contact: Contact,
        dialog: Dialog | None,
        campaign: Campaign,
        turn: Turn,
        address: str,
        now: dt.datetime,
        *,
        touch: bool = True,
    ) -> None:
        vault = self.runtime.vault
        address_enc = vault.encrypt(address)
        inline = contact.channel in INLINE_CHANNELS
        outbox_ids = []
        for outgoing in turn.messages:
            outbox_id = await repo.enqueue(
                session,
                channel=contact.channel,
                recipient_key=contact.address_hash,
                address_enc=None if inline else address_enc,
                message=outgoing_to_dict(outgoing),
                now=now,
                status="sent" if inline else "pending",
            )
            outbox_ids.append(outbox_id)
        await apply_turn(
            session, self.runtime, contact, dialog, campaign, turn, address, now, touch, outbox_ids
        )


def _current_state(contact: Contact, dialog: Dialog | None) -> SessionState | None:
    if dialog is not None:
        return SessionState.from_dict(dialog.state)
    if contact.ended_state:
        return SessionState.from_dict(contact.ended_state)
    return None

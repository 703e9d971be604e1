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
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from bots.contract import InboundMessage
from dialog_flows.campaigns import Entry
from dialog_flows.engine import current_prompt, respond
from dialog_flows.keyword_replies import opted_in_confirmation, opted_out_notice
from dialog_flows.keywords import Keyword, detect_keyword, is_opt_in
from dialog_flows.model import Campaign
from dialog_flows.session import (
    Context,
    Inbound,
    Outgoing,
    SessionState,
    Tick,
    Turn,
    UserMessage,
    outgoing_to_dict,
)
from storage import broadcasts, opt_outs
from storage import repositories as repo
from storage.models import Contact, Dialog, OptOut
from trygg.service.broadcast_reach import published_feedback
from trygg.service.choosing import (
    campaign_or_default,
    entry_of,
    event_of,
    flow_for_turn,
    pinned_flow,
)
from trygg.service.outcomes import apply_turn
from trygg.service.runtime import Runtime

log = logging.getLogger(__name__)

# Our own channels show replies in the page or terminal that asked, within the same
# request; their outbox rows are the durable record, already delivered.
INLINE_CHANNELS = frozenset({"web", "console"})
# How often someone on the opt-out list is told how to opt in again, if they keep writing.
NOTICE_EVERY = dt.timedelta(hours=24)
# Outbox priority of invitations: bulk traffic, behind replies to live dialogs (0).
INVITATION_PRIORITY = 10


@dataclass(frozen=True)
class Handled:
    duplicate: bool
    messages: tuple[Outgoing, ...] = ()
    state: SessionState | None = None


class DialogService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.library = runtime.library

    def _writing(self) -> AbstractAsyncContextManager[AsyncSession]:
        return self.runtime.database.writing()

    async def handle(self, message: InboundMessage) -> Handled:
        now = self.runtime.clock()
        vault = self.runtime.vault
        address_hash = vault.lookup_hash(message.channel, message.address)
        async with self._writing() as session:
            if message.delivery_id is not None and not await repo.claim_delivery(
                session, message.channel, message.delivery_id, now
            ):
                return Handled(duplicate=True)
            for control in message.controls:  # e.g. answer the tapped button first
                await self._enqueue(session, message, address_hash, {"control": dict(control)}, now)
            entry = entry_of(self.library, message)
            opted_out = await opt_outs.find(session, message.channel, address_hash)
            rejoined: Outgoing | None = None
            if opted_out is not None:
                if not self._opts_in(message, entry):
                    notice = await self._opted_out_notice(session, message, opted_out, now)
                    return Handled(False, notice)
                # START, an entry keyword or link: they are back. Confirm, then begin.
                await opt_outs.lift(session, message.channel, address_hash)
                rejoined = opted_in_confirmation(self.library.translations, opted_out.language)
                language = message.language or opted_out.language
                message = replace(message, start=True, language=language)
            pending = await self._converse(session, message, entry, address_hash, now)
            if rejoined is not None:  # the confirmation goes first
                turn = pending.turn
                pending = replace(pending, turn=replace(turn, messages=(rejoined, *turn.messages)))
            await self._store(session, pending, now)
            await repo.release_waiting(session, address_hash, now)
        return Handled(False, pending.turn.messages, pending.turn.state)

    async def invite(
        self, address: str, entry: Entry, language: str | None
    ) -> Literal["invited", "opted_out", "known"]:
        """Start a dialog with someone on an invitation list (a citizens' panel): the
        opening prompt goes to the outbox behind live replies. Nobody on the opt-out list
        is invited, and nobody we already know (taking part, or took part) is invited
        twice, so running the same list again, after a crash, say, invites only the rest.
        """
        channel = "sms"
        now = self.runtime.clock()
        address_hash = self.runtime.vault.lookup_hash(channel, address)
        async with self._writing() as session:
            if await opt_outs.find(session, channel, address_hash) is not None:
                return "opted_out"
            if await repo.find_contact(session, channel, address_hash) is not None:
                return "known"
            message = InboundMessage(channel, address, start=True, language=language)
            pending = await self._converse(session, message, entry, address_hash, now)
            # They have not written to us: no messaging window opens, and their dialog's
            # clock (reminder, expiry) starts now.
            await self._store(session, pending, now, priority=INVITATION_PRIORITY, touch=False)
        return "invited"

    async def _converse(
        self,
        session: AsyncSession,
        message: InboundMessage,
        entry: Entry | None,
        address_hash: str,
        now: dt.datetime,
    ) -> _Pending:
        """Lock the contact and run the engine: the turn, not yet stored."""
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
        campaign = campaign_or_default(self.library, contact.campaign_id)
        event = event_of(message, entry)
        flow = await flow_for_turn(session, self.library, state, campaign, event, now)
        context = Context(
            now=now.timestamp(),
            channel=message.channel,
            translations=self.library.translations,
            language_hint=message.language_hint,
            # A known person's language (a contact made by "återkoppling by SMS" has one
            # before they ever write); a new one's is the campaign's.
            default_language=contact.language or campaign.default_language,
            # For RESULTAT, on any channel, whether or not they asked for the broadcast.
            # Nothing else reads it, so other messages skip the query.
            feedback=await published_feedback(session, self.runtime, campaign.id)
            if self._asks_results(event)
            else None,
        )
        turn = respond(flow, state, event, context)
        return _Pending(contact, dialog, campaign, turn, message.address)

    def _asks_results(self, event: Inbound) -> bool:
        """Whether the engine will answer RESULTAT (the only reader of ``feedback``)."""
        if not isinstance(event, UserMessage) or event.payload is not None:
            return False
        return detect_keyword(event.text, self.library.translations) is Keyword.RESULTS

    def _opts_in(self, message: InboundMessage, entry: Entry | None) -> bool:
        if message.start or entry is not None:
            return True
        return message.payload is None and is_opt_in(message.text, self.library.translations)

    async def _opted_out_notice(
        self,
        session: AsyncSession,
        message: InboundMessage,
        opted_out: OptOut,
        now: dt.datetime,
    ) -> tuple[Outgoing, ...]:
        """Someone on the opt-out list wrote, but not START: tell them how to opt in
        again, at most once a day (a phone's auto-reply must not start a loop)."""
        if not opt_outs.notice_due(opted_out, now, NOTICE_EVERY):
            return ()
        opted_out.notified_at = now
        notice = opted_out_notice(self.library.translations, opted_out.language)
        await self._enqueue(session, message, opted_out.address_hash, outgoing_to_dict(notice), now)
        return (notice,)

    async def _enqueue(
        self,
        session: AsyncSession,
        message: InboundMessage,
        address_hash: str,
        body: dict[str, Any],
        now: dt.datetime,
    ) -> None:
        inline = message.channel in INLINE_CHANNELS and "control" not in body
        await repo.enqueue(
            session,
            channel=message.channel,
            recipient_key=address_hash,
            address_enc=None if inline else self.runtime.vault.encrypt(message.address),
            message=body,
            now=now,
            status="sent" if inline else "pending",
            window_opened_at=now,
        )

    async def set_reachable(
        self, channel: str, address: str, reachable: bool, delivery_id: str | None
    ) -> bool:
        """The person blocked (or unblocked) us on the provider's side. Returns False for a
        repeated delivery."""
        now = self.runtime.clock()
        address_hash = self.runtime.vault.lookup_hash(channel, address)
        async with self._writing() as session:
            if delivery_id is not None and not await repo.claim_delivery(
                session, channel, delivery_id, now
            ):
                return False
            contact = await repo.find_contact(session, channel, address_hash)
            if contact is not None:
                contact.unreachable = not reachable
            if not reachable:
                await repo.cancel_pending(session, address_hash, reason=broadcasts.UNREACHABLE)
        return True

    async def acknowledge(self, channel: str, delivery_id: str | None) -> bool:
        """Record a delivery we act on by doing nothing, so its retries are known too."""
        if delivery_id is None:
            return True
        async with self._writing() as session:
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
            flow = await pinned_flow(session, self.library, state)
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
        async with self._writing() as session:
            contact = await session.get(Contact, contact_id, with_for_update=True)
            dialog = await repo.get_dialog(session, contact_id)
            if contact is None or dialog is None or contact.address_enc is None:
                return
            state = SessionState.from_dict(dialog.state)
            flow = await pinned_flow(session, self.library, state)
            context = Context(
                now=now.timestamp(),
                channel=contact.channel,
                translations=self.library.translations,
            )
            turn = respond(flow, state, Tick(), context)
            if turn.state == state:
                return
            address = self.runtime.vault.decrypt(contact.address_enc)
            pending = _Pending(
                contact,
                dialog,
                campaign_or_default(self.library, contact.campaign_id),
                turn,
                address,
            )
            # A reminder is not activity: keep the dialog's clock where the person left it.
            await self._store(session, pending, now, touch=False)

    # -- storing a turn --------------------------------------------------------------------

    async def _store(
        self,
        session: AsyncSession,
        pending: _Pending,
        now: dt.datetime,
        *,
        priority: int = 0,
        touch: bool = True,
    ) -> None:
        vault = self.runtime.vault
        contact = pending.contact
        address_enc = vault.encrypt(pending.address)
        inline = contact.channel in INLINE_CHANNELS
        outbox_ids = []
        for outgoing in pending.turn.messages:
            outbox_id = await repo.enqueue(
                session,
                channel=contact.channel,
                recipient_key=contact.address_hash,
                address_enc=None if inline else address_enc,
                message=outgoing_to_dict(outgoing),
                now=now,
                priority=priority,
                status="sent" if inline else "pending",
                window_opened_at=now if touch else None,  # touch: an answer to their message
            )
            outbox_ids.append(outbox_id)
        await apply_turn(
            session,
            self.runtime,
            contact,
            pending.dialog,
            pending.campaign,
            pending.turn,
            pending.address,
            now,
            touch,
            outbox_ids,
        )


@dataclass(frozen=True)
class _Pending:
    """A turn the engine produced, and what storing it needs."""

    contact: Contact
    dialog: Dialog | None
    campaign: Campaign
    turn: Turn
    address: str


def _current_state(contact: Contact, dialog: Dialog | None) -> SessionState | None:
    if dialog is not None:
        return SessionState.from_dict(dialog.state)
    if contact.ended_state:
        return SessionState.from_dict(contact.ended_state)
    return None

"""Acting on what the engine said happened: answers, respondents, opt-outs, erasure.

This is where the privacy rules live:
- a respondent is a random id; while the dialog runs, only the ``dialogs`` row links it
  to the contact, and that row goes when the dialog ends;
- opt-out and erasure delete the contact (address and preferences) at once and put the
  address's keyed hash on the opt-out list; erasure also deletes the answers of the
  dialog in progress, which are still linkable;
- a contact keeps its encrypted address only while a dialog runs or when the person
  asked for the återkoppling (the results).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from dialog_flows.model import Campaign
from dialog_flows.session import Event, SessionState, Turn
from storage import broadcasts, opt_outs
from storage import repositories as repo
from storage.models import Contact, Dialog, Respondent
from trygg.service.runtime import Runtime


async def apply_turn(
    session: AsyncSession,
    runtime: Runtime,
    contact: Contact,
    dialog: Dialog | None,
    campaign: Campaign,
    turn: Turn,
    address: str,
    now: dt.datetime,
    touch: bool,
    outbox_ids: list[int],
) -> None:
    respondent_id = dialog.respondent_id if dialog else None
    deleted: str | None = None  # why: opted out or erased
    for event in turn.events:
        respondent = await session.get(Respondent, respondent_id) if respondent_id else None
        if (
            event.kind in ("restarted", "session_started")
            and respondent
            and respondent.ended_at is None
        ):
            respondent.status, respondent.ended_at = "restarted", now
        if event.kind == "session_started":
            respondent_id = await _new_respondent(session, contact, campaign, turn.state, now)
        elif event.kind in ("answer_recorded", "step_skipped") and respondent:
            if event.kind == "answer_recorded":
                await repo.save_answer(
                    session, respondent.id, event.step_id or "", event.value, now
                )
            respondent.last_step = event.step_id
        elif event.kind == "language_changed" and event.language:
            contact.language = event.language
            if respondent:
                respondent.language = event.language
        elif event.kind == "feedback_opt_in":
            await _feedback(session, runtime, contact, campaign, event, turn.state, now)
        elif event.kind in ("completed", "expired") and respondent:
            respondent.status, respondent.ended_at = event.kind, now
            if event.kind == "completed":
                respondent.completed_at = now
        elif event.kind == "opted_out":
            if respondent and respondent.ended_at is None:
                respondent.status, respondent.ended_at = "stopped", now
            deleted = deleted or broadcasts.OPTED_OUT
        elif event.kind == "erase_requested":
            if respondent and respondent.ended_at is None:
                await repo.delete_respondent(session, respondent.id)
            deleted = broadcasts.ERASED
    if deleted:
        # Nothing more goes to them until they opt in again, even after the contact is gone.
        language = turn.state.language if turn.state else contact.language
        await opt_outs.suppress(session, contact.channel, contact.address_hash, language)
        # The confirmation already sits in the outbox with its own copy of the address.
        await repo.cancel_pending(
            session, contact.address_hash, except_ids=outbox_ids, reason=deleted
        )
        await repo.delete_contact(session, contact)
        return
    await _save_state(
        session, runtime, contact, dialog, turn.state, respondent_id, address, now, touch
    )


async def _new_respondent(
    session: AsyncSession,
    contact: Contact,
    campaign: Campaign,
    state: SessionState | None,
    now: dt.datetime,
) -> str | None:
    if state is None:
        return None
    respondent = Respondent(
        id=repo.new_respondent_id(),
        campaign_id=campaign.id,
        flow_id=state.flow_id,
        flow_version=state.flow_version,
        channel=contact.channel,
        language=state.language,
        source=state.source,
        started_at=now,
        status="active",
    )
    session.add(respondent)
    await session.flush()
    contact.source = state.source or contact.source
    return respondent.id


async def _feedback(
    session: AsyncSession,
    runtime: Runtime,
    contact: Contact,
    campaign: Campaign,
    event: Event,
    state: SessionState | None,
    now: dt.datetime,
) -> None:
    if event.deliver == "here":
        contact.feedback_wanted = True
    elif event.deliver == "none":
        contact.feedback_wanted = False
    elif event.deliver == "sms" and event.address:
        # Another channel's contact, holding only what the återkoppling needs. A number
        # on the SMS opt-out list stays off it: its owner must write START themselves.
        vault = runtime.vault
        address_hash = vault.lookup_hash("sms", event.address)
        if await opt_outs.find(session, "sms", address_hash) is not None:
            return
        other = await repo.lock_contact(
            session,
            "sms",
            address_hash,
            {
                "campaign_id": campaign.id,
                "language": state.language if state else contact.language,
                "feedback_wanted": True,
                "unreachable": False,
                "created_at": now,
            },
        )
        other.address_enc = vault.encrypt(event.address)
        other.feedback_wanted = True
        other.language = state.language if state else contact.language
        other.source = state.source if state else contact.source


async def _save_state(
    session: AsyncSession,
    runtime: Runtime,
    contact: Contact,
    dialog: Dialog | None,
    state: SessionState | None,
    respondent_id: str | None,
    address: str,
    now: dt.datetime,
    touch: bool,
) -> None:
    if state is not None:
        contact.language = state.language
    if touch:
        contact.last_inbound_at = now
    if state is not None and state.active and respondent_id is not None:
        if dialog is None:
            session.add(
                Dialog(
                    contact_id=contact.id,
                    respondent_id=respondent_id,
                    state=state.to_dict(),
                    updated_at=now,
                )
            )
        else:
            dialog.respondent_id = respondent_id
            dialog.state = state.to_dict()
            if touch:
                dialog.updated_at = now
        contact.ended_state = None
    else:
        if dialog is not None:
            await session.delete(dialog)
        contact.ended_state = state.ended().to_dict() if state is not None else None
    keep_address = (state is not None and state.active) or contact.feedback_wanted
    if not keep_address:
        contact.address_enc = None
    elif contact.address_enc is None:  # the same address as its hash: encrypted once
        contact.address_enc = runtime.vault.encrypt(address)

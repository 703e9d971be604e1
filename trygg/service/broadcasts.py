"""Broadcasting återkoppling: a broadcast's life from draft to done.

Sending starts in one transaction that fixes the audience: the broadcast moves to
``sending`` and gets one outbox copy per person who asked for the campaign's results,
in their language. The delivery worker does the rest, at each channel's rate and behind
live dialog replies (outbox priority 10). Pausing holds the copies where they are;
cancelling drops those not yet sent. A person who opts out or is erased mid-way loses
their copy with the rest of their pending messages (the report says so).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from dialog_flows import feedback_texts
from dialog_flows.session import outgoing_to_dict
from storage import broadcasts as store
from storage import repositories as repo
from storage.models import Broadcast
from trygg.service import channels
from trygg.service.broadcast_spec import (
    CHANNELS,
    BroadcastSpec,
    audience_dict,
    campaign_languages,
    check_spec,
)
from trygg.service.runtime import Runtime

# Outbox priority of broadcast copies: bulk traffic, behind replies to live dialogs (0).
BROADCAST_PRIORITY = 10
NO_TEXT = "no text in their language"


class BroadcastError(Exception):
    """Something staff asked for cannot be done; the message says what and why."""


@dataclass
class Missing:
    """Languages of the audience that have no text: people per language."""

    people: dict[str, int] = field(default_factory=dict)
    confirmed: tuple[str, ...] = ()

    @property
    def unconfirmed(self) -> dict[str, int]:
        return {lang: n for lang, n in self.people.items() if lang not in self.confirmed}


class Broadcasts:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.library = runtime.library

    # -- drafting --------------------------------------------------------------------------

    def check(self, spec: BroadcastSpec) -> list[str]:
        return check_spec(spec, self.library, self.runtime.settings.flows_dir)

    def languages_of(self, campaign_id: str) -> list[str]:
        return campaign_languages(self.library, campaign_id)

    async def create(self, spec: BroadcastSpec, actor: str) -> int:
        problems = self.check(spec)
        if problems:
            raise BroadcastError("; ".join(problems))
        now = self.runtime.clock()
        async with self.runtime.database.sessions() as session, session.begin():
            broadcast = Broadcast(
                campaign_id=spec.campaign_id,
                name=spec.name.strip(),
                texts={lang: text.strip() for lang, text in spec.texts.items()},
                link=spec.link or None,
                image=spec.image or None,
                audience=audience_dict(spec),
                fallbacks=[],
                state="draft",
                created_by=actor,
                created_at=now,
            )
            session.add(broadcast)
            await session.flush()
            await repo.audit(session, actor, "broadcast.create", {"broadcast": broadcast.id}, now)
            return broadcast.id

    async def update(self, broadcast_id: int, spec: BroadcastSpec, actor: str) -> None:
        """Change a draft (or a scheduled one, which goes back to draft)."""
        problems = self.check(spec)
        if problems:
            raise BroadcastError("; ".join(problems))
        now = self.runtime.clock()
        async with self.runtime.database.sessions() as session, session.begin():
            broadcast = await self.load(session, broadcast_id, lock=True)
            if broadcast.state not in ("draft", "scheduled"):
                raise BroadcastError(f"broadcast {broadcast_id} is {broadcast.state}: too late")
            broadcast.name = spec.name.strip()
            broadcast.texts = {lang: text.strip() for lang, text in spec.texts.items()}
            broadcast.link, broadcast.image = spec.link or None, spec.image or None
            broadcast.audience = audience_dict(spec)
            broadcast.state, broadcast.scheduled_at = "draft", None
            await repo.audit(session, actor, "broadcast.update", {"broadcast": broadcast_id}, now)

    def spec_of(self, broadcast: Broadcast) -> BroadcastSpec:
        audience = broadcast.audience
        return BroadcastSpec(
            broadcast.campaign_id,
            broadcast.name,
            dict(broadcast.texts),
            broadcast.link,
            broadcast.image,
            tuple(audience.get("sources", ())),
            tuple(audience.get("channels", ())),
            tuple(audience.get("languages", ())),
        )

    async def get(self, broadcast_id: int) -> Broadcast:
        async with self.runtime.database.sessions() as session:
            return await self.load(session, broadcast_id)

    async def listed(self, campaign_id: str | None = None) -> Sequence[Broadcast]:
        async with self.runtime.database.sessions() as session:
            return await store.listed(session, campaign_id)

    # -- the audience ----------------------------------------------------------------------

    def reachable_channels(self, broadcast: Broadcast) -> list[str]:
        """The audience's channels that are switched on here (web chat always is)."""
        settings = self.runtime.settings
        enabled = {
            "telegram": channels.telegram_enabled(settings),
            "sms": channels.sms_enabled(settings),
            "whatsapp": channels.whatsapp_enabled(settings),
            "facebook": channels.facebook_enabled(settings),
            "web": True,
        }
        wanted = broadcast.audience.get("channels") or CHANNELS
        return [channel for channel in CHANNELS if channel in wanted and enabled[channel]]

    async def audience(
        self, session: AsyncSession, broadcast: Broadcast, channels_: Collection[str] | None = None
    ) -> list[store.Recipient]:
        return await store.audience(
            session,
            broadcast.campaign_id,
            channels=self.reachable_channels(broadcast) if channels_ is None else channels_,
            sources=broadcast.audience.get("sources", ()),
            languages=broadcast.audience.get("languages", ()),
        )

    async def missing(self, broadcast_id: int) -> Missing:
        async with self.runtime.database.sessions() as session:
            broadcast = await self.load(session, broadcast_id)
            recipients = await self.audience(session, broadcast)
        people: dict[str, int] = {}
        for recipient in recipients:
            if recipient.language not in broadcast.texts:
                people[recipient.language] = people.get(recipient.language, 0) + 1
        return Missing(people, tuple(broadcast.fallbacks))

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self,
        broadcast_id: int,
        actor: str,
        *,
        fallback: Collection[str] = (),
        at: dt.datetime | None = None,
    ) -> int:
        """Start sending now (or schedule it). Languages of the audience without a text
        must be named in ``fallback`` to receive the campaign language's text instead.
        Returns the number of people it goes to (0 when scheduled)."""
        now = self.runtime.clock()
        missing = await self.missing(broadcast_id)
        confirmed = {*missing.confirmed, *fallback}
        unconfirmed = {lang: n for lang, n in missing.people.items() if lang not in confirmed}
        if unconfirmed:
            listed = ", ".join(f"{lang} ({n} people)" for lang, n in sorted(unconfirmed.items()))
            raise BroadcastError(
                f"no text in {listed}. Add the translations, or confirm that they get the "
                "Swedish text instead (fallback: " + ",".join(sorted(unconfirmed)) + ")"
            )
        async with self.runtime.database.sessions() as session, session.begin():
            broadcast = await self.load(session, broadcast_id, lock=True)
            if broadcast.state not in ("draft", "scheduled"):
                raise BroadcastError(f"broadcast {broadcast_id} is {broadcast.state}")
            broadcast.fallbacks = sorted(confirmed)
            if at is not None and at > now:
                broadcast.state, broadcast.scheduled_at = "scheduled", at
                detail = {"broadcast": broadcast_id, "at": at.isoformat()}
                await repo.audit(session, actor, "broadcast.schedule", detail, now)
                return 0
            count = await self._start(session, broadcast, now)
            if count is None:
                raise BroadcastError(f"broadcast {broadcast_id} was started by someone else")
            detail = {"broadcast": broadcast_id, "audience": count}
            await repo.audit(session, actor, "broadcast.send", detail, now)
            return count

    async def _start(
        self, session: AsyncSession, broadcast: Broadcast, now: dt.datetime
    ) -> int | None:
        """Fix the audience and write its copies, in the caller's transaction."""
        if not await store.claim_for_sending(session, broadcast.id, ("draft", "scheduled"), now):
            return None
        tr = self.library.translations
        fallback_language = self.library.campaign(broadcast.campaign_id).default_language
        messages: dict[str, dict[str, Any]] = {}
        rows: list[dict[str, Any]] = []
        for recipient in await self.audience(session, broadcast):
            chosen = feedback_texts.choose(
                recipient.language, broadcast.texts, broadcast.fallbacks, fallback_language
            )
            if chosen is not None and chosen.language not in messages:
                text = broadcast.texts[chosen.language]
                outgoing = feedback_texts.outgoing(
                    tr, chosen.language, text, broadcast.link, broadcast.image
                )
                messages[chosen.language] = outgoing_to_dict(outgoing)
            rows.append(_copy(broadcast.id, recipient, chosen, messages, now))
        await store.add_copies(session, rows)
        broadcast.audience_size = len(rows)
        return len(rows)

    async def pause(self, broadcast_id: int, actor: str) -> None:
        await self._move(broadcast_id, actor, ("sending",), "paused")

    async def resume(self, broadcast_id: int, actor: str) -> None:
        await self._move(broadcast_id, actor, ("paused",), "sending")

    async def cancel(self, broadcast_id: int, actor: str) -> int:
        """Stop it; copies not yet sent are dropped. Returns how many."""
        await self._move(broadcast_id, actor, ("draft", "scheduled", "sending", "paused"),
                         "cancelled")  # fmt: skip
        async with self.runtime.database.sessions() as session, session.begin():
            return await store.cancel_copies(session, broadcast_id, store.CANCELLED)

    async def _move(
        self, broadcast_id: int, actor: str, from_states: Sequence[str], to_state: str
    ) -> None:
        now = self.runtime.clock()
        async with self.runtime.database.sessions() as session, session.begin():
            broadcast = await self.load(session, broadcast_id, lock=True)
            if broadcast.state not in from_states:
                raise BroadcastError(
                    f"broadcast {broadcast_id} is {broadcast.state}; it cannot be {to_state}"
                )
            broadcast.state = to_state
            if to_state == "cancelled":
                broadcast.finished_at = now
            action = {"paused": "pause", "sending": "resume"}.get(to_state, "cancel")
            detail = {"broadcast": broadcast_id}
            await repo.audit(session, actor, f"broadcast.{action}", detail, now)

    async def tick(self) -> None:
        """The worker's rounds: start what is due, close what is finished."""
        now = self.runtime.clock()
        async with self.runtime.database.sessions() as session, session.begin():
            for broadcast in await store.in_state(session, "scheduled"):
                if broadcast.scheduled_at is not None and broadcast.scheduled_at <= now:
                    count = await self._start(session, broadcast, now)
                    if count is not None:
                        detail = {"broadcast": broadcast.id, "audience": count}
                        await repo.audit(session, "scheduler", "broadcast.send", detail, now)
        async with self.runtime.database.sessions() as session, session.begin():
            for broadcast in await store.in_state(session, "sending"):
                if await store.unfinished(session, broadcast.id) == 0:
                    await session.execute(
                        update(Broadcast)
                        .where(Broadcast.id == broadcast.id, Broadcast.state == "sending")
                        .values(state="done", finished_at=now)
                    )

    async def load(
        self, session: AsyncSession, broadcast_id: int, *, lock: bool = False
    ) -> Broadcast:
        broadcast = await store.get(session, broadcast_id, lock=lock)
        if broadcast is None:
            raise BroadcastError(f"there is no broadcast {broadcast_id}")
        return broadcast


def _copy(
    broadcast_id: int,
    recipient: store.Recipient,
    chosen: feedback_texts.Chosen | None,
    messages: dict[str, dict[str, Any]],
    now: dt.datetime,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "channel": recipient.channel,
        "recipient_key": recipient.address_hash,
        "address_enc": recipient.address_enc,
        "priority": BROADCAST_PRIORITY,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "broadcast_id": broadcast_id,
        "language": recipient.language,
        "status": "pending",
        "sent_at": None,
        "last_error": None,
        "message": messages[chosen.language] if chosen else {},
    }
    if chosen is None:  # someone who joined in a language nobody confirmed since
        row.update(status="cancelled", address_enc=None, last_error=NO_TEXT)
    elif recipient.channel == "web":
        # The web chat shows it when the person next opens the page: "sent" is in their
        # inbox there, "delivered" is seen.
        row.update(status="sent", address_enc=None, sent_at=now)
    return row

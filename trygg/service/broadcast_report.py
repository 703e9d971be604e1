"""What staff see of a broadcast: a preview as people will get it, a dry run before
sending, and the report during and after.

The report counts the broadcast's outbox copies, so it adds up by construction: every
person in the fixed audience is exactly one of queued-and-not-yet-sent, sent, delivered,
failed, waiting for a messaging window, or skipped (with the reason).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bots.facebook.outbound import render as messenger_render
from bots.telegram.render import CAPTION_LIMIT, TEXT_LIMIT
from bots.telegram.render import text as telegram_text
from dialog_flows import feedback_texts
from dialog_flows.render_text import render_plain
from dialog_flows.session import Outgoing
from dialog_flows.sms_encoding import sms_cost
from storage import broadcasts as store
from storage.models import Broadcast
from trygg.service.broadcast_spec import CHANNELS
from trygg.service.broadcasts import BroadcastError, Broadcasts

# Outbox status -> the report's column.
COLUMN = {
    "pending": "pending",
    "sending": "pending",
    "sent": "sent",
    "delivered": "delivered",
    "failed": "failed",
    "undelivered": "failed",
    "waiting": "waiting",
    "cancelled": "skipped",
}


@dataclass
class Tally:
    queued: int = 0  # everyone in the fixed audience
    pending: int = 0  # not yet sent (or paused)
    sent: int = 0  # the provider took it; no delivery report (yet)
    delivered: int = 0  # the provider, or the web chat page, says they have it
    failed: int = 0
    waiting: int = 0  # a closed messaging window: goes when they next write
    skipped: int = 0  # opted out, erased, no text, cancelled
    failures: Counter[str] = field(default_factory=Counter)
    skips: Counter[str] = field(default_factory=Counter)

    def add(self, column: str, count: int, reason: str | None) -> None:
        self.queued += count
        setattr(self, column, getattr(self, column) + count)
        if column == "failed":
            self.failures[reason or "unknown"] += count
        elif column == "skipped":
            self.skips[reason or "unknown"] += count

    def adds_up(self) -> bool:
        parts = (self.pending, self.sent, self.delivered, self.failed, self.waiting, self.skipped)
        return self.queued == sum(parts)


@dataclass
class Report:
    broadcast_id: int
    name: str
    state: str
    audience_size: int | None
    rows: dict[tuple[str, str], Tally]  # (channel, language)
    total: Tally


async def report(service: Broadcasts, broadcast_id: int) -> Report:
    async with service.runtime.database.sessions() as session:
        broadcast = await store.get(session, broadcast_id)
        if broadcast is None:
            raise BroadcastError(f"there is no broadcast {broadcast_id}")
        counted = await store.counts(session, broadcast_id)
    rows: dict[tuple[str, str], Tally] = {}
    total = Tally()
    for row in counted:
        column = COLUMN.get(row.status, "pending")
        rows.setdefault((row.channel, row.language), Tally()).add(column, row.count, row.reason)
        total.add(column, row.count, row.reason)
    return Report(
        broadcast.id, broadcast.name, broadcast.state, broadcast.audience_size,
        dict(sorted(rows.items())), total,
    )  # fmt: skip


# -- dry run ---------------------------------------------------------------------------


@dataclass
class DryRunRow:
    people: int = 0
    fallback: int = 0  # of them, getting the Swedish text (confirmed or not yet)
    no_text: int = 0  # of them, no text and no confirmed fallback: cannot be sent yet
    sms_segments: int = 0


@dataclass
class DryRun:
    rows: dict[tuple[str, str], DryRunRow]
    missing: dict[str, int]  # languages without a text: people
    confirmed: tuple[str, ...]
    disabled: dict[str, int]  # people on channels that are switched off here: not sent
    segment_price: float
    currency: str

    @property
    def people(self) -> int:
        return sum(row.people for row in self.rows.values())

    @property
    def sms_segments(self) -> int:
        return sum(row.sms_segments for row in self.rows.values())

    @property
    def sms_cost(self) -> float:
        return round(self.sms_segments * self.segment_price, 2)


async def dry_run(service: Broadcasts, broadcast_id: int) -> DryRun:
    """Who would get it if it were sent now, per channel and language, and what the SMS
    part would cost. Nothing is written."""
    library = service.library
    settings = service.runtime.settings
    async with service.runtime.database.sessions() as session:
        broadcast = await service.load(session, broadcast_id)
        reachable = service.reachable_channels(broadcast)
        wanted = broadcast.audience.get("channels") or list(CHANNELS)
        everyone = await service.audience(session, broadcast, wanted)
    fallback_language = library.campaign(broadcast.campaign_id).default_language
    rows: dict[tuple[str, str], DryRunRow] = {}
    missing: dict[str, int] = {}
    disabled: dict[str, int] = {}
    segments: dict[str, int] = {}
    for recipient in everyone:
        if recipient.channel not in reachable:
            disabled[recipient.channel] = disabled.get(recipient.channel, 0) + 1
            continue
        row = rows.setdefault((recipient.channel, recipient.language), DryRunRow())
        row.people += 1
        if recipient.language not in broadcast.texts:
            missing[recipient.language] = missing.get(recipient.language, 0) + 1
            row.fallback += 1
            if recipient.language not in broadcast.fallbacks:
                row.no_text += 1
        chosen = recipient.language if recipient.language in broadcast.texts else fallback_language
        if recipient.channel == "sms":
            if chosen not in segments:
                segments[chosen] = sms_cost(sms_text(service, broadcast, chosen)).segments
            row.sms_segments += segments[chosen]
    return DryRun(
        dict(sorted(rows.items())), missing, tuple(broadcast.fallbacks), disabled,
        settings.sms_segment_price, settings.sms_currency,
    )  # fmt: skip


# -- preview ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    language: str
    channel: str
    text: str  # as it appears on that channel
    parts: int  # SMS segments; Messenger messages; 1 elsewhere
    note: str | None = None  # what differs on this channel (no image on SMS, say)
    encoding: str | None = None  # SMS: GSM-7 or UCS-2
    cost: float | None = None  # SMS: estimated price of one copy


def message_for(service: Broadcasts, broadcast: Broadcast, language: str) -> Outgoing:
    return feedback_texts.outgoing(
        service.library.translations,
        language,
        broadcast.texts[language],
        broadcast.link,
        broadcast.image,
    )


def sms_text(service: Broadcasts, broadcast: Broadcast, language: str) -> str:
    return render_plain(message_for(service, broadcast, language), for_sms=True)


async def preview(
    service: Broadcasts,
    broadcast_id: int,
    languages: list[str] | None = None,
    channels: list[str] | None = None,
) -> list[Preview]:
    broadcast = await service.get(broadcast_id)
    settings = service.runtime.settings
    shown: list[Preview] = []
    for language in languages or list(broadcast.texts):
        if language not in broadcast.texts:
            continue
        message = message_for(service, broadcast, language)
        for channel in channels or list(CHANNELS):
            if channel == "sms":
                text = render_plain(message, for_sms=True)
                cost = sms_cost(text)
                note = "SMS carries no image" if message.image else None
                price = round(cost.segments * settings.sms_segment_price, 4)
                shown.append(
                    Preview(language, channel, text, cost.segments, note, cost.encoding, price)
                )
            elif channel == "telegram":
                text = telegram_text(message)
                limit = CAPTION_LIMIT if message.image else TEXT_LIMIT
                note = None
                if message.image and len(text) > CAPTION_LIMIT:
                    note = f"longer than a photo caption ({CAPTION_LIMIT}): sent without the image"
                elif len(text) > limit:
                    note = f"longer than Telegram's {limit} characters"
                shown.append(Preview(language, channel, text, 1, note))
            elif channel == "facebook":
                parts = [part.get("text", "[image]") for part in messenger_render(message)]
                shown.append(Preview(language, channel, "\n---\n".join(parts), len(parts)))
            else:  # web and WhatsApp show the plain text
                shown.append(Preview(language, channel, render_plain(message), 1))
    return shown

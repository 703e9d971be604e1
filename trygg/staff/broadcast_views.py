"""What the återkoppling pages show, gathered from the broadcast service: who asked for
återkoppling, each broadcast's audience and progress, the preview, the dry run and the
report. Counts only: no address ever reaches a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dialog_flows.languages import autonym, direction
from dialog_flows.model import Campaign
from storage.models import Broadcast
from trygg.service import broadcast_report
from trygg.service.broadcast_report import DryRun, Preview, Report, Tally
from trygg.service.broadcast_spec import CHANNELS
from trygg.service.broadcasts import Broadcasts, Missing

STARTED = ("sending", "paused", "done", "cancelled")


@dataclass
class AudienceCounts:
    """People who asked for the campaign's återkoppling, by channel and language."""

    cells: dict[tuple[str, str], int] = field(default_factory=dict)
    reachable: tuple[str, ...] = ()  # channels switched on here

    @property
    def channels(self) -> list[str]:
        return [channel for channel in CHANNELS if any(c == channel for c, _ in self.cells)]

    @property
    def languages(self) -> list[str]:
        return sorted({language for _, language in self.cells})

    def of_channel(self, channel: str) -> int:
        return sum(n for (c, _), n in self.cells.items() if c == channel)

    def of_language(self, language: str) -> int:
        return sum(n for (_, lang), n in self.cells.items() if lang == language)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


@dataclass(frozen=True)
class Progress:
    """How far a started broadcast has come: copies no longer waiting to go out."""

    finished: int
    queued: int

    @classmethod
    def of(cls, total: Tally) -> Progress:
        return cls(total.queued - total.pending, total.queued)

    @property
    def percent(self) -> int:
        return 100 if self.queued == 0 else self.finished * 100 // self.queued


@dataclass(frozen=True)
class Listed:
    broadcast: Broadcast
    audience: int  # the fixed audience once started; who it would reach now before that
    fixed: bool
    progress: Progress | None


@dataclass
class Detail:
    broadcast: Broadcast
    campaign: Campaign
    languages: list[str]  # the campaign's, its own first
    missing: Missing
    previews: dict[str, list[Preview]]  # language -> one per channel
    reachable: list[str]
    dry_run: DryRun | None  # before sending: who would get it now
    report: Report
    progress: Progress
    currency: str  # of the SMS price estimates

    @property
    def editable(self) -> bool:
        return self.broadcast.state in ("draft", "scheduled")

    @property
    def still_sending(self) -> bool:
        """Its numbers change as the worker goes on (paused ones wait as they are)."""
        return self.broadcast.state == "sending"

    @property
    def test_channels(self) -> list[str]:
        # The web chat has no address to test on; its preview shows it instead.
        return [channel for channel in self.reachable if channel != "web"]

    @property
    def test_languages(self) -> list[str]:
        """Languages a test can be sent in: those with a text, and confirmed fallbacks."""
        have = set(self.broadcast.texts) | set(self.broadcast.fallbacks)
        return [language for language in self.languages if language in have]


async def campaign_audience(service: Broadcasts, campaign: Campaign) -> AudienceCounts:
    """Everyone the campaign's next broadcast could reach, on every channel."""
    # An unsaved, unfiltered broadcast: the service's own audience rules, nothing stored.
    everyone = Broadcast(campaign_id=campaign.id, audience={}, texts={}, fallbacks=[])
    async with service.runtime.database.sessions() as session:
        recipients = await service.audience(session, everyone, CHANNELS)
    counts = AudienceCounts(reachable=tuple(service.reachable_channels(everyone)))
    for recipient in recipients:
        key = (recipient.channel, recipient.language)
        counts.cells[key] = counts.cells.get(key, 0) + 1
    return counts


async def listed(service: Broadcasts, broadcasts: Sequence[Broadcast]) -> list[Listed]:
    rows: list[Listed] = []
    for broadcast in broadcasts:
        if broadcast.audience_size is not None:
            made = await broadcast_report.report(service, broadcast.id)
            progress = Progress.of(made.total)
            rows.append(Listed(broadcast, broadcast.audience_size, True, progress))
        else:
            async with service.runtime.database.sessions() as session:
                now = len(await service.audience(session, broadcast))
            rows.append(Listed(broadcast, now, False, None))
    return rows


async def detail(service: Broadcasts, broadcast: Broadcast, campaign: Campaign) -> Detail:
    languages = service.languages_of(campaign.id)
    wanted = broadcast.audience.get("channels") or list(CHANNELS)
    previews: dict[str, list[Preview]] = {}
    for item in await broadcast_report.preview(service, broadcast.id, channels=wanted):
        previews.setdefault(item.language, []).append(item)
    ordered = {lang: previews[lang] for lang in languages if lang in previews}
    made = await broadcast_report.report(service, broadcast.id)
    before = broadcast.state in ("draft", "scheduled")
    return Detail(
        broadcast=broadcast,
        campaign=campaign,
        languages=languages,
        missing=await service.missing(broadcast.id),
        previews=ordered,
        reachable=service.reachable_channels(broadcast),
        dry_run=await broadcast_report.dry_run(service, broadcast.id) if before else None,
        report=made,
        progress=Progress.of(made.total),
        currency=service.runtime.settings.sms_currency,
    )


def language_label(code: str) -> dict[str, str]:
    """A language's own name with the attributes to write it right: lang and dir."""
    return {"name": autonym(code), "lang": code, "dir": direction(code)}

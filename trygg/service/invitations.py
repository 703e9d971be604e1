"""Inviting a list of people by SMS: what it would cost, then the sending.

The estimate runs the engine itself for each language the list uses, so the figure is
the opening messages exactly as they would go out, rendered for SMS and counted in
segments. The sending starts one dialog per person, each in its own transaction
(``DialogService.invite``): a crash part-way loses nothing, and running the list again
invites only those not yet invited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dialog_flows.campaigns import Entry
from dialog_flows.engine import respond
from dialog_flows.render_text import render_plain
from dialog_flows.session import Context, Start
from dialog_flows.sms_encoding import sms_cost
from storage import opt_outs
from storage import repositories as repo
from trygg.invitation_list import Invitee
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime

CHANNEL = "sms"


@dataclass(frozen=True)
class InvitationPlan:
    entry: Entry
    default_language: str
    invite: list[Invitee]  # those who will get the opening prompt
    opted_out: int  # on the opt-out list: never invited
    known: int  # already taking part, or took part: not invited twice
    segments_per_invitation: dict[str, int]  # language -> segments of the opening messages
    segment_price: float
    currency: str

    def language_of(self, invitee: Invitee) -> str:
        return invitee.language or self.default_language

    @property
    def segments(self) -> int:
        return sum(self.segments_per_invitation[self.language_of(i)] for i in self.invite)

    @property
    def cost(self) -> float:
        return self.segments * self.segment_price

    def by_language(self) -> Counter[str]:
        return Counter(self.language_of(invitee) for invitee in self.invite)


@dataclass
class InvitationResult:
    counts: Counter[str] = field(default_factory=Counter)  # invited, opted_out, known


async def plan_invitations(
    runtime: Runtime, invitees: Sequence[Invitee], entry: Entry, language: str | None = None
) -> InvitationPlan:
    default_language = language or entry.campaign.default_language
    hashes = {runtime.vault.lookup_hash(CHANNEL, i.number): i for i in invitees}
    async with runtime.database.sessions() as session:
        suppressed = await opt_outs.suppressed_among(session, CHANNEL, list(hashes))
        known = await repo.contacts_among(session, CHANNEL, list(hashes))
    invite = [i for key, i in hashes.items() if key not in suppressed and key not in known]
    languages = {i.language or default_language for i in invite} | {default_language}
    segments = {lang: opening_segments(runtime, entry, lang) for lang in languages}
    settings = runtime.settings
    return InvitationPlan(
        entry=entry,
        default_language=default_language,
        invite=invite,
        opted_out=len(suppressed),
        known=len(known - suppressed),
        segments_per_invitation=segments,
        segment_price=settings.sms_segment_price,
        currency=settings.sms_currency,
    )


def opening_segments(runtime: Runtime, entry: Entry, language: str) -> int:
    """SMS segments of the messages an invitation in this language sends."""
    flow = runtime.library.flow(entry.campaign.flow_for(entry.source.id if entry.source else None))
    if flow is None:
        raise RuntimeError(f"campaign {entry.campaign.id} has no flow")
    context = Context(
        now=runtime.clock().timestamp(),
        channel=CHANNEL,
        translations=runtime.library.translations,
        default_language=entry.campaign.default_language,
    )
    source = entry.source.id if entry.source else None
    turn = respond(flow, None, Start(source, language), context)
    return sum(sms_cost(render_plain(m, for_sms=True)).segments for m in turn.messages)


async def send_invitations(
    runtime: Runtime, plan: InvitationPlan, progress: Callable[[], None] | None = None
) -> InvitationResult:
    dialogs = DialogService(runtime)
    result = InvitationResult()
    for invitee in plan.invite:
        outcome = await dialogs.invite(invitee.number, plan.entry, plan.language_of(invitee))
        result.counts[outcome] += 1
        if progress is not None:
            progress()
    return result

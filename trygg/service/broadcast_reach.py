"""Ways the återkoppling reaches someone besides a broadcast's own copies: a test to
staff's own address, the web chat's inbox, and the RESULTAT keyword."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from dialog_flows import feedback_texts
from dialog_flows.phone import check_phone
from dialog_flows.session import Outgoing, outgoing_from_dict, outgoing_to_dict
from storage import broadcasts as store
from storage import opt_outs
from storage import repositories as repo
from trygg.service.broadcasts import BroadcastError, Broadcasts
from trygg.service.runtime import Runtime


async def test_send(
    service: Broadcasts, broadcast_id: int, channel: str, address: str, language: str, actor: str
) -> int:
    """The message in ``language`` to staff's own address, at once: priority 0, like a
    reply, and without the broadcast's id, so its report never counts it. Returns the
    outbox id. The address goes nowhere but the outbox (never the audit log)."""
    if channel == "web":
        raise BroadcastError(
            "the web chat has no address to send a test to; "
            "`trygg broadcast preview` shows how it looks there"
        )
    address = address.strip()
    if channel in ("sms", "whatsapp"):
        number, problem = check_phone(address.removeprefix("whatsapp:"))
        if number is None:
            raise BroadcastError(f"{address!r} cannot get a test: {problem}")
        address = number
    elif not address:
        raise BroadcastError("give the address to send the test to")
    vault, now = service.runtime.vault, service.runtime.clock()
    key = vault.lookup_hash(channel, address)
    async with service.runtime.database.sessions() as session, session.begin():
        broadcast = await service.load(session, broadcast_id)
        reachable = service.reachable_channels(broadcast)
        if channel not in reachable:
            raise BroadcastError(
                f"broadcast {broadcast_id} cannot go out on {channel} here; it goes out "
                f"on {', '.join(reachable)}. A channel is on when its TRYGG_ settings are "
                "set (`trygg serve` lists them)"
            )
        default = service.library.campaign(broadcast.campaign_id).default_language
        chosen = feedback_texts.choose(language, broadcast.texts, broadcast.fallbacks, default)
        if chosen is None:
            raise BroadcastError(
                f"broadcast {broadcast_id} has no text in {language}; it has "
                f"{', '.join(sorted(broadcast.texts))}"
            )
        if await opt_outs.find(session, channel, key) is not None:
            raise BroadcastError(
                f"{address} has opted out on {channel}: nothing is sent there until it "
                "writes START. Send the test to another address"
            )
        text = broadcast.texts[chosen.language]
        message = feedback_texts.outgoing(
            service.library.translations, chosen.language, text, broadcast.link, broadcast.image
        )
        outbox_id = await repo.enqueue(
            session, channel=channel, recipient_key=key, address_enc=vault.encrypt(address),
            message=outgoing_to_dict(message), now=now, priority=0,
        )  # fmt: skip
        detail = {"broadcast": broadcast_id, "channel": channel, "language": chosen.language}
        await repo.audit(session, actor, "broadcast.test", detail, now)
        return outbox_id


async def web_inbox(runtime: Runtime, recipient_key: str) -> list[Outgoing]:
    """Broadcast copies waiting in a web chat visitor's page, now shown: delivered."""
    async with runtime.database.sessions() as session, session.begin():
        copies = await store.web_inbox(session, recipient_key)
        for copy in copies:
            copy.status = "delivered"
        return [outgoing_from_dict(copy.message) for copy in copies]


async def published_feedback(
    session: AsyncSession, runtime: Runtime, campaign_id: str
) -> dict[str, str] | None:
    """The latest återkoppling of the campaign per language, for RESULTAT."""
    broadcast = await store.latest_published(session, campaign_id)
    if broadcast is None:
        return None
    published = feedback_texts.published(broadcast.texts, broadcast.link)
    fallback = runtime.library.campaign(campaign_id).default_language
    for language in broadcast.fallbacks:
        published.setdefault(language, published.get(fallback, ""))
    return published

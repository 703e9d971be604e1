"""The delivery worker: sends the outbox through the channel adapters.

Temporary errors are retried with exponential backoff (or when the provider says);
permanent ones stop at once. A person who blocked the bot is marked unreachable; a
person who opted out at the provider is erased like one who wrote STOPP. Live dialog
replies (priority 0) are claimed before broadcast traffic. Sends are paced by each
channel's rate and by a minimum interval between two messages to one person. A message
to someone whose messaging window is closed (WhatsApp, Messenger) goes out only as the
provider's rules allow; otherwise it waits for their next message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import math
import random
import time
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bots.contract import ChannelSender, ControlSender, Outcome, SendResult, WindowedSender
from dialog_flows.session import outgoing_from_dict
from storage import broadcasts, opt_outs, outbox
from storage import repositories as repo
from storage.models import Contact
from trygg.service.runtime import Runtime

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 15 * 60
WINDOW_MARGIN = dt.timedelta(minutes=1)
RECORD_EVERY = 0.05  # seconds: outcomes that arrive this close together share a commit
RECOVER_EVERY = 10.0  # seconds between two looks for messages whose worker died


class RateLimiter:
    """Even pacing at just under ``rate`` units a second (messages, or SMS segments):
    each send gets the next free slot, and a send of ``cost`` units takes ``cost / rate``
    seconds of it. No bursts: providers count in rolling seconds, and a bucket that
    saves up a second's worth while idle (or after a round) sends up to twice the rate
    in one of them, which is what a 429 punishes."""

    # A little under the documented rate: requests arrive with a few milliseconds of
    # jitter, and the provider's rolling second must never see one too many.
    MARGIN = 0.97

    def __init__(self, rate: float) -> None:
        self.rate = rate * self.MARGIN
        self.next_free = time.monotonic()
        self.lock = asyncio.Lock()

    async def acquire(self, cost: float = 1.0) -> None:
        async with self.lock:
            now = time.monotonic()
            start = max(now, self.next_free)
            self.next_free = start + cost / self.rate
        if start > now:
            await asyncio.sleep(start - now)

    def drain(self) -> None:
        """The provider said "too many" (429): leave its rolling second empty before the
        next send."""
        self.next_free = max(self.next_free, time.monotonic()) + 1.0


def backoff(attempts: int) -> float:
    base = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 20))
    return float(base * random.uniform(0.8, 1.2))


class DeliveryWorker:
    def __init__(
        self,
        runtime: Runtime,
        senders: Mapping[str, ChannelSender],
        *,
        batch_size: int = 100,
        lease: dt.timedelta = dt.timedelta(seconds=120),
    ) -> None:
        self.runtime = runtime
        self.senders = dict(senders)
        self.batch_size = batch_size
        self.lease = lease
        self.limiters = {
            name: RateLimiter(sender.rate_per_second) for name, sender in self.senders.items()
        }
        self.last_sent: dict[str, float] = {}
        # Per channel: claimed messages not yet past the rate limiter (the claim ahead).
        self.queued: dict[str, set[int]] = {}
        # A channel the provider told to wait (429 with a retry-after): no new claims
        # on it until then. By the runtime's clock, like every other time in the outbox.
        self.held_until: dict[str, dt.datetime] = {}

    async def run_once(self) -> int:
        """One round on every channel side by side: claim, send, record. Returns how
        many messages were claimed."""
        if not self.senders:
            return 0
        now = self.runtime.clock()
        async with self.runtime.database.sessions() as session, session.begin():
            await outbox.recover_expired_leases(session, now, max_attempts=MAX_ATTEMPTS)
        claimed = await asyncio.gather(*(self.run_channel(name) for name in self.senders))
        return sum(claimed)

    async def run_channel(self, channel: str) -> int:
        """One round on one channel: claim about a second's worth of its rate (so a live
        reply never waits long behind bulk traffic), send them, and record outcomes as
        the provider answers, those that arrive within RECORD_EVERY in one commit. That
        bounds what a crash can leave sent but unrecorded (and so sent again) to a few
        milliseconds of sends, while the database is not asked for a commit per send."""
        sender = self.senders[channel]
        limit = max(1, min(self.batch_size, math.ceil(sender.rate_per_second)))
        claimed = await self._claim(channel, limit)
        sending = {
            asyncio.create_task(self._deliver(item, closed)): item for item, closed in claimed
        }
        unfinished = set(sending)
        while unfinished:
            done, unfinished = await asyncio.wait(unfinished, timeout=RECORD_EVERY)
            if done:
                async with self.runtime.database.sessions() as session, session.begin():
                    for task in done:
                        await self._record(session, sending[task], task.result())
        return len(claimed)

    async def _deliver(self, item: outbox.Claimed, window_closed: bool) -> SendResult:
        try:
            result = await self._send(item, window_closed)
        finally:
            self._paced(item)
        if result.outcome is Outcome.RETRY and result.retry_after:
            until = self.runtime.clock() + dt.timedelta(seconds=result.retry_after)
            self.held_until[item.channel] = max(until, self.held_until.get(item.channel, until))
            self.limiters[item.channel].drain()
        return result

    async def run(self, stop: asyncio.Event, idle_seconds: float = 0.5) -> None:
        """Each channel in its own loop, so a slow one (SMS, paced by segments) never
        holds back a fast one."""
        try:
            now = self.runtime.clock()
            async with self.runtime.database.sessions() as session, session.begin():
                await outbox.recover_expired_leases(session, now, max_attempts=MAX_ATTEMPTS)
            await asyncio.gather(
                *(self._channel_loop(name, stop, idle_seconds) for name in self.senders)
            )
        finally:
            await self.aclose()

    async def _channel_loop(self, channel: str, stop: asyncio.Event, idle_seconds: float) -> None:
        """Claim, send and record side by side, so the channel's pace never stops for a
        claim or a commit: the next claim is made while half a second's worth of the last
        one still waits for its slot. Claims stay about a second's worth, so a live reply
        (claimed first) waits at most about a second behind bulk traffic."""
        sender = self.senders[channel]
        batch = max(1, min(self.batch_size, math.ceil(sender.rate_per_second)))
        sending: dict[asyncio.Task[SendResult], outbox.Claimed] = {}
        self.queued[channel] = set()
        recovered = claim_after = 0.0
        while not stop.is_set() or sending:
            try:
                if time.monotonic() - recovered > RECOVER_EVERY:
                    recovered = time.monotonic()  # messages whose worker died mid-send
                    async with self.runtime.database.sessions() as session, session.begin():
                        await outbox.recover_expired_leases(
                            session, self.runtime.clock(), max_attempts=MAX_ATTEMPTS
                        )
                queued = len(self.queued[channel])
                if not stop.is_set() and queued <= batch // 2 and time.monotonic() >= claim_after:
                    claimed = await self._claim(channel, batch - queued)
                    for item, closed in claimed:
                        self.queued[channel].add(item.id)
                        sending[asyncio.create_task(self._deliver(item, closed))] = item
                    # Nothing due: look again after a pause, not at every outcome.
                    claim_after = 0.0 if claimed else time.monotonic() + idle_seconds
            except Exception:  # the database may be restarting: keep the worker alive
                log.exception("delivery claim on %s failed; retrying", channel)
                claim_after = time.monotonic() + idle_seconds
            if not sending:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), max(0.0, claim_after - time.monotonic()))
                continue
            done, _ = await asyncio.wait(sending, timeout=RECORD_EVERY)
            if done:
                await self._record_all([(sending.pop(task), task.result()) for task in done])

    async def _claim(self, channel: str, limit: int) -> list[tuple[outbox.Claimed, bool]]:
        """Up to ``limit`` due messages, each with whether its messaging window is closed;
        none while the provider told the channel to wait."""
        now = self.runtime.clock()
        if now < self.held_until.get(channel, now):
            return []
        async with self.runtime.database.sessions() as session, session.begin():
            claimed = await outbox.claim_due(
                session, (channel,), now, limit=limit, lease=self.lease
            )
            closed = await self._closed_windows(session, claimed, now) if claimed else set()
        return [(item, item.id in closed) for item in claimed]

    async def _record_all(self, outcomes: list[tuple[outbox.Claimed, SendResult]]) -> None:
        try:
            async with self.runtime.database.sessions() as session, session.begin():
                for item, result in outcomes:
                    await self._record(session, item, result)
        except Exception:  # their leases run out and they are tried again
            log.exception("recording %d outcomes failed", len(outcomes))

    async def aclose(self) -> None:
        """Close the senders' connections (those that hold any)."""
        for sender in self.senders.values():
            close = getattr(sender, "aclose", None)
            if close is not None:
                await close()

    async def _closed_windows(
        self, session: AsyncSession, claimed: list[outbox.Claimed], now: dt.datetime
    ) -> set[int]:
        """The claimed messages whose recipient's messaging window (WhatsApp, Messenger) is
        closed: their last message to us is older than the window, or there was none."""
        windowed: dict[str, list[outbox.Claimed]] = {}
        for item in claimed:
            if isinstance(self.senders[item.channel], WindowedSender):
                windowed.setdefault(item.channel, []).append(item)
        closed: set[int] = set()
        for channel, items in windowed.items():
            sender = self.senders[channel]
            assert isinstance(sender, WindowedSender)
            # A minute's margin: the message is sent a moment after this check.
            opened_after = now - dt.timedelta(seconds=sender.window_seconds) + WINDOW_MARGIN
            query = select(Contact.address_hash, Contact.last_inbound_at).where(
                Contact.channel == channel,
                Contact.address_hash.in_({item.recipient_key for item in items}),
            )
            last_inbound = {key: at for key, at in (await session.execute(query)).all()}
            for item in items:
                # A reply carries the time of the message it answers: the contact may be
                # gone by now (STOPP), but that message opened the window all the same.
                candidates = (last_inbound.get(item.recipient_key), item.window_opened_at)
                opened = [at for at in candidates if at is not None]
                if not opened or max(opened) < opened_after:
                    closed.add(item.id)
        return closed

    def _paced(self, item: outbox.Claimed) -> None:
        """The message is past the rate limiter (or needs no slot): no longer queued."""
        self.queued.get(item.channel, set()).discard(item.id)

    async def _send(self, item: outbox.Claimed, window_closed: bool = False) -> SendResult:
        sender = self.senders[item.channel]
        if item.address_enc is None:
            return SendResult(Outcome.FAILED, error="no address (erased)")
        if (
            window_closed
            and isinstance(sender, WindowedSender)
            and not getattr(sender, "outside_window_calls_provider", True)
        ):
            # It waits for their next message without a call (Messenger): no slot of the
            # provider's rate is spent on it, or a tenth of a broadcast would idle the pace.
            address = self.runtime.vault.decrypt(item.address_enc)
            return await sender.send_outside_window(address, outgoing_from_dict(item.message))
        wait = (
            self.last_sent.get(item.recipient_key, 0.0)
            + sender.recipient_interval
            - time.monotonic()
        )
        if wait > 0:
            await asyncio.sleep(wait)
        control = item.message.get("control")
        weigh = getattr(sender, "cost", None)  # e.g. SMS segments; one unit otherwise
        cost = (
            1.0
            if control is not None or weigh is None
            else float(weigh(outgoing_from_dict(item.message)))
        )
        await self.limiters[item.channel].acquire(cost)
        self._paced(item)
        self.last_sent[item.recipient_key] = time.monotonic()
        try:
            address = self.runtime.vault.decrypt(item.address_enc)
            if control is not None:
                if not isinstance(sender, ControlSender):
                    return SendResult(Outcome.FAILED, error=f"{item.channel} has no actions")
                return await sender.perform(address, control)
            if window_closed and isinstance(sender, WindowedSender):
                return await sender.send_outside_window(address, outgoing_from_dict(item.message))
            return await sender.send(address, outgoing_from_dict(item.message))
        except Exception as exc:  # an adapter bug or a network error: try again later
            log.warning("send %s on %s raised %s", item.id, item.channel, type(exc).__name__)
            return SendResult(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:500])

    async def _record(
        self, session: AsyncSession, item: outbox.Claimed, result: SendResult
    ) -> None:
        now = self.runtime.clock()
        if result.outcome is Outcome.SENT:
            await outbox.mark_sent(
                session, item.id, result.provider_message_id, now, attempts=item.attempts
            )
        elif result.outcome is Outcome.RETRY and item.attempts < MAX_ATTEMPTS:
            delay = max(result.retry_after or 0.0, backoff(item.attempts))
            await outbox.mark_retry(
                session,
                item.id,
                now + dt.timedelta(seconds=delay),
                result.error,
                attempts=item.attempts,
            )
        elif result.outcome is Outcome.WAITING:
            await outbox.mark_waiting(session, item.id, result.error, attempts=item.attempts)
        else:
            await outbox.mark_failed(session, item.id, result.error, attempts=item.attempts)
            if result.outcome is Outcome.UNREACHABLE:
                await self._unreachable(session, item)
            elif result.outcome is Outcome.OPTED_OUT:
                await self._opted_out(session, item)

    async def _contact(self, session: AsyncSession, item: outbox.Claimed) -> Contact | None:
        query = select(Contact).where(
            Contact.channel == item.channel, Contact.address_hash == item.recipient_key
        )
        return (await session.execute(query)).scalar_one_or_none()

    async def _unreachable(self, session: AsyncSession, item: outbox.Claimed) -> None:
        await repo.cancel_pending(session, item.recipient_key, reason=broadcasts.UNREACHABLE)
        contact = await self._contact(session, item)
        if contact is not None:
            contact.unreachable = True
            contact.feedback_wanted = False

    async def _opted_out(self, session: AsyncSession, item: outbox.Claimed) -> None:
        await repo.cancel_pending(session, item.recipient_key, reason=broadcasts.OPTED_OUT)
        contact = await self._contact(session, item)
        language = contact.language if contact else self.runtime.library.campaign().default_language
        await opt_outs.suppress(session, item.channel, item.recipient_key, language)
        if contact is not None:
            # As when they write STOPP: the dialog in progress ends as stopped.
            await repo.end_dialog(session, contact.id, "stopped", self.runtime.clock())
            await repo.delete_contact(session, contact)

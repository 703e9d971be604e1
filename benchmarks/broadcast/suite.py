"""Benchmark 4: a broadcast to opted-in contacts, at each provider's documented rate.

Against the fake providers, which enforce their documented limits over any sliding
second with the provider's own 429: Telegram 30 messages a second (and one a second per
chat), Messenger 300 a second per page, and Twilio in segments a second. Twilio's limit
depends on the sender: about 10 segments a second for a long code outside North America,
100 messages a second for a short code (the sender a national rollout would use). The full
run takes the short code tier, on both sides (the fake enforces 100 segments a second and
TRYGG_TWILIO_SEGMENTS_PER_SECOND says so), or 20,000 SMS would take 40 minutes at 10; the
quick run the long code. The share of the allowed rate is what is compared, not the rate.

Our senders are set to the limits the fakes enforce (Messenger's default of 250 leaves a
margin below Meta's "about 300"; here the limit is exact). With several workers each gets
its share, as docs/operations.md says. The audience is weighted so that every channel
sends for about as long: 6 % Telegram, 20 % SMS, 64 % Messenger (a tenth of them outside
their 24-hour window: they wait, and never reach the provider) and 10 % web chat (no
provider: their copy is in their inbox at once).

Shapes, each a fresh database: SQLite with one worker, PostgreSQL with one worker, and
the production shape, PostgreSQL with two ``trygg worker`` processes (the reference for
the last is the same run with one). Figures per shape: each channel's achieved rate as a
share of its limit (target 0.95), copies that reached a person twice (must be 0) and any
other wrong delivery, the time to prepare the audience (``Broadcasts.send``), the workers'
CPU per message sent, and the time from send to the last copy accepted.

The mixed broadcast asks one worker for every channel's limit at once, which is more CPU
than one process has here (see docs/benchmarks.md). So each channel is also measured
alone, with one worker on the same database: that shows whether the pacing reaches the
provider's limit when the CPU is there for it.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from benchmarks.broadcast.scenario import Outcome, Setup, measure
from benchmarks.figures import Figure
from tests.benchmarks.broadcast_setup import PROVIDER_CHANNELS, Audience, audience

NAME = "broadcast"
SIZES = {"quick": 6000, "full": 100_000}
SMS_TIERS = {"quick": 10.0, "full": 100.0}  # segments a second: long code, short code
LIMITS = {"telegram": 30.0, "facebook": 300.0}
UNITS = {"telegram": "msg/s", "sms": "segments/s", "facebook": "msg/s"}
TARGET = ">= 0.95 of the limit"
ALONE_SECONDS = 20  # each channel alone sends for about this long at its limit
SEGMENTS_PER_COPY = 3  # about what one återkoppling text takes (benchmark 5 has the costs)


def mix(people: int, sms_tier: float) -> Audience:
    """``people`` weighted so that each channel sends for about as long at its limit.
    With the long code's 10 segments a second, SMS gets a tenth of the short code's."""
    telegram = people * 6 // 100
    sms = people * 20 // 100 * int(sms_tier) // 100
    messenger = people * 64 // 100
    closed = messenger // 10
    web = people - telegram - sms - messenger
    return audience(telegram=telegram, sms=sms, facebook=messenger - closed, closed=closed,
                    web=web)  # fmt: skip


def shapes(size: str, postgres_url: str | None) -> list[tuple[str, str, int]]:
    found = [("sqlite, 1 worker", "sqlite", 1)]
    if postgres_url:
        found += [
            ("postgresql, 1 worker", postgres_url, 1),
            ("postgresql, 2 workers", postgres_url, 2),
        ]
    return found


def run(size: str, postgres_url: str | None) -> list[Figure]:
    people = mix(SIZES[size], SMS_TIERS[size])
    limits = LIMITS | {"sms": SMS_TIERS[size]}
    figures: list[Figure] = []
    outcomes: dict[str, Outcome] = {}
    for label, database, workers in shapes(size, postgres_url):
        with tempfile.TemporaryDirectory(prefix="trygg-broadcast-") as folder:
            setup = Setup(database, workers, people, limits)
            outcome = asyncio.run(measure(setup, Path(folder)))
        outcomes[label] = outcome
        figures += describe(label, outcome, limits, people.size)
    figures += alone(postgres_url or "sqlite", limits)
    if postgres_url is None:
        figures.append(Figure(NAME, "postgresql", 0, "", note="skipped: no PostgreSQL URL"))
    else:
        one, two = outcomes["postgresql, 1 worker"], outcomes["postgresql, 2 workers"]
        figures.append(
            Figure(NAME, "scale-out: messages/s to providers, 2 workers vs 1",
                   two.messages / two.total_seconds, "msg/s",
                   reference=one.messages / one.total_seconds, reference_name="1 worker",
                   note="capped by the providers' limits: the same rate is the goal")
        )  # fmt: skip
    return figures


def alone(database: str, limits: dict[str, float], seconds: float = ALONE_SECONDS) -> list[Figure]:
    """Each channel's broadcast on its own, one worker: the pacing without CPU contention."""
    kind = "sqlite" if database == "sqlite" else "postgresql"
    figures = []
    for channel in PROVIDER_CHANNELS:
        copies = max(SEGMENTS_PER_COPY, int(limits[channel] * seconds))
        people = audience(**{channel: copies // SEGMENTS_PER_COPY if channel == "sms" else copies})
        with tempfile.TemporaryDirectory(prefix="trygg-broadcast-") as folder:
            setup = Setup(database, 1, people, limits)
            outcome = asyncio.run(measure(setup, Path(folder)))
        found = outcome.channels[channel]
        repeated = sum(other.duplicates for other in outcome.channels.values())
        figures.append(
            Figure(NAME, f"{kind}, 1 worker, {channel} alone: rate", round(found.rate, 2),
                   UNITS[channel], reference=limits[channel], reference_name="limit",
                   target=TARGET, met=found.rate / limits[channel] >= 0.95,
                   note=f"{found.copies} copies, {found.rejected} answered 429, "
                   f"{repeated} duplicates, worker CPU "
                   f"{1000 * outcome.cpu_seconds / max(1, outcome.messages):.2f} ms/message")
        )  # fmt: skip
    return figures


def describe(label: str, outcome: Outcome, limits: dict[str, float], size: int) -> list[Figure]:
    figures = []
    for channel in PROVIDER_CHANNELS:
        found = outcome.channels[channel]
        share = found.rate / limits[channel]
        figures.append(
            Figure(NAME, f"{label}: {channel} rate", round(found.rate, 2), UNITS[channel],
                   reference=limits[channel], reference_name="limit", target=TARGET,
                   met=share >= 0.95,
                   note=f"{found.copies} copies, {found.rejected} answered 429")
        )  # fmt: skip
    repeated = sum(found.duplicates for found in outcome.channels.values())
    figures += [
        Figure(NAME, f"{label}: duplicates", repeated, "copies", target="0", met=repeated == 0),
        Figure(NAME, f"{label}: other wrong deliveries", len(outcome.problems), "problems",
               target="0", met=not outcome.problems, note="; ".join(outcome.problems)[:300]),
        Figure(NAME, f"{label}: prepare the audience", round(outcome.prepare_seconds, 2), "s",
               note=f"{size} people, one transaction"),
        Figure(NAME, f"{label}: worker CPU per message",
               round(1000 * outcome.cpu_seconds / max(1, outcome.messages), 3), "ms",
               note=f"{outcome.cpu_seconds:.1f} s CPU for {outcome.messages} messages"),
        Figure(NAME, f"{label}: send to last copy", round(outcome.total_seconds, 1), "s"),
    ]  # fmt: skip
    return figures

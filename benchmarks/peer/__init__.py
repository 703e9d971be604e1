"""Benchmark 2, the peer: Trygg against the Karlslund questionnaire written as a
conventional python-telegram-bot 22 bot (ConversationHandler, PicklePersistence, its own
webhook; see ``ptb_bot`` and ``webhook``).

Both get the same Telegram updates (``people``) from the same closed-loop driver, one
after the other in the same run, on the same machine: throughput, acknowledgement
latency and memory, then a kill -9 of each and a restart to count what each kept of the
answers it had acknowledged. The peer runs twice: acknowledging after handling (the
same promise as Trygg's 200, less the commit) and as PTB documents its custom webhook
(enqueue and answer at once, handle one update at a time: the default
``concurrent_updates``), whose rate is counted up to the last update handled.

Trygg runs on SQLite (``trygg serve --no-worker``): ``postgres_url`` is not used here;
benchmark 1 measures the databases.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.figures import Figure
from benchmarks.peer.measure import Outcome, measure_peer, measure_trygg
from benchmarks.peer.people import ANSWERS_PER_PERSON, UPDATES_PER_PERSON

NAME = "peer"


@dataclass(frozen=True)
class Size:
    people: int
    concurrency: int  # people mid-questionnaire at once


# Every person's whole questionnaire goes through each of the three bots in turn, at
# about 50 updates a second: 600 people is about 10,000 updates a bot, a few minutes.
SIZES = {"quick": Size(300, 50), "full": Size(600, 50)}


@dataclass(frozen=True)
class Measured:
    size: Size
    trygg: Outcome
    peer: Outcome  # acknowledges after handling
    documented: Outcome  # enqueues, acknowledges, handles one at a time


def measure(size: Size) -> Measured:
    with tempfile.TemporaryDirectory(prefix="trygg-peer-") as folder:
        where = Path(folder)
        peer = measure_peer(where, "process", size.people, size.concurrency)
        documented = measure_peer(where, "queue", size.people, size.concurrency)
        trygg = measure_trygg(where, size.people, size.concurrency)
    return Measured(size, trygg, peer, documented)


def run(size: str = "full", postgres_url: str | None = None) -> list[Figure]:
    return figures(measure(SIZES[size]))


def figures(found: Measured) -> list[Figure]:
    trygg, peer, documented = found.trygg, found.peer, found.documented
    load = (
        f"{found.size.people} people x {UPDATES_PER_PERSON} updates, "
        f"{found.size.concurrency} at once, closed loop; Trygg on SQLite, no worker"
    )
    outbound = (
        "the peer's figure includes its Bot API calls (answerCallbackQuery, edits, "
        "sendMessage) to a local fake; Trygg's replies go to the outbox for a worker "
        "that is not running here"
    )
    peer_name = "PTB peer, ack after handling"
    documented_name = "PTB peer, documented webhook"
    return [
        Figure(NAME, "Telegram updates/s: Trygg vs PTB peer (ack after handling)",
               trygg.load["per_second"], "updates/s", peer.load["per_second"], peer_name,
               note=f"{load}; {outbound}"),
        Figure(NAME, "Telegram updates/s: Trygg vs PTB peer as documented (queue)",
               trygg.load["per_second"], "updates/s", documented.load["per_second"],
               documented_name,
               note="peer: update_queue.put, 200 at once, concurrent_updates=1 (default); "
                    "its rate counts until the last update was handled"),
        Figure(NAME, "ack latency p50: Trygg vs PTB peer (ack after handling)",
               trygg.load["p50_ms"], "ms", peer.load["p50_ms"], peer_name,
               note="at full closed-loop load; lower is better"),
        Figure(NAME, "ack latency p99: Trygg vs PTB peer (ack after handling)",
               trygg.load["p99_ms"], "ms", peer.load["p99_ms"], peer_name,
               note="at full closed-loop load; lower is better"),
        Figure(NAME, "p99 receipt to handled: Trygg ack vs PTB peer as documented",
               trygg.load["p99_ms"], "ms", _number(documented.handled.get("handled_p99_ms")),
               documented_name,
               note=f"the documented peer's ack p99 is {documented.load['p99_ms']:.1f} ms, "
                    "but its 200 only means queued in memory"),
        Figure(NAME, "RSS at the end of the load: Trygg vs PTB peer",
               trygg.rss_mb, "MiB", peer.rss_mb, peer_name,
               note=f"documented peer: {documented.rss_mb:.0f} MiB; lower is better"),
        _kept("Trygg", trygg),
        _kept(peer_name, peer),
        _kept(documented_name, documented),
    ]  # fmt: skip


def _kept(who: str, outcome: Outcome) -> Figure:
    kept, load = outcome.kept, outcome.load
    errors = f"; {outcome.api_errors} Bot API calls refused" if outcome.api_errors else ""
    return Figure(
        NAME,
        f"{who}: answers kept after kill -9 / answers acknowledged",
        outcome.kept_fraction,
        "fraction",
        target="1.0: an acknowledged answer is never lost",
        met=outcome.kept_fraction >= 1.0,
        note=(
            f"{kept['answers']} of {load['answers_acknowledged']} answers "
            f"({ANSWERS_PER_PERSON} a person); {kept['respondents']} respondents, "
            f"{kept['completed']} completed; load took {load['seconds']:.1f} s"
            + ("; PicklePersistence writes every 60 s (update_interval)" if who != "Trygg" else "")
            + errors
        ),
    )


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else 0.0

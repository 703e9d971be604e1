"""Inbound throughput at a size: the inbound benchmark's closed loop, run against the
seeded database, so that its rate at 100,000 and 1,000,000 stored respondents can be set
against its rate on the same database when it was empty. The issue's bar: no more than a
10% fall, which holds only if the inbound path's queries use indexes (``plans.py``
checks the plans; this measures what they cost)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks.inbound import servers

CONCURRENCY = 32  # as the inbound benchmark's, per process
WARMUP = 2.0


@dataclass(frozen=True)
class InboundRate:
    rate: float  # messages a second, closed loop
    server_cpu_ms: float | None  # per message
    failed: dict[str, int]


def inbound_rate(url: str, run_id: int, duration: float, people: int) -> InboundRate:
    """One ``trygg serve --no-worker`` on ``url`` under the closed loop of ``people`` for
    ``duration`` seconds. ``run_id`` keeps the simulated people apart from earlier runs' on the same
    database (each run's people are new respondents, as the seeded ones stay)."""
    with (
        tempfile.TemporaryDirectory(prefix="trygg-scale-inbound-") as folder,
        servers.ours(1, url, Path(folder)) as started,
    ):
        result = servers.load(
            started,
            {"people": people, "duration": duration, "warmup": WARMUP,
             "concurrency": CONCURRENCY, "fractions": "", "run_id": run_id},
        )  # fmt: skip
    closed = result["phases"]["closed"]
    return InboundRate(closed["rate"], closed["server_cpu_ms_per_message"], closed["failed"])

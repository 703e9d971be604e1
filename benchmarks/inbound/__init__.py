"""Benchmark 1: inbound messages per second and acknowledgement latency, through the real
HTTP stack, as a ratio to a bare FastAPI endpoint on the same machine in the same run.

The service under test is ``trygg serve --no-worker`` with Telegram, Twilio and Messenger
switched on: each request is a correctly signed webhook of a person mid-questionnaire,
and its 200 comes after the signature check, dedup, the engine, the durable commit and
the outbox write (nothing is sent: there is no worker). It runs on a fresh SQLite file
with one process, and on a fresh PostgreSQL database with one and with two processes on
their own ports (the documented scale-out shape, the load spread over both). The
reference (``bare.py``) parses the same bodies and answers 200, served the same way with
the same number of processes. On PostgreSQL a second reference, ``floor.py``, runs the
same statements per message as hand-written SQL on a bare asyncpg pool and nothing else:
the cost of the database work alone. ``load.py`` drives them all from a process of its
own: a closed loop for the maximum, then Poisson arrivals at 50% and 90% of that maximum.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.figures import Figure
from benchmarks.inbound import servers

NAME = "inbound"
SIZES: dict[str, dict[str, object]] = {
    # people in the pool, seconds per phase, seconds of warm-up (at least)
    "quick": {"people": 500, "duration": 8, "warmup": 2},
    "full": {"people": 2000, "duration": 40, "warmup": 10},
}
CONCURRENCY_PER_PROCESS = 32  # closed loop: requests in flight per server process
MIN_RATIO = 0.5
MAX_P99_HALF_LOAD = 0.050  # seconds


def run(size: str = "full", postgres_url: str | None = None) -> list[Figure]:
    options = SIZES[size]
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="trygg-inbound-") as tmp:
        folder = Path(tmp)
        configs: list[tuple[str, int]] = [("sqlite", 1)]
        if postgres_url:
            configs += [("postgresql", 1), ("postgresql", 2)]
        bare: dict[int, dict[str, Any]] = {}
        for run_id, (database, processes) in enumerate(configs, start=1):
            load = options | {
                "concurrency": CONCURRENCY_PER_PROCESS * processes,
                "run_id": run_id,
            }
            if processes not in bare:
                with servers.bare(processes, folder) as started:
                    bare[processes] = servers.load(started, load)
            with (
                _database(database, postgres_url, folder) as (url, note),
                servers.ours(processes, url, folder) as started,
            ):
                ours = servers.load(started, load)
            figures += figures_of(database, processes, ours, bare[processes], note)
            if database == "postgresql":
                with (
                    _database(database, postgres_url, folder) as (url, _),
                    servers.floor(processes, url, folder) as started,
                ):
                    floor = servers.load(started, load | {"fractions": ""})
                figures += floor_figures(processes, ours, floor, bare[processes])
    if not postgres_url:
        figures.append(
            Figure(NAME, "postgresql: not measured", 0, "", note="no PostgreSQL URL given")
        )
    return figures


@contextmanager
def _database(kind: str, postgres_url: str | None, folder: Path) -> Iterator[tuple[str, str]]:
    """A fresh database's URL, and what to know about its durability."""
    if kind == "sqlite":
        path = folder / f"inbound-{len(list(folder.glob('*.db')))}.db"
        yield f"sqlite+aiosqlite:///{path}", "SQLite WAL, synchronous=FULL (fsync per commit)"
        return
    assert postgres_url is not None
    settings = servers.postgres_settings(postgres_url)
    note = (
        f"PostgreSQL {settings['server_version'].split()[0]}, fsync={settings['fsync']}, "
        f"synchronous_commit={settings['synchronous_commit']}"
    )
    with servers.postgres_database(postgres_url) as url:
        yield url, note


def figures_of(
    database: str,
    processes: int,
    ours: dict[str, Any],
    bare: dict[str, Any],
    note: str,
) -> list[Figure]:
    shape = f"{database}, {processes} process{'es' if processes > 1 else ''}"
    mine, ref = ours["phases"], bare["phases"]
    closed, bare_closed = mine["closed"], ref["closed"]
    ratio = closed["rate"] / bare_closed["rate"] if bare_closed["rate"] else 0.0
    figures = [
        Figure(
            NAME,
            f"{shape}: messages/s (closed loop)",
            round(closed["rate"], 1),
            "msg/s",
            reference=round(bare_closed["rate"], 1),
            reference_name="bare FastAPI",
            target=f">= {MIN_RATIO} of bare",
            met=ratio >= MIN_RATIO,
            note=f"{note}; {_costs(closed)}; bare {_costs(bare_closed)}; "
            f"{_failures(mine)}; people {ours['people']}",
        )
    ]
    for fraction in ("0.5", "0.9"):
        phase, bare_phase = mine.get(f"open_{fraction}"), ref.get(f"open_{fraction}")
        if phase is None or bare_phase is None:
            continue
        load = f"{float(fraction):.0%} load ({phase['offered']:.0f} msg/s offered)"
        for quantile in ("p50", "p99"):
            value, reference = phase[quantile], bare_phase[quantile]
            half = fraction == "0.5" and quantile == "p99"
            waiting = phase["no_idle_person"]
            figures.append(
                Figure(
                    NAME,
                    f"{shape}: {quantile} latency at {load}",
                    round(1000 * value, 1) if value is not None else float("nan"),
                    "ms",
                    reference=round(1000 * reference, 1) if reference is not None else None,
                    reference_name="bare FastAPI at 50% of its max"
                    if fraction == "0.5"
                    else "bare FastAPI at 90% of its max",
                    target=f"< {MAX_P99_HALF_LOAD * 1000:.0f} ms" if half else None,
                    met=(value is not None and value < MAX_P99_HALF_LOAD) if half else None,
                    note=f"achieved {phase['rate']:.0f} msg/s; {_costs(phase)}"
                    + (f"; {waiting} arrivals found everyone waiting" if waiting else ""),
                )
            )
    return figures


def floor_figures(
    processes: int, ours: dict[str, Any], floor: dict[str, Any], bare: dict[str, Any]
) -> list[Figure]:
    """The floor against the bare ceiling, and ours against the floor (``floor.py``)."""
    shape = f"postgresql, {processes} process{'es' if processes > 1 else ''}"
    mine = ours["phases"]["closed"]
    lowest, ceiling = floor["phases"]["closed"], bare["phases"]["closed"]
    return [
        Figure(NAME, f"{shape}: floor messages/s (the same SQL through asyncpg, nothing else)",
               round(lowest["rate"], 1), "msg/s", reference=round(ceiling["rate"], 1),
               reference_name="bare FastAPI",
               note=f"{_costs(lowest)}; {_failures(floor['phases'])}"),
        Figure(NAME, f"{shape}: ours against the floor", round(mine["rate"], 1), "msg/s",
               reference=round(lowest["rate"], 1), reference_name="floor",
               note="what our own layers cost: signature, parsing, engine, encryption, ORM"),
    ]  # fmt: skip


def _costs(phase: dict[str, Any]) -> str:
    server = phase["server_cpu_ms_per_message"]
    server_text = "?" if server is None else f"{server:.2f}"
    return f"server CPU {server_text} ms/msg, load generator {phase['loadgen_cpu']:.0%} of a core"


def _failures(phases: dict[str, Any]) -> str:
    failed: dict[str, int] = {}
    for phase in phases.values():
        for kind, count in phase["failed"].items():
            failed[kind] = failed.get(kind, 0) + count
    return "no failed requests" if not failed else f"failed: {failed}"

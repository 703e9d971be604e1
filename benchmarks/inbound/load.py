"""The load generator: many people mid-dialog, each sending their next answer as a signed
webhook, from a process of its own (one asyncio loop, aiohttp, keep-alive connections).

Phases, against the same people so they stay mid-dialog throughout:
- warm-up (not recorded): every person in the pool starts their dialog;
- ``closed``: ``--concurrency`` requests always in flight, the maximum rate;
- ``open_<fraction>``: Poisson arrivals at that fraction of the closed phase's rate. Each
  latency runs from the request's *scheduled* time, so a stalled server (or generator)
  shows in the figures instead of quietly lowering the rate (coordinated omission).

One person never has two messages in flight, as with a real phone. A person who answered
the last question is replaced by a new one, who starts with the entry message.
The result is one JSON object on stdout. Its ``cpu`` figures say whether the generator
itself was busy (near 1.0 of a core: it may be the bottleneck) and what the servers spent.

``python -m benchmarks.inbound.load --targets http://127.0.0.1:8000 --duration 10``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.inbound.webhooks import CHANNELS, LANGUAGES, Say, Wire, script
from dialog_flows.library import load_library
from trygg.settings import Settings

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Person:
    channel: str
    language: str
    address: str
    script: tuple[Say, ...]
    position: int = 0


class People:
    """The pool of people not waiting for an answer. Fresh ones are taken first (so the
    warm-up starts everyone), then a random one, so the pool spreads over the questions
    instead of moving in step."""

    def __init__(self, wire: Wire, count: int, seed: int) -> None:
        settings = Settings()
        library = load_library([settings.flows_dir], settings.locales_dir)
        self.scripts = {
            (channel, language): script(library, channel, language)
            for channel in CHANNELS
            for language in set(LANGUAGES)
        }
        self.wire = wire
        self.rng = random.Random(seed)
        self.created = self.completed = 0
        self.fresh = [self._new() for _ in range(count)]
        self.idle: list[Person] = []

    def _new(self) -> Person:
        number = self.created
        self.created += 1
        channel = CHANNELS[number % len(CHANNELS)]
        language = LANGUAGES[(number // len(CHANNELS)) % len(LANGUAGES)]
        address = self.wire.address(channel, number)
        return Person(channel, language, address, self.scripts[(channel, language)])

    def take(self) -> Person | None:
        if self.fresh:
            return self.fresh.pop()
        if not self.idle:
            return None
        index = self.rng.randrange(len(self.idle))
        self.idle[index], self.idle[-1] = self.idle[-1], self.idle[index]
        return self.idle.pop()

    def give_back(self, person: Person, answered: bool) -> None:
        """An answered message moves them on; a failed one is sent again (as new)."""
        if answered:
            person.position += 1
            if person.position == len(person.script):
                self.completed += 1
                person = self._new()
        self.idle.append(person)


@dataclass
class Phase:
    name: str
    offered: float | None = None  # arrivals a second (open loop); None: closed loop
    latencies: list[float] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)
    no_idle_person: int = 0
    elapsed: float = 0.0
    cpu: float = 0.0  # the generator's own CPU seconds
    server_cpu: float = 0.0

    def summary(self) -> dict[str, Any]:
        done = sorted(self.latencies)
        ok = len(done)
        return {
            "offered": self.offered,
            "ok": ok,
            "failed": dict(self.failed),
            "no_idle_person": self.no_idle_person,
            "elapsed": self.elapsed,
            "rate": ok / self.elapsed if self.elapsed else 0.0,
            **{f"p{q:g}": percentile(done, q) for q in (50, 90, 99, 99.9)},
            "max": done[-1] if done else None,
            "loadgen_cpu": self.cpu / self.elapsed if self.elapsed else 0.0,
            "server_cpu_ms_per_message": 1000 * self.server_cpu / ok if ok else None,
        }


def percentile(ordered: Sequence[float], q: float) -> float | None:
    """Nearest rank on every recorded latency (all are kept; no histogram buckets)."""
    if not ordered:
        return None
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


class Load:
    def __init__(
        self, session: aiohttp.ClientSession, targets: Sequence[str], people: People
    ) -> None:
        self.session = session
        self.targets = list(targets)
        self.people = people
        self.turn = 0

    async def send(self, person: Person) -> str:
        """One request; "ok", or what went wrong."""
        say = person.script[person.position]
        request = self.people.wire.request(person.channel, person.address, say, person.language)
        self.turn += 1
        url = self.targets[self.turn % len(self.targets)] + request.path
        try:
            async with self.session.post(url, data=request.body, headers=request.headers) as got:
                await got.read()
                return "ok" if got.status == 200 else f"http {got.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            return type(exc).__name__

    async def closed(
        self, phase: Phase, concurrency: int, duration: float, done: Callable[[], bool]
    ) -> Phase:
        loop = asyncio.get_running_loop()
        end = loop.time() + duration

        async def worker() -> None:
            while loop.time() < end and not done():
                person = self.people.take()
                if person is None:
                    phase.no_idle_person += 1
                    await asyncio.sleep(0.001)
                    continue
                began = loop.time()
                outcome = await self.send(person)
                self._record(phase, outcome, loop.time() - began)
                self.people.give_back(person, outcome == "ok")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return phase

    async def open(self, phase: Phase, rate: float, duration: float, seed: int) -> Phase:
        loop = asyncio.get_running_loop()
        rng = random.Random(seed)
        start = scheduled = loop.time()
        running: set[asyncio.Task[None]] = set()

        async def one(person: Person, at: float) -> None:
            outcome = await self.send(person)
            self._record(phase, outcome, loop.time() - at)
            self.people.give_back(person, outcome == "ok")

        while True:
            scheduled += rng.expovariate(rate)
            if scheduled >= start + duration:
                break
            if scheduled > loop.time():
                await asyncio.sleep(scheduled - loop.time())
            person = self.people.take()
            if person is None:  # every person waits for an answer: the server is far behind
                phase.no_idle_person += 1
                continue
            task = asyncio.create_task(one(person, scheduled))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:
            await asyncio.wait(running)
        return phase

    @staticmethod
    def _record(phase: Phase, outcome: str, latency: float) -> None:
        if outcome == "ok":
            phase.latencies.append(latency)
        else:
            phase.failed[outcome] += 1


async def measure(options: argparse.Namespace) -> dict[str, Any]:
    wire = Wire(run_id=options.run_id)
    people = People(wire, options.people, options.seed)
    pids = [int(pid) for pid in options.pids.split(",") if pid]
    connector = aiohttp.TCPConnector(limit=options.connections)
    timeout = aiohttp.ClientTimeout(total=60)
    phases: dict[str, Any] = {}
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        load = Load(session, options.targets.split(","), people)
        # Warm-up: everyone starts, and the connections and caches are warm.
        began = time.monotonic()
        warmup = Phase("warmup")
        await load.closed(
            warmup,
            options.concurrency,
            max(options.warmup * 10, 60),
            lambda: not people.fresh and time.monotonic() - began >= options.warmup,
        )

        async def timed(phase: Phase, run: Any) -> Phase:
            await asyncio.sleep(0.5)  # let the last phase's stragglers finish
            wall, cpu, server = time.monotonic(), time.process_time(), cpu_seconds(pids)
            await run
            phase.elapsed = time.monotonic() - wall
            phase.cpu = time.process_time() - cpu
            phase.server_cpu = cpu_seconds(pids) - server
            phases[phase.name] = phase.summary()
            return phase

        closed = Phase("closed")
        await timed(closed, load.closed(closed, options.concurrency, options.duration, bool))
        top = phases["closed"]["rate"]
        for index, fraction in enumerate(float(f) for f in options.fractions.split(",") if f):
            phase = Phase(f"open_{fraction:g}", offered=fraction * top)
            run = load.open(phase, fraction * top, options.duration, options.seed + index)
            await timed(phase, run)
    return {
        "warmup": {"ok": len(warmup.latencies), "failed": dict(warmup.failed)},
        "phases": phases,
        "people": {"created": people.created, "completed": people.completed},
        "scripts": {f"{c}/{lang}": len(s) for (c, lang), s in people.scripts.items()},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.inbound.load")
    parser.add_argument("--targets", required=True, help="base URLs, comma-separated")
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--connections", type=int, default=512)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, at least")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per phase")
    parser.add_argument("--fractions", default="0.5,0.9", help="open-loop rates, of the max")
    parser.add_argument("--pids", default="", help="server processes, for their CPU time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--run-id", type=int, default=1, help="keeps ids unique per database")
    result = asyncio.run(measure(parser.parse_args(argv)))
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()

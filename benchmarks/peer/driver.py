"""The load: many people mid-questionnaire, closed loop, from a process of its own.

``concurrency`` people answer at once; each sends its next update as soon as the previous
one is acknowledged (a 2xx), and a finished person is replaced by the next, until
``people`` have gone through. Bodies are encoded before the clock starts, so the driver
spends its time on HTTP. With ``--drain`` (the peer in queue mode, whose 200 only means
"queued") the clock runs on until the bot's ``/stats`` says every update was handled.

Prints one JSON object: sent, acknowledged, answers_acknowledged, errors, seconds,
per_second, p50_ms, p99_ms (acknowledgement latency).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field

import httpx

from benchmarks.peer.people import bodies

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Tally:
    sent: int = 0
    acknowledged: int = 0
    answers_acknowledged: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Result:
    sent: int
    acknowledged: int
    answers_acknowledged: int
    errors: int
    seconds: float
    per_second: float
    p50_ms: float
    p99_ms: float


async def load(url: str, secret: str, people: int, concurrency: int, drain: str | None) -> Result:
    everyone = bodies(people)
    queue: asyncio.Queue[list[tuple[bytes, bool]]] = asyncio.Queue()
    for person in everyone:
        queue.put_nowait(person)
    tally = Tally()
    headers = {SECRET_HEADER: secret, "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60.0) as client:

        async def person_after_person() -> None:
            while not queue.empty():
                for body, answer in queue.get_nowait():
                    started = time.perf_counter()
                    tally.sent += 1
                    try:
                        response = await client.post(url, content=body, headers=headers)
                        ok = response.is_success
                    except httpx.HTTPError:
                        ok = False
                    tally.latencies.append(time.perf_counter() - started)
                    if not ok:  # the person gives up: the rest would not make sense
                        tally.errors += 1
                        break
                    tally.acknowledged += 1
                    tally.answers_acknowledged += answer

        started = time.perf_counter()
        await asyncio.gather(*(person_after_person() for _ in range(concurrency)))
        if drain is not None:
            await drained(client, drain, tally.acknowledged)
        seconds = time.perf_counter() - started
    cuts = statistics.quantiles(tally.latencies, n=100, method="inclusive")
    return Result(
        sent=tally.sent,
        acknowledged=tally.acknowledged,
        answers_acknowledged=tally.answers_acknowledged,
        errors=tally.errors,
        seconds=seconds,
        per_second=tally.acknowledged / seconds,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
    )


async def drained(client: httpx.AsyncClient, stats_url: str, expected: int) -> None:
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        handled = (await client.get(stats_url)).json()["handled"]
        if handled >= expected:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError(f"the bot did not handle {expected} updates in 600 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer.driver")
    parser.add_argument("--url", required=True, help="the webhook URL")
    parser.add_argument("--secret", required=True)
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    parser.add_argument("--drain", default=None, help="the bot's /stats URL: wait until handled")
    options = parser.parse_args(argv)
    result = asyncio.run(
        load(options.url, options.secret, options.people, options.concurrency, options.drain)
    )
    json.dump(asdict(result), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

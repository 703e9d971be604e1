"""How fast a broadcast goes out, against fake providers that enforce their documented rates.

Usage::

    .venv/bin/python -m tests.benchmarks.broadcast_throughput [--contacts 2000] \
        [--database sqlite|URL] [--our-rates telegram=27,sms=9,facebook=250]

``--contacts 300`` is a quick try (about 15 s); 10000 takes about 10 minutes, most of it
SMS at 10 segments a second. ``--database`` is ``sqlite`` (a file in a temporary folder,
the default) or a PostgreSQL URL such as ``postgresql+asyncpg://trygg@127.0.0.1:5432/trygg``
(the benchmark works in a schema of its own and drops it afterwards). ``--our-rates``
sets our senders' rates instead of the defaults, to try a margin below the limits.

It starts the three fake providers on local ports, each enforcing its documented limit
(Telegram 30 messages a second and one a second per chat, Twilio 10 segments a second,
Messenger 300 sends a second; any one second, a sliding window) and answering over-limit
sends as the provider does. The service runs with its default settings, pointed at them:
our senders at their default rates. The contacts are spread over Telegram, SMS, Messenger
(a tenth of them outside their 24-hour window) and the web chat, in several languages.
It sends one broadcast and runs the worker as ``trygg worker`` does until the broadcast
is done, then prints per channel: copies accepted, seconds from the start to the last
one, the achieved rate (in the provider's units), the allowed rate and its share, and the
provider's "too many requests" answers; then the report's totals, whether they add up,
and the duplicates at the providers (must be 0).

It prints figures and asserts nothing about speed. It exits 1 when a person got the
broadcast twice or not at all, or the report does not add up.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from tests.benchmarks.broadcast_setup import (
    DOCUMENTED,
    PROVIDER_CHANNELS,
    Fakes,
    delivery_problems,
    report_problems,
    seed,
    spread,
    start_broadcast,
    wait_done,
)
from tests.bots.local_server import busiest_window, duplicates
from tests.service_helpers import drop_runtime, make_runtime, sqlite_url
from trygg.service.broadcast_report import report
from trygg.service.broadcasts import Broadcasts
from trygg.service.channels import build_senders
from trygg.service.runtime import Runtime, utc_now
from trygg.web.app import start_background

UNITS = {"telegram": "msg/s", "sms": "seg/s", "facebook": "msg/s"}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=2000, help="people in the audience")
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL")
    parser.add_argument(
        "--our-rates", type=rates, default={}, help="e.g. telegram=27,sms=9 (default: ours)"
    )
    return parser.parse_args(argv)


def rates(text: str) -> dict[str, float]:
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    chosen = {name.strip(): float(value) for name, value in pairs}
    unknown = set(chosen) - set(PROVIDER_CHANNELS)
    if unknown:
        raise argparse.ArgumentTypeError(f"no such channel: {', '.join(sorted(unknown))}")
    return chosen


async def run(contacts: int, database: str, ours: dict[str, float]) -> int:
    with tempfile.TemporaryDirectory() as folder, Fakes() as fakes:
        url = sqlite_url(Path(folder)) if database == "sqlite" else database
        runtime = await make_runtime(url, utc_now, **fakes.settings())
        try:
            return await measure(runtime, fakes, contacts, ours)
        finally:
            await drop_runtime(runtime)


async def measure(runtime: Runtime, fakes: Fakes, contacts: int, ours: dict[str, float]) -> int:
    people = spread(contacts)
    await seed(runtime, people, fakes.graph)
    fakes.enforce(DOCUMENTED)
    senders = build_senders(runtime.settings)
    for channel, rate in ours.items():
        senders[channel].rate_per_second = rate
    print(f"database: {runtime.database.engine.dialect.name}; {people.size} contacts; "
          "our rates: " + ", ".join(f"{name} {sender.rate_per_second:g}"
                                    for name, sender in senders.items()))  # fmt: skip
    broadcast_id = await start_broadcast(runtime)
    stop = asyncio.Event()
    started = time.monotonic()
    tasks = start_background(runtime, senders, stop)
    # Generous: three times what the slowest channel needs at its limit, plus a minute.
    slowest = max(len(people.at_provider(c)) * 2 / DOCUMENTED[c] for c in PROVIDER_CHANNELS)
    progress = asyncio.create_task(report_progress(fakes, started))
    try:
        await wait_done(runtime, broadcast_id, timeout=3 * slowest + 60, tick=False)
    finally:
        progress.cancel()
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    done = time.monotonic() - started
    print_channels(fakes, people.at_provider("web"), started)
    total = (await report(Broadcasts(runtime), broadcast_id)).total
    repeated = sum(duplicates(fake.arrivals) for fake in fakes.by_channel.values())
    problems = delivery_problems(fakes, people) + await report_problems(
        runtime, broadcast_id, people
    )
    print(f"\ndone after {done:.1f} s")
    print(f"report: queued {total.queued}, sent {total.sent}, delivered {total.delivered}, "
          f"waiting {total.waiting}, pending {total.pending}, failed {total.failed}, "
          f"skipped {total.skipped}; adds up: {'yes' if total.adds_up() else 'NO'}")  # fmt: skip
    print(f"duplicates at the providers: {repeated}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    return 1 if problems or repeated else 0


def print_channels(fakes: Fakes, web: list[str], started: float) -> None:
    header = ("channel", "copies", "time s", "achieved", "allowed", "share", "busiest 1 s", "429s")
    print("\n" + "  ".join(f"{h:>11}" for h in header))
    for channel, fake in fakes.by_channel.items():
        arrivals = fake.arrivals
        units = sum(arrival.units for arrival in arrivals)
        seconds = max((arrival.at for arrival in arrivals), default=started) - started
        achieved = units / seconds if seconds > 0 else 0.0
        allowed = DOCUMENTED[channel]
        cells = (channel, str(len(arrivals)), f"{seconds:.1f}",
                 f"{achieved:.1f} {UNITS[channel]}", f"{allowed:g}", f"{achieved / allowed:.0%}",
                 str(busiest_window(arrivals)), str(fake.rejected))  # fmt: skip
        print("  ".join(f"{cell:>11}" for cell in cells))
    print(f"{'web':>11}  {len(web):>11}  {'0.0':>11}  (shown on their next visit: no provider)")


async def report_progress(fakes: Fakes, started: float, every: float = 15.0) -> None:
    while True:
        await asyncio.sleep(every)
        accepted = ", ".join(f"{name} {count}" for name, count in fakes.accepted().items())
        print(f"  {time.monotonic() - started:5.0f} s: accepted {accepted}", flush=True)


def main(argv: list[str] | None = None) -> int:
    arguments = parse(argv)
    return asyncio.run(run(arguments.contacts, arguments.database, arguments.our_rates))


if __name__ == "__main__":
    sys.exit(main())

"""One bot under the load: start it, drive it, take its memory, kill -9 it, restart it and
ask what it kept.

The peer (``benchmarks.peer.webhook``) talks to the fake Bot API for every reply, as a
PTB bot does; Trygg (``trygg serve --no-worker``) commits its replies to the outbox and
lets a worker, not running here, send them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.peer.processes import (
    clean_env,
    drive,
    free_port,
    kill9,
    rss_mb,
    start,
    stop,
    trygg_command,
)
from tests.bots.telegram.fake_bot_api import DEFAULT_TOKEN, FakeBotApi

SECRET = "benchmark-webhook-secret"
SECRET_KEY = "benchmark-secret-key-0123456789abcdef"


@dataclass(frozen=True)
class Outcome:
    load: dict[str, Any]  # the driver's result
    rss_mb: float  # at the end of the load
    kept: dict[str, int]  # after kill -9 and a restart: respondents, completed, answers
    handled: dict[str, Any]  # the peer's own view (handled count, receipt-to-handled p99)
    api_errors: int  # Bot API calls the fake refused (should be 0)

    @property
    def kept_fraction(self) -> float:
        acknowledged = int(self.load["answers_acknowledged"])
        return self.kept["answers"] / acknowledged if acknowledged else 0.0


class CallTrimmer:
    """The fake records every call; at thousands of people that is hundreds of MB in the
    benchmark's own process. This counts refused calls and drops the record now and then
    (a call landing between the snapshot and the clear goes uncounted: a sanity check)."""

    def __init__(self, fake: FakeBotApi, every: float = 1.0, keep: int = 5000) -> None:
        self.fake, self.every, self.keep = fake, every, keep
        self.errors = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="CallTrimmer", daemon=True)

    def __enter__(self) -> CallTrimmer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.trim(always=True)

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.trim()

    def trim(self, always: bool = False) -> None:
        calls = self.fake.calls
        if always or len(calls) > self.keep:
            self.errors += sum(1 for call in calls if call.status != 200)
            self.fake.clear_calls()


def measure_peer(folder: Path, mode: str, people: int, concurrency: int) -> Outcome:
    # A fresh fake each time: it numbers each chat's messages, and the updates name them.
    with FakeBotApi(DEFAULT_TOKEN, require_https_webhook=False) as fake:
        return _measure_peer(folder, fake, mode, people, concurrency)


def _measure_peer(
    folder: Path, fake: FakeBotApi, mode: str, people: int, concurrency: int
) -> Outcome:
    pickle_file = folder / f"peer-{mode}.pickle"
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "benchmarks.peer.webhook", "--port", str(port),
               "--api", fake.root, "--token", fake.token, "--secret", SECRET,
               "--pickle", str(pickle_file), "--mode", mode]  # fmt: skip
    log = folder / f"peer-{mode}.log"
    env = clean_env()
    with CallTrimmer(fake) as trimmer:
        process = start(command, env, log, f"{root}/healthz")
        try:
            drain = f"{root}/stats" if mode == "queue" else None
            load = drive(f"{root}/telegram", SECRET, people, concurrency, drain)
            memory = rss_mb(process.pid)
            handled: dict[str, Any] = httpx.get(f"{root}/stats", timeout=30).json()
            kill9(process)
            process = start(command, env, log, f"{root}/healthz")  # loads the pickle file
            after: dict[str, Any] = httpx.get(f"{root}/stats", timeout=30).json()
        finally:
            kill9(process)  # not stop(): a clean stop would write the pickle file
    kept = {key: int(after[key]) for key in ("respondents", "completed", "answers")}
    return Outcome(load, memory, kept, handled, trimmer.errors)


def measure_trygg(folder: Path, people: int, concurrency: int) -> Outcome:
    with FakeBotApi(DEFAULT_TOKEN, require_https_webhook=False) as fake:  # never called
        return _measure_trygg(folder, fake, people, concurrency)


def _measure_trygg(folder: Path, fake: FakeBotApi, people: int, concurrency: int) -> Outcome:
    port = free_port()
    root = f"http://127.0.0.1:{port}"
    env = clean_env(
        TRYGG_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'trygg.db'}",
        TRYGG_SECRET_KEY=SECRET_KEY,
        TRYGG_TELEGRAM_TOKEN=fake.token,
        TRYGG_TELEGRAM_SECRET=SECRET,
        TRYGG_TELEGRAM_API=fake.root,
    )
    command = [trygg_command(), "serve", "--no-worker", "--port", str(port)]
    log = folder / "trygg.log"
    process = start(command, env, log, f"{root}/healthz")
    try:
        load = drive(f"{root}/webhooks/telegram", SECRET, people, concurrency)
        memory = rss_mb(process.pid)
        kill9(process)
        process = start(command, env, log, f"{root}/healthz")  # opens the database again
    finally:
        stop(process)
    exported = subprocess.run(
        [trygg_command(), "export", "responses", "--format", "json"],
        env=env, capture_output=True, check=True, timeout=600,
    )  # fmt: skip
    rows: list[dict[str, Any]] = json.loads(exported.stdout)
    kept = {
        "respondents": len(rows),
        "completed": sum(1 for row in rows if row.get("completed_at")),
        "answers": sum(len(row.get("answers") or {}) for row in rows),
    }
    return Outcome(load, memory, kept, {}, 0)

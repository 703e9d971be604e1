"""A real HTTP server for tests: any ASGI app, served by uvicorn in a background thread.

The fake providers (Telegram's Bot API, Twilio's REST API, Meta's Graph API) run on it, so
the adapters talk to them over real sockets, as they would to the providers. What every
fake shares lives here too: its lifecycle, an optional rate limit enforced the way the
provider answers it, the arrival log of accepted messages (to measure the achieved rate
and count duplicates), and ``hold`` (stop answering, as a provider that hangs).
"""

from __future__ import annotations

import asyncio
import math
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import uvicorn
from starlette.requests import Request
from starlette.types import ASGIApp


class LocalServer:
    """Serve any ASGI app with uvicorn on 127.0.0.1 and a free port, in a thread.

    Used by the fake providers and handy for a test's own receivers (e.g. a status-callback
    endpoint): ``with LocalServer(app) as server: server.root``.
    """

    def __init__(self, app: ASGIApp, name: str = "LocalServer"):
        self.app = app
        self.name = name
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._port: int | None = None

    def start(self) -> LocalServer:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        # IPPROTO_TCP spelled out: asyncio turns Nagle off (TCP_NODELAY) only on sockets
        # that say so, and with Nagle on every answer on a kept-alive connection waits
        # about 40 ms for the client's delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        server = uvicorn.Server(config)
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._server = None
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def root(self) -> str:
        """E.g. ``http://127.0.0.1:41234`` (no trailing slash)."""
        if self._port is None:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://127.0.0.1:{self._port}"

    def __enter__(self) -> LocalServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class Arrival:
    """One message a fake accepted."""

    at: float  # time.monotonic() when it was accepted
    to: str  # the recipient: chat id, phone number or PSID
    units: int = 1  # what the provider's limit counts: one a message, or an SMS's segments


@dataclass(frozen=True)
class Admission:
    """A fake's rate check of one message."""

    at: float  # time.monotonic() of the check: the message's arrival time if accepted
    wait: float | None  # None: within the limits (and counted); else seconds until it is


class SlidingWindow:
    """At most ``limit`` units in any ``window`` seconds.

    The strictest reading of a provider's "about N a second": a sender that passes it
    passes a fixed one-second window or a token bucket of N a second as well. One message
    bigger than the whole limit still goes when the window is empty (as Twilio takes a
    long SMS), or it could never go at all.
    """

    def __init__(self, limit: float, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._log: deque[tuple[float, float]] = deque()
        self._total = 0.0

    def wait(self, now: float, units: float) -> float:
        """0.0 when ``units`` fit at ``now``; otherwise the seconds until they would."""
        while self._log and self._log[0][0] <= now - self.window:
            self._total -= self._log.popleft()[1]
        excess = self._total + units - self.limit
        if excess <= 1e-9 or not self._log:
            return 0.0
        freed = 0.0
        for at, size in self._log:
            freed += size
            if freed >= excess - 1e-9:
                return at + self.window - now
        return self._log[-1][0] + self.window - now

    def add(self, now: float, units: float) -> None:
        self._log.append((now, units))
        self._total += units


def busiest_window(arrivals: Sequence[Arrival], window: float = 1.0) -> int:
    """The most units accepted within any ``window`` seconds (what a limit caps)."""
    times = sorted((arrival.at, arrival.units) for arrival in arrivals)
    best = total = start = 0
    for at, units in times:
        total += units
        while times[start][0] <= at - window:
            total -= times[start][1]
            start += 1
        best = max(best, total)
    return best


def duplicates(arrivals: Sequence[Arrival]) -> int:
    """Accepted messages beyond the first to the same recipient."""
    return sum(count - 1 for count in Counter(arrival.to for arrival in arrivals).values())


class FakeProvider:
    """What every fake provider shares: its app on a ``LocalServer`` (set as
    ``self._server`` by the subclass), started and stopped or used as a context manager;
    an optional rate limit (``enforce_rate``), off by default; the arrival log of the
    messages it accepted (``arrivals``); and ``hold``/``release``.

    Subclasses call ``_admit`` before accepting a message (and answer with the provider's
    own "too many requests" when it says wait), ``_accepted`` once they accepted one, and
    ``_through_hold`` first thing in their endpoints.
    """

    _server: LocalServer

    def __init__(self) -> None:
        self._rate_lock = threading.Lock()
        self._overall: SlidingWindow | None = None
        self._recipient_limit: float | None = None
        self._recipients: dict[str, SlidingWindow] = {}
        self._window = 1.0
        self._arrivals: list[Arrival] = []
        self._rejected = 0
        self._holding = threading.Event()
        self._parked = 0
        self._abandoned = 0

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
        self._holding.clear()  # parked requests would keep the server from stopping
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def root(self) -> str:
        """``http://127.0.0.1:PORT``, the root the adapter is pointed at."""
        return self._server.root

    # ------------------------------------------------------------------ rate limits

    def enforce_rate(
        self,
        per_second: float | None,
        *,
        per_recipient: float | None = None,
        window: float = 1.0,
    ) -> None:
        """Answer messages over the limit as the provider does (429 and its retry hint):
        at most ``per_second`` units (messages, or SMS segments) in any ``window``
        seconds, and at most ``per_recipient`` a second to one recipient (Telegram: 1).
        ``enforce_rate(None)`` turns it off again (the default)."""
        with self._rate_lock:
            self._window = window
            overall = None if per_second is None else SlidingWindow(per_second * window, window)
            self._overall = overall
            self._recipient_limit = per_recipient
            self._recipients = {}

    @property
    def rejected(self) -> int:
        """How many messages were answered "too many requests" by ``enforce_rate``."""
        with self._rate_lock:
            return self._rejected

    @property
    def arrivals(self) -> list[Arrival]:
        """Every message accepted so far, in order (what reached a person)."""
        with self._rate_lock:
            return list(self._arrivals)

    def accepted_per_recipient(self) -> Counter[str]:
        with self._rate_lock:
            return Counter(arrival.to for arrival in self._arrivals)

    def clear_arrivals(self) -> None:
        with self._rate_lock:
            self._arrivals.clear()
            self._rejected = 0

    def _admit(self, to: str, units: int = 1) -> Admission:
        """Whether a message of ``units`` to ``to`` is within the limits now (it is then
        counted against them), or how long until it would be."""
        now = time.monotonic()
        with self._rate_lock:
            windows = [] if self._overall is None else [self._overall]
            if self._recipient_limit is not None:
                window = self._recipients.get(to)
                if window is None:
                    limit = self._recipient_limit * self._window
                    window = self._recipients[to] = SlidingWindow(limit, self._window)
                windows.append(window)
            wait = max((window.wait(now, units) for window in windows), default=0.0)
            if wait > 0:
                self._rejected += 1
                return Admission(now, wait)
            for window in windows:
                window.add(now, units)
            return Admission(now, None)

    def _accepted(self, admission: Admission, to: str, units: int = 1) -> None:
        # The time the limit was checked at: so the arrival log and the limit agree
        # exactly on which second a message fell in.
        with self._rate_lock:
            self._arrivals.append(Arrival(admission.at, to, units))

    # ------------------------------------------------------------------ holding

    def hold(self) -> None:
        """Stop answering: requests arriving from now on are parked, unread by the
        provider, until ``release``. A parked request whose client goes away (a killed
        worker) is dropped unprocessed, as a request that never reached the provider."""
        self._holding.set()

    def release(self) -> None:
        self._holding.clear()

    @property
    def parked(self) -> int:
        """Requests parked by ``hold`` right now."""
        with self._rate_lock:
            return self._parked

    @property
    def abandoned(self) -> int:
        """Parked requests dropped because their client went away."""
        with self._rate_lock:
            return self._abandoned

    async def _through_hold(self, request: Request) -> bool:
        """False when the request was parked and its client left: do not process it.
        Call it after reading the body, so that a disconnect is what the server sees."""
        if not self._holding.is_set():
            return True
        with self._rate_lock:
            self._parked += 1
        try:
            while True:
                if await request.is_disconnected():
                    with self._rate_lock:
                        self._abandoned += 1
                    return False
                if not self._holding.is_set():
                    return True
                await asyncio.sleep(0.01)
        finally:
            with self._rate_lock:
                self._parked -= 1


def retry_seconds(wait: float) -> int:
    """A wait as the providers say it: whole seconds, at least one."""
    return max(1, math.ceil(wait))


async def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (without blocking the event loop) until ``check()`` holds; fail after
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not so after {timeout} s")
        await asyncio.sleep(0.01)

"""A real HTTP server for tests: any ASGI app, served by uvicorn in a background thread.

The fake providers (Telegram's Bot API, Twilio's REST API) run on it, so the adapters
talk to them over real sockets, as they would to the providers.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Self

import uvicorn
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
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
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


class FakeProvider:
    """The lifecycle every fake provider shares: its app on a ``LocalServer`` (set as
    ``self._server`` by the subclass), started and stopped, or used as a context manager."""

    _server: LocalServer

    def start(self) -> Self:
        self._server.start()
        return self

    def stop(self) -> None:
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

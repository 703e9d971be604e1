"""The peer bot's process: PTB's "custom webhook" pattern on Starlette and uvicorn.

See ``ptb_bot`` for the bot and the two modes. Run:
``python -m benchmarks.peer.webhook --port P --api ROOT --token T --secret S --pickle FILE
[--mode process|queue]``. Uvicorn runs with its defaults (access log on), as ``trygg
serve`` does, so the two HTTP stacks do the same logging.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, PicklePersistence, TypeHandler

from benchmarks.peer.ptb_bot import CONVERSATION, Context, conversation

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass
class Stats:
    handled: int = 0
    received: dict[int, float] = field(default_factory=dict)  # update_id -> perf_counter
    latencies: list[float] = field(default_factory=list)  # receipt to handled, seconds

    async def count(self, update: Update, context: Context) -> None:
        """Runs after the conversation's handler (a later group): the update is handled."""
        self.handled += 1
        received = self.received.pop(update.update_id, None)
        if received is not None:
            self.latencies.append(time.perf_counter() - received)


def build_application(api_root: str, token: str, pickle_file: str, stats: Stats) -> Application:  # type: ignore[type-arg]
    persistence = PicklePersistence(pickle_file)  # defaults: update_interval 60 s, one file
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{api_root}/bot")
        .updater(None)  # updates come from our own webhook
        .persistence(persistence)
        .build()
    )
    application.add_handler(conversation())
    application.add_handler(TypeHandler(Update, stats.count), group=1)
    return application


def build_web(application: Application, secret: str, mode: str, stats: Stats) -> Starlette:  # type: ignore[type-arg]
    async def telegram(request: Request) -> Response:
        if request.headers.get(SECRET_HEADER) != secret:
            return Response(status_code=403)
        update = Update.de_json(await request.json(), application.bot)
        stats.received[update.update_id] = time.perf_counter()
        if mode == "queue":
            await application.update_queue.put(update)
        else:
            await application.process_update(update)
        return Response()

    async def healthz(request: Request) -> Response:
        return Response("ok")

    async def report(request: Request) -> JSONResponse:
        return JSONResponse(await held(application) | latency(stats) | {"handled": stats.handled})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with application:  # initialize() loads the pickle file, if any
            await application.start()
            yield
            await application.stop()  # a clean stop writes the pickle; kill -9 does not

    routes = [
        Route("/telegram", telegram, methods=["POST"]),
        Route("/healthz", healthz),
        Route("/stats", report),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def held(application: Application) -> dict[str, Any]:  # type: ignore[type-arg]
    """What the application holds in memory (after a restart: what the pickle kept)."""
    people = [data for data in application.user_data.values() if data.get("started_at")]
    conversations: dict[Any, Any] = {}
    if application.persistence is not None:
        conversations = dict(await application.persistence.get_conversations(CONVERSATION))
    return {
        "respondents": len(people),
        "completed": sum(1 for data in people if data.get("completed_at")),
        "answers": sum(len(data.get("answers", {})) for data in people),
        "conversations": len(conversations),
    }


def latency(stats: Stats) -> dict[str, float | None]:
    found = sorted(stats.latencies)
    if len(found) < 2:
        return {"handled_p50_ms": None, "handled_p99_ms": None}
    cuts = statistics.quantiles(found, n=100, method="inclusive")
    return {"handled_p50_ms": cuts[49] * 1000, "handled_p99_ms": cuts[98] * 1000}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer.webhook")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api", required=True, help="Bot API root, e.g. http://127.0.0.1:1234")
    parser.add_argument("--token", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--pickle", required=True)
    parser.add_argument("--mode", choices=("process", "queue"), default="process")
    options = parser.parse_args(argv)
    stats = Stats()
    application = build_application(options.api, options.token, options.pickle, stats)
    web = build_web(application, options.secret, options.mode, stats)
    uvicorn.run(web, host="127.0.0.1", port=options.port, log_level="info")


if __name__ == "__main__":
    main()

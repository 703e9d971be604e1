"""The FastAPI application: one process serves webhooks, the web chat and health checks,
and (unless split off with ``--no-worker``) runs the delivery worker beside them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from bots.contract import ChannelSender
from storage import staff as staff_store
from storage.database import migrate
from trygg.service.broadcasts import Broadcasts
from trygg.service.channels import build_senders
from trygg.service.delivery import DeliveryWorker
from trygg.service.dialogs import DialogService
from trygg.service.runtime import Runtime
from trygg.staff import router as staff_router
from trygg.web import (
    broadcast_api,
    chat_api,
    facebook_webhook,
    media,
    sms_webhook,
    telegram_webhook,
)
from trygg.web.limits import BodySizeLimit

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"
TICK_SECONDS = 60.0
BROADCAST_TICK_SECONDS = 2.0


def create_app(
    runtime: Runtime,
    *,
    run_worker: bool = True,
    senders: Mapping[str, ChannelSender] | None = None,
) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await migrate(runtime.database)
        await _hint_first_admin(runtime)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if run_worker:
            chosen = build_senders(runtime.settings) if senders is None else senders
            tasks = start_background(runtime, chosen, stop)
        try:
            yield
        finally:
            stop.set()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await runtime.close()

    app = FastAPI(title="Trygg", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runtime = runtime
    app.state.dialogs = DialogService(runtime)
    app.state.broadcasts = Broadcasts(runtime)
    app.add_middleware(BodySizeLimit)
    app.include_router(chat_api.router)
    app.include_router(telegram_webhook.router)
    app.include_router(media.router)
    app.include_router(sms_webhook.router)
    app.include_router(facebook_webhook.router)
    app.include_router(broadcast_api.router)
    staff_router.install(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        try:
            async with asyncio.timeout(3):
                async with runtime.database.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to answer means "not healthy"
            return JSONResponse(
                {"status": "unavailable", "error": type(exc).__name__}, status_code=503
            )
        return JSONResponse({"status": "ok"})

    return app


async def _hint_first_admin(runtime: Runtime) -> None:
    """Say how to get into the dashboard while nobody can (no staff account yet)."""
    async with runtime.database.sessions() as session:
        if await staff_store.count_admins(session) == 0:
            log.warning(
                "no staff admin yet: create one with `trygg staff create-user NAME`, "
                "then log in at %s/staff",
                runtime.settings.public_url,
            )


def start_background(
    runtime: Runtime, senders: Mapping[str, ChannelSender], stop: asyncio.Event
) -> list[asyncio.Task[None]]:
    lease = dt.timedelta(seconds=runtime.settings.outbox_lease_seconds)
    worker = DeliveryWorker(runtime, senders, lease=lease)
    dialogs = DialogService(runtime)
    return [
        asyncio.create_task(worker.run(stop), name="delivery"),
        asyncio.create_task(tick_loop(dialogs, stop), name="reminders"),
        asyncio.create_task(broadcast_loop(Broadcasts(runtime), stop), name="broadcasts"),
    ]


async def broadcast_loop(
    broadcasts: Broadcasts, stop: asyncio.Event, every: float = BROADCAST_TICK_SECONDS
) -> None:
    """Start scheduled broadcasts when due; mark sent ones done."""
    while not stop.is_set():
        try:
            await broadcasts.tick()
        except Exception:  # the database may be restarting; try again next round
            log.exception("broadcast round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def tick_loop(dialogs: DialogService, stop: asyncio.Event) -> None:
    """Reminders and expiry for idle dialogs, once a minute."""
    while not stop.is_set():
        try:
            await dialogs.tick_idle()
        except Exception:  # the database may be restarting; try again next round
            log.exception("reminder round failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), TICK_SECONDS)

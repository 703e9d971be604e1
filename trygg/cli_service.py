"""``trygg serve``, ``trygg worker``, ``trygg migrate`` and the console chat's database side."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from dialog_flows.problems import FlowError
from storage.database import migrate
from trygg.service.channels import (
    build_senders,
    facebook_enabled,
    sms_enabled,
    telegram_enabled,
    whatsapp_enabled,
)
from trygg.service.runtime import ConfigurationError, Runtime, build_runtime
from trygg.settings import Settings

err = Console(stderr=True, soft_wrap=True)


def runtime_or_exit(settings: Settings | None = None) -> Runtime:
    try:
        return build_runtime(settings or Settings())
    except FlowError as exc:
        for problem in exc.problems:
            err.print(str(problem), markup=False, highlight=False)
        err.print(f"{len(exc.problems)} problem(s) in the flow files.", style="bold red")
        raise typer.Exit(1) from None
    except (ConfigurationError, ValueError) as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None


def describe_startup(settings: Settings) -> list[str]:
    """What is enabled and what is missing, without printing any secret."""
    database = make_url(settings.database_url).render_as_string(hide_password=True)
    channels = {
        "telegram": telegram_enabled(settings),
        "sms": sms_enabled(settings),
        "whatsapp": whatsapp_enabled(settings),
        "facebook": facebook_enabled(settings),
    }
    missing = {
        "telegram": "TRYGG_TELEGRAM_TOKEN and TRYGG_TELEGRAM_SECRET",
        "sms": "TRYGG_TWILIO_ACCOUNT_SID, TRYGG_TWILIO_AUTH_TOKEN and TRYGG_TWILIO_FROM",
        "whatsapp": "the SMS settings and TRYGG_TWILIO_WHATSAPP_FROM",
        "facebook": "TRYGG_FACEBOOK_PAGE_TOKEN, TRYGG_FACEBOOK_APP_SECRET and "
        "TRYGG_FACEBOOK_VERIFY_TOKEN",
    }
    lines = [f"database: {database}", "web chat: on"]
    for name, enabled in channels.items():
        lines.append(f"{name}: on" if enabled else f"{name}: off (set {missing[name]})")
    return lines


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="Serve HTTP only; run `trygg worker` apart.")
    ] = False,
) -> None:
    """Run the web app (webhooks, web chat) and, unless --no-worker, the delivery worker."""
    import uvicorn  # noqa: PLC0415 (keeps other commands fast)

    from trygg.web.app import create_app  # noqa: PLC0415

    settings = Settings()
    runtime = runtime_or_exit(settings)
    for line in describe_startup(settings):
        err.print(line, markup=False)
    err.print(f"open http://{host}:{port}/ for the web chat", markup=False)
    uvicorn.run(
        create_app(runtime, run_worker=not no_worker), host=host, port=port, log_level="info"
    )


def worker() -> None:
    """Run the delivery worker and reminders without the web app."""
    from trygg.web.app import start_background  # noqa: PLC0415

    settings = Settings()
    runtime = runtime_or_exit(settings)

    async def run() -> None:
        await migrate(runtime.database)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        tasks = start_background(runtime, build_senders(settings), stop)
        err.print("worker running; stop with Ctrl-C", markup=False)
        await asyncio.gather(*tasks)
        await runtime.close()

    asyncio.run(run())


def migrate_command() -> None:
    """Create or upgrade the database schema."""
    runtime = runtime_or_exit()

    async def run() -> None:
        await migrate(runtime.database)
        await runtime.close()

    asyncio.run(run())
    err.print("database is up to date", markup=False)


def run_console_chat(language: str | None, source: str | None) -> None:
    from trygg.console import ConsoleChat  # noqa: PLC0415
    from trygg.service.dialogs import DialogService  # noqa: PLC0415

    runtime = runtime_or_exit()

    async def read() -> str:
        return await asyncio.to_thread(input)

    async def run() -> None:
        await migrate(runtime.database)
        try:
            await ConsoleChat(
                DialogService(runtime), language=language, source=source, read=read
            ).run()
        finally:
            await runtime.close()

    asyncio.run(run())


def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report, change nothing.")] = False,
) -> None:
    """Erase the contact data of ended campaigns and old housekeeping rows (see
    docs/operations.md). Run it daily, e.g. from cron or a systemd timer."""
    from trygg.service.retention import run_retention  # noqa: PLC0415

    runtime = runtime_or_exit()

    async def run() -> None:
        await migrate(runtime.database)
        try:
            report = await run_retention(runtime, dry_run=dry_run)
        finally:
            await runtime.close()
        verb = "would erase" if dry_run else "erased"
        ended = ", ".join(report.campaigns_ended) or "none"
        err.print(
            f"campaigns ended: {ended}; {verb} {report.contacts_erased} contact(s); "
            f"{report.delivery_ids_forgotten} old delivery ids; "
            f"{report.outbox_rows_deleted} old outbox rows",
            markup=False,
        )

    asyncio.run(run())

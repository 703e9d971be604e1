"""``trygg telegram``: register the webhook, show its status, print deep links and QR codes."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from telegram import Bot
from telegram.error import TelegramError

from trygg.qr import require_source, write_qr
from trygg.settings import Settings

telegram_app = typer.Typer(
    help="The Telegram bot: webhook, status, deep links.", no_args_is_help=True
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
WEBHOOK_PATH = "/webhooks/telegram"
T = TypeVar("T")


def _bot(settings: Settings) -> Bot:
    if not (settings.telegram_token and settings.telegram_secret):
        err.print(
            "Telegram is off: set TRYGG_TELEGRAM_TOKEN and TRYGG_TELEGRAM_SECRET", markup=False
        )
        raise typer.Exit(2)
    return Bot(settings.telegram_token, base_url=f"{settings.telegram_api.rstrip('/')}/bot")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except TelegramError as exc:
        err.print(f"Telegram answered: {exc.message}", markup=False)
        raise typer.Exit(1) from None


@telegram_app.command("set-webhook")
def set_webhook() -> None:
    """Register TRYGG_PUBLIC_URL/webhooks/telegram with the secret and the update kinds we use."""
    settings = Settings()
    bot = _bot(settings)
    url = settings.public_url.rstrip("/") + WEBHOOK_PATH
    if not url.startswith("https://"):
        err.print(
            f"Telegram only calls https:// addresses; TRYGG_PUBLIC_URL gives {url}", markup=False
        )
        raise typer.Exit(2)
    _run(
        bot.set_webhook(url, secret_token=settings.telegram_secret, allowed_updates=ALLOWED_UPDATES)
    )
    out.print(f"webhook set: {url} (updates: {', '.join(ALLOWED_UPDATES)})", highlight=False)


@telegram_app.command("info")
def info() -> None:
    """Show the webhook's status as Telegram sees it."""
    bot = _bot(Settings())
    status = _run(bot.get_webhook_info())
    out.print(f"url: {status.url or '(none)'}", highlight=False)
    out.print(f"pending updates: {status.pending_update_count}", highlight=False)
    out.print(
        f"allowed updates: {', '.join(status.allowed_updates or ()) or '(all)'}", highlight=False
    )
    if status.last_error_message:
        out.print(f"last error: {status.last_error_message}", highlight=False)


@telegram_app.command("link")
def link(
    source: Annotated[str, typer.Argument(help="A source id from the campaign, e.g. badet.")],
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for the QR codes.")] = Path("."),
) -> None:
    """Print the deep link t.me/BOT?start=SOURCE and write its QR code as PNG and SVG."""
    settings = Settings()
    require_source(settings, source)
    me = _run(_bot(settings).get_me())
    url = f"https://t.me/{me.username}?start={source}"
    png, svg = write_qr(url, out_dir, f"telegram-{source}")
    out.print(url, highlight=False)
    err.print(f"wrote {png} and {svg}", markup=False)


@telegram_app.command("poll")
def poll(
    force: Annotated[
        bool, typer.Option("--force", help="Delete a registered webhook first.")
    ] = False,
    once: Annotated[
        bool, typer.Option("--once", help="Handle one batch, send the replies, and stop.")
    ] = False,
) -> None:
    """For development without a public URL: fetch updates with getUpdates instead of a
    webhook, and run the delivery worker beside it. Stop with Ctrl-C."""
    from storage.database import migrate  # noqa: PLC0415
    from trygg.cli_service import runtime_or_exit  # noqa: PLC0415
    from trygg.service.channels import build_senders  # noqa: PLC0415
    from trygg.service.delivery import DeliveryWorker  # noqa: PLC0415
    from trygg.service.dialogs import DialogService  # noqa: PLC0415
    from trygg.web.app import start_background  # noqa: PLC0415
    from trygg.web.telegram_webhook import dispatch_update  # noqa: PLC0415

    settings = Settings()
    bot = _bot(settings)
    runtime = runtime_or_exit(settings)

    async def run() -> None:
        status = await bot.get_webhook_info()
        if status.url and not force:
            err.print(
                f"a webhook is set ({status.url}); polling would fail. Use --force to delete "
                "it (then set it again with `trygg telegram set-webhook`).",
                markup=False,
            )
            raise typer.Exit(2)
        if status.url:
            await bot.delete_webhook()
        await migrate(runtime.database)
        dialogs = DialogService(runtime)
        senders = build_senders(settings)
        stop = asyncio.Event()
        background = [] if once else start_background(runtime, senders, stop)
        offset: int | None = None
        try:
            while True:
                updates = await bot.get_updates(
                    offset=offset, timeout=0 if once else 25, allowed_updates=ALLOWED_UPDATES
                )
                for update in updates:
                    await dispatch_update(dialogs, update.to_dict())
                    offset = update.update_id + 1
                if once:
                    worker = DeliveryWorker(runtime, senders)
                    while await worker.run_once():
                        pass
                    if offset is not None:  # confirm the batch, as the next poll would
                        await bot.get_updates(offset=offset, timeout=0)
                    return
        finally:
            stop.set()
            for task in background:
                await task
            await runtime.close()

    try:
        _run(run())
    except KeyboardInterrupt:
        err.print("stopped", markup=False)

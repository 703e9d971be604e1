"""Sending to Telegram through python-telegram-bot's ``Bot`` client, and what errors mean.

Requests go to ``{TRYGG_TELEGRAM_API}/bot{token}/{method}``. Outcomes for the delivery
worker: 429 honours ``retry_after``; 403 (blocked, deactivated) means never again for
this person; other 4xx fail the message; network errors and 5xx are retried. Pacing is
about 30 messages a second in all and one a second per chat (PROVIDERS.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bots.contract import Outcome, SendResult
from bots.telegram import render
from bots.telegram.inbound import CHANNEL
from dialog_flows.session import Outgoing


class TelegramSender:
    channel = CHANNEL
    recipient_interval = 1.0  # Telegram: about one message a second to one chat

    def __init__(
        self, token: str, api_root: str, media_root: str = "", rate_per_second: float = 30.0
    ) -> None:
        self.bot = Bot(token, base_url=f"{api_root.rstrip('/')}/bot")
        # Telegram allows about 30 messages a second in all; several workers divide it.
        self.rate_per_second = rate_per_second
        self.media_root = media_root.rstrip("/")  # where our /media/ images are public

    async def send(self, address: str, message: Outgoing) -> SendResult:
        markup = render.keyboard(message)
        text = render.text(message)

        image = self._image_url(message.image)

        async def call() -> Any:
            if image is not None and len(text) <= render.CAPTION_LIMIT:
                return await self.bot.send_photo(address, image, caption=text, reply_markup=markup)
            return await self.bot.send_message(address, text, reply_markup=markup)

        return await _outcome(call)

    def _image_url(self, image: str | None) -> str | None:
        if not image:
            return None
        if image.startswith("https://"):
            return image
        if self.media_root.startswith("https://"):  # Telegram fetches only from https
            return f"{self.media_root}/media/{image}"
        return None

    async def perform(self, address: str, control: Mapping[str, Any]) -> SendResult:
        action = control.get("action")
        if action == "answer_callback":
            query_id = str(control.get("callback_query_id", ""))
            result = await _outcome(lambda: self.bot.answer_callback_query(query_id))
            # A query older than about 15 s cannot be answered any more; that is not worth
            # retrying, and the person's tap was handled all the same.
            return result if result.outcome is not Outcome.FAILED else SendResult(Outcome.SENT)
        if action == "remove_keyboard":
            message_id = int(control.get("message_id", 0))
            result = await _outcome(
                lambda: self.bot.edit_message_reply_markup(address, message_id, reply_markup=None)
            )
            # "message is not modified" or "not found": the keyboard is gone either way.
            return result if result.outcome is not Outcome.FAILED else SendResult(Outcome.SENT)
        return SendResult(Outcome.FAILED, error=f"unknown Telegram action {action!r}")


async def _outcome(call: Any) -> SendResult:
    try:
        result = await call()
    except RetryAfter as exc:
        seconds = exc.retry_after
        delay = seconds.total_seconds() if hasattr(seconds, "total_seconds") else float(seconds)
        return SendResult(Outcome.RETRY, retry_after=delay, error=f"429: {exc.message}")
    except Forbidden as exc:
        return SendResult(Outcome.UNREACHABLE, error=f"403: {exc.message}")
    except InvalidToken as exc:  # our configuration, not the person: keep the message
        return SendResult(Outcome.RETRY, retry_after=300, error=f"token: {exc.message}")
    except BadRequest as exc:
        if "chat not found" in exc.message.lower():
            return SendResult(Outcome.UNREACHABLE, error=f"400: {exc.message}")
        return SendResult(Outcome.FAILED, error=f"400: {exc.message}")
    except NetworkError as exc:  # includes TimedOut and 5xx answers
        return SendResult(Outcome.RETRY, error=f"network: {exc.message}")
    except TelegramError as exc:
        return SendResult(Outcome.RETRY, error=f"telegram: {exc.message}")
    message_id = getattr(result, "message_id", None)
    return SendResult(Outcome.SENT, provider_message_id=str(message_id) if message_id else None)

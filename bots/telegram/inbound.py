"""A Telegram webhook delivery, as the service understands it.

Parsing goes through python-telegram-bot's ``Update.de_json``. The result is one of:
- ``InboundMessage``: a private message, a /start with its deep-link source, or a tapped
  inline button, with housekeeping actions for the sender (answer the callback query,
  take the keyboard off the answered question);
- ``Reachability``: the person blocked or unblocked the bot (``my_chat_member``);
- ``Ignored``: anything else (edits, groups, channels, kinds we do not know). It gets a
  200 like everything else, so Telegram does not retry it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatMemberStatus, ChatType

from bots.contract import InboundMessage

CHANNEL = "telegram"
# Deep-link payloads: at most 64 characters of A-Z a-z 0-9 _ - (Bot API).
START = re.compile(r"^/start(?:@\w+)?(?:\s+(?P<payload>[A-Za-z0-9_-]{1,64}))?\s*$")


@dataclass(frozen=True)
class Reachability:
    address: str
    delivery_id: str
    reachable: bool


@dataclass(frozen=True)
class Ignored:
    delivery_id: str | None
    reason: str


Parsed = InboundMessage | Reachability | Ignored


def parse_update(data: Any) -> Parsed:
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        return Ignored(None, "not a Telegram update")
    delivery_id = str(data["update_id"])
    try:
        update = Update.de_json(data, None)
    except Exception as exc:  # PTB raises whatever a hostile shape provokes (AttributeError...)
        return Ignored(delivery_id, f"malformed update: {type(exc).__name__}")
    if update.callback_query is not None:
        return _callback(update, delivery_id)
    if update.message is not None:
        return _message(update.message, delivery_id)
    member = update.my_chat_member
    if member is not None and member.chat.type == ChatType.PRIVATE:
        blocked = member.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
        return Reachability(str(member.chat.id), delivery_id, reachable=not blocked)
    kind = next((key for key in data if key != "update_id"), "empty")
    return Ignored(delivery_id, f"update kind {kind} is not handled")


def _message(message: Message, delivery_id: str) -> Parsed:
    if message.chat.type != ChatType.PRIVATE:
        return Ignored(delivery_id, "not a private chat")
    user = message.from_user
    if user is None or user.is_bot:
        return Ignored(delivery_id, "not from a person")
    hint = user.language_code
    address = str(message.chat.id)
    text = message.text or message.caption or ""
    start = START.match(text) if message.text else None
    if start is not None:
        return InboundMessage(
            channel=CHANNEL,
            address=address,
            delivery_id=delivery_id,
            start=True,
            start_source=start.group("payload"),
            language_hint=hint,
        )
    has_attachment = message.text is None  # photo, sticker, voice, location, ...
    return InboundMessage(
        channel=CHANNEL,
        address=address,
        delivery_id=delivery_id,
        text=text if message.text is not None else "",
        has_attachment=has_attachment,
        language_hint=hint,
    )


def _callback(update: Update, delivery_id: str) -> Parsed:
    query = update.callback_query
    assert query is not None
    controls: list[dict[str, Any]] = [{"action": "answer_callback", "callback_query_id": query.id}]
    message = query.message
    if message is None or message.chat.type != ChatType.PRIVATE:
        return Ignored(delivery_id, "a button outside a private chat")
    if message.is_accessible:  # date 0 marks an inaccessible one, which cannot be edited
        # The answered question loses its buttons, so they cannot be tapped twice.
        controls.append({"action": "remove_keyboard", "message_id": message.message_id})
    return InboundMessage(
        channel=CHANNEL,
        address=str(message.chat.id),
        delivery_id=delivery_id,
        payload=query.data or "",
        language_hint=query.from_user.language_code,
        controls=tuple(controls),
    )

"""A neutral message as Telegram shows it: text with an inline keyboard.

Each choice is a button whose callback data is the engine's payload (``STEP:CHOICE``, at
most 64 bytes, checked when the flow loads). A multiple choice marks ticked options
with a check mark; place ratings show their coloured circle. Short choices share a row,
so a three-point scale fits on one line of a phone screen.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from dialog_flows.session import Option, Outgoing

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024  # a photo's caption; a longer text goes as a message without photo
SHORT_LABEL = 14  # characters; up to three such buttons share a row


def keyboard(message: Outgoing) -> InlineKeyboardMarkup | None:
    if not message.options:
        return None
    numbered = [option for option in message.options if option.number is not None]
    others = [option for option in message.options if option.number is None]
    short = all(len(option.label) <= SHORT_LABEL for option in numbered)
    per_row = 3 if short and (len(numbered) <= 3 or message.input == "language") else 1
    rows = [numbered[i : i + per_row] for i in range(0, len(numbered), per_row)]
    rows += [[option] for option in others]
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_label(o, message), callback_data=o.payload) for o in row]
            for row in rows
        ]
    )


def _label(option: Option, message: Outgoing) -> str:
    label = option.label
    if message.input == "multiple" and option.number is not None:
        label = f"{'☑' if option.selected else '☐'} {label}"
    if option.symbol:
        label = f"{option.symbol} {label}"
    return label


def text(message: Outgoing) -> str:
    body = message.text.strip() or "…"
    return body if len(body) <= TEXT_LIMIT else body[: TEXT_LIMIT - 1] + "…"

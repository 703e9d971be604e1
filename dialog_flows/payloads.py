"""Button payloads: how a tapped choice travels back to the engine.

A payload names the step as well as the choice, so a tap on an old message's button is
recognised as stale instead of answering whatever question is current. Payloads must
fit Telegram's callback_data, 1 to 64 bytes, so ids are short ASCII (see ``loader``).
"""

from __future__ import annotations

TELEGRAM_CALLBACK_BYTES = 64

SKIP = "_skip"  # skip an optional step
DONE = "_done"  # finish a multiple-choice selection
LANGUAGE_MENU = "_lang"  # the language menu is not a flow step, so it has its own name
SYSTEM_CHOICES = (SKIP, DONE)


def encode(step_id: str, choice_id: str) -> str:
    return f"{step_id}:{choice_id}"


def decode(payload: str) -> tuple[str, str] | None:
    step_id, separator, choice_id = payload.partition(":")
    if not separator or not step_id or not choice_id:
        return None
    return step_id, choice_id


def fits_telegram(payload: str) -> bool:
    return 1 <= len(payload.encode("utf-8")) <= TELEGRAM_CALLBACK_BYTES

"""Channel limits that shape how a step may be written, checked when a flow loads.

Limits come from the providers (see shared/PROVIDERS.md): Telegram callback data is
at most 64 bytes, an SMS body at most 1600 characters (Twilio), a Messenger text at most
2000. The SMS limit is the tightest, so a prompt that fits there fits everywhere.
Translations are held to the same limits by ``trygg flows lint``.
"""

from __future__ import annotations

from dialog_flows import payloads
from dialog_flows.model import Step

SMS_MAX_CHARACTERS = 1600  # Twilio's limit for one message body
MAX_PROMPT_CHARACTERS = 1200  # leaves room for the numbered choices in the same SMS
MAX_LABEL_CHARACTERS = 120
MESSENGER_QUICK_REPLY_TITLE = 20  # longer labels make Messenger fall back to numbered text


def check_step_limits(step: Step) -> list[tuple[str, str, str | None]]:
    """Problems as (field, message, choice id or None); the caller adds file, line and step."""
    problems: list[tuple[str, str, str | None]] = []
    if len(step.text) > MAX_PROMPT_CHARACTERS:
        problems.append(
            (
                "text",
                f"the text has {len(step.text)} characters; at most {MAX_PROMPT_CHARACTERS} "
                "fit in one SMS together with the choices",
                None,
            )
        )
    system = payloads.SYSTEM_CHOICES if step.answers else ()
    for choice_id in [choice.id for choice in step.choices] + list(system):
        payload = payloads.encode(step.id, choice_id)
        if not payloads.fits_telegram(payload):
            problems.append(
                (
                    "id",
                    f"step id and choice id '{choice_id}' together take "
                    f"{len(payload.encode())} bytes as button data; Telegram allows "
                    f"{payloads.TELEGRAM_CALLBACK_BYTES}: shorten the ids",
                    choice_id,
                )
            )
    for choice in step.choices:
        if len(choice.label) > MAX_LABEL_CHARACTERS:
            problems.append(
                (
                    "label",
                    f"the label has {len(choice.label)} characters; at most {MAX_LABEL_CHARACTERS}",
                    choice.id,
                )
            )
    return problems

"""Rendering a neutral message as plain text, for SMS and the console.

Choices become a numbered list, because on a text-only channel people answer with the
number. Options without a number (a multiple choice's "done", the skip of a free-text
question) are replaced by the message's ``text_hint``, which says what to type instead.

For SMS the text is made GSM-7 friendly where that costs nothing in meaning (typographic
quotes, dashes and ellipses), since one such character would turn the whole message into
UCS-2 and more than double its segments.
"""

from __future__ import annotations

from dialog_flows.session import Outgoing
from dialog_flows.sms_encoding import to_gsm_friendly


def render_plain(message: Outgoing, *, for_sms: bool = False) -> str:
    lines = [message.text]
    numbered = [option for option in message.options if option.number is not None]
    if numbered:
        lines.append("")
        lines.extend(f"{option.number} {option.label}" for option in numbered)
    if message.text_hint:
        lines.append(message.text_hint)
    text = "\n".join(lines)
    return to_gsm_friendly(text) if for_sms else text

"""WhatsApp through the same Twilio adapter: ``whatsapp:+46...`` addresses, one API.

WhatsApp allows free text only within 24 hours of the person's last message. Outside that
window a message may go only as an approved template, so this sender either sends it
through the template configured for its language (TRYGG_TWILIO_WHATSAPP_TEMPLATES: a
Content SID per language, whose one variable ``{{1}}`` carries the text), or answers
WAITING, and the outbox sends it right after the person's next message.

WhatsApp is not paid per segment and shows any script, so the text is not folded to
GSM-7, and each message costs one unit of the sender's rate.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bots.contract import Outcome, SendResult
from bots.sms.outbound import TwilioSender
from dialog_flows.render_text import render_plain
from dialog_flows.session import Outgoing

CHANNEL = "whatsapp"
PREFIX = "whatsapp:"
WINDOW_HOURS = 24


def whatsapp_address(number: str) -> str:
    return number if number.startswith(PREFIX) else PREFIX + number


class WhatsAppSender(TwilioSender):
    channel = CHANNEL
    window_seconds = WINDOW_HOURS * 3600.0

    def __init__(
        self, *args: Any, templates: Mapping[str, str] | None = None, **options: Any
    ) -> None:
        """As ``TwilioSender``; its rate counts messages here, and ``templates`` maps a
        language to the Content SID that may carry a message outside the window."""
        super().__init__(*args, **options)
        if not self.sender.startswith("MG"):  # a Messaging Service picks its WhatsApp sender
            self.sender = whatsapp_address(self.sender)
        self.templates = dict(templates or {})

    def cost(self, message: Outgoing) -> int:
        return 1

    def render(self, message: Outgoing) -> str:
        return render_plain(message)

    def to(self, address: str) -> str:
        return whatsapp_address(address)

    async def send_outside_window(self, address: str, message: Outgoing) -> SendResult:
        content_sid = self.templates.get(message.language)
        if content_sid is None:
            return SendResult(Outcome.WAITING, error="outside the 24-hour window")
        variables = json.dumps({"1": self.render(message)}, ensure_ascii=False)
        return await self._create(address, content_sid=content_sid, content_variables=variables)

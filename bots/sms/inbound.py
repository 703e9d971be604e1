"""Twilio's inbound message form and status callbacks, checked and made neutral.

The signature is checked against TRYGG_PUBLIC_URL + path (+ query), the URL Twilio was
told to call, never the URL this process sees: behind a reverse proxy that terminates
TLS the two differ. ``RequestValidator`` accepts the URL with and without the default
port, as Twilio signs either.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twilio.request_validator import RequestValidator

from bots.contract import InboundMessage

CHANNEL = "sms"
WHATSAPP = "whatsapp"  # the same webhook and API, with ``whatsapp:+46...`` addresses
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
# Twilio's own opt-in words (Advanced Opt-Out reports them as OptOutType=START).
OPT_IN_TYPES = frozenset({"START"})


def signed_url(public_url: str, path: str, query: str) -> str:
    url = public_url.rstrip("/") + path
    return f"{url}?{query}" if query else url


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def channel_and_number(address: str) -> tuple[str, str]:
    """``whatsapp:+46701234567`` -> (whatsapp, +46701234567); a plain number is SMS."""
    if address.startswith(f"{WHATSAPP}:"):
        return WHATSAPP, address.removeprefix(f"{WHATSAPP}:")
    return CHANNEL, address


def parse_message(form: Mapping[str, str]) -> InboundMessage | None:
    """None when the form is not an inbound message (no MessageSid or no sender)."""
    sid = form.get("MessageSid") or form.get("SmsMessageSid")
    channel, sender = channel_and_number(form.get("From", "").strip())
    if not sid or not sender:
        return None
    body = form.get("Body", "")
    try:
        media = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        media = 0
    if form.get("OptOutType", "").upper() in OPT_IN_TYPES:
        # START, YES, UNSTOP: Twilio has opted them back in; greet them with the dialog.
        return InboundMessage(channel=channel, address=sender, delivery_id=sid, start=True)
    return InboundMessage(
        channel=channel,
        address=sender,
        delivery_id=sid,
        text=body[:1600],  # Twilio's own limit; anything longer is not from Twilio
        has_attachment=media > 0 and not body.strip(),
    )


# Delivery reports worth recording; queued/sending/sent are steps on the way. WhatsApp
# also reports "read", which implies delivered.
FINAL_STATUSES = {
    "delivered": "delivered",
    "read": "delivered",
    "undelivered": "undelivered",
    "failed": "undelivered",
}


@dataclass(frozen=True)
class StatusReport:
    channel: str  # sms or whatsapp, from the recipient's address
    message_sid: str
    status: str  # ours: delivered or undelivered
    error_code: str | None


def parse_status(form: Mapping[str, str]) -> StatusReport | None:
    """A final delivery status, or None for a step on the way or a malformed form."""
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = FINAL_STATUSES.get((form.get("MessageStatus") or form.get("SmsStatus") or "").lower())
    if not sid or status is None:
        return None
    channel, _ = channel_and_number(form.get("To", ""))
    return StatusReport(channel, sid, status, form.get("ErrorCode") or None)

"""Meta's Messenger webhook: verification, the signature, and events made neutral.

``X-Hub-Signature-256`` is an HMAC-SHA256 of the raw body. Meta escapes non-ASCII in the
JSON it signs (``\\u00e4``), so it is checked over the bytes as received, never over
re-serialised JSON, and in constant time. A delivery may batch several entries, each
with several events; each event becomes at most one ``InboundMessage``:

- a text, or a tapped quick reply (its payload is ours, ``STEP:CHOICE``);
- a postback: the Get Started button (with the ``ref`` of the m.me link that opened a
  new thread) or a persistent-menu item, which means the same as its keyword;
- a referral: an existing thread opened through ``m.me/PAGE?ref=SOURCE``;
- an attachment without text, so the engine can ask kindly for words.

Echoes of our own messages, deliveries and reads are not messages (deliveries report
which of ours arrived, see ``delivered_mids``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bots.contract import InboundMessage

CHANNEL = "facebook"
GET_STARTED = "GET_STARTED"
# The persistent menu's postbacks, and the keyword each means (any catalog's word works;
# the Swedish one is the source).
MENU_START = "MENU:START"
MENU_KEYWORDS = {"MENU:RESULTS": "RESULTAT", "MENU:LANGUAGE": "SPRÅK", "MENU:STOP": "STOPP"}
MAX_TEXT = 4000  # Messenger's own limit for what a person can send is far below this


def signature_ok(raw_body: bytes, header: str | None, app_secret: str) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.removeprefix("sha256="), expected)


def verification_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The challenge to echo for Meta's GET, or None when it is not ours to answer."""
    token = params.get("hub.verify_token", "")
    if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(
        token.encode(), verify_token.encode()
    ):
        return None
    return params.get("hub.challenge")


@dataclass
class Delivery:
    """What one webhook POST carried."""

    messages: list[InboundMessage] = field(default_factory=list)
    delivered_mids: list[str] = field(default_factory=list)  # ours, reported delivered
    ignored: list[str] = field(default_factory=list)  # kinds acknowledged and left alone


def parse_delivery(raw_body: bytes) -> Delivery:
    """Every event of every entry, in order. Anything malformed is ignored, not fatal: a
    signed body is Meta's, and an error would only make it retry for 36 hours."""
    result = Delivery()
    try:
        body = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError):
        result.ignored.append("malformed JSON")
        return result
    if not isinstance(body, dict) or body.get("object") != "page":
        result.ignored.append("not a page delivery")
        return result
    for entry in _dicts(body.get("entry")):
        for event in _dicts(entry.get("messaging")):
            _parse_event(event, result)
    return result


def _parse_event(event: dict[str, Any], result: Delivery) -> None:
    psid = _str(_dict(event.get("sender")).get("id"))
    timestamp = _str(event.get("timestamp"))
    message, postback = _dict(event.get("message")), _dict(event.get("postback"))
    if "delivery" in event:
        result.delivered_mids.extend(_str(m) for m in _list(_dict(event["delivery"]).get("mids")))
        result.ignored.append("delivery")
    elif "read" in event:
        result.ignored.append("read")
    elif not psid:
        result.ignored.append("no sender")
    elif message.get("is_echo"):
        result.ignored.append("echo")
    elif message:
        result.messages.append(_message(psid, message))
    elif postback:
        result.messages.append(_postback(psid, postback, timestamp))
    elif "referral" in event:
        ref = _str(_dict(event["referral"]).get("ref")) or None
        delivery_id = f"referral:{psid}:{timestamp}" if timestamp else None
        result.messages.append(
            InboundMessage(CHANNEL, psid, delivery_id, start=True, start_source=ref)
        )
    else:
        result.ignored.append("unknown event")


def _message(psid: str, message: dict[str, Any]) -> InboundMessage:
    text = _str(message.get("text"))[:MAX_TEXT]
    payload = _str(_dict(message.get("quick_reply")).get("payload")) or None
    attachments = _list(message.get("attachments"))
    return InboundMessage(
        channel=CHANNEL,
        address=psid,
        delivery_id=_str(message.get("mid")) or None,
        text=text,
        payload=payload,
        has_attachment=bool(attachments) and not text.strip(),
    )


def _postback(psid: str, postback: dict[str, Any], timestamp: str) -> InboundMessage:
    payload = _str(postback.get("payload"))
    delivery_id = _str(postback.get("mid")) or (
        f"postback:{psid}:{timestamp}" if timestamp else None
    )
    if payload in (GET_STARTED, MENU_START):
        ref = _str(_dict(postback.get("referral")).get("ref")) or None
        return InboundMessage(CHANNEL, psid, delivery_id, start=True, start_source=ref)
    keyword = MENU_KEYWORDS.get(payload)
    if keyword is not None:
        return InboundMessage(CHANNEL, psid, delivery_id, text=keyword)
    # Any other postback (an old button of ours): treat its title as what they said.
    return InboundMessage(CHANNEL, psid, delivery_id, text=_str(postback.get("title")))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dicts(value: object) -> list[dict[str, Any]]:
    return [item for item in _list(value) if isinstance(item, dict)]


def _str(value: object) -> str:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""

"""Build and sign Meta's Messenger webhook deliveries (the JSON Meta POSTs to a page's app).

Meta POSTs ``application/json`` to the app's callback URL: one delivery is
``{"object": "page", "entry": [{"id": PAGE_ID, "time": ms, "messaging": [event, ...]}]}``
and may batch several entries, each with several events. Every delivery carries
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body, keyed with the app
secret>``. Meta writes the JSON compactly and escapes every non-ASCII character
(``"ä"`` travels as ``\\u00e4``), so a receiver must check the signature over the bytes it
was sent, never over JSON it serialised again: ``encode`` produces exactly those bytes.

An event has ``sender.id`` (the person's page-scoped id, PSID, or the page for echoes),
``recipient.id`` and ``timestamp`` (milliseconds), plus one of ``message``, ``postback``,
``referral``, ``delivery`` or ``read``. The builders below return events in that shape.

Sources (the Messenger Platform docs, developers.facebook.com/docs/messenger-platform):
webhooks (setup, verification, ``X-Hub-Signature-256``), and the webhook event references
messages, messaging_postbacks, messaging_referrals, message_echoes, message_deliveries
and message_reads. Details the docs do not pin down are marked *guess*.

All ids, tokens and secrets here are **fake**: PSIDs are 16-digit strings that belong to
no one, and the page id is not a real page.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

APP_SECRET = "trygg-test-app-secret-0123456789abcdef"
PAGE_TOKEN = "EAAtrygg0test0page0access0token0ZZZ"
VERIFY_TOKEN = "trygg-verify-token-karlslund"
PAGE_ID = "112233445566778"
APP_ID = 1234567890123456  # Meta sends app_id as a JSON number in echoes
PERSON = "7012345678900001"  # PSIDs: page-scoped ids, numeric strings
OTHER_PERSON = "7012345678900002"
THIRD_PERSON = "7012345678900003"

SIGNATURE_HEADER = "X-Hub-Signature-256"
# Meta still sends the legacy SHA-1 signature beside the SHA-256 one (*guess*: it is
# documented for older apps and seen in captured deliveries; never rely on it).
LEGACY_SIGNATURE_HEADER = "X-Hub-Signature"
JSON_CONTENT_TYPE = "application/json"
USER_AGENT = "facebookexternalua"  # *guess*: the agent Meta's webhook requests show

# What an m.me/PAGE?ref=REF link sets in a referral (messaging_referrals reference).
SHORTLINK = "SHORTLINK"
OPEN_THREAD = "OPEN_THREAD"


def new_mid() -> str:
    """A message id as current webhooks and the Send API show them: ``m_`` and about 86
    url-safe characters (*guess* at the length; older ids looked like ``mid.$cAA...``)."""
    return "m_" + secrets.token_urlsafe(64)


def now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------------- wire format


def encode(payload: Mapping[str, Any], *, escape_slashes: bool = False) -> bytes:
    """The raw body Meta sends for ``payload``: compact JSON, every non-ASCII character
    escaped (``\\u00e4``; characters outside the BMP as surrogate pairs).

    ``escape_slashes=True`` also writes ``/`` as ``\\/``, as captured Meta payloads (e.g. the
    attachment URLs in the message_echoes reference) show it (*guess* whether Meta still
    does so everywhere). Either way a receiver that re-serialises gets different bytes.
    """
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    if escape_slashes:
        text = text.replace("/", "\\/")
    return text.encode("ascii")


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    """``X-Hub-Signature-256`` for ``body``: ``sha256=`` and the hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def sign_sha1(body: bytes, secret: str = APP_SECRET) -> str:
    """The legacy ``X-Hub-Signature``: ``sha1=`` and the hex HMAC-SHA1."""
    return "sha1=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()


def signed_headers(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    """Headers of a webhook POST of ``body``: the content type and both signatures."""
    return {
        "Content-Type": JSON_CONTENT_TYPE,
        SIGNATURE_HEADER: sign(body, secret),
        LEGACY_SIGNATURE_HEADER: sign_sha1(body, secret),
    }


def is_valid_signature(body: bytes, header: str | None, secret: str = APP_SECRET) -> bool:
    """Check an ``X-Hub-Signature-256`` value the way a receiver should (constant time)."""
    if not header:
        return False
    return hmac.compare_digest(header.encode("ascii", "replace"), sign(body, secret).encode())


# ---------------------------------------------------------------------- delivery shape


def delivery(*entries: Mapping[str, Any]) -> dict[str, Any]:
    """A whole webhook delivery: ``{"object": "page", "entry": [...]}``."""
    return {"object": "page", "entry": [dict(item) for item in entries]}


def entry(
    *events: Mapping[str, Any], page_id: str = PAGE_ID, time: int | None = None
) -> dict[str, Any]:
    """One entry: the page's id, ``time`` in milliseconds, and its ``messaging`` events."""
    return {
        "id": page_id,
        "time": now_ms() if time is None else time,
        "messaging": [dict(event) for event in events],
    }


def _event(sender: str, recipient: str, timestamp: int | None, **body: Any) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": now_ms() if timestamp is None else timestamp,
        **body,
    }


def shortlink_referral(ref: str) -> dict[str, str]:
    """The referral object of an m.me link with ``?ref=REF``."""
    return {"ref": ref, "source": SHORTLINK, "type": OPEN_THREAD}


# ---------------------------------------------------------------------- events


def text_event(
    psid: str,
    text: str,
    mid: str | None = None,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """The person typed ``text`` (messages field)."""
    return _event(psid, page_id, timestamp, message={"mid": mid or new_mid(), "text": text})


def quick_reply_event(
    psid: str,
    text: str,
    payload: str,
    mid: str | None = None,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """The person tapped a quick reply: ``text`` is its title, ``payload`` ours."""
    message = {"mid": mid or new_mid(), "text": text, "quick_reply": {"payload": payload}}
    return _event(psid, page_id, timestamp, message=message)


def postback_event(
    psid: str,
    payload: str,
    title: str,
    mid: str | None = None,
    referral: str | Mapping[str, Any] | None = None,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """The person tapped a postback button, the Get Started button or a persistent-menu
    item (messaging_postbacks). Get Started sends the payload the page set in
    ``get_started`` (we use ``GET_STARTED``); when a *new* thread was opened through
    ``m.me/PAGE?ref=REF`` it carries ``referral`` (a ``str`` is taken as that REF)."""
    postback: dict[str, Any] = {"mid": mid or new_mid(), "title": title, "payload": payload}
    if referral is not None:
        postback["referral"] = (
            shortlink_referral(referral) if isinstance(referral, str) else dict(referral)
        )
    return _event(psid, page_id, timestamp, postback=postback)


def referral_event(
    psid: str,
    ref: str,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """An *existing* thread was opened through ``m.me/PAGE?ref=REF`` (messaging_referrals):
    a top-level ``referral``, no message and no mid."""
    return _event(psid, page_id, timestamp, referral=shortlink_referral(ref))


def attachment_event(
    psid: str,
    kind: str = "image",
    url: str = "https://scontent.xx.fbcdn.net/v/t1.15752-9/000000000_0000000000000000_n.jpg",
    mid: str | None = None,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """A message with one attachment (image, video, audio, file, ...) and no text."""
    message = {"mid": mid or new_mid(), "attachments": [{"type": kind, "payload": {"url": url}}]}
    return _event(psid, page_id, timestamp, message=message)


# The "thumbs up" sticker Messenger sends from its like button (*guess*: the id and this
# shape, an image attachment with sticker_id, are how captured deliveries show it).
LIKE_STICKER_ID = 369239263222822


def sticker_event(
    psid: str,
    sticker_id: int = LIKE_STICKER_ID,
    mid: str | None = None,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """A sticker: an image attachment whose payload (and the message) has ``sticker_id``."""
    url = "https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_n.png"
    message = {
        "mid": mid or new_mid(),
        "attachments": [{"type": "image", "payload": {"url": url, "sticker_id": sticker_id}}],
        "sticker_id": sticker_id,
    }
    return _event(psid, page_id, timestamp, message=message)


def echo_event(
    psid: str,
    text: str,
    mid: str | None = None,
    timestamp: int | None = None,
    *,
    app_id: int = APP_ID,
    metadata: str | None = None,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """Meta echoing a message the page sent (message_echoes): the sender is the page, the
    recipient the person, and the message has ``is_echo`` and the sending ``app_id``."""
    message: dict[str, Any] = {"mid": mid or new_mid(), "is_echo": True, "app_id": app_id}
    if metadata is not None:
        message["metadata"] = metadata
    message["text"] = text
    return _event(page_id, psid, timestamp, message=message)


def delivery_event(
    psid: str,
    mids: Iterable[str],
    watermark: int,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """Our messages reached the person (message_deliveries). ``watermark``: everything
    sent before it was delivered; ``mids`` may be empty (Meta may leave it out)."""
    found = list(mids)
    delivered: dict[str, Any] = {"mids": found} if found else {}
    delivered["watermark"] = watermark
    # The reference's example has no timestamp; captured deliveries do (*guess*).
    return _event(psid, page_id, timestamp, delivery=delivered)


def read_event(
    psid: str,
    watermark: int,
    timestamp: int | None = None,
    *,
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """The person read everything we sent up to ``watermark`` (message_reads)."""
    return _event(psid, page_id, timestamp, read={"watermark": watermark})


# ---------------------------------------------------------------------- reading events


def inbound_psids(payload: Mapping[str, Any]) -> list[str]:
    """PSIDs that *acted* in a delivery (messages other than echoes, postbacks and
    referrals), in order: the actions that open a 24-hour window. Deliveries, reads and
    echoes do not (echoes come from the page)."""
    found: list[str] = []
    for item in payload.get("entry", []):
        for event in item.get("messaging", []):
            message = event.get("message")
            acted = (isinstance(message, Mapping) and not message.get("is_echo")) or any(
                key in event for key in ("postback", "referral")
            )
            if acted:
                found.append(str(event["sender"]["id"]))
    return found


def mids_of(payload: Mapping[str, Any]) -> list[str]:
    """Every ``mid`` of the messages and postbacks in a delivery, in order."""
    found: list[str] = []
    for item in payload.get("entry", []):
        for event in item.get("messaging", []):
            for key in ("message", "postback"):
                body = event.get(key)
                if isinstance(body, Mapping) and "mid" in body:
                    found.append(str(body["mid"]))
    return found

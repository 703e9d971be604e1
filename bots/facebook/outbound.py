"""Sending to Messenger through the Graph API's Send API, with httpx.

``POST {TRYGG_FACEBOOK_API}/v{N}/me/messages?access_token=...`` with ``messaging_type``
RESPONSE: we write only inside the 24-hour window the person's last message opened.
The worker checks the window before sending (``window_seconds``); outside it nothing
may carry a survey prompt or news (message tags are for other purposes), so
``send_outside_window`` answers WAITING, and the message goes after their next one.

Choices become quick replies (at most 13, titles of at most 20 characters); a longer
list, or a longer label, falls back to the numbered text every channel understands.

Errors by kind: rate limits and Meta's transient errors are retried; "this person isn't
available" marks them unreachable; "outside the allowed window" makes the message wait;
a rejected token is kept for later (our configuration, not their message).
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bots.contract import Outcome, SendResult
from bots.facebook.inbound import CHANNEL
from dialog_flows.render_text import render_plain
from dialog_flows.session import Option, Outgoing

MAX_QUICK_REPLIES = 13
# Sends in flight at once. At Meta's 300 a second and a fast answer, a few suffice; more
# are there for slow answers.
CONNECTIONS = 20
MAX_TITLE = 20
MAX_TEXT = 2000
WINDOW_HOURS = 24
RATE_LIMIT_CODES = {4, 17, 32, 613}
UNAVAILABLE = (551, 1545041)  # code, subcode: "This person isn't available right now."
OUTSIDE_WINDOW = (10, 2018278)
NO_SUCH_USER_SUBCODES = {2018001}  # "No matching user found"
TOKEN_CODES = {190}


class MessengerSender:
    channel = CHANNEL
    recipient_interval = 0.0
    window_seconds = WINDOW_HOURS * 3600.0
    # Outside the window a message waits for the person's next one, without any call: the
    # worker spends none of the page's rate on it.
    outside_window_calls_provider = False

    def __init__(
        self,
        page_token: str,
        api_root: str = "https://graph.facebook.com",
        *,
        version: str = "v21.0",
        rate_per_second: float = 250.0,
        media_root: str = "",
        timeout: float = 30.0,
    ) -> None:
        self.url = f"{api_root.rstrip('/')}/{version}/me/messages"
        self.page_token = page_token
        self.rate_per_second = rate_per_second  # Meta allows about 300 a second per page
        self.media_root = media_root.rstrip("/")
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self._in_flight = asyncio.Semaphore(CONNECTIONS)

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def send(self, address: str, message: Outgoing) -> SendResult:
        result = SendResult(Outcome.SENT)
        image = self._image_url(message.image)
        if image is not None:
            attachment = {"type": "image", "payload": {"url": image, "is_reusable": True}}
            result = await self._post(address, {"attachment": attachment})
            if result.outcome is not Outcome.SENT:
                return result
        for body in render(message):
            result = await self._post(address, body)
            if result.outcome is not Outcome.SENT:
                return result
        return result

    async def send_outside_window(self, address: str, message: Outgoing) -> SendResult:
        return SendResult(Outcome.WAITING, error="outside the 24-hour window")

    async def _post(self, psid: str, message: dict[str, Any]) -> SendResult:
        if self._http is None:  # made in the running event loop, closed by aclose
            # Keep every connection it opens: with httpx's default of 20 kept alive, a
            # moment with more sends in flight closes and reopens connections on every
            # send, which costs more CPU than the sends themselves at 300 a second.
            limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=None)
            self._http = httpx.AsyncClient(timeout=self.timeout, limits=limits)
            self._in_flight = asyncio.Semaphore(CONNECTIONS)
        body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message}
        try:
            # Sends beyond the pool wait here, not in httpcore's pool, whose every request
            # and response scans all the requests it holds: with hundreds queued behind a
            # burst, that scan took more CPU than the sends.
            async with self._in_flight:
                response = await self._http.post(
                    self.url, params={"access_token": self.page_token}, json=body
                )
        except httpx.HTTPError as exc:
            return SendResult(Outcome.RETRY, error=f"network: {type(exc).__name__}")
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code == 200 and isinstance(data, dict) and "message_id" in data:
            return SendResult(Outcome.SENT, provider_message_id=str(data["message_id"]))
        return error_outcome(response.status_code, data)

    def _image_url(self, image: str | None) -> str | None:
        if not image:
            return None
        if image.startswith("https://"):
            return image
        if self.media_root.startswith("https://"):  # Meta fetches only public https URLs
            return f"{self.media_root}/media/{image}"
        return None


def render(message: Outgoing) -> list[dict[str, Any]]:
    """The Send API ``message`` objects for one neutral message, in order.

    Up to 13 choices become quick replies. Their payloads carry the meaning, so where a
    label is longer than a title may be, the text lists the choices numbered and in full,
    and each quick reply shows its number and the label's beginning. More than 13 choices
    are a numbered text only: people answer with the numbers, as on SMS.
    """
    tappable = [option for option in message.options if option.payload]
    quick = 0 < len(tappable) <= MAX_QUICK_REPLIES
    full_titles = all(len(_title(option)) <= MAX_TITLE for option in tappable)
    text = message.text if quick and full_titles else render_plain(message)
    bodies: list[dict[str, Any]] = [{"text": chunk} for chunk in _split(text)]
    if quick:
        bodies[-1]["quick_replies"] = [
            {
                "content_type": "text",
                "title": _title(option) if full_titles else _numbered_title(option),
                "payload": option.payload,
            }
            for option in tappable
        ]
    return bodies


def _title(option: Option) -> str:
    mark = "✅" if option.selected else option.symbol
    return f"{mark} {option.label}" if mark else option.label


def _numbered_title(option: Option) -> str:
    title = _title(option)
    if option.number is not None:
        title = f"{option.number} {title}"
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1].rstrip() + "…"


def _split(text: str) -> list[str]:
    """At most 2000 characters a message, cut at a line break where there is one."""
    chunks: list[str] = []
    while len(text) > MAX_TEXT:
        cut = text.rfind("\n", 0, MAX_TEXT)
        cut = cut if cut > MAX_TEXT // 2 else MAX_TEXT
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    chunks.append(text or " ")
    return chunks


def error_outcome(status: int, data: object) -> SendResult:
    error = data.get("error") if isinstance(data, dict) else None
    error = error if isinstance(error, dict) else {}
    code, subcode = error.get("code"), error.get("error_subcode")
    text = f"{status} {code}/{subcode}: {error.get('message', '')}"[:500]
    if (code, subcode) == OUTSIDE_WINDOW:
        return SendResult(Outcome.WAITING, error=text)
    if (code, subcode) == UNAVAILABLE or code == UNAVAILABLE[0]:
        return SendResult(Outcome.UNREACHABLE, error=text)
    if subcode in NO_SUCH_USER_SUBCODES:
        return SendResult(Outcome.UNREACHABLE, error=text)
    if status == 429 or code in RATE_LIMIT_CODES:
        return SendResult(Outcome.RETRY, retry_after=60.0, error=text)
    if status >= 500 or error.get("is_transient") is True:
        return SendResult(Outcome.RETRY, error=text)
    if code in TOKEN_CODES or status in (401, 403):  # our token: keep the message
        return SendResult(Outcome.RETRY, retry_after=300.0, error=text)
    return SendResult(Outcome.FAILED, error=text)
